"""Every decision the central tally takes on an upload: the shared table and the ``Verdict``.

The table (code, outcome, HTTP status, meaning) is declared once in
``device/results/upload_decisions.py``, where the unit's outbox reads it too (the unit may not
import ``central/``); it is re-exported here.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from device.results.upload_decisions import DECISIONS, Decision

__all__ = ["DECISIONS", "Decision", "Verdict", "clip"]

MAX_REASON_CHARS = 240
CLIP_CHARS = 80


def clip(text: Any, limit: int = CLIP_CHARS) -> str:
    """``text`` as a string of at most ``limit`` characters (``...`` and the length when cut):
    attacker-chosen text is never stored or echoed in full."""
    s = str(text)
    return s if len(s) <= limit else f"{s[:limit]}... ({len(s)} characters)"


@dataclass(frozen=True)
class Verdict:
    """A decision on one upload, with the reason a person reads."""

    code: str
    reason: str

    def __post_init__(self) -> None:  # a reason may quote an upload: never in full
        if len(self.reason) > MAX_REASON_CHARS:
            object.__setattr__(self, "reason", clip(self.reason, MAX_REASON_CHARS))

    @property
    def decision(self) -> Decision:
        return DECISIONS[self.code]

    def to_json(self) -> dict:
        d = self.decision
        return {"decision": d.outcome, "code": self.code, "reason": self.reason}
