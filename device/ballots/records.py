"""What a ballot says: readings from the interpreter and the cast vote records that are stored.

``BallotReading`` is the interpreter's answer for one sheet (or, at logical fidelity, the marks
as data): either a rejection with one named reason, or the ballot style and the definite and
marginal marks per contest. ``CastVoteRecord`` is what the unit stores for a cast ballot: a
random id, the ballot style and per-contest selections with their status — no voter, no
timestamp, nothing that orders it in time (ballot secrecy by construction). It is declared by the
store (``device/store/cast_vote_record.py``), which keeps it without knowing what a ballot is.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Per-contest status of a reading or a cast record, and the cast record: the store's
# (device/store/cast_vote_record.py), which keeps them without knowing what a ballot is.
from device.store.cast_vote_record import BLANK as BLANK
from device.store.cast_vote_record import INVALID as INVALID
from device.store.cast_vote_record import OVERVOTE as OVERVOTE
from device.store.cast_vote_record import UNDERVOTE as UNDERVOTE
from device.store.cast_vote_record import VALID as VALID
from device.store.cast_vote_record import CastVoteRecord as CastVoteRecord

# Rejection reasons an interpreter may give, declared once. Their operator messages live in
# device/station/event_catalog.toml under [messages].
REJECTION_REASONS = (
    "not_a_ballot", "wrong_election", "unknown_style", "unreadable_code",
    "fiducials_missing", "test_ballot", "unreadable_marks",
)


def contest_status(n_selections: int, vote_for: int) -> str:
    """valid (exactly vote_for), undervote (fewer, not none), blank (none), overvote (more)."""
    if n_selections == 0:
        return BLANK
    if n_selections > vote_for:
        return OVERVOTE
    return VALID if n_selections == vote_for else UNDERVOTE


@dataclass(frozen=True)
class ContestReading:
    contest_id: str
    selections: tuple[str, ...]  # choice ids with a definite mark
    marginal: tuple[str, ...] = ()  # choice ids with a mark too faint to call either way


@dataclass(frozen=True)
class BallotReading:
    """The interpreter's result for one sheet. ``rejection`` is None for a readable ballot."""

    ballot_style: str | None
    contests: dict[str, ContestReading] = field(default_factory=dict)
    rejection: str | None = None
    detail: str = ""
    test_ballot: bool = False
    scores: dict[str, dict[str, float]] | None = None  # contest -> choice -> mark score

    @classmethod
    def rejected(cls, reason: str, detail: str = "") -> BallotReading:
        if reason not in REJECTION_REASONS:
            raise ValueError(f"unknown rejection reason {reason!r}")
        return cls(ballot_style=None, rejection=reason, detail=detail)

    @property
    def readable(self) -> bool:
        return self.rejection is None

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {"readable": self.readable, "ballot_style": self.ballot_style,
                               "rejection": self.rejection, "detail": self.detail,
                               "test_ballot": self.test_ballot}
        out["contests"] = {cid: {"selections": list(c.selections), "marginal": list(c.marginal)}
                           for cid, c in self.contests.items()}
        if self.scores is not None:
            out["scores"] = self.scores
        return out
