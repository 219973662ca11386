"""Tallying: from cast vote records to contest results, seat allocation and aggregation.

Per contest: valid votes per choice, undervotes, overvotes, blank ballots and invalid ballots.
Conventions (as in VxScan's reports): an overvoted contest adds ``vote_for`` overvotes and no
votes; a contest with ``k <= vote_for`` marks adds ``k`` votes and ``vote_for - k``
undervotes; a blank contest (no mark) is also counted in ``blank``. A contest on a ballot
accepted as invalid counts in ``invalid`` only. The invariant

    sum(votes) + undervotes + overvotes == ballots_counted * vote_for

is checked on every tally (``TallyInvariantError`` otherwise).

Party-list contests get a seat allocation per district; majority-runoff contests report a
winner (over 50 % of valid votes) or the two candidates in the runoff. Station tallies add up
into district and national totals with ``ContestTally.merge``.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Iterable

from device.ballots.records import BLANK, INVALID, OVERVOTE, UNDERVOTE, VALID, CastVoteRecord
from device.election.definition import Contest, Election
from device.results.seats import allocate_seats, lot_seed_for, SeatAllocationError


class TallyInvariantError(AssertionError):
    pass


@dataclass
class ContestTally:
    contest_id: str
    vote_for: int
    votes: dict[str, int]
    ballots_counted: int = 0  # ballots on which this contest counts (not invalid)
    undervotes: int = 0
    overvotes: int = 0
    blank: int = 0
    invalid: int = 0

    @classmethod
    def empty(cls, contest: Contest) -> ContestTally:
        return cls(contest.id, contest.vote_for, {c: 0 for c in contest.choice_ids()})

    def add(self, selections: tuple[str, ...], status: str, ballots: int = 1) -> None:
        """Count ``ballots`` ballots that read ``selections`` with ``status`` in this contest."""
        if status == INVALID:
            self.invalid += ballots
            return
        self.ballots_counted += ballots
        if status == OVERVOTE:
            self.overvotes += self.vote_for * ballots
            return
        if status == BLANK:
            self.blank += ballots
        elif status not in (VALID, UNDERVOTE):
            raise ValueError(f"unknown contest status {status!r}")
        for choice in selections:
            self.votes[choice] += ballots
        self.undervotes += (self.vote_for - len(selections)) * ballots

    def merge(self, other: ContestTally) -> None:
        for c, n in other.votes.items():
            self.votes[c] = self.votes.get(c, 0) + n
        self.ballots_counted += other.ballots_counted
        self.undervotes += other.undervotes
        self.overvotes += other.overvotes
        self.blank += other.blank
        self.invalid += other.invalid

    def invariant_fault(self) -> str | None:
        """Why this tally breaks the invariant (module docstring), or None. The one statement of
        the rule: the unit checks its tallies with it, the central tally every upload's."""
        lhs = sum(self.votes.values()) + self.undervotes + self.overvotes
        if lhs == self.ballots_counted * self.vote_for:
            return None
        return (f"contest {self.contest_id}: votes + undervotes + overvotes = {lhs}, "
                f"not ballots counted x {self.vote_for} = {self.ballots_counted * self.vote_for}")

    def check_invariant(self) -> None:
        fault = self.invariant_fault()
        if fault is not None:
            raise TallyInvariantError(fault)

    @property
    def valid_votes(self) -> int:
        return sum(self.votes.values())

    def to_json(self) -> dict:
        return {"votes": dict(self.votes), "ballots_counted": self.ballots_counted,
                "undervotes": self.undervotes, "overvotes": self.overvotes, "blank": self.blank,
                "invalid": self.invalid}

    @classmethod
    def from_json(cls, contest: Contest, doc: dict[str, Any]) -> ContestTally:
        """The tally ``to_json`` wrote (the figures of a results message or a national run)."""
        return cls(contest.id, contest.vote_for, dict(doc["votes"]), doc["ballots_counted"],
                   doc["undervotes"], doc["overvotes"], doc["blank"], doc["invalid"])


@dataclass
class Results:
    """Tallies of a set of contests for one scope (a station, a district or the nation)."""

    election: Election
    scope: str  # "station:ID", "district:ID" or "national"
    district: str | None
    contests: dict[str, ContestTally] = field(default_factory=dict)
    ballots_cast: int = 0

    def add_cvr(self, cvr: CastVoteRecord, ballots: int = 1) -> None:
        """Count ``ballots`` ballots that read as ``cvr`` does."""
        self.ballots_cast += ballots
        contests = self.contests  # (a station's tally adds every cast record: one lookup each)
        for cid, (selections, status) in cvr.contests.items():
            tally = contests.get(cid)
            if tally is None:
                tally = contests[cid] = ContestTally.empty(self.election.contests[cid])
            tally.add(selections, status, ballots)

    def add_cvrs(self, cvrs: Iterable[CastVoteRecord]) -> None:
        """``add_cvr`` for each of ``cvrs``, counting the records that read alike together (a
        station's few hundred ballots read a few dozen ways): the same figures, and the same
        order of contests, since each reading is counted where it first appears."""
        alike: dict[tuple, list] = {}  # the contests as a tuple -> [a record, how many]
        for cvr in cvrs:
            try:
                seen = alike.get(key := tuple(cvr.contests.items()))
            except TypeError:  # selections that are not tuples (a list read back from JSON)
                self._flush(alike)
                alike = {}
                self.add_cvr(cvr)
                continue
            if seen is None:
                alike[key] = [cvr, 1]
            else:
                seen[1] += 1
        self._flush(alike)

    def _flush(self, alike: dict[tuple, list]) -> None:
        for cvr, ballots in alike.values():
            self.add_cvr(cvr, ballots)

    def merge(self, other: Results) -> None:
        self.ballots_cast += other.ballots_cast
        for cid, t in other.contests.items():
            if cid not in self.contests:
                self.contests[cid] = ContestTally.empty(self.election.contests[cid])
            self.contests[cid].merge(t)

    def check(self) -> None:
        for t in self.contests.values():
            t.check_invariant()

    def outcome(self, contest_id: str) -> dict | None:
        """Seats (party-list, for a district's total) or the runoff verdict.

        A station's votes alone never get a seat allocation: seats belong to the district (the
        commune in Cambodia), allocated from the votes of all its stations."""
        contest = self.election.contests[contest_id]
        t = self.contests[contest_id]
        if contest.kind == "party-list" and self.scope.startswith("station:") and self.district:
            district = self.election.districts[self.district].name
            return {"seats": None, "note": f"seats are allocated for {district} from the votes "
                                           f"of all its stations"}
        if contest.kind == "party-list" and self.district is not None:
            assert contest.method is not None  # a party-list contest always has one (definition.py)
            try:
                alloc = allocate_seats(t.votes, contest.seats[self.district], contest.method,
                                       contest.threshold,
                                       lot_seed_for(self.election.hash, self.district, contest.id))
            except SeatAllocationError as exc:
                return {"seats": None, "note": str(exc)}
            detail = alloc.to_json()
            del detail["seats"]
            return {"seats": alloc.seats, "allocation": detail}
        if contest.kind == "majority-runoff":
            return majority_verdict(t)
        if contest.kind == "plurality":
            ranked = sorted(t.votes.items(), key=lambda kv: (-kv[1], kv[0]))
            return {"leading": [c for c, _ in ranked[:contest.vote_for]]}
        return None

    @classmethod
    def from_json(cls, election: Election, scope: str, district: str | None,
                  contests: dict[str, dict[str, Any]], ballots_cast: int) -> Results:
        """Results from the contest tallies ``ContestTally.to_json`` wrote (the ``contests`` of
        ``to_json``, or the ``tally`` of a results message) and the ballots cast."""
        return cls(election, scope, district, {cid: ContestTally.from_json(election.contests[cid], doc)
                                               for cid, doc in contests.items()}, ballots_cast)

    def to_json(self) -> dict:
        self.check()
        out: dict[str, Any] = {"scope": self.scope, "ballots_cast": self.ballots_cast, "contests": {}}
        for cid in self.contests:
            entry = self.contests[cid].to_json()
            verdict = self.outcome(cid)
            if verdict:
                entry.update(verdict)
            out["contests"][cid] = entry
        return out


def majority_verdict(t: ContestTally) -> dict:
    valid = t.valid_votes
    ranked = sorted(t.votes.items(), key=lambda kv: (-kv[1], kv[0]))
    if valid and ranked[0][1] * 2 > valid:
        return {"winner": ranked[0][0], "share": round(ranked[0][1] / valid, 6), "runoff": None}
    return {"winner": None, "runoff": [c for c, _ in ranked[:2]] if valid else None,
            "note": "no candidate has more than 50% of valid votes"}


def tally_station(election: Election, station_id: str, cvrs: Iterable[CastVoteRecord]) -> Results:
    station = election.stations[station_id]
    results = Results(election, f"station:{station_id}", station.district,
                      {c.id: ContestTally.empty(c) for c in election.contests_at_station(station_id)})
    results.add_cvrs(cvrs)
    results.check()
    return results


def aggregate(election: Election, station_results: Iterable[Results]) -> dict[str, Results]:
    """District totals (keyed ``district:ID``) and the national total (key ``national``)."""
    out: dict[str, Results] = {"national": Results(election, "national", None)}
    for r in station_results:
        key = f"district:{r.district}"
        if key not in out:
            out[key] = Results(election, key, r.district)
        out[key].merge(r)
        out["national"].merge(r)
    return out
