"""The durable SQLite store: same contract as MemoryStore, reopen, torn record, tampering, write failures."""
from __future__ import annotations

import json
import random
import sqlite3

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.ballots.records import CastVoteRecord
from device.store.sqlite import JournalIntegrityError, SqliteStore, StoreOpenError
from device.store.journal import GENESIS_HASH, MemoryStore, StoreWriteError, record_hash


def cvr(i: int, rng: random.Random) -> CastVoteRecord:
    return CastVoteRecord(f"{rng.getrandbits(64):016x}", "s1",
                          {"mayor": ((f"c{i % 3}",), "valid")})


def fill(store, n: int, seed: int = 1) -> list[CastVoteRecord]:
    rng = random.Random(seed)
    cast = []
    store.append_event("unit_started", {}, 0)
    for i in range(n):
        store.append_event("authorise", {"voter": f"V{i}"}, i + 0.5)
        c = cvr(i, rng)
        store.cast_ballot(c, {}, i + 0.75)
        cast.append(c)
    return cast


def test_same_records_and_hashes_as_memory_store(tmp_path):
    disk, mem = SqliteStore(tmp_path / "u.db"), MemoryStore()
    fill(disk, 20)
    fill(mem, 20)
    assert [r.to_json() for r in disk.events()] == [r.to_json() for r in mem.events()]
    assert disk.cast_vote_records() == mem.cast_vote_records()


def test_reopen_keeps_chain_and_continues(tmp_path):
    path = tmp_path / "u.db"
    s = SqliteStore(path)
    cast = fill(s, 10)
    head = s.head
    s.close()
    s2 = SqliteStore(path)
    assert s2.head == head and s2.truncated is None
    rec = s2.append_event("close_polls", {}, 99)
    assert rec.seq == head[0] + 1 and rec.prev_hash == head[1]
    assert sorted(c.id for c in cast) == [c.id for c in s2.cast_vote_records()]
    first = next(s2.events())
    assert first.prev_hash == GENESIS_HASH


def test_cvrs_are_returned_by_id_not_cast_order(tmp_path):
    s = SqliteStore(tmp_path / "u.db")
    cast = fill(s, 50)
    ids = [c.id for c in s.cast_vote_records()]
    assert ids == sorted(ids) and ids != [c.id for c in cast]


def test_torn_last_record_is_truncated_with_an_event(tmp_path):
    path = tmp_path / "u.db"
    s = SqliteStore(path)
    fill(s, 3)
    good_head = s.head
    s.close()
    conn = sqlite3.connect(path)  # a write cut off in the middle: data and hash incomplete
    conn.execute("INSERT INTO journal VALUES (?, 'ballot_cast', 7.0, '{\"a\":', ?, NULL)",
                 (good_head[0] + 1, good_head[1]))
    conn.commit()
    conn.close()
    s2 = SqliteStore(path)
    assert s2.truncated["seq"] == good_head[0] + 1
    events = list(s2.events())
    assert events[-1].type == "journal_truncated" and events[-1].prev_hash == good_head[1]
    assert events[-1].data["reason"] == "a field is missing"
    s2.close()
    assert SqliteStore(path).truncated is None  # the repaired chain opens cleanly


@pytest.mark.parametrize("tamper, kind", [
    ("UPDATE journal SET data='{\"voter\":\"X\"}' WHERE seq=3", "altered"),
    ("DELETE FROM journal WHERE seq=3", "deleted"),
    ("UPDATE journal SET at=at+1 WHERE seq=6", "altered"),  # also the last record: still tampering
])
def test_tampering_refuses_to_open_naming_the_record(tmp_path, tamper, kind):
    path = tmp_path / "u.db"
    s = SqliteStore(path)
    fill(s, 2)  # 5 records
    s.append_event("close_polls", {}, 9)
    s.close()
    conn = sqlite3.connect(path)
    conn.execute(tamper)
    conn.commit()
    conn.close()
    with pytest.raises(JournalIntegrityError) as err:
        SqliteStore(path)
    assert err.value.kind == kind
    assert err.value.seq in (3, 6)
    assert "seq" in str(err.value)


def test_disk_full_raises_store_write_error_and_loses_nothing(tmp_path):
    path = tmp_path / "u.db"
    s = SqliteStore(path)
    fill(s, 2)
    before_events, before_cvrs = len(list(s.events())), len(s.cast_vote_records())
    page_count = s._conn.execute("PRAGMA page_count").fetchone()[0]
    s._conn.execute(f"PRAGMA max_page_count={page_count}")  # the disk is now full
    rng = random.Random(7)
    with pytest.raises(StoreWriteError, match="full"):
        for i in range(10_000):
            s.cast_ballot(CastVoteRecord(f"{rng.getrandbits(64):016x}", "s1",
                                         {"mayor": (("c1",), "valid")}, "ab" * 32), {}, 10 + i)
    n_ok = len(s.cast_vote_records()) - before_cvrs
    assert len(list(s.events())) == before_events + n_ok  # every stored CVR has its event
    head = s.head
    s.close()
    s2 = SqliteStore(path)
    assert s2.head == head and len(s2.cast_vote_records()) == before_cvrs + n_ok


def test_duplicate_cvr_id_is_refused_atomically(tmp_path):
    s = SqliteStore(tmp_path / "u.db")
    c = CastVoteRecord("abc", "s1", {})
    s.cast_ballot(c, {}, 1)
    head = s.head
    with pytest.raises(StoreWriteError, match="already exists"):
        s.cast_ballot(c, {}, 2)
    assert s.head == head and len(list(s.events())) == 1


def test_not_a_database_is_a_clear_error(tmp_path):
    bad = tmp_path / "x.db"
    bad.write_bytes(b"this is not sqlite" * 100)
    with pytest.raises(StoreOpenError, match="not a usable unit store"):
        SqliteStore(bad)


def test_simulation_durability_setting(tmp_path):
    s = SqliteStore(tmp_path / "u.db", durability="simulation")
    assert s._conn.execute("PRAGMA synchronous").fetchone()[0] == 0  # OFF: no fsync (process kills only)
    assert s._conn.execute("PRAGMA journal_mode").fetchone()[0] == "truncate"  # no ordered log (docs/secrecy.md)
    f = SqliteStore(tmp_path / "v.db")
    assert f._conn.execute("PRAGMA synchronous").fetchone()[0] == 2  # FULL
    with pytest.raises(ValueError):
        SqliteStore(tmp_path / "w.db", durability="fast")


@settings(max_examples=25, deadline=None)
@given(st.lists(st.dictionaries(st.text(max_size=5), st.one_of(
    st.integers(), st.text(max_size=8), st.tuples(st.integers(), st.booleans()), st.none()),
    max_size=4), max_size=6))
def test_any_json_data_round_trips_hash_stable(tmp_path_factory, datas):
    path = tmp_path_factory.mktemp("h") / "u.db"
    s = SqliteStore(path)
    for i, d in enumerate(datas):
        s.append_event("id_read", d, i)
    s.close()
    s2 = SqliteStore(path)  # reopening re-verifies every hash
    for r in s2.events():
        assert record_hash(r.seq, r.type, r.at, r.data, r.prev_hash) == r.hash
    s2.close()


def test_group_commit_stages_until_the_next_durable_write(tmp_path):
    path = tmp_path / "u.db"
    s = SqliteStore(path)

    def on_disk() -> int:
        with sqlite3.connect(path) as other:
            return other.execute("SELECT count(*) FROM journal").fetchone()[0]

    s.append_event("unit_started", {}, 0)
    staged = s.append_event("paper_detected", {}, 1, durable=False)
    assert s.head == (staged.seq, staged.hash) and [r.seq for r in s.events()] == [1, 2]
    assert on_disk() == 1
    s.append_event("authorise", {"voter_id": "V1"}, 2)  # takes the staged record with it
    assert on_disk() == 3
    s.append_event("scanned", {}, 3, durable=False)
    s.flush()
    assert on_disk() == 4
    s.append_event("ballot_returned", {}, 4, durable=False)
    s._conn.execute("PRAGMA query_only=1")  # the next durable write fails
    with pytest.raises(StoreWriteError):
        s.append_event("authorise", {"voter_id": "V2"}, 5)
    s._conn.execute("PRAGMA query_only=0")
    assert on_disk() == 4 and s.head[0] == 5  # the staged record is still staged, the failed one gone
    s.close()  # flushes
    assert [r.type for r in SqliteStore(path).events()][-1] == "ballot_returned" and on_disk() == 5


def test_a_rehashed_record_whose_link_is_broken_refuses_to_open(tmp_path):
    """A record rewritten with a consistent hash of its own but a prev_hash that is not the
    previous record's: only the link check can see it."""
    path = tmp_path / "u.db"
    s = SqliteStore(path)
    fill(s, 2)
    s.close()
    conn = sqlite3.connect(path)
    seq, type_, at, data = conn.execute("SELECT seq, type, at, data FROM journal WHERE seq = 3").fetchone()
    forged_prev = "f" * 64
    conn.execute("UPDATE journal SET prev_hash = ?, hash = ? WHERE seq = 3",
                 (forged_prev, record_hash(seq, type_, at, json.loads(data), forged_prev)))
    conn.execute("UPDATE journal SET prev_hash = (SELECT hash FROM journal WHERE seq = 3) WHERE seq = 4")
    row4 = conn.execute("SELECT seq, type, at, data, prev_hash FROM journal WHERE seq = 4").fetchone()
    conn.execute("UPDATE journal SET hash = ? WHERE seq = 4",
                 (record_hash(row4[0], row4[1], row4[2], json.loads(row4[3]), row4[4]),))
    rest = conn.execute("SELECT seq, type, at, data FROM journal WHERE seq > 4 ORDER BY seq").fetchall()
    prev = conn.execute("SELECT hash FROM journal WHERE seq = 4").fetchone()[0]
    for seq_n, t, a, d in rest:  # rechain everything after, as an attacker would
        h = record_hash(seq_n, t, a, json.loads(d), prev)
        conn.execute("UPDATE journal SET prev_hash = ?, hash = ? WHERE seq = ?", (prev, h, seq_n))
        prev = h
    conn.commit()
    conn.close()
    with pytest.raises(JournalIntegrityError) as err:
        SqliteStore(path)
    assert err.value.kind == "altered" and err.value.seq == 2


@pytest.mark.parametrize("column, value, reason", [
    ("hash", None, "a field is missing"),
    ("prev_hash", None, "a field is missing"),
    ("data", None, "a field is missing"),
    ("at", None, "a field is missing"),
    ("type", None, "a field is missing"),
    ("type", "", "the type is empty"),
    ("at", "noon", "the time is not a number"),
    ("prev_hash", "ab" * 31, "prev_hash is not 64 hex digits"),
    ("hash", "zz" * 32, "hash is not 64 hex digits"),
    ("data", '{"a":', "data is not complete JSON"),
    ("data", "[1]", "data is not a JSON object"),
])
def test_each_kind_of_torn_last_record_is_named(tmp_path, column, value, reason):
    path = tmp_path / "u.db"
    s = SqliteStore(path)
    fill(s, 2)
    rec = s.append_event("close_polls", {"x": 1}, 9)
    s.close()
    conn = sqlite3.connect(path)
    conn.execute(f"UPDATE journal SET {column} = ? WHERE seq = ?", (value, rec.seq))
    conn.commit()
    conn.close()
    s2 = SqliteStore(path)
    assert s2.truncated["seq"] == rec.seq and s2.truncated["reason"] == reason
    assert len(s2.truncated["raw_sha256"]) == 64
    assert [r.type for r in s2.events()][-1] == "journal_truncated" and s2.head[0] == rec.seq
    s2.close()
