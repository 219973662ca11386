"""Ballot secrecy: the cast order cannot be recovered from any file of an export.

The proof is by indistinguishability: two units whose journals are identical but whose voters
cast the same ballots in a different order produce byte-identical exports (every file), so no
export can tell the two orders apart. Also: the journal holds no vote and no record id, and a
real station day's cast vote records carry nothing but id, style, selections and image hash.
"""
from __future__ import annotations

import json
import random

from device.ballots.records import CastVoteRecord
from device.election.definition import load_election
from device.results.exports import export_unit
from device.store.signing import UnitSigner
from device.store.sqlite import SqliteStore
from tests.unit_exports import exported_day


def _unit(path, cvrs_in_cast_order, election):
    store = SqliteStore(path / "unit.db")
    store.append_event("load_election", {"station": "north-1", "election_hash": election.hash}, 100)
    for i, cvr in enumerate(cvrs_in_cast_order):
        store.append_event("authorise", {"voter_id": f"V{i}"}, 200 + i)
        store.cast_ballot(cvr, {"compartment": "box"}, 200.5 + i)
        store.append_event("ballot_dropped", {"compartment": "box"}, 200.7 + i)
    export_unit(store, election, path / "export", UnitSigner.generate(random.Random(1)), at=999)
    store.close()
    return {p.relative_to(path / "export"): p.read_bytes()
            for p in sorted((path / "export").rglob("*")) if p.is_file()}


def test_every_export_file_is_the_same_whatever_the_cast_order(tmp_path):
    e = load_election("demo")
    rng = random.Random(5)
    mayor = e.contests["mayor"].choice_ids()
    cvrs = [CastVoteRecord(f"{rng.getrandbits(128):032x}", "north-ballot",
                           {"mayor": ((rng.choice(mayor),), "valid")}) for _ in range(40)]
    shuffled = list(cvrs)
    random.Random(6).shuffle(shuffled)
    assert shuffled != cvrs
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    a, b = _unit(tmp_path / "a", cvrs, e), _unit(tmp_path / "b", shuffled, e)
    assert sorted(a) == sorted(b) and len(a) >= 12
    different = [str(name) for name in a if a[name] != b[name]]
    assert different == []


def test_journal_holds_no_vote_and_no_record_id(tmp_path):
    export = exported_day(tmp_path, voters=60)
    journal = (export / "journal.jsonl").read_text()
    cvrs = [json.loads(x) for x in (export / "cast_vote_records.jsonl").read_text().splitlines()]
    assert cvrs
    e = load_election("demo")
    choices = {ch for c in e.contests.values() for ch in c.choice_ids()}
    for line in journal.splitlines():
        rec = json.loads(line)
        if rec["type"] in ("ballot_cast", "ballot_dropped", "authorise"):
            assert not choices & set(json.dumps(rec["data"]).replace('"', " ").split())
    for c in cvrs:
        assert c["id"] not in journal
        assert set(c) <= {"id", "ballot_style", "contests", "image_sha256"}
    ids = [c["id"] for c in cvrs]
    assert ids == sorted(ids)
    nist = json.loads((export / "nist/cast_vote_records.json").read_text())
    for c in nist["CVR"]:
        assert not {"BatchSequenceId", "BallotAuditId"} & set(c)  # nothing that orders in time
