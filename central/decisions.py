"""Every decision the central tally takes on an upload, declared once: code, outcome, HTTP status.

Outcomes: ``accepted`` (a new result, added to the totals), ``duplicate`` (the same signed
message again: an idempotent success), ``conflict`` (a different, validly signed message for a
slot already filled: stored, listed publicly, never added to the totals), ``refused`` (a
validly formed upload that fails a check: journaled and listed publicly, nothing added) and
``rejected`` (a body that is not an upload at all — malformed, oversized: a 4xx, nothing
stored, nothing journaled).
"""
from __future__ import annotations

from dataclasses import dataclass

from typing import Any

MAX_REASON_CHARS = 240
CLIP_CHARS = 80


def clip(text: Any, limit: int = CLIP_CHARS) -> str:
    """``text`` as a string of at most ``limit`` characters (``...`` and the length when cut):
    attacker-chosen text is never stored or echoed in full."""
    s = str(text)
    return s if len(s) <= limit else f"{s[:limit]}... ({len(s)} characters)"


@dataclass(frozen=True)
class Decision:
    code: str
    outcome: str  # accepted | duplicate | conflict | refused | rejected
    status: int  # HTTP status of the answer
    meaning: str  # what the public list says


_TABLE = [
    Decision("accepted", "accepted", 201, "accepted and added to the totals"),
    Decision("duplicate", "duplicate", 200, "the same signed result again (already accepted)"),
    Decision("conflict", "conflict", 409,
             "a different signed result for a slot already filled: kept aside, not counted"),
    Decision("older_sequence", "refused", 409,
             "an older sequence number than the result already held for this unit"),
    Decision("bad_signature", "refused", 403, "the signature does not verify under the unit key"),
    Decision("unknown_unit", "refused", 403, "the unit key is not in the election package's registry"),
    Decision("wrong_station", "refused", 403, "the unit key is registered for another station"),
    Decision("unknown_station", "refused", 403, "no such station in the election"),
    Decision("wrong_election", "refused", 422, "the results are for another election"),
    Decision("wrong_mode", "refused", 422, "live/test mode differs from the service's"),
    Decision("failed_sanity", "refused", 422, "the figures are inconsistent"),
    Decision("malformed", "rejected", 400, "not a signed results message"),
    Decision("oversized", "rejected", 413, "the body is larger than the limit"),
    Decision("unsupported_media", "rejected", 415, "the body is not JSON"),
    Decision("too_slow", "rejected", 408, "the body did not arrive within the deadline"),
    Decision("too_many_refusals", "rejected", 429,
             "too many refused uploads from this address lately; nothing stored, retry later"),
    Decision("unavailable", "rejected", 503, "the store could not record the decision; retry"),
]
DECISIONS: dict[str, Decision] = {d.code: d for d in _TABLE}
COUNTED = "accepted"


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
