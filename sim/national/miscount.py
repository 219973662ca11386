"""Corrupt the unit itself at chosen stations, so that QA can see its oracles fail.

The ``miscount`` fault profiles (``fault_profiles.json``) pick stations, each with its own
seeded generator, for one of two corruptions of what the unit stores (and so counts, signs
and reports), made by a wrapper around the unit's real store (``MiscountingStore``), never by a
change in ``device/``:

- ``move_vote``: the first ballot with a single valid choice in the national contest is
  recorded for another choice (the next one on the ballot): a vote moves between two parties
  or candidates; the ballot count is right, the tally is not;
- ``drop_record``: the first cast vote record is never written (the ``ballot_cast`` journal
  record still is): the unit counts one ballot fewer than were cast.

A run with such a profile must say DOES NOT MATCH INTENT, name the stations, districts and
seats affected (``aggregation.py``) and exit 1; the voters' intent (``StationResult["intent"]``)
is what the people meant, untouched. What the corruption did is in the station's result
(``faults.miscount``) so a test can check that the run named exactly these stations.
"""
from __future__ import annotations

from dataclasses import replace
from typing import Any

from device.ballots.records import CastVoteRecord
from device.store.forwarding import ForwardingStore
from device.store.journal import JournalRecord, StationStore

MISCOUNT_KINDS = ("move_vote", "drop_record")
VALID = "valid"


class MiscountingStore(ForwardingStore):
    """The unit's store, corrupted once by ``kind`` (one of ``MISCOUNT_KINDS``) in ``contest``."""

    def __init__(self, inner: StationStore, kind: str, contest: str, choices: tuple[str, ...]):
        if kind not in MISCOUNT_KINDS:
            raise ValueError(f"unknown miscount {kind!r} (kinds: {', '.join(MISCOUNT_KINDS)})")
        super().__init__(inner)
        self.kind, self.contest, self.choices = kind, contest, choices
        self.done: dict[str, Any] | None = None  # what was corrupted, once it was

    def _moved(self, cvr: CastVoteRecord) -> CastVoteRecord | None:
        selections, status = cvr.contests.get(self.contest, ((), ""))
        if status != VALID or len(selections) != 1 or len(self.choices) < 2:
            return None
        was = selections[0]
        now = self.choices[(self.choices.index(was) + 1) % len(self.choices)]
        self.done = {"kind": self.kind, "contest": self.contest, "from": was, "to": now}
        return replace(cvr, contests={**cvr.contests, self.contest: ((now,), status)})

    def cast_ballot(self, cvr: CastVoteRecord, event_data: dict[str, Any], at: float) -> JournalRecord:
        if self.done is None and self.kind == "move_vote":
            moved = self._moved(cvr)
            if moved is not None:
                return self.inner.cast_ballot(moved, event_data, at)
        if self.done is None and self.kind == "drop_record":
            self.done = {"kind": self.kind, "contest": self.contest}
            return self.inner.append_event("ballot_cast", event_data, at)
        return self.inner.cast_ballot(cvr, event_data, at)


def miscount_kind(faults: dict[str, bool]) -> str | None:
    """The corruption a station's faults ask for (the first, if a profile gives both)."""
    return next((k for k in MISCOUNT_KINDS if faults.get(k)), None)
