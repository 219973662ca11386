"""Operator access for simulations: standing sessions and the simulated staff's known PINs.

The firmware (``device/station/roles.py``) has no PIN-less path: every operator action needs a
session opened with a PIN. A simulated day has no one at the keyboard, so the simulator builds
its own access here, outside the firmware:

- ``StandingAccess(clock, roles)``: the given roles act without a session (``require`` returns
  the role, and the controller journals it as usual); any other role still needs a PIN.
- ``SIMULATION_PINS``: the simulated staff's PINs (not secret: QA's, printed in the docs).
  ``simulation_staff()`` hashes them at the cheap ``simulation`` Argon2id cost; ``ballotbox sim
  station --store`` keeps those hashes in the store it creates, so that ``ballotbox device
  export --pin-stdin`` on that store asks the simulated election manager's PIN like a unit does
  (``make demo`` feeds ``SIMULATION_PINS["election_manager"]`` on standard input).
- ``mark_simulation_store(store)`` / ``check_simulation_store(path)``: the simulator marks the
  stores it creates and plays on no other (a provisioned unit's store, a file with no mark): it
  must never sign a day with a unit's registered key.
"""
from __future__ import annotations

import contextlib
import functools
import json
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import Callable, Iterable

from device.station.roles import ELECTION_MANAGER, POLICY, POLL_WORKER, ROLES, StationAccess, hash_pin

SIMULATION_PINS = {ELECTION_MANAGER: "135790", POLL_WORKER: "246810"}  # also the console's (README)


@functools.lru_cache(maxsize=1)
def _staff_hashes() -> tuple[tuple[str, str], ...]:
    return tuple((role, hash_pin(pin, "simulation")) for role, pin in SIMULATION_PINS.items())


def simulation_staff() -> dict[str, str]:
    """Role -> Argon2id hash of the simulated staff's PIN (hashed once per process)."""
    return dict(_staff_hashes())


@dataclass
class StandingAccess(StationAccess):
    """A simulation's access: ``standing_roles`` act without PIN or session."""

    standing_roles: tuple[str, ...] = ROLES

    @classmethod
    def for_roles(cls, clock: Callable[[], float], roles: Iterable[str] = ROLES) -> StandingAccess:
        return cls(simulation_staff(), clock, standing_roles=tuple(roles))

    def require(self, action: str) -> str:
        for role in self.standing_roles:
            if role in POLICY[action]:
                return role
        return super().require(action)


# --- the simulator's own stores -------------------------------------------------------------

SIMULATION_STORE_META = "simulation_store"  # set once when the simulator creates a store


class SimulationStoreError(ValueError):
    """A store the simulator did not create (one line saying what it is and what to do)."""


def mark_simulation_store(store) -> None:
    """Mark a store the simulator just created, and keep the simulated staff's PIN hashes."""
    from device.cli.pin import STORE_STAFF_META
    store.write_meta(SIMULATION_STORE_META, b"ballotbox sim station")
    store.write_meta(STORE_STAFF_META, json.dumps(simulation_staff(), sort_keys=True).encode())


def check_simulation_store(path: str | Path) -> None:
    """``SimulationStoreError`` unless ``path`` is a store the simulator created and no unit was
    ever provisioned on. Read-only: the file is not changed whatever it holds."""
    from device.station.provisioning import ANCHOR_META
    refuse = (f"{path} is not a store the simulator created: "
              "'ballotbox sim station' plays only on its own new stores; give a new --store path")
    try:
        # No log beside the file (WAL or rollback journal): the file is the whole store, opened
        # immutable (SQLite then creates no -wal/-shm either). With a log: read-only, through it.
        log = any(Path(f"{path}{suffix}").exists() for suffix in ("-wal", "-journal"))
        uri = Path(path).resolve().as_uri() + ("?mode=ro" if log else "?mode=ro&immutable=1")
        with contextlib.closing(sqlite3.connect(uri, uri=True)) as conn:
            rows = dict(conn.execute("SELECT name, value FROM unit_meta WHERE name IN (?, ?)",
                                     (SIMULATION_STORE_META, ANCHOR_META)).fetchall())
    except sqlite3.Error:
        raise SimulationStoreError(refuse) from None
    if ANCHOR_META in rows:
        raise SimulationStoreError(
            f"{path} is a unit's store (provisioned with an election authority's key): the "
            f"simulator never plays on a unit's store; give a new --store path")
    if SIMULATION_STORE_META not in rows:
        raise SimulationStoreError(refuse)
