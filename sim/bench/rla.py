"""Benchmark: risk-limiting audits — sample sizes for whole countries, and drills that catch fraud.

Sample sizes (first round, expecting no discrepancy, Arlo's formula; ``device.audit.rla``) at
5 % and 1 % risk limits, for Cambodia 2022 (the national vote; each commune's council seats
audited alone; every commune at once by MACRO across communes) and Kyrgyzstan 2017 (the
presidential majority). The per-station tallies are drawn from the generated national election
(``sim.national.generator``: each station's registered voters, the district's turnout and vote
shares, the published invalid share), a multinomial draw per station — the same intent the
national simulation plays through the controller, without its 5 minutes.

Drills (``sim.audit.drill``, the real audit on real ``sim national`` runs, hand counts from the
paper in the boxes): honest results over many audit seeds (how many stop in round 1, stations
counted) and outcome-changing shifts (catch rate, must be >= 1 - risk limit).
"""
from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from device.audit.rla import macro
from device.audit.rla.assertions import contest_assertions
from device.audit.rla.results import Batch, DistrictSeats, ReportedContest
from device.results.seats import allocate_seats

RISKS = (0.05, 0.01)


def generated_contest(name: str, seed: int = 1) -> ReportedContest:
    """Per-station tallies drawn from a generated national election's intent."""
    from sim.national.generator import national_election

    national = national_election(name)
    election, contest = national.election, national.election.contests[national.contest_id]
    rng = random.Random(seed)
    invalid_share = national.spec["invalid"] / max(1, sum(national.spec["votes"].values()) + national.spec["invalid"])
    batches = {}
    for sid, station in election.stations.items():
        scenario = national.scenarios[station.district]
        ballots = sum(1 for _ in range(national.registered[sid]) if rng.random() < scenario.turnout)
        valid = ballots - sum(1 for _ in range(ballots) if rng.random() < invalid_share)
        choices, cum = scenario.draw_table(election, station.district, contest.id)
        votes = dict.fromkeys(choices, 0)
        for c in rng.choices(choices, cum_weights=cum, k=valid):
            votes[c] += 1
        batches[sid] = Batch(sid, station.district, ballots, votes)
    kind = "party-list" if contest.kind == "party-list" else contest.kind
    out = ReportedContest(contest.id, kind, contest.vote_for, contest.choice_ids(), batches)
    if contest.kind == "party-list":
        for d, seats in contest.seats.items():
            alloc = allocate_seats(out.totals(d), seats, contest.method or "dhondt", contest.threshold)
            out.districts[d] = DistrictSeats(d, seats, alloc.method, alloc.seats)
    return out


def sizes(reported: ReportedContest, scope: str) -> dict[float, tuple[int, float]]:
    bounds = macro.error_bounds(reported.batches, contest_assertions(reported, scope))
    return {r: (macro.sample_size(r, bounds), macro.total_bound(bounds)) for r in RISKS}


def per_commune(reported: ReportedContest) -> None:
    for risk in RISKS:
        ns, full, counted = [], 0, 0
        for d in sorted(reported.districts):
            batches = {b.id: b for b in reported.district_batches(d)}
            bounds = macro.error_bounds(batches, contest_assertions(reported, f"district:{d}"))
            n = macro.sample_size(risk, bounds)
            ns.append(n)
            full += n >= len(batches)
            counted += min(n, len(batches))
        q = statistics.quantiles(ns, n=10)
        print(f"  each commune's seats alone, risk {risk:.0%}: sample median {statistics.median(ns):.0f}, "
              f"p90 {q[-1]:.0f} (capped at the commune's stations); {full}/{len(ns)} communes need a full hand count; "
              f"{counted:,} of {len(reported.batches):,} stations counted at most")


def sample_size_section() -> None:
    t0 = time.perf_counter()
    kh = generated_contest("cambodia-2022-national")
    for scope, label in (("contest", "national vote (largest party)"), ("seats", "every commune's seats, MACRO across communes")):
        for risk, (n, U) in sizes(kh, scope).items():
            print(f"cambodia-2022 {label}, risk {risk:.0%}: {n:,} draws of {len(kh.batches):,} stations (U = {U:,.4g})")
    per_commune(kh)
    kg = generated_contest("kyrgyzstan-2017-national")
    for risk, (n, U) in sizes(kg, "contest").items():
        print(f"kyrgyzstan-2017 president (majority), risk {risk:.0%}: {n:,} draws of {len(kg.batches):,} "
              f"stations (U = {U:.4g})")
    print(f"(tallies drawn and sizes computed in {time.perf_counter() - t0:.0f} s)")


def drill_section(quick: bool) -> None:
    from sim.audit.drill import DrillElection, audit_seed, drill, paper_counts, tamper
    from device.audit.rla.results import load_reported
    from sim.national.executors import InlineExecutor
    from sim.national.generator import national_election
    from sim.national.outputs import write_outputs
    from sim.national.runner import run_national

    audits = 20 if quick else 100
    cases = [("kyrgyzstan-2017-national", 60, "president", "contest", 12, 2.5),
             ("cambodia-2022-national", 60, "council", "seats", 1, 1.0)]
    for name, stations, contest, scope, max_stations, factor in cases:
        with tempfile.TemporaryDirectory() as tmp:
            out = Path(tmp)
            national = national_election(name)
            write_outputs(national, run_national(national, 1, InlineExecutor(), stations=stations), out,
                          figures=False)
            reported, paper = load_reported(out, contest), paper_counts(out, contest)
            seeds = [audit_seed(k) for k in range(audits)]
            honest = drill(DrillElection(reported, paper, [], 0, False, None), scope, 0.05, seeds)
            print(f"drill {name} first {stations} stations (run seed 1), {contest} {scope}, risk 5 %, {audits} audits "
                  f"(audit seeds sim.audit.drill.audit_seed(0..{audits - 1})): honest -> "
                  f"stopped in round 1 {honest['stopped_in_round_1']}, escalated {honest['escalated']}, "
                  f"{honest['decisions']}, stations sampled {honest['mean_stations_counted']:.1f} on average "
                  f"(at most {honest['max_stations_counted']}) of {honest['stations']}")
            bad = tamper(reported, paper, scope, max_stations, factor)
            caught = drill(bad, scope, 0.05, seeds)
            print(f"  shifted {bad.shifted_votes} votes at {len(bad.tampered)} station(s) against "
                  f"'{bad.target}' (outcome changed): caught {caught['catch_rate']:.1%} (>= 95 % required), "
                  f"escalated {caught['escalated']}, mean rounds {caught['mean_rounds']:.2f}, first round a full count in "
                  f"{caught['first_round_full_count']}, mean stations counted {caught['mean_stations_counted']:.1f}")


def main(quick: bool = False) -> None:
    print("## rla: risk-limiting audit sample sizes and drills")
    sample_size_section()
    drill_section(quick)
