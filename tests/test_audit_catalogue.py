"""Every finding the auditor's checks can make, each on a real export tampered in one way.

Each case names the exact fault (kind, where) and a fragment of its detail, so that a check
that is skipped, misnamed or pointed at the wrong record fails a test (mutation testing found
these paths untested).
"""
from __future__ import annotations

import json

from device.audit.replay import replay_export
from device.audit.verify import verify_export
from device.cli.main import main
from device.results.exports import json_doc
from tests.test_audit import clean, export  # noqa: F401  (the same exported day and its copy)
from tests.unit_exports import read_records, rechain, write_records


def _journal(export):
    return read_records(export / "journal.jsonl")


def _edit_journal(export, edit):
    recs = _journal(export)
    edit(recs)
    rechain(recs)
    write_records(export / "journal.jsonl", recs)
    return recs


def _findings(report):
    return [(f.kind, f.where, f.detail) for f in report.faults]


def _has(report, kind, where, fragment=""):
    found = [(k, w, d) for k, w, d in _findings(report) if k == kind and w == where and fragment in d]
    assert found, _findings(report)


def _seq_of(recs, type_, nth=0):
    return [r for r in recs if r["type"] == type_][nth]["seq"]


# --- replay --------------------------------------------------------------------------------

def test_a_clean_export_replays_with_the_facts_of_the_day(export):
    rep = replay_export(export)
    assert rep.ok, _findings(rep)
    recs = _journal(export)
    casts = sum(r["type"] == "ballot_cast" for r in recs)
    assert rep.facts["final_state"] == {"polls": "polls_closed", "voter": "inactive", "ballot": "inactive"}
    assert rep.facts["ballots_cast_events"] == casts == rep.facts["cast_vote_records"]
    assert rep.facts["ballots_confirmed_in_box"] == casts
    assert rep.facts["voters_checked_in"] == sum(r["type"] == "authorise" for r in recs) > 0
    assert "audit verify" in rep.facts["scope"] and rep.check == "replay" and rep.directory == str(export)


def test_replay_altered_election(export):
    doc = json.loads((export / "election.json").read_text())
    doc["title"] += " (edited)"
    (export / "election.json").write_bytes(json_doc(doc))
    _has(replay_export(export), "altered", "election.json", "not the signed election hash")


def test_replay_every_unknown_event_is_named_and_the_rest_still_replayed(export):
    def edit(recs):
        recs.insert(5, {**recs[5], "type": "teleport", "data": {}})
        recs.insert(9, {**recs[9], "type": "levitate", "data": {}})
    _edit_journal(export, edit)
    rep = replay_export(export)
    _has(rep, "disallowed transition", "journal record seq 6", "unknown event type 'teleport'")
    _has(rep, "disallowed transition", "journal record seq 10", "unknown event type 'levitate'")


def test_replay_a_check_in_while_the_polls_are_closed(export):
    def edit(recs):
        auth = next(r for r in recs if r["type"] == "authorise")
        recs.append({**auth, "data": {"voter": "f" * 32}})
    recs = _edit_journal(export, edit)
    _has(replay_export(export), "disallowed transition", f"journal record seq {recs[-1]['seq']}",
         "authorise while the polls region is polls_closed")


def test_replay_a_transition_the_region_does_not_allow(export):
    def edit(recs):
        i = next(i for i, r in enumerate(recs) if r["type"] == "ballot_dropped")
        recs.insert(i + 1, {**recs[i]})  # a second drop: the box is already waiting for a ballot
    recs = _edit_journal(export, edit)
    second = [r["seq"] for r in recs if r["type"] == "ballot_dropped"][1]
    _has(replay_export(export), "disallowed transition", f"journal record seq {second}",
         "ballot_dropped is not allowed from ballot state 'waiting_for_ballot'")


def test_replay_a_voter_authorised_twice(export):
    def edit(recs):
        first = next(r for r in recs if r["type"] == "authorise")
        second = [r for r in recs if r["type"] == "authorise"][1]
        second["data"] = dict(first["data"])
    recs = _edit_journal(export, edit)
    first, second = _seq_of(recs, "authorise"), _seq_of(recs, "authorise", 1)
    _has(replay_export(export), "double check-in", f"journal record seq {second}", f"at seq {first}")


def test_replay_a_check_in_record_without_its_pseudonym(export):
    def edit(recs):
        next(r for r in recs if r["type"] == "authorise")["data"] = {}
    recs = _edit_journal(export, edit)
    _has(replay_export(export), "altered", f"journal record seq {_seq_of(recs, 'authorise')}",
         "authorise record lacks 'voter'")


def test_replay_an_unreadable_cast_vote_record(export):
    path = export / "cast_vote_records.jsonl"
    lines = path.read_text().splitlines()
    lines[2] = "{not json"
    path.write_text("\n".join(lines) + "\n")
    rep = replay_export(export)
    _has(rep, "altered", "cast vote record line 3", "not a readable record")
    _has(rep, "count mismatch", "cast_vote_records.jsonl", f"{len(lines)} ballot_cast events but {len(lines) - 1}")


def test_replay_a_cast_whose_drop_was_never_confirmed(export):
    def edit(recs):
        i = next(i for i, r in enumerate(recs) if r["type"] == "ballot_dropped")
        recs[i]["type"] = "ballot_returned"  # not a drop any more (and not allowed from accepting)
    recs = _edit_journal(export, edit)
    casts = sum(r["type"] == "ballot_cast" for r in recs)
    _has(replay_export(export), "count mismatch", "journal", f"{casts} ballots cast but {casts - 1} confirmed")


def test_replay_results_that_are_not_the_signed_ones(export):
    doc = json.loads((export / "results.json").read_text())
    doc["ballots_cast"] += 1
    (export / "results.json").write_bytes(json_doc(doc))
    rep = replay_export(export)
    _has(rep, "altered", "results.json", "not the results the unit signed")
    _has(rep, "tally mismatch", "results ballots_cast", f"signed {doc['ballots_cast']}")


def test_replay_records_that_cannot_be_tallied(export):
    path = export / "cast_vote_records.jsonl"
    lines = path.read_text().splitlines()
    rec = json.loads(lines[0])
    cid = next(iter(rec["contests"]))
    rec["contests"][cid]["status"] = "valid"
    rec["contests"][cid]["selections"] = ["nobody-at-all"]
    lines[0] = json.dumps(rec, sort_keys=True, separators=(",", ":"))
    path.write_text("\n".join(lines) + "\n")
    _has(replay_export(export), "tally mismatch", "cast_vote_records.jsonl", "cannot be tallied")


def test_replay_a_close_without_the_units_signature(export):
    def edit(recs):
        close = next(i for i, r in enumerate(recs) if r["type"] == "close_polls")
        recs[:] = [r for i, r in enumerate(recs) if not (i > close and r["type"] == "checkpoint"
                                                        and r["data"].get("reason") == "polls_close")]
    recs = _edit_journal(export, edit)
    _has(replay_export(export), "unsigned close", f"journal record seq {_seq_of(recs, 'close_polls')}",
         "not followed by the unit's signed checkpoint")


def test_replay_a_journal_cut_before_the_close_says_where(export):
    recs = _journal(export)
    close = next(i for i, r in enumerate(recs) if r["type"] == "close_polls")
    write_records(export / "journal.jsonl", recs[:close])
    _has(replay_export(export), "unsigned close", f"journal after seq {recs[close - 1]['seq']}",
         "the journal ends with the polls polls_open")


# --- verify --------------------------------------------------------------------------------

def test_a_clean_export_verifies_with_the_units_key(export):
    rep = verify_export(export)
    assert rep.ok, _findings(rep)
    key = json.loads((export / "manifest.json").read_text())["public_key"]
    assert rep.facts["public_key"] == key and rep.check == "verify"
    assert rep.facts["journal_records"] == len(_journal(export))


def test_verify_an_unreadable_signatures_file(export):
    (export / "signatures.json").write_text("[1, 2")
    _has(verify_export(export), "altered", "signatures.json", "not a readable signatures file")


def test_verify_a_signature_made_with_another_key(export):
    sigs = json.loads((export / "signatures.json").read_text())
    sig = sigs["manifest"]["signature"]
    sigs["manifest"]["signature"] = ("0" if sig[0] != "0" else "1") + sig[1:]
    (export / "signatures.json").write_bytes(json_doc(sigs))
    key = json.loads((export / "manifest.json").read_text())["public_key"]
    _has(verify_export(export), "forged signature", "manifest.json", f"not signed by the unit key {key[:16]}...")


def test_verify_a_manifest_naming_another_key(export):
    other = "ab" * 32
    rep = verify_export(export, expected_key=other)
    _has(rep, "forged signature", "manifest.json", f"the unit's is {other[:16]}...")


def test_verify_a_missing_journal(export):
    (export / "journal.jsonl").unlink()
    _has(verify_export(export), "deleted", "journal.jsonl", "the journal file is missing")


def test_verify_a_journal_cut_at_a_line_end(export):
    recs = _journal(export)
    write_records(export / "journal.jsonl", recs[:-3])
    _has(verify_export(export), "truncated", f"journal record seq {recs[-3]['seq']}",
         f"the journal ends at seq {recs[-4]['seq']}; the signed manifest says {recs[-1]['seq']}")


def test_verify_records_beyond_the_signed_head(export):
    recs = _journal(export)
    recs.append({**recs[-1], "seq": recs[-1]["seq"] + 1, "type": "unit_started", "data": {}})
    rechain(recs, len(recs) - 1)
    write_records(export / "journal.jsonl", recs)
    _has(verify_export(export), "inserted", f"journal record seq {recs[-1]['seq']}", "1 record(s) beyond the signed head")


def test_verify_a_checkpoint_that_seals_another_record(export):
    def edit(recs):
        cp = next(r for r in recs if r["type"] == "checkpoint")
        cp["data"] = {**cp["data"], "head_seq": cp["data"]["head_seq"] - 1}
    recs = _edit_journal(export, edit)
    cp = next(r for r in recs if r["type"] == "checkpoint")
    rep = verify_export(export)
    where = f"journal record seq {cp['seq']} (checkpoint {cp['data']['reason']})"
    assert any(f.where == where and f.kind in ("forged signature", "altered") for f in rep.faults), _findings(rep)


def test_verify_every_checkpoint_is_checked(export):
    def edit(recs):
        cps = [r for r in recs if r["type"] == "checkpoint"]
        assert len(cps) >= 2
        cps[-1]["data"] = {**cps[-1]["data"], "signature": "00" * 64}
    recs = _edit_journal(export, edit)
    last = [r for r in recs if r["type"] == "checkpoint"][-1]
    _has(verify_export(export), "forged signature",
         f"journal record seq {last['seq']} (checkpoint {last['data']['reason']})", "not the unit key's")


def test_verify_a_missing_records_file(export):
    (export / "cast_vote_records.jsonl").unlink()
    _has(verify_export(export), "deleted", "cast_vote_records.jsonl", "the cast vote records file is missing")


def test_verify_an_unreadable_record_line_and_an_unsigned_record(export):
    path = export / "cast_vote_records.jsonl"
    lines = path.read_text().splitlines()
    extra = json.loads(lines[0])
    extra["id"] = "f" * 32
    lines = ["{broken"] + lines[1:] + [json.dumps(extra, sort_keys=True, separators=(",", ":"))]
    path.write_text("\n".join(lines) + "\n")
    rep = verify_export(export)
    _has(rep, "altered", "cast vote record line 1", "not a readable record")
    _has(rep, "inserted", f"cast vote record {'f' * 32}", "not among the signed records")


def test_verify_records_out_of_id_order(export):
    path = export / "cast_vote_records.jsonl"
    lines = path.read_text().splitlines()
    lines[1], lines[2] = lines[2], lines[1]
    path.write_text("\n".join(lines) + "\n")
    _has(verify_export(export), "reordered", "cast vote record line 2", "not in id order")


def test_verify_a_signed_file_that_is_missing_or_changed(export):
    (export / "ballot_manifest.csv").unlink()
    with open(export / "nist" / "event_log.json", "a") as fh:
        fh.write(" ")
    rep = verify_export(export)
    _has(rep, "deleted", "ballot_manifest.csv", "a signed file is missing")
    _has(rep, "altered", "nist/event_log.json", "differs from the signed manifest")


def test_the_cli_prints_the_first_fault_and_exits_1(export, capsys):
    (export / "ballot_manifest.csv").unlink()
    assert main(["audit", "verify", str(export)]) == 1
    out = capsys.readouterr().out
    assert "verify: FAILED" in out and "ballot_manifest.csv" in out
