"""The static results site: versioned JSON and HTML regenerated in batches, servable by anything.

``Publisher.publish()`` writes, for what changed since the last version (never the whole country
per upload): each changed station (``stations/ID.html``, ``.json``, ``.csv`` and
``api/stations/ID.json`` = the accepted signed message), each changed district
(``districts/ID.html``, ``.json``), the nation (``index.html``, ``index.json``), the public
lists (``conflicts.*``, ``refusals.*``), the national NIST SP 1500-100 file
(``nist/results.json``, at most every ``nist_interval`` seconds, and always once the count is
complete) and last ``version.json`` (``{"version", "updated_at", ...}``), which pages poll.
Every file is written to a temporary name and renamed, so a static server never serves half
a file; every JSON document carries the version it belongs to.

In the service, ``run()`` waits for the ingest's signal and publishes; uploads that arrive
while a version is being written go into the next one (batching comes from that).
"""
from __future__ import annotations

import asyncio
import os
import shutil
import time
from importlib import resources
from pathlib import Path
from typing import Any, Callable

import orjson

from central import pages
from central.nist_national import national_results
from central.tally import COMPLETE, CentralTally

STATIC_FILES = ("live.js", "verify.js", "style.css")


def write_atomic(path: Path, data: bytes | str) -> None:
    if isinstance(data, str):
        data = data.encode("utf-8")
    tmp = path.with_name(f".{path.name}.tmp")
    with open(tmp, "wb") as f:
        f.write(data)
    os.replace(tmp, path)


def dump(doc: Any) -> bytes:
    return orjson.dumps(doc, option=orjson.OPT_INDENT_2)


class Publisher:
    def __init__(self, tally: CentralTally, ingest, public_dir: Path, clock: Callable[[], float],
                 nist_interval: float = 5.0):
        self.tally, self.ingest, self.dir, self.clock = tally, ingest, Path(public_dir), clock
        self.nist_interval = nist_interval
        self.version = 0
        self.regenerated = {"stations": 0, "districts": 0, "versions": 0}
        self._nist_at: float | None = None
        self._event: asyncio.Event | None = None
        for sub in ("stations", "districts", "api/stations", "nist"):
            (self.dir / sub).mkdir(parents=True, exist_ok=True)
        for name in STATIC_FILES:
            with resources.as_file(resources.files("central") / "static" / name) as src:
                shutil.copyfile(src, self.dir / name)
        self._read_version()

    def _read_version(self) -> None:
        try:
            self.version = int(orjson.loads((self.dir / "version.json").read_bytes())["version"])
        except (OSError, ValueError, KeyError, TypeError):
            self.version = 0

    # --- one version ------------------------------------------------------------------------

    def publish(self, everything: bool = False) -> int:
        """Write a new version with what changed (``everything``: every district and reported
        station, as at start-up). Returns the version number."""
        stations, districts = self.tally.take_dirty()
        if everything:
            stations |= set(self.tally.stations)
            districts |= set(self.tally.election.districts)
        jobs = self.build(stations, districts)
        self.write(jobs)
        return self.version

    def build(self, stations: set[str], districts: set[str]) -> list[tuple[str, Any]]:
        """The documents of the next version, as (relative path, bytes or str) pairs."""
        self.version += 1
        ing = self.ingest
        at = ing.last_update if ing.last_update is not None else float(self.clock())
        meta = {"version": self.version, "updated_at": at, "conflicts": len(ing.conflicts),
                "refusals": ing.refusal_count}
        stamp = {"version": self.version, "updated_at": at}
        jobs: list[tuple[str, Any]] = []
        for sid in sorted(stations):
            doc = {**self.tally.station_doc(sid), **stamp}
            s = pages.slug(sid)
            jobs += [(f"stations/{s}.json", dump(doc)), (f"stations/{s}.html", pages.station_page(doc, meta)),
                     (f"stations/{s}.csv", pages.station_csv(doc))]
            signed = [u["signed"] for u in doc["units"]]
            jobs.append((f"api/stations/{s}.json", dump(signed[0] if len(signed) == 1 else {"results": signed})))
        for d in sorted(districts):
            doc = {**self.tally.district_doc(d), **stamp}
            s = pages.slug(d)
            jobs += [(f"districts/{s}.json", dump(doc)), (f"districts/{s}.html", pages.district_page(doc, meta))]
        nat = {**self.tally.national_doc(), **stamp, "conflicts": len(ing.conflicts),
               "refusals": ing.refusal_count, "service": self.tally.served.to_json()}
        jobs += [("index.json", dump(nat)), ("index.html", pages.national_page(nat, meta))]
        conflicts = [{k: v for k, v in c.items() if k != "signed"} | {"code": "conflict"}
                     for c in ing.conflicts]
        jobs += [("conflicts.json", dump({**stamp, "conflicts": [
                     {k: v for k, v in c.items()} for c in ing.conflicts]})),
                 ("conflicts.html", pages.list_page("Conflicting results (not counted)", "conflicts",
                                                    conflicts, meta, len(conflicts))),
                 ("refusals.json", dump({**stamp, "total": ing.refusal_count, "latest": ing.refusals})),
                 ("refusals.html", pages.list_page("Refused uploads", "refusals", ing.refusals, meta,
                                                   ing.refusal_count))]
        now = time.monotonic()
        if nat["status"] == COMPLETE or self._nist_at is None or now - self._nist_at >= self.nist_interval:
            self._nist_at = now
            jobs.append(("nist/results.json", dump(national_results(self.tally, at))))
        version = {**stamp, "stations_reporting": nat["stations_reporting"],
                   "stations_total": nat["stations_total"], "status": nat["status"]}
        jobs.append(("version.json", dump(version)))  # last: pages see a version once it is whole
        self.regenerated["stations"] += len(stations)
        self.regenerated["districts"] += len(districts)
        self.regenerated["versions"] += 1
        return jobs

    def write(self, jobs: list[tuple[str, Any]]) -> None:
        for rel, data in jobs:
            write_atomic(self.dir / rel, data)

    # --- in the service ---------------------------------------------------------------------

    def notify(self) -> None:
        if self._event is not None:
            self._event.set()

    async def run(self) -> None:
        self._event = asyncio.Event()
        while True:
            await self._event.wait()
            self._event.clear()
            stations, districts = self.tally.take_dirty()
            jobs = self.build(stations, districts)
            await asyncio.to_thread(self.write, jobs)
