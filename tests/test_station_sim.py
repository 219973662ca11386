"""Simulated station days: reproducible, correct against ground truth, usable from the CLI."""
import json
import subprocess
import sys

import pytest

from device.cli.main import main
from device.election.definition import load_election
from sim.day.station import run_station_day
from sim.day.voters import load_scenario, ScenarioError, parse_scenario


def day(election="demo", seed=3, registered=300, station=None):
    e = load_election(election)
    return run_station_day(e, station, registered=registered, seed=seed,
                           scenario=load_scenario(None, e, election))


@pytest.mark.parametrize("election", ["demo", "cambodia-2022", "kyrgyzstan-2017"])
def test_station_day_matches_ground_truth(election):
    report = day(election).report()
    assert report["matches_ground_truth"] and report["paper_matches_records"]
    rec = report["reconciliation"]
    assert rec["cast"] == report["ballots_cast"] <= rec["checked_in"]
    assert report["state"]["polls"] == "polls_closed"


def test_same_seed_same_report_other_seed_other_report():
    assert day(seed=5).report() == day(seed=5).report()
    assert day(seed=5).report() != day(seed=6).report()


def test_refusals_of_every_kind_happen_in_a_long_day():
    rec = day(registered=2000).report()["reconciliation"]
    assert {"already_voted", "other_station", "not_on_roll", "invalid_document"} <= set(rec["refused_by_reason"])
    assert rec["rejected_by_reason"].get("no_authorisation", 0) >= 1  # ballot-stuffing attempts refused


def test_kyrgyz_result_goes_to_runoff_or_winner_consistently():
    res = day("kyrgyzstan-2017", registered=1500).report()["results"]["president"]
    votes = res["votes"]
    top = max(votes, key=votes.get)
    if votes[top] * 2 > sum(votes.values()):
        assert res["winner"] == top
    else:
        assert res["runoff"][0] == top


def test_cli_json_is_reproducible_and_exit_zero(capsys):
    args = ["sim", "station", "--election", "demo", "--voters", "120", "--seed", "9", "--json"]
    assert main(args) == 0
    first = capsys.readouterr().out
    assert main(args) == 0
    assert capsys.readouterr().out == first
    report = json.loads(first)
    assert {"results", "reconciliation", "matches_ground_truth"} <= set(report)


def test_cli_writes_station_files(tmp_path, capsys):
    assert main(["sim", "station", "--voters", "50", "--out", str(tmp_path), "--json"]) == 0
    assert (tmp_path / "journal.jsonl").exists() and (tmp_path / "slips").is_dir()
    assert any("ZERO REPORT" in p.read_text() for p in (tmp_path / "slips").iterdir())


@pytest.mark.parametrize("args, words", [
    (["--election", "nowhere"], "no election file"),
    (["--voters", "0"], "--voters must be at least 1"),
    (["--station", "mars-1"], "unknown station"),
    (["--scenario", "no-such-scenario"], "no scenario file"),
])
def test_cli_bad_input_is_one_line_exit_2(args, words):
    proc = subprocess.run([sys.executable, "-m", "device.cli.main", "sim", "station", *args],
                          capture_output=True, text=True)
    assert proc.returncode == 2
    assert words in proc.stderr and "Traceback" not in proc.stderr
    assert len(proc.stderr.strip().splitlines()) == 1


def test_bad_scenario_names_the_field():
    e = load_election("demo")
    with pytest.raises(ScenarioError, match=r"\$.turnout"):
        parse_scenario({"format": "ballotbox-scenario/1", "turnout": 3}, e)
    with pytest.raises(ScenarioError, match="unknown choice"):
        parse_scenario({"format": "ballotbox-scenario/1", "shares": {"mayor": {"nobody": 1}}}, e)


def test_image_fidelity_gives_the_same_tally_as_logical_for_the_same_seed():
    e = load_election("kyrgyzstan-2017")  # Cyrillic labels through the real renderer
    sc = load_scenario(None, e, "kyrgyzstan-2017")
    logical = run_station_day(e, None, registered=30, seed=11, scenario=sc, fidelity="logical").report()
    image = run_station_day(e, None, registered=30, seed=11, scenario=sc, fidelity="image").report()
    assert image["matches_ground_truth"] and image["paper_matches_records"]
    assert image["results"] == logical["results"]
    assert image["reconciliation"] == logical["reconciliation"]


def test_anti_stuffing_setting_decides_whether_unauthorised_sheets_are_cast(capsys):
    args = ["sim", "station", "--voters", "2000", "--seed", "3", "--json"]
    assert main(args) == 0
    enforced = json.loads(capsys.readouterr().out)
    main(args + ["--allow-unauthorised-ballots"])
    relaxed = json.loads(capsys.readouterr().out)
    stuffed = enforced["reconciliation"]["rejected_by_reason"]["no_authorisation"]
    assert stuffed >= 1 and "no_authorisation" not in relaxed["reconciliation"]["rejected_by_reason"]
    assert relaxed["ballots_cast"] == enforced["ballots_cast"] + stuffed
    assert relaxed["ballots_cast"] > relaxed["reconciliation"]["checked_in"]


def test_full_fidelity_gives_the_same_tally_as_logical_for_the_same_seed():
    e = load_election("demo")
    sc = load_scenario(None, e, "demo")
    logical = run_station_day(e, None, registered=40, seed=11, scenario=sc, fidelity="logical").report()
    full = run_station_day(e, None, registered=40, seed=11, scenario=sc, fidelity="full").report()
    assert full["matches_ground_truth"] and full["paper_matches_records"]
    assert full["results"] == logical["results"] and full["ballots_cast"] == logical["ballots_cast"] > 0
    assert full["reconciliation"] == logical["reconciliation"]


def test_a_tally_that_differs_from_the_voters_intent_exits_1(monkeypatch, capsys):
    """A scanner that misreads (the first contest's first mark moved to another choice): the
    station day must say so and exit 1, the code the README reserves for a mismatch."""
    import dataclasses

    import sim.day.station
    from device.ballots.records import ContestReading

    real_make_paper = sim.day.station.make_paper

    def misreading_paper(fidelity, election):
        paper = real_make_paper(fidelity, election)
        real = paper.interpreter

        class Misreading:
            def interpret(self, frame):
                reading = real.interpret(frame)
                if not reading.readable or "mayor" not in reading.contests:
                    return reading
                sel = reading.contests["mayor"].selections
                others = [c for c in election.contests["mayor"].choice_ids() if c not in sel]
                if len(sel) == 1 and others:
                    moved = dict(reading.contests, mayor=ContestReading("mayor", (others[0],)))
                    return dataclasses.replace(reading, contests=moved)
                return reading

        paper.interpreter = Misreading()
        return paper

    monkeypatch.setattr(sim.day.station, "make_paper", misreading_paper)
    assert main(["sim", "station", "--voters", "40", "--seed", "2", "--json"]) == 1
    assert json.loads(capsys.readouterr().out)["matches_ground_truth"] is False
