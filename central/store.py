"""Where the central tally keeps its decisions: the store contract and its SQLite implementation.

``CentralStore`` is all the service needs: ``decide_and_commit(after, decide)`` makes a batch
of decisions durable in one transaction (group commit: the writer batches concurrent uploads),
deciding *inside* it against what every process sharing the store committed (``shared``
stores: PostgreSQL, several ingest processes); ``load()`` reads back, consistently, what was
accepted, what conflicted, what was refused, and the journal; ``publishing()`` says whether
this process publishes the site (the elected one); ``accept_held`` is the authority's explicit
decision (``ballotbox central accept``).

Every decision is a record of the *same hash-chained journal a unit keeps*
(``device.store.journal``: ``seq``, ``type``, ``at``, ``data``, ``prev_hash``, ``hash``;
checked when the store opens, tampering refused), so ``ballotbox audit`` tooling and anyone
holding an export can check the chain the same way. Journal types: ``JOURNAL_TYPES``. The rows
beside it (the same SQL for both implementations, ``SqlRows``):

- ``slots(station, unit_key, phase, sequence, digest, signed, at)``: one accepted result per
  (station, unit, phase) — the signed message as received, canonical JSON;
- ``conflicts(id, station, unit_key, phase, sequence, digest, signed, at, reason)``;
- ``refusals(id, code, reason, station, unit_key, digest, at)``: no body is kept, the fields
  are clipped where the upload chose them (``central.decisions.clip``), and only the latest
  ``REFUSALS_KEPT`` rows stay; ``refusal_counts(code, n)`` counts every refusal by code.

``open_central_store(url)``: a path or ``sqlite:///path`` opens ``SqliteCentralStore`` (the
embedded default); ``postgresql://...`` opens ``central.store_pg.PostgresCentralStore``.
"""
from __future__ import annotations

import json
import sqlite3
from abc import abstractmethod
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Callable, Iterator

from device.store.canonical_json import canonical_json
from device.store.journal import ChainedJournal, JournalRecord
from device.store.sqlite_journal import DURABILITY, JOURNAL_TABLE, SqliteJournal, StoreOpenError

JOURNAL_TYPES = ("result_accepted", "result_duplicate", "result_conflict", "upload_refused",
                 "result_accepted_by_authority")
REFUSALS_KEPT = 10_000  # the refusals table keeps the latest these; refusal_counts counts all
SLOT_FIELDS = ("station", "unit_key", "phase", "sequence", "digest")

_SQLITE_TABLES = """
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


class AcceptError(ValueError):
    """No held result matches what the authority asked to accept."""


@dataclass
class Entry:
    """One decision to make durable: its journal record, and the rows it changes (if any)."""

    type: str  # one of JOURNAL_TYPES
    data: dict[str, Any]
    at: float
    slot: dict[str, Any] | None = None  # result_accepted: the slot's (new) result
    conflict: dict[str, Any] | None = None  # result_conflict: a result kept aside
    refusal: dict[str, Any] | None = None  # upload_refused
    resolves: tuple[str, str] | None = None  # (station, digest) of a held result now accepted
    record: JournalRecord | None = field(default=None, repr=False)  # set by commit


class SqlRows:
    """The rows beside the journal, in SQL both SQLite and PostgreSQL run (``?`` placeholders;
    PostgreSQL's store turns them into ``%s``): written by ``write``, read by the queries."""

    INSERT_SLOT = "INSERT INTO slots VALUES (?, ?, ?, ?, ?, ?, ?)"  # a second acceptance: unique violation
    UPSERT_SLOT = ("INSERT INTO slots VALUES (?, ?, ?, ?, ?, ?, ?) ON CONFLICT (station, unit_key, phase) "
                   "DO UPDATE SET sequence = excluded.sequence, digest = excluded.digest, "
                   "signed = excluded.signed, at = excluded.at")
    INSERT_CONFLICT = ("INSERT INTO conflicts (station, unit_key, phase, sequence, digest, signed, at, "
                       "reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?)")
    INSERT_REFUSAL = ("INSERT INTO refusals (code, reason, station, unit_key, digest, at) "
                      "VALUES (?, ?, ?, ?, ?, ?)")
    COUNT_REFUSAL = ("INSERT INTO refusal_counts VALUES (?, 1) "
                     "ON CONFLICT (code) DO UPDATE SET n = refusal_counts.n + 1")
    CAP_REFUSALS = "DELETE FROM refusals WHERE id <= (SELECT max(id) FROM refusals) - ?"
    RESOLVE = "DELETE FROM conflicts WHERE station = ? AND digest = ?"
    SLOTS = "SELECT station, unit_key, phase, sequence, digest, signed, at FROM slots ORDER BY station, unit_key, phase"
    CONFLICTS = ("SELECT id, station, unit_key, phase, sequence, digest, signed, at, reason "
                 "FROM conflicts ORDER BY id")
    REFUSALS = "SELECT id, code, reason, station, unit_key, digest, at FROM refusals ORDER BY id DESC"
    REFUSAL_COUNTS = "SELECT code, n FROM refusal_counts ORDER BY code"

    @classmethod
    def write(cls, execute: Callable[[str, tuple], Any], entries: list[Entry]) -> None:
        for e in entries:
            if e.resolves is not None:
                execute(cls.RESOLVE, e.resolves)
            if e.slot is not None:
                s = e.slot
                sql = cls.INSERT_SLOT if e.type == "result_accepted" else cls.UPSERT_SLOT
                execute(sql, (*(s[k] for k in SLOT_FIELDS), canonical_json(s["signed"]), e.at))
            if e.conflict is not None:
                s = e.conflict
                execute(cls.INSERT_CONFLICT, (*(s[k] for k in SLOT_FIELDS), canonical_json(s["signed"]),
                                              e.at, s["reason"]))
            if e.refusal is not None:
                r = e.refusal
                execute(cls.INSERT_REFUSAL, (r["code"], r["reason"], r.get("station"), r.get("unit_key"),
                                             r.get("digest"), e.at))
                execute(cls.COUNT_REFUSAL, (r["code"],))
        if any(e.refusal is not None for e in entries):
            execute(cls.CAP_REFUSALS, (REFUSALS_KEPT,))


@dataclass
class StoreState:
    """Everything a starting service reads, as of one journal record (``head_seq``)."""

    slots: list[dict[str, Any]]
    conflicts: list[dict[str, Any]]
    refusals: list[dict[str, Any]]  # the latest few, newest first
    refusal_counts: dict[str, int]
    journal: list[JournalRecord]

    @property
    def head_seq(self) -> int:
        return self.journal[-1].seq if self.journal else 0


class CentralStore(ChainedJournal):
    """The store contract of the central tally: the chained journal every store offers
    (``device.store.journal.ChainedJournal``), the decisions' rows beside it (the reads are
    shared SQL, ``SqlRows``), and who publishes."""

    held_lock: int | None = None  # the lock (``central.locks``) of the process holding the store
    shared = False  # True: several services ingest into this store at once (PostgreSQL)

    def decide_and_commit(self, after: int, decide: Callable[[list[Entry]], list[Entry]]) -> list[Entry]:
        """In one transaction: the decisions other processes committed after journal record
        ``after`` (the *news*, as entries with their records and rows), then ``decide(news)``'s
        entries chained and written. Returns the news. A store one process writes has no news."""
        self.commit(decide([]))
        return []

    def head_seq(self) -> int:
        """The last journal record's sequence number."""
        return self.head[0]

    def publishing(self) -> bool:
        """Whether this process publishes the site (a store one process writes: always)."""
        return True

    def resign(self) -> None:
        """Stop publishing (another may take over)."""

    def load(self, recent_refusals: int) -> StoreState:
        """What a starting service reads, consistent as of one journal record."""
        return StoreState(list(self.slots()), self.conflicts(), self.refusals(recent_refusals),
                          self.refusal_counts(), list(self.journal()))

    @abstractmethod
    def commit(self, entries: list[Entry]) -> None:
        """Journal and store every entry in one transaction; raise ``StoreWriteError`` on failure
        (then nothing of the batch is kept)."""

    @abstractmethod
    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        """The rows of one query (``?`` placeholders)."""

    def journal(self) -> Iterator[JournalRecord]:
        """The journal's records (``events()``)."""
        return self.events()

    def close(self) -> None:  # pragma: no cover - trivial default
        pass

    def slots(self) -> Iterator[dict[str, Any]]:
        """Accepted results: station, unit_key, phase, sequence, digest, signed (dict), at."""
        for st, key, phase, seq, digest, signed, at in self._rows(SqlRows.SLOTS):
            yield {"station": st, "unit_key": key, "phase": phase, "sequence": seq,
                   "digest": digest, "signed": json.loads(signed), "at": at}

    def conflicts(self) -> list[dict[str, Any]]:
        return [{"id": i, "station": st, "unit_key": k, "phase": ph, "sequence": sq, "digest": d,
                 "signed": json.loads(s), "at": at, "reason": r}
                for i, st, k, ph, sq, d, s, at, r in self._rows(SqlRows.CONFLICTS)]

    def refusals(self, limit: int | None = None) -> list[dict[str, Any]]:
        """The most recent refusals first."""
        rows = self._rows(SqlRows.REFUSALS + (" LIMIT ?" if limit else ""), (limit,) if limit else ())
        return [{"id": i, "code": c, "reason": r, "station": st, "unit_key": k, "digest": d, "at": at}
                for i, c, r, st, k, d, at in rows]

    def refusal_counts(self) -> dict[str, int]:
        """Every refusal ever made, by decision code."""
        return dict(self._rows(SqlRows.REFUSAL_COUNTS))

    def accept_held(self, station: str, sequence: int, unit_key: str | None, reason: str,
                    at: float) -> dict[str, Any]:
        """The authority's decision: the held (conflicting) result of ``station`` with
        ``sequence`` becomes the slot's result; the result it replaces, if any, is kept among the
        conflicts; one ``result_accepted_by_authority`` record journals it with the reason.
        Raises ``AcceptError`` when no single held result matches."""
        held = [c for c in self.conflicts() if c["station"] == station and c["sequence"] == sequence
                and (unit_key is None or c["unit_key"] == unit_key.lower())]
        if len({c["digest"] for c in held}) != 1:
            found = "no" if not held else f"{len(held)} different"
            raise AcceptError(f"{found} held result(s) of station {station!r} with sequence {sequence}"
                              + ("" if not held else ": name the unit with --unit"))
        c = held[0]
        replaced = next((s for s in self.slots() if (s["station"], s["unit_key"], s["phase"]) ==
                         (c["station"], c["unit_key"], c["phase"])), None)
        data = {**{k: c[k] for k in SLOT_FIELDS}, "reason": reason,
                "replaced_digest": replaced["digest"] if replaced else None}
        aside = None if replaced is None else {
            **replaced, "reason": f"replaced by the authority's decision: {reason}"}
        entry = Entry("result_accepted_by_authority", data, at, slot={k: c[k] for k in (*SLOT_FIELDS, "signed")},
                      conflict=aside, resolves=(station, c["digest"]))
        self.commit([entry])
        assert entry.record is not None  # set by the commit
        return {**data, "seq": entry.record.seq}


class SqliteCentralStore(SqliteJournal, CentralStore):
    """One SQLite file: the journal (the same table and chain as a unit's, ``SqliteJournal``),
    plus slots, conflicts, refusals."""

    journal_mode = "WAL"  # holds no ballot: WAL's ordered log reveals nothing here

    def __init__(self, path: str | Path, *, durability: str = "full"):
        if durability not in DURABILITY:
            raise ValueError(f"durability must be one of {', '.join(DURABILITY)} (got {durability!r})")
        self._path, self.durability, self._dbs = Path(path), durability, ("main",)
        try:
            self._conn = sqlite3.connect(str(self._path), isolation_level=None, check_same_thread=False)
            self._pragmas("main", ("secure_delete=ON",))  # capped refusals leave no readable rows
            self._conn.executescript(JOURNAL_TABLE.format(db="main") + _SQLITE_TABLES)
        except sqlite3.DatabaseError as exc:
            raise StoreOpenError(f"{path}: not a usable central store ({exc})") from None
        self._check_chain()
        if self.truncated is not None:
            self.append_event("journal_truncated", self.truncated, self.head_at)

    def commit(self, entries: list[Entry]) -> None:
        """The entries' records and rows in one transaction (the chain writer's: on failure
        nothing of the batch is chained or written)."""
        if not entries:
            return
        records = self.commit_records([(e.type, e.data, e.at) for e in entries],
                                      lambda c: SqlRows.write(c.execute, entries))
        for e, record in zip(entries, records):
            e.record = record

    def _rows(self, sql: str, params: tuple = ()) -> list[tuple]:
        return self._conn.execute(sql, params).fetchall()


def store_path(url: str) -> Path:
    """``PATH``, ``sqlite:///relative.db`` or ``sqlite:////absolute.db`` -> the file."""
    if "://" in url:
        scheme, _, rest = url.partition("://")
        if scheme != "sqlite":
            raise StoreOpenError(f"no {scheme} store (a SQLite path, sqlite:///path or postgresql://...)")
        url = rest[1:] if rest.startswith("/") else rest  # sqlite:///rel.db, sqlite:////abs.db
    return Path(url)


def is_postgres(url: str) -> bool:
    return url.startswith(("postgresql://", "postgres://"))


def open_central_store(url: str, *, durability: str = "full", alone: bool = False) -> CentralStore:
    """``postgresql://...`` -> ``PostgresCentralStore`` (``alone``: only if no service runs on it,
    as ``central accept`` needs); else the SQLite file of ``store_path``."""
    if is_postgres(url):
        from central.store_pg import PostgresCentralStore
        return PostgresCentralStore(url, alone=alone)
    return SqliteCentralStore(store_path(url), durability=durability)
