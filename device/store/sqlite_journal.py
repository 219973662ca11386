"""The journal in SQLite: one chained ``journal`` table written through the store's ``ChainWriter``.

``SqliteJournal`` is the ``ChainedJournal`` of the SQLite stores — the unit's
(``device/store/sqlite.py``, which opens the file, checks the chain and sets ``_chain``) and,
through it, the central tally's (``central/store.py``). Every write is one immediate transaction
over every attached copy (``_dbs``: the store and its mirror); a failure rolls back and raises
``StoreWriteError`` naming the cause. ``commit_records`` is the one way records reach the table:
the staged records and the new ones, after whatever rows the caller writes in the same
transaction (a cast vote record, the central tally's decisions).
"""
from __future__ import annotations

import hashlib
import json
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator

from device.store.canonical_json import canonical_json
from device.store.chain import chain_fault, row_record, torn_reason
from device.store.journal import ChainWriter, JournalRecord, StoreWriteError, WrittenByChainWriter

DURABILITY = {"full": "FULL", "simulation": "OFF"}  # synchronous=: see device/store/sqlite.py
BUSY_TIMEOUT_MS = 2000  # how long a write waits for another connection's (the outbox sender's)
JOURNAL_TABLE = """
CREATE TABLE IF NOT EXISTS {db}.journal (
    seq INTEGER PRIMARY KEY, type TEXT, at, data TEXT, prev_hash TEXT, hash TEXT);
"""


class StoreOpenError(RuntimeError):
    """The database cannot be opened as a store (not SQLite, unreadable, wrong schema)."""


class JournalIntegrityError(RuntimeError):
    """The journal's chain is broken somewhere other than a torn last record: tampering."""

    def __init__(self, seq: int, kind: str, detail: str):
        self.seq, self.kind, self.detail = seq, kind, detail
        super().__init__(f"journal record seq {seq}: {kind} ({detail})")


class SqliteJournal(WrittenByChainWriter):
    """The chained journal over ``_conn`` in the ``journal`` table of each of ``_dbs``."""

    journal_mode = "TRUNCATE"  # a store that holds no ballot may use WAL
    durability = "full"
    truncated: dict[str, Any] | None = None  # the torn last record the opening removed, if any
    _conn: sqlite3.Connection
    _dbs: tuple[str, ...]
    _chain: ChainWriter
    _path: Path

    # --- opening ---------------------------------------------------------------------------

    def _pragmas(self, db: str, extra: tuple[str, ...] = ()) -> None:
        self._conn.execute(f"PRAGMA {db}.journal_mode={self.journal_mode}").fetchone()
        for pragma in extra:
            self._conn.execute(f"PRAGMA {db}.{pragma}").fetchone()
        self._conn.execute(f"PRAGMA {db}.synchronous={DURABILITY[self.durability]}")
        # Another process (the outbox's sender, ``device send``) may write the same file for a
        # few milliseconds: wait for it rather than fail a write.
        self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}").fetchone()

    def _check_chain(self) -> list[tuple[Any, ...]]:
        """Check the chain with the auditor's walker (``device/store/chain.py``), remove a torn
        last record (``truncated`` says what, for the opener to journal), set the head; return
        the journal's rows."""
        rows = self._conn.execute(
            "SELECT seq, type, at, data, prev_hash, hash FROM journal ORDER BY seq").fetchall()
        torn = torn_reason(rows[-1]) if rows else None
        if torn is not None and rows[-1][0] == len(rows):
            self._remove_torn(rows[-1], torn)
            rows = rows[:-1]
        fault = chain_fault([row_record(r) for r in rows], complete=True)
        if fault is not None:
            raise JournalIntegrityError(fault.seq or 0, fault.kind, f"{fault.where}: {fault.detail}")
        self._chain = ChainWriter(rows[-1][0], rows[-1][5], rows[-1][2]) if rows else ChainWriter()
        return rows

    def _remove_torn(self, row: tuple[Any, ...], reason: str) -> None:
        raw = repr(row[1:]).encode("utf-8", "replace")
        self.truncated = {"seq": row[0], "reason": reason,
                          "raw_sha256": hashlib.sha256(raw).hexdigest()}
        self._write(lambda c: [c.execute(f"DELETE FROM {db}.journal WHERE seq = ?", (row[0],))
                               for db in self._dbs])

    # --- writing ---------------------------------------------------------------------------

    def _write(self, body: Callable[[sqlite3.Connection], Any]) -> None:
        """Run ``body(conn)`` in one immediate transaction; any failure -> StoreWriteError."""
        conn = self._conn
        try:
            conn.execute("BEGIN IMMEDIATE")
            try:
                body(conn)
                conn.execute("COMMIT")
            except BaseException:
                if conn.in_transaction:
                    conn.execute("ROLLBACK")
                raise
        except sqlite3.IntegrityError as exc:
            raise StoreWriteError(f"record rejected by the store: {exc}") from None
        except sqlite3.Error as exc:
            raise StoreWriteError(f"cannot write to {self.path.name}: {exc}") from None

    def _insert(self, conn: sqlite3.Connection, rec: JournalRecord) -> None:
        row = (rec.seq, rec.type, rec.at, canonical_json(rec.data), rec.prev_hash, rec.hash)
        for db in self._dbs:
            conn.execute(f"INSERT INTO {db}.journal VALUES (?, ?, ?, ?, ?, ?)", row)

    def commit_records(self, events: list[tuple[str, dict[str, Any], float]],
                       extra: Callable[[sqlite3.Connection], Any] | None = None) -> list[JournalRecord]:
        """One transaction: ``extra(conn)`` if given, then the staged records and those of
        ``events`` (type, data, at), chained by the store's ``ChainWriter``; returns the new records.

        On failure nothing is written, the new records are dropped (the head stays where it
        was) and the staged records stay staged (the controller already acted on them)."""
        records = self._chain.chain(events)

        def write(batch: list[JournalRecord]) -> None:
            def body(c: sqlite3.Connection) -> None:
                if extra is not None:
                    extra(c)
                for r in batch:
                    self._insert(c, r)
            self._write(body)

        self._chain.commit(write, records)
        return records

    def append_event(self, type_: str, data: dict[str, Any], at: float, *,
                     durable: bool = True) -> JournalRecord:
        if durable:
            return self.commit_records([(type_, data, at)])[0]
        rec = self._chain.chain([(type_, data, at)])[0]
        self._chain.stage([rec])
        return rec

    def flush(self) -> None:
        """Commit the staged (non-durable) records now."""
        if self._chain.staged:
            self.commit_records([])

    # --- reading ---------------------------------------------------------------------------

    @property
    def path(self) -> Path:
        return self._path

    def events(self) -> Iterator[JournalRecord]:
        rows = self._conn.execute(
            "SELECT seq, type, at, data, prev_hash, hash FROM journal ORDER BY seq").fetchall()
        committed = [JournalRecord(s, t, a, json.loads(d), p, h) for s, t, a, d, p, h in rows]
        return iter(committed + self._chain.staged)

