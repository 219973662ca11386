"""A station's polling day: voters, the logical and full-fidelity days, in-memory twins, power cuts."""
