"""Where a twin's bytes go: a pty pair, a loopback TCP port, or an in-memory port.

A twin is any object with ``receive(data)`` (bytes from the host) and ``attach(write)``
(``write(data)`` sends bytes to the host; ``attach(None)`` when nobody is connected) and a
``lock`` that serialises the endpoint's thread with the simulated world's hands.

- ``PtyEndpoint``: ``os.openpty``; a thread serves the master end; the real driver opens
  ``slave_path`` with pyserial exactly as it would open ``/dev/ttyUSB0``.
- ``TcpEndpoint``: listens on ``host:port`` (port 0 = any free port); one client at a time,
  a later client replaces the earlier one (``socket://host:port`` in pyserial).
  ``drop_client()`` closes the connection: a real disconnect the driver sees as an error.
- ``MemoryPort``: a pyserial-like port object whose ``write`` hands the bytes straight to the
  twin in the caller's thread; what the twin answers waits in a buffer for ``read``. No
  threads, no file descriptors: the in-memory backend of the contract tests.

Stopping is by ``close()`` (a self-pipe wakes the serving thread; no polling sleeps).
"""
from __future__ import annotations

import os
import select
import socket
import threading
import tty
from abc import ABC, abstractmethod
from typing import Protocol


class Twin(Protocol):
    lock: threading.RLock

    def receive(self, data: bytes) -> None: ...

    def attach(self, write) -> None: ...


class _Served(ABC):
    """A serving thread woken by readable fds or by the stop pipe."""

    def __init__(self) -> None:
        self._stop_r, self._stop_w = os.pipe()
        self._thread: threading.Thread | None = None
        self._closed = False

    def _start(self, name: str) -> None:
        self._thread = threading.Thread(target=self._serve, name=name, daemon=True)
        self._thread.start()

    @abstractmethod
    def _serve(self) -> None:
        """The serving loop of the endpoint kind."""

    def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        os.write(self._stop_w, b"x")
        if self._thread is not None:
            self._thread.join(timeout=5)
        os.close(self._stop_r)
        os.close(self._stop_w)


class PtyEndpoint(_Served):
    def __init__(self, twin: Twin) -> None:
        super().__init__()
        self.twin = twin
        self.master, self.slave = os.openpty()
        tty.setraw(self.slave)
        self.slave_path = os.ttyname(self.slave)
        twin.attach(self._write)
        self._start(f"pty-{self.slave_path}")

    @property
    def url(self) -> str:
        return f"serial://{self.slave_path}"

    def _write(self, data: bytes) -> None:
        view = memoryview(data)
        while view:
            n = os.write(self.master, view)
            view = view[n:]

    def _serve(self) -> None:
        while True:
            ready, _, _ = select.select([self.master, self._stop_r], [], [])
            if self._stop_r in ready:
                return
            try:
                data = os.read(self.master, 4096)
            except OSError:
                return
            with self.twin.lock:
                self.twin.receive(data)

    def close(self) -> None:
        super().close()
        self.twin.attach(None)
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass


class TcpEndpoint(_Served):
    def __init__(self, twin: Twin, host: str = "127.0.0.1", port: int = 0) -> None:
        super().__init__()
        self.twin = twin
        self.server = socket.create_server((host, port))
        self.host, self.port = self.server.getsockname()[:2]
        self.client: socket.socket | None = None
        self._start(f"tcp-{self.port}")

    @property
    def url(self) -> str:
        return f"socket://{self.host}:{self.port}"

    def _send(self, sock: socket.socket, data: bytes) -> None:
        try:
            sock.sendall(data)
        except OSError:
            pass  # the client went away; the next accept replaces it

    def drop_client(self) -> None:
        """Pull the cable: close the current connection (the driver sees an error)."""
        with self.twin.lock:
            if self.client is not None:
                self.twin.attach(None)
                try:
                    self.client.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass
                self.client.close()
                self.client = None

    def _serve(self) -> None:
        while True:
            fds = [self.server, self._stop_r] + ([self.client] if self.client else [])
            try:
                ready, _, _ = select.select(fds, [], [])
            except (OSError, ValueError):  # the client was dropped (``drop_client``, another
                if self._closed:           # thread) after the list was made: make it again
                    return
                continue
            if self._stop_r in ready:
                return
            if self.server in ready:
                conn, _ = self.server.accept()
                conn.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                self.drop_client()
                with self.twin.lock:
                    self.client = conn
                    self.twin.attach(lambda data, s=conn: self._send(s, data))
                continue
            client = self.client
            if client is not None and client in ready:
                try:
                    data = client.recv(4096)
                except OSError:
                    data = b""
                if not data:
                    self.drop_client()
                    continue
                with self.twin.lock:
                    self.twin.receive(data)

    def close(self) -> None:
        super().close()
        self.drop_client()
        self.server.close()


class MemoryPort:
    """A pyserial-like port wired straight to a twin (no threads, no fds)."""

    def __init__(self, twin: Twin) -> None:
        self.twin = twin
        self.timeout: float | None = None
        self._rx = bytearray()
        self._cond = threading.Condition()
        self.is_open = True
        twin.attach(self._from_twin)

    def _from_twin(self, data: bytes) -> None:
        with self._cond:
            self._rx += data
            self._cond.notify_all()

    @property
    def in_waiting(self) -> int:
        return len(self._rx)

    def write(self, data: bytes) -> int:
        if not self.is_open:
            raise OSError("port closed")
        with self.twin.lock:
            self.twin.receive(bytes(data))
        return len(data)

    def read(self, size: int = 1) -> bytes:
        with self._cond:
            if not self._rx and self.timeout != 0:
                self._cond.wait(self.timeout)
            out = bytes(self._rx[:size])
            del self._rx[:size]
            return out

    def reset_input_buffer(self) -> None:
        with self._cond:
            self._rx.clear()

    def close(self) -> None:
        self.is_open = False
