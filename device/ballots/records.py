"""What a ballot says: readings from the interpreter and the cast vote records that are stored.

``BallotReading`` is the interpreter's answer for one sheet (or, at logical fidelity, the marks
as data): either a rejection with one named reason, or the ballot style and the definite and
marginal marks per contest. ``CastVoteRecord`` is what the unit stores for a cast ballot: a
random id, the ballot style and per-contest selections with their status — no voter, no
timestamp, nothing that orders it in time (ballot secrecy by construction).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

# Rejection reasons an interpreter may give, declared once. Their operator messages live in
# device/event_catalog.toml under [messages].
REJECTION_REASONS = (
    "not_a_ballot", "wrong_election", "unknown_style", "unreadable_code",
    "fiducials_missing", "test_ballot", "unreadable_marks",
)

# Per-contest status of a reading or a cast record.
VALID, UNDERVOTE, OVERVOTE, BLANK, INVALID = "valid", "undervote", "overvote", "blank", "invalid"


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


@dataclass(frozen=True)
class CastVoteRecord:
    """One cast ballot as stored: random id, style, per-contest selections and status.

    ``contests`` maps contest id -> (selections, status) where status is one of valid,
    undervote, overvote, blank or invalid (the contest on a ballot accepted as invalid).
    ``image_sha256`` is set where the unit keeps the ballot image.
    """

    id: str
    ballot_style: str
    contests: dict[str, tuple[tuple[str, ...], str]]
    image_sha256: str | None = None

    @property
    def invalid(self) -> bool:
        """Accepted as invalid: the sheet went into the invalid compartment."""
        return any(st == INVALID for _, st in self.contests.values())

    def to_json(self) -> dict[str, Any]:
        out: dict[str, Any] = {
            "id": self.id, "ballot_style": self.ballot_style,
            "contests": {cid: {"selections": list(sel), "status": st}
                         for cid, (sel, st) in sorted(self.contests.items())}}
        if self.image_sha256:
            out["image_sha256"] = self.image_sha256
        return out

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> CastVoteRecord:
        return cls(obj["id"], obj["ballot_style"],
                   {cid: (tuple(c["selections"]), c["status"]) for cid, c in obj["contests"].items()},
                   obj.get("image_sha256"))
