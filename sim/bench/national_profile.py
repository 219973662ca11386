"""Where a national run's time goes: a cProfile of Cambodian station days, by category.

``profile_stations(stations)`` plays the stations as a worker does (``run_batch``) under
cProfile and sorts every function's own time (``tottime``) into a category by where its code
lives (``CATEGORIES``: first match wins): the firmware's controller logic, the simulated voters
and paper, the tally and aggregation, process start-up and pickling, and the rest (Python's
own library). Start-up and pickling happen outside a worker's station loop, so
``transport_seconds`` measures them apart: starting a process pool and generating the
election in each worker, and pickling a batch's results to the parent and back; so does
``aggregation_seconds`` for the parent's share of the tally (the national document).
"""
from __future__ import annotations

import cProfile
import pickle
import pstats
import signal
import sys
import time
from dataclasses import dataclass

# (category, path fragments): a function belongs to the first category one of whose fragments
# is in its file name
CATEGORIES = (
    ("tally/aggregation", ("device/results/", "sim/national/aggregation", "sim/national/invariants")),
    ("controller logic", ("device/station/", "device/store/", "device/ballots/", "device/election/",
                          "device/i18n", "device/cli/", "hardware/", "transitions/", "cryptography/",
                          "orjson", "hashlib", "_hashlib", "_sha2")),
    ("simulated voters/paper", ("sim/",)),
    ("process start-up/pickling", ("pickle", "multiprocessing/", "concurrent/", "importlib", "<frozen")),
)
OTHER = "Python library/other"


def category(filename: str) -> str:
    for name, fragments in CATEGORIES:
        if any(f in filename for f in fragments):
            return name
    return OTHER


@dataclass
class StationProfile:
    ballots: int
    cpu_seconds: float  # without the profiler
    profiled_seconds: float  # under cProfile (its per-call cost inflates small functions)
    by_category: dict[str, float]  # share of the CPU time, from the sampler
    top: list[tuple[str, str, float, int]]  # category, function, own seconds, calls (cProfile)


def _responsible(frame) -> str:
    """The category of the innermost frame that is ours or a library we name (Python's own
    library counts for whoever called it)."""
    while frame is not None:
        cat = category(frame.f_code.co_filename)
        if cat != OTHER:
            return cat
        frame = frame.f_back
    return OTHER


class Sampler:
    """A statistical profiler: every ``interval`` s of CPU time (``ITIMER_PROF``), count the
    category responsible for the running code. Unlike cProfile it does not inflate small calls."""

    def __init__(self, interval: float = 0.001):
        self.interval, self.counts = interval, {}

    def _tick(self, signum, frame) -> None:
        cat = _responsible(frame)
        self.counts[cat] = self.counts.get(cat, 0) + 1

    def __enter__(self) -> Sampler:
        self._old = signal.signal(signal.SIGPROF, self._tick)
        signal.setitimer(signal.ITIMER_PROF, self.interval, self.interval)
        return self

    def __exit__(self, *exc) -> None:
        signal.setitimer(signal.ITIMER_PROF, 0, 0)
        signal.signal(signal.SIGPROF, self._old)

    def shares(self) -> dict[str, float]:
        total = sum(self.counts.values()) or 1
        return {k: n / total for k, n in sorted(self.counts.items(), key=lambda kv: -kv[1])}


def profile_stations(stations: list[str], seed: int = 1) -> StationProfile:
    from sim.national.station_run import run_batch, worker_election

    national = worker_election("cambodia-2022-national")
    task = {"election": national.name, "election_hash": national.election.hash, "seed": seed,
            "faults": "none", "stations": stations}
    run_batch({**task, "stations": stations[:1]})  # warm-up: imports, caches
    c0 = time.process_time()
    with Sampler() as sampler:
        results = run_batch(task)
    cpu = time.process_time() - c0
    profiler = cProfile.Profile(time.process_time)
    c0 = time.process_time()
    profiler.enable()
    run_batch(task)
    profiler.disable()
    profiled = time.process_time() - c0
    stats = pstats.Stats(profiler)
    rows = []
    for (filename, line, func), (_, calls, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        short = filename.split("site-packages/")[-1].split(str(sys.path[0]) + "/")[-1]
        rows.append((category(filename), f"{short}:{line} {func}", tottime, calls))
    rows.sort(key=lambda r: -r[2])
    return StationProfile(sum(r["ballots_cast"] for r in results), cpu, profiled, sampler.shares(), rows[:10])


def transport_seconds(stations: list[str], workers: int = 2) -> tuple[float, float, int, list[dict]]:
    """Wall seconds to start a pool of ``workers`` with the election generated in each; CPU
    seconds to pickle and unpickle the results of ``stations`` (one batch); its bytes; the results."""
    from sim.national.executors import PoolExecutor, _warm_worker
    from sim.national.station_run import run_batch, worker_election

    national = worker_election("cambodia-2022-national")
    t0 = time.perf_counter()
    pool = PoolExecutor(workers)
    for f in [pool.pool.submit(_warm_worker, national.name) for _ in range(workers)]:
        f.result()
    start = time.perf_counter() - t0
    pool.close()
    results = run_batch({"election": national.name, "election_hash": national.election.hash, "seed": 1,
                         "faults": "none", "stations": stations})
    c0 = time.process_time()
    data = pickle.dumps(results, protocol=pickle.HIGHEST_PROTOCOL)
    pickle.loads(data)
    return start, time.process_time() - c0, len(data), results


def aggregation_seconds(results: list[dict], seed: int = 1) -> float:
    """CPU seconds the parent spends on ``results``: adding them to the national tally and
    writing the national document with its checks and invariants (``runner.checked_document``)."""
    from sim.national.aggregation import NationalTally
    from sim.national.runner import checked_document
    from sim.national.station_run import worker_election

    national = worker_election("cambodia-2022-national")
    c0 = time.process_time()
    tally = NationalTally(national, seed, "none", [r["station"] for r in results])
    for r in results:
        tally.add(r)
    checked_document(tally, interrupted=False)
    return time.process_time() - c0
