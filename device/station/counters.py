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
from typing import Any


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
        if trigger == "authorise":
            self.checked_in.add(data["voter"])
            self.outstanding += 1
            if "identified_by" in data:
                self.by_commission[data["reason"]] += 1
        elif trigger == "refuse":
            self.refused[data["reason"]] += 1
        elif trigger == "ballot_cast":
            self.cast += 1
            self.outstanding -= 1
            self.drop_pending = True
        elif trigger == "ballot_dropped" or (trigger in ("jam_cleared", "fault_cleared")
                                             and data.get("resolution") == "placed_in_box"):
            self.dropped += 1
            self.drop_pending = False
        elif trigger == "ballot_rejected":
            self.rejected[data["reason"]] += 1
        elif trigger == "ballot_returned":
            self.returned += 1
        elif trigger == "reopen_polls":
            self.reopened += 1
        elif trigger == "ballot_box_swapped":
            self.box_swaps += 1
            self.sheets_sealed += data["sheets"]
