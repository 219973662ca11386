"""Signed election packages: round trip, and every refusal named by its reason."""
import json
import stat
import zipfile

import pytest

from device.election.authority import (AuthorityKey, AuthorityKeyError, generate_authority_keys,
                                       read_authority_key, read_public_key)
from device.election.definition import load_election
from device.election.package import (MANIFEST, SIGNATURE, PackageBuildError, PackageError,
                                     build_package, load_package)
from device.station.roles import pin_matches
from tests.package_kit import EM_PIN, PW_PIN, demo_roll, make_package


def rewrite(src, dst, change):
    """Copy the zip ``src`` to ``dst`` with ``change(members)`` applied to its members."""
    with zipfile.ZipFile(src) as zf:
        members = {n: zf.read(n) for n in zf.namelist()}
    change(members)
    with zipfile.ZipFile(dst, "w") as zf:
        for n, b in members.items():
            zf.writestr(n, b)
    return dst


def test_round_trip(tmp_path):
    path, authority, unit = make_package(tmp_path)
    pkg = load_package(path, authority.public_key_hex())
    e = load_election("demo")
    assert pkg.election.hash == e.hash and pkg.mode == "live" and pkg.languages == ("en", "km")
    assert [v.voter_id for v in pkg.roll("north-1").voters] == ["V000", "V001", "V002", "V003"]
    assert len(pkg.roll("south-1")) == 2
    assert pkg.unit_keys("north-1") == [unit.public_key_hex()] and pkg.unit_keys("north-2") == []
    staff = pkg.staff("north-1")
    assert pin_matches(staff["poll_worker"], PW_PIN) and pin_matches(staff["election_manager"], EM_PIN)
    assert not pin_matches(staff["poll_worker"], EM_PIN)
    assert PW_PIN.encode() not in path.read_bytes()  # only hashes are stored
    assert pkg.pseudonym_key == b"k" * 32
    assert pkg.layout_json("north-ballot", test=True)["test_ballot"] is True
    pkg.check_unit("north-1", unit.public_key_hex())
    import hashlib
    with zipfile.ZipFile(path) as zf:  # the identity is the signed manifest's hash
        assert pkg.sha256 == hashlib.sha256(zf.read(MANIFEST)).hexdigest()
    assert pkg.serial == 1 and pkg.pin_lengths == {"election_manager": 6, "poll_worker": 6}


def test_same_inputs_same_bytes_and_no_overwrite(tmp_path):
    a, authority, unit = make_package(tmp_path, name="a.zip")
    b, _, _ = make_package(tmp_path, authority=authority, unit=unit, name="b.zip")
    # Argon2 salts are random, so compare everything but the staff file and the manifest/signature
    with zipfile.ZipFile(a) as za, zipfile.ZipFile(b) as zb:
        assert za.namelist() == zb.namelist()
        for n in za.namelist():
            if n not in ("staff.json", MANIFEST, SIGNATURE):
                assert za.read(n) == zb.read(n), n
    with pytest.raises(PackageBuildError, match="already exists"):
        make_package(tmp_path, authority=authority, unit=unit, name="a.zip")


def expect(reason, path, key):
    with pytest.raises(PackageError) as info:
        load_package(path, key)
    assert info.value.reason == reason
    assert f"({reason})" in str(info.value)
    return info.value


def test_unsigned_package_is_refused(tmp_path):
    path, authority, _ = make_package(tmp_path)
    bad = rewrite(path, tmp_path / "unsigned.zip", lambda m: m.pop(SIGNATURE))
    expect("unsigned", bad, authority.public_key_hex())


def test_altered_member_is_refused(tmp_path):
    path, authority, _ = make_package(tmp_path)

    def add_voter(m):
        m["rolls/north-1.csv"] += b"V999,D99999,north-1\n"
    bad = rewrite(path, tmp_path / "altered.zip", add_voter)
    err = expect("altered", bad, authority.public_key_hex())
    assert "rolls/north-1.csv" in str(err)


def test_altered_manifest_and_added_member_are_refused(tmp_path):
    path, authority, _ = make_package(tmp_path)

    def forge_manifest(m):
        manifest = json.loads(m[MANIFEST])
        manifest["files"]["rolls/north-1.csv"] = "0" * 64
        m[MANIFEST] = json.dumps(manifest).encode()
    expect("altered", rewrite(path, tmp_path / "m.zip", forge_manifest), authority.public_key_hex())
    extra = rewrite(path, tmp_path / "extra.zip", lambda m: m.update({"rolls/evil.csv": b"x"}))
    expect("altered", extra, authority.public_key_hex())
    missing = rewrite(path, tmp_path / "missing.zip", lambda m: m.pop("registry.json"))
    expect("altered", missing, authority.public_key_hex())


def test_package_of_another_authority_is_refused(tmp_path):
    path, _, _ = make_package(tmp_path, authority=AuthorityKey.from_seed(b"B" * 32))
    expect("wrong_authority", path, AuthorityKey.from_seed(b"A" * 32).public_key_hex())


def test_resigned_forgery_naming_the_anchor_is_altered(tmp_path):
    """A forger re-signs with their own key but keeps the real authority's name in the manifest."""
    path, authority, _ = make_package(tmp_path)
    forger = AuthorityKey.from_seed(b"F" * 32)

    def resign(m):
        m["rolls/north-1.csv"] += b"V999,D99999,north-1\n"
        manifest = json.loads(m[MANIFEST])
        import hashlib
        manifest["files"]["rolls/north-1.csv"] = hashlib.sha256(m["rolls/north-1.csv"]).hexdigest()
        m[MANIFEST] = json.dumps(manifest).encode()
        m[SIGNATURE] = forger.sign(m[MANIFEST]).hex().encode()
    expect("altered", rewrite(path, tmp_path / "f.zip", resign), authority.public_key_hex())


def test_malformed_files_are_refused(tmp_path):
    path, authority, _ = make_package(tmp_path)
    junk = tmp_path / "junk.zip"
    junk.write_bytes(b"PK\x03\x04 not really a zip")
    expect("malformed", junk, authority.public_key_hex())
    truncated = tmp_path / "truncated.zip"
    truncated.write_bytes(path.read_bytes()[:200])
    expect("malformed", truncated, authority.public_key_hex())
    no_manifest = rewrite(path, tmp_path / "nm.zip", lambda m: m.pop(MANIFEST))
    expect("malformed", no_manifest, authority.public_key_hex())
    expect("malformed", tmp_path / "absent.zip", authority.public_key_hex())
    with zipfile.ZipFile(path) as zf:  # a second copy of a member, which a naive reader would use
        members = [(n, zf.read(n)) for n in zf.namelist()]
    dup = tmp_path / "dup.zip"
    with zipfile.ZipFile(dup, "w") as zf, pytest.warns(UserWarning, match="Duplicate"):
        for n, b in members + [("rolls/north-1.csv", b"voter_id,document_number,station_id\n")]:
            zf.writestr(n, b)
    expect("malformed", dup, authority.public_key_hex())


def test_wrong_station_and_unregistered_unit(tmp_path):
    path, authority, unit = make_package(tmp_path)
    pkg = load_package(path, authority.public_key_hex())
    with pytest.raises(PackageError) as info:
        pkg.check_unit("east-9", unit.public_key_hex())
    assert info.value.reason == "wrong_station"
    with pytest.raises(PackageError) as info:
        pkg.check_unit("north-2", unit.public_key_hex())
    assert info.value.reason == "not_registered"
    from device.store.signing import UnitSigner
    with pytest.raises(PackageError) as info:
        pkg.check_unit("north-1", UnitSigner.generate().public_key_hex())
    assert info.value.reason == "not_registered"


def test_bad_build_inputs(tmp_path):
    e = load_election("demo")
    a = AuthorityKey.from_seed(b"A" * 32)
    with pytest.raises(PackageBuildError, match="unknown station"):
        build_package(e, demo_roll(e), a, tmp_path / "x", units={"east": []})
    with pytest.raises(PackageBuildError, match="not an Ed25519"):
        build_package(e, demo_roll(e), a, tmp_path / "x", units={"north-1": ["abc"]})
    with pytest.raises(PackageBuildError, match="run of digits"):
        build_package(e, demo_roll(e), a, tmp_path / "x", staff_pins={"north-1": {"poll_worker": "123456"}})
    with pytest.raises(PackageBuildError, match="mode"):
        build_package(e, demo_roll(e), a, tmp_path / "x", mode="party")
    assert not (tmp_path / "x").exists()


def test_keygen_permissions_and_no_overwrite(tmp_path):
    private, public = generate_authority_keys(tmp_path / "keys")
    assert stat.S_IMODE(private.stat().st_mode) == 0o600
    key = read_authority_key(private)
    assert read_public_key(public) == key.public_key_hex() == read_public_key(key.public_key_hex())
    before = private.read_bytes()
    with pytest.raises(AuthorityKeyError, match="refusing to overwrite"):
        generate_authority_keys(tmp_path / "keys")
    assert private.read_bytes() == before
    private.chmod(0o644)
    with pytest.raises(AuthorityKeyError, match="readable by others"):
        read_authority_key(private)
