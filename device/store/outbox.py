"""The unit's outbox: signed messages kept in the unit store until the central tally takes them.

At polls close the controller puts the signed results message here (``Outbox.put``); a sender
(``OutboxSender``: ``ballotbox device send``, or the unit's own loop) posts each pending
message to the central tally with httpx and retries with exponential backoff until it is
decided. The unit works the same with no network: nothing waits for the outbox.

Table ``outbox`` in the unit's SQLite file (its own connection, so a sender may run as another
process beside the unit; the store's journal mode, each waiting for the other's write)::

    outbox(id PRIMARY KEY, digest UNIQUE, body, created_at, attempts, next_attempt_at,
           state, last_status, last_detail, decided_at)

- ``digest`` is the SHA-256 of the canonical body: putting the same message twice keeps one.
- ``state``: ``pending`` (to send), ``delivered`` (the central tally took it: any 2xx, or a 409
  whose answer says the same message was already accepted), ``refused`` (a final 4xx: a
  conflict, an older sequence, a bad signature... — retrying cannot help; the operator and
  the auditors see why).
- Network errors, timeouts, 429 and 5xx answers leave it ``pending`` with ``next_attempt_at``
  pushed back by ``Backoff``.

Every write is a committed transaction with ``synchronous=FULL``: a power cut after ``put``
returns loses nothing, and a cut during a send at worst sends the message again (which the
central tally answers as a duplicate). Time comes from the injected ``clock``; the sender never
sleeps — ``send_due`` does one pass and says when the next attempt is due.
"""
from __future__ import annotations

import hashlib
import json
import random
import sqlite3
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from device.results.upload_decisions import unit_state_of
from device.store.canonical_json import canonical_bytes, canonical_json
from device.store.journal import StoreWriteError

if TYPE_CHECKING:  # the sender is given its HTTP client
    import httpx

_SCHEMA = """
CREATE TABLE IF NOT EXISTS outbox (
    id INTEGER PRIMARY KEY, digest TEXT NOT NULL UNIQUE, body TEXT NOT NULL,
    created_at REAL NOT NULL, attempts INTEGER NOT NULL DEFAULT 0,
    next_attempt_at REAL NOT NULL, state TEXT NOT NULL DEFAULT 'pending',
    last_status TEXT, last_detail TEXT, decided_at REAL);
"""
STATES = ("pending", "delivered", "refused")
RESULTS_PATH = "/api/results"  # where the central tally takes signed results (POST)


@dataclass(frozen=True)
class Backoff:
    """Delay before attempt ``n + 1`` after ``n`` failures: base * factor**(n-1), capped, jittered."""

    base: float = 5.0
    factor: float = 2.0
    cap: float = 900.0
    jitter: float = 0.2  # +- this fraction, from the sender's rng (spreads a nation's retries)

    def delay(self, failures: int, rng: random.Random) -> float:
        d = min(self.cap, self.base * self.factor ** max(0, failures - 1))
        return d * (1 + self.jitter * (2 * rng.random() - 1))


@dataclass(frozen=True)
class OutboxItem:
    id: int
    message: dict[str, Any]
    created_at: float
    attempts: int
    next_attempt_at: float
    state: str
    last_status: str | None
    last_detail: str | None

    def to_json(self) -> dict[str, Any]:
        m = self.message.get("message", {})
        return {"id": self.id, "station": m.get("station"), "sequence": m.get("sequence"),
                "state": self.state, "attempts": self.attempts, "last_status": self.last_status,
                "last_detail": self.last_detail, "next_attempt_at": self.next_attempt_at}


class Outbox:
    """The ``outbox`` table of one unit store (opened by path; see the module docstring)."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA synchronous=FULL")
            self._conn.execute("PRAGMA busy_timeout=5000")
            self._conn.executescript(_SCHEMA)
        except sqlite3.DatabaseError as exc:
            raise StoreWriteError(f"{self.path}: cannot open the outbox ({exc})") from None

    def _write(self, sql: str, args: tuple[Any, ...]) -> sqlite3.Cursor:
        try:
            return self._conn.execute(sql, args)  # autocommit: one committed statement
        except sqlite3.Error as exc:
            raise StoreWriteError(f"cannot write the outbox in {self.path.name}: {exc}") from None

    def put(self, signed: dict[str, Any], at: float) -> int:
        """Keep ``signed`` until delivered; the same message twice is kept once. Returns its id."""
        body = canonical_json(signed)
        digest = hashlib.sha256(canonical_bytes(signed)).hexdigest()
        self._write("INSERT OR IGNORE INTO outbox (digest, body, created_at, next_attempt_at) "
                    "VALUES (?, ?, ?, ?)", (digest, body, at, at))
        row_id: int = self._conn.execute("SELECT id FROM outbox WHERE digest = ?", (digest,)).fetchone()[0]
        return row_id

    def items(self, state: str | None = None) -> list[OutboxItem]:
        sql = ("SELECT id, body, created_at, attempts, next_attempt_at, state, last_status, "
               "last_detail FROM outbox")
        rows = (self._conn.execute(sql + " WHERE state = ? ORDER BY id", (state,)) if state
                else self._conn.execute(sql + " ORDER BY id"))
        return [OutboxItem(i, json.loads(b), c, a, n, s, ls, ld) for i, b, c, a, n, s, ls, ld in rows]

    def due(self, now: float) -> list[OutboxItem]:
        return [i for i in self.items("pending") if i.next_attempt_at <= now]

    def retry_refused(self, at: float) -> int:
        """Make every refused message pending again, due at ``at`` (after the cause was fixed,
        e.g. the central tally's URL); returns how many."""
        return self._write("UPDATE outbox SET state = 'pending', next_attempt_at = ?, decided_at = NULL "
                           "WHERE state = 'refused'", (at,)).rowcount

    def next_due(self) -> float | None:
        row = self._conn.execute("SELECT min(next_attempt_at) FROM outbox WHERE state = 'pending'").fetchone()
        due: float | None = row[0]
        return due

    def record(self, item_id: int, at: float, *, state: str, status: str, detail: str,
               next_attempt_at: float | None = None) -> None:
        """One attempt's outcome: decided (``delivered``/``refused``) or retried at a later time."""
        if state not in STATES:
            raise ValueError(f"unknown outbox state {state!r}")
        self._write("UPDATE outbox SET attempts = attempts + 1, state = ?, last_status = ?, "
                    "last_detail = ?, next_attempt_at = coalesce(?, next_attempt_at), "
                    "decided_at = CASE WHEN ? = 'pending' THEN NULL ELSE ? END WHERE id = ?",
                    (state, status, detail[:500], next_attempt_at, state, at, item_id))

    def close(self) -> None:
        self._conn.close()

    def __enter__(self) -> Outbox:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


@dataclass(frozen=True)
class Attempt:
    item_id: int
    state: str
    status: str
    detail: str


def _answer(response: httpx.Response) -> dict[str, Any]:
    try:
        body = response.json()
    except ValueError:
        return {}
    return body if isinstance(body, dict) else {}


def classify(response: httpx.Response) -> tuple[str, str]:
    """(state, detail) for the central tally's answer to one post, read through the upload
    decisions both ends share (``device/results/upload_decisions.py``)."""
    body = _answer(response)
    code = body.get("code") if isinstance(body.get("code"), str) else None
    state = unit_state_of(response.status_code, code)
    detail = f"HTTP {response.status_code}" + (f" {code}" if code else "")
    if state == "refused":
        reason = body["reason"] if isinstance(body.get("reason"), str) else response.text[:300]
        detail += ": " + reason
    return state, detail


class OutboxSender:
    """Posts the due messages of an ``Outbox`` to ``central`` (one pass per ``send_due``)."""

    def __init__(self, outbox: Outbox, central: str, *, client: httpx.Client, clock: Callable[[], float],
                 backoff: Backoff = Backoff(), rng: random.Random | None = None,
                 path: str = RESULTS_PATH, timeout: float = 10.0):
        self.outbox, self.client, self.clock = outbox, client, clock
        self.url = central.rstrip("/") + path
        self.backoff, self.rng, self.timeout = backoff, rng or random.Random(0), timeout

    def send_due(self, *, ignore_backoff: bool = False) -> list[Attempt]:
        """Try every message that is due now (every pending one with ``ignore_backoff``);
        return what happened to each."""
        import httpx

        attempts = []
        items = self.outbox.items("pending") if ignore_backoff else self.outbox.due(self.clock())
        for item in items:
            try:
                response = self.client.post(self.url, json=item.message, timeout=self.timeout)
                state, detail = classify(response)
                status = str(response.status_code)
            except httpx.HTTPError as exc:
                state, status, detail = "pending", "network", f"{type(exc).__name__}: {exc}"
            now = self.clock()
            retry_at = (now + self.backoff.delay(item.attempts + 1, self.rng)
                        if state == "pending" else None)
            self.outbox.record(item.id, now, state=state, status=status, detail=detail,
                               next_attempt_at=retry_at)
            attempts.append(Attempt(item.id, state, status, detail))
        return attempts

    def run(self, until: float, sleep: Callable[[float], None], *,
            ignore_backoff: bool = False) -> list[Attempt]:
        """Send and retry until nothing is pending or the clock passes ``until``.

        ``sleep(seconds)`` waits for the next attempt (``time.sleep`` on a unit; a test passes
        one that advances its clock). ``ignore_backoff``: the first pass tries every pending
        message at once, whenever its next attempt was due."""
        attempts: list[Attempt] = []
        first = ignore_backoff
        while True:
            attempts += self.send_due(ignore_backoff=first)
            first = False
            next_at = self.outbox.next_due()
            if next_at is None or next_at > until:
                return attempts
            wait = next_at - self.clock()
            if wait > 0:
                sleep(wait)
