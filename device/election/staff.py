"""The staff of a station as the election package declares them: the roles, and their PINs.

The package (``staff.json``) holds, per station, each role's PIN as an Argon2id hash; the
station's access control (``device/station/roles.py``) checks a PIN against it and decides who
may do what. PINs are exactly six digits (the election manager's may be longer, up to twelve, if
the package says so); weak ones (one digit repeated, a straight run up or down) are refused.
"""
from __future__ import annotations

import random
import re

import argon2

ELECTION_MANAGER = "election_manager"
POLL_WORKER = "poll_worker"
ROLES = (ELECTION_MANAGER, POLL_WORKER)

PIN_LENGTH = 6
# Argon2id costs: "device" is argon2-cffi's default (RFC 9106 low-memory profile, 64 MiB);
# "simulation" is for packages built by simulations and tests, whose PINs are not secret.
PIN_HASH_COSTS = {
    "device": {"time_cost": 3, "memory_cost": 65536, "parallelism": 4},
    "simulation": {"time_cost": 1, "memory_cost": 1024, "parallelism": 1},
}


class PinError(ValueError):
    """A PIN that may not be used (not six digits, or a weak pattern)."""


def check_pin_strength(pin: str, length: int = PIN_LENGTH) -> None:
    """Raise ``PinError`` unless ``pin`` is ``length`` digits (six unless the package sets the
    election manager's longer) and not a weak pattern (VVSG 11.3.2-B)."""
    if not re.fullmatch(rf"[0-9]{{{length}}}", pin or ""):
        raise PinError(f"a PIN is exactly {length} digits")
    if len(set(pin)) == 1:
        raise PinError("a PIN may not repeat one digit")
    steps = {(int(b) - int(a)) % 10 for a, b in zip(pin, pin[1:])}
    if steps in ({1}, {9}):
        raise PinError("a PIN may not be a run of digits up or down")


def generate_pin(rng: random.Random | None = None, length: int = PIN_LENGTH) -> str:
    """A random PIN that passes ``check_pin_strength`` (OS CSPRNG unless ``rng`` is given)."""
    rng = rng or random.SystemRandom()
    while True:
        pin = "".join(str(rng.randrange(10)) for _ in range(length))
        try:
            check_pin_strength(pin, length)
            return pin
        except PinError:
            continue


def hash_pin(pin: str, cost: str = "device", length: int = PIN_LENGTH) -> str:
    """The PIN's salted Argon2id hash (PHC string; the salt and costs are inside it)."""
    check_pin_strength(pin, length)
    costs = PIN_HASH_COSTS[cost]
    return argon2.PasswordHasher(time_cost=costs["time_cost"], memory_cost=costs["memory_cost"],
                                 parallelism=costs["parallelism"]).hash(pin)


def pin_matches(pin_hash: str, pin: str) -> bool:
    try:
        return argon2.PasswordHasher().verify(pin_hash, pin)
    except (argon2.exceptions.VerificationError, argon2.exceptions.InvalidHashError):
        return False
