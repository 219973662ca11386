"""Power loss: station days SIGKILLed at seeded moments, restarted on the same store, finished.

Every run must end with sheets in the box = cast vote records = cast events, no voter checked
in twice, and an export that passes audit verify and replay (``sim/day/power_loss.py``).
"""
from __future__ import annotations

import pytest

import random

from sim.day import power_loss
from sim.day.power_loss import KillSwitch, RunSpec, campaign, count_kill_points, main, run_once, sweep


def _assert_all_ok(results):
    failed = [(r["seed"], r["problems"]) for r in results if not r["ok"]]
    assert failed == []
    killed = sum(bool(r["kills"]) for r in results)  # a kill point past the day's end never fires
    assert killed >= 0.8 * len(results) and sum(len(r["kills"]) for r in results) >= len(results)


def test_small_campaign_of_killed_days(tmp_path):
    results = campaign(tmp_path, runs=6, seed=11, voters=25)
    _assert_all_ok(results)
    assert sum(r["ballots"] for r in results) > 0


def _kill_points_named(tmp_path, monkeypatch, spec) -> list[str]:
    """Where each kill point of an uninterrupted day falls, in order: the harness's own counting
    run, with every point noted (its KillSwitch notes only the one it cuts; the day runs in a
    forked child, which inherits the noting)."""
    log = tmp_path / "every-point.log"
    tick = KillSwitch.tick

    def noting(self, where: str) -> None:
        with open(log, "a", encoding="utf-8") as fh:
            fh.write(where + "\n")
        tick(self, where)
    with monkeypatch.context() as patch:
        patch.setattr(power_loss.KillSwitch, "tick", noting)
        points = count_kill_points(spec, tmp_path / "count")
    names = log.read_text(encoding="utf-8").splitlines()
    assert len(names) == points
    return names


def test_a_kill_at_every_point_of_a_voters_visit_and_in_every_other_phase_loses_nothing(tmp_path, monkeypatch):
    """``make test``'s share of the sweep below: every point of the day's voter's visit (after
    the zero report: the check-in's transactions, the sheet inserted, fed, cast, dropped), and
    the first point of every other kind (opening, the slips, the close, the compaction)."""
    spec = RunSpec("demo", 4, 7)
    names = _kill_points_named(tmp_path, monkeypatch, spec)
    visit = range(names.index("printer: after the zero_report slip") + 2, names.index("visitor done: after it happened") + 2)
    first_of_each = {names.index(name) + 1 for name in set(names)}
    targets = sorted(set(visit) | first_of_each)
    assert len(targets) < len(names)  # the whole day is cut point by point in make test-slow
    assert {"store: after COMMIT", "drop into the box: before it happens"} <= {names[t - 1] for t in visit}
    results = [run_once(spec, tmp_path / f"point-{t:04d}", random.Random(7), len(names), 1, targets=[t])
               for t in targets]
    _assert_all_ok(results)
    assert [int(r["kill_points"][0].split(" ", 1)[0]) for r in results] == targets  # each cut where asked
    assert all(r["ballots"] == 1 for r in results)


@pytest.mark.slow
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
