"""The unit's durable store: one SQLite database holding the journal and the cast vote records,
written in the same transactions to a second database on another medium (the mirror).

``SqliteStore(path, durability="full", mirror=None)`` implements ``device.store.StationStore``
and keeps the unit's metadata and its outbox; its journal is written by ``SqliteJournal``
(``device/store/sqlite_journal.py``) with the chain writer every store shares.
Tables (the same in both files):

- ``journal(seq PRIMARY KEY, type, at, data, prev_hash, hash)`` — the hash-chained event
  journal, the same records and hashes as ``device.store.make_record`` gives (``at`` has no
  column type, so an integer time stays an integer and hashes as it did when written);
- ``cvr_slot(slot PRIMARY KEY, body)`` — cast vote records in a fixed table of random slots
  written in place (``device/store/cvr_slots.py``), so no file ever holds the order of casting;
- ``unit_meta(name PRIMARY KEY, value)`` — the unit's key pair (``device/store/signing.py``) and
  provisioning facts.

Journal mode: a rollback journal truncated at each commit, with ``secure_delete`` — not WAL:
WAL frames keep every write in commit order until a checkpoint, and WAL recovery silently drops
every frame after a damaged one. (The central tally's store, which holds no ballot, keeps WAL.)

The mirror (``mirror=PATH``): the second file is ATTACHed to the same connection and every
write goes to both in one transaction — SQLite commits a transaction over several rollback-
journal databases atomically (a super-journal), so a cast is on both media or on neither. At
open, ``device/store/copies.py`` compares the two copies record by record (chain hashes, slot
checksums, counts): a missing, shorter or damaged copy is rebuilt from the other and a
``store_repaired`` event names the medium and what was restored; if the two cannot give back
every committed record, ``StoreDamagedError`` names both faults and the unit does not start.

Durability (``durability=``): ``"full"`` (the device) sets ``synchronous=FULL`` — every commit
is fsync'd before ``append_event`` / ``cast_ballot`` return, so a committed cast survives a power
cut; ``"simulation"`` (simulations and tests only) sets ``synchronous=OFF`` — no fsync: the
operating system still has every write, so it survives the *process* being killed (what the
power-loss harness does), not the machine losing power. A rollback-journal commit costs about six
fsyncs at FULL (one in WAL), about twenty with the mirror (the super-journal): measured by
``python -m sim.bench store`` and reported in docs/secrecy.md.

Group commit: ``append_event(..., durable=False)`` chains a record at once but commits it with
the next durable write, in the same transaction (``flush`` commits staged records now;
``close`` flushes). The controller marks which events are durable in the event catalog.

Write-ahead casting: ``cast_ballot`` writes the cast vote record and its ``ballot_cast`` journal
record in one transaction; it returns only after the commit, and the controller drops the
sheet only after it returns. Any failure to write (disk full, I/O error, locked database)
rolls back and raises ``StoreWriteError`` naming the cause: the unit never casts unrecorded.

Opening a store checks the whole chain with the auditor's walker (``device/store/chain.py``),
every slot's checksum and that there are as many cast vote records as ``ballot_cast`` records.
A *torn* last record (a NULL or short field, data that is not JSON, a hash that is not 64 hex
digits) is removed and a ``journal_truncated`` event says so. Anything else (a complete record
whose hash does not match, a broken link, a gap, a damaged or missing cast vote record) raises
``JournalIntegrityError`` or ``StoreDamagedError`` naming the record: the store does not open.
"""
from __future__ import annotations

import json
import os
import random
import sqlite3
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable

from device.store.cast_vote_record import CastVoteRecord
from device.store.canonical_json import canonical_json
from device.store.cvr_slots import EMPTY, SCHEMA as SLOT_SCHEMA, UNIT_PRAGMAS, SlotError, blocks_to_add, \
    decode_slot, encode_slot
from device.store.journal import JournalRecord, StationStore, StoreWriteError, UnitMetadata
from device.store.sqlite_journal import DURABILITY as DURABILITY
from device.store.sqlite_journal import JOURNAL_TABLE, SqliteJournal
from device.store.sqlite_journal import JournalIntegrityError as JournalIntegrityError
from device.store.sqlite_journal import StoreOpenError as StoreOpenError

if TYPE_CHECKING:
    from device.store.outbox import Outbox

SCHEMA_VERSION = "2"
MIRROR_META = "keeps_mirror"  # set at the first open with a mirror: never opened without it again

_SCHEMA = JOURNAL_TABLE + """
CREATE TABLE IF NOT EXISTS {db}.unit_meta (name TEXT PRIMARY KEY, value BLOB NOT NULL) WITHOUT ROWID;
"""


class StoreDamagedError(StoreOpenError):
    """A copy of the store lost or damaged a committed record (and no other copy restores it)."""


_dumps = canonical_json


def _create_owner_only(path: Path) -> None:
    """Create ``path`` empty with mode 0600 if it does not exist (SQLite then creates its journal
    files with the database's mode); an existing file is left as it is."""
    try:
        os.close(os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600))
    except FileExistsError:
        pass
    except OSError:
        pass  # a folder that does not exist: sqlite3.connect names the problem


class SqliteStore(SqliteJournal, StationStore, UnitMetadata):
    """The durable store of one unit. See the module docstring for tables and durability.
    It keeps the unit's metadata (``unit_metadata()`` is itself) and its outbox (``outbox()``)."""

    journal_mode = "TRUNCATE"  # see the module docstring

    def __init__(self, path: str | Path, *, durability: str = "full",
                 clock: Callable[[], float] | None = None,
                 mirror: str | Path | None = None, rng: random.Random | None = None):
        if durability not in DURABILITY:
            raise ValueError(f"durability must be one of {', '.join(DURABILITY)} (got {durability!r})")
        self._path = Path(path)
        self.mirror = Path(mirror) if mirror is not None else None
        self.durability = durability
        self._clock = clock  # used only to time the events appended at boot
        self._rng = rng or random.SystemRandom()  # slot choice: never predictable on a device
        self.repairs: list[dict[str, Any]] = []  # what open() restored from the other medium
        if self.mirror is not None:
            from device.store.copies import reconcile
            self.repairs = reconcile(self, self.path, self.mirror)
        self._dbs = ("main",) if self.mirror is None else ("main", "mirror")
        for medium in (self.path, self.mirror):  # both copies hold the unit key: owner-only from birth
            if medium is not None:
                _create_owner_only(medium)
        try:
            self._conn = sqlite3.connect(str(self.path), isolation_level=None, check_same_thread=False)
            if self.mirror is not None:
                self._conn.execute("ATTACH DATABASE ? AS mirror", (str(self.mirror),))
            for db in self._dbs:
                self._pragmas(db, UNIT_PRAGMAS[1:])
                self._conn.executescript(_SCHEMA.format(db=db) + SLOT_SCHEMA.format(db=db))
                self._check_schema(db)
        except sqlite3.DatabaseError as exc:
            raise StoreOpenError(f"{self.path}: not a usable unit store ({exc})") from None
        self._open_chain()
        if self.mirror is not None and self.read_meta(MIRROR_META) is None:
            self.write_meta(MIRROR_META, b"1")
        elif self.mirror is None and self.read_meta(MIRROR_META) is not None:
            self._conn.close()
            raise StoreOpenError(f"{self.path}: this store keeps a mirror on a second medium; open it "
                                 "with its mirror ([store] mirror in unit.toml, --mirror)")

    # --- opening ---------------------------------------------------------------------------

    def _check_schema(self, db: str) -> None:
        row = self._conn.execute(f"SELECT value FROM {db}.unit_meta WHERE name='schema_version'").fetchone()
        if row is None:
            self._conn.execute(f"INSERT INTO {db}.unit_meta VALUES ('schema_version', ?)", (SCHEMA_VERSION,))
        elif (row[0].decode() if isinstance(row[0], bytes) else str(row[0])) != SCHEMA_VERSION:
            raise StoreOpenError(f"{self.path}: store schema version {row[0]!r}, expected {SCHEMA_VERSION}")

    def _open_chain(self) -> None:
        """Check the chain (``SqliteJournal._check_chain``) and the cast vote records; journal
        what the opening did (a copy restored, a torn record removed)."""
        rows = self._check_chain()
        self._slots = {db: self._read_slots(db) for db in self._dbs}
        ids = self._cvr_ids = {json.loads(p)["id"] for p in self._slots["main"][2]}
        cast = sum(1 for r in rows if r[1] == "ballot_cast")
        if cast != len(ids):
            raise StoreDamagedError(f"{self.path}: {cast} ballot_cast record(s) in the journal but "
                                    f"{len(ids)} cast vote record(s): a committed record is missing")
        at = float(self._clock()) if self._clock else float(self.head_at)
        for repair in self.repairs:
            self.append_event("store_repaired", repair, max(at, self.head_at))
        if self.truncated is not None:
            self.append_event("journal_truncated", self.truncated, max(at, self.head_at))

    def _read_slots(self, db: str) -> tuple[int, list[int], list[bytes]]:
        """(number of slots, free slot numbers, used slots' JSON); a damaged slot is named."""
        total, free, used = 0, [], []
        for slot, body in self._conn.execute(f"SELECT slot, body FROM {db}.cvr_slot ORDER BY slot"):
            total += 1
            try:
                payload = decode_slot(body)
            except SlotError as exc:
                raise StoreDamagedError(f"{self.path}: cast vote record in slot {slot} is damaged "
                                        f"({exc})") from None
            free.append(slot) if payload is None else used.append(payload)
        return total, free, used

    # --- writing ---------------------------------------------------------------------------

    def _place(self, c: sqlite3.Connection, payloads: list[bytes]) -> dict[str, tuple[int, list[int]]]:
        """Write each record into a random free slot of every copy (adding a block of slots
        first when fewer than half are free); return each copy's new (total, free) to keep
        once the transaction commits."""
        after = {}
        for db in self._dbs:
            total, free, _ = self._slots[db]
            free = list(free)
            for payload in payloads:
                grow = blocks_to_add(total, len(free))
                if grow:
                    c.executemany(f"INSERT INTO {db}.cvr_slot VALUES (?, ?)",
                                  ((s, EMPTY) for s in range(total, total + grow)))
                    free += range(total, total + grow)
                    total += grow
                slot = free.pop(self._rng.randrange(len(free)))
                c.execute(f"UPDATE {db}.cvr_slot SET body = ? WHERE slot = ?", (encode_slot(payload), slot))
            after[db] = (total, free)
        return after

    def cast_ballot(self, cvr: CastVoteRecord, event_data: dict[str, Any], at: float) -> JournalRecord:
        if cvr.id in self._cvr_ids:
            raise StoreWriteError(f"cast vote record id {cvr.id} already exists")
        payload = _dumps(cvr.to_json()).encode("utf-8")
        try:
            encode_slot(payload)
        except SlotError as exc:
            raise StoreWriteError(str(exc)) from None
        placed: dict[str, tuple[int, list[int]]] = {}
        rec = self.commit_records([("ballot_cast", event_data, at)],
                                  lambda c: placed.update(self._place(c, [payload])))[0]
        self._keep_slots(placed, [payload])
        self._cvr_ids.add(cvr.id)
        return rec

    def _keep_slots(self, placed: dict[str, tuple[int, list[int]]], payloads: list[bytes]) -> None:
        for db, (total, free) in placed.items():
            self._slots[db] = (total, free, self._slots[db][2] + payloads)

    def restore(self, records: list[dict[str, Any]], cvrs: list[bytes], meta: dict[str, bytes]) -> None:
        """Fill an empty store with another copy's records, cast vote records (in random slots)
        and metadata, in one transaction (``device/store/copies.py`` rebuilds a copy so)."""
        def body(c: sqlite3.Connection) -> None:
            for name, value in meta.items():
                c.execute("INSERT OR REPLACE INTO unit_meta VALUES (?, ?)", (name, value))
            c.executemany("INSERT INTO journal VALUES (?, ?, ?, ?, ?, ?)",
                          [(r["seq"], r["type"], r["at"], _dumps(r["data"]), r["prev_hash"], r["hash"])
                           for r in records])
            placed.update(self._place(c, cvrs))
        placed: dict[str, tuple[int, list[int]]] = {}
        self._write(body)
        self._keep_slots(placed, cvrs)

    # --- reading ---------------------------------------------------------------------------

    def cast_vote_records(self) -> list[CastVoteRecord]:
        cvrs = [CastVoteRecord.from_json(json.loads(p)) for p in self._read_slots("main")[2]]
        return sorted(cvrs, key=lambda c: c.id)

    # --- unit metadata (key pair, provisioning), the outbox ---------------------------------

    def unit_metadata(self) -> UnitMetadata:
        return self

    def outbox(self) -> Outbox:
        from device.store.outbox import Outbox
        return Outbox(self.path)

    def read_meta(self, name: str) -> bytes | None:
        row = self._conn.execute("SELECT value FROM unit_meta WHERE name = ?", (name,)).fetchone()
        return None if row is None else bytes(row[0]) if not isinstance(row[0], str) else row[0].encode()

    def write_meta(self, name: str, value: bytes) -> None:
        """Set a metadata value once; a second write of a different value is refused."""
        existing = self.read_meta(name)
        if existing is not None and existing != value:
            raise StoreWriteError(f"unit metadata {name!r} is already set and cannot be replaced")
        if existing is None:
            self._write(lambda c: [c.execute(f"INSERT INTO {db}.unit_meta VALUES (?, ?)", (name, value))
                                   for db in self._dbs])

    def compact(self) -> None:
        """Rewrite the files so that they keep no trace of the order of writes: commit what is
        staged, lay the cast vote records out by their random id in the first slots (the rest
        empty) and rebuild every table in key order (``VACUUM``, no free pages left)."""
        self.flush()
        payloads = sorted(self._slots["main"][2], key=lambda p: json.loads(p)["id"])

        def relay(c: sqlite3.Connection) -> None:
            for db in self._dbs:
                total = self._slots[db][0]
                c.execute(f"DELETE FROM {db}.cvr_slot")
                c.executemany(f"INSERT INTO {db}.cvr_slot VALUES (?, ?)",
                              [(i, encode_slot(p)) for i, p in enumerate(payloads)] +
                              [(i, EMPTY) for i in range(len(payloads), total)])
        try:
            self._write(relay)
            for db in self._dbs:
                self._conn.execute(f"VACUUM {db}")
        except (sqlite3.Error, StoreWriteError) as exc:
            raise StoreWriteError(f"cannot compact {self.path.name}: {exc}") from None
        self._slots = {db: self._read_slots(db) for db in self._dbs}

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

    def __exit__(self, *exc: object) -> None:
        self.close()
