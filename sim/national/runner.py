"""A whole national election through the real firmware: select, batch, run, aggregate.

``run_national`` picks the stations (all; the first N; or a seeded sample of whole districts),
packs them into batches (``make_batches``: consecutive stations cut at district boundaries,
about 24 batches per worker, ``MAX_BATCH`` stations at most), hands the
batches to an executor (``executors.py``: inline, process pool, Dask) and adds every station's
result into a ``NationalTally`` as it comes back. It returns a ``NationalRun``: the national
document (``aggregation.py``), the per-station results, the timings, and whether the run was
interrupted (Ctrl-C: the executor is closed, the stations done so far are kept and counted).

Hooks: ``on_station_done(station_result)`` is called in the calling process once per station,
as results arrive (any order), with the station's ``StationResult`` dict (``station_run.py``:
the station id, district, the device's tally per contest, the intent tally, reconciliation
figures and faults). A central-tally uploader (``--central URL``) plugs in here: it can sign
and send each station's results as they come. ``on_progress(stations_done, ballots_done)`` is
called once per batch; ``on_start(stations)`` once, as the stations start (a Ctrl-C from then
on ends the run as interrupted, with what was done).
"""
from __future__ import annotations

import random
import time
from dataclasses import dataclass, field
from typing import Callable

from sim.national.aggregation import NationalTally
from sim.national.generator import NationalElection
from sim.national.invariants import INVARIANTS, check_invariants
from sim.national.station_run import fault_profiles

MAX_BATCH = 300  # stations per batch at most: a batch that reaches it is cut, even inside a district
TAIL_BATCHES_PER_WORKER, TAIL_PIECES = 2, 8  # the run's last batches, cut smaller (make_batches)


class NationalRunError(ValueError):
    """Bad options for a national run (the message says which)."""


@dataclass
class NationalRun:
    document: dict
    tally: NationalTally
    interrupted: bool
    seconds: float
    executor: str
    workers: int
    batches: int
    stations: list[str] = field(default_factory=list)


def select_stations(national: NationalElection, seed: int, stations: int | None = None,
                    sample: float | None = None) -> list[str]:
    ids = national.station_ids
    if stations is not None and sample is not None:
        raise NationalRunError("give --stations or --sample, not both")
    if stations is not None:
        if not 1 <= stations <= len(ids):
            raise NationalRunError(f"--stations must be between 1 and {len(ids)} (got {stations})")
        return ids[:stations]
    if sample is not None:
        if not 0 < sample <= 1:
            raise NationalRunError(f"--sample must be a fraction in (0, 1] (got {sample})")
        districts = list(national.stations_of)
        k = max(1, round(len(districts) * sample))
        chosen = set(random.Random(f"{seed}|sample").sample(districts, k))
        return [s for d in districts if d in chosen for s in national.stations_of[d]]
    return ids


def make_batches(national: NationalElection, station_ids: list[str], workers: int) -> list[list[str]]:
    """Consecutive stations, cut at district boundaries, each batch <= ``size`` stations (about 24
    batches per worker); the heaviest batches (registered voters) first, and the last two batches
    a worker's worth cut in eight pieces each, so that the last batches to finish are small and no
    worker idles long at the end (a station's result does not depend on its batch)."""
    size = max(1, min(MAX_BATCH, len(station_ids) // max(1, 24 * workers)))
    elections = national.election.stations
    batches: list[list[str]] = [[]]
    last = None
    for sid in station_ids:
        district = elections[sid].district
        if batches[-1] and ((district != last and len(batches[-1]) >= size) or len(batches[-1]) >= MAX_BATCH):
            batches.append([])
        batches[-1].append(sid)
        last = district
    registered = national.registered

    def weight(batch: list[str]) -> int:
        return -sum(registered[s] for s in batch)

    ordered = sorted((b for b in batches if b), key=weight)
    # the last TAIL_BATCHES_PER_WORKER batches a worker, cut in TAIL_PIECES: the run ends when the last
    # batch does, and a whole one (~4 s of CPU on Cambodia) left one worker idle for up to its length
    tail = TAIL_BATCHES_PER_WORKER * max(1, workers)
    if len(ordered) <= tail:
        return ordered
    pieces = [b[i:i + step] for b in ordered[-tail:] for step in [-(-len(b) // TAIL_PIECES)]
              for i in range(0, len(b), step)]
    return ordered[:-tail] + sorted(pieces, key=weight)


def run_national(national: NationalElection, seed: int, executor, *, stations: int | None = None,
                 sample: float | None = None, faults: str = "none", biometric: bool = False,
                 on_station_done: Callable[[dict], None] | None = None,
                 on_progress: Callable[[int, int], None] | None = None,
                 on_start: Callable[[int], None] | None = None) -> NationalRun:
    if faults not in fault_profiles():
        raise NationalRunError(f"unknown fault profile {faults!r} (profiles: {', '.join(fault_profiles())})")
    selected = select_stations(national, seed, stations, sample)
    batches = make_batches(national, selected, executor.workers)
    tasks = [{"election": national.name, "election_hash": national.election.hash, "seed": seed,
              "faults": faults, "stations": b, **({"biometric": True} if biometric else {})}
             for b in batches]
    tally = NationalTally(national, seed, faults, selected)
    interrupted = False
    t0 = time.perf_counter()
    try:
        if on_start is not None:  # from here on, Ctrl-C or a stop gives an interrupted run
            on_start(len(selected))
        for results in executor.map(tasks):
            for r in results:
                tally.add(r)
                if on_station_done is not None:
                    on_station_done(r)
            if on_progress is not None:
                on_progress(tally.done, tally.ballots)
    except KeyboardInterrupt:
        interrupted = True
    finally:
        executor.close(interrupted)
    seconds = time.perf_counter() - t0
    return NationalRun(checked_document(tally, interrupted), tally, interrupted, seconds, executor.name,
                       executor.workers, len(batches), selected)


def checked_document(tally: NationalTally, interrupted: bool) -> dict:
    """The national document with the invariants checked (``invariants.py``) and the run's status
    at the top: ``run.status`` is ``complete`` or ``interrupted``, and ``run.verdict`` says
    MATCHES INTENT only for a complete run whose checks and invariants all hold."""
    document = tally.document()
    violations = check_invariants(tally.national, document, tally.stations)
    document["checks"]["invariants"] = {"checked": list(INVARIANTS), "violations": violations}
    document["matches_intent"] = document["matches_intent"] and not violations
    done, asked = len(tally.stations), len(tally.expected)
    if interrupted or done < asked:
        verdict = (f"INTERRUPTED after {done:,} of {asked:,} stations: no verdict on the stations not run; "
                   + ("the stations run match intent" if document["matches_intent"] else
                      "the stations run DO NOT MATCH INTENT"))
    else:
        verdict = "MATCHES INTENT" if document["matches_intent"] else "DOES NOT MATCH INTENT"
    run = {"status": "interrupted" if interrupted or done < asked else "complete",
           "stations_asked": asked, "stations_done": done, "verdict": verdict}
    return {"run": run, **document}
