"""The authority's and the election manager's commands: exit codes, --json, and audit verify --package."""
import io
import json
import random
import shutil
import stat

import pytest

from device.cli.main import main
from device.election.definition import load_election
from device.store.signing import UnitSigner
from tests.unit_exports import exported_day, forge_whole_export


def run(capsys, *argv):
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out, out.err


@pytest.fixture
def authority(tmp_path, capsys):
    code, out, _ = run(capsys, "election", "keygen", "--out", str(tmp_path / "keys"), "--json")
    assert code == 0
    return json.loads(out)


def test_keygen_cli(tmp_path, capsys, authority):
    assert stat.S_IMODE((tmp_path / "keys" / "authority.key").stat().st_mode) == 0o600
    code, out, _ = run(capsys, "election", "keygen", "--out", str(tmp_path / "keys"), "--json")
    assert code == 2 and "refusing to overwrite" in json.loads(out)["error"]


def test_validate_lists_every_error(tmp_path, capsys):
    doc = json.loads(json.dumps(load_election("demo").raw))
    doc["contests"][0]["method"] = "borda"
    doc["stations"][1]["district"] = "nowhere"
    del doc["date"]
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps(doc))
    code, out, _ = run(capsys, "election", "validate", str(bad), "--json")
    assert code == 2
    paths = [e["path"] for e in json.loads(out)["errors"]]
    assert paths == ["$.date", "$.contests[0].method", "$.stations[1].district"]
    code, out, _ = run(capsys, "election", "validate", str(bad))
    assert code == 2 and "3 error(s)" in out and "$.stations[1].district" in out
    assert run(capsys, "election", "validate", "demo")[0] == 0
    (tmp_path / "junk.json").write_text("{nope")
    code, _, err = run(capsys, "election", "validate", str(tmp_path / "junk.json"))
    assert code == 2 and "not valid JSON" in err


def write_inputs(tmp_path, unit_key):
    (tmp_path / "roll.csv").write_text("voter_id,document_number,station_id\nV1,D1,north-1\nV2,D2,south-1\n")
    (tmp_path / "units.json").write_text(json.dumps({"north-1": [unit_key]}))
    (tmp_path / "staff.csv").write_text("station_id,role,pin\nnorth-1,election_manager,482913\n"
                                        "north-1,poll_worker,750264\n")


def test_package_verify_provision_load(tmp_path, capsys, monkeypatch, authority):
    keys = tmp_path / "keys"
    code, out, _ = run(capsys, "device", "provision", "--store", str(tmp_path / "unit.db"),
                       "--authority", str(keys / "authority.pub"), "--unit-key", str(tmp_path / "unit.key"),
                       "--json")
    assert code == 0
    unit_key = json.loads(out)["unit_public_key"]
    for secret in ("unit.key", "unit.db"):  # the store holds the unit key and the pseudonym key
        assert stat.S_IMODE((tmp_path / secret).stat().st_mode) == 0o600
    write_inputs(tmp_path, unit_key)
    pkg = tmp_path / "demo.bbpkg"
    code, out, _ = run(capsys, "election", "package", "--election", "demo", "--roll", str(tmp_path / "roll.csv"),
                       "--key", str(keys / "authority.key"), "--out", str(pkg), "--units",
                       str(tmp_path / "units.json"), "--staff", str(tmp_path / "staff.csv"),
                       "--mode", "simulation", "--json")
    assert code == 0, out
    summary = json.loads(out)
    assert summary["stations"]["north-1"] == {"voters": 1, "units": 1,
                                              "roles_with_pin": ["election_manager", "poll_worker"]}
    pins = tmp_path / "demo.bbpkg.pins.csv"  # the four PINs not given were generated
    assert stat.S_IMODE(pins.stat().st_mode) == 0o600 and len(pins.read_text().splitlines()) == 5
    code, out, _ = run(capsys, "election", "verify", str(pkg), "--authority", str(keys / "authority.pub"), "--json")
    assert code == 0 and json.loads(out)["ok"] is True
    other = UnitSigner.generate().public_key_hex()
    code, out, _ = run(capsys, "election", "verify", str(pkg), "--authority", other, "--json")
    assert code == 1 and json.loads(out)["reason"] == "wrong_authority"
    code, out, _ = run(capsys, "election", "verify", str(pkg), "--authority", "nonsense", "--json")
    assert code == 2 and "error" in json.loads(out)
    # loading: wrong PIN refused (1), right PIN loads (0)
    for pin, expected in (("000001", 1), ("482913", 0)):
        monkeypatch.setattr("sys.stdin", io.StringIO(pin + "\n"))
        code, out, _ = run(capsys, "device", "load", "--store", str(tmp_path / "unit.db"), "--package",
                           str(pkg), "--pin-stdin", "--json")
        assert code == expected, out
    assert json.loads(out)["station"] == "north-1"
    # overwriting a package or its PIN file is refused
    code, out, _ = run(capsys, "election", "package", "--election", "demo", "--roll", str(tmp_path / "roll.csv"),
                       "--key", str(keys / "authority.key"), "--out", str(pkg), "--json")
    assert code == 2 and "already exists" in json.loads(out)["error"]


def test_audit_verify_takes_the_unit_key_from_the_package(tmp_path, capsys, authority):
    from device.election.authority import read_authority_key
    from device.election.package import build_package
    from device.election.voter_roll import VoterRoll
    clean = exported_day(tmp_path / "day", voters=30)
    manifest = json.loads((clean / "manifest.json").read_text())
    e = load_election("demo")
    pkg = build_package(e, VoterRoll([], e), read_authority_key(tmp_path / "keys" / "authority.key"),
                        tmp_path / "p.bbpkg", units={manifest["station"]: [manifest["public_key"]]},
                        pin_cost="simulation")
    pub = str(tmp_path / "keys" / "authority.pub")
    args = ["--package", str(pkg), "--authority", pub, "--json"]
    code, out, _ = run(capsys, "audit", "verify", str(clean), *args)
    assert code == 0, out
    forged = tmp_path / "forged"
    shutil.copytree(clean, forged)
    forge_whole_export(forged, UnitSigner.generate(random.Random(98)))
    assert run(capsys, "audit", "verify", str(forged), "--json")[0] == 0  # without a key: fooled
    code, out, _ = run(capsys, "audit", "verify", str(forged), *args)
    assert code == 1
    first = json.loads(out)["faults"][0]
    assert first["kind"] == "forged signature" and "not registered" in first["detail"]
    code, out, _ = run(capsys, "audit", "verify", str(clean), "--package", str(pkg), "--json")
    assert code == 2 and "--authority" in json.loads(out)["error"]


def test_validate_lists_several_errors_of_one_contest():
    from device.election.definition import validate_election
    doc = json.loads(json.dumps(load_election("demo").raw))
    council = doc["contests"][0]
    council.update(method="borda", threshold=2)
    council["seats"]["north"] = 0
    doc["contests"][2]["choices"][0]["name"] = ""
    doc["contests"][2]["vote_for"] = 9
    assert [e.path for e in validate_election(doc)] == [
        "$.contests[0].method", "$.contests[0].threshold", "$.contests[0].seats.north",
        "$.contests[2].choices[0].name", "$.contests[2].vote_for"]
