"""Two media: every committed record is on both, and one flipped bit never loses a ballot silently.

A "power cut" is a copy of the store's files taken while the store is open (nothing closed or
checkpointed). One bit is then flipped in the copy of the primary or of the mirror, and the unit
store is opened from the copies: it must come back with every committed record (repairing the
damaged copy and journaling ``store_repaired``) or stop with ``StoreDamagedError`` — never open
with fewer casts. On the old store (WAL, one file) the same flip opened with 0 to 27 of 30.
"""
from __future__ import annotations

import random
import shutil
import sqlite3
from pathlib import Path

import pytest

from device.ballots.records import CastVoteRecord
from device.store.journal import StoreWriteError
from tests.store_kit import fast_dir  # noqa: F401 (a fixture)
from device.store.sqlite import JournalIntegrityError, SqliteStore, StoreDamagedError, StoreOpenError

CASTS = 30


def _unit(root: Path, **kw) -> SqliteStore:
    kw.setdefault("durability", "simulation")  # fewer fsyncs; the same files and checks
    (root / "internal").mkdir(parents=True, exist_ok=True)
    (root / "card").mkdir(parents=True, exist_ok=True)
    return SqliteStore(root / "internal" / "unit.db", mirror=root / "card" / "mirror.db", **kw)


def _day(root: Path, casts: int = CASTS) -> tuple[SqliteStore, tuple[int, str], list[str]]:
    store = _unit(root, rng=random.Random(3))
    rng = random.Random(7)
    store.append_event("unit_started", {}, 0)
    ids = []
    for i in range(casts):
        store.append_event("authorise", {"voter": f"p{i:03d}"}, 60 * i)
        cvr = CastVoteRecord(f"{rng.getrandbits(128):032x}", "s1", {"mayor": ((f"c{i % 3}",), "valid")})
        store.cast_ballot(cvr, {}, 60 * i)
        ids.append(cvr.id)
    return store, store.head, sorted(ids)


def _power_cut(root: Path, to: Path) -> Path:
    """Copy every file of both media as they are now (the store stays open)."""
    shutil.copytree(root, to)
    return to


def _flip(path: Path, offset: int, bit: int = 0) -> None:
    raw = bytearray(path.read_bytes())
    raw[offset] ^= 1 << bit
    path.write_bytes(bytes(raw))


def _outcome(root: Path, head: tuple[int, str], ids: list[str]) -> str:
    """'intact' / 'repaired' / 'fault'; fails the test on a silent loss."""
    try:
        store = _unit(root)
    except (StoreDamagedError, JournalIntegrityError, StoreOpenError) as exc:
        assert "primary" in str(exc) or "mirror" in str(exc) or "seq" in str(exc), str(exc)
        return "fault"
    try:
        assert [c.id for c in store.cast_vote_records()] == ids, "a committed cast vote record was lost"
        events = list(store.events())
        assert events[head[0] - 1].hash == head[1], "the journal came back shorter or different"
        repairs = [e for e in events[head[0]:] if e.type == "store_repaired"]
        assert all(e.type in ("store_repaired", "journal_truncated") for e in events[head[0]:])
        return "repaired" if repairs else "intact"
    finally:
        store.close()


def _offsets(path: Path, n: int, rng: random.Random) -> list[int]:
    """Half spread evenly over the file, half where records are (journal hashes, slot bodies)."""
    raw = path.read_bytes()
    spread = [i * len(raw) // (n // 2) + rng.randrange(len(raw) // (n // 2)) for i in range(n // 2)]
    used = [i for i in range(0, len(raw), 7) if raw[i] not in (0, 0x20)]
    return spread + rng.sample(used, n - n // 2)


def _sweep(tmp_path: Path, per_file: int, seed: int) -> dict[str, int]:
    store, head, ids = _day(tmp_path / "day")
    cut = _power_cut(tmp_path / "day", tmp_path / "cut")
    store.close()
    rng = random.Random(seed)
    counts: dict[str, int] = {}
    for rel in ("internal/unit.db", "card/mirror.db"):
        for k, offset in enumerate(_offsets(cut / rel, per_file, rng)):
            trial = tmp_path / f"t-{rel.replace('/', '-')}-{k}"
            shutil.copytree(cut, trial)
            _flip(trial / rel, offset, rng.randrange(8))
            outcome = _outcome(trial, head, ids)
            counts[outcome] = counts.get(outcome, 0) + 1
            shutil.rmtree(trial)
    return counts


def test_one_flipped_bit_anywhere_in_either_copy_never_loses_a_cast_silently(fast_dir):
    counts = _sweep(fast_dir, per_file=30, seed=1)
    print(counts)
    assert sum(counts.values()) == 60
    assert counts.get("repaired", 0) >= 30  # most flips hit a record and are repaired


@pytest.mark.slow
def test_the_larger_sweep(fast_dir):
    counts = _sweep(fast_dir, per_file=400, seed=2)
    print(counts)
    assert sum(counts.values()) == 800


def test_a_cast_is_on_both_media_when_it_returns(tmp_path):
    store, head, ids = _day(tmp_path, casts=3)
    for path in (tmp_path / "internal" / "unit.db", tmp_path / "card" / "mirror.db"):
        conn = sqlite3.connect(path)
        assert conn.execute("SELECT max(seq) FROM journal").fetchone()[0] == head[0]
        conn.close()
    store.close()


def test_a_lost_primary_is_restored_from_the_mirror_and_the_repair_journaled(tmp_path):
    store, head, ids = _day(tmp_path / "day", casts=5)
    cut = _power_cut(tmp_path / "day", tmp_path / "cut")
    store.close()
    (cut / "internal" / "unit.db").unlink()
    restored = _unit(cut)
    repair = [e for e in restored.events() if e.type == "store_repaired"]
    assert [c.id for c in restored.cast_vote_records()] == ids
    assert [r.data for r in repair] == [{"medium": "primary", "records": head[0],
                                        "cast_vote_records": 5, "finding": "missing"}]
    after = restored.head
    restored.close()
    assert _outcome(cut, after, ids) == "intact"  # the repaired copy now matches the mirror


def test_a_shorter_primary_is_restored_from_the_mirror(tmp_path):
    """The old failure: SQLite hands back a shorter, valid-looking journal."""
    store, head, ids = _day(tmp_path / "day", casts=6)
    cut = _power_cut(tmp_path / "day", tmp_path / "cut")
    store.close()
    conn = sqlite3.connect(cut / "internal" / "unit.db")
    last_cast = conn.execute("SELECT max(seq) FROM journal WHERE type='ballot_cast'").fetchone()[0]
    conn.execute("DELETE FROM journal WHERE seq >= ?", (last_cast - 1,))
    conn.execute("UPDATE cvr_slot SET body = zeroblob(1024) WHERE rowid IN "
                 "(SELECT slot FROM cvr_slot WHERE substr(body, 1, 4) != zeroblob(4) LIMIT 1)")
    conn.commit()
    conn.close()
    assert _outcome(cut, head, ids) == "repaired"


def test_two_damaged_copies_stop_the_unit_naming_both(tmp_path):
    store, head, ids = _day(tmp_path / "day", casts=4)
    cut = _power_cut(tmp_path / "day", tmp_path / "cut")
    store.close()
    for rel in ("internal/unit.db", "card/mirror.db"):
        conn = sqlite3.connect(cut / rel)
        conn.execute("DELETE FROM journal WHERE seq = (SELECT max(seq) FROM journal)")
        conn.execute("UPDATE journal SET data = '{\"voter\":\"forged\"}' WHERE seq = 3")
        conn.commit()
        conn.close()
    with pytest.raises(StoreDamagedError) as err:
        _unit(cut)
    text = str(err.value)
    assert "primary" in text and "mirror" in text and "journal row 3 damaged" in text


def test_a_full_mirror_fails_the_cast_on_both_media(tmp_path):
    """SQLITE_FULL on the card only (its page limit): the cast that hits it is on neither copy."""
    store, head, ids = _day(tmp_path, casts=2)
    pages = store._conn.execute("PRAGMA mirror.page_count").fetchone()[0]
    store._conn.execute(f"PRAGMA mirror.max_page_count = {pages}")  # the card is full
    rng = random.Random(9)
    with pytest.raises(StoreWriteError, match="full"):
        for i in range(500):  # in-place slot writes fit; the journal's next page does not
            head = store.head
            cvr = CastVoteRecord(f"{rng.getrandbits(128):032x}", "s1", {"mayor": (("c1",), "valid")})
            store.cast_ballot(cvr, {}, 9999 + i)
            ids.append(cvr.id)
    assert store.head == head and sorted(ids) == [c.id for c in store.cast_vote_records()]
    store.close()
    assert _outcome(tmp_path, head, sorted(ids)) == "intact"  # both copies stopped at the same cast


def test_a_power_cut_inside_a_cast_keeps_every_committed_cast(fast_dir):
    """Copies taken at the COMMIT of the last cast, its pages already spilled into the files (a
    tiny page cache): hot rollback journals, half-written databases. Every earlier cast comes
    back, and a flipped bit in a journal loses none silently."""
    store, _, _ = _day(fast_dir / "day", casts=CASTS - 1)
    head, ids = store.head, sorted(c.id for c in store.cast_vote_records())
    for db in ("main", "mirror"):
        store._conn.execute(f"PRAGMA {db}.cache_size = 1")
        store._conn.execute(f"PRAGMA {db}.cache_spill = 1")
    for i in range(300):  # records staged (group commit): the cast's transaction touches many pages
        store.append_event("refuse", {"reason": "not_on_roll", "n": "x" * 200}, 99_000 + i, durable=False)
    taken = []
    store._conn.set_trace_callback(
        lambda sql: taken.append(shutil.copytree(fast_dir / "day", fast_dir / f"cut{len(taken)}"))
        if sql == "COMMIT" and not taken else None)
    store.cast_ballot(CastVoteRecord("e" * 32, "s1", {"mayor": (("c1",), "valid")}), {}, 99_999)
    store._conn.set_trace_callback(None)
    store.close()
    cut = taken[0]
    journals = [p for p in cut.rglob("*-journal") if p.stat().st_size]
    pristine = shutil.copytree(cut, fast_dir / "pristine")
    assert _outcome(pristine, head, ids) in ("intact", "repaired")  # rolls the journals back
    rng = random.Random(4)
    assert journals  # the cut came inside the transaction: old pages are in the journals
    for k in range(10):
        trial = fast_dir / f"journal-flip-{k}"
        shutil.copytree(cut, trial)
        target = trial / journals[k % len(journals)].relative_to(cut)
        _flip(target, rng.randrange(target.stat().st_size), rng.randrange(8))
        assert _outcome(trial, head, ids) in ("intact", "repaired", "fault")


def test_both_copies_are_owner_only_from_birth(tmp_path):
    """Each copy holds the unit key (and, once loaded, the pseudonym key): mode 0600 whoever
    creates the store."""
    (tmp_path / "card").mkdir()
    store = SqliteStore(tmp_path / "unit.db", mirror=tmp_path / "card" / "mirror.db", durability="simulation")
    store.close()
    assert {(tmp_path / "unit.db").stat().st_mode & 0o777,
            (tmp_path / "card" / "mirror.db").stat().st_mode & 0o777} == {0o600}
