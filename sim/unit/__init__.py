"""The simulated unit: the unit on twins, its simulated world and panel, simulated PINs."""
