"""Unit key provisioning, checkpoint signatures, and (below) the export files."""
from __future__ import annotations

import random

from device.store.signing import UnitSigner, append_checkpoint, check_checkpoint, provision, verify
from device.store.sqlite import SqliteStore
from device.store.journal import MemoryStore, checkpoint_message


def test_key_is_created_once_and_kept_with_the_store(tmp_path):
    path = tmp_path / "u.db"
    s = SqliteStore(path)
    k1 = provision(s)
    s.close()
    s2 = SqliteStore(path)
    k2 = provision(s2)
    assert k1.public_key_hex() == k2.public_key_hex() and k2.origin == "device"
    assert len(k1.public_key_hex()) == 64


def test_seeded_simulation_key_reproduces_and_is_marked(tmp_path):
    a = provision(SqliteStore(tmp_path / "a.db"), random.Random(3))
    b = provision(SqliteStore(tmp_path / "b.db"), random.Random(3))
    assert a.public_key_hex() == b.public_key_hex() and a.origin == "simulation"
    assert provision(SqliteStore(tmp_path / "a.db")).origin == "simulation"


def test_checkpoint_signs_the_head_and_verifies():
    store = MemoryStore()
    signer = UnitSigner.generate(random.Random(1))
    store.append_event("open_polls", {}, 1)
    head = list(store.events())[-1]
    rec = append_checkpoint(store, signer, "polls_open", 2)
    assert rec.data["head_seq"] == head.seq and rec.data["head_hash"] == head.hash
    assert check_checkpoint(rec.data, signer.public_key_hex())
    other = UnitSigner.generate(random.Random(2))
    assert not check_checkpoint(rec.data, other.public_key_hex())
    forged = dict(rec.data, head_seq=head.seq + 1)
    assert not check_checkpoint(forged, signer.public_key_hex())
    assert verify(signer.public_key_hex(), rec.data["signature"],
                  checkpoint_message(head.seq, head.hash, "polls_open"))


# --- the export folder ---------------------------------------------------------------------

import csv  # noqa: E402
import io  # noqa: E402
import json  # noqa: E402

import jsonschema  # noqa: E402
import pytest  # noqa: E402

from device.ballots.records import CastVoteRecord  # noqa: E402
from device.cli.main import main  # noqa: E402
from device.election.definition import load_election  # noqa: E402
from device.results.exports import ExportError, export_unit  # noqa: E402
from tests.unit_exports import exported_day  # noqa: E402
from tests.nist_schemas import nist_schema  # noqa: E402

NIST = {"nist/event_log.json": "NIST_V1_election_event_logging.json",
        "nist/event_log_documentation.json": "NIST_V1_election_event_logging.json",
        "nist/cast_vote_records.json": "NIST_V0_cast_vote_records.json",
        "nist/election_results.json": "NIST_V2_election_results_reporting.json"}


def validator(schema_file: str) -> jsonschema.Draft4Validator:
    schema = nist_schema(schema_file)
    return jsonschema.Draft4Validator(schema, format_checker=jsonschema.FormatChecker())


@pytest.fixture(scope="module", params=["demo", "cambodia-2022", "kyrgyzstan-2017"])
def export(request, tmp_path_factory):
    return exported_day(tmp_path_factory.mktemp(request.param), election=request.param, voters=80)


@pytest.mark.parametrize("name", sorted(NIST))
def test_nist_documents_validate_against_the_official_schemas(export, name):
    doc = json.loads((export / name).read_text(encoding="utf-8"))
    v = validator(NIST[name])
    errors = [f"{list(e.absolute_path)}: {e.message[:200]}" for e in v.iter_errors(doc)]
    assert errors == []
    broken = dict(doc)
    broken.pop("@type")
    assert not v.is_valid(broken)  # the validation can fail


def test_nist_contents_agree_with_the_records(export):
    cvrs = [json.loads(x) for x in (export / "cast_vote_records.jsonl").read_text().splitlines()]
    report = json.loads((export / "nist/cast_vote_records.json").read_text())
    assert [c["UniqueId"] for c in report["CVR"]] == [c["id"] for c in cvrs]
    log = json.loads((export / "nist/event_log.json").read_text())
    journal = [json.loads(x) for x in (export / "journal.jsonl").read_text().splitlines()]
    assert [e["Hash"] for e in log["Device"][0]["Event"]] == [r["hash"] for r in journal]
    results = json.loads((export / "results.json").read_text())
    er = json.loads((export / "nist/election_results.json").read_text())
    assert er["Election"][0]["BallotCounts"][0]["BallotsCast"] == results["ballots_cast"] == len(cvrs)
    for contest in er["Election"][0]["Contest"]:
        for sel in contest["ContestSelection"]:
            choice = sel["@id"].split("--", 1)[1]
            assert sel["VoteCounts"][0]["Count"] == results["contests"][contest["@id"]]["votes"][choice]


def test_arlo_manifest_counts_every_cast_ballot(export):
    rows = list(csv.DictReader(io.StringIO((export / "ballot_manifest.csv").read_text())))
    assert list(rows[0]) == ["Container", "Tabulator", "Batch Name", "Number of Ballots"]
    n_cvrs = len((export / "cast_vote_records.jsonl").read_text().splitlines())
    assert sum(int(r["Number of Ballots"]) for r in rows) == n_cvrs


def test_public_key_and_signatures_are_exported(export):
    manifest = json.loads((export / "manifest.json").read_text())
    sigs = json.loads((export / "signatures.json").read_text())
    assert (export / "public_key.txt").read_text().strip() == manifest["public_key"] == sigs["public_key"]
    reasons = [c["reason"] for c in sigs["checkpoints"]]
    assert reasons == ["polls_open", "polls_close", "export"]
    assert all(verify(sigs["public_key"], c["signature"],
                      checkpoint_message(c["head_seq"], c["head_hash"], c["reason"]))
               for c in sigs["checkpoints"])


def test_ballot_image_hash_is_carried_into_the_nist_cvr(tmp_path):
    e = load_election("demo")
    store = SqliteStore(tmp_path / "u.db")
    signer = provision(store, random.Random(4))
    store.append_event("load_election", {"station": "north-1", "election_hash": e.hash}, 1)
    digest = "ab" * 32
    store.cast_ballot(CastVoteRecord("c1", "north-ballot", {"mayor": (("m-amara",), "valid")}, digest),
                      {"compartment": "box"}, 2)
    export_unit(store, e, tmp_path / "x", signer)
    report = json.loads((tmp_path / "x/nist/cast_vote_records.json").read_text())
    assert report["CVR"][0]["BallotImage"][0]["Hash"] == {"@type": "CVR.Hash", "Type": "sha-256",
                                                         "Value": digest}
    assert validator(NIST["nist/cast_vote_records.json"]).is_valid(report)
    with pytest.raises(ExportError, match="already holds an export"):
        export_unit(store, e, tmp_path / "x", signer)
    events = list(store.events())
    assert [r.type for r in events[-3:]] == ["ballot_cast", "checkpoint", "export_written"]  # refused: no write


def test_device_export_cli(tmp_path, capsys, monkeypatch):
    import io
    from sim.unit.access import SIMULATION_PINS, mark_simulation_store
    e = load_election("demo")
    store = SqliteStore(tmp_path / "u.db")
    mark_simulation_store(store)  # the simulated election manager may export it
    monkeypatch.setattr("sys.stdin", io.StringIO((SIMULATION_PINS["election_manager"] + "\n") * 2))
    provision(store, random.Random(4))
    store.append_event("load_election", {"station": "north-1", "election_hash": e.hash}, 1)
    store.close()
    assert main(["device", "export", "--store", str(tmp_path / "u.db"), "--out", str(tmp_path / "x"),
                 "--json", "--pin-stdin"]) == 0
    assert json.loads(capsys.readouterr().out)["station"] == "north-1"
    assert main(["audit", "verify", str(tmp_path / "x")]) == 0
    assert main(["device", "export", "--store", str(tmp_path / "u.db"), "--out", str(tmp_path / "x"),
                 "--pin-stdin"]) == 2
    assert "already holds an export" in capsys.readouterr().err
    assert main(["device", "export", "--store", str(tmp_path / "none.db"), "--out", str(tmp_path / "y")]) == 2
    bare = SqliteStore(tmp_path / "bare.db")
    bare.close()
    assert main(["device", "export", "--store", str(tmp_path / "bare.db"), "--out", str(tmp_path / "z")]) == 2
    assert "never provisioned" in capsys.readouterr().err
