"""No secrets on the results server (issue 18, section 2): the authority derives a signed public
results package (election, unit keys, registered counts, mode) holding nothing about voters,
PINs or the pseudonym key; ``central serve`` takes only that; ``sim package`` writes both."""
from __future__ import annotations

import json
import zipfile

import pytest

from device.election.package import load_package
from device.election.public_package import PublicPackageError, load_public_package
from device.store.signing import UnitSigner
from tests.test_election_cli import run


@pytest.fixture
def packages(tmp_path, capsys):
    keys = tmp_path / "keys"
    assert run(capsys, "election", "keygen", "--out", str(keys))[0] == 0
    unit = UnitSigner.generate().public_key_hex()
    (tmp_path / "roll.csv").write_text("voter_id,document_number,station_id\n"
                                       "VOTER-ALICE,DOC-998877,north-1\nVOTER-BOB,DOC-554433,north-1\n")
    (tmp_path / "units.json").write_text(json.dumps({"north-1": [unit]}))
    (tmp_path / "staff.csv").write_text("station_id,role,pin\nnorth-1,election_manager,482913\n")
    pkg, pub = tmp_path / "demo.bbpkg", tmp_path / "demo.public.json"
    code, out, _ = run(capsys, "election", "package", "--election", "demo", "--roll", str(tmp_path / "roll.csv"),
                       "--key", str(keys / "authority.key"), "--out", str(pkg), "--units",
                       str(tmp_path / "units.json"), "--staff", str(tmp_path / "staff.csv"),
                       "--mode", "simulation")
    assert code == 0, out
    code, out, err = run(capsys, "election", "public-package", "--package", str(pkg), "--key",
                         str(keys / "authority.key"), "--out", str(pub), "--json")
    assert code == 0, err
    anchor = (keys / "authority.pub").read_text().strip()
    return pkg, pub, anchor, unit, json.loads(out)


def test_the_public_package_holds_no_voter_pin_or_pseudonym_key(packages):
    pkg, pub, anchor, unit, summary = packages
    confidential = load_package(pkg, anchor)
    text = pub.read_text(encoding="utf-8")
    with zipfile.ZipFile(pkg) as zf:
        staff = zf.read("staff.json").decode()
    for secret in ("VOTER-ALICE", "DOC-998877", "VOTER-BOB", "argon2", confidential.pseudonym_key.hex()):
        assert secret not in text, secret
    assert "argon2" in staff  # the confidential package does hold them
    public = load_public_package(pub, anchor)
    assert public.election.hash == confidential.election.hash and public.mode == "simulation"
    assert public.unit_keys("north-1") == [unit] and public.registered["north-1"] == 2
    assert public.source_sha256 == confidential.sha256 == summary["source_package_sha256"]


def test_an_altered_or_foreign_public_package_is_refused(packages, tmp_path):
    _, pub, anchor, _, _ = packages
    doc = json.loads(pub.read_text())
    doc["content"]["registered"]["north-1"] = 5000  # room for stuffed ballots
    forged = tmp_path / "forged.json"
    forged.write_text(json.dumps(doc))
    with pytest.raises(PublicPackageError) as err:
        load_public_package(forged, anchor)
    assert err.value.reason == "altered"
    with pytest.raises(PublicPackageError) as err:
        load_public_package(pub, UnitSigner.generate().public_key_hex())
    assert err.value.reason == "wrong_authority"


def test_central_serve_refuses_the_confidential_package_with_the_reason(packages, tmp_path, capsys):
    pkg, _, anchor, _, _ = packages
    code, _, err = run(capsys, "central", "serve", "--package", str(pkg), "--authority", anchor,
                       "--db", str(tmp_path / "c.db"), "--listen", "127.0.0.1:9")
    assert code == 2 and len(err.strip().splitlines()) == 1
    assert "confidential election package (voter rolls, PIN hashes, the pseudonym key)" in err
    assert not (tmp_path / "c.db").exists() and not (tmp_path / "public").exists()


def test_sim_package_writes_both(tmp_path, capsys):
    pkg = tmp_path / "sim.pkg"
    code, out, _ = run(capsys, "sim", "package", "--election", "demo", "--seed", "3", "--out", str(pkg), "--json")
    assert code == 0
    summary = json.loads(out)
    anchor = (tmp_path / "sim.pkg.authority.pub").read_text().strip()
    public = load_public_package(summary["public_package"], anchor)
    assert public.source_sha256 == load_package(pkg, anchor).sha256
    assert all(public.unit_keys(sid) for sid in public.election.stations)
