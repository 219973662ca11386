"""A page replaced while it is served goes out whole (central/site_files.py).

The publisher renames a new page over the old one while readers fetch it. Over real HTTP
(uvicorn on loopback), a writer thread replaces ``index.json`` with versions of different
lengths while a reader fetches it again and again: every answer must be one whole version.
With Starlette's own ``StaticFiles`` (size from ``stat``, bytes from a second ``open``) this
broke connections ("peer closed connection without sending complete message body")."""
from __future__ import annotations

import threading

import httpx
import uvicorn
from starlette.applications import Starlette
from starlette.routing import Mount

from central.publish import write_atomic
from central.site_files import SiteFiles

VERSIONS = [(b'{"version": %d, "pad": "' % i) + b"x" * (3000 + 997 * i) + b'"}' for i in range(6)]


def test_a_page_replaced_while_it_is_read_is_always_one_whole_version(tmp_path):
    page = tmp_path / "index.json"
    page.write_bytes(VERSIONS[0])
    app = Starlette(routes=[Mount("/", SiteFiles(directory=str(tmp_path), html=True))])
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=0, log_level="warning"))
    serving = threading.Thread(target=server.run, daemon=True)
    serving.start()
    stop, tick = threading.Event(), threading.Event()
    while not server.started:
        assert serving.is_alive(), "the server did not start"
        tick.wait(0.01)
    port = server.servers[0].sockets[0].getsockname()[1]

    def publish() -> None:
        k = 0
        while not stop.is_set():
            k += 1
            write_atomic(page, VERSIONS[k % len(VERSIONS)])

    writer = threading.Thread(target=publish, daemon=True)
    writer.start()
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=30) as client:
            bodies = [client.get("/index.json").content for _ in range(400)]
    finally:
        stop.set()
        writer.join()
        server.should_exit = True
        serving.join(30)
    assert all(body in VERSIONS for body in bodies)
    assert len(set(bodies)) > 1  # the page did change under the reader
