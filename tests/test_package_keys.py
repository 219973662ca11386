"""Keys given in the wrong place, and the election manager's PIN length.

A private key where a public key is asked (``--authority``), or the reverse (``--key``,
``--unit-key``), is refused with one line naming the mistake, exit 2, and nothing of the
private key on the screen. The manager's PIN may be 6 to 12 digits (package settings); the poll
worker's stays six; the strength rules hold at every length.
"""
from __future__ import annotations

import csv
import json
import stat

import pytest

from device.election.authority import AuthorityKey
from device.election.package import PackageBuildError, load_package
from device.station.roles import PinError, check_pin_strength
from tests.package_kit import EM_PIN, PW_PIN, cli, make_package


@pytest.fixture
def keys(tmp_path, monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert cli(monkeypatch, capsys, "election", "keygen", "--out", "keys")[0] == 0
    (tmp_path / "roll.csv").write_text("voter_id,document_number,station_id\nV1,D1,north-1\n")
    return lambda *a, **k: cli(monkeypatch, capsys, *a, **k)


def _secret_fragments(path) -> list[str]:
    """Every line of the key file and every 12-digit run of its key."""
    lines = [line.strip() for line in path.read_text().splitlines() if line.strip()]
    key = lines[-1]
    return lines + [key[i:i + 12] for i in range(0, len(key) - 11, 6)]


def _package(run, name="demo.bbpkg", *extra):
    return run("election", "package", "--election", "demo", "--roll", "roll.csv", "--key",
               "keys/authority.key", "--out", name, "--mode", "simulation", *extra)


@pytest.mark.parametrize("argv", [
    ["election", "verify", "demo.bbpkg", "--authority", "keys/authority.key"],
    ["device", "provision", "--store", "unit.db", "--authority", "keys/authority.key"],
    ["audit", "verify", ".", "--package", "demo.bbpkg", "--authority", "keys/authority.key"],
])
@pytest.mark.parametrize("legacy", [False, True])
def test_a_private_key_where_a_public_key_is_asked(keys, tmp_path, argv, legacy):
    run = keys
    assert _package(run)[0] == 0
    private = tmp_path / "keys" / "authority.key"
    if legacy:  # a key file of the old format: the bare hex, no header
        private.write_text(private.read_text().splitlines()[-1] + "\n")
    for as_json in ([], ["--json"]):
        code, out = run(*argv, *as_json)
        assert code == 2, out
        assert "PRIVATE key, not a public key" in out and len(out.strip().splitlines()) == 1, out
        for fragment in _secret_fragments(private):
            assert fragment not in out
    assert not (tmp_path / "unit.db").exists() or b"authority_key" not in (tmp_path / "unit.db").read_bytes()


@pytest.mark.parametrize("argv", [
    ["election", "package", "--election", "demo", "--roll", "roll.csv", "--key", "keys/authority.pub",
     "--out", "x.bbpkg"],
    ["device", "provision", "--store", "unit.db", "--authority", "keys/authority.pub", "--unit-key",
     "keys/authority.pub"],
])
def test_a_public_key_where_a_private_key_is_asked(keys, tmp_path, argv):
    code, out = keys(*argv)
    assert code == 2 and "is a public key, not the" in out and len(out.strip().splitlines()) == 1, out
    assert not (tmp_path / "x.bbpkg").exists()


def test_a_private_key_typed_as_hex_is_named_and_never_echoed(keys, tmp_path):
    run = keys
    assert _package(run)[0] == 0
    private = tmp_path / "keys" / "authority.key"
    typed = private.read_text().splitlines()[-1]
    code, out = run("election", "verify", "demo.bbpkg", "--authority", typed)
    assert code == 1 and "PRIVATE key, not its public key" in out, out
    for fragment in _secret_fragments(private):
        assert fragment not in out


def test_key_files_say_what_they_are(keys, tmp_path):
    private = (tmp_path / "keys" / "authority.key").read_text().splitlines()
    assert private[0].startswith("# ballotbox Ed25519 PRIVATE key") and len(private[1]) == 64
    keys("device", "provision", "--store", "unit.db", "--authority", "keys/authority.pub",
         "--unit-key", "unit.key")
    unit_key = (tmp_path / "unit.key").read_text().splitlines()
    assert unit_key[0] == private[0] and stat.S_IMODE((tmp_path / "unit.key").stat().st_mode) == 0o600


# --- the election manager's PIN length ------------------------------------------------------

def test_a_longer_manager_pin_through_the_commands(keys, tmp_path):
    run = keys
    code, out = _package(run, "demo.bbpkg", "--manager-pin-length", "10", "--json")
    assert code == 0, out
    assert json.loads(out)["pin_lengths"] == {"election_manager": 10, "poll_worker": 6}
    rows = list(csv.DictReader((tmp_path / "demo.bbpkg.pins.csv").open()))
    assert {len(r["pin"]) for r in rows if r["role"] == "election_manager"} == {10}
    assert {len(r["pin"]) for r in rows if r["role"] == "poll_worker"} == {6}
    for n in ("5", "13"):
        code, out = _package(run, f"bad{n}.bbpkg", "--manager-pin-length", n)
        assert code == 2 and "6 to 12" in out
    (tmp_path / "staff.csv").write_text(f"station_id,role,pin\nnorth-1,election_manager,{EM_PIN}\n")
    code, out = _package(run, "short.bbpkg", "--manager-pin-length", "8", "--staff", "staff.csv")
    assert code == 2 and "exactly 8 digits" in out


def test_a_longer_manager_pin_loads_the_package(tmp_path):
    from device.station.provisioning import load_into_unit, provision_unit
    from device.store.signing import UnitSigner
    from device.store.sqlite import SqliteStore
    key, authority = UnitSigner.generate(), AuthorityKey.from_seed(b"A" * 32)
    pkg, _, _ = make_package(tmp_path, authority=authority, unit=key, manager_pin_length=12,
                             em_pin="480913275604")
    assert load_package(pkg, authority.public_key_hex()).pin_lengths["election_manager"] == 12
    with SqliteStore(tmp_path / "u.db", durability="simulation") as store:
        provision_unit(store, authority.public_key_hex(), key)
        assert load_into_unit(store, pkg, clock=lambda: 1.0, pin="480913275604").station_id == "north-1"
    with pytest.raises(PackageBuildError, match="poll_worker: a PIN is exactly 6"):
        _build_with_pins(tmp_path, authority, {"poll_worker": "48091327"})


def _build_with_pins(tmp_path, authority, pins):
    """A package whose manager PIN is 8 digits long, with these PINs for north-1."""
    from device.election.definition import load_election
    from device.election.package import build_package
    from tests.package_kit import demo_roll
    e = load_election("demo")
    build_package(e, demo_roll(e), authority, tmp_path / "pw.zip", manager_pin_length=8,
                  staff_pins={"north-1": pins}, pin_cost="simulation")


@pytest.mark.parametrize("length", [6, 8, 12])
def test_strength_rules_hold_at_every_length(length):
    for weak in ("7" * length, "0123456789012"[:length], "9876543210987"[:length]):
        with pytest.raises(PinError):
            check_pin_strength(weak, length)
    check_pin_strength("480913275604"[:length], length)
    with pytest.raises(PinError, match=f"exactly {length} digits"):
        check_pin_strength(PW_PIN + "1" * (length - 5), length)
