"""Packages for simulated elections, and results sent to a central tally."""
