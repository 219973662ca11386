"""No file of the unit holds the order of casting, at any moment of the day; flow times to the minute.

Copies of every store file (database, rollback journal, mirror, its journal) are taken after
casts and in the middle of casts' transactions (at the COMMIT statement, when the journal holds
the old pages and the database is being written). In each copy, the byte offset at which each
cast vote record first appears is ranked against the order in which the ballots were cast:
Spearman's rho must be small. The same check run on the old layout (WAL, records keyed by id,
written in cast order) flags it with rho near 1.
"""
from __future__ import annotations

import random
import sqlite3
import statistics
from pathlib import Path

from device.ballots.records import CastVoteRecord
from device.station.events import catalog, coarse_time_events
from device.station.machine import REGIONS
from device.store.canonical_json import canonical_json
from device.store.sqlite import SqliteStore
from tests.station_kit import Kit
from tests.store_kit import fast_dir  # noqa: F401 (a fixture)

BALLOTS = 200
MIN_RECORDS = 100  # a copy's file is ranked when it holds at least this many records
SIGMAS = 4  # |rho| must stay within 4 standard deviations of no correlation (1/sqrt(n-1))


def spearman(xs: list[float], ys: list[float]) -> float:
    def ranks(v):
        order = sorted(range(len(v)), key=v.__getitem__)
        r = [0] * len(v)
        for rank, i in enumerate(order):
            r[i] = rank
        return r
    return statistics.correlation(ranks(xs), ranks(ys))


def order_leaks(copy: dict[str, bytes], cast_ids: list[str]) -> dict[str, tuple[float, int]]:
    """Per file holding at least MIN_RECORDS records: (rho of storage offset against cast
    order, the number of records)."""
    out = {}
    for name, raw in copy.items():
        seen = [(k, raw.find(i.encode())) for k, i in enumerate(cast_ids)]
        seen = [(k, off) for k, off in seen if off >= 0]
        if len(seen) >= MIN_RECORDS:
            out[name] = (spearman([k for k, _ in seen], [off for _, off in seen]), len(seen))
    return out


def _files(root: Path) -> dict[str, bytes]:
    return {p.name: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def test_copies_taken_during_a_day_give_no_rank_correlation_with_cast_order(fast_dir):
    tmp_path = fast_dir
    (tmp_path / "card").mkdir()
    store = SqliteStore(tmp_path / "unit.db", mirror=tmp_path / "card" / "mirror.db",
                        durability="simulation", rng=random.Random(11))
    kit = Kit(voters=BALLOTS, store=store)
    kit.ctl.open()
    copies: list[tuple[dict[str, bytes], int]] = []
    mid_commit = {"armed": False}

    def at_statement(sql: str) -> None:
        if mid_commit["armed"] and sql.strip().upper() == "COMMIT":
            mid_commit["armed"] = False
            copies.append((_files(tmp_path), len(cast) + 1))

    store._conn.set_trace_callback(at_statement)
    cast: list[str] = []
    known: set[str] = set()
    pick = random.Random(5)
    for voter in kit.voters:
        mid_commit["armed"] = pick.random() < 0.1
        assert kit.checkin(voter).authorised and kit.insert().status == "cast"
        new = {c.id for c in store.cast_vote_records()} - known
        cast += sorted(new)
        known |= new
        if pick.random() < 0.1:
            copies.append((_files(tmp_path), len(cast)))
    store._conn.set_trace_callback(None)
    assert len(cast) == BALLOTS and len(copies) >= 20
    checked = 0
    for copy, n in copies:
        for name, (rho, seen) in order_leaks(copy, cast[:n]).items():
            checked += 1
            assert abs(rho) < SIGMAS / (seen - 1) ** 0.5, f"{name} after {n} casts: rho {rho:.2f}"
    assert checked >= 10
    store.close()


def test_the_check_flags_the_old_layout(tmp_path):
    """The control: WAL journal mode, records keyed by id in a table written in cast order."""
    conn = sqlite3.connect(tmp_path / "old.db", isolation_level=None)
    conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("CREATE TABLE cvr (id TEXT PRIMARY KEY, body TEXT NOT NULL) WITHOUT ROWID")
    rng = random.Random(3)
    cast = []
    for k in range(BALLOTS):
        cvr = CastVoteRecord(f"{rng.getrandbits(128):032x}", "s1", {"mayor": (("c1",), "valid")})
        conn.execute("BEGIN IMMEDIATE")
        conn.execute("INSERT INTO cvr VALUES (?, ?)", (cvr.id, canonical_json(cvr.to_json())))
        conn.execute("COMMIT")
        cast.append(cvr.id)
    leaks = order_leaks(_files(tmp_path), cast)
    conn.close()
    assert leaks["old.db-wal"][0] > 0.95


# --- times of the voter and ballot flows ----------------------------------------------------

def test_every_trigger_of_the_voter_and_ballot_flows_is_kept_to_the_minute():
    flows = {t["trigger"] for region in ("voter", "ballot") for t in REGIONS[region]["transitions"]}
    assert flows - coarse_time_events() == set()
    assert {"store_repaired", "store_recovered"} <= set(catalog()["events"])


def test_flow_times_are_minutes_and_the_journal_never_goes_back_in_time():
    kit = Kit(voters=40, jam_rate=0.25, seed=4)
    flows = coarse_time_events()
    kit.now[0] = 1_700_000_017.25
    kit.ctl.open()
    for voter in kit.voters:
        kit.now[0] += 13.7
        kit.checkin(voter)
        kit.now[0] += 21.9
        outcome = kit.insert()
        while outcome.status == "jammed":
            kit.now[0] += 9.1
            kit.periph.world.operator_removes_jammed_sheet()
            kit.ctl.clear_jam()
            kit.now[0] += 4.3
            outcome = kit.insert()
    records = list(kit.store.events())
    assert {"jam", "jam_cleared", "authorise", "ballot_cast"} <= {r.type for r in records}
    for prev, rec in zip(records, records[1:]):
        assert rec.at >= prev.at, f"{rec.type} seq {rec.seq} goes back in time"
        if rec.type in flows:
            assert rec.at % 60 == 0 or rec.at == prev.at, f"{rec.type} seq {rec.seq} at {rec.at}"
