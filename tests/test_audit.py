"""Auditor's verify and replay on real exports: clean passes; every kind of tampering is found."""
from __future__ import annotations

import json
import random
import shutil

import pytest
from tests.unit_exports import (exported_day, forge_whole_export, read_records, rechain, resign_manifest,
                                write_records)

from device.audit.replay import replay_export
from device.audit.verify import verify_export
from device.ballots.records import CastVoteRecord
from device.cli.main import main
from device.election.definition import load_election
from device.results.exports import export_unit, json_doc
from device.store.signing import UnitSigner, provision
from device.store.sqlite import SqliteStore
from device.store.journal import record_hash


@pytest.fixture(scope="module")
def clean(tmp_path_factory):
    return exported_day(tmp_path_factory.mktemp("day"))


@pytest.fixture
def export(clean, tmp_path):
    dst = tmp_path / "export"
    shutil.copytree(clean, dst)
    return dst


def kinds(report):
    return [f.kind for f in report.faults]


def test_clean_export_verifies_and_replays(export, capsys):
    assert verify_export(export).ok
    rep = replay_export(export)
    assert rep.ok, rep.faults
    assert rep.facts["ballots_cast_events"] == rep.facts["cast_vote_records"] > 0
    assert main(["audit", "verify", str(export), "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["ok"] is True
    assert main(["audit", "replay", str(export)]) == 0


@pytest.mark.parametrize("offset", [5, 40, 90, -20])
def test_flip_one_byte_is_altered_at_that_record(export, offset):
    path = export / "journal.jsonl"
    lines = path.read_bytes().split(b"\n")
    line = bytearray(lines[9])
    line[offset] ^= 0x01
    lines[9] = bytes(line)
    path.write_bytes(b"\n".join(lines))
    rep = verify_export(export)
    assert rep.faults[0].kind == "altered"
    assert "seq 10" in rep.faults[0].where or "line 10" in rep.faults[0].where


def test_delete_a_record(export):
    recs = read_records(export / "journal.jsonl")
    del recs[14]
    write_records(export / "journal.jsonl", recs)
    rep = verify_export(export)
    assert rep.faults[0].kind == "deleted" and rep.faults[0].where == "journal record seq 15"


def test_delete_and_renumber(export):
    recs = read_records(export / "journal.jsonl")
    del recs[14]
    for r in recs[14:]:
        r["seq"] -= 1
    write_records(export / "journal.jsonl", recs)
    rep = verify_export(export)
    assert rep.faults[0].kind == "deleted" and rep.faults[0].where == "journal record seq 15"


def test_swap_two_records(export):
    recs = read_records(export / "journal.jsonl")
    recs[20], recs[21] = recs[21], recs[20]
    write_records(export / "journal.jsonl", recs)
    rep = verify_export(export)
    assert rep.faults[0].kind == "reordered" and "seq 22" in rep.faults[0].where


def test_insert_forged_record(export):
    recs = read_records(export / "journal.jsonl")
    prev = recs[29]
    forged = {"seq": prev["seq"] + 1, "type": "ballot_cast", "at": prev["at"] + 1,
              "data": {"compartment": "box"}, "prev_hash": prev["hash"]}
    forged["hash"] = record_hash(forged["seq"], forged["type"], forged["at"], forged["data"], prev["hash"])
    recs.insert(30, forged)
    write_records(export / "journal.jsonl", recs)
    rep = verify_export(export)
    assert rep.faults[0].kind == "inserted" and "seq 31 (line 31)" in rep.faults[0].where


def test_insert_forged_record_and_rewrite_the_rest_is_still_found(export):
    recs = read_records(export / "journal.jsonl")
    recs.insert(30, {"type": "authorise", "at": recs[29]["at"], "data": {"voter_id": "FORGED"}})
    rechain(recs, 30)
    write_records(export / "journal.jsonl", recs)
    rep = verify_export(export)
    assert "inserted" in kinds(rep)
    assert any("checkpoint" in f.where for f in rep.faults)  # the signed heads no longer match


def test_truncate_in_the_middle(export):
    path = export / "journal.jsonl"
    raw = path.read_bytes()
    path.write_bytes(raw[: len(raw) // 2])
    rep = verify_export(export)
    assert rep.faults[0].kind == "truncated" and rep.faults[0].where.startswith("journal record seq")


def test_replace_a_cast_vote_record(export):
    path = export / "cast_vote_records.jsonl"
    lines = path.read_text().splitlines()
    old = json.loads(lines[3])
    e = load_election("demo")
    mayor = e.contests["mayor"].choice_ids()
    now = old["contests"]["mayor"]["selections"]
    other = next(c for c in mayor if [c] != now)
    new = dict(old, contests=dict(old["contests"], mayor={"selections": [other], "status": "valid"}))
    lines[3] = json.dumps(new, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    rep = verify_export(export)
    assert rep.faults[0].kind == "altered" and rep.faults[0].where == f"cast vote record {old['id']}"
    rep2 = replay_export(export)
    assert "tally mismatch" in kinds(rep2)
    assert any(f.where == "contest mayor choice " + other for f in rep2.faults)


def test_resign_with_another_key(export):
    results = json.loads((export / "results.json").read_text())
    results["contests"]["mayor"]["votes"]["m-chenda"] += 25
    (export / "results.json").write_bytes(json_doc(results))
    resign_manifest(export, UnitSigner.generate(random.Random(99)))
    rep = verify_export(export)
    assert rep.faults[0].kind == "forged signature" and rep.faults[0].where == "manifest.json"


def test_full_rewrite_with_another_key_needs_the_registered_key(export, clean):
    true_key = (clean / "public_key.txt").read_text().strip()
    attacker = UnitSigner.generate(random.Random(98))
    forge_whole_export(export, attacker)
    assert verify_export(export).ok  # consistent in itself: only an independent key tells
    rep = verify_export(export, expected_key=true_key)
    assert rep.faults[0].kind == "forged signature"
    assert main(["audit", "verify", str(export), "--key", true_key]) == 1


def test_replay_reports_a_transition_the_machine_would_not_allow(tmp_path):
    e = load_election("demo")
    store = SqliteStore(tmp_path / "u.db")
    signer = provision(store, random.Random(1))
    store.append_event("load_election", {"station": "north-1", "election_hash": e.hash}, 1)
    store.append_event("open_polls", {}, 2)
    store.append_event("start_scanning", {}, 3)
    store.append_event("authorise", {"voter_id": "V1"}, 4)
    store.append_event("authorise", {"voter_id": "V1"}, 4.5)
    store.cast_ballot(CastVoteRecord("ab", "north-ballot", {}), {"compartment": "box"}, 5)  # no scan
    export_unit(store, e, tmp_path / "x", signer)
    assert verify_export(tmp_path / "x").ok  # signed by the unit: integrity is fine
    rep = replay_export(tmp_path / "x")
    assert rep.faults[0].kind == "disallowed transition" and rep.faults[0].where == "journal record seq 4"
    assert any(f.kind == "double check-in" and f.where == "journal record seq 5" for f in rep.faults)
    assert any(f.kind == "disallowed transition" and f.where == "journal record seq 6" for f in rep.faults)


def test_bad_input_is_one_line_exit_2(tmp_path, capsys):
    assert main(["audit", "verify", str(tmp_path)]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "not a unit export" in err
    assert main(["audit", "verify", str(tmp_path / "nope")]) == 2
    assert main(["audit", "verify", str(tmp_path), "--key", "zz"]) == 2


def test_delete_a_cast_vote_record_names_it(export):
    path = export / "cast_vote_records.jsonl"
    lines = path.read_text().splitlines()
    gone = json.loads(lines[5])["id"]
    path.write_text("\n".join(lines[:5] + lines[6:]) + "\n")
    rep = verify_export(export)
    assert ("deleted", f"cast vote record {gone}") in [(f.kind, f.where) for f in rep.faults]
    assert "count mismatch" in kinds(replay_export(export))


def test_a_record_rehashed_onto_a_forged_link_is_found(export):
    recs = read_records(export / "journal.jsonl")
    k = 20
    recs[k]["prev_hash"] = "f" * 64
    recs[k]["hash"] = record_hash(recs[k]["seq"], recs[k]["type"], recs[k]["at"], recs[k]["data"], "f" * 64)
    rest = recs[k + 1:]
    prev = recs[k]["hash"]
    for r in rest:  # the attacker rechains everything after it
        r["prev_hash"] = prev
        r["hash"] = prev = record_hash(r["seq"], r["type"], r["at"], r["data"], prev)
    write_records(export / "journal.jsonl", recs)
    rep = verify_export(export)
    assert (rep.faults[0].kind, rep.faults[0].where) == ("altered", f"journal record seq {recs[k]['seq'] - 1}")


def test_replay_refuses_a_journal_without_a_signed_close(export, capsys):
    recs = read_records(export / "journal.jsonl")
    close = next(i for i, r in enumerate(recs) if r["type"] == "close_polls")
    write_records(export / "journal.jsonl", recs[:close])
    rep = replay_export(export)
    assert "unsigned close" in kinds(rep)
    assert main(["audit", "replay", str(export)]) == 1
    assert "unsigned close" in capsys.readouterr().out


def test_replay_finds_edited_nist_results(export):
    path = export / "nist" / "election_results.json"
    doc = json.loads(path.read_text())
    doc["Election"][0]["BallotCounts"][0]["BallotsCast"] += 1
    path.write_text(json.dumps(doc))
    rep = replay_export(export)
    assert ("tally mismatch", "nist/election_results.json") in [(f.kind, f.where) for f in rep.faults]


def test_missing_signatures_file_is_named(export):
    (export / "signatures.json").unlink()
    rep = verify_export(export)
    assert rep.faults[0].kind == "deleted" and rep.faults[0].where == "signatures.json"


def test_not_a_folder_is_worded_the_same_by_both_checks(tmp_path, capsys):
    missing = tmp_path / "nowhere"
    assert main(["audit", "verify", str(missing)]) == 2
    verify_err = capsys.readouterr().err
    assert main(["audit", "replay", str(missing)]) == 2
    assert capsys.readouterr().err == verify_err and "no such file" in verify_err
    afile = tmp_path / "a-file"
    afile.write_text("not an export")
    assert main(["audit", "verify", str(afile)]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_parse_journal_keeps_reading_after_a_bad_line():
    from device.store.chain import parse_journal
    good = json.dumps({"seq": 1, "type": "x", "at": 1, "data": {}, "prev_hash": "0" * 64, "hash": "1" * 64})
    records, complete = parse_journal(f"{good}\nnot json\n{good}\n".encode())
    assert complete and records[1] is None and records[0] == records[2] and records[2]["seq"] == 1
    assert parse_journal(b"") == ([], True)
    assert parse_journal(good.encode())[1] is False  # no final line end: the last line may be torn
