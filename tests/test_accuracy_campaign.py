"""Accuracy campaigns at volume: the same result on any executor and number of workers, resumable
after an interruption from the checkpoint, severe scans refused and never misread, the CLI's
summary JSON and bad input. Tiny campaigns (batches of two ballots); the 1 M-position run is in
``make test-slow``."""
from __future__ import annotations

import json

import pytest

from device.cli.main import main
from sim.accuracy.campaign import CampaignError, CampaignPlan, all_elections, run_campaign
from sim.national.executors import DaskExecutor, InlineExecutor, PoolExecutor

PLAN = CampaignPlan(seed=7, positions=300, elections=("demo", "dense-34"),
                    distortions=("moderate", "severe"), batch_ballots=2)


def _without_timing(summary: dict) -> dict:
    return {k: v for k, v in summary.items() if k != "timing"}


@pytest.fixture(scope="module")
def inline_summary():
    result = run_campaign(PLAN, InlineExecutor())
    assert result.complete and not result.interrupted
    return result.summary()


def test_the_campaign_covers_every_cell_and_never_misreads(inline_summary):
    s = inline_summary
    assert s["positions_read"] >= 300 and s["misreads"]["total"] == 0 and s["passed"]
    assert {(c["election"], c["distortion"]) for c in s["cells"]} == {
        (e, d) for e in PLAN.elections for d in PLAN.distortions}
    assert sum(s["refusals_by_distortion"]["severe"].values()) > 0  # severe scans get refused
    assert s["refusals_by_distortion"]["moderate"] == {}
    assert s["verdict"] == "PASS" and s["complete"]
    assert set(all_elections()) >= {"demo", "cambodia-2022", "kyrgyzstan-2017", "dense-34"}


def test_same_result_on_a_process_pool(inline_summary):
    pool = run_campaign(PLAN, PoolExecutor(2)).summary()
    assert _without_timing(pool) == _without_timing(inline_summary)


# Dask's executor is the national run's too, where `make test` checks it gives the same bytes
# (tests/test_national.py); a local Dask cluster costs a few CPU-seconds more to start.
@pytest.mark.slow
def test_same_result_on_dask(inline_summary):
    dask = run_campaign(PLAN, DaskExecutor(local_workers=2)).summary()
    assert _without_timing(dask) == _without_timing(inline_summary)


class StopsAfter(InlineExecutor):
    """Ctrl-C after ``n`` batches; counts the batches it was asked to run."""

    def __init__(self, n: int | None = None):
        self.n, self.ran = n, 0

    def map(self, tasks, work):
        for task in tasks:
            if self.n is not None and self.ran >= self.n:
                raise KeyboardInterrupt
            self.ran += 1
            yield work(task)


def test_an_interrupted_campaign_resumes_from_its_checkpoint(inline_summary, tmp_path):
    checkpoint = tmp_path / "campaign.jsonl"
    first = run_campaign(PLAN, StopsAfter(3), checkpoint)
    assert first.interrupted and not first.complete and first.batches_finished == 3
    partial = first.summary()
    assert partial["verdict"].startswith("INCOMPLETE") and partial["positions_read"] < 300
    assert not partial["passed"]  # no misread so far, but an unfinished run has not passed
    assert len(checkpoint.read_text().splitlines()) == 1 + 3  # the header and three batches
    rest = StopsAfter()
    second = run_campaign(PLAN, rest, checkpoint)
    assert second.complete and rest.ran == len(second.records) - 3  # nothing done twice
    assert _without_timing(second.summary()) == _without_timing(inline_summary)
    with checkpoint.open("a") as fh:  # a run killed in the middle of a line
        fh.write('{"index": 99, "rep')
    assert run_campaign(PLAN, StopsAfter(0), checkpoint).complete  # read back, torn line skipped
    other = CampaignPlan(seed=8, positions=300, elections=PLAN.elections, distortions=PLAN.distortions,
                         batch_ballots=2)
    with pytest.raises(CampaignError, match="another campaign"):
        run_campaign(other, InlineExecutor(), checkpoint)


def test_the_command_writes_a_summary_and_refuses_bad_input(tmp_path, capsys):
    summary = tmp_path / "summary.json"
    args = ["sim", "accuracy", "--positions", "120", "--batch", "2", "--elections", "demo,dense-34",
            "--distortions", "severe", "--seed", "3", "--workers", "1", "--summary", str(summary),
            "--checkpoint", str(tmp_path / "c.jsonl")]
    assert main(args) == 0
    doc = json.loads(summary.read_text())
    assert doc["command"].startswith("ballotbox sim accuracy") and "--positions 120" in doc["command"]
    assert doc["misreads"]["total"] == 0 and doc["positions_read"] >= 120 and doc["refusals"]
    assert doc["timing"]["positions_per_worker_second"] > 0
    assert "PASS" in capsys.readouterr().out
    assert main(args) == 0  # run again: everything comes from the checkpoint
    assert json.loads(summary.read_text())["positions_read"] == doc["positions_read"]
    for bad in (["--positions", "0"], ["--positions", "5", "--elections", "nowhere"],
                ["--positions", "5", "--distortions", "awful"], ["--positions", "5", "--dask-local", "0"]):
        assert main(["sim", "accuracy", *bad]) == 2
    assert main([*args[:-1], str(summary)]) == 2  # the summary is no checkpoint of this campaign


@pytest.mark.slow
def test_one_million_positions_without_a_misread(tmp_path):
    # ballotbox sim accuracy --positions 1000000 --seed 2026 --workers 2
    plan = CampaignPlan(seed=2026, positions=1_000_000, elections=all_elections(),
                        distortions=("clean", "moderate", "severe"))
    result = run_campaign(plan, PoolExecutor(2), tmp_path / "checkpoint.jsonl")
    s = result.summary()
    assert result.complete and s["positions_read"] >= 1_000_000
    assert s["misreads"]["total"] == 0, s["misread_examples"]
    assert s["non_ballot_votes"] == 0 and s["passed"]
