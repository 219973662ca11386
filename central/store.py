"""Where the central tally keeps its decisions: a small interface and its SQLite implementation.

``CentralStore`` is all the service needs: ``commit(entries)`` makes a batch of decisions
durable in one transaction (group commit: the writer batches concurrent uploads), and reading
back what was accepted, what conflicted, what was refused, and the journal.

Every decision is a record of the *same hash-chained journal a unit keeps*
(``device.store.SqliteStore``: ``seq``, ``type``, ``at``, ``data``, ``prev_hash``, ``hash``;
checked when the store opens, a torn last record removed, tampering refused), so
``ballotbox audit`` tooling and anyone holding an export can check the chain the same way.
Journal types: ``result_accepted``, ``result_duplicate``, ``result_conflict``,
``upload_refused``. The rows beside it:

- ``slots(station, unit_key, phase, sequence, digest, signed, at)``: one accepted result per
  (station, unit, phase) — the signed message as received, canonical JSON;
- ``conflicts(id, station, unit_key, phase, sequence, digest, signed, at, reason)``;
- ``refusals(id, code, reason, station, unit_key, digest, at)``: no body is kept, the fields
  are clipped where the upload chose them (``central.decisions.clip``), and only the latest
  ``REFUSALS_KEPT`` rows stay; ``refusal_counts(code, n)`` counts every refusal by code.

``open_central_store(url)``: a path or ``sqlite:///path`` opens ``SqliteCentralStore``.
PostgreSQL (``postgresql://...``) would plug in as another ``CentralStore``: the same three
tables plus ``journal`` (``signed`` as JSONB), ``commit`` as one transaction that reads the
journal head with ``SELECT ... FOR UPDATE`` and chains the batch with ``device.store.make_record``,
a ``UNIQUE (station, unit_key, phase)`` constraint on ``slots``, and psycopg as a dependency.
It is not built: a national deployment's ingest rate (measured by ``python -m sim.bench
central``) is within what one SQLite writer sustains.
"""
from __future__ import annotations

import json
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

from device.store.canonical_json import canonical_json
from device.store.journal import JournalRecord
from device.store.sqlite import SqliteStore, StoreOpenError

JOURNAL_TYPES = ("result_accepted", "result_duplicate", "result_conflict", "upload_refused",
                 "result_accepted_by_authority")

_TABLES = """
CREATE TABLE IF NOT EXISTS slots (
    station TEXT NOT NULL, unit_key TEXT NOT NULL, phase TEXT NOT NULL, sequence INTEGER NOT NULL,
    digest TEXT NOT NULL, signed TEXT NOT NULL, at REAL NOT NULL,
    PRIMARY KEY (station, unit_key, phase)) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS conflicts (
    id INTEGER PRIMARY KEY, station TEXT, unit_key TEXT, phase TEXT, sequence INTEGER,
    digest TEXT, signed TEXT, at REAL, reason TEXT);
CREATE TABLE IF NOT EXISTS refusals (
    id INTEGER PRIMARY KEY, code TEXT, reason TEXT, station TEXT, unit_key TEXT, digest TEXT, at REAL);
CREATE TABLE IF NOT EXISTS refusal_counts (code TEXT PRIMARY KEY, n INTEGER NOT NULL) WITHOUT ROWID;
"""
REFUSALS_KEPT = 10_000  # the refusals table keeps the latest these; refusal_counts counts all


@dataclass
class Entry:
    """One decision to make durable: its journal record, and the row it adds (if any)."""

    type: str  # one of JOURNAL_TYPES
    data: dict[str, Any]
    at: float
    slot: dict[str, Any] | None = None  # result_accepted
    conflict: dict[str, Any] | None = None  # result_conflict
    refusal: dict[str, Any] | None = None  # upload_refused
    record: JournalRecord | None = field(default=None, repr=False)  # set by commit


class AcceptError(ValueError):
    """No held result matches what the authority asked to accept."""


class CentralStore(ABC):
    """The storage interface of the central tally."""

    held_lock: int | None = None  # the lock (``central.locks``) of the process holding the store

    @abstractmethod
    def commit(self, entries: list[Entry]) -> None:
        """Journal and store every entry in one transaction; raise ``StoreWriteError`` on failure
        (then nothing of the batch is kept)."""

    @abstractmethod
    def slots(self) -> Iterator[dict[str, Any]]:
        """Accepted results: station, unit_key, phase, sequence, digest, signed (dict), at."""

    @abstractmethod
    def conflicts(self) -> list[dict[str, Any]]: ...

    @abstractmethod
    def refusals(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The most recent refusals first."""

    @abstractmethod
    def refusal_counts(self) -> dict[str, int]:
        """Every refusal ever made, by decision code."""

    @abstractmethod
    def journal(self) -> Iterator[JournalRecord]: ...

    @abstractmethod
    def accept_held(self, station: str, sequence: int, unit_key: str | None, reason: str,
                    at: float) -> dict[str, Any]:
        """The authority's decision: the held (conflicting) result of ``station`` with
        ``sequence`` becomes the slot's result; the result it replaces, if any, is kept among the
        conflicts; one ``result_accepted_by_authority`` record journals it with the reason.
        Raises ``AcceptError`` when no single held result matches."""

    def close(self) -> None:  # pragma: no cover - trivial default
        pass


class SqliteCentralStore(SqliteStore, CentralStore):
    """One SQLite file: the unit journal's tables and chain, plus slots, conflicts, refusals."""

    def __init__(self, path: str | Path, *, durability: str = "full"):
        super().__init__(path, durability=durability)
        try:
            self._conn.executescript(_TABLES)
        except Exception as exc:  # sqlite3.DatabaseError
            raise StoreOpenError(f"{path}: not a usable central store ({exc})") from None

    def commit(self, entries: list[Entry]) -> None:
        if not entries:
            return
        head = self.head
        for e in entries:
            e.record = self.append_event(e.type, e.data, e.at, durable=False)

        def rows(c) -> None:
            for e in entries:
                if e.slot is not None:
                    s = e.slot
                    c.execute("INSERT OR REPLACE INTO slots VALUES (?, ?, ?, ?, ?, ?, ?)",
                              (s["station"], s["unit_key"], s["phase"], s["sequence"], s["digest"],
                               canonical_json(s["signed"]), e.at))
                if e.conflict is not None:
                    s = e.conflict
                    c.execute("INSERT INTO conflicts (station, unit_key, phase, sequence, digest, "
                              "signed, at, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                              (s["station"], s["unit_key"], s["phase"], s["sequence"], s["digest"],
                               canonical_json(s["signed"]), e.at, s["reason"]))
                if e.refusal is not None:
                    r = e.refusal
                    c.execute("INSERT INTO refusals (code, reason, station, unit_key, digest, at) "
                              "VALUES (?, ?, ?, ?, ?, ?)",
                              (r["code"], r["reason"], r.get("station"), r.get("unit_key"),
                               r.get("digest"), e.at))
                    c.execute("INSERT INTO refusal_counts VALUES (?, 1) "
                              "ON CONFLICT (code) DO UPDATE SET n = n + 1", (r["code"],))
            if any(e.refusal is not None for e in entries):
                c.execute("DELETE FROM refusals WHERE id <= (SELECT max(id) FROM refusals) - ?",
                          (REFUSALS_KEPT,))
        try:
            self._commit([], rows)
        except BaseException:
            # nothing of the batch was written: unstage it and put the head back
            self._pending = []
            self._head_seq, self._head_hash = head
            raise

    def slots(self) -> Iterator[dict[str, Any]]:
        cur = self._conn.execute("SELECT station, unit_key, phase, sequence, digest, signed, at "
                                 "FROM slots ORDER BY station, unit_key, phase")
        for st, key, phase, seq, digest, signed, at in cur.fetchall():
            yield {"station": st, "unit_key": key, "phase": phase, "sequence": seq,
                   "digest": digest, "signed": json.loads(signed), "at": at}

    def conflicts(self) -> list[dict[str, Any]]:
        cur = self._conn.execute("SELECT id, station, unit_key, phase, sequence, digest, signed, at, "
                                 "reason FROM conflicts ORDER BY id")
        return [{"id": i, "station": st, "unit_key": k, "phase": ph, "sequence": sq, "digest": d,
                 "signed": json.loads(s), "at": at, "reason": r}
                for i, st, k, ph, sq, d, s, at, r in cur.fetchall()]

    def refusals(self, limit: int | None = None) -> list[dict[str, Any]]:
        sql = "SELECT id, code, reason, station, unit_key, digest, at FROM refusals ORDER BY id DESC"
        cur = self._conn.execute(sql + (" LIMIT ?" if limit else ""), (limit,) if limit else ())
        return [{"id": i, "code": c, "reason": r, "station": st, "unit_key": k, "digest": d, "at": at}
                for i, c, r, st, k, d, at in cur.fetchall()]

    def refusal_counts(self) -> dict[str, int]:
        return dict(self._conn.execute("SELECT code, n FROM refusal_counts ORDER BY code").fetchall())

    def journal(self) -> Iterator[JournalRecord]:
        return self.events()

    def accept_held(self, station: str, sequence: int, unit_key: str | None, reason: str,
                    at: float) -> dict[str, Any]:
        held = [c for c in self.conflicts() if c["station"] == station and c["sequence"] == sequence
                and (unit_key is None or c["unit_key"] == unit_key.lower())]
        if len({c["digest"] for c in held}) != 1:
            found = "no" if not held else f"{len(held)} different"
            raise AcceptError(f"{found} held result(s) of station {station!r} with sequence {sequence}"
                              + ("" if not held else ": name the unit with --unit"))
        c = held[0]
        slot = {k: c[k] for k in ("station", "unit_key", "phase", "sequence", "digest", "signed")}
        replaced = next((s for s in self.slots() if (s["station"], s["unit_key"], s["phase"]) ==
                         (c["station"], c["unit_key"], c["phase"])), None)
        data = {**{k: c[k] for k in ("station", "unit_key", "phase", "sequence", "digest")}, "reason": reason,
                "replaced_digest": replaced["digest"] if replaced else None}
        record = self.append_event("result_accepted_by_authority", data, at, durable=False)

        def swap(cur) -> None:
            cur.execute("DELETE FROM conflicts WHERE digest = ? AND station = ?", (c["digest"], station))
            cur.execute("INSERT OR REPLACE INTO slots VALUES (?, ?, ?, ?, ?, ?, ?)",
                        (*(slot[k] for k in ("station", "unit_key", "phase", "sequence", "digest")),
                         canonical_json(slot["signed"]), at))
            if replaced is not None:
                cur.execute("INSERT INTO conflicts (station, unit_key, phase, sequence, digest, signed, at, "
                            "reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
                            (*(replaced[k] for k in ("station", "unit_key", "phase", "sequence", "digest")),
                             canonical_json(replaced["signed"]), at,
                             f"replaced by the authority's decision: {reason}"))
        self._commit([], swap)
        return {**data, "seq": record.seq}


def store_path(url: str) -> Path:
    """``PATH``, ``sqlite:///relative.db`` or ``sqlite:////absolute.db`` -> the file; other
    schemes are refused."""
    if "://" in url:
        scheme, _, rest = url.partition("://")
        if scheme != "sqlite":
            raise StoreOpenError(f"{url}: no {scheme} store is built (SQLite only: a path or "
                                 f"sqlite:///path; see central/store.py for PostgreSQL)")
        url = rest[1:] if rest.startswith("/") else rest  # sqlite:///rel.db, sqlite:////abs.db
    return Path(url)


def open_central_store(url: str, *, durability: str = "full") -> CentralStore:
    """The store at ``url`` (``store_path``): a ``SqliteCentralStore``."""
    return SqliteCentralStore(store_path(url), durability=durability)
