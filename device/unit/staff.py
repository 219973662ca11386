"""Who may do what on the unit, and the PIN check that proves it (the unit's side of the roles).

``ROLE_OF_ACTION`` declares, once, which role each operator action needs (``None``: anyone at
the unit, e.g. the voter's own cast-or-return choice). ``StaffPins`` checks a PIN against the
role's salted, slow hash (argon2, from ``argon2-cffi``): 5 wrong PINs in a row lock that role
for 15 s, doubling with each further wrong PIN while locked out (as VxScan does). The clock is
injected. Nothing here stores or logs a PIN.

Interim: the hashes come from the unit's config until election packages carry them (issue 9,
``device/station/roles.py``); the role check then moves into the controller and this module
keeps only the table of actions the console offers.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

POLL_WORKER, ELECTION_MANAGER = "poll_worker", "election_manager"
MAX_TRIES = 5
FIRST_LOCKOUT_S = 15.0

# action -> role that may perform it (an election manager may also do a poll worker's job).
ROLE_OF_ACTION: dict[str, str | None] = {
    "load_election": ELECTION_MANAGER,
    "export": ELECTION_MANAGER,
    "open": POLL_WORKER,
    "pause": POLL_WORKER,
    "resume": POLL_WORKER,
    "close": POLL_WORKER,
    "clear_jam": POLL_WORKER,
    "clear_fault": POLL_WORKER,
    "swap_box": POLL_WORKER,
    "reprint": POLL_WORKER,
    "voter_cast": None,
    "voter_return": None,
}


class PinRefused(Exception):
    """A PIN that did not unlock the action; ``str()`` is the operator's message."""


@dataclass
class _Tries:
    wrong: int = 0
    locked_until: float = 0.0
    lockout_s: float = FIRST_LOCKOUT_S


class StaffPins:
    def __init__(self, pin_hashes: dict[str, str], clock: Callable[[], float]):
        self._hashes = dict(pin_hashes)
        self._clock = clock
        self._hasher = PasswordHasher()
        self._tries = {role: _Tries() for role in self._hashes}

    def roles(self) -> tuple[str, ...]:
        return tuple(self._hashes)

    def locked_for(self, role: str) -> float:
        """Seconds left of ``role``'s lockout (0 when not locked)."""
        t = self._tries.get(role)
        return max(0.0, t.locked_until - self._clock()) if t else 0.0

    def check(self, action: str, pin: str) -> str | None:
        """The role whose PIN ``pin`` is, if that role may do ``action``; raises ``PinRefused``."""
        need = ROLE_OF_ACTION[action]
        if need is None:
            return None
        allowed = [need] + ([ELECTION_MANAGER] if need == POLL_WORKER else [])
        candidates = [r for r in allowed if r in self._hashes]
        if not candidates:
            raise PinRefused(f"no PIN is set for the {need.replace('_', ' ')} on this unit")
        locked = [r for r in candidates if self.locked_for(r) > 0]
        for role in candidates:
            if role in locked:
                continue
            if self._verify(role, pin):
                self._tries[role] = _Tries()
                return role
        # A wrong PIN counts against the role the action needs.
        t = self._tries[candidates[0]]
        if self.locked_for(candidates[0]) > 0:
            raise PinRefused(f"{_role_name(candidates[0])} locked: try again in "
                             f"{self.locked_for(candidates[0]):.0f} s")
        t.wrong += 1
        if t.wrong >= MAX_TRIES:
            t.locked_until = self._clock() + t.lockout_s
            t.lockout_s *= 2
            raise PinRefused(f"Wrong PIN. {_role_name(candidates[0])} locked for "
                             f"{self.locked_for(candidates[0]):.0f} s")
        raise PinRefused(f"Wrong PIN ({MAX_TRIES - t.wrong} tries left)")

    def _verify(self, role: str, pin: str) -> bool:
        try:
            return self._hasher.verify(self._hashes[role], pin)
        except (VerificationError, InvalidHashError):
            return False


def _role_name(role: str) -> str:
    return role.replace("_", " ").capitalize()


def hash_pin(pin: str, *, fast: bool = False) -> str:
    """An argon2id hash of ``pin``; ``fast`` uses small parameters (simulated units, tests)."""
    hasher = PasswordHasher(time_cost=1, memory_cost=1024, parallelism=1) if fast else PasswordHasher()
    return hasher.hash(pin)
