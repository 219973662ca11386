"""Invariants every national run is checked against, computed apart from the aggregation.

``check_invariants(national, document, stations)`` re-adds the raw station results
(``StationResult`` dicts) by its own plain sums, not with ``aggregation.py`` or
``device.results``, and checks the national document against them (every figure: ballots
cast, ballots counted, under/overvotes, blank, invalid, votes per choice):

- ``stations_sum_to_districts``: each district's figures are the sum of its stations';
- ``districts_sum_to_provinces``: each province's are the sum of its districts';
- ``provinces_sum_to_nation``: the nation's are the sum of the provinces';
- ``stations_sum_to_nation``: the nation's are the sum of every station's (so a station or a
  province counted twice, or one missing, shows at two levels);
- ``seats_fill_councils``: a complete district of a party-list contest gives out exactly its
  council's seats, an incomplete one none, and the nation's seats are the districts' sum;
- ``verdicts_follow_intent``: every "matches intent" in the document (station, district,
  province, nation, the run) equals an independent comparison of the device's sums with the
  sums of what the voters meant (so a comparison of the device's tally with itself is caught).

``compare_with_central(document, central_index)`` checks a central tally's public national
document (``index.json``) against the run's: ballots and every contest figure of the nation,
ballots of every province and district (``--central``).
Each returns a list of violations, one sentence each; an empty list is a pass.
"""
from __future__ import annotations

from collections import Counter
from typing import Iterable

FIGURES = ("ballots_counted", "undervotes", "overvotes", "blank", "invalid")
INVARIANTS = ("stations_sum_to_districts", "districts_sum_to_provinces", "provinces_sum_to_nation",
              "stations_sum_to_nation", "seats_fill_councils", "verdicts_follow_intent")


def figures(ballots_cast: int, contests: dict) -> Counter:
    """Every figure of one tally, flattened: ``ballots_cast``, ``C.invalid``, ``C.votes.X``..."""
    out: Counter = Counter({"ballots_cast": ballots_cast})
    for cid, t in contests.items():
        for key in FIGURES:
            out[f"{cid}.{key}"] = t[key]
        for choice, n in t["votes"].items():
            out[f"{cid}.votes.{choice}"] = n
    return out


def _sum(parts: Iterable[Counter]) -> Counter:
    total: Counter = Counter()
    for part in parts:
        total.update(part)
    return total


def _same(a: Counter, b: Counter) -> bool:
    """``a == b`` (a figure missing from one is zero in it), as plain dicts first: the figures of
    a station's device and intent have the same keys, and a Counter compares in Python."""
    return dict.__eq__(a, b) or a == b


def _differ(a: Counter, b: Counter) -> list[str]:
    keys = sorted(k for k in set(a) | set(b) if a.get(k, 0) != b.get(k, 0))
    return [f"{k} {a.get(k, 0):,} vs {b.get(k, 0):,}" for k in keys[:3]] + (["..."] if len(keys) > 3 else [])


def _check(violations: list[str], name: str, what: str, got: Counter, want: Counter) -> None:
    diff = _differ(got, want)
    if diff:
        violations.append(f"{name}: {what}: " + ", ".join(diff))


def check_invariants(national, document: dict, stations: dict[str, dict]) -> list[str]:
    ok = {sid: r for sid, r in stations.items() if "error" not in r}
    device = {sid: figures(r["ballots_cast"], r["contests"]) for sid, r in ok.items()}
    intent = {sid: figures(r["ballots_intended"], r["intent"]) for sid, r in ok.items()}
    out: list[str] = []
    doc_figures = {}
    for level, docs in (("district", document["districts"]), ("province", document["provinces"])):
        for key, doc in docs.items():
            doc_figures[(level, key)] = figures(doc["ballots_cast"], doc["contests"])
    nation = figures(document["national"]["ballots_cast"], document["national"]["contests"])

    by_district: dict[str, list[str]] = {}
    for sid, r in sorted(ok.items()):
        by_district.setdefault(r["district"], []).append(sid)
    # each station's figures are added once a kind, into its district; provinces and the nation
    # add the districts' sums (integer sums: the same totals, ~4x fewer additions)
    device_sums = {d: _sum(device[s] for s in sids) for d, sids in by_district.items()}
    intent_sums = {d: _sum(intent[s] for s in sids) for d, sids in by_district.items()}
    for d in sorted(set(by_district) | set(document["districts"])):
        _check(out, "stations_sum_to_districts", f"district {d}", doc_figures.get(("district", d), Counter()),
               device_sums.get(d, Counter()))
    for p in sorted(set(document["provinces"]) | {national.province_of[d] for d in document["districts"]}):
        districts = [d for d in document["districts"] if national.province_of[d] == p]
        _check(out, "districts_sum_to_provinces", f"province {p}", doc_figures.get(("province", p), Counter()),
               _sum(doc_figures[("district", d)] for d in districts))
    _check(out, "provinces_sum_to_nation", "nation", nation,
           _sum(doc_figures[("province", p)] for p in document["provinces"]))
    _check(out, "stations_sum_to_nation", "nation", nation, _sum(device_sums.values()))
    out += _seat_violations(national, document)
    out += _verdict_violations(national, document, ok, device, intent, device_sums, intent_sums)
    if len(ok) < len(stations) and document["matches_intent"]:
        out.append(f"verdicts_follow_intent: the run says it matches intent with "
                   f"{len(stations) - len(ok)} station(s) that failed to run")
    return out


def _seat_violations(national, document: dict) -> list[str]:
    contest = national.election.contests[national.contest_id]
    if contest.kind != "party-list":
        return []
    out, total = [], Counter()
    for d, doc in sorted(document["districts"].items()):
        seats = doc["contests"][contest.id].get("seats") or {}
        given = sum(seats.values())
        total.update(seats)
        want = contest.seats[d] if doc["complete"] else 0
        if given != want:
            out.append(f"seats_fill_councils: district {d} ({'complete' if doc['complete'] else 'incomplete'}) "
                       f"gives {given} seats, its council has {contest.seats[d]}"
                       + ("" if doc["complete"] else " (none before every station is in)"))
    nation = Counter(document["national"].get("seats") or {})
    if +nation != +total:
        out.append(f"seats_fill_councils: national seats {sum(nation.values()):,} are not the districts' "
                   f"{sum(total.values()):,}: " + ", ".join(_differ(nation, total)))
    return out


def _verdict_violations(national, document, ok, device, intent, device_sums, intent_sums) -> list[str]:
    """Every verdict against its device and intent sums (``*_sums``: per district, of its stations)."""
    out = []

    def agree(what: str, said: bool, truth: bool) -> None:
        if said != truth:
            out.append(f"verdicts_follow_intent: {what} says {'matches' if said else 'does not match'} "
                       f"intent; its device and intent sums say {'it does' if truth else 'it does not'}")

    station_truth = {sid: _same(device[sid], intent[sid]) and r["paper_matches_records"] for sid, r in ok.items()}
    for sid, r in sorted(ok.items()):
        agree(f"station {sid}", bool(r["matches_intent"] and r["paper_matches_records"]), station_truth[sid])
    for d, doc in sorted(document["districts"].items()):
        agree(f"district {d}", doc["matches_intent"], _same(device_sums.get(d, Counter()), intent_sums.get(d, Counter())))
    by_province: dict[str, list[str]] = {}  # (one pass: a scan of every district per province was ~25x)
    for d in device_sums:
        by_province.setdefault(national.province_of[d], []).append(d)
    for p, doc in sorted(document["provinces"].items()):
        districts = by_province.get(p, [])
        agree(f"province {p}", doc["matches_intent"],
              _sum(device_sums[d] for d in districts) == _sum(intent_sums[d] for d in districts))
    nation_truth = _sum(device_sums.values()) == _sum(intent_sums.values())
    agree("the nation", document["national"]["matches_intent"], nation_truth)
    if document["matches_intent"]:
        agree("the run", True, nation_truth and all(station_truth.values()))
    return out


def compare_with_central(document: dict, central: dict, province_names: dict[str, str]) -> list[str]:
    """The central tally's public national document against the run's figures (the central tally
    names provinces by their names: ``province_names`` maps the run's province ids to them)."""
    out: list[str] = []
    nation = document["national"]
    got = figures(central["ballots_cast"], {cid: c for cid, c in central["contests"].items()
                                            if cid in nation["contests"]})
    _check(out, "central_equals_simulation", "nation", got,
           figures(nation["ballots_cast"], nation["contests"]))
    mine = {province_names.get(p, p): doc["ballots_cast"] for p, doc in document["provinces"].items()}
    theirs = {p["name"]: p["ballots_cast"] for p in central.get("provinces", [])}
    for p in sorted(set(mine) | {k for k, v in theirs.items() if v}):
        if mine.get(p, 0) != theirs.get(p, 0):
            out.append(f"central_equals_simulation: province {p}: ballots {theirs.get(p, 0):,} at the "
                       f"central tally vs {mine.get(p, 0):,} simulated")
    mine = {d: doc["ballots_cast"] for d, doc in document["districts"].items()}
    theirs = {d["id"]: d["ballots_cast"] for d in central.get("districts", [])}
    for d in sorted(set(mine) | {k for k, v in theirs.items() if v}):
        if mine.get(d, 0) != theirs.get(d, 0):
            out.append(f"central_equals_simulation: district {d}: ballots {theirs.get(d, 0):,} at the "
                       f"central tally vs {mine.get(d, 0):,} simulated")
    return out
