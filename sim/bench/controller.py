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
from sim.station import run_station_day
from sim.voters import load_scenario

NATIONAL_BALLOTS = 7_394_427  # Cambodia 2022, NEC/AKP (facts/elections.md)
TARGET_SECONDS = 300


def _one_day(election, scenario, seed: int, voters: int) -> tuple[int, float]:
    t0 = time.perf_counter()
    day = run_station_day(election, "teuk-laak-1-1", registered=voters, seed=seed, scenario=scenario)
    elapsed = time.perf_counter() - t0
    return day.controller.counters.cast, elapsed


def _floor_costs(n: int) -> tuple[float, float]:
    """Cost of one bare ``transitions`` trigger (no callbacks) and of one journal record hash."""
    from device.station.machine import build_machines
    from device.store.journal import make_record

    class Model:
        pass

    m = Model()
    build_machines(m)
    m.load_election(); m.open_polls(); m.start_scanning()  # noqa: E702
    t0 = time.perf_counter()
    for _ in range(n):
        m.paper_detected(); m.scanned(); m.ballot_ok()  # noqa: E702
        m.ballot_cast(); m.ballot_dropped(); m.ballot_done()  # noqa: E702
    trigger = (time.perf_counter() - t0) / (6 * n)
    t0 = time.perf_counter()
    for i in range(n):
        make_record(i, "ballot_done", 1654412400.5, {"compartment": "box"}, "ab" * 32)
    return trigger, (time.perf_counter() - t0) / n


def main(quick: bool = False) -> None:
    election = load_election("cambodia-2022")
    scenario = load_scenario(None, election, "cambodia-2022")
    voters = 1000 if quick else 3000
    reps = 3 if quick else 7
    _one_day(election, scenario, 0, 200)  # warm-up
    rates = []
    for seed in range(reps):
        cast, elapsed = _one_day(election, scenario, seed, voters)
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
    trigger, record = _floor_costs(5000 if quick else 20000)
    per_voter = 9  # journaled transitions per voter: 3 at the ID desk, 6 at the ballot box
    floor = per_voter * trigger * NATIONAL_BALLOTS / 2
    print(f"floor: one bare transitions trigger {trigger * 1e6:.1f} us, one journal record hash "
          f"{record * 1e6:.1f} us; {per_voter} of each per voter = {per_voter * (trigger + record) * 1e6:.0f} us "
          f"per ballot; the library's triggers alone are {floor / 60:.1f} min of the national volume on 2 cores")
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
