"""A cast vote record as the store keeps it: a random id, the ballot style and per-contest
selections with their status — no voter, no timestamp, nothing that orders it in time (ballot
secrecy by construction). The ballot layer (``device.ballots.records``) makes them from readings.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from device.quick_init import quick_init

# Per-contest status of a reading or a cast record.
VALID, UNDERVOTE, OVERVOTE, BLANK, INVALID = "valid", "undervote", "overvote", "blank", "invalid"


@quick_init
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
        for _, st in self.contests.values():
            if st == INVALID:
                return True
        return False

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
