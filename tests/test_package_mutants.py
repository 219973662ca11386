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
                      lambda m, name=name: m.update({name: m[name][:-1] + bytes([m[name][-1] ^ 1])}))
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


# --- survivors of `mutmut run` on package.py, package_format.py and provisioning.py ---------

def resign(src, dst, authority, change=None, manifest_change=None):
    """The authority's own package with members changed and the manifest re-signed: signed,
    but inconsistent inside (the checks after the signature must catch it)."""
    import hashlib
    import json
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    if change:
        change(members)
    manifest = json.loads(members[MANIFEST])
    manifest["files"] = {n: {"sha256": hashlib.sha256(b).hexdigest(), "bytes": len(b)}
                         for n, b in members.items() if n not in (MANIFEST, SIGNATURE)}
    if manifest_change:
        manifest_change(manifest)
    members[MANIFEST] = json.dumps(manifest).encode()
    members[SIGNATURE] = authority.sign(members[MANIFEST]).hex().encode()
    with zipfile.ZipFile(dst, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    return dst


def _info_change(**fields):
    def change(m):
        import json
        info = json.loads(m["package.json"])
        info.update(fields)
        m["package.json"] = json.dumps(info).encode()
    return change


@pytest.mark.parametrize("change, manifest_change", [
    (_info_change(election_hash="0" * 64), None),
    (_info_change(format="ballotbox-package/1"), None),
    (None, lambda mf: mf.update(election_hash="0" * 64)),
    (None, lambda mf: mf.update(serial=0)),
    (None, lambda mf: mf.update(serial=True)),
    (None, lambda mf: mf.update(serial="2")),
    (_info_change(settings={"pin_lengths": {"election_manager": 13, "poll_worker": 6}}), None),
    (_info_change(settings={"pin_lengths": {"election_manager": 8, "poll_worker": 8}}), None),
    (_info_change(settings={"pin_lengths": {"poll_worker": 6}}), None),
])
def test_signed_but_inconsistent_contents_are_malformed(tmp_path, change, manifest_change):
    path, authority, _ = make_package(tmp_path)
    bad = resign(path, tmp_path / "bad.zip", authority, change, manifest_change)
    with pytest.raises(PackageError) as info:
        load_package(bad, authority.public_key_hex())
    assert info.value.reason == "malformed"


def test_a_forgery_naming_a_third_key_or_no_key_is_altered(tmp_path):
    from device.election.authority import AuthorityKey
    path, authority, _ = make_package(tmp_path)
    forger, third = AuthorityKey.from_seed(b"F" * 32), AuthorityKey.from_seed(b"T" * 32)
    for named in (third.public_key_hex(), "not a key"):
        bad = resign(path, tmp_path / "forged.zip", forger, None, lambda mf, named=named: mf.update(authority=named))
        with pytest.raises(PackageError) as info:
            load_package(bad, authority.public_key_hex())
        assert info.value.reason == "altered", named
        bad.unlink()


def test_a_member_larger_than_one_piece_is_read_whole(tmp_path):
    from device.election.definition import load_election
    from device.election.package import build_package
    from device.election.voter_roll import Voter, VoterRoll
    from device.election.authority import AuthorityKey
    e, authority = load_election("demo"), AuthorityKey.from_seed(b"A" * 32)
    roll = VoterRoll([Voter(f"V{i:06d}", f"D{i:08d}", "north-1") for i in range(5000)], e)
    path = build_package(e, roll, authority, tmp_path / "deep" / "er" / "big.zip", pin_cost="simulation")
    assert len(load_package(path, authority.public_key_hex()).roll("north-1")) == 5000
    with zipfile.ZipFile(path) as zf:
        info = zf.getinfo("rolls/north-1.csv")
        assert info.file_size > 64 << 10 and info.compress_type == zipfile.ZIP_DEFLATED
        assert info.external_attr >> 16 == 0o600 and info.date_time == (1980, 1, 1, 0, 0, 0)


def test_a_bomb_in_process_stays_small(tmp_path):
    import tracemalloc
    from tests.test_package_limits import _bomb
    path, key = _bomb(tmp_path, signed=True)
    tracemalloc.start()
    try:
        with pytest.raises(PackageError):
            load_package(path, key)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 100 << 20


def test_caps_are_named_too_large_and_inclusive(tmp_path, monkeypatch):
    from device.election.package_format import LIMITS
    path, authority, _ = make_package(tmp_path)
    with zipfile.ZipFile(path) as zf:
        count, manifest = len(zf.infolist()), zf.read(MANIFEST)
    import json
    declared = sum(f["bytes"] for f in json.loads(manifest)["files"].values())
    monkeypatch.setitem(LIMITS, "members", count)
    monkeypatch.setitem(LIMITS, "package_bytes", declared)
    load_package(path, authority.public_key_hex())  # exactly at the caps: fine
    monkeypatch.setitem(LIMITS, "manifest_bytes", len(manifest) - 1)
    with pytest.raises(PackageError) as info:
        load_package(path, authority.public_key_hex())
    assert info.value.reason == "too_large" and "manifest.json" in str(info.value)
    monkeypatch.setitem(LIMITS, "members", count - 1)
    with pytest.raises(PackageError) as info:
        load_package(path, authority.public_key_hex())
    assert info.value.reason == "too_large"


def test_build_inputs_refused(tmp_path):
    from device.election.authority import AuthorityKey
    from device.election.definition import load_election
    from device.election.package import PackageBuildError, build_package
    from device.election.voter_roll import Voter, VoterRoll
    from tests.package_kit import demo_roll
    e, a = load_election("demo"), AuthorityKey.from_seed(b"A" * 32)
    bad = [dict(serial=0), dict(serial=True), dict(serial="1"), dict(languages=[]),
           dict(languages=[""]), dict(units={"north-1": "ab" * 32}), dict(manager_pin_length=5),
           dict(pseudonym_key=b"k" * 15)]
    for kwargs in bad:
        with pytest.raises(PackageBuildError):
            build_package(e, demo_roll(e), a, tmp_path / "x.zip", pin_cost="simulation", **kwargs)
    with pytest.raises(PackageBuildError, match="must list public keys"):
        build_package(e, demo_roll(e), a, tmp_path / "x.zip", units={"north-1": "ab" * 32})
    with pytest.raises(PackageBuildError, match="voter roll"):
        build_package(e, VoterRoll([Voter("V1", "D1", "east-9")]), a, tmp_path / "x.zip")
    ok = build_package(e, demo_roll(e), a, tmp_path / "ok.zip", pin_cost="simulation",
                       pseudonym_key=b"k" * 16)
    pkg = load_package(ok, a.public_key_hex())
    assert pkg.serial == 1 and pkg.layout_json("north-ballot")["test_ballot"] is False
    assert pkg.layout_json("north-ballot", test=True)["test_ballot"] is True


def test_a_new_key_before_any_check_in_is_fine_and_unloads_carry_the_role(unit):
    from device.station.provisioning import unload_from_unit
    store, pkg, authority, key, tmp = unit
    first = load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
    assert unload_from_unit(store, clock=Clock(), pin=EM_PIN) == first.sha256
    assert [r.data for r in store.events() if r.type == "package_unloaded"] == [
        {"sha256": first.sha256, "role": "election_manager"}]
    other, _, _ = make_package(tmp, authority=authority, unit=key, name="k2.zip", serial=2,
                               pseudonym_key=b"j" * 32)
    assert load_into_unit(store, other, clock=Clock(), pin=EM_PIN).package.serial == 2
