"""The unit's durable store: one SQLite database holding the journal and the cast vote records.

``SqliteStore(path, durability="full")`` implements ``device.store.StationStore`` on one SQLite
file (WAL journal mode). Tables:

- ``journal(seq PRIMARY KEY, type, at, data, prev_hash, hash)`` — the hash-chained event
  journal, the same records and hashes as ``device.store.make_record`` gives (``at`` has no
  column type, so an integer time stays an integer and hashes as it did when written);
- ``cvr(id PRIMARY KEY, body) WITHOUT ROWID`` — cast vote records, clustered by their random
  id, so neither the table's storage order nor any read of it follows the order of casting;
- ``unit_meta(name PRIMARY KEY, value)`` — the unit's key pair (``device/store/signing.py``) and
  provisioning facts.

Durability settings (``durability=``):

- ``"full"`` (the device): ``synchronous=FULL`` — every commit is fsync'd before
  ``append_event`` / ``cast_ballot`` return, so a committed cast survives a power cut.
- ``"simulation"`` (large simulations only): ``synchronous=NORMAL`` — in WAL mode a commit is
  not fsync'd, so it survives the *process* being killed (what the power-loss harness does) but
  the last transactions may be lost if the *machine* loses power; the database is never
  corrupted either way. Measured by ``python -m sim.bench store``.

Group commit: ``append_event(..., durable=False)`` chains a record at once but commits it with
the next durable write, in the same transaction (``flush`` commits staged records now;
``close`` flushes). The controller marks which events are durable in the event catalog.

Write-ahead casting: ``cast_ballot`` inserts the cast vote record and its ``ballot_cast`` journal
record in one transaction; it returns only after the commit, and the controller drops the
sheet only after it returns. Any failure to write (disk full, I/O error, locked database)
rolls back and raises ``StoreWriteError`` naming the cause: the unit stops casting, it never
casts unrecorded.

Opening a store checks the whole chain with the auditor's walker (``device/store/chain.py``). A *torn* last record — one whose columns are
incomplete (a NULL or short field, data that is not JSON, a hash that is not 64 hex digits),
as a cut-off write leaves it — is removed, and a ``journal_truncated`` event saying so is
appended. Anything else that breaks the chain (a complete record whose hash does not match its
content, a broken link, a gap in the sequence) is tampering: ``JournalIntegrityError`` names
the record, and the store refuses to open.
"""
from __future__ import annotations

import hashlib
import json
import re
import sqlite3
from pathlib import Path
from typing import Any, Iterator

from device.store.canonical_json import canonical_json
from device.ballots.records import CastVoteRecord
from device.store.chain import chain_fault
from device.store.journal import GENESIS_HASH, JournalRecord, StationStore, StoreWriteError, make_record

DURABILITY = {"full": "FULL", "simulation": "NORMAL"}
SCHEMA_VERSION = "1"
BUSY_TIMEOUT_MS = 2000  # how long a write waits for another connection's (the outbox sender's)
_HEX64 = re.compile(r"^[0-9a-f]{64}$")

_SCHEMA = """
CREATE TABLE IF NOT EXISTS journal (
    seq INTEGER PRIMARY KEY, type TEXT, at, data TEXT, prev_hash TEXT, hash TEXT);
CREATE TABLE IF NOT EXISTS cvr (id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID;
CREATE TABLE IF NOT EXISTS unit_meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
"""


class StoreOpenError(RuntimeError):
    """The database cannot be opened as a unit store (not SQLite, unreadable, wrong schema)."""


class JournalIntegrityError(RuntimeError):
    """The journal's chain is broken somewhere other than a torn last record: tampering."""

    def __init__(self, seq: int, kind: str, detail: str):
        self.seq, self.kind, self.detail = seq, kind, detail
        super().__init__(f"journal record seq {seq}: {kind} ({detail})")


def canonical_data(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as it reads back from JSON (tuples -> lists, keys -> str), so hashes round-trip."""
    return json.loads(_dumps(data))


_dumps = canonical_json


def _torn_reason(row: tuple) -> str | None:
    """Why a raw journal row is incomplete (torn), or None when it is a complete record."""
    seq, type_, at, data, prev_hash, hash_ = row
    if type_ is None or at is None or data is None or prev_hash is None or hash_ is None:
        return "a field is missing"
    if not isinstance(type_, str) or not type_:
        return "the type is empty"
    if not isinstance(at, (int, float)):
        return "the time is not a number"
    if not (isinstance(prev_hash, str) and _HEX64.match(prev_hash)):
        return "prev_hash is not 64 hex digits"
    if not (isinstance(hash_, str) and _HEX64.match(hash_)):
        return "hash is not 64 hex digits"
    try:
        decoded = json.loads(data)
    except (TypeError, ValueError):
        return "data is not complete JSON"
    if not isinstance(decoded, dict):
        return "data is not a JSON object"
    return None


class SqliteStore(StationStore):
    """The durable store of one unit. See the module docstring for tables and durability."""

    def __init__(self, path: str | Path, *, durability: str = "full", clock=None):
        if durability not in DURABILITY:
            raise ValueError(f"durability must be one of {', '.join(DURABILITY)} (got {durability!r})")
        self.path = Path(path)
        self.durability = durability
        self._clock = clock  # used only to time the journal_truncated event at boot
        self.truncated: dict[str, Any] | None = None  # what open() removed, if anything
        try:
            self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            self._conn.execute("PRAGMA journal_mode=WAL").fetchone()
            self._conn.execute(f"PRAGMA synchronous={DURABILITY[durability]}")
            # The outbox's sender (``device send``) may write the same file from another
            # process for a few milliseconds: wait for it rather than fail a cast.
            self._conn.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}").fetchone()
            self._conn.executescript(_SCHEMA)
            self._check_schema()
        except sqlite3.DatabaseError as exc:
            raise StoreOpenError(f"{self.path}: not a usable unit store ({exc})") from None
        self._head_seq, self._head_hash = 0, GENESIS_HASH
        self._pending: list[JournalRecord] = []  # chained, not yet committed (group commit)
        self._open_chain()

    # --- opening ---------------------------------------------------------------------------

    def _check_schema(self) -> None:
        row = self._conn.execute("SELECT value FROM unit_meta WHERE name='schema_version'").fetchone()
        if row is None:
            self._conn.execute("INSERT INTO unit_meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        elif str(row[0]) != SCHEMA_VERSION:
            raise StoreOpenError(f"{self.path}: store schema version {row[0]!r}, expected {SCHEMA_VERSION}")

    def _open_chain(self) -> None:
        """Check the chain (the auditor's walker, ``device/store/chain.py``); remove a torn last
        record; set the head."""
        rows = self._conn.execute(
            "SELECT seq, type, at, data, prev_hash, hash FROM journal ORDER BY seq").fetchall()
        if rows and _torn_reason(rows[-1]) is not None and rows[-1][0] == len(rows):
            self._remove_torn(rows[-1], _torn_reason(rows[-1]))
            rows = rows[:-1]
        records = [None if _torn_reason(r) is not None else
                   {"seq": r[0], "type": r[1], "at": r[2], "data": json.loads(r[3]),
                    "prev_hash": r[4], "hash": r[5]} for r in rows]
        fault = chain_fault(records, complete=True)
        if fault is not None:
            raise JournalIntegrityError(fault.seq or 0, fault.kind, f"{fault.where}: {fault.detail}")
        self._head_seq, self._head_hash = (rows[-1][0], rows[-1][5]) if rows else (0, GENESIS_HASH)
        if self.truncated is not None:
            at = float(self._clock()) if self._clock else (float(rows[-1][2]) if rows else 0.0)
            self.append_event("journal_truncated", self.truncated, at)

    def _remove_torn(self, row: tuple, reason: str) -> None:
        raw = repr(row[1:]).encode("utf-8", "replace")
        self.truncated = {"seq": row[0], "reason": reason,
                          "raw_sha256": hashlib.sha256(raw).hexdigest()}
        self._write(lambda c: c.execute("DELETE FROM journal WHERE seq = ?", (row[0],)))

    # --- writing ---------------------------------------------------------------------------

    def _write(self, body) -> None:
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

    def _next(self, type_: str, data: dict[str, Any], at: float) -> JournalRecord:
        if isinstance(at, bool) or not isinstance(at, (int, float)):
            raise ValueError(f"event time must be a number (got {at!r})")
        return make_record(self._head_seq + 1, type_, at, canonical_data(data), self._head_hash)

    @staticmethod
    def _insert(conn: sqlite3.Connection, rec: JournalRecord) -> None:
        conn.execute("INSERT INTO journal VALUES (?, ?, ?, ?, ?, ?)",
                     (rec.seq, rec.type, rec.at, _dumps(rec.data), rec.prev_hash, rec.hash))

    def _commit(self, records: list[JournalRecord], extra=None) -> None:
        """One transaction: the staged records, then ``records``, and ``extra(conn)`` if given.

        On failure nothing is written and ``records`` are dropped; the staged records stay
        staged (the controller already acted on them) and go out with the next durable write."""
        batch = self._pending + records

        def body(c: sqlite3.Connection) -> None:
            if extra is not None:
                extra(c)
            for r in batch:
                self._insert(c, r)

        self._write(body)
        self._pending = []
        self._head_seq, self._head_hash = batch[-1].seq, batch[-1].hash

    def append_event(self, type_: str, data: dict[str, Any], at: float, *,
                     durable: bool = True) -> JournalRecord:
        rec = self._next(type_, data, at)
        if durable:
            self._commit([rec])
        else:
            self._pending.append(rec)
            self._head_seq, self._head_hash = rec.seq, rec.hash
        return rec

    def flush(self) -> None:
        """Commit the staged (non-durable) records now."""
        if self._pending:
            self._commit([])

    def cast_ballot(self, cvr: CastVoteRecord, event_data: dict[str, Any], at: float) -> JournalRecord:
        rec = self._next("ballot_cast", event_data, at)
        body = _dumps(cvr.to_json())

        def insert_cvr(c: sqlite3.Connection) -> None:
            if c.execute("SELECT 1 FROM cvr WHERE id = ?", (cvr.id,)).fetchone():
                raise StoreWriteError(f"cast vote record id {cvr.id} already exists")
            c.execute("INSERT INTO cvr VALUES (?, ?)", (cvr.id, body))

        self._commit([rec], insert_cvr)
        return rec

    # --- reading ---------------------------------------------------------------------------

    @property
    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last journal record; (0, GENESIS_HASH) for an empty journal."""
        return self._head_seq, self._head_hash

    def events(self) -> Iterator[JournalRecord]:
        rows = self._conn.execute(
            "SELECT seq, type, at, data, prev_hash, hash FROM journal ORDER BY seq").fetchall()
        committed = [JournalRecord(s, t, a, json.loads(d), p, h) for s, t, a, d, p, h in rows]
        return iter(committed + list(self._pending))

    def cast_vote_records(self) -> list[CastVoteRecord]:
        rows = self._conn.execute("SELECT body FROM cvr ORDER BY id").fetchall()
        return [CastVoteRecord.from_json(json.loads(b)) for (b,) in rows]

    # --- unit metadata (key pair, provisioning) --------------------------------------------

    def read_meta(self, name: str) -> bytes | None:
        row = self._conn.execute("SELECT value FROM unit_meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else bytes(row[0]) if not isinstance(row[0], str) else row[0].encode()

    def write_meta(self, name: str, value: bytes) -> None:
        """Set a metadata value once; a second write of a different value is refused."""
        existing = self.read_meta(name)
        if existing is not None and existing != value:
            raise StoreWriteError(f"unit metadata {name!r} is already set and cannot be replaced")
        if existing is None:
            self._write(lambda c: c.execute("INSERT INTO unit_meta VALUES (?, ?)", (name, value)))

    def compact(self) -> None:
        """Erase the order of writes from the file: commit what is staged, move the WAL into the
        database, rebuild every table in key order (``VACUUM``: the cast vote records end up
        laid out by their random id, with no free pages left) and empty the WAL again.

        Within a B-tree page SQLite places each new cell below the previous one, and page
        splits follow insertion, so before this the raw file tells the order of casting."""
        self.flush()
        try:
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
            self._conn.execute("VACUUM")
            self._conn.execute("PRAGMA wal_checkpoint(TRUNCATE)").fetchall()
        except sqlite3.Error as exc:
            raise StoreWriteError(f"cannot compact {self.path.name}: {exc}") from None

    def close(self) -> None:
        try:
            self.flush()
        except StoreWriteError:
            pass  # what could not be committed was never durable; boot resolves the rest
        try:
            self._conn.close()
        except sqlite3.Error:  # pragma: no cover - closing a broken connection
            pass

    def __enter__(self) -> SqliteStore:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

