"""Fingerprint templates are voter data: none in any export, journal record, signed results
message or the unit's database after the close, whether the day is simulated or a provisioned
unit runs a real package (only the sealed member, which the unit's key alone opens, stays inside
the kept package)."""
from __future__ import annotations

import json
import random
import time
import zipfile

from device.election.authority import AuthorityKey
from device.election.definition import load_election
from device.election.identity import barcode_payload
from device.election.package import build_package
from device.election.templates import TemplateVault, template_member
from device.election.voter_roll import VoterRoll
from device.results.exports import export_unit, json_doc
from device.station.controller import StationController
from device.station.fingerprint_identity import FINGER_PRESSED, for_package
from device.station.provisioning import current_package, load_into_unit, provision_unit
from device.store.signing import KEY_META, UnitSigner, provision
from device.store.sqlite import SqliteStore
from hardware.interfaces import IdRecord
from sim.day.enrolment import enrolment_for, synthetic_templates
from sim.day.fingerprint_day import MemoryFingerprintSensor
from sim.paper.logical_paper import LogicalPaper
from sim.day.memory_twins import build_memory_peripherals
from sim.twins.fingerprint_profile import load_fingerprint_profile
from sim.day.voters import load_scenario
from tests.package_kit import EM_PIN, PW_PIN, demo_roll
from tests.secrecy_checks import bytes_leak_templates, bytes_leak_voters, journal_leaks
from tests.unit_exports import exported_station_day


def _files(folder) -> bytes:
    return b"".join(p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file())


def test_a_simulated_biometric_day_exports_no_template_and_names_no_voter(tmp_path):
    election = load_election("kyrgyzstan-2017")
    export, day, report = exported_station_day(tmp_path, election="kyrgyzstan-2017", voters=40, seed=5,
                                               scenario=load_scenario(None, election, "kyrgyzstan-2017"))
    assert report["matches_ground_truth"] and report["fingerprint"]["voters"] > 0
    here = VoterRoll([v for v in day.controller.roll.voters if v.station_id == day.station_id])
    templates = synthetic_templates(here, 5, day.fingerprint.scenario.unenrolled_rate)
    blob = _files(export) + b"".join(p.read_bytes() for p in tmp_path.glob("unit.db*"))
    blob += json_doc(day.controller.signed_results)  # what goes to the central tally
    assert bytes_leak_templates(blob, templates) == []
    assert bytes_leak_voters(_files(export), here) == []
    records = [json.loads(line) for line in (export / "journal.jsonl").read_text(encoding="utf-8").splitlines()]
    assert journal_leaks(records) == []
    assert {r["type"]: set(r["data"]) for r in records if r["type"].startswith("templates_")} == {
        "templates_opened": {"enrolled"}, "templates_wiped": {"templates"}}


def test_a_provisioned_unit_keeps_only_the_sealed_member_and_exports_nothing_of_it(tmp_path):
    election = load_election("demo")
    roll = demo_roll(election)
    authority, unit = AuthorityKey.from_seed(b"A" * 32), UnitSigner.generate(random.Random(4))
    north = {"north-1": VoterRoll([v for v in roll.voters if v.station_id == "north-1"])}
    enrolment = enrolment_for(north, seed=9, unenrolled_rate=0.0)
    package = build_package(election, roll, authority, tmp_path / "fp.bbpkg",
                            units={"north-1": [unit.public_key_hex()]},
                            staff_pins={"north-1": {"election_manager": EM_PIN, "poll_worker": PW_PIN}},
                            pseudonym_key=b"k" * 32, pin_cost="simulation", fingerprints=enrolment)
    with zipfile.ZipFile(package) as zf:
        sealed = zf.read(template_member("north-1"))
    store = SqliteStore(tmp_path / "unit.db", durability="simulation")
    provision_unit(store, authority.public_key_hex(), unit_key=unit)
    load_into_unit(store, package, clock=time.time, pin=EM_PIN)
    loaded = current_package(store)
    periph = build_memory_peripherals(random.Random(3))
    sensor = MemoryFingerprintSensor(load_fingerprint_profile(), random.Random(5))
    source = for_package(loaded.package, loaded.station_id, store.read_meta(KEY_META), sensor)
    assert source is not None
    access = loaded.access(store, time.time)
    ctl = StationController(loaded.election, loaded.station_id, loaded.roll, store, scanner=periph.scanner,
                            camera=periph.camera, interpreter=LogicalPaper(loaded.election).interpreter,
                            printer=periph.printer, clock=time.time, rng=random.Random(9),
                            pseudonym_key=loaded.pseudonym_key, access=access, signer=provision(store),
                            mode=loaded.results_mode, identity_after_document=[source])
    access.login("poll_worker", PW_PIN)
    ctl.open()
    assert source.holds_templates
    voter = north["north-1"].voters[0]
    checkin = ctl.present_id(IdRecord("barcode", barcode_payload(voter.document_number)))
    assert checkin.message.code == "place_finger"
    sensor.place("genuine")
    while not checkin.authorised:  # a genuine press matches (a rare miss: press again)
        checkin = ctl.present_identity_step(FINGER_PRESSED)
    ctl.close()
    assert not source.holds_templates
    access.logout()
    access.login("election_manager", EM_PIN)
    export_unit(store, election, tmp_path / "export", provision(store))
    store.close()
    templates = enrolment.templates["north-1"]
    exported = _files(tmp_path / "export")
    assert bytes_leak_templates(exported, templates) == []
    assert sealed[100:164] not in exported  # not even the sealed member
    kept = b"".join(p.read_bytes() for p in tmp_path.glob("unit.db*"))
    assert bytes_leak_templates(kept, templates) == []  # in the store: the sealed member only
    assert TemplateVault.open(sealed, unit.private_bytes(), station_id="north-1",
                              election_hash=election.hash).enrolled == len(templates)


def test_a_unit_of_another_station_opens_no_template_and_sends_voters_to_the_commission(tmp_path):
    """The sealed member of north-1 given to north-2's unit key (as a unit would if it were
    handed the wrong station): nothing opens, the opening is journaled as unreadable, and every
    voter goes to the commission as not enrolled — the polls still open."""
    election = load_election("demo")
    roll = demo_roll(election)
    authority = AuthorityKey.from_seed(b"A" * 32)
    mine, other = UnitSigner.generate(random.Random(4)), UnitSigner.generate(random.Random(5))
    north = {"north-1": VoterRoll([v for v in roll.voters if v.station_id == "north-1"])}
    package = build_package(election, roll, authority, tmp_path / "fp.bbpkg",
                            units={"north-1": [mine.public_key_hex()], "north-2": [other.public_key_hex()]},
                            pseudonym_key=b"k" * 32, pin_cost="simulation",
                            fingerprints=enrolment_for(north, seed=9, unenrolled_rate=0.0))
    from device.election.package import load_package
    from sim.unit.access import StandingAccess
    from device.store.journal import MemoryStore
    pkg = load_package(package, authority.public_key_hex())
    sensor = MemoryFingerprintSensor(load_fingerprint_profile(), random.Random(5))
    source = for_package(pkg, "north-1", other.private_bytes(), sensor)
    periph = build_memory_peripherals(random.Random(3))
    ctl = StationController(election, "north-1", pkg.roll("north-1"), MemoryStore(), scanner=periph.scanner,
                            camera=periph.camera, interpreter=LogicalPaper(election).interpreter,
                            printer=periph.printer, clock=time.time, pseudonym_key=pkg.pseudonym_key,
                            access=StandingAccess.for_roles(time.time), identity_after_document=[source])
    ctl.open()
    assert not source.holds_templates
    opened = [r.data for r in ctl.store.events() if r.type == "templates_opened"]
    assert opened == [{"enrolled": 0, "unreadable": True}]
    voter = north["north-1"].voters[0]
    checkin = ctl.present_id(IdRecord("barcode", barcode_payload(voter.document_number)))
    assert checkin.message.code == "finger_not_enrolled" and ctl.desk.pending.commission_reason == "no_template"
