"""What a national run pays per station rather than per ballot (issue 23 §3).

``station_fixed_cost(stations)`` plays the stations as a worker does (``run_batch``) with a CPU
timer around each per-station step of ``run_station`` and splits a station's CPU into:

- *plan the day*: the roll (a document number per registered voter) and the visitors with
  their marks (``plan_station_day``);
- *build the unit*: peripherals, the controller and its machines, the boot (the rest of
  ``build_station_day``);
- *open*: the zero report, the roll's hash, the signed ``polls_open`` checkpoint;
- *close*: the device's tally, the signed checkpoint and results message, the results tape;
- *result*: the intent tally and the station's result as plain data (``_result``);
- *free the day* (``_let_go``) and *between stations* (the garbage collection after each);
- *the visitors*: the rest, each visitor's check-in and ballot — the per-ballot work.

Everything but the visitors is the per-station fixed cost: ``fixed_per_ballot`` spreads it over
the station's ballots. Each timer is two CPU-clock reads per station (none per visitor).
"""
from __future__ import annotations

import time
from collections import defaultdict
from contextlib import contextmanager
from typing import Any, Iterator

STEPS = ("plan the day", "build the unit", "open", "close", "result", "free the day", "between stations")
VISITORS = "the visitors"


@contextmanager
def _timed(owner: Any, name: str, into: dict[str, float], step: str) -> Iterator[None]:
    """While inside: ``owner.name`` adds its CPU seconds to ``into[step]``."""
    original = getattr(owner, name)

    def timed(*args, **kwargs):
        c0 = time.process_time()
        try:
            return original(*args, **kwargs)
        finally:
            into[step] += time.process_time() - c0

    setattr(owner, name, timed)
    try:
        yield
    finally:
        setattr(owner, name, original)


def station_fixed_cost(stations: list[str], election: str = "cambodia-2022-national",
                       seed: int = 1) -> dict[str, Any]:
    """CPU seconds per step (``STEPS`` and ``VISITORS``), ``stations``, ``ballots``, ``cpu``
    (the whole batch), ``fixed`` (all steps but the visitors)."""
    import sim.day.station as day_module
    import sim.national.station_run as station_run
    from device.station.controller import StationController

    national = station_run.worker_election(election)
    task = {"election": national.name, "election_hash": national.election.hash, "seed": seed,
            "faults": "none"}
    station_run.run_batch({**task, "stations": stations[:1], "seed": seed + 1})  # warm-up
    spent: dict[str, float] = defaultdict(float)
    with _timed(day_module, "plan_station_day", spent, "plan the day"), \
            _timed(station_run, "build_station_day", spent, "build"), \
            _timed(StationController, "open", spent, "open"), \
            _timed(StationController, "close", spent, "close"), \
            _timed(station_run, "_result", spent, "result"), \
            _timed(station_run, "_let_go", spent, "free the day"), \
            _timed(station_run, "run_station", spent, "station"):
        c0 = time.process_time()
        results = station_run.run_batch({**task, "stations": stations})
        cpu = time.process_time() - c0
    steps = {step: spent[step] for step in STEPS}
    steps["build the unit"] = spent["build"] - spent["plan the day"]
    steps["between stations"] = cpu - spent["station"]
    steps[VISITORS] = spent["station"] - sum(v for k, v in steps.items() if k != "between stations")
    return {"steps": steps, "stations": len(stations), "cpu": cpu,
            "ballots": sum(r.get("ballots_cast", 0) for r in results),
            "fixed": cpu - steps[VISITORS]}


def describe(cost: dict[str, Any]) -> list[str]:
    """The bench's lines: each step in ms per station and µs per ballot."""
    n, ballots = cost["stations"], max(1, cost["ballots"])
    lines = [f"per-station fixed cost ({n} Cambodian station days, {ballots / n:.0f} ballots each on "
             f"average): {cost['fixed'] / n * 1e3:.2f} ms CPU per station = {cost['fixed'] / ballots * 1e6:.1f} us "
             f"per ballot of {cost['cpu'] / ballots * 1e6:.1f} us all in"]
    for step, seconds in cost["steps"].items():
        lines.append(f"  {step:18s} {seconds / n * 1e3:7.3f} ms per station  {seconds / ballots * 1e6:6.2f} us per ballot")
    return lines
