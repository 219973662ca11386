"""Every privileged act on the command line goes through a role: export (election manager),
send (poll worker or election manager), and the simulator never plays on a unit's store."""
from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from pathlib import Path

import pytest

from device.station.provisioning import load_into_unit, provision_unit
from device.store.outbox import Outbox
from device.store.signing import UnitSigner
from device.store.sqlite import SqliteStore
from sim.unit.access import SIMULATION_PINS
from tests.package_kit import EM_PIN, PW_PIN, make_package


def cli(args, stdin="", cwd=None):
    return subprocess.run([sys.executable, "-m", "device.cli.main", *args], input=stdin,
                          capture_output=True, text=True, cwd=cwd)


@pytest.fixture
def loaded_unit(tmp_path):
    """A unit provisioned by the authority with a package loaded (polls never opened)."""
    from device.election.authority import AuthorityKey
    authority, key = AuthorityKey.from_seed(b"A" * 32), UnitSigner.generate()
    path = tmp_path / "unit.db"
    with SqliteStore(path, durability="simulation") as store:
        provision_unit(store, authority.public_key_hex(), key)
        pkg, _, _ = make_package(tmp_path, authority=authority, unit=key)
        load_into_unit(store, pkg, clock=lambda: 5000.0, pin=EM_PIN)
    return path


def journal(path):
    with SqliteStore(path) as store:
        return list(store.events())


def files_of(path: Path) -> dict[str, str]:
    return {p.name: hashlib.sha256(p.read_bytes()).hexdigest()
            for p in path.parent.iterdir() if p.name.startswith(path.name)}


# --- device export: the election manager's ------------------------------------------------------
def test_export_without_a_pin_is_refused_exit_2_and_nothing_written(loaded_unit, tmp_path):
    before = len(journal(loaded_unit))
    for stdin, extra in (("", []), ("\n", ["--pin-stdin"])):  # no terminal, no PIN; an empty PIN
        proc = cli(["device", "export", "--store", str(loaded_unit), "--out", str(tmp_path / "x"),
                    *extra], stdin)
        assert proc.returncode == 2 and "Traceback" not in proc.stderr
        assert "PIN" in proc.stderr and len(proc.stderr.strip().splitlines()) == 1
    assert not (tmp_path / "x").exists()
    assert len(journal(loaded_unit)) == before  # nothing journaled, no attempt counted


def test_export_with_a_wrong_pin_or_the_poll_workers_pin_is_refused_exit_1(loaded_unit, tmp_path):
    for pin in ("111111", PW_PIN, EM_PIN + "0"):
        proc = cli(["device", "export", "--store", str(loaded_unit), "--out", str(tmp_path / "x"),
                    "--pin-stdin", "--json"], pin + "\n")
        assert proc.returncode == 1, proc.stdout + proc.stderr
        assert json.loads(proc.stdout)["reason"] == "wrong_pin"
    assert not (tmp_path / "x").exists()
    recs = journal(loaded_unit)
    assert [r.data["attempt"] for r in recs if r.type == "pin_rejected"] == [1, 2, 3]
    assert not any(r.type in ("export_written", "checkpoint") for r in recs)


def test_export_by_the_election_manager_journals_the_role(loaded_unit, tmp_path):
    proc = cli(["device", "export", "--store", str(loaded_unit), "--out", str(tmp_path / "x"),
                "--pin-stdin", "--json"], EM_PIN + "\n")
    assert proc.returncode == 0, proc.stderr
    assert json.loads(proc.stdout)["station"] == "north-1"
    recs = journal(loaded_unit)
    written = next(r for r in recs if r.type == "export_written")
    assert written.data["role"] == "election_manager"
    login = next(r for r in recs if r.type == "session_started" and r.seq < written.seq)
    assert login.data == {"role": "election_manager"}
    assert EM_PIN not in repr([r.data for r in recs])


def test_a_locked_role_cannot_export(loaded_unit, tmp_path):
    for _ in range(5):
        assert cli(["device", "export", "--store", str(loaded_unit), "--out", str(tmp_path / "x"),
                    "--pin-stdin"], "999999\n").returncode == 1
    proc = cli(["device", "export", "--store", str(loaded_unit), "--out", str(tmp_path / "x"),
                "--pin-stdin", "--json"], EM_PIN + "\n")  # the right PIN, but the role is locked
    assert proc.returncode == 1 and json.loads(proc.stdout)["reason"] == "locked"
    assert not (tmp_path / "x").exists()


# --- device send: poll worker or election manager -----------------------------------------------
def _with_message(path):
    from tests.test_outbox import signed_message
    with Outbox(path) as box:
        box.put(signed_message(), 1.0)


def test_send_needs_an_operator_pin_before_anything_is_sent(loaded_unit):
    _with_message(loaded_unit)
    url = "http://127.0.0.1:9"  # nothing listens: a send would record an attempt
    for stdin, args, code in (("", [], 2), ("123987\n", ["--pin-stdin"], 1),
                              (EM_PIN + "\n", ["--pin-stdin"], 1)):  # the manager's PIN as poll worker
        proc = cli(["device", "send", "--store", str(loaded_unit), "--central", url,
                    "--wait", "0", *args], stdin)
        assert proc.returncode == code and "Traceback" not in proc.stderr
    with Outbox(loaded_unit) as box:
        assert [i.attempts for i in box.items()] == [0]  # never posted
    status = cli(["device", "send", "--store", str(loaded_unit), "--status", "--json"])
    assert status.returncode == 1 and json.loads(status.stdout)["pending"] == 1  # no PIN to look


@pytest.mark.parametrize("role, pin", [("poll_worker", PW_PIN), ("election_manager", EM_PIN)])
def test_send_by_either_role_is_journaled(loaded_unit, role, pin):
    _with_message(loaded_unit)
    proc = cli(["device", "send", "--store", str(loaded_unit), "--central", "http://127.0.0.1:9",
                "--wait", "0", "--role", role, "--pin-stdin"], pin + "\n")
    assert proc.returncode == 1 and "1 pending" in proc.stdout  # logged in; central unreachable
    assert [r.data["role"] for r in journal(loaded_unit) if r.type == "session_started"][-1] == role
    with Outbox(loaded_unit) as box:
        assert [i.attempts for i in box.items()] == [1]


# --- the simulator and a unit's store -----------------------------------------------------------
def test_sim_station_refuses_a_provisioned_units_store_untouched(loaded_unit):
    before = files_of(loaded_unit)
    proc = cli(["sim", "station", "--voters", "5", "--store", str(loaded_unit)])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line, = proc.stderr.strip().splitlines()
    assert "unit's store" in line and "new --store path" in line
    assert files_of(loaded_unit) == before


@pytest.mark.parametrize("content", [None, b"", b"not a database"])
def test_sim_station_refuses_a_store_it_did_not_create(tmp_path, content):
    path = tmp_path / "other.db"
    if content is None:  # a valid store without the simulator's mark
        SqliteStore(path).close()
    else:
        path.write_bytes(content)
    before = files_of(path)
    proc = cli(["sim", "station", "--voters", "5", "--store", str(path)])
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    line, = proc.stderr.strip().splitlines()
    assert "not a store the simulator created" in line
    assert files_of(path) == before


def test_the_demo_path_sim_store_exported_with_the_simulated_managers_pin(tmp_path):
    store = str(tmp_path / "unit.db")
    assert cli(["sim", "station", "--voters", "10", "--store", store, "--json"]).returncode == 0
    assert cli(["device", "export", "--store", store, "--out", str(tmp_path / "x"),
                "--pin-stdin"], SIMULATION_PINS["poll_worker"] + "\n").returncode == 1
    proc = cli(["device", "export", "--store", store, "--out", str(tmp_path / "x"), "--pin-stdin"],
               SIMULATION_PINS["election_manager"] + "\n")
    assert proc.returncode == 0, proc.stderr
    assert cli(["audit", "verify", str(tmp_path / "x")]).returncode == 0
    assert cli(["audit", "replay", str(tmp_path / "x")]).returncode == 0


def test_the_makefile_demo_feeds_the_simulated_managers_pin():
    makefile = (Path(__file__).resolve().parents[1] / "Makefile").read_text()
    export = next(line for line in makefile.splitlines() if "device export" in line)
    assert "echo $(SIM_MANAGER_PIN) |" in export and "--pin-stdin" in export
    assert f"SIM_MANAGER_PIN := {SIMULATION_PINS['election_manager']}\n" in makefile
