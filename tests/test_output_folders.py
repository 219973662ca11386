"""Nothing silently overwrites an output (issue 19 §1): ``--out`` into a folder that already holds
files is refused unless ``--force`` (``ballots render``, ``sim station``, ``sim national``), and
test ballots never share a file name with live ones. Each runs the real command."""
from __future__ import annotations

import pytest

from device.cli.main import main

COMMANDS = {
    "ballots render": ["ballots", "render", "demo", "--style", "north-ballot", "--dpi", "60"],
    "sim station": ["sim", "station", "--election", "demo", "--voters", "5"],
    "sim national": ["sim", "national", "--election", "kyrgyzstan-2017-national", "--stations", "1",
                     "--workers", "1"],
}


@pytest.mark.parametrize("command", sorted(COMMANDS))
def test_out_into_a_folder_with_files_is_refused_unless_force(tmp_path, capsys, command):
    out = tmp_path / "day"
    out.mkdir()
    (out / "roll.csv").write_text("precious\n")
    assert main([*COMMANDS[command], "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert "already holds files" in err and "--force" in err and err.count("\n") == 1
    assert (out / "roll.csv").read_text() == "precious\n"  # untouched
    assert main([*COMMANDS[command], "--out", str(tmp_path / "new")]) in (0, 1)
    capsys.readouterr()
    assert main([*COMMANDS[command], "--out", str(out), "--force"]) in (0, 1)


def test_out_that_is_a_file_is_refused(tmp_path, capsys):
    (tmp_path / "f").write_text("x")
    assert main([*COMMANDS["ballots render"], "--out", str(tmp_path / "f")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_test_ballots_never_share_file_names_with_live_ones(tmp_path, capsys):
    live, test = tmp_path / "live", tmp_path / "test"
    assert main([*COMMANDS["ballots render"], "--out", str(live)]) == 0
    assert main([*COMMANDS["ballots render"], "--test", "--out", str(test)]) == 0
    live_names = {p.name for p in live.iterdir()}
    test_names = {p.name for p in test.iterdir()}
    assert live_names and test_names and not live_names & test_names
    assert all(name.startswith("test-") for name in test_names)
