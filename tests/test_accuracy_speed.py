"""The accuracy campaign's profile (``python -m sim.accuracy.profile``): where a round's time goes.

The campaign's cost is the realistic scan (warp, JPEG round trip) and the interpreter; the
profile must find them, and its command must refuse bad input with a usage error."""
from __future__ import annotations

import pytest

from sim.accuracy.campaign import CELL_WEIGHTS
from sim.accuracy.profile import main, profile_round, round_tasks


def test_a_round_is_one_batch_per_cell_in_the_campaigns_order():
    first, second = round_tasks(3, 2026, 0), round_tasks(3, 2026, 1)
    cells = {(t["election"], t["distortion"]) for t in first}
    per_round = sum(CELL_WEIGHTS.get(election, 1) for election, _ in cells)
    assert len(cells) == 12 and len(first) == per_round == 21  # dense-34 gets four batches a round
    assert [t["index"] for t in second] == list(range(21, 42))
    assert all(t["count"] == 3 for t in first + second)


def test_the_profile_command_refuses_bad_input(capsys):
    with pytest.raises(SystemExit) as exc:
        main(["--ballots", "0"])
    assert exc.value.code == 2 and "--ballots must be at least 1" in capsys.readouterr().err


@pytest.mark.slow
def test_the_profile_finds_the_scan_and_the_interpreter():
    p = profile_round(ballots=1)
    assert p["positions"] > 0 and p["positions_per_cpu_second"] > 0
    assert len(p["top"]) == 10
    assert any("warpPerspective" in name for _, _, name in p["top"])
    stages = p["stages"]
    assert stages["scan distortions (sim/paper/scan_distortions.py)"] > stages["  of which the warp"] > 0
    assert 0 < stages["interpreter (device/ballots/interpreter.py)"] < 1
