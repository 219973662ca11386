"""Fingerprint templates in the election package: sealed per station, opened only by that
station's registered unit, never in clear in the package or the unit's store."""
from __future__ import annotations

import json
import random
import zipfile

import pytest
from cryptography.hazmat.primitives import serialization

from device.election.authority import AuthorityKey
from device.election.definition import load_election
from device.election.package import PackageBuildError, build_package, load_package
from device.election.voter_roll import Voter, VoterRoll
from device.election.templates import (TEMPLATE_BYTES, Enrolment, FingerprintSettings, TemplateError,
                                       TemplateVault, template_member, unit_x25519_private,
                                       unit_x25519_public)
from device.station.provisioning import current_package, load_into_unit, provision_unit
from device.store.signing import KEY_META, UnitSigner
from device.store.sqlite import SqliteStore
from sim.day.enrolment import enrolment_for, synthetic_templates
from tests.package_kit import EM_PIN, PW_PIN, demo_roll
from tests.secrecy_checks import bytes_leak_templates


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("fp")
    election = load_election("demo")
    roll = demo_roll(election)
    authority = AuthorityKey.from_seed(b"A" * 32)
    unit_n1, unit_n2 = UnitSigner.generate(random.Random(1)), UnitSigner.generate(random.Random(2))
    rolls = {sid: VoterRoll([v for v in roll.voters if v.station_id == sid])
             for sid in ("north-1", "north-2")}
    enrolment = enrolment_for(rolls, seed=7, settings=FingerprintSettings(threshold=60, tries=2))
    path = build_package(election, roll, authority, tmp / "fp.bbpkg",
                         units={"north-1": [unit_n1.public_key_hex()], "north-2": [unit_n2.public_key_hex()]},
                         staff_pins={"north-1": {"election_manager": EM_PIN, "poll_worker": PW_PIN}},
                         pseudonym_key=b"k" * 32, pin_cost="simulation", fingerprints=enrolment)
    return {"tmp": tmp, "election": election, "authority": authority, "path": path,
            "n1": unit_n1, "n2": unit_n2, "enrolment": enrolment}


def _open(pkg, station, unit):
    return TemplateVault.open(pkg.sealed_templates(station), unit.private_bytes(), station_id=station,
                              election_hash=pkg.election.hash)


def test_the_x25519_twin_of_a_unit_key_is_the_same_from_either_half():
    for i in range(30):
        unit = UnitSigner.generate(random.Random(i))
        mine = unit_x25519_private(unit.private_bytes()).public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw)
        assert unit_x25519_public(unit.public_key_hex()) == mine


def test_the_registered_unit_opens_its_station_templates_and_the_settings_travel(world):
    pkg = load_package(world["path"], world["authority"].public_key_hex())
    assert pkg.fingerprint == FingerprintSettings(threshold=60, tries=2)
    vault = _open(pkg, "north-1", world["n1"])
    expected = world["enrolment"].templates["north-1"]
    assert vault.enrolled == len(expected) > 0
    for vid, template in expected.items():
        assert vault.template(vid) == template and len(template) == TEMPLATE_BYTES
    assert pkg.sealed_templates("south-1") is None  # no templates given for it


def test_a_unit_of_another_station_cannot_open_the_templates(world):
    pkg = load_package(world["path"], world["authority"].public_key_hex())
    with pytest.raises(TemplateError, match="not a recipient"):
        _open(pkg, "north-1", world["n2"])
    # nor by claiming the registered unit's entry with its own key
    doc = json.loads(pkg.sealed_templates("north-1"))
    doc["recipients"][0]["unit"] = world["n2"].public_key_hex()
    with pytest.raises(TemplateError, match="do not open"):
        TemplateVault.open(json.dumps(doc).encode(), world["n2"].private_bytes(), station_id="north-1",
                           election_hash=pkg.election.hash)
    # nor the right unit with another station's member (bound to the station and election)
    with pytest.raises(TemplateError):
        TemplateVault.open(pkg.sealed_templates("north-2"), world["n1"].private_bytes(),
                           station_id="north-1", election_hash=pkg.election.hash)
    # an altered ciphertext does not open
    doc = json.loads(pkg.sealed_templates("north-1"))
    doc["ciphertext"] = ("00" if doc["ciphertext"][:2] != "00" else "11") + doc["ciphertext"][2:]
    with pytest.raises(TemplateError, match="do not open"):
        TemplateVault.open(json.dumps(doc).encode(), world["n1"].private_bytes(), station_id="north-1",
                           election_hash=pkg.election.hash)


def test_no_template_is_in_clear_in_the_package_file(world):
    blob = world["path"].read_bytes()
    with zipfile.ZipFile(world["path"]) as zf:
        blob += b"".join(zf.read(n) for n in zf.namelist())
        assert template_member("north-1") in zf.namelist()
    templates = {**world["enrolment"].templates["north-1"], **world["enrolment"].templates["north-2"]}
    assert bytes_leak_templates(blob, templates) == []
    # the check itself finds a template written as hex
    assert bytes_leak_templates(blob + next(iter(templates.values())).hex().encode(), templates)


def test_a_provisioned_unit_opens_its_templates_from_the_package_it_loaded(world, tmp_path):
    store = SqliteStore(tmp_path / "unit.db", durability="simulation")
    try:
        provision_unit(store, world["authority"].public_key_hex(), unit_key=world["n1"])
        load_into_unit(store, world["path"], clock=lambda: 1.0e9, pin=EM_PIN)
        loaded = current_package(store)
        vault = TemplateVault.open(loaded.package.sealed_templates(loaded.station_id),
                                   store.read_meta(KEY_META), station_id=loaded.station_id,
                                   election_hash=loaded.election.hash)
        assert vault.enrolled == len(world["enrolment"].templates["north-1"])
        assert vault.wipe() == len(world["enrolment"].templates["north-1"])
        assert not vault.held and vault.template(next(iter(world["enrolment"].templates["north-1"]))) is None
    finally:
        store.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert bytes_leak_templates(raw, world["enrolment"].templates["north-1"]) == []


def test_templates_need_a_registered_unit_and_the_right_size(world, tmp_path):
    election, roll = world["election"], demo_roll(world["election"])
    with pytest.raises(PackageBuildError, match="no registered unit"):
        build_package(election, roll, world["authority"], tmp_path / "a.bbpkg", pin_cost="simulation",
                       fingerprints=Enrolment({"north-1": {"V000": b"x" * TEMPLATE_BYTES}}))
    with pytest.raises(PackageBuildError, match="not 512 bytes"):
        build_package(election, roll, world["authority"], tmp_path / "b.bbpkg", pin_cost="simulation",
                      units={"north-1": [world["n1"].public_key_hex()]},
                      fingerprints=Enrolment({"north-1": {"V000": b"x" * 100}}))
    with pytest.raises(PackageBuildError, match="tries"):
        build_package(election, roll, world["authority"], tmp_path / "c.bbpkg", pin_cost="simulation",
                      fingerprints=Enrolment({}, FingerprintSettings(tries=0)))


def test_synthetic_enrolment_is_seeded_and_leaves_some_voters_out():
    roll = VoterRoll([Voter(f"V{i:04d}", f"D{i:06d}", "s") for i in range(400)])
    a, b = synthetic_templates(roll, 5), synthetic_templates(roll, 5)
    assert a == b and 0 < 400 - len(a) < 40
    assert synthetic_templates(roll, 6) != a
