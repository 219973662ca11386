"""The reported results a risk-limiting audit checks: one batch per polling station.

A batch is a station's ballot box: its reported votes per choice for the audited contest and
the number of ballots it holds (``ballots_cast``, every sheet in the box, valid or not: the
most a hand count could move). ``load_reported(path, contest)`` reads either publication:

- a central tally's public folder (``central serve`` / ``Publisher``): ``index.json`` (the
  contest's kind) and ``stations/*.json`` (each station's published results), with the seats
  of each district from ``districts/*.json``;
- the output folder of ``ballotbox sim national --out``: ``national.json`` (kind, seats per
  district) and ``stations.jsonl`` (each station's device tally, as the unit reported it).

Only stations that reported are batches; a district's seats are audited only when every
station of the district reported (the allocation is final). Bad input raises
``ReportedResultsError`` with one line that says what is wrong.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path

KINDS = ("plurality", "majority-runoff", "party-list")


class ReportedResultsError(ValueError):
    pass


@dataclass(frozen=True)
class Batch:
    """One station's box: reported votes per choice and the sheets in it."""

    id: str
    district: str
    ballots: int
    votes: dict[str, int]


@dataclass(frozen=True)
class DistrictSeats:
    """A party-list district's council: its seats, method and the published allocation."""

    district: str
    total_seats: int
    method: str
    seats: dict[str, int]


@dataclass
class ReportedContest:
    """Everything the audit needs of one contest, as published."""

    contest: str
    kind: str
    vote_for: int
    choices: list[str]
    batches: dict[str, Batch]
    districts: dict[str, DistrictSeats] = field(default_factory=dict)
    names: dict[str, str] = field(default_factory=dict)  # choice id -> name, where published

    def totals(self, district: str | None = None) -> dict[str, int]:
        out = {c: 0 for c in self.choices}
        for b in self.batches.values():
            if district is None or b.district == district:
                for c, v in b.votes.items():
                    out[c] += v
        return out

    def district_batches(self, district: str) -> list[Batch]:
        return [b for b in self.batches.values() if b.district == district]


def _read_json(path: Path) -> dict:
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportedResultsError(f"{path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportedResultsError(f"{path}: not a JSON document ({exc})") from None
    if not isinstance(doc, dict):
        raise ReportedResultsError(f"{path}: not a JSON object")
    return doc


def _kind_of(entry: dict, has_seats: bool) -> str:
    """The contest's kind: central publishes it; ``national.json`` shows it by its verdict."""
    kind = entry.get("kind")
    if kind is None:
        kind = "party-list" if has_seats else "majority-runoff" if "runoff" in entry else "plurality"
    if kind not in KINDS:
        raise ReportedResultsError(f"contest kind {kind!r} cannot be audited (kinds: {', '.join(KINDS)})")
    return kind


def _batch(sid: str, district: str, ballots: object, contest_doc: object) -> Batch:
    if not isinstance(contest_doc, dict) or not isinstance(contest_doc.get("votes"), dict):
        raise ReportedResultsError(f"station {sid}: no votes for the contest")
    votes = contest_doc["votes"]
    for c, v in votes.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise ReportedResultsError(f"station {sid}: votes for {c!r} must be a whole number >= 0")
    if not isinstance(ballots, int) or ballots < sum(votes.values()) // max(1, contest_doc.get("vote_for", 1)):
        raise ReportedResultsError(f"station {sid}: ballots_cast missing or smaller than its votes")
    return Batch(sid, district, ballots, dict(votes))


def _seats(district: str, entry: dict) -> DistrictSeats | None:
    alloc, seats = entry.get("allocation"), entry.get("seats")
    if not isinstance(alloc, dict) or not isinstance(seats, dict):
        return None
    votes = entry.get("votes", {})
    eligible = set(alloc.get("eligible", votes))
    if any(v > 0 and p not in eligible for p, v in votes.items()):
        raise ReportedResultsError(f"district {district}: a threshold kept parties with votes from the seats; "
                                   f"seats under a threshold cannot be audited yet")
    return DistrictSeats(district, int(alloc["total_seats"]), str(alloc["method"]),
                         {p: int(n) for p, n in seats.items()})


def load_reported(path: str | Path, contest: str) -> ReportedContest:
    """The reported results of ``contest`` from a central public folder or a national run."""
    root = Path(path)
    if (root / "stations.jsonl").is_file():
        return _from_national_run(root, contest)
    if (root / "index.json").is_file() and (root / "stations").is_dir():
        return _from_central(root, contest)
    raise ReportedResultsError(f"{root}: neither a central public folder (index.json, stations/) "
                               f"nor a 'sim national --out' folder (stations.jsonl)")


def _from_national_run(root: Path, contest: str) -> ReportedContest:
    national = _read_json(root / "national.json")
    nat = national.get("national", {}).get("contests", {})
    if contest not in nat:
        raise ReportedResultsError(f"no contest {contest!r} in {root / 'national.json'} "
                                   f"(contests: {', '.join(sorted(nat)) or 'none'})")
    districts: dict[str, DistrictSeats] = {}
    for d, doc in sorted(national.get("districts", {}).items()):
        entry = doc.get("contests", {}).get(contest, {})
        seats = _seats(d, entry) if doc.get("complete") else None
        if seats is not None:
            districts[d] = seats
    kind = _kind_of(nat[contest], bool(districts) or nat[contest].get("seats") is not None)
    batches: dict[str, Batch] = {}
    with open(root / "stations.jsonl", encoding="utf-8") as fh:
        for n, line in enumerate(fh, 1):
            try:
                st = json.loads(line)
            except json.JSONDecodeError:
                raise ReportedResultsError(f"stations.jsonl line {n}: not JSON") from None
            if "error" in st:
                continue  # a station the run could not play reported nothing
            batches[st["station"]] = _batch(st["station"], st["district"], st.get("ballots_cast"),
                                            st.get("contests", {}).get(contest))
    return _contest(contest, kind, 1, nat[contest]["votes"], batches, districts, {})


def _from_central(root: Path, contest: str) -> ReportedContest:
    index = _read_json(root / "index.json")
    entry = index.get("contests", {}).get(contest)
    if entry is None:
        raise ReportedResultsError(f"no contest {contest!r} in {root / 'index.json'} "
                                   f"(contests: {', '.join(sorted(index.get('contests', {}))) or 'none'})")
    names = {ch["id"]: ch.get("name") or ch["id"] for ch in entry.get("choices", [])}
    batches: dict[str, Batch] = {}
    for f in sorted((root / "stations").glob("*.json")):
        doc = _read_json(f)
        if not doc.get("reported"):
            continue
        batches[doc["id"]] = _batch(doc["id"], doc["district"], doc.get("ballots_cast"),
                                    doc.get("contests", {}).get(contest))
    districts: dict[str, DistrictSeats] = {}
    for f in sorted((root / "districts").glob("*.json")):
        doc = _read_json(f)
        if doc.get("status") != "complete" and doc.get("stations_reporting") != doc.get("stations_total"):
            continue
        seats = _seats(doc["id"], doc.get("contests", {}).get(contest, {}))
        if seats is not None:
            districts[doc["id"]] = seats
    return _contest(contest, _kind_of(entry, bool(districts)), int(entry.get("vote_for", 1)),
                    entry.get("votes", {}), batches, districts, names)


def _contest(contest: str, kind: str, vote_for: int, votes: dict, batches: dict[str, Batch],
             districts: dict[str, DistrictSeats], names: dict[str, str]) -> ReportedContest:
    if not batches:
        raise ReportedResultsError(f"no station reported results for contest {contest!r}")
    choices = sorted(votes)
    for b in batches.values():
        unknown = set(b.votes) - set(choices)
        if unknown:
            raise ReportedResultsError(f"station {b.id}: unknown choice(s) {', '.join(sorted(unknown))}")
        for c in choices:
            b.votes.setdefault(c, 0)
    return ReportedContest(contest, kind, vote_for, choices, dict(sorted(batches.items())), districts, names)
