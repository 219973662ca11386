"""A real HTTP server on loopback for tests: a Starlette app under uvicorn, in a thread.

The socket is bound and listening before the server thread starts, so a test may connect at
once (the kernel queues the connection) and nothing waits or sleeps for the server to start.
"""
from __future__ import annotations

import contextlib
import socket
import threading

import uvicorn


@contextlib.contextmanager
def serve(app, lifespan: str = "off"):
    """Run ``app`` on 127.0.0.1 (a free port); yield its base URL; stop it on exit.

    ``lifespan="on"`` runs the app's startup and shutdown (a service with background tasks)."""
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", 0))
    sock.listen(64)
    port = sock.getsockname()[1]
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", lifespan=lifespan))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)
        sock.close()
