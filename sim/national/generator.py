"""National elections generated from a compact spec: every district, station, roll size and intent.

A spec (``sim/national/specs/<name>.json``, format ``ballotbox-national-spec/1``) holds the
public figures of one election (stations, ballots or registered voters, invalid ballots,
votes per choice, seats per party where there are seats) and a few shape parameters: provinces
with their number of districts (and stations), a size factor and a lean per choice, the spread
of district sizes, turnout and vote shares, and the council sizes. ``generate`` turns it into
a ``NationalElection``: the ``ballotbox-election/1`` definition (contests, parties and policy
taken from the bundled election of the same country), the province of each district, the
registered voters of each station and one ``Scenario`` per district. The same spec always
gives the same election (own seeded generator; no numpy), so every worker of a run, on any
machine, rebuilds the same election and checks its hash.

Intent is tuned to the published figures, never the allocation: per district, the share of a
choice is ``base x lean(province) x exp(spread x z)``, normalised; the bases are fitted
(iterative proportional fitting) so that the expected national votes equal the published ones.
Parties that won a handful of seats with few votes hold a fixed share in a few small
districts (``strongholds``); ``python -m sim.national.generator --tune NAME`` searches the
spread of the second party that makes the expected seat table match the published one (the
value goes into the spec).
"""
from __future__ import annotations

import argparse
import copy
import json
import math
import random
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from device.election.definition import Election, bundled_path, parse_election
from sim.day.voters import Scenario, parse_scenario

SPEC_FORMAT = "ballotbox-national-spec/1"
FIT_ROUNDS = 40


class NationalSpecError(ValueError):
    pass


@dataclass(frozen=True)
class Province:
    id: str
    name: str
    districts: tuple[str, ...]


@dataclass
class NationalElection:
    name: str
    spec: dict
    election: Election
    contest_id: str
    provinces: dict[str, Province]
    province_of: dict[str, str]  # district id -> province id
    stations_of: dict[str, tuple[str, ...]]  # district id -> its station ids, in order
    registered: dict[str, int]  # station id -> registered voters
    scenarios: dict[str, Scenario]  # district id -> the voters' intent and behaviour there
    expected_valid: dict[str, float] = field(repr=False, default_factory=dict)  # district -> valid votes

    @property
    def published_votes(self) -> dict[str, int]:
        return dict(self.spec["votes"])

    @property
    def estimated_votes(self) -> tuple[set[str], str]:
        """Choices whose "published" votes the spec filled in (no one published them one by one),
        and the spec's note saying how; reports label them as estimates."""
        estimated = self.spec.get("estimated") or {}
        return set(estimated.get("votes", ())), estimated.get("note", "")

    @property
    def published_seats(self) -> dict[str, int] | None:
        return dict(self.spec["seats"]) if "seats" in self.spec else None

    @property
    def station_ids(self) -> list[str]:
        return list(self.election.stations)


def spec_names() -> list[str]:
    folder = resources.files("sim.national") / "specs"
    return sorted(p.name[:-5] for p in folder.iterdir() if p.name.endswith(".json"))


def load_spec(name: str) -> dict:
    path = Path(str(resources.files("sim.national") / "specs" / f"{name}.json"))
    if not path.exists():
        from device.election.names import unknown_election_message

        raise NationalSpecError(unknown_election_message(name))
    spec = json.loads(path.read_text(encoding="utf-8"))
    if spec.get("format") != SPEC_FORMAT:
        raise NationalSpecError(f"{path.name}: $.format must be {SPEC_FORMAT!r}")
    return spec


@lru_cache(maxsize=4)
def national_election(name: str) -> NationalElection:
    """The generated election ``name`` (cached per process: a worker builds it once)."""
    return generate(load_spec(name))


def national_spec_election(name: str) -> NationalElection:
    """``--election NAME`` of a command that runs a national spec (``sim national``, the RLA
    drill): the name is resolved by the one lookup (``device.election.names``), which must find
    a national spec; else its one-line ``ElectionError``."""
    from device.election.names import find_election
    from sim.national.spec_source import NATIONAL_SPEC

    return national_election(find_election(name, kinds=[NATIONAL_SPEC]).name)


# --- arithmetic helpers -----------------------------------------------------------------

def apportion(total: int, weights: list[float], minimum: int = 0) -> list[int]:
    """Whole numbers summing to ``total``, proportional to ``weights`` (largest remainder);
    every entry at least ``minimum``. Ties go to the earlier entry."""
    n = len(weights)
    if total < minimum * n:
        raise NationalSpecError(f"cannot give {n} entries at least {minimum} out of {total}")
    rest = total - minimum * n
    wsum = sum(weights)
    exact = [rest * w / wsum for w in weights]
    out = [int(x) for x in exact]
    order = sorted(range(n), key=lambda i: (-(exact[i] - out[i]), i))
    for i in order[:rest - sum(out)]:
        out[i] += 1
    return [x + minimum for x in out]


def dhondt_floats(votes: dict[str, float], seats: int) -> dict[str, int]:
    """D'Hondt on expected (fractional) votes; for tuning the spread only (the results use
    ``device.results.seats``)."""
    quotients = sorted(((v / (k + 1), p) for p, v in votes.items() if v > 0 for k in range(seats)),
                       reverse=True)
    won: dict[str, int] = {p: 0 for p in votes}
    for _q, p in quotients[:seats]:
        won[p] += 1
    return won


# --- generation -------------------------------------------------------------------------

def generate(spec: dict, spread_override: dict[str, float] | None = None) -> NationalElection:
    rng = random.Random(f"national:{spec['name']}:{spec['generation_seed']}")
    base_doc = json.loads(bundled_path(spec["base_election"]).read_text(encoding="utf-8"))
    contest_doc = next(c for c in base_doc["contests"] if c["id"] == spec["contest"])
    choices = [c["id"] for c in contest_doc["choices"]]
    if set(spec["votes"]) != set(choices):
        raise NationalSpecError(f"{spec['name']}: $.votes must name exactly the choices {choices}")
    if not set(spec.get("estimated", {}).get("votes", ())) <= set(choices):
        raise NationalSpecError(f"{spec['name']}: $.estimated.votes must name choices of $.votes")

    provinces_spec = spec["provinces"]
    counts = [p["districts"] for p in provinces_spec]
    if "districts" in spec:  # approximate counts per province, scaled to the published total
        counts = apportion(spec["districts"], counts, minimum=1)

    districts: list[dict] = []  # id, name, province, weight
    for p, n in zip(provinces_spec, counts):
        for k in range(1, n + 1):
            districts.append({"id": f"{p['id']}-{k:03d}", "province": p["id"],
                              "name": _district_name(spec, p, k),
                              "weight": p.get("size", 1.0) * rng.lognormvariate(0, spec["size_spread"])})

    # stations per district, and a weight per station for its share of the registered voters
    stations_of: dict[str, list[str]] = {}
    station_weight: dict[str, float] = {}
    if all("stations" in p for p in provinces_spec):
        for p in provinces_spec:
            mine = [d for d in districts if d["province"] == p["id"]]
            for d, n in zip(mine, apportion(p["stations"], [d["weight"] for d in mine], minimum=1)):
                stations_of[d["id"]] = [f"{d['id']}-{s:03d}" for s in range(1, n + 1)]
                for s in stations_of[d["id"]]:
                    station_weight[s] = p.get("size", 1.0) * rng.lognormvariate(0, spec["size_spread"] / 2)
    else:
        per = apportion(spec["stations"], [d["weight"] for d in districts], minimum=1)
        for d, n in zip(districts, per):
            stations_of[d["id"]] = [f"{d['id']}-{s:03d}" for s in range(1, n + 1)]
            for s in stations_of[d["id"]]:
                station_weight[s] = d["weight"] / n * rng.uniform(0.85, 1.15)
    all_stations = [s for d in districts for s in stations_of[d["id"]]]
    if len(all_stations) != spec["stations"]:
        raise NationalSpecError(f"{spec['name']}: {len(all_stations)} stations generated, "
                                f"spec says {spec['stations']}")

    valid_total = sum(spec["votes"].values())
    ballots = spec.get("ballots", valid_total + spec["invalid"])
    registered_total = spec.get("registered") or round(ballots / spec["turnout"])
    registered = dict(zip(all_stations, apportion(registered_total, [station_weight[s] for s in all_stations],
                                                  minimum=1)))
    reg_of = {d["id"]: sum(registered[s] for s in stations_of[d["id"]]) for d in districts}

    # turnout per district, scaled so the expected ballots equal the published ones
    raw_t = {d["id"]: math.exp(spec["turnout_spread"] * rng.gauss(0, 1)) for d in districts}
    scale = ballots / sum(reg_of[d] * raw_t[d] for d in raw_t)
    turnout = {d: min(0.98, raw_t[d] * scale) for d in raw_t}
    invalid_share = spec["invalid"] / ballots
    valid = {d: reg_of[d] * turnout[d] * (1 - invalid_share) for d in turnout}

    # council sizes: the smallest districts get the smallest councils
    seats: dict[str, int] = {}
    if "council_sizes" in spec:
        sizes = sorted((int(k), n) for k, n in spec["council_sizes"].items())
        by_size = sorted(reg_of, key=lambda d: (reg_of[d], d))
        it = iter(by_size)
        for size, n in sizes:
            for _ in range(n):
                seats[next(it)] = size
        if len(seats) != len(districts) or sum(seats.values()) != spec["seats_total"]:
            raise NationalSpecError(f"{spec['name']}: council sizes must cover every district "
                                    f"and add up to {spec['seats_total']} seats")

    fixed = _strongholds(spec, seats, reg_of, valid, rng)
    shares = _fit_shares(spec, choices, districts, valid, fixed, rng, spread_override or {})

    doc = copy.deepcopy(base_doc)
    doc["id"], doc["title"] = spec["id"], spec["title"]
    # the province of each district and the voters registered at each station are public
    # figures: the definition carries them (the central tally reads them for its pages)
    province_name = {p["id"]: p["name"] for p in provinces_spec}
    doc["districts"] = [{"id": d["id"], "name": d["name"], "province": province_name[d["province"]]}
                        for d in districts]
    style = doc["ballot_styles"][0]["id"]
    doc["ballot_styles"] = [doc["ballot_styles"][0]]
    doc["stations"] = [{"id": s, "name": f"{d['name']} · {s.rsplit('-', 1)[1]}", "district": d["id"],
                        "ballot_style": style, "registered": registered[s]}
                       for d in districts for s in stations_of[d["id"]]]
    doc["contests"] = [contest_doc]
    if seats:
        contest_doc["seats"] = seats
    election = parse_election(doc)

    base_path = resources.files("sim") / "scenarios" / f"{spec['base_scenario']}.json"
    base_doc = json.loads(base_path.read_text(encoding="utf-8"))
    base_doc.pop("district_shares", None)  # the bundled scenario's districts are not these
    base = parse_scenario(base_doc, election, spec["base_scenario"])
    blank = base.blank_rate
    rates = {**base.rates, "blank_rate": blank,
             "overvote_rate": max(0.0, (invalid_share - blank) / (1 - blank))}
    scenarios = {d["id"]: Scenario(f"{spec['name']}:{d['id']}", {**rates, "turnout": round(turnout[d["id"]], 6)},
                                   {spec["contest"]: shares[d["id"]]}) for d in districts}
    provinces = {p["id"]: Province(p["id"], p["name"], tuple(d["id"] for d in districts if d["province"] == p["id"]))
                 for p in provinces_spec}
    return NationalElection(spec["name"], spec, election, spec["contest"], provinces,
                            {d["id"]: d["province"] for d in districts},
                            {d: tuple(s) for d, s in stations_of.items()}, registered, scenarios, valid)


def _district_name(spec: dict, province: dict, k: int) -> str:
    return f"{province['name']} {spec['district_kind']} {k}"


def _strongholds(spec: dict, seats: dict[str, int], reg_of: dict[str, int], valid: dict[str, float],
                 rng: random.Random) -> dict[str, dict[str, float]]:
    """Fixed shares of small parties in a few small districts, one seat each."""
    fixed: dict[str, dict[str, float]] = {d: {} for d in reg_of}
    if "strongholds" not in spec or not seats:
        return fixed
    published = spec["seats"]
    big = sorted(published, key=lambda p: -published[p])[:2]
    smallest = min(seats.values())
    pool = sorted((d for d in seats if seats[d] == smallest), key=lambda d: (reg_of[d], d))
    rng.shuffle(pool)
    for party in sorted((p for p in published if p not in big), key=lambda p: (-published[p], p)):
        mine, pool = pool[:published[party]], pool[published[party]:]
        held = sum(valid[d] for d in mine)
        share = min(spec["strongholds"]["share"], 0.8 * spec["votes"][party] / held)
        share = max(share, spec["strongholds"]["min_share"])
        for d in mine:
            fixed[d][party] = share
    return fixed


def _fit_shares(spec: dict, choices: list[str], districts: list[dict], valid: dict[str, float],
                fixed: dict[str, dict[str, float]], rng: random.Random,
                spread_override: dict[str, float]) -> dict[str, dict[str, float]]:
    spread = {**spec.get("spread", {}), **spread_override}
    lean = {p["id"]: p.get("lean", {}) for p in spec["provinces"]}
    free: dict[str, dict[str, float]] = {}
    for d in districts:
        sig = {c: spread.get(c, spread.get("default", 0.1)) for c in choices}
        noise = {c: math.exp(sig[c] * rng.gauss(0, 1)) for c in choices}
        free[d["id"]] = {c: lean[d["province"]].get(c, 1.0) * noise[c]
                         for c in choices if c not in fixed[d["id"]]}
    targets = {c: spec["votes"][c] - sum(valid[d] * fixed[d].get(c, 0.0) for d in valid) for c in choices}
    base = {c: max(targets[c], 1.0) for c in choices}
    for _ in range(FIT_ROUNDS):
        totals = dict.fromkeys(choices, 0.0)
        for d, weights in free.items():
            room = valid[d] * (1 - sum(fixed[d].values()))
            s = sum(base[c] * w for c, w in weights.items())
            for c, w in weights.items():
                totals[c] += room * base[c] * w / s
        base = {c: base[c] * max(targets[c], 1.0) / totals[c] for c in choices}
    out = {}
    for d, weights in free.items():
        room = 1 - sum(fixed[d].values())
        s = sum(base[c] * w for c, w in weights.items())
        out[d] = {c: round(fixed[d].get(c, 0.0) + (room * base[c] * weights[c] / s if c in weights else 0.0), 9)
                  for c in choices}
    return out


def expected_seats(national: NationalElection) -> dict[str, int]:
    """Seats per party if every district voted exactly its expected shares."""
    contest = national.election.contests[national.contest_id]
    total: dict[str, int] = {}
    for d, n in contest.seats.items():
        shares = national.scenarios[d].shares[national.contest_id]
        for p, k in dhondt_floats({c: national.expected_valid[d] * s for c, s in shares.items()}, n).items():
            total[p] = total.get(p, 0) + k
    return {p: k for p, k in sorted(total.items(), key=lambda kv: -kv[1]) if k}


def tune(name: str, choice: str, lo: float = 0.0, hi: float = 1.5, steps: int = 14) -> tuple[float, dict]:
    """Bisect the spread of ``choice`` so its expected seats meet the published ones."""
    spec = load_spec(name)
    target = spec["seats"][choice]
    for _ in range(steps):
        mid = (lo + hi) / 2
        won = expected_seats(generate(spec, {choice: mid})).get(choice, 0)
        lo, hi = (mid, hi) if won > target else (lo, mid)
        # more spread -> fewer seats for a minority party under D'Hondt (votes wasted where weak)
    mid = round((lo + hi) / 2, 4)
    return mid, expected_seats(generate(spec, {choice: mid}))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.national.generator", description=__doc__)
    parser.add_argument("name", choices=spec_names())
    parser.add_argument("--tune", metavar="CHOICE", help="search the spread of CHOICE for its published seats")
    args = parser.parse_args(argv)
    if args.tune:
        value, seats = tune(args.name, args.tune)
        print(f"spread.{args.tune} = {value}: expected seats {seats}")
        return 0
    n = national_election(args.name)
    e = n.election
    print(f"{n.name}: {len(n.provinces)} provinces, {len(e.districts)} districts, {len(e.stations)} stations, "
          f"{sum(n.registered.values()):,} registered, election hash {e.hash[:16]}")
    if n.published_seats:
        print(f"expected seats {expected_seats(n)}; published {n.published_seats}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
