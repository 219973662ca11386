"""What keeps one unauthenticated client from taking the central tally down, declared once.

- ``ServerLimits``: the deadlines and caps of the HTTP server, as data. ``uvicorn_config``
  turns them into a uvicorn ``Config`` (``limit_concurrency`` answers 503 past the connection
  cap, ``timeout_keep_alive``, ``backlog``) with ``GuardedHttp`` as the HTTP protocol, which adds
  what uvicorn lacks: a deadline for the request line and headers (a client trickling them is
  cut off), a cap on their size, and a cap on simultaneous connections per client address
  (answered by closing the connection at once). The body deadline is the handler's
  (``asyncio.timeout`` around the reads, ``central.app``).
- ``RefusalLimiter``: refused or rejected uploads per client address in a sliding window;
  past the limit an address gets 429 and nothing is stored (injected clock).
- ``SecurityHeaders``: an ASGI middleware putting a Content-Security-Policy (scripts from the
  site only: no inline script), ``nosniff``, ``Referrer-Policy`` and refused framing on every
  answer, pages and JSON alike.
"""
from __future__ import annotations

import asyncio
from collections import defaultdict, deque
from dataclasses import dataclass
from typing import Any, Callable

import uvicorn
from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

@dataclass(frozen=True)
class ServerLimits:
    header_deadline_s: float = 10.0  # request line + headers must arrive within this
    header_max_bytes: int = 32 * 1024
    body_deadline_s: float = 20.0  # the whole body (at most 256 KB) within this
    keep_alive_s: float = 5.0  # an idle kept-alive connection is closed after this
    max_connections: int = 1024  # past this, uvicorn answers 503
    max_connections_per_address: int = 128  # past this, a new connection is closed at once
    backlog: int = 2048
    refusals_per_window: int = 60  # refused/rejected uploads per address ...
    refusal_window_s: float = 60.0  # ... in this sliding window, then 429


DEFAULT_LIMITS = ServerLimits()

SECURITY_HEADERS: tuple[tuple[bytes, bytes], ...] = (
    (b"content-security-policy",
     b"default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
     b"connect-src 'self'; base-uri 'none'; form-action 'none'; frame-ancestors 'none'"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"x-frame-options", b"DENY"),
)


class GuardedHttp(HttpToolsProtocol):
    """uvicorn's httptools protocol with a header deadline, a header size cap and a cap on
    connections per client address (``limits`` is set by ``protocol_for``)."""

    limits: ServerLimits = DEFAULT_LIMITS

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._header_timer: asyncio.TimerHandle | None = None
        self._header_bytes: int | None = 0  # None once the headers are complete
        address = self.client[0] if self.client else None
        if address is not None:
            same = sum(1 for c in self.connections
                       if isinstance(c, GuardedHttp) and c.client and c.client[0] == address)
            if same > self.limits.max_connections_per_address:
                transport.close()
                return
        self._arm_header_deadline()

    def _arm_header_deadline(self) -> None:
        if self._header_timer is None:
            self._header_timer = self.loop.call_later(self.limits.header_deadline_s, self._too_slow)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _too_slow(self) -> None:
        self._header_timer = None
        if not self.transport.is_closing():
            self.transport.close()

    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if self._header_bytes is not None and not self.transport.is_closing():
            self._header_bytes += len(data)  # the headers are still incomplete
            if self._header_bytes > self.limits.header_max_bytes:
                self._disarm()
                self.transport.close()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        self._header_bytes = 0
        self._arm_header_deadline()  # a new request on a kept-alive connection

    def on_headers_complete(self) -> None:
        self._disarm()
        self._header_bytes = None
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)


def protocol_for(limits: ServerLimits) -> type[GuardedHttp]:
    return type("GuardedHttp", (GuardedHttp,), {"limits": limits})


def uvicorn_config(app: Any, limits: ServerLimits = DEFAULT_LIMITS, **kw: Any) -> uvicorn.Config:
    """The uvicorn configuration of the service (``kw``: host, port, log_level, lifespan...)."""
    kw.setdefault("log_level", "warning")
    return uvicorn.Config(app, http=protocol_for(limits), access_log=False,
                          timeout_keep_alive=int(max(1, limits.keep_alive_s)),
                          limit_concurrency=limits.max_connections, backlog=limits.backlog, **kw)


class RefusalLimiter:
    """At most ``limits.refusals_per_window`` refused or rejected uploads per client address in
    any ``limits.refusal_window_s`` seconds; ``blocked(address)`` says whether to answer 429."""

    MAX_ADDRESSES = 10_000  # addresses remembered before the quiet ones are forgotten

    def __init__(self, limits: ServerLimits, clock: Callable[[], float]):
        self.limits, self.clock = limits, clock
        self._seen: dict[str, deque[float]] = defaultdict(deque)

    def _window(self, address: str) -> deque[float]:
        times = self._seen[address]
        horizon = self.clock() - self.limits.refusal_window_s
        while times and times[0] <= horizon:
            times.popleft()
        return times

    def blocked(self, address: str) -> bool:
        blocked = len(self._window(address)) >= self.limits.refusals_per_window
        if not self._seen[address]:
            del self._seen[address]  # forget quiet addresses: the table stays small
        return blocked

    def remembered(self) -> int:
        """How many addresses the limiter keeps times for."""
        return len(self._seen)

    def record(self, address: str) -> None:
        self._window(address).append(self.clock())
        if len(self._seen) > self.MAX_ADDRESSES:  # many addresses: forget the quiet ones
            for quiet in [a for a in self._seen if not self._window(a)]:
                del self._seen[quiet]


class SecurityHeaders:
    """ASGI middleware: ``SECURITY_HEADERS`` on every HTTP answer."""

    def __init__(self, app: Any):
        self.app = app

    async def __call__(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return await self.app(scope, receive, send)

        async def send_with_headers(message) -> None:
            if message["type"] == "http.response.start":
                names = {k.lower() for k, _ in message.get("headers", [])}
                message = {**message, "headers": list(message.get("headers", [])) +
                           [h for h in SECURITY_HEADERS if h[0] not in names]}
            await send(message)

        await self.app(scope, receive, send_with_headers)
