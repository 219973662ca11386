"""Benchmark: the durable store — cast transactions per second and the journal's share of a ballot.

1. ``cast_ballot`` alone (one transaction: cast vote record + ``ballot_cast`` journal row),
   with ``synchronous=FULL`` (the device) and with the simulation setting
   (``synchronous=OFF``), each on one file and with the mirror (a second file in a second
   folder, written in the same transaction): median and p95 per transaction, and transactions
   per second.
2. Whole logical-fidelity station days through the real controller on each store: the time
   spent inside the store's methods as a share of the time per ballot (every transition is a
   journal write, so this is the price of write-ahead journaling).
"""
from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

from device.ballots.records import CastVoteRecord
from device.election.definition import load_election
from device.store.sqlite import DURABILITY, SqliteStore
from device.store.journal import MemoryStore
from sim.day.station import run_station_day
from sim.day.voters import load_scenario


def _p95(xs: list[float]) -> float:
    return sorted(xs)[int(0.95 * (len(xs) - 1))]


def _store(cls, tmp: str, durability: str, mirror: bool):
    if not mirror:
        return cls(Path(tmp) / "u.db", durability=durability)
    (Path(tmp) / "card").mkdir()
    return cls(Path(tmp) / "u.db", durability=durability, mirror=Path(tmp) / "card" / "m.db")


def cast_transactions(durability: str, n: int, mirror: bool = False) -> list[float]:
    rng = random.Random(1)
    with tempfile.TemporaryDirectory() as tmp:
        store = _store(SqliteStore, tmp, durability, mirror)
        times = []
        for i in range(n):
            cvr = CastVoteRecord(f"{rng.getrandbits(128):032x}", "s", {"mayor": (("a",), "valid")})
            t0 = time.perf_counter()
            store.cast_ballot(cvr, {"compartment": "box"}, float(i))
            times.append(time.perf_counter() - t0)
        store.close()
    return times


def _timed(cls):
    class Timed(cls):
        spent = 0.0

        def append_event(self, *a, **k):
            t0 = time.perf_counter()
            try:
                return super().append_event(*a, **k)
            finally:
                Timed.spent += time.perf_counter() - t0

        def cast_ballot(self, *a, **k):
            t0 = time.perf_counter()
            try:
                return super().cast_ballot(*a, **k)
            finally:
                Timed.spent += time.perf_counter() - t0
    return Timed


def journal_share(kind: str, voters: int, reps: int) -> tuple[float, float]:
    """(ms per ballot, share of it spent in the store) over ``reps`` station days."""
    e = load_election("demo")
    scenario = load_scenario(None, e, "demo")
    per_ballot, shares = [], []
    for rep in range(reps):
        with tempfile.TemporaryDirectory() as tmp:
            if kind == "memory":
                cls = _timed(MemoryStore)
                store = cls()
            else:
                cls = _timed(SqliteStore)
                store = _store(cls, tmp, kind.removesuffix("+mirror"), kind.endswith("+mirror"))
            t0 = time.perf_counter()
            day = run_station_day(e, None, registered=voters, seed=rep, scenario=scenario, store=store)
            total = time.perf_counter() - t0
            ballots = max(1, day.controller.counters.cast)
            per_ballot.append(total / ballots * 1e3)
            shares.append(cls.spent / total)
            store.close()
    return statistics.median(per_ballot), statistics.median(shares)


def main(quick: bool) -> None:
    print("## store (SQLite journal + cast vote records)")
    n_full, n_sim = (200, 1000) if quick else (1000, 5000)
    for durability, n in (("full", n_full), ("simulation", n_sim)):
        for mirror in (False, True):
            t = cast_transactions(durability, n, mirror)
            med = statistics.median(t)
            print(f"cast_ballot, durability={durability:<10} (synchronous={DURABILITY[durability]}), "
                  f"{'with mirror' if mirror else 'one file   '}: median {med * 1e3:.3f} ms, "
                  f"p95 {_p95(t) * 1e3:.3f} ms, {1 / med:,.0f} transactions/s (n={n})")
    voters, reps = (150, 3) if quick else (400, 5)
    for kind in ("memory", "simulation", "full", "full+mirror"):
        ms, share = journal_share(kind, voters, reps)
        print(f"station day, store={kind:<11}: {ms:.2f} ms per ballot (median of {reps} days), "
              f"store share {share * 100:.0f} %")
