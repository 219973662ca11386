"""Every operator action, declared once: key, label, role, when it is possible, what it calls.

``OPERATOR_ACTIONS`` is the one table. From it come: the role whose PIN the console asks for
(``ROLE_OF_ACTION``, read from ``device/station/roles.py``'s ``POLICY`` through the action's
``policy`` name — the controller checks that same name where the action happens), the console's
keys, buttons and footer (``device/console/screens.py`` offers an action only while its
``possible`` predicate holds for the unit's view), the confirmation asked before it, the unit
thread's method (``Unit._perform`` calls ``_do_<calls>`` of ``device/unit/actions.py`` with
``args``), and the table in ``docs/console/actions.md`` (``actions_markdown``, tested against
this table).

``policy`` is ``None`` for the voter's own cast-or-return choice (anyone at the unit, no PIN).
A PIN the unit receives opens a session for that one action, closed right after. Two actions
possible at the same moment never share a key (tested over every situation).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

from device.i18n import N_
from device.station.roles import POLICY, role_name
from device.unit.view import UnitView

IDLE_BOX = ("waiting_for_ballot", "inactive")  # no sheet in the ballot box's path


def _ready(v: UnitView) -> bool:
    """The unit runs an election and nothing stops it (no lost peripheral, no program fault)."""
    return v.configured and bool(v.polls) and v.polls != "setup" and not v.lost \
        and v.internal_error is None


@dataclass(frozen=True)
class OperatorAction:
    name: str  # the console's action id
    key: str  # typed as shown, lowercase
    label: str  # a msgid (N_): the console translates it
    policy: str | None  # the controller's action name in roles.POLICY; None: no PIN
    when: str  # when it is possible, in words (the docs)
    possible: Callable[[UnitView], bool]
    calls: str  # the unit thread's method: Unit._do_<calls>
    args: dict = field(default_factory=dict)
    confirm: str | None = None  # a msgid asked (yes/no) before the action: it cannot be undone

    @property
    def role(self) -> str | None:
        return POLICY[self.policy][0] if self.policy else None

    def offered(self, view: UnitView) -> bool:
        if self.name == "load_election":
            return self.possible(view)
        return _ready(view) and self.possible(view)


def _polls(*states: str) -> Callable[[UnitView], bool]:
    return lambda v: v.polls in states


_TABLE = (
    OperatorAction("load_election", "l", N_("Load election package"), "load_package",
                   "no election package is loaded", lambda v: not v.configured and not v.lost
                   and v.internal_error is None, "load_election"),
    OperatorAction("unload", "l", N_("Unload election package"), "unload_package",
                   "before the polls ever opened, or once closed and exported after the close",
                   lambda v: v.polls in ("election_loaded", "polls_closed") and v.unloadable, "unload",
                   confirm=N_("Unload the election package? The unit then holds no election until "
                              "a package is loaded again.")),
    OperatorAction("test_mode", "t", N_("Test mode"), "set_test_mode",
                   "an election is loaded and the polls never opened", _polls("election_loaded"),
                   "test_mode"),
    OperatorAction("end_test", "x", N_("Test report, reset, leave test mode"), "reset_test_tally",
                   "in test mode, no sheet in the ballot box",
                   lambda v: v.polls == "testing" and v.ballot in IDLE_BOX, "end_test"),
    OperatorAction("open", "o", N_("Open polls"), "open_polls",
                   "an election is loaded and no ballot was ever cast",
                   lambda v: v.polls == "election_loaded" and v.cast == 0, "open"),
    OperatorAction("pause", "p", N_("Pause polls"), "pause_polls",
                   "the polls are open, no sheet in the ballot box",
                   lambda v: v.polls == "polls_open" and v.ballot in IDLE_BOX, "pause"),
    OperatorAction("resume", "u", N_("Resume polls"), "resume_polls", "the polls are paused",
                   _polls("polls_paused"), "resume"),
    OperatorAction("close", "c", N_("Close polls"), "close_polls",
                   "the polls are open or paused, no sheet in the ballot box",
                   lambda v: v.polls in ("polls_open", "polls_paused") and v.ballot in IDLE_BOX, "close",
                   confirm=N_("Close the polls? This cannot be undone: no ballot can be cast after it.")),
    OperatorAction("reopen", "a", N_("Reopen polls"), "reopen_polls",
                   "the polls are closed (they come back paused, every ballot kept)",
                   _polls("polls_closed"), "reopen",
                   confirm=N_("Reopen the closed polls? They come back paused; the next close "
                              "prints and signs new results.")),
    OperatorAction("clear_jam", "j", N_("Clear jam"), "clear_jam", "a sheet is jammed",
                   lambda v: v.ballot == "jammed", "clear_jam"),
    OperatorAction("clear_fault", "f", N_("Clear fault"), "clear_fault", "the ballot box reports a fault",
                   lambda v: v.ballot == "error", "clear_fault"),
    OperatorAction("swap_box", "s", N_("Box swapped"), "swap_box",
                   "the polls are open, the ballot box is full, no sheet in its path",
                   lambda v: v.polls == "polls_open" and v.box_full and v.ballot in IDLE_BOX, "swap_box"),
    OperatorAction("reprint_zero", "z", N_("Reprint zero report"), "reprint",
                   "the polls are open, no ballot cast since the zero report, no sheet in the box",
                   lambda v: v.polls == "polls_open" and v.cast == 0 and v.ballot in IDLE_BOX, "reprint",
                   {"kind": "zero"}),
    OperatorAction("reprint_results", "r", N_("Print results again"), "reprint", "the polls are closed",
                   _polls("polls_closed"), "reprint", {"kind": "results"}),
    OperatorAction("export", "e", N_("Export to folder"), "export",
                   "an election is loaded and the polls are not open (before opening, or closed)",
                   _polls("election_loaded", "polls_closed"), "export"),
    OperatorAction("identify_by_commission", "i", N_("Commission identifies the voter by document"),
                   "identify_by_commission",
                   "a voter waits at the ID desk for the commission's decision (fingerprint not "
                   "matched, not enrolled, or the sensor failing)",
                   lambda v: v.polls == "polls_open" and v.identity_wait == "commission",
                   "identify_by_commission"),
    OperatorAction("voter_cast", "k", N_("Voter: cast as it is"), None,
                   "the voter's ballot needs the voter's choice", lambda v: v.review_reason is not None,
                   "voter_cast"),
    OperatorAction("voter_return", "t", N_("Voter: take it back"), None,
                   "the voter's ballot needs the voter's choice", lambda v: v.review_reason is not None,
                   "voter_return"),
)
OPERATOR_ACTIONS: dict[str, OperatorAction] = {a.name: a for a in _TABLE}

POLICY_ACTION: dict[str, str | None] = {a.name: a.policy for a in _TABLE}
ROLE_OF_ACTION: dict[str, str | None] = {a.name: a.role for a in _TABLE}


def offered_actions(view: UnitView) -> tuple[OperatorAction, ...]:
    """The actions a poll worker may take now, in the table's order."""
    return tuple(a for a in _TABLE if a.offered(view))


def actions_markdown() -> str:
    """``docs/console/actions.md``: the table, as operators and auditors read it."""
    lines = ["# Operator actions", "",
             "Generated from `device/unit/staff.py` (`OPERATOR_ACTIONS`); the console offers an "
             "action only when it is possible, and the controller checks the role again.", "",
             "| Key | Action | Role (PIN) | Possible when | Confirmation |",
             "|---|---|---|---|---|"]
    for a in _TABLE:
        role = role_name(a.role) if a.role else "anyone (the voter's choice)"
        lines.append(f"| `{a.key}` | {a.label} | {role} | {a.when} | {'yes' if a.confirm else ''} |")
    return "\n".join(lines) + "\n"
