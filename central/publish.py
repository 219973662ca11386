"""The static results site: versioned JSON and HTML regenerated in batches, servable by anything.

``Publisher.publish()`` writes, for what changed since the last version (never the whole country
per upload): each changed station (``stations/ID.html``, ``.json`` — which holds the accepted
signed message(s) — and ``.csv``), each changed district
(``districts/ID.html``, ``.json``), each changed province (``provinces/NAME.html``, ``.json``:
its districts), the nation (``index.html``, ``index.json``: a summary by province), the public
lists (``conflicts.*``, ``refusals.*``), the national NIST SP 1500-100 file
(``nist/results.json``, at most every ``nist_interval`` seconds, and always once the count is
complete) and last ``version.json`` (``{"version", "updated_at", ...}``), which pages poll.
Every file is written to a temporary name and renamed, so a static server never serves half
a file; every JSON document carries the version it belongs to.

In the service, ``run()`` waits for the ingest's signal and publishes at most one version per
``min_interval`` seconds; uploads that arrive meanwhile go into the next one (batching). The
service renders and writes in a worker process (``render_process``), so ingestion keeps one
core's event loop to itself.
"""
from __future__ import annotations

import asyncio
import contextlib
import ctypes
import multiprocessing
import os
import signal
import time
from concurrent.futures import ProcessPoolExecutor
from importlib import resources
from pathlib import Path
from typing import Any, Callable, Iterator

import orjson

from device.election.definition import Election
from central import pages
from central.nist_national import national_results
from central.tally import COMPLETE, CentralTally

STATIC_FILES = ("live.js", "verify.js", "style.css")
TEST_NOTICE = "TEST RESULTS — not an election"
STAMP_KEYS = ("version", "updated_at", "results", "notice")  # what every document carries


def marking(served) -> dict[str, str]:
    """What every page and JSON document says about the kind of results: live results of a live
    package, or test results (a test service, or a test or simulation package) with the notice."""
    if served.mode == "live" and served.package_mode == "live":
        return {"results": "live"}
    return {"results": "test", "notice": TEST_NOTICE}
RENDER_CHUNK = 32  # stations rendered between two yields to the event loop


def write_atomic(path: Path, data: bytes | str) -> bool:
    """Write ``path`` through a temporary name and a rename, unless it already holds ``data``
    (an unchanged file keeps its time: a restart rewrites nothing). Whether it was written."""
    if isinstance(data, str):
        data = data.encode("utf-8")
    try:
        if path.stat().st_size == len(data) and path.read_bytes() == data:
            return False
    except OSError:
        pass
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)
    return True


def dump(doc: Any) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS)


class Publisher:
    def __init__(self, tally: CentralTally, ingest, public_dir: Path, clock: Callable[[], float],
                 nist_interval: float = 5.0, min_interval: float = 0.5, render_process: bool = False):
        self.tally, self.ingest, self.dir, self.clock = tally, ingest, Path(public_dir), clock
        self.render_process = render_process
        self.nist_interval, self.min_interval = nist_interval, min_interval
        self.version = 0
        self.regenerated = {"stations": 0, "districts": 0, "versions": 0}
        self.timing = {"snapshot_s": 0.0, "render_s": 0.0, "write_s": 0.0}  # for the bench
        self._nist_at: float | None = None
        self._lists_written: int | None = None
        self._district_docs: dict[str, dict] = {}
        self._event = asyncio.Event()  # set by the ingest: something to publish (kept until run)
        self.marking = marking(tally.served)

    def prepare(self) -> None:
        """The folders and the static files: written only by the process that publishes."""
        for sub in ("stations", "districts", "provinces", "nist"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        for name in STATIC_FILES:
            write_atomic(self.dir / name, (resources.files("central") / "static" / name).read_bytes())

    # --- one version ------------------------------------------------------------------------

    def publish(self, everything: bool = False, nist: bool = False) -> int:
        """Write what changed (``everything``: every district and reported station, as at
        start-up; ``nist``: the national NIST file whatever its interval). Returns the version."""
        stations, districts = self.tally.take_dirty()
        if everything:
            stations |= set(self.tally.stations) | {c["station"] for c in self.ingest.conflicts}
            districts |= set(self.tally.election.districts)
        self.write(self.render(self.snapshot(stations, districts, nist or everything)))
        return self.version

    def snapshot(self, stations: set[str], districts: set[str], nist: bool = False) -> dict[str, Any]:
        """The documents of the next version (plain data, safe to render in another thread).

        Each document carries the version and time of the last decision that changed it (the
        journal's sequence number: ``Ingest.stamps``), so rendering the same store again gives
        the same bytes."""
        ing = self.ingest
        stamp = self._stamp("national")
        self.version = stamp["version"]
        for d in districts:
            self._district_docs[d] = {**self.tally.district_doc(d), **self._stamp(f"district:{d}")}
        provinces = sorted({self.tally.province_of[d] for d in districts if d in self.tally.province_of})
        counts = {"conflicts": len(ing.conflicts), "refusals": ing.refusal_total}
        nat = {**self.tally.national_doc(), **stamp, **counts, "service": self.tally.served.to_json()}
        now = time.monotonic()
        nist = nist or nat["status"] == COMPLETE or self._nist_at is None or \
            now - self._nist_at >= self.nist_interval
        if nist:
            self._nist_at = now
        lists = None  # the conflicts and refusals lists, when they changed since the last version
        lists_stamp = self._stamp("lists")
        if lists_stamp["version"] != self._lists_written:
            self._lists_written = lists_stamp["version"]
            lists = {"stamp": lists_stamp, "conflicts": list(ing.conflicts), "refusals": list(ing.refusals),
                     "refusal_counts": dict(sorted(ing.refusal_counts.items()))}
        self.regenerated["stations"] += len(stations)
        self.regenerated["districts"] += len(districts)
        self.regenerated["versions"] += 1
        return {"stamp": stamp, "national": nat, "meta": {**stamp, **counts},
                "provinces": [{**self.tally.province_doc(p), **self._stamp(f"province:{p}")} for p in provinces],
                "stations": [{**self.tally.station_doc(sid), **self._stamp(f"station:{sid}"),
                              "conflicts": [c for c in ing.conflicts if c["station"] == sid]}
                             for sid in sorted(stations)],
                "districts": [self._district_docs[d] for d in sorted(districts)],
                "all_districts": dict(self._district_docs) if nist else None,
                "lists": lists}

    def _stamp(self, scope: str) -> dict[str, Any]:
        return {**self.ingest.stamp(scope), **self.marking}

    def render(self, snap: dict[str, Any]) -> list[tuple[str, Any]]:
        """(relative path, bytes or text) of every file of a snapshot; ``version.json`` last."""
        return [job for part in render_parts(snap, self.tally.election) for job in part]

    def write(self, jobs: list[tuple[str, Any]]) -> None:
        write_all(self.dir, jobs)

    def _write_timed(self, jobs: list[tuple[str, Any]]) -> None:
        t0 = time.monotonic()
        self.write(jobs)
        self.timing["write_s"] += time.monotonic() - t0

    # --- in the service ---------------------------------------------------------------------

    def notify(self) -> None:
        self._event.set()

    async def run(self) -> None:
        """Publish after each change, at most one version per ``min_interval`` seconds.

        The snapshot is taken here, on the event loop that owns the tally. With
        ``render_process`` (the service), rendering and writing run in one worker process, so
        the loop only ingests and the page work uses the other core; otherwise (tests) the
        rendering runs here a few stations at a time with a yield between parts and the writing
        in a thread (a rendering *thread* would hold the GIL against the loop's sockets)."""
        loop = asyncio.get_running_loop()
        pool = None
        if self.render_process:
            pool = ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn"),
                                       initializer=_init_worker, initargs=(self.tally.election,))
        try:
            while True:
                await self._event.wait()
                started = time.monotonic()
                self._event.clear()
                snap = self.snapshot(*self.tally.take_dirty())
                t0 = time.monotonic()
                self.timing["snapshot_s"] += t0 - started
                if pool is not None:
                    render_s, write_s = await loop.run_in_executor(pool, render_and_write, str(self.dir), snap)
                    self.timing["render_s"] += render_s
                    self.timing["write_s"] += write_s
                else:
                    jobs: list[tuple[str, Any]] = []
                    for part in render_parts(snap, self.tally.election):
                        jobs += part
                        await asyncio.sleep(0)
                    self.timing["render_s"] += time.monotonic() - t0
                    await asyncio.to_thread(self._write_timed, jobs)
                rest = self.min_interval - (time.monotonic() - started)
                if rest > 0:
                    await asyncio.sleep(rest)
        finally:
            if pool is not None:
                pool.shutdown(wait=True)  # a version being written ends before the last one


# --- rendering (also in the worker process) ---------------------------------------------------

def render_parts(snap: dict[str, Any], election: Election) -> Iterator[list[tuple[str, Any]]]:
    """The files of a snapshot, a few stations at a time; ``version.json`` last."""
    stamp, meta, nat = snap["stamp"], snap["meta"], snap["national"]
    for i in range(0, len(snap["stations"]), RENDER_CHUNK):
        jobs = []
        for doc in snap["stations"][i:i + RENDER_CHUNK]:
            s = pages.slug(doc["id"])
            jobs += [(f"stations/{s}.json", dump(doc)), (f"stations/{s}.html", pages.station_page(doc, own_stamp(doc))),
                     (f"stations/{s}.csv", pages.station_csv(doc))]
        yield jobs
    for i in range(0, len(snap["districts"]), RENDER_CHUNK):
        jobs = []
        for doc in snap["districts"][i:i + RENDER_CHUNK]:
            s = pages.slug(doc["id"])
            jobs += [(f"districts/{s}.json", dump(doc)), (f"districts/{s}.html", pages.district_page(doc, own_stamp(doc)))]
        yield jobs
    jobs = [(f"provinces/{pages.province_file(doc['id'])}.{ext}", out) for doc in snap["provinces"]
            for ext, out in (("json", dump(doc)), ("html", pages.province_page(doc, own_stamp(doc))))]
    jobs += [("index.json", dump(nat)), ("index.html", pages.national_page(nat, meta))]
    if snap["lists"] is not None:
        jobs += list_files(snap["lists"], meta)
    yield jobs
    if snap["all_districts"] is not None and stamp["updated_at"] is not None:  # once there is news
        yield [("nist/results.json", dump(national_results(election, nat, snap["all_districts"], stamp["updated_at"],
                                                           nat["service"]["package_mode"])))]
    yield [("version.json", dump({**stamp, "stations_reporting": nat["stations_reporting"],
                                  "stations_total": nat["stations_total"], "status": nat["status"]}))]


def own_stamp(doc: dict[str, Any]) -> dict[str, Any]:
    return {k: doc[k] for k in STAMP_KEYS if k in doc}


def list_files(lists: dict[str, Any], meta: dict) -> list[tuple[str, Any]]:
    """``conflicts.*`` (every conflict: a unit key signed each) and ``refusals.*`` (the counts
    by code and the latest few: bounded whatever a flood sends)."""
    conflicts, latest, by_code = lists["conflicts"], lists["refusals"], lists["refusal_counts"]
    stamp = lists["stamp"]
    meta = {**meta, **stamp}
    total = sum(by_code.values())
    listed = [{k: v for k, v in c.items() if k != "signed"} | {"code": "conflict"} for c in conflicts]
    return [("conflicts.json", dump({**stamp, "conflicts": conflicts})),
            ("conflicts.html", pages.list_page("Conflicting results (not counted)", "conflicts",
                                               listed, meta, len(listed))),
            ("refusals.json", dump({**stamp, "total": total, "by_code": by_code, "latest": latest})),
            ("refusals.html", pages.list_page("Refused uploads", "refusals", latest, meta, total,
                                              by_code))]


def write_all(public_dir: Path, jobs: list[tuple[str, Any]]) -> None:
    for rel, data in jobs:
        write_atomic(public_dir / rel, data)


_worker_election: Election | None = None


PR_SET_PDEATHSIG = 1  # prctl(2): the signal a process gets when its parent dies


def _init_worker(election: Election) -> None:
    """In the worker: the election, and the worker ends with its service, however the service
    ends (a ``kill -9`` of the service would otherwise leave it running, orphaned)."""
    global _worker_election
    _worker_election = election
    with contextlib.suppress(OSError, AttributeError):  # Linux; elsewhere the pool's own cleanup
        ctypes.CDLL(None, use_errno=True).prctl(PR_SET_PDEATHSIG, signal.SIGTERM)
    if os.getppid() == 1:  # the service died before the line above
        os._exit(0)


def render_and_write(public_dir: str, snap: dict[str, Any]) -> tuple[float, float]:
    """In the worker process: render and write one version; (render, write) seconds."""
    t0 = time.monotonic()
    assert _worker_election is not None  # set by the worker's initializer before any job
    jobs = [job for part in render_parts(snap, _worker_election) for job in part]
    t1 = time.monotonic()
    write_all(Path(public_dir), jobs)
    return t1 - t0, time.monotonic() - t1
