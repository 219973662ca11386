"""The central tally's ASGI application (Starlette): ingestion plus the static results site.

- ``POST /api/results``: one signed results message (JSON, at most ``MAX_BODY_BYTES``). The
  answer is JSON ``{"decision", "code", "reason"}`` with the status of ``central.decisions``:
  201 accepted, 200 duplicate, 409 conflict / older sequence, 403 signature or registry,
  422 election, mode or sanity, 400 malformed, 413 oversized, 415 not JSON, 503 store down.
- ``GET /api/status``: the service, counts per decision, the published version.
- ``GET /api/stations/ID.json``: the station's accepted signed message, as received (what
  ``ballotbox audit tape --central`` compares a photographed tape with); also inside the static
  ``/stations/ID.json``.
- everything else: the published static files (``central.publish``), e.g. ``/index.html``,
  ``/districts/ID.json``.

The service only ingests: the pages are files, so a national audience can be served by any
static web server or CDN pointed at the public directory.
"""
from __future__ import annotations

import asyncio
import contextlib
import time
from pathlib import Path
from typing import Callable

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.staticfiles import StaticFiles

from central.checks import MAX_BODY_BYTES, check_upload
from central.decisions import Verdict
from central.ingest import Ingest
from central.publish import Publisher
from central.served import ServedElection
from central.store import CentralStore
from central.tally import CentralTally


class CentralService:
    """The parts of one running service, wired together."""

    def __init__(self, served: ServedElection, store: CentralStore, public_dir: Path,
                 clock: Callable[[], float] = time.time, nist_interval: float = 5.0,
                 publish_interval: float = 0.5, render_process: bool = False):
        self.served, self.store = served, store
        self.tally = CentralTally(served)
        self.ingest = Ingest(store, self.tally, clock)
        self.publisher = Publisher(self.tally, self.ingest, public_dir, clock, nist_interval,
                                   publish_interval, render_process)
        self.ingest.on_commit = self.publisher.notify
        self.check_seconds = 0.0
        self.publisher.publish(everything=True)

    def answer(self, verdict: Verdict) -> JSONResponse:
        return JSONResponse(verdict.to_json(), status_code=verdict.decision.status)

    async def post_results(self, request: Request) -> JSONResponse:
        ctype = request.headers.get("content-type", "application/json").split(";")[0].strip()
        if ctype not in ("application/json", ""):
            return self.answer(Verdict("unsupported_media", f"content type {ctype!r}; send application/json"))
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return self.answer(Verdict("oversized", f"{declared} bytes; the limit is {MAX_BODY_BYTES}"))
        body = bytearray()
        async for chunk in request.stream():
            body += chunk
            if len(body) > MAX_BODY_BYTES:
                return self.answer(Verdict("oversized", f"more than {MAX_BODY_BYTES} bytes"))
        t0 = time.perf_counter()
        upload = check_upload(bytes(body), self.served)
        self.check_seconds += time.perf_counter() - t0
        if upload.verdict is not None and upload.verdict.decision.outcome == "rejected":
            return self.answer(upload.verdict)
        return self.answer(await self.ingest.submit(upload))

    async def station_signed(self, request: Request) -> JSONResponse:
        """The accepted signed message of a station (``{"results": [...]}`` when several units
        of the station have reported); 404 until one has."""
        units = self.tally.units.get(request.path_params["station"])
        if not units:
            return JSONResponse({"error": "no accepted result for this station"}, status_code=404)
        signed = [slot["signed"] for _, slot in sorted(units.items())]
        return JSONResponse(signed[0] if len(signed) == 1 else {"results": signed})

    async def status(self, request: Request) -> JSONResponse:
        return JSONResponse({"service": self.served.to_json(), "decisions": self.ingest.counts,
                             "version": self.publisher.version,
                             "stations_reporting": len(self.tally.stations),
                             "stations_total": len(self.served.election.stations),
                             "regenerated": self.publisher.regenerated,
                             "timing": {"check_s": round(self.check_seconds, 3),
                                        **{k: round(v, 3) for k, v in self.ingest.timing.items()},
                                        **{k: round(v, 3) for k, v in self.publisher.timing.items()}}})

    @contextlib.asynccontextmanager
    async def lifespan(self, app):
        self.ingest.start()
        publishing = asyncio.get_running_loop().create_task(self.publisher.run())
        try:
            yield
        finally:
            await self.ingest.stop()
            publishing.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await publishing
            self.publisher.publish()  # whatever was accepted last is on the site
            self.store.close()

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/api/results", self.post_results, methods=["POST"]),
            Route("/api/status", self.status, methods=["GET"]),
            Route("/api/stations/{station}.json", self.station_signed, methods=["GET"]),
            Mount("/", StaticFiles(directory=str(self.publisher.dir), html=True)),
        ], lifespan=self.lifespan)
