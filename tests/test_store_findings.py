"""A record damaged inside a valid database file is a named finding, through the real CLI.

``PRAGMA integrity_check`` passes when a row's bytes are zeroed inside a valid page: the old
store then crashed ``device export`` with a JSONDecodeError traceback. Now each damage names the
record (the slot, the journal seq, or the count that no longer adds up) in one line, exit 2.
"""
from __future__ import annotations

import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from sim.unit.access import SIMULATION_PINS
from tests.unit_exports import exported_station_day

CVR_START = b'{"ballot_style"'  # every cast vote record's canonical JSON starts so
SLOT_BYTES, SUM_BYTES = 1024, 32


@pytest.fixture(scope="module")
def day(tmp_path_factory) -> Path:
    root = tmp_path_factory.mktemp("day")
    exported_station_day(root, voters=12, seed=3)
    return root / "unit.db"


def _export(db: Path, out: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "device.cli.main", "device", "export", "--store", str(db),
                           "--out", str(out), "--pin-stdin"], capture_output=True, text=True,
                          input=SIMULATION_PINS["election_manager"])


def _damaged(day: Path, tmp_path: Path, edit) -> subprocess.CompletedProcess:
    db = tmp_path / "unit.db"
    raw = bytearray(day.read_bytes())
    edit(raw)
    db.write_bytes(bytes(raw))
    conn = sqlite3.connect(db)
    assert conn.execute("PRAGMA integrity_check").fetchone()[0] == "ok"  # SQLite sees nothing
    conn.close()
    return _export(db, tmp_path / "export")


def _one_line_exit_2(proc: subprocess.CompletedProcess) -> str:
    assert proc.returncode == 2, proc.stderr
    assert "Traceback" not in proc.stderr and len(proc.stderr.strip().splitlines()) == 1, proc.stderr
    return proc.stderr


def test_a_zeroed_cast_vote_record_is_named_by_its_slot(day, tmp_path):
    def zero_json(raw: bytearray) -> None:
        at = raw.find(CVR_START)
        raw[at:at + 60] = bytes(60)
    err = _one_line_exit_2(_damaged(day, tmp_path, zero_json))
    assert "cast vote record in slot" in err and "damaged" in err


def test_a_whole_zeroed_slot_is_a_missing_record_not_a_shorter_day(day, tmp_path):
    def zero_slot(raw: bytearray) -> None:
        at = raw.find(CVR_START) - SUM_BYTES
        raw[at:at + SLOT_BYTES] = bytes(SLOT_BYTES)
    err = _one_line_exit_2(_damaged(day, tmp_path, zero_slot))
    assert "ballot_cast record(s) in the journal but" in err and "missing" in err


def test_a_zeroed_journal_record_is_named_by_its_seq(day, tmp_path):
    def zero_data(raw: bytearray) -> None:
        at = raw.find(b'{"voter":"')  # an authorise record's data
        raw[at:at + 20] = bytes(20)
    err = _one_line_exit_2(_damaged(day, tmp_path, zero_data))
    assert "journal record seq" in err


def test_the_undamaged_day_exports(day, tmp_path):
    db = tmp_path / "unit.db"
    db.write_bytes(day.read_bytes())
    assert _export(db, tmp_path / "export").returncode == 0
