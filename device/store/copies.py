"""The unit's two copies of its store, compared at boot: repair the damaged one, or stop.

Like the urna's internal flash and memory card, the unit keeps every committed record on two
media (``SqliteStore(path, mirror=...)`` writes both in one transaction). A power cut, a worn
card or one flipped bit can still leave one copy shorter or damaged — and SQLite itself does not
always say so (a damaged WAL frame, a cell count, a zeroed row). So at boot, before the store is
opened for writing, ``reconcile`` reads each copy without trusting it (``read_copy``):

- journal records whose own hash matches their content, by ``seq``;
- cast vote records whose slot checksum matches (``device/store/cvr_slots.py``);
- the unit's metadata and any other table (the outbox), as found.

``merge`` rebuilds the one history both copies tell: record by record, the one that chains on
the previous; every good cast vote record of either copy. Nothing may be missing: a copy that
has more journal rows than the merged chain, fewer cast vote records than ``ballot_cast``
records, two copies that disagree on a record or a metadata value — each is a named loss, and
``StoreDamagedError`` names both copies' findings: the unit does not start on a shorter day.
Otherwise each copy that differs from the merged history in any way (missing, unreadable,
shorter, a damaged record or slot) is rebuilt from it in a new file that replaces the old one
(``rebuild``), and ``reconcile`` returns one ``store_repaired`` record per rebuilt copy.
"""
from __future__ import annotations

import functools
import os
import sqlite3
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from device.store.chain import row_record
from device.store.cvr_slots import SlotError, decode_slot
from device.store.journal import GENESIS_HASH, record_hash

if TYPE_CHECKING:
    from device.store.sqlite import SqliteStore

OWN_TABLES = ("journal", "cvr_slot", "unit_meta")
_SIDE_FILES = ("-journal", "-wal", "-shm")


@dataclass
class StoreCopy:
    """What one copy holds that can be trusted, and what is wrong with it."""

    medium: str  # "primary" | "mirror"
    path: Path
    exists: bool = True
    rows: int = 0  # journal rows seen, good or not
    records: dict[int, dict[str, Any]] = field(default_factory=dict)  # seq -> record whose hash matches
    cvrs: set[bytes] = field(default_factory=set)  # good cast vote records (canonical JSON)
    meta: dict[str, bytes] = field(default_factory=dict)
    other_tables: dict[str, tuple[str, list[tuple[Any, ...]]]] = field(default_factory=dict)  # the outbox
    findings: list[str] = field(default_factory=list)

    def describe(self) -> str:
        return f"{self.medium} {self.path}: " + ("; ".join(self.findings[:3]) or "intact")


def read_copy(medium: str, path: Path) -> StoreCopy:
    """Read one copy without trusting it; never raises for a damaged file."""
    copy = StoreCopy(medium, path)
    if not path.exists():
        copy.exists = False
        copy.findings.append("missing")
        return copy
    try:
        conn = sqlite3.connect(str(path), isolation_level=None)
    except sqlite3.Error as exc:
        copy.findings.append(f"cannot be opened ({exc})")
        return copy
    try:
        _read_into(conn, copy)
    finally:
        conn.close()
    return copy


def _rows(conn: sqlite3.Connection, copy: StoreCopy, sql: str, what: str) -> Iterator[Any]:
    """The rows of ``sql`` until the file stops giving them (a finding says why)."""
    try:
        yield from conn.execute(sql)
    except sqlite3.Error as exc:
        copy.findings.append(f"{what} unreadable ({exc})")


def _read_into(conn: sqlite3.Connection, copy: StoreCopy) -> None:
    for (verdict,) in _rows(conn, copy, "PRAGMA integrity_check(3)", "integrity check"):
        if verdict != "ok":
            copy.findings.append(f"integrity check: {verdict}")
    for row in _rows(conn, copy, "SELECT seq, type, at, data, prev_hash, hash FROM journal", "journal"):
        copy.rows += 1
        rec = row_record(row)
        if rec is None or record_hash(rec["seq"], rec["type"], rec["at"], rec["data"],
                                      rec["prev_hash"]) != rec["hash"]:
            copy.findings.append(f"journal row {row[0]!r} damaged")
        else:
            copy.records[rec["seq"]] = rec
    for slot, body in _rows(conn, copy, "SELECT slot, body FROM cvr_slot", "cast vote records"):
        try:
            payload = decode_slot(body)
        except SlotError as exc:
            copy.findings.append(f"cast vote record slot {slot} damaged ({exc})")
            continue
        if payload is not None:
            copy.cvrs.add(payload)
    for name, value in _rows(conn, copy, "SELECT name, value FROM unit_meta", "unit metadata"):
        if isinstance(value, (str, bytes)) and isinstance(name, str):
            copy.meta[name] = value.encode() if isinstance(value, str) else value
        else:
            copy.findings.append(f"unit metadata {name!r} damaged")
    tables = list(_rows(conn, copy, "SELECT name, sql FROM sqlite_master WHERE type = 'table'", "schema"))
    for name, sql in tables:
        if name not in OWN_TABLES and not name.startswith("sqlite_"):
            rows = list(_rows(conn, copy, f'SELECT * FROM "{name}"', f"table {name}"))
            copy.other_tables[name] = (sql, rows)


@dataclass
class MergedStore:
    """The one history both copies tell."""

    records: list[dict[str, Any]]
    cvrs: list[bytes]
    meta: dict[str, bytes]


def merge(copies: list[StoreCopy]) -> MergedStore:
    """The merged history, or ``StoreDamagedError`` naming what both copies lost."""
    from device.store.sqlite import StoreDamagedError
    chain: list[dict[str, Any]] = []
    prev = GENESIS_HASH
    lost: list[str] = []
    while True:
        seq = len(chain) + 1
        found = {c.records[seq]["hash"]: c.records[seq] for c in copies if seq in c.records}
        fitting = [r for r in found.values() if r["prev_hash"] == prev]
        if len(found) > 1:
            lost.append(f"the copies disagree on journal record seq {seq}")
        if not fitting or len(found) > 1:
            break
        chain.append(fitting[0])
        prev = fitting[0]["hash"]
    for c in copies:
        if c.rows > len(chain):
            lost.append(f"the {c.medium} has {c.rows} journal rows, only {len(chain)} survive in either copy")
    cvrs = sorted(set().union(*(c.cvrs for c in copies)))
    cast = sum(1 for r in chain if r["type"] == "ballot_cast")
    if len(cvrs) != cast:
        lost.append(f"{cast} ballots cast in the journal, {len(cvrs)} cast vote records survive")
    meta: dict[str, bytes] = {}
    for c in copies:
        for name, value in c.meta.items():
            if meta.setdefault(name, value) != value:
                lost.append(f"the copies disagree on unit metadata {name!r}")
    if lost:
        raise StoreDamagedError("the store lost committed records: " + "; ".join(dict.fromkeys(lost))
                                + " — " + " | ".join(c.describe() for c in copies))
    return MergedStore(chain, cvrs, meta)


def _intact(copy: StoreCopy, merged: MergedStore) -> bool:
    return (copy.exists and not copy.findings and copy.rows == len(merged.records)
            and all(copy.records.get(r["seq"], {}).get("hash") == r["hash"] for r in merged.records)
            and copy.cvrs == set(merged.cvrs) and copy.meta == merged.meta)


def reconcile(store: SqliteStore, primary: Path, mirror: Path) -> list[dict[str, Any]]:
    """Compare the two copies; rebuild each one that differs from the merged history. Returns
    the ``store_repaired`` records to journal (none when both are intact or both are new)."""
    copies = [read_copy("primary", primary), read_copy("mirror", mirror)]
    if not any(c.exists for c in copies):
        return []
    merged = merge(copies)
    repairs = []
    for copy in copies:
        if _intact(copy, merged):
            continue
        donor = next(c for c in copies if c is not copy)
        rebuild(store, copy, merged, donor)
        repairs.append({"medium": copy.medium,
                        "records": sum(1 for r in merged.records
                                       if copy.records.get(r["seq"], {}).get("hash") != r["hash"]),
                        "cast_vote_records": len(set(merged.cvrs) - copy.cvrs),
                        "finding": copy.findings[0] if copy.findings else "shorter than the other copy"})
    return repairs


def rebuild(store: SqliteStore, copy: StoreCopy, merged: MergedStore, donor: StoreCopy) -> None:
    """Write the merged history into a new file and put it in the place of ``copy``."""
    from device.store.sqlite import SqliteStore
    path = copy.path
    path.parent.mkdir(parents=True, exist_ok=True)
    fresh = path.with_name(path.name + ".rebuild")
    for stale in [fresh] + [Path(f"{fresh}{s}") for s in _SIDE_FILES]:
        stale.unlink(missing_ok=True)
    new = SqliteStore(fresh, durability=store.durability, rng=store._rng)
    try:
        new.restore(merged.records, merged.cvrs, merged.meta)
        tables = copy.other_tables or donor.other_tables  # the outbox: the copy's own if readable
        for name, (sql, rows) in tables.items():
            new._write(functools.partial(_copy_table, sql=sql, name=name, rows=rows))
    finally:
        new.close()
    os.chmod(fresh, 0o600)
    for side in _SIDE_FILES:  # a hot journal of the damaged file must never meet the new one
        Path(f"{path}{side}").unlink(missing_ok=True)
    os.replace(fresh, path)
    _fsync_dir(path.parent)


def _copy_table(c: sqlite3.Connection, sql: str, name: str, rows: list[tuple[Any, ...]]) -> None:
    c.execute(sql.replace("CREATE TABLE ", "CREATE TABLE IF NOT EXISTS ", 1)
              if "IF NOT EXISTS" not in sql else sql)
    if rows:
        marks = ", ".join("?" * len(rows[0]))
        c.executemany(f'INSERT OR IGNORE INTO "{name}" VALUES ({marks})', rows)


def _fsync_dir(folder: Path) -> None:
    fd = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)

