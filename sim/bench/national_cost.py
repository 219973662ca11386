"""The cost of a national run per ballot, counted instead of timed (issue 23 §3).

Time on a shared machine varies ±25 % run to run; counts do not. Two counts, both over the same
seeded Cambodian station days as a worker plays them (``run_station``):

- ``calls_per_ballot(stations)``: Python function calls per ballot cast, by where the called
  code lives (the firmware's ``device/``, ``transitions``, the simulator's ``sim/``, the rest),
  from cProfile's call counts. Deterministic for a seed, and quick: a test bounds it.
- ``instructions_per_ballot(stations)``: CPU instructions per ballot under valgrind's
  cachegrind, the station days' own (a run of ``stations`` less a run of none, so start-up and
  generating the election cancel out). Stable to a fraction of a percent, but each run takes a
  minute or two under valgrind. SHA-256 runs without the SHA extensions under valgrind, so its
  share is larger there than on the machine (~10k instructions per journal record).

``python -m sim.bench.national_cost [STATIONS]`` prints both.
"""
from __future__ import annotations

import cProfile
import gc
import re
import shutil
import subprocess
import sys
from collections import Counter

ELECTION = "cambodia-2022-national"
WHERE = (("firmware (device/)", "/device/"), ("transitions", "/transitions/"), ("simulator (sim/)", "/sim/"))


def _batch(stations: list[str], seed: int) -> int:
    """Play ``stations`` as a worker does (``run_batch``); the ballots cast."""
    from sim.national.station_run import run_batch, worker_election

    national = worker_election(ELECTION)
    task = {"election": national.name, "election_hash": national.election.hash, "seed": seed,
            "faults": "none", "stations": stations}
    return sum(r["ballots_cast"] for r in run_batch(task))


def _warm_up() -> None:
    """Generate the election and play one station day (imports, caches) before counting."""
    from sim.national.station_run import worker_election

    _batch(worker_election(ELECTION).station_ids[:1], 0)


def _play(stations: int, seed: int = 1) -> int:
    """Play the ``stations`` station days after the warm-up's; the ballots cast."""
    from sim.national.station_run import worker_election

    return _batch(worker_election(ELECTION).station_ids[1:1 + stations], seed)


def _where(filename: str) -> str:
    return next((name for name, fragment in WHERE if fragment in filename), "other")


def calls_per_ballot(stations: int = 5) -> dict[str, float]:
    """Python function calls per ballot by where the called code lives (C functions count for
    their caller's place), and ``all``."""
    _warm_up()
    gc.collect()  # what earlier work left (a test's ptys, threads) is finalised now, not counted
    profiler = cProfile.Profile()
    profiler.enable()
    ballots = _play(stations)
    profiler.disable()
    counts: Counter[str] = Counter()
    # counted per code object (cProfile's raw entries): pstats keys functions by file, line and
    # name, and the generated __init__ of every dataclass is "<string>", line 2, "__init__" —
    # they overwrote each other there, in an order that depended on what ran before
    for entry in profiler.getstats():
        code = entry.code
        place = "other" if isinstance(code, str) else _where(code.co_filename)
        if not isinstance(code, str):
            counts[place] += entry.callcount
        for sub in entry.calls or ():
            if isinstance(sub.code, str):  # a C function: counted where it was called from
                counts[place] += sub.callcount
    out = {name: counts[name] / ballots for name, _ in WHERE}
    out["other"] = counts["other"] / ballots
    out["all"] = sum(counts.values()) / ballots
    return out


def _instructions(stations: int) -> tuple[int, int]:
    """(instructions, ballots) of this module's ``_play(stations)`` in a fresh interpreter under
    cachegrind."""
    proc = subprocess.run(
        ["valgrind", "--tool=cachegrind", "--cache-sim=no", "--cachegrind-out-file=/dev/null",
         sys.executable, "-m", "sim.bench.national_cost", "--play", str(stations)],
        capture_output=True, text=True, check=True)
    refs = re.search(r"I\s+refs:\s+([\d,]+)", proc.stderr)
    ballots = re.search(r"^ballots (\d+)$", proc.stdout, re.M)
    if refs is None or ballots is None:
        raise RuntimeError(f"cachegrind gave no count: {proc.stderr[-500:]}")
    return int(refs.group(1).replace(",", "")), int(ballots.group(1))


def instructions_per_ballot(stations: int = 15) -> float:
    """CPU instructions per ballot of ``stations`` station days (valgrind must be installed)."""
    if shutil.which("valgrind") is None:
        raise RuntimeError("valgrind is not installed (apt-get install valgrind)")
    base, _ = _instructions(0)
    total, ballots = _instructions(stations)
    return (total - base) / ballots


def main(argv: list[str]) -> None:
    if argv[:1] == ["--play"]:  # the child run under cachegrind
        _warm_up()
        print(f"ballots {_play(int(argv[1]))}")
        return
    stations = int(argv[0]) if argv else 15
    calls = calls_per_ballot(min(stations, 5))
    print("Python calls per ballot: " + ", ".join(f"{k} {v:.1f}" for k, v in calls.items()))
    print(f"instructions per ballot (cachegrind, {stations} Cambodian stations): "
          f"{instructions_per_ballot(stations):,.0f}")


if __name__ == "__main__":
    main(sys.argv[1:])
