"""Serials: every issue of an election is numbered, and a unit never goes back to an older one.

The authority's issue log (``authority.issued.json`` beside its key) gives each ``election
package`` the next serial; a unit keeps the serials it loaded in its journal and refuses an
older package (or another package claiming the same serial), naming both serials.
"""
from __future__ import annotations

import json

import pytest

from device.election.package import PackageError
from device.station.provisioning import current_package, load_into_unit, unload_from_unit
from tests.package_kit import EM_PIN, make_package
from tests.test_package_swap import authority, issue, load, unload  # noqa: F401  (the fixture)
from tests.test_provisioning import Clock, unit  # noqa: F401  (the fixture)


def test_the_authority_numbers_each_issue_and_never_reuses_a_serial(authority, tmp_path):
    run = authority
    assert [issue(run, f"p{i}.bbpkg")["serial"] for i in range(3)] == [1, 2, 3]
    assert issue(run, "p9.bbpkg", "--serial", "9")["serial"] == 9
    assert issue(run, "p10.bbpkg")["serial"] == 10
    code, out = run("election", "package", "--election", "demo", "--roll", "roll.csv", "--key",
                    "keys/authority.key", "--out", "old.bbpkg", "--serial", "4", "--json")
    assert code == 2 and "serial 4 is not above serial 10" in json.loads(out)["error"]
    assert not (tmp_path / "old.bbpkg").exists()
    log = json.loads((tmp_path / "keys" / "authority.issued.json").read_text())
    (entry,) = log["elections"].values()
    assert entry["serial"] == 10 and entry["election_id"] == "demo-2026"


def test_a_unit_refuses_an_older_package_naming_both_serials(authority):
    run = authority
    issue(run, "one.bbpkg")
    issue(run, "two.bbpkg")
    assert load(run, "two.bbpkg")[0] == 0
    assert unload(run)[0] == 0  # the polls never opened: the package may leave
    code, out = load(run, "one.bbpkg")
    refusal = json.loads(out)
    assert code == 1 and refusal["reason"] == "rollback", out
    assert "serial 1 is not newer than serial 2" in refusal["message"]
    assert load(run, "two.bbpkg")[0] == 0  # the newest again is fine
    assert load(run, "two.bbpkg")[0] == 0  # and reloading it changes nothing


def test_equal_serial_is_the_same_package_or_refused(unit):
    store, pkg, authority, key, tmp = unit
    first = load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
    load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)  # idempotent
    assert [r.type for r in store.events()].count("package_loaded") == 1
    unload_from_unit(store, clock=Clock(), pin=EM_PIN)
    sibling, _, _ = make_package(tmp, authority=authority, unit=key, name="sibling.zip", serial=1)
    with pytest.raises(PackageError) as info:  # same serial, another package: which is newer?
        load_into_unit(store, sibling, clock=Clock(), pin=EM_PIN)
    assert info.value.reason == "rollback" and first.sha256[:16] in str(info.value)
    assert current_package(store) is None
    assert [r.data for r in store.events() if r.type == "package_refused"] == [{"reason": "rollback"}]


def test_a_reissue_under_another_pseudonym_key_is_refused_once_voters_checked_in(unit):
    store, pkg, authority, key, tmp = unit
    load_into_unit(store, pkg, clock=Clock(), pin=EM_PIN)
    store.append_event("authorise", {"voter": "a" * 32}, 5001.0)  # as the controller journals it
    store.append_event("export_written", {"manifest_sha256": "0" * 64, "journal_head_seq": 1}, 5002.0)
    unload_from_unit(store, clock=Clock(), pin=EM_PIN)
    other, _, _ = make_package(tmp, authority=authority, unit=key, name="k2.zip", serial=2,
                               pseudonym_key=b"j" * 32)
    with pytest.raises(PackageError) as info:
        load_into_unit(store, other, clock=Clock(), pin=EM_PIN)
    assert info.value.reason == "pseudonym_key_changed"
    same, _, _ = make_package(tmp, authority=authority, unit=key, name="k3.zip", serial=3)
    assert load_into_unit(store, same, clock=Clock(), pin=EM_PIN).package.serial == 3


def test_the_authoritys_pseudonym_key_is_one_per_election():
    from device.election.authority import AuthorityKey
    a, b = AuthorityKey.from_seed(b"A" * 32), AuthorityKey.from_seed(b"B" * 32)
    assert a.pseudonym_key("e1") == a.pseudonym_key("e1") != a.pseudonym_key("e2")
    assert a.pseudonym_key("e1") != b.pseudonym_key("e1") and len(a.pseudonym_key("e1")) == 32
