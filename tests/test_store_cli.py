"""The unit's store with its mirror through the real CLI and the unit's configuration."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from device.store.signing import provision
from device.store.sqlite import SqliteStore
from device.unit.config import ConfigError, load_config
from sim.unit.access import SIMULATION_PINS, mark_simulation_store

PERIPHERALS = '[peripherals]\nscanner = "sim://s"\nid_reader = "sim://i"\nprinter = "sim://p"\ncamera = "sim://c"\n'


def _export(tmp_path: Path, out: str, *extra: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "device.cli.main", "device", "export", "--store",
                           str(tmp_path / "unit.db"), "--out", str(tmp_path / out), "--election", "demo",
                           "--json", "--pin-stdin", *extra], capture_output=True, text=True,
                          input=SIMULATION_PINS["election_manager"])


@pytest.fixture
def mirrored_unit(tmp_path) -> Path:
    (tmp_path / "card").mkdir()
    store = SqliteStore(tmp_path / "unit.db", mirror=tmp_path / "card" / "mirror.db", durability="simulation")
    provision(store)
    mark_simulation_store(store)  # a simulator's store: the export asks the simulated manager's PIN
    store.append_event("load_election", {"station": "north-1"}, 1_700_000_000)
    store.close()
    return tmp_path


def test_a_store_that_keeps_a_mirror_is_never_opened_without_it(mirrored_unit):
    proc = _export(mirrored_unit, "export")
    assert proc.returncode == 2 and "keeps a mirror" in proc.stdout + proc.stderr
    assert "Traceback" not in proc.stderr
    ok = _export(mirrored_unit, "export", "--mirror", str(mirrored_unit / "card" / "mirror.db"))
    assert ok.returncode == 0, ok.stderr


def test_the_cli_restores_a_lost_primary_from_the_mirror_and_exports_the_repair(mirrored_unit):
    (mirrored_unit / "unit.db").unlink()
    proc = _export(mirrored_unit, "export", "--mirror", str(mirrored_unit / "card" / "mirror.db"))
    assert proc.returncode == 0, proc.stderr
    journal = [json.loads(line) for line in (mirrored_unit / "export" / "journal.jsonl").read_text().splitlines()]
    repaired = [r for r in journal if r["type"] == "store_repaired"]
    assert [r["data"]["medium"] for r in repaired] == ["primary"]


def test_the_config_names_the_mirror_and_refuses_the_store_itself(tmp_path):
    toml = tmp_path / "unit.toml"
    toml.write_text('[unit]\nstore = "unit.db"\n\n[store]\nmirror = "card/mirror.db"\n\n' + PERIPHERALS)
    assert load_config(toml).mirror == tmp_path / "card" / "mirror.db"
    toml.write_text('[unit]\nstore = "unit.db"\n\n[store]\nmirror = "./unit.db"\n\n' + PERIPHERALS)
    with pytest.raises(ConfigError, match="mirror must be another file"):
        load_config(toml)
