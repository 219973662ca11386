"""Every decision the central tally takes on an upload: the shared table and the ``Verdict``.

The table (code, outcome, HTTP status, meaning) is declared once in
``device/results/upload_decisions.py``, where the unit's outbox reads it too (the unit may not
import ``central/``); it is re-exported here.
"""
from __future__ import annotations

from dataclasses import dataclass

from device.results.upload_decisions import COUNTED, DECISIONS, Decision

__all__ = ["COUNTED", "DECISIONS", "Decision", "Verdict"]


@dataclass(frozen=True)
class Verdict:
    """A decision on one upload, with the reason a person reads."""

    code: str
    reason: str

    @property
    def decision(self) -> Decision:
        return DECISIONS[self.code]

    def to_json(self) -> dict:
        d = self.decision
        return {"decision": d.outcome, "code": self.code, "reason": self.reason}
