"""Power loss: station days SIGKILLed at seeded moments, restarted on the same store, finished.

Every run must end with sheets in the box = cast vote records = cast events, no voter checked
in twice, and an export that passes audit verify and replay (``sim/day/power_loss.py``).
"""
from __future__ import annotations

import pytest

from sim.day.power_loss import campaign, main, sweep


def _assert_all_ok(results):
    failed = [(r["seed"], r["problems"]) for r in results if not r["ok"]]
    assert failed == []
    killed = sum(bool(r["kills"]) for r in results)  # a kill point past the day's end never fires
    assert killed >= 0.8 * len(results) and sum(len(r["kills"]) for r in results) >= len(results)


def test_small_campaign_of_killed_days(tmp_path):
    results = campaign(tmp_path, runs=6, seed=11, voters=25)
    _assert_all_ok(results)
    assert sum(r["ballots"] for r in results) > 0


def test_a_kill_at_every_point_of_a_day_loses_nothing(tmp_path):
    results = sweep(tmp_path, seed=7, voters=4)
    _assert_all_ok(results)
    where = {line.split(" ", 1)[1] for r in results for line in r["kill_points"]}
    assert {"store: before BEGIN", "store: rows written, before COMMIT", "store: after COMMIT",
            "drop into the box: before it happens", "drop into the box: after it happened",
            "printer: before the zero_report slip", "printer: before the results slip",
            "printer: after the results slip", "store: before compaction",
            "store: after compaction"} <= where
    assert all(len(r["kills"]) == 1 for r in results)  # every point was reached and cut


def test_a_seed_reproduces_the_same_kills(tmp_path):
    a = campaign(tmp_path / "a", runs=2, seed=3, voters=15)
    b = campaign(tmp_path / "b", runs=2, seed=3, voters=15)
    assert [(r["kill_points"], r["ballots"]) for r in a] == [(r["kill_points"], r["ballots"]) for r in b]


def test_cli_bad_input_exit_2(capsys):
    assert main(["--runs", "0"]) == 2
    assert "must be >= 1" in capsys.readouterr().err


@pytest.mark.slow
def test_large_campaign(tmp_path):
    results = campaign(tmp_path, runs=300, seed=2024, voters=30)
    _assert_all_ok(results)
    points = {line.split(" ", 1)[1] for r in results for line in r["kill_points"]}
    assert {"store: before BEGIN", "store: rows written, before COMMIT", "store: after COMMIT"} <= points
