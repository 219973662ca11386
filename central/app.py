"""The central tally's ASGI application (Starlette): ingestion plus the static results site.

- ``POST /api/results``: one signed results message (JSON, at most ``MAX_BODY_BYTES``). The
  answer is JSON ``{"decision", "code", "reason"}`` with the status of ``central.decisions``:
  201 accepted, 200 duplicate, 409 conflict / older sequence, 403 signature or registry,
  422 election, mode or sanity, 400 malformed, 413 oversized, 415 not JSON, 408 a body slower
  than the deadline, 429 too many refused uploads from this address, 503 store down.
- ``GET /api/status``: the service, counts per decision, the published version.
- ``GET /api/stations/ID.json``: the station's accepted signed message, as received (what
  ``ballotbox audit tape --central`` compares a photographed tape with); also inside the static
  ``/stations/ID.json``.
- everything else: the published static files (``central.publish``), e.g. ``/index.html``,
  ``/districts/ID.json``.

Every answer carries the security headers of ``central.guard``; the server's deadlines and caps
are ``central.guard.ServerLimits`` (the body deadline is enforced here, around the reads). A
client that disconnects mid-body is logged in one line.

Several processes may ingest into one PostgreSQL store at once (``CentralStore.shared``): each
decides inside the store's transaction and follows the others' decisions (``watch``); the one
holding the store's publisher lock writes the site, and another takes over when it ends. On a
SQLite file one service ingests and publishes.

The service only ingests: the pages are files, so a national audience can be served by any
static web server or CDN pointed at the public directory.
"""
from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path
from typing import Callable

from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import ClientDisconnect, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Mount, Route

from device.store.journal import StoreWriteError
from central import locks
from central.checks import MAX_BODY_BYTES, check_upload
from central.decisions import Verdict
from central.guard import DEFAULT_LIMITS, RefusalLimiter, SecurityHeaders, ServerLimits
from central.ingest import Ingest
from central.publish import Publisher
from central.served import ServedElection
from central.site_files import SiteFiles
from central.store import CentralStore
from central.tally import CentralTally

log = logging.getLogger("central")
NOT_COUNTED_AGAINST = ("accepted", "duplicate", "conflict")
WATCH_INTERVAL_S = 0.25  # on a shared store: how often a process looks at the journal's head and stands for publisher  # outcomes the refusal limiter ignores


class CentralService:
    """The parts of one running service, wired together."""

    def __init__(self, served: ServedElection, store: CentralStore, public_dir: Path,
                 clock: Callable[[], float] = time.time, nist_interval: float = 5.0,
                 publish_interval: float = 0.5, render_process: bool = False,
                 limits: ServerLimits = DEFAULT_LIMITS, folder_lock: int | None = None,
                 watch_interval: float = WATCH_INTERVAL_S):
        self.public_dir = Path(public_dir)
        if folder_lock is None and not store.shared:  # one running service writes a public folder
            self.public_dir.mkdir(parents=True, exist_ok=True)
            folder_lock = locks.hold(public_dir)
        self.folder_lock = folder_lock
        self.served, self.store, self.limits = served, store, limits
        self.watch_interval = watch_interval
        self.limiter = RefusalLimiter(limits, clock)
        self.tally = CentralTally(served)
        self.ingest = Ingest(store, self.tally, clock)
        self.publisher = Publisher(self.tally, self.ingest, public_dir, clock, nist_interval,
                                   publish_interval, render_process)
        self.ingest.on_commit = self.publisher.notify
        self.check_seconds = 0.0
        self.publishing = False  # whether this process writes the site
        self._publishing_task: asyncio.Task | None = None
        if not store.shared:  # the service holding a SQLite file publishes before it answers
            self._start_publishing()

    def _start_publishing(self) -> None:
        self.publisher.prepare()
        self.publisher.publish(everything=True)
        self.publishing = True

    # --- several ingest processes on one shared store: who publishes ----------------------------

    async def watch(self) -> None:
        """On a shared store: fold in the other processes' decisions when the journal's head
        moves, and stand for publisher every ``watch_interval`` seconds (the holder of the store's
        publisher lock publishes; when it ends, another takes over)."""
        while True:
            try:
                if await asyncio.to_thread(self.store.head_seq) > self.ingest.applied:
                    await self.ingest.sync()
                elected = await asyncio.to_thread(self.store.publishing)
            except StoreWriteError as exc:
                log.warning("central: the store cannot be read (%s); trying again", exc)
                elected = False
            if elected and not self.publishing:
                await self._take_over()
            elif self.publishing and not elected:
                self._step_down("the publisher lock was lost (the connection to the store dropped)")
            await asyncio.sleep(self.watch_interval)

    async def _take_over(self) -> None:
        try:
            self.public_dir.mkdir(parents=True, exist_ok=True)
            self.folder_lock = locks.hold(self.public_dir)
        except locks.Busy as exc:  # a service of another store writes this folder
            self.store.resign()
            log.warning("central: elected to publish, but %s; not publishing", exc)
            return
        await self.ingest.sync()  # everything committed so far, then the whole site from it
        self._start_publishing()
        self._publishing_task = asyncio.get_running_loop().create_task(self.publisher.run())
        log.warning("central: this process now publishes the site in %s (publisher lock held)",
                    self.public_dir)

    def _step_down(self, why: str) -> None:
        if self._publishing_task is not None:
            self._publishing_task.cancel()
            self._publishing_task = None
        locks.release(self.folder_lock)
        self.folder_lock, self.publishing = None, False
        self.store.resign()
        log.warning("central: this process stops publishing: %s", why)

    def answer(self, verdict: Verdict, address: str | None = None) -> JSONResponse:
        decision = verdict.decision
        if address is not None and decision.outcome not in NOT_COUNTED_AGAINST and decision.status != 503:
            self.limiter.record(address)
        headers = {"connection": "close"} if decision.status in (408, 429) else None
        return JSONResponse(verdict.to_json(), status_code=decision.status, headers=headers)

    async def read_body(self, request: Request) -> bytes | Verdict:
        """The body, or the verdict that stops reading it (too large, too slow)."""
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > MAX_BODY_BYTES:
            return Verdict("oversized", f"{declared} bytes; the limit is {MAX_BODY_BYTES}")
        body = bytearray()
        try:
            async with asyncio.timeout(self.limits.body_deadline_s):
                async for chunk in request.stream():
                    body += chunk
                    if len(body) > MAX_BODY_BYTES:
                        return Verdict("oversized", f"more than {MAX_BODY_BYTES} bytes")
        except TimeoutError:
            return Verdict("too_slow", f"{len(body)} bytes in {self.limits.body_deadline_s:g} s")
        return bytes(body)

    async def post_results(self, request: Request) -> Response:
        address = request.client.host if request.client else "unknown"
        ctype = request.headers.get("content-type", "application/json").split(";")[0].strip()
        if ctype not in ("application/json", ""):
            return self.answer(Verdict("unsupported_media", f"content type {ctype!r}; send application/json"),
                               address)
        try:
            body = await self.read_body(request)
        except ClientDisconnect:
            log.warning("central: upload from %s abandoned mid-body (the client disconnected)", address)
            return Response(status_code=400)  # nobody is left to read it
        if isinstance(body, Verdict):
            return self.answer(body, address)
        if self.limiter.blocked(address):
            return self.answer(Verdict("too_many_refusals", f"more than {self.limits.refusals_per_window} "
                                       f"refused uploads from {address} in {self.limits.refusal_window_s:g} s"))
        t0 = time.perf_counter()
        upload = check_upload(body, self.served)
        self.check_seconds += time.perf_counter() - t0
        if upload.verdict is not None and upload.verdict.decision.outcome == "rejected":
            return self.answer(upload.verdict, address)
        return self.answer(await self.ingest.submit(upload), address)

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
                             "publishing": self.publishing, "journal_applied": self.ingest.applied,
                             "version": self.publisher.version,
                             "stations_reporting": len(self.tally.stations),
                             "stations_total": len(self.served.election.stations),
                             "regenerated": self.publisher.regenerated,
                             "timing": {"check_s": round(self.check_seconds, 3),
                                        **{k: round(v, 3) for k, v in self.ingest.timing.items()},
                                        **{k: round(v, 3) for k, v in self.publisher.timing.items()}}})

    @contextlib.asynccontextmanager
    async def lifespan(self, app):
        loop = asyncio.get_running_loop()
        self.ingest.start()
        if self.publishing:
            self._publishing_task = loop.create_task(self.publisher.run())
        watching = loop.create_task(self.watch()) if self.store.shared else None
        try:
            yield
        finally:
            if watching is not None:
                watching.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await watching
            await self.ingest.stop()
            if self._publishing_task is not None:
                self._publishing_task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._publishing_task
            if self.publishing:
                self.publisher.publish(nist=True)  # whatever was accepted last is on the site
            self.close()

    def close(self) -> None:
        """Close the store and let go of the public folder (and of the database)."""
        self.store.close()
        locks.release(self.store.held_lock)
        locks.release(self.folder_lock)
        self.folder_lock = self.store.held_lock = None

    def app(self) -> Starlette:
        return Starlette(routes=[
            Route("/api/results", self.post_results, methods=["POST"]),
            Route("/api/status", self.status, methods=["GET"]),
            Route("/api/stations/{station}.json", self.station_signed, methods=["GET"]),
            Mount("/", SiteFiles(directory=str(self.publisher.dir), html=True, check_dir=False)),
        ], lifespan=self.lifespan, middleware=[Middleware(SecurityHeaders)])
