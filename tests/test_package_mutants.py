"""Tests that kill wrong versions the suite let pass (issue #17, section 6), each tried by hand:
a package whose ``staff.json`` hash is not checked (an attacker's PIN hash loads); a unit that
loads a package for a station it is not registered for when the station is named; a package
swapped inside the store between two boots; a replay that no longer flags a close while a desk
is busy.
"""
from __future__ import annotations

import sqlite3
import zipfile

import pytest

from device.election.package import MANIFEST, SIGNATURE, PackageError, load_package
from device.station.provisioning import PACKAGE_META, current_package, load_into_unit
from device.station.roles import AccessDenied, hash_pin
from tests.package_kit import EM_PIN, make_package
from tests.test_packages import rewrite
from tests.test_provisioning import Clock, unit  # noqa: F401  (the fixture)


def _members(path) -> list[str]:
    with zipfile.ZipFile(path) as zf:
        return sorted(set(zf.namelist()) - {MANIFEST, SIGNATURE})


def test_every_signed_member_is_checked(tmp_path):
    path, authority, _ = make_package(tmp_path)
    names = _members(path)
    assert {"staff.json", "registry.json", "secret/pseudonym.key", "package.json"} <= set(names)
    for n, name in enumerate(names):
        bad = rewrite(path, tmp_path / f"bad{n}.zip",
                      lambda m: m.update({name: m[name][:-1] + bytes([m[name][-1] ^ 1])}))
        with pytest.raises(PackageError) as info:
            load_package(bad, authority.public_key_hex())
        assert info.value.reason == "altered" and repr(name) in str(info.value), name


def test_an_attackers_pin_hash_does_not_load(unit):
    store, pkg, *_ = unit
    attacker_pin = "135792"

    def own_pins(m):
        m["staff.json"] = ('{"north-1":{"election_manager":"%s"},"north-2":{},"south-1":{}}'
                           % hash_pin(attacker_pin, "simulation")).encode()
    forged = rewrite(pkg, pkg.with_name("forged.zip"), own_pins)
    with pytest.raises(PackageError) as info:
        load_into_unit(store, forged, clock=Clock(), pin=attacker_pin)
    assert info.value.reason == "altered" and "staff.json" in str(info.value)
    assert current_package(store) is None


def test_a_named_station_the_unit_is_not_registered_for_is_refused(unit):
    store, pkg, *_ = unit
    with pytest.raises(PackageError) as info:  # north-2 exists; this unit serves north-1 only
        load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN, station_id="north-2")
    assert info.value.reason == "not_registered" and "'north-2'" in str(info.value)
    assert current_package(store) is None


def test_a_package_swapped_inside_the_store_does_not_boot(unit):
    """Another validly signed package (same authority, same unit) written over the kept bytes."""
    store, pkg, authority, key, tmp = unit
    loaded = load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
    other, _, _ = make_package(tmp, authority=authority, unit=key, name="other.zip", serial=2,
                               pseudonym_key=b"z" * 32)
    with sqlite3.connect(store.path) as db:  # the attacker holds the unit's database file
        db.execute("UPDATE unit_meta SET value = ? WHERE name = ?",
                   (other.read_bytes(), PACKAGE_META + loaded.sha256))
    with pytest.raises(PackageError) as info:
        current_package(store)
    assert info.value.reason == "altered" and "not the one loaded" in str(info.value)


def test_a_login_with_an_unknown_pin_of_a_longer_length_fails(unit):
    """A manager PIN of 8 digits: its first six digits are not the PIN."""
    store, _, authority, key, tmp = unit
    pkg, _, _ = make_package(tmp, authority=authority, unit=key, name="eight.zip",
                             manager_pin_length=8, em_pin="48091327")
    with pytest.raises(AccessDenied):
        load_into_unit(store, pkg, clock=Clock(), pin="480913")
    assert load_into_unit(store, pkg, clock=Clock(), pin="48091327").package.pin_lengths == {
        "election_manager": 8, "poll_worker": 6}


def test_replay_flags_a_close_while_a_desk_is_busy(tmp_path):
    from device.audit.replay import replay_export
    from tests.unit_exports import exported_day, read_records, rechain, write_records
    export = exported_day(tmp_path / "day", voters=12)
    journal = export / "journal.jsonl"
    recs = read_records(journal)
    i = next(i for i, r in enumerate(recs) if r["type"] == "authorise")
    close = next(r for r in recs if r["type"] == "close_polls")
    recs.insert(i + 1, {**close, "data": dict(close["data"])})  # closed with a voter at the desk
    rechain(recs)
    write_records(journal, recs)
    found = [(f.kind, f.where, f.detail) for f in replay_export(export).faults]
    assert ("disallowed transition", f"journal record seq {i + 2}",
            "close_polls while the voter region is authorised") in found, found
