"""The package-swap double vote, end to end through the real commands and the real controller.

The attack (reproduced on the old code): mid-day, ``device export``, ``device unload`` (manager
PIN), ``device load`` of a re-issued package of the same election with a new pseudonym key;
the same voter is authorised again and casts again, and the audit says OK. Its three causes are
closed here: unload is refused unless the polls never opened or are closed and exported; every
re-issue carries the election's one pseudonym key (so "already voted" survives a reload); and
``audit replay`` names a reload mid-day, a changed pseudonym key and a pseudonym seen twice.
"""
from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest

from device.station import provisioning
from tests.package_kit import EM_PIN, PW_PIN, UnitOnStore, cli, export_argv
from tests.unit_exports import read_records, rechain, write_records

ROLL = ("voter_id,document_number,station_id\nV1,D0001,north-1\nV2,D0002,north-1\n"
        "V3,D0003,north-1\nW1,D0009,south-1\n")


@pytest.fixture
def authority(tmp_path, monkeypatch, capsys):
    """An authority (keys/), a provisioned unit (unit.db) and the package inputs, in tmp_path."""
    monkeypatch.chdir(tmp_path)
    run = lambda *a, **k: cli(monkeypatch, capsys, *a, **k)  # noqa: E731
    assert run("election", "keygen", "--out", "keys")[0] == 0
    code, out = run("device", "provision", "--store", "unit.db", "--authority", "keys/authority.pub",
                    "--unit-key", "unit.key", "--json")
    assert code == 0, out
    (tmp_path / "units.json").write_text(json.dumps({"north-1": [json.loads(out)["unit_public_key"]]}))
    (tmp_path / "roll.csv").write_text(ROLL)
    (tmp_path / "staff.csv").write_text(f"station_id,role,pin\nnorth-1,election_manager,{EM_PIN}\n"
                                        f"north-1,poll_worker,{PW_PIN}\nsouth-1,election_manager,"
                                        f"{EM_PIN}\nsouth-1,poll_worker,{PW_PIN}\n")
    return run


def issue(run, name: str, *extra: str) -> dict:
    """``election package`` then ``election verify --json``: the package's summary."""
    code, out = run("election", "package", "--election", "demo", "--roll", "roll.csv", "--key",
                    "keys/authority.key", "--units", "units.json", "--staff", "staff.csv",
                    "--mode", "simulation", "--out", name, *extra)
    assert code == 0, out
    code, out = run("election", "verify", name, "--authority", "keys/authority.pub", "--json")
    assert code == 0, out
    return json.loads(out)


def load(run, name: str) -> tuple[int, str]:
    return run("device", "load", "--store", "unit.db", "--package", name, "--pin-stdin", "--json",
               stdin=EM_PIN)


def unload(run) -> tuple[int, str]:
    return run("device", "unload", "--store", "unit.db", "--pin-stdin", "--json", stdin=EM_PIN)


def export(run, folder: str) -> None:
    code, out = run(*export_argv("unit.db", folder), stdin=EM_PIN)
    assert code == 0, out


def open_and_vote(unit: UnitOnStore, *documents: str) -> None:
    unit.ctl.access.login("poll_worker", PW_PIN)
    unit.ctl.open()
    for doc in documents:
        assert unit.vote(doc).status == "cast"


def close(unit: UnitOnStore) -> None:
    unit.ctl.access.login("poll_worker", PW_PIN)
    unit.ctl.close()
    unit.shut_down()


def findings(run, folder: str) -> tuple[int, list[tuple[str, str]]]:
    code, out = run("audit", "replay", folder, "--json")
    return code, [(f["kind"], f["detail"]) for f in json.loads(out)["faults"]]


def test_no_swap_mid_day_and_a_reissue_keeps_every_voters_pseudonym(authority):
    run = authority
    first = issue(run, "first.bbpkg")
    assert load(run, "first.bbpkg")[0] == 0
    unit = UnitOnStore("unit.db")
    open_and_vote(unit, "D0001")
    unit.shut_down()

    export(run, "midday")  # an export mid-day is allowed ...
    code, out = unload(run)  # ... but the package stays while the polls are open
    assert code == 1 and json.loads(out)["reason"] == "polls_open", out
    assert "close the polls and export" in json.loads(out)["message"]

    second = issue(run, "second.bbpkg")  # a re-issue: next serial, the same pseudonym key
    assert (first["serial"], second["serial"]) == (1, 2)
    assert second["pseudonym_key_id"] == first["pseudonym_key_id"]
    assert second["sha256"] != first["sha256"]

    close(unit.boot())
    code, out = unload(run)  # closed, but not exported since the close
    assert code == 1 and json.loads(out)["reason"] == "not_exported", out
    export(run, "closed")
    assert unload(run)[0] == 0
    assert load(run, "second.bbpkg")[0] == 0

    unit.boot()  # the reissued package: the voter who cast is still known
    unit.ctl.access.login("election_manager", EM_PIN)
    unit.ctl.reopen()
    unit.ctl.access.login("poll_worker", PW_PIN)
    unit.ctl.resume()
    assert unit.checkin("D0001").outcome == "already_voted"
    assert unit.vote("D0002").status == "cast"
    close(unit)
    export(run, "final")
    code, found = findings(run, "final")
    assert code == 0 and found == []  # an honest reload after close and export is no finding

    # One pseudonym twice in one journal, across the reload: found whatever the packages.
    shutil.copytree("final", "forged")
    journal = Path("forged") / "journal.jsonl"
    recs = read_records(journal)
    checkins = [r for r in recs if r["type"] == "authorise"]
    checkins[1]["data"] = dict(checkins[0]["data"])
    rechain(recs)
    write_records(journal, recs)
    code, found = findings(run, "forged")
    assert code == 1 and ("double check-in", f"voter pseudonym {checkins[0]['data']['voter']} already "
                                             f"authorised at seq {checkins[0]['seq']}") in found, found


def test_replay_names_the_swap_the_old_firmware_allowed(authority, monkeypatch):
    """The old firmware: unload mid-day and a re-issue under another pseudonym key both let
    through. The same voter then casts twice; replay must not say OK."""
    run = authority
    issue(run, "first.bbpkg")
    assert load(run, "first.bbpkg")[0] == 0
    unit = UnitOnStore("unit.db")
    open_and_vote(unit, "D0001")
    unit.shut_down()
    export(run, "midday")

    monkeypatch.setattr(provisioning, "unload_refusal", lambda store: None)
    monkeypatch.setattr(provisioning, "_no_going_back", lambda store, pkg: None)
    assert unload(run)[0] == 0
    from device.election.authority import read_authority_key
    from device.election.definition import load_election
    from device.election.package import build_package
    from device.election.voter_roll import VoterRoll
    e = load_election("demo")
    roll = VoterRoll.from_csv_text(ROLL, e)
    units = json.loads(open("units.json").read())
    build_package(e, roll, read_authority_key("keys/authority.key"), "swapped.bbpkg", units=units,
                  staff_pins={"north-1": {"election_manager": EM_PIN, "poll_worker": PW_PIN}},
                  pseudonym_key=b"another key, drawn at re-issue!!", serial=2, pin_cost="simulation")
    assert load(run, "swapped.bbpkg")[0] == 0

    unit.boot()
    unit.ctl.access.login("poll_worker", PW_PIN)
    assert unit.vote("D0001").status == "cast"  # the double vote itself
    close(unit)
    export(run, "final")
    code, found = findings(run, "final")
    kinds = [k for k, _ in found]
    assert code == 1
    assert kinds.count("package swap") == 2 and "pseudonym key changed" in kinds, found
    assert any("while the polls were open" in d for _, d in found)


@pytest.mark.parametrize("day, reason", [
    ([], None),
    (["load"], None),
    (["load", "test"], None),
    (["load", "open"], "polls_open"),
    (["load", "open", "pause"], "polls_open"),
    (["load", "open", "close"], "not_exported"),
    (["load", "open", "close", "export"], None),
    (["load", "open", "close", "export", "reopen"], "polls_open"),
    (["load", "open", "close", "export", "reopen", "close"], "not_exported"),
])
def test_when_a_package_may_leave_the_unit(day, reason, tmp_path):
    """``unload_refusal`` on the journal the real controller writes, state by state."""
    from device.results.exports import export_unit
    from device.store.signing import UnitSigner
    from device.store.sqlite import SqliteStore
    from tests.station_kit import Kit
    kit = Kit(store=SqliteStore(tmp_path / "u.db", durability="simulation"), voters=3)
    signer = UnitSigner.generate()
    steps = {"load": kit.ctl.load, "open": kit.ctl.open, "pause": kit.ctl.pause,
             "close": kit.ctl.close, "reopen": kit.ctl.reopen,
             "test": kit.ctl.enter_test_mode,
             "export": lambda: export_unit(kit.store, kit.election, tmp_path / f"x{len(day)}", signer)}
    for step in day:
        steps[step]()
    refusal = provisioning.unload_refusal(kit.store)
    assert (refusal[0] if refusal else None) == reason
