"""Who may do what at the unit: roles, PINs, sessions and lockouts, checked where actions happen.

API (the roles, the PIN rules and PIN hashing are the election package's, ``device/election/staff.py``;
they are imported here)::

    POLICY: dict[action, tuple[role, ...]]      # the one declaration of which role may act
    permitted(action, role) -> bool             # policy_table(): the same as Markdown
    check_pin_strength(pin) / generate_pin(rng) / hash_pin(pin, cost) / pin_matches(hash, pin)
    access = StationAccess(staff_hashes, clock=..., policy=AccessPolicy(), journal=callable)
    access.login(role, pin) -> Session          # AccessDenied(reason "wrong_pin" | "locked" ...)
    access.require(action) -> role              # AccessDenied(reason "no_session" | "idle" |
                                                #   "not_permitted"); touches the session
    access.logout()
    access.restore(records)                     # rebuild lockouts from the journal at boot

Roles (VVSG 2.0 separates them; VotingWorks VxScan does too): the *election manager* loads and
unloads the election package, switches test mode, exports and reopens closed polls; the *poll
worker* opens, pauses, resumes and closes the polls, clears a jam or a fault, swaps a full ballot
box, reprints, identifies a voter by the document alone when the commission so decides, and
answers a voter's review choice when the voter asks for help; either may send the signed
results to the central tally. Voters need no PIN. Every action needs a session opened with a
PIN: the firmware has no PIN-less path (simulations build their own access in ``sim/access.py``).

PINs are exactly six digits; weak ones (one digit repeated, a straight run up or down) are
refused. A PIN is kept only as an Argon2id hash (argon2-cffi, salted) in the election package.
After ``max_attempts`` wrong PINs for a role, that role is locked for ``lockout_seconds``; each
further wrong PIN once the lock ends locks it again for twice as long; a right PIN resets both.
A session ends after ``idle_seconds`` without an action or ``session_seconds`` in all. The
clock is injected (nothing here sleeps). Every login, wrong PIN, lockout and session end is
passed to ``journal(event_type, data)`` with the role and never the PIN, and lockouts survive a
restart because ``restore`` reads them back from the journal.

Unlike VxScan, whose polls handlers trusted the screen to have asked for the right card, the
controller calls ``require`` inside each operator method (``device/station/controller.py``).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, NoReturn

from device.election.staff import ELECTION_MANAGER as ELECTION_MANAGER
from device.election.staff import PIN_HASH_COSTS as PIN_HASH_COSTS
from device.election.staff import PIN_LENGTH as PIN_LENGTH
from device.election.staff import POLL_WORKER as POLL_WORKER
from device.election.staff import ROLES as ROLES
from device.election.staff import PinError as PinError
from device.election.staff import check_pin_strength as check_pin_strength
from device.election.staff import generate_pin as generate_pin
from device.election.staff import hash_pin as hash_pin
from device.election.staff import pin_matches as pin_matches
from device.i18n import N_, _
from device.station.events import OperatorMessage, message

ROLE_NAMES = {ELECTION_MANAGER: N_("election manager"), POLL_WORKER: N_("poll worker")}

# Which role may take which action: the single source of truth (the console reads it too).
POLICY: dict[str, tuple[str, ...]] = {
    "load_package": (ELECTION_MANAGER,),
    "unload_package": (ELECTION_MANAGER,),
    "set_test_mode": (ELECTION_MANAGER,),
    "reset_test_tally": (ELECTION_MANAGER,),
    "export": (ELECTION_MANAGER,),
    "reopen_polls": (ELECTION_MANAGER,),
    "open_polls": (POLL_WORKER,),
    "pause_polls": (POLL_WORKER,),
    "resume_polls": (POLL_WORKER,),
    "close_polls": (POLL_WORKER,),
    "clear_jam": (POLL_WORKER,),
    "clear_fault": (POLL_WORKER,),
    "reprint": (POLL_WORKER,),
    "review_choice": (POLL_WORKER,),
    "send_results": (POLL_WORKER, ELECTION_MANAGER),
    "swap_box": (POLL_WORKER,),
    "identify_by_commission": (POLL_WORKER,),
}

# Events this module journals (declared in device/station/event_catalog.toml).
ACCESS_EVENTS = ("session_started", "session_ended", "pin_rejected", "role_locked")

class AccessDenied(RuntimeError):
    """An action or login refused; ``reason`` is a code, ``operator_message`` says why."""

    def __init__(self, reason: str, msg: OperatorMessage):
        self.reason = reason
        self.operator_message = msg
        super().__init__(msg.text)


def permitted(action: str, role: str) -> bool:
    if action not in POLICY:
        raise KeyError(f"unknown action {action!r}")
    return role in POLICY[action]


def role_name(role: str) -> str:
    return ROLE_NAMES.get(role, role)


def role_label(role: str) -> str:
    """The role's name in the unit's language, for an operator message."""
    return _(role_name(role))


def _roles_label(roles: Iterable[str]) -> str:
    return (" " + _("or") + " ").join(role_label(r) for r in roles)


def policy_table() -> str:
    """``POLICY`` as a Markdown table (docs/election-packages.md holds it; a test compares)."""
    rows = ["| action | " + " | ".join(role_name(r) for r in ROLES) + " |",
            "|---|" + "---|" * len(ROLES)]
    for action, allowed in POLICY.items():
        rows.append(f"| {action.replace('_', ' ')} | " +
                    " | ".join("yes" if r in allowed else "" for r in ROLES) + " |")
    return "\n".join(rows)


# --- sessions and lockouts ------------------------------------------------------------------

@dataclass(frozen=True)
class AccessPolicy:
    max_attempts: int = 5
    lockout_seconds: float = 60.0
    idle_seconds: float = 30 * 60.0
    session_seconds: float = 12 * 3600.0


@dataclass
class Session:
    role: str
    started: float
    last_active: float


@dataclass
class _RoleGuard:
    wrong: int = 0  # wrong PINs since the last right one or the last lockout
    locked_until: float = float("-inf")
    next_lockout: float = 0.0  # seconds of the next lockout (0: the policy's first)


@dataclass
class StationAccess:
    """The unit's operator sessions for one station (``staff``: role -> Argon2 PIN hash)."""

    staff: dict[str, str]
    clock: Callable[[], float]
    policy: AccessPolicy = field(default_factory=AccessPolicy)
    journal: Callable[[str, dict[str, Any]], Any] | None = None
    session: Session | None = None
    _guards: dict[str, _RoleGuard] = field(default_factory=dict)

    def _log(self, event_type: str, **data: Any) -> None:
        if self.journal is not None:
            self.journal(event_type, data)

    def _guard(self, role: str) -> _RoleGuard:
        return self._guards.setdefault(role, _RoleGuard())

    def locked_for(self, role: str) -> float:
        """Seconds left of the role's lockout (0 when not locked)."""
        return max(0.0, self._guard(role).locked_until - self.clock())

    # --- login / logout
    def login(self, role: str, pin: str) -> Session:
        if role not in ROLES:
            raise AccessDenied("unknown_role", message("unknown_role", role=role))
        if role not in self.staff:
            raise AccessDenied("no_pin", message("role_has_no_pin", role=role_label(role)))
        now = self.clock()
        guard = self._guard(role)
        if now < guard.locked_until:
            raise AccessDenied("locked", message("role_locked", role=role_label(role),
                                                 seconds=int(guard.locked_until - now + 0.999)))
        if not pin_matches(self.staff[role], pin):
            self._wrong_pin(role, guard, now)
        self._guards[role] = _RoleGuard()
        self.end_session("new_login")
        self.session = Session(role, now, now)
        self._log("session_started", role=role)
        return self.session

    def _wrong_pin(self, role: str, guard: _RoleGuard, now: float) -> NoReturn:
        guard.wrong += 1
        self._log("pin_rejected", role=role, attempt=guard.wrong)
        if guard.wrong >= self.policy.max_attempts or guard.next_lockout:
            seconds = guard.next_lockout or self.policy.lockout_seconds
            guard.locked_until, guard.next_lockout, guard.wrong = now + seconds, seconds * 2, 0
            self._log("role_locked", role=role, seconds=seconds)
            raise AccessDenied("locked", message("role_locked", role=role_label(role),
                                                 seconds=int(seconds)))
        left = self.policy.max_attempts - guard.wrong
        raise AccessDenied("wrong_pin", message("pin_wrong", role=role_label(role), left=left))

    def logout(self) -> None:
        self.end_session("logout")

    def end_session(self, reason: str) -> None:
        if self.session is not None:
            role, self.session = self.session.role, None
            self._log("session_ended", role=role, reason=reason)

    def current_role(self) -> str | None:
        """The role of the live session, ending it first if it timed out."""
        self._expire()
        return self.session.role if self.session else None

    def _expire(self) -> str | None:
        s, now = self.session, self.clock()
        if s is None:
            return None
        if now - s.last_active >= self.policy.idle_seconds:
            self.end_session("idle")
            return "idle"
        if now - s.started >= self.policy.session_seconds:
            self.end_session("expired")
            return "idle"
        return None

    # --- the check every operator action makes
    def require(self, action: str) -> str:
        """The acting role if it may take ``action`` now; else ``AccessDenied``."""
        allowed = POLICY[action]
        ended = self._expire()
        if self.session is None:
            reason = ended or "no_session"
            raise AccessDenied(reason, message("session_needed" if reason == "no_session" else
                                               "session_idle",
                                               role=_roles_label(allowed)))
        if self.session.role not in allowed:
            raise AccessDenied("not_permitted", message(
                "not_permitted", role=role_label(self.session.role),
                needed=_roles_label(allowed), action=action.replace("_", " ")))
        self.session.last_active = self.clock()
        return self.session.role

    # --- boot
    def restore(self, records: Iterable[Any]) -> None:
        """Rebuild wrong-PIN counts and lockouts from journal records (``type``, ``at``, ``data``):
        a restart does not give an attacker fresh attempts."""
        for rec in records:
            kind, data = rec.type, rec.data or {}
            role = data.get("role")
            if role not in ROLES:
                continue
            guard = self._guard(role)
            if kind == "pin_rejected":
                guard.wrong = int(data["attempt"])
            elif kind == "role_locked":
                seconds = float(data["seconds"])
                guard.locked_until, guard.next_lockout, guard.wrong = rec.at + seconds, seconds * 2, 0
            elif kind == "session_started":
                self._guards[role] = _RoleGuard()
