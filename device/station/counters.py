"""The station's running counts, computed from journal events: one rule for the unit and the auditor.

``Counters.apply(trigger, data)`` is called by the controller for every transition it journals
(and for every record it replays at boot) and by the auditor's replay for every record of an
exported journal, so the two cannot count differently. The journal carries no ballot content,
so nothing here knows whether a ballot was valid, blank or invalid: the invalid-compartment
count comes from the cast vote records (``StationController.invalid_compartment``).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from typing import Any, Callable


@dataclass
class Counters:
    checked_in: set[str] = field(default_factory=set)  # voter pseudonyms authorised
    outstanding: int = 0  # authorisations not yet used by a cast
    cast: int = 0
    dropped: int = 0  # casts whose sheet is confirmed in the box
    returned: int = 0  # sheets handed back to voters (rejections + voters' own choice)
    refused: Counter[str] = field(default_factory=Counter)  # check-in refusals by reason
    rejected: Counter[str] = field(default_factory=Counter)  # sheets rejected by reason
    drop_pending: bool = False  # a cast is recorded whose drop is not confirmed
    reopened: int = 0  # times the election manager reopened closed polls
    box_swaps: int = 0  # full ballot boxes sealed and replaced
    sheets_sealed: int = 0  # sheets in the sealed boxes
    by_commission: Counter[str] = field(default_factory=Counter)  # voters identified by the commission, by reason

    def apply(self, trigger: str, data: dict[str, Any]) -> None:
        """Count one transition (any trigger without a rule in ``COUNTING_RULES`` counts nothing)."""
        rule = COUNTING_RULES.get(trigger)
        if rule is not None:
            rule(self, data)


# --- the counting rules, one per trigger that counts (the controller binds each to its trigger once)

def _authorised(c: Counters, data: dict[str, Any]) -> None:
    c.checked_in.add(data["voter"])
    c.outstanding += 1
    if "identified_by" in data:
        c.by_commission[data["reason"]] += 1


def _refused(c: Counters, data: dict[str, Any]) -> None:
    c.refused[data["reason"]] += 1


def _cast(c: Counters, data: dict[str, Any]) -> None:
    c.cast += 1
    c.outstanding -= 1
    c.drop_pending = True


def _dropped(c: Counters, data: dict[str, Any]) -> None:
    c.dropped += 1
    c.drop_pending = False


def _cleared(c: Counters, data: dict[str, Any]) -> None:
    """A jam or fault cleared: the sheet of a recorded cast went into the box (or back)."""
    if data.get("resolution") == "placed_in_box":
        _dropped(c, data)


def _rejected(c: Counters, data: dict[str, Any]) -> None:
    c.rejected[data["reason"]] += 1


def _returned(c: Counters, data: dict[str, Any]) -> None:
    c.returned += 1


def _reopened(c: Counters, data: dict[str, Any]) -> None:
    c.reopened += 1


def _box_swapped(c: Counters, data: dict[str, Any]) -> None:
    c.box_swaps += 1
    c.sheets_sealed += data["sheets"]


CountingRule = Callable[[Counters, dict[str, Any]], None]
COUNTING_RULES: dict[str, CountingRule] = {
    "authorise": _authorised, "refuse": _refused, "ballot_cast": _cast, "ballot_dropped": _dropped,
    "jam_cleared": _cleared, "fault_cleared": _cleared, "ballot_rejected": _rejected,
    "ballot_returned": _returned, "reopen_polls": _reopened, "ballot_box_swapped": _box_swapped,
}
