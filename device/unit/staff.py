"""Which role each console action needs: the console's actions named in the controller's policy.

The roles, PINs, sessions and lockouts are ``device/station/roles.py`` (``StationAccess``), and
the controller checks them where each action happens. The console only needs to know whose
PIN to ask for: ``ROLE_OF_ACTION`` reads it from ``roles.POLICY`` through ``POLICY_ACTION`` (a
console action -> the controller's action name; ``None``: anyone at the unit, such as the
voter's own cast-or-return choice). A PIN the unit receives is used at once to open a session
for that one action (``Unit._perform``) and the session is closed right after.
"""
from __future__ import annotations

from device.station.roles import POLICY

POLICY_ACTION: dict[str, str | None] = {
    "load_election": "load_package",
    "export": "export",
    "test_mode": "set_test_mode",
    "end_test": "reset_test_tally",
    "open": "open_polls",
    "pause": "pause_polls",
    "resume": "resume_polls",
    "close": "close_polls",
    "clear_jam": "clear_jam",
    "clear_fault": "clear_fault",
    "swap_box": "clear_fault",  # a poll worker's physical job at the box, as clearing a fault is
    "reprint": "reprint",
    "voter_cast": None,
    "voter_return": None,
}
ROLE_OF_ACTION: dict[str, str | None] = {
    action: (POLICY[name][0] if name else None) for action, name in POLICY_ACTION.items()}
