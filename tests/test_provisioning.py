"""A unit provisioned with a trust anchor loads only its own signed package, by the election manager."""
import pytest

from device.election.authority import AuthorityKey
from device.election.definition import load_election, parse_election
from device.election.package import PackageError
from device.station.provisioning import (ProvisioningError, current_package, load_into_unit,
                                         provision_unit, unload_from_unit)
from device.station.roles import AccessDenied
from device.store.signing import UnitSigner
from device.store.sqlite import SqliteStore
from tests.package_kit import EM_PIN, PW_PIN, make_package


class Clock:
    t = 5000.0

    def __call__(self):
        return self.t


@pytest.fixture
def unit(tmp_path):
    authority = AuthorityKey.from_seed(b"A" * 32)
    key = UnitSigner.generate()
    store = SqliteStore(tmp_path / "unit.db", durability="simulation")
    assert provision_unit(store, authority.public_key_hex(), key) == key.public_key_hex()
    pkg, _, _ = make_package(tmp_path, authority=authority, unit=key)
    yield store, pkg, authority, key, tmp_path
    store.close()


def types(store):
    return [r.type for r in store.events()]


def test_load_by_election_manager_round_trip(unit):
    store, pkg, authority, key, tmp = unit
    loaded = load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
    assert loaded.station_id == "north-1" and len(loaded.roll) == 4
    assert loaded.pseudonym_key == b"k" * 32
    rec = [r for r in store.events() if r.type == "package_loaded"][0]
    assert rec.data["role"] == "election_manager" and rec.data["sha256"] == loaded.sha256
    assert EM_PIN not in repr(list(store.events()))
    again = current_package(store)
    assert again.sha256 == loaded.sha256 and again.station_id == "north-1"
    # loading the same package again changes nothing
    load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
    assert types(store).count("package_loaded") == 1


def test_unprovisioned_unit_loads_nothing(tmp_path):
    pkg, _, _ = make_package(tmp_path)
    with SqliteStore(tmp_path / "fresh.db", durability="simulation") as store:
        with pytest.raises(ProvisioningError, match="not provisioned"):
            load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)


def test_provisioned_once(unit):
    store, _, authority, key, _ = unit
    provision_unit(store, authority.public_key_hex(), key)  # same again: nothing changes
    with pytest.raises(ProvisioningError, match="another authority"):
        provision_unit(store, AuthorityKey.from_seed(b"B" * 32).public_key_hex())


def test_poll_worker_pin_cannot_load(unit):
    store, pkg, *_ = unit
    with pytest.raises(AccessDenied) as info:
        load_into_unit(store, pkg, clock=Clock(), pin=PW_PIN)
    assert info.value.reason == "wrong_pin"
    with pytest.raises(AccessDenied):
        load_into_unit(store, pkg, clock=Clock())  # no PIN at all
    assert current_package(store) is None
    assert "package_loaded" not in types(store)


def test_wrong_pins_through_reloads_still_lock(unit):
    store, pkg, *_ = unit
    for _ in range(4):
        with pytest.raises(AccessDenied, match="attempt"):
            load_into_unit(store, pkg, clock=Clock(), pin="000001")
    with pytest.raises(AccessDenied) as info:
        load_into_unit(store, pkg, clock=Clock(), pin="000001")
    assert info.value.reason == "locked"
    with pytest.raises(AccessDenied) as info:
        load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
    assert info.value.reason == "locked"


@pytest.mark.parametrize("case", ["other_authority", "unregistered_unit", "wrong_station"])
def test_refusals_are_named_and_journaled(unit, case):
    store, pkg, authority, key, tmp = unit
    if case == "other_authority":
        pkg, _, _ = make_package(tmp, authority=AuthorityKey.from_seed(b"B" * 32), unit=key, name="b.zip")
        reason, kwargs = "wrong_authority", {}
    elif case == "unregistered_unit":
        pkg, _, _ = make_package(tmp, authority=authority, name="other-unit.zip")
        reason, kwargs = "not_registered", {}
    else:
        reason, kwargs = "wrong_station", {"station_id": "east-9"}
    with pytest.raises(PackageError) as info:
        load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN, **kwargs)
    assert info.value.reason == reason
    assert [r.data for r in store.events() if r.type == "package_refused"] == [{"reason": reason}]
    assert current_package(store) is None


def test_altered_package_is_refused(unit):
    store, pkg, *_ = unit
    raw = bytearray(pkg.read_bytes())
    raw[raw.index(b"rolls/north-1.csv") + 60] ^= 1  # flip a bit inside the zip
    pkg.write_bytes(bytes(raw))
    with pytest.raises(PackageError) as info:
        load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
    assert info.value.reason in ("altered", "malformed")


def test_another_election_is_refused_until_unloaded(unit):
    store, pkg, authority, key, tmp = unit
    first = load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
    doc = dict(load_election("demo").raw, id="demo-2027", title="Next year")
    other, _, _ = make_package(tmp, authority=authority, unit=key, name="2027.zip",
                               election=parse_election(doc))
    with pytest.raises(PackageError, match="holds another election") as info:
        load_into_unit(store, other, clock=Clock(), pin=EM_PIN)
    assert info.value.reason == "other_election"
    with pytest.raises(AccessDenied):  # the poll worker cannot unload
        unload_from_unit(store, clock=Clock(), pin=PW_PIN)
    assert unload_from_unit(store, clock=Clock(), pin=EM_PIN) == first.sha256
    assert current_package(store) is None
    loaded = load_into_unit(store, other, clock=Clock(), pin=EM_PIN)
    assert loaded.election.id == "demo-2027"


def test_unload_needs_an_empty_or_exported_store(unit):
    store, pkg, *_ = unit
    load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
    store.append_event("ballot_cast", {"compartment": "box"}, 6000.0)  # as the controller would
    with pytest.raises(ProvisioningError, match="export first"):
        unload_from_unit(store, clock=Clock(), pin=EM_PIN)
    store.append_event("export_written", {"manifest_sha256": "0" * 64, "journal_head_seq": 1}, 6001.0)
    unload_from_unit(store, clock=Clock(), pin=EM_PIN)
    assert current_package(store) is None


def test_a_store_that_ran_an_election_takes_no_other(unit):
    store, pkg, authority, key, tmp = unit
    loaded = load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
    store.append_event("load_election", {"election_id": "demo-2026", "election_hash": loaded.election.hash,
                                         "station": "north-1"}, 5001.0)
    unload_from_unit(store, clock=Clock(), pin=EM_PIN)
    doc = dict(load_election("demo").raw, id="demo-2027")
    other, _, _ = make_package(tmp, authority=authority, unit=key, name="2027.zip",
                               election=parse_election(doc))
    with pytest.raises(PackageError, match="new store") as info:
        load_into_unit(store, other, clock=Clock(), pin=EM_PIN)
    assert info.value.reason == "other_election"
    load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)  # the same election again is fine


def test_a_package_edited_inside_the_store_does_not_boot(unit):
    store, pkg, *_ = unit
    loaded = load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
    store._conn.execute("UPDATE unit_meta SET value = ? WHERE name = ?",
                        (b"garbage", "package:" + loaded.sha256))
    store._conn.commit()
    with pytest.raises(PackageError) as info:
        current_package(store)
    assert info.value.reason == "malformed"


def test_a_memory_store_cannot_be_a_unit():
    from device.store.journal import MemoryStore
    with pytest.raises(ProvisioningError, match="SQLite"):
        provision_unit(MemoryStore(), AuthorityKey.from_seed(b"A" * 32).public_key_hex())


def test_provisioning_keeps_one_key_and_normalises_the_anchor(tmp_path):
    authority = AuthorityKey.from_seed(b"A" * 32)
    with SqliteStore(tmp_path / "u.db", durability="simulation") as store:
        key = UnitSigner.generate()
        provision_unit(store, authority.public_key_hex().upper() + "\n", key)
        from device.station.provisioning import trust_anchor
        assert trust_anchor(store) == authority.public_key_hex()
        with pytest.raises(ProvisioningError, match="another unit key"):
            provision_unit(store, authority.public_key_hex(), UnitSigner.generate())
        with pytest.raises(ProvisioningError, match="not an Ed25519"):
            provision_unit(store, "zz")


def test_loaded_package_facts_are_journaled(unit):
    store, pkg, authority, key, tmp = unit
    loaded = load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
    assert loaded.unit_public_key == key.public_key_hex()
    assert [r.data for r in store.events() if r.type == "package_loaded"] == [{
        "sha256": loaded.sha256, "serial": 1, "election_id": "demo-2026",
        "election_hash": loaded.election.hash, "station": "north-1", "mode": "live",
        "pseudonym_key_id": loaded.package.pseudonym_key_id, "role": "election_manager"}]
    assert current_package(store).unit_public_key == key.public_key_hex()


def test_a_unit_registered_for_several_stations_must_name_one(tmp_path):
    from device.election.package import build_package
    from tests.package_kit import demo_roll
    authority, key = AuthorityKey.from_seed(b"A" * 32), UnitSigner.generate()
    e = load_election("demo")
    pkg = build_package(e, demo_roll(e), authority, tmp_path / "two.zip",
                        units={"north-1": [key.public_key_hex()], "north-2": [key.public_key_hex()]},
                        staff_pins={"north-2": {"election_manager": EM_PIN}}, pin_cost="simulation")
    with SqliteStore(tmp_path / "u.db", durability="simulation") as store:
        provision_unit(store, authority.public_key_hex(), key)
        with pytest.raises(PackageError) as info:
            load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
        assert info.value.reason == "wrong_station" and "north-1, north-2" in str(info.value)
        assert load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN, station_id="north-2").station_id == "north-2"


def test_another_package_of_the_same_election_is_named_as_such(unit):
    store, pkg, authority, key, tmp = unit
    load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
    again, _, _ = make_package(tmp, authority=authority, unit=key, name="reissued.zip", serial=2)
    with pytest.raises(PackageError, match="another package of this election") as info:
        load_into_unit(store, again, clock=Clock(), pin=EM_PIN)
    assert info.value.reason == "other_election"


def test_an_unreadable_package_path_is_malformed(unit):
    store, pkg, *_ = unit
    with pytest.raises(PackageError) as info:
        load_into_unit(store, pkg.parent, clock=Clock(), pin=EM_PIN)  # a folder
    assert info.value.reason == "malformed"


def test_a_provisioned_store_is_readable_by_its_owner_only(unit):
    import stat
    store = unit[0]
    assert stat.S_IMODE(store.path.stat().st_mode) == 0o600
