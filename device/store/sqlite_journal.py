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

import json
import sqlite3
from pathlib import Path
from typing import Any, Callable, Iterator

from device.store.canonical_json import canonical_json
from device.store.journal import ChainWriter, JournalRecord, StoreWriteError, WrittenByChainWriter


class SqliteJournal(WrittenByChainWriter):
    """The chained journal over ``_conn`` in the ``journal`` table of each of ``_dbs``."""

    _conn: sqlite3.Connection
    _dbs: tuple[str, ...]
    _chain: ChainWriter
    _path: Path

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

    @property
    def path(self) -> Path:
        return self._path

    def events(self) -> Iterator[JournalRecord]:
        rows = self._conn.execute(
            "SELECT seq, type, at, data, prev_hash, hash FROM journal ORDER BY seq").fetchall()
        committed = [JournalRecord(s, t, a, json.loads(d), p, h) for s, t, a, d, p, h in rows]
        return iter(committed + self._chain.staged)

