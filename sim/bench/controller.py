"""Benchmark: ballots per second per core through the real controller at logical fidelity.

Runs whole simulated station days (Cambodia-style election, in-memory store and twins) and
reports the median rate over repetitions, the projected time for the Cambodia 2022 national
volume (7,394,427 ballots) on 2 cores (a national run is a map over stations, so it scales by
process), and a profile of where the time goes.
"""
from __future__ import annotations

import cProfile
import io
import pstats
import statistics
import time

from device.election.definition import load_election
from sim.bench.national import bare_trigger_seconds, record_hash_seconds, transitions_per_ballot
from sim.day.station import run_station_day
from sim.day.voters import load_scenario

NATIONAL_BALLOTS = 7_394_427  # Cambodia 2022, NEC/AKP (facts/elections.md)
TARGET_SECONDS = 300


def _one_day(election, scenario, seed: int, voters: int):
    t0 = time.perf_counter()
    day = run_station_day(election, "teuk-laak-1-1", registered=voters, seed=seed, scenario=scenario)
    elapsed = time.perf_counter() - t0
    return day.controller.counters.cast, elapsed, day


def main(quick: bool = False) -> None:
    election = load_election("cambodia-2022")
    scenario = load_scenario(None, election, "cambodia-2022")
    voters = 1000 if quick else 3000
    reps = 3 if quick else 7
    _one_day(election, scenario, 0, 200)  # warm-up
    rates = []
    for seed in range(reps):
        cast, elapsed, day = _one_day(election, scenario, seed, voters)
        rates.append(cast / elapsed)
    per_core = statistics.median(rates)
    projected = NATIONAL_BALLOTS / (2 * per_core)
    print("## controller (logical fidelity, whole station days through the real controller)")
    print(f"station days: {reps} x {voters} registered voters (~{int(voters * 0.8)} ballots each)")
    print(f"ballots/s per core: median {per_core:,.0f} (min {min(rates):,.0f}, max {max(rates):,.0f})")
    print(f"per ballot (incl. check-in, journal, tally): {1e6 / per_core:,.0f} us")
    print(f"projected Cambodia 2022 volume ({NATIONAL_BALLOTS:,} ballots) on 2 cores: "
          f"{projected / 60:,.1f} min (target {TARGET_SECONDS / 60:.0f} min: "
          f"{'met' if projected <= TARGET_SECONDS else f'{projected / TARGET_SECONDS:.1f}x over'})")
    n = 5000 if quick else 20000
    stock, lean = bare_trigger_seconds(n, stock=True), bare_trigger_seconds(n, stock=False)
    record = record_hash_seconds(n)
    per_ballot = transitions_per_ballot(day)
    print(f"floor: one bare trigger {stock * 1e6:.1f} us on stock transitions, {lean * 1e6:.2f} us on the "
          f"station's LeanMachine; one journal record hash {record * 1e6:.1f} us; {per_ballot:.2f} journaled "
          f"transitions per ballot = {per_ballot * (lean + record) * 1e6:.0f} us per ballot with the station's "
          f"machines ({per_ballot * (stock + record) * 1e6:.0f} us on stock transitions)")
    prof = cProfile.Profile()
    prof.enable()
    _one_day(election, scenario, 99, voters)
    prof.disable()
    out = io.StringIO()
    pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
    lines = [ln for ln in out.getvalue().splitlines() if ln.strip()]
    start = next(i for i, ln in enumerate(lines) if "ncalls" in ln)
    print("where the time goes (cProfile, top 12 by own time; profiling inflates totals):")
    for ln in lines[start:start + 13]:
        print("  " + ln)


if __name__ == "__main__":
    main()
