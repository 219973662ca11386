"""Simulated twins of the unit's peripherals that speak the real wire protocols.

Each twin is the device end of a byte stream: the scanner's motor/sensor controller (framed
link of ``hardware.serial_link``), the serial document reader (CR-terminated records), the
thermal printer (ESC/POS in, text and PNG slips out) and the camera that shows the sheet in
the virtual scanner. ``sim.twins.endpoints`` serves a twin on a pty pair (the real drivers
open the slave path with pyserial), on a loopback TCP port, or in memory. Behaviour and
faults come from a profile file (``sim/profiles/*.json``, see ``sim.twins.profile``).
"""
