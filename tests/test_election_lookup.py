"""One lookup of ``--election NAME`` (issue 20 §4): every command resolves a name in the same table
(``device/election/names.py``: bundled, named, national spec), and an unknown name gets the same
one-line error listing what exists, through the real CLI."""
from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from device.election.fields import ElectionError
from device.election.names import election_names, find_election, load_election, named_elections

ROOT = Path(__file__).resolve().parent.parent
NAMES = {"demo": "bundled", "cambodia-2022": "bundled", "kyrgyzstan-2017": "bundled", "dense-34": "named",
         "cambodia-2022-national": "national spec", "kyrgyzstan-2017-national": "national spec"}


def ballotbox(*argv: str, cwd: Path = ROOT) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "device.cli.main", *argv], capture_output=True, text=True,
                          cwd=cwd, timeout=300)


def test_one_table_names_every_kind_once():
    table = election_names()
    assert {name: row.kind for name, row in table.items()} == NAMES
    assert set(named_elections()) == {n for n, kind in NAMES.items() if kind != "national spec"}
    assert load_election("dense-34").hash == table["dense-34"].load().hash


def test_a_national_spec_name_gives_the_generated_election():
    from sim.national.generator import national_election

    assert load_election("kyrgyzstan-2017-national").hash == national_election("kyrgyzstan-2017-national").election.hash
    assert find_election("kyrgyzstan-2017-national", kinds=["national spec"]).kind == "national spec"
    with pytest.raises(ElectionError, match="'demo' is a bundled election; this command takes a national spec"):
        find_election("demo", kinds=["national spec"])


NAME = ["--election", "atlantis-2030"]
COMMANDS = [
    ["sim", "station", *NAME], ["sim", "national", *NAME], ["sim", "national", "--json", *NAME],
    ["sim", "accuracy", "--ballots", "2", *NAME], ["sim", "package", "--seed", "1", "--out", "never.pkg", *NAME],
    ["sim", "audit", "--contest", "council", *NAME], ["device", "run", "--sim", *NAME],
    ["ballots", "render", "atlantis-2030", "--out", "never"],
]
EXPECTED = ("no election file or named election 'atlantis-2030' (bundled: cambodia-2022, demo, kyrgyzstan-2017; "
            "named: dense-34; national spec: cambodia-2022-national, kyrgyzstan-2017-national)")


@pytest.mark.parametrize("argv", COMMANDS, ids=lambda argv: " ".join(argv[:2]) + (" --json" if "--json" in argv else ""))
def test_an_unknown_name_is_the_same_one_line_error_everywhere(argv, tmp_path):
    proc = ballotbox(*argv, cwd=tmp_path)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    if "--json" in argv:
        assert json.loads(proc.stdout) == {"error": EXPECTED}
    else:
        assert proc.stderr.strip() == f"ballotbox: error: {EXPECTED}"
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []  # nothing written


def test_sim_national_refuses_a_bundled_election_in_one_line():
    proc = ballotbox("sim", "national", "--election", "cambodia-2022")
    assert proc.returncode == 2 and proc.stderr.strip() == (
        "ballotbox: error: 'cambodia-2022' is a bundled election; this command takes a national spec "
        "(national spec: cambodia-2022-national, kyrgyzstan-2017-national)")


def test_sim_station_runs_a_station_of_a_national_spec():
    proc = ballotbox("sim", "station", "--election", "kyrgyzstan-2017-national", "--voters", "12", "--json")
    assert proc.returncode == 0, proc.stderr
    day = json.loads(proc.stdout)
    assert day["election"] == "kg-president-2017-national" and day["matches_ground_truth"]


def test_help_lists_the_names_of_the_table():
    for argv in (["sim", "station"], ["sim", "accuracy"], ["sim", "package"]):
        assert "national spec: cambodia-2022-national" in " ".join(ballotbox(*argv, "--help").stdout.split())
    national = " ".join(ballotbox("sim", "national", "--help").stdout.split())
    assert "national spec: cambodia-2022-national, kyrgyzstan-2017-national" in national and "dense-34" not in national


def test_election_validate_takes_every_name_of_the_table():
    """It used to take bundled names only: a named election or a national spec was a traceback."""
    for name, shown in (("dense-34", "dense-34.json: valid"),
                        ("kyrgyzstan-2017-national", "kyrgyzstan-2017-national (national spec): valid")):
        proc = ballotbox("election", "validate", name)
        assert proc.returncode == 0 and proc.stdout.strip().endswith(shown), proc.stderr
    proc = ballotbox("election", "validate", "atlantis-2030")
    assert proc.returncode == 2 and proc.stderr.strip() == f"ballotbox: error: {EXPECTED}"
