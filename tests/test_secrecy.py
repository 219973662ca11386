"""Ballot secrecy and voter privacy, proved on what the real controller writes.

- Station days through the real controller (logical and full fidelity, the ``return`` and
  ``accept-invalid`` policies, with overvotes, blanks, refusals and repeat voters), exported:
  no exported byte holds a voter id or document number of the roll, and no journal record
  (in ``journal.jsonl`` or the NIST event log) says anything about one ballot's content.
- Indistinguishability: the same voters cast the same ballots in a different order, through
  the real controller — valid, overvoted and blank ballots swapped between voters — and every
  file of the export that is not the cast vote records themselves is byte-identical; the cast
  vote records are the same ballots in id order.
- The raw database after the close: no voter id, no log left, no free page, and compacted —
  a compacted file is byte-identical whatever the order of casting, while a store that skipped
  compaction gives the order away (the control that shows the check can fail).
"""
from __future__ import annotations

import dataclasses
import json
import random
import sqlite3
from pathlib import Path

import pytest

from device.ballots.records import CastVoteRecord
from device.election.definition import load_election
from device.results.exports import export_unit
from device.store.signing import UnitSigner
from device.store.sqlite import SqliteStore
from sim.day.voters import load_scenario
from tests.secrecy_checks import bytes_leak_voters, journal_leaks
from tests.station_kit import Kit
from tests.unit_exports import exported_station_day

CVR_FILES = {"cast_vote_records.jsonl", "nist/cast_vote_records.json", "manifest.json", "signatures.json"}


def _files(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _busy_scenario(election_name: str):
    """The bundled scenario with many ballots that need review or go to the invalid compartment."""
    e = load_election(election_name)
    sc = load_scenario(None, e, election_name)
    return dataclasses.replace(sc, rates={**sc.rates, "overvote_rate": 0.12, "blank_rate": 0.08,
                                          "corrects_after_return": 0.4, "repeat_voter_rate": 0.05,
                                          "wrong_station_rate": 0.05, "bad_document_rate": 0.03})


@pytest.mark.parametrize("election, fidelity, voters", [
    ("demo", "logical", 150),            # policy: return (second chance), voters may cast anyway
    ("kyrgyzstan-2017", "logical", 150),  # policy: accept-invalid (invalid compartment)
    ("demo", "full", 20),                 # the real drivers over ptys
    ("cambodia-2022", "full", 20),
])
def test_an_exported_station_day_names_no_voter_and_no_ballot_content(tmp_path, election, fidelity, voters):
    export, day, report = exported_station_day(tmp_path, election=election, voters=voters, seed=5,
                                               fidelity=fidelity, scenario=_busy_scenario(election))
    assert report["matches_ground_truth"] and report["paper_matches_records"]
    # the day really had what must not leak: refusals naming voters, review or invalid ballots
    rec = report["reconciliation"]
    assert sum(rec["refused_by_reason"].values()) > 0
    journal = [json.loads(line) for line in (export / "journal.jsonl").read_text().splitlines()]
    assert {"authorise", "ballot_read", "ballot_cast"} <= {r["type"] for r in journal}
    statuses = {st for line in (export / "cast_vote_records.jsonl").read_text().splitlines()
                for c in json.loads(line)["contests"].values() for st in [c["status"]]}
    assert statuses & {"overvote", "blank", "invalid"}, "the day must hold ballots worth hiding"
    for name, blob in _files(export).items():
        assert bytes_leak_voters(blob, day.controller.roll) == [], name
    assert journal_leaks(journal) == []
    nist_events = json.loads((export / "nist/event_log.json").read_text())["Device"][0]["Event"]
    assert journal_leaks([{"type": e["Type"], "data": json.loads(e["Details"])} for e in nist_events]) == []
    assert len((export / "cast_vote_records.jsonl").read_text().splitlines()) == rec["cast"]


def test_the_same_voter_has_the_same_pseudonym_and_no_one_else_does(tmp_path):
    kit = Kit(voters=6)
    kit.ctl.open()
    for v in kit.voters[:3]:
        assert kit.checkin(v).authorised
    assert kit.checkin(kit.voters[1]).outcome == "already_voted"
    records = list(kit.store.events())
    auth = [r.data["voter"] for r in records if r.type == "authorise"]
    again = [r.data["voter"] for r in records if r.type == "refuse"]
    assert len(set(auth)) == 3 and again == [auth[1]]
    other_key = Kit(voters=6)
    other_key.pseudonym_key = b"another-election-key-0123456789"
    other_key.boot().open()
    other_key.checkin(other_key.voters[0])
    assert next(r.data["voter"] for r in other_key.store.events() if r.type == "authorise") != auth[0]


# --- indistinguishability through the real controller ---------------------------------------

def _day_in_order(root: Path, ballots: list[dict], policy: dict | None) -> dict[str, bytes]:
    root.mkdir()
    kit = Kit(voters=len(ballots), policy=policy, store=SqliteStore(root / "unit.db"))
    kit.ctl.open()
    for voter, marks in zip(kit.voters, ballots):
        kit.now[0] += 61
        assert kit.checkin(voter).authorised
        out = kit.insert(marks)
        if out.status == "needs_review":  # the voter casts it as it is
            out = kit.ctl.voter_decision(cast=True)
        assert out.status in ("cast", "cast_invalid"), out
    kit.ctl.close()
    export_unit(kit.store, kit.election, root / "export", UnitSigner.generate(random.Random(1)), at=2e9)
    kit.store.close()
    return _files(root / "export")


@pytest.mark.parametrize("policy", [None, {"overvote": "accept-invalid", "blank": "accept-invalid",
                                           "unreadable": "accept-invalid"}])
def test_permuting_who_cast_which_ballot_changes_nothing_but_the_record_ids(tmp_path, policy):
    kit = Kit()
    valid, over, blank = kit.marks(), kit.marks(mayor=["m-amara", "m-bolat"]), \
        kit.marks(mayor=[], council=[])
    ballots = [valid] * 6 + [over] * 3 + [blank] * 3
    shuffled = list(ballots)
    random.Random(6).shuffle(shuffled)
    assert shuffled != ballots
    a = _day_in_order(tmp_path / "a", ballots, policy)
    b = _day_in_order(tmp_path / "b", shuffled, policy)
    assert sorted(a) == sorted(b) and "journal.jsonl" in a and "nist/event_log.json" in a
    differing = sorted(name for name in a if a[name] != b[name])
    assert set(differing) <= CVR_FILES, differing
    # the records are the same ballots, each file in id order
    def ballots_of(files):
        rows = [json.loads(line) for line in files["cast_vote_records.jsonl"].decode().splitlines()]
        assert [r["id"] for r in rows] == sorted(r["id"] for r in rows)
        return sorted(json.dumps(r["contests"], sort_keys=True) for r in rows)
    assert ballots_of(a) == ballots_of(b)


# --- the raw database file --------------------------------------------------------------------

def _store_file(path: Path, cvrs_in_cast_order: list[CastVoteRecord], compact: bool) -> bytes:
    store = SqliteStore(path, durability="simulation")
    store.append_event("load_election", {"station": "north-1"}, 1)
    for i, cvr in enumerate(cvrs_in_cast_order):
        store.append_event("authorise", {"voter": f"p{i:04d}"}, 2 + i)
        store.cast_ballot(cvr, {}, 2 + i)
    if compact:
        store.compact()
    store.close()
    return path.read_bytes()


def test_a_compacted_database_file_is_the_same_whatever_the_cast_order(tmp_path):
    rng = random.Random(5)
    cvrs = [CastVoteRecord(f"{rng.getrandbits(128):032x}", "north-ballot",
                           {"mayor": ((rng.choice(["m-amara", "m-bolat"]),), "valid")}) for _ in range(300)]
    shuffled = list(cvrs)
    random.Random(1).shuffle(shuffled)
    a = _store_file(tmp_path / "a.db", cvrs, compact=True)
    b = _store_file(tmp_path / "b.db", shuffled, compact=True)
    assert a == b  # every byte: page order, cell order, free space
    # the control: without compaction the file differs with the order of casting
    assert _store_file(tmp_path / "c.db", cvrs, compact=False) != \
        _store_file(tmp_path / "d.db", shuffled, compact=False)


def _vacuum_fixed_point(db: Path, tmp: Path) -> bool:
    """Whether the file is already in the layout VACUUM gives (header counters aside)."""
    copy = tmp / "again.db"
    copy.write_bytes(db.read_bytes())
    conn = sqlite3.connect(copy)
    conn.execute("VACUUM")
    conn.close()
    before, after = db.read_bytes(), copy.read_bytes()
    return before[100:] == after[100:]


@pytest.mark.parametrize("compact", [True, False])
def test_a_real_day_leaves_a_compacted_database_with_no_voter(tmp_path, compact):
    store = SqliteStore(tmp_path / "unit.db", durability="simulation")
    if not compact:  # the control: a unit that does not rebuild its file at the close
        store.compact = lambda: None
    kit = Kit(voters=150, store=store)
    kit.ctl.open()
    for v in kit.voters:
        assert kit.checkin(v).authorised and kit.insert().status == "cast"
    kit.ctl.close()
    for log in ("unit.db-wal", "unit.db-journal"):  # no log of the day's writes is left
        assert not (tmp_path / log).exists() or (tmp_path / log).stat().st_size == 0
    assert store._conn.execute("PRAGMA freelist_count").fetchone()[0] == 0
    store.close()
    assert bytes_leak_voters((tmp_path / "unit.db").read_bytes(), kit.roll) == []
    assert _vacuum_fixed_point(tmp_path / "unit.db", tmp_path) is compact


def test_cast_vote_records_hold_nothing_that_orders_them(tmp_path):
    export, _, _ = exported_station_day(tmp_path, voters=60)
    journal = (export / "journal.jsonl").read_text()
    cvrs = [json.loads(x) for x in (export / "cast_vote_records.jsonl").read_text().splitlines()]
    assert cvrs
    for c in cvrs:
        assert c["id"] not in journal
        assert set(c) <= {"id", "ballot_style", "contests", "image_sha256"}
        CastVoteRecord.from_json(c)
    nist = json.loads((export / "nist/cast_vote_records.json").read_text())
    for c in nist["CVR"]:
        assert not {"BatchSequenceId", "BallotAuditId"} & set(c)  # nothing that orders in time
