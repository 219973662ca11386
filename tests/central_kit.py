"""Shared by the central tally's tests: a served election with seeded unit keys, and a real
uvicorn server on a free loopback port, run in a thread."""
from __future__ import annotations

import contextlib
import socket
import threading
import time
from pathlib import Path

import httpx
import uvicorn

from central import locks
from central.app import CentralService
from central.guard import DEFAULT_LIMITS, ServerLimits, uvicorn_config
from central.served import ServedElection
from central.store import CentralStore, SqliteCentralStore
from device.election.definition import Election
from sim.results.results_feed import registered_voters, unit_signer


def served_for(election: Election, seed: int, mode: str = "test", package_mode: str = "simulation") -> ServedElection:
    keys = {unit_signer(seed, sid).public_key_hex(): sid for sid in election.stations}
    registered = {sid: registered_voters(seed, sid) for sid in election.stations}
    return ServedElection(election, keys, mode, "0" * 64, package_mode, registered)


@contextlib.contextmanager
def running_service(served: ServedElection, tmp: Path, clock=time.time,
                    limits: ServerLimits = DEFAULT_LIMITS, store: CentralStore | None = None):
    """Yield (base URL, service) of a central tally on 127.0.0.1 with the server settings of
    ``central serve`` (``central.guard``), stopped on exit (and ``store`` closed: by default a
    SQLite file in ``tmp``)."""
    if store is None:
        sqlite = SqliteCentralStore(tmp / "central.db", durability="simulation")
        sqlite.held_lock = locks.hold(sqlite.path)  # as central serve holds it
        store = sqlite
    service = CentralService(served, store, tmp / "public", clock=clock, nist_interval=0.0,
                             publish_interval=0.0, limits=limits)
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn_config(service.app(), limits, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    ready = threading.Event()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        ready.wait(0.01)
    assert server.started, "the central tally did not start"
    try:
        yield f"http://127.0.0.1:{port}", service
    finally:
        server.should_exit = True
        thread.join(20)
        sock.close()


def published(url: str, predicate, what: str = "index.json") -> dict:
    """The public document once ``predicate`` holds for it (the publisher runs after commit)."""
    pause, deadline = threading.Event(), time.monotonic() + 10
    while True:
        doc = httpx.get(f"{url}/{what}", headers={"cache-control": "no-cache"}).json()
        if predicate(doc) or time.monotonic() > deadline:
            return doc
        pause.wait(0.02)



@contextlib.contextmanager
def postgres_server():
    """``sim.bench.central.postgres_server`` (a real server in a temporary folder), or the test
    skipped with the reason where Debian's postgresql binaries are missing."""
    import pytest

    from sim.bench.central import postgres_bin
    from sim.bench.central import postgres_server as server

    if postgres_bin() is None:
        pytest.skip("PostgreSQL server binaries not found under /usr/lib/postgresql "
                    "(make install adds Debian's postgresql package)")
    with server() as url:
        yield url
