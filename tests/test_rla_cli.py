"""``ballotbox audit rla`` end to end, as an audit board runs it: the real CLI in a subprocess on
the output of a real ``sim national`` run; hand counts from the paper of the simulated boxes. The
same run carries the ``--rla-drill`` report of its QA folder (the tests at the end)."""
from __future__ import annotations

import csv
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from device.audit.rla.csv_files import write_hand_count

SEED = "31415926535897932384"
ROOT = Path(__file__).resolve().parents[1]
DRILL_AUDITS = 5


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "device.cli.main", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def drilled_kyrgyz_run(tmp_path_factory) -> tuple[Path, dict]:
    """One Kyrgyz run of 30 stations for the whole module (``--json``: its summary): audited here
    and drilled with ``--rla-drill`` (the drill's report: the tests at the end). No figures:
    the audit reads the files; nobody looks at the QA page's plots."""
    out = tmp_path_factory.mktemp("kg") / "run"
    r = cli("sim", "national", "--election", "kyrgyzstan-2017-national", "--stations", "30", "--workers", "1",
            "--out", str(out), "--rla-drill", str(DRILL_AUDITS), "--json", "--no-figures")
    assert r.returncode == 0, r.stderr
    return out, json.loads(r.stdout)


@pytest.fixture(scope="module")
def kyrgyz_run(drilled_kyrgyz_run) -> Path:
    return drilled_kyrgyz_run[0]


@pytest.fixture(scope="module")
def cambodia_run(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("kh") / "run"
    r = cli("sim", "national", "--election", "cambodia-2022-national", "--stations", "45", "--workers", "1",
            "--out", str(out), "--no-figures")  # the audit reads the files; nobody looks at the QA page
    assert r.returncode == 0, r.stderr
    return out


def paper(run: Path, contest: str) -> dict[str, dict[str, int]]:
    return {s["station"]: s["intent"][contest]["votes"]
            for s in map(json.loads, (run / "stations.jsonl").read_text().splitlines())}


def count_sampled(audit: Path, votes: dict[str, dict[str, int]]) -> list[str]:
    """The board counts every sheet not yet filled in (blank template) from the paper."""
    counted = []
    for sheet in sorted((audit / "hand-counts").glob("*.csv")):
        if any(row[1] == "" for row in list(csv.reader(sheet.open()))[1:]):
            write_hand_count(sheet, votes[sheet.stem])
            counted.append(sheet.stem)
    return counted


def test_honest_boxes_stop_in_round_one(kyrgyz_run, tmp_path):
    audit = tmp_path / "audit"
    r = cli("audit", "rla", "sample", str(kyrgyz_run), "--contest", "president", "--seed", SEED,
            "--out", str(audit), "--json")
    assert r.returncode == 0, r.stderr
    doc = json.loads(r.stdout)
    assert not doc["full_hand_count"] and 0 < len(doc["stations"]) < 30
    sample = list(csv.DictReader((audit / "sample-round-1.csv").open()))
    assert sorted(row["Station"] for row in sample) == sorted(doc["stations"])
    # the same seed draws the same sample (a second folder)
    again = json.loads(cli("audit", "rla", "sample", str(kyrgyz_run), "--contest", "president", "--seed", SEED,
                           "--out", str(tmp_path / "again"), "--json").stdout)
    assert again["draws"] == doc["draws"]
    count_sampled(audit, paper(kyrgyz_run, "president"))
    r = cli("audit", "rla", "risk", str(audit), "--json")
    assert r.returncode == 0, r.stdout + r.stderr
    result = json.loads(r.stdout)
    assert result["decision"] == "stop" and result["risk"] <= 0.05 and result["discrepancies"] == []
    # the page shows the JSON twin's numbers
    report = json.loads((audit / "report.json").read_text())
    page = (audit / "report.html").read_text()
    assert f"{report['evaluations'][-1]['risk']:.4g}" in page
    assert re.search(rf'id="U">{report["U"]:.6g}<', page)
    assert (audit / "figures" / "risk.png").stat().st_size > 1000


def test_a_miscounted_box_escalates_then_a_full_count_finds_it(kyrgyz_run, tmp_path):
    audit = tmp_path / "audit"
    assert cli("audit", "rla", "sample", str(kyrgyz_run), "--contest", "president", "--seed", SEED,
               "--out", str(audit)).returncode == 0
    votes = paper(kyrgyz_run, "president")
    counted = count_sampled(audit, votes)
    # the paper of one sampled box gives half the leader's reported votes to the last candidate
    box = counted[0]
    lowered = dict(votes[box])
    leader, last = max(lowered, key=lowered.get), min(lowered, key=lowered.get)
    lowered[leader] -= lowered[leader] // 2
    lowered[last] += votes[box][leader] // 2
    write_hand_count(audit / "hand-counts" / f"{box}.csv", lowered)
    r = cli("audit", "rla", "risk", str(audit), "--json")
    result = json.loads(r.stdout)
    assert r.returncode in (1, 3), r.stdout
    assert [d["batch"] for d in result["discrepancies"]] == [box]
    assert (audit / "sample-round-2.csv").exists()
    # the board keeps counting until the audit ends; the paper still gives the reported outcome
    status = r.returncode
    while status in (1, 3):
        count_sampled(audit, votes)
        status = cli("audit", "rla", "risk", str(audit)).returncode
    assert status == 0


def test_bad_input_is_one_line_and_exit_2(kyrgyz_run, tmp_path):
    short = cli("audit", "rla", "sample", str(kyrgyz_run), "--contest", "president", "--seed", "1234",
                "--out", str(tmp_path / "a"))
    assert short.returncode == 2 and "20 decimal digits" in short.stderr and "Traceback" not in short.stderr
    wrong = cli("audit", "rla", "sample", str(kyrgyz_run), "--contest", "mayor", "--seed", SEED,
                "--out", str(tmp_path / "b"))
    assert wrong.returncode == 2 and "no contest 'mayor'" in wrong.stderr
    assert cli("audit", "rla", "sample", str(kyrgyz_run), "--contest", "president", "--seed", SEED,
               "--out", str(tmp_path / "c")).returncode == 0
    missing = cli("audit", "rla", "risk", str(tmp_path / "c"))  # nobody counted yet
    assert missing.returncode == 2 and "must be a whole number" in missing.stderr
    assert len(missing.stderr.strip().splitlines()) == 1
    notfolder = cli("audit", "rla", "risk", str(tmp_path / "nothing"))
    assert notfolder.returncode == 2 and "not an audit folder" in notfolder.stderr


def test_arlo_files_match_arlos_batch_comparison_formats(kyrgyz_run, tmp_path):
    r = cli("audit", "rla", "arlo", str(kyrgyz_run), "--contest", "president", "--out", str(tmp_path))
    assert r.returncode == 0, r.stderr
    manifest = list(csv.reader((tmp_path / "national - ballot manifest.csv").open()))
    tallies = list(csv.reader((tmp_path / "national - president - candidate totals by batch.csv").open()))
    assert manifest[0] == ["Container", "Batch Name", "Number of Ballots"]
    assert tallies[0][0] == "Batch Name"
    assert [row[1] for row in manifest[1:]] == [row[0] for row in tallies[1:]]  # batch names match
    stations = {s["station"]: s for s in map(json.loads, (kyrgyz_run / "stations.jsonl").read_text().splitlines())}
    for row in tallies[1:]:
        reported = stations[row[0]]["contests"]["president"]["votes"]
        assert dict(zip(tallies[0][1:], map(int, row[1:]))) == reported
    for row in manifest[1:]:
        assert int(row[2]) == stations[row[1]]["ballots_cast"]


def test_council_seats_are_audited_per_commune(cambodia_run, tmp_path):
    audit = tmp_path / "seats"
    r = cli("audit", "rla", "sample", str(cambodia_run), "--contest", "council", "--scope", "seats",
            "--seed", SEED, "--out", str(audit), "--json")
    assert r.returncode in (0, 3), r.stderr
    state = json.loads((audit / "audit.json").read_text())
    national = json.loads((cambodia_run / "national.json").read_text())
    complete = sorted(d for d, doc in national["districts"].items() if doc["complete"])
    assert complete and sorted({a["district"] for a in state["assertions"]}) == complete
    count_sampled(audit, paper(cambodia_run, "council"))
    r = cli("audit", "rla", "risk", str(audit), "--json")
    assert r.returncode == 0, r.stdout
    assert json.loads(r.stdout)["decision"] in ("stop", "confirmed_by_full_count")


def drill(*args: str) -> tuple[int, dict]:
    r = cli("sim", "audit", *args, "--json")
    assert r.returncode in (0, 1), r.stderr
    return r.returncode, json.loads(r.stdout)


def test_drill_honest_units_stop_in_round_one(kyrgyz_run):
    status, doc = drill("--run", str(kyrgyz_run), "--contest", "president", "--audits", "10")
    assert status == 0 and doc["stopped_in_round_1"] == 10 and doc["decisions"]["outcome_wrong"] == 0
    assert doc["mean_stations_counted"] < doc["stations"]
    # the drill joins the run's QA folder: the page shows the figures of its JSON lines
    lines = [json.loads(x) for x in (kyrgyz_run / "audit-drills.jsonl").read_text().splitlines()]
    assert lines[-1]["stopped_in_round_1"] == 10
    page = (kyrgyz_run / "audit-drills.html").read_text()
    assert f"<td>{lines[-1]['mean_stations_counted']}</td>" in page


def test_drill_outcome_changing_shift_is_caught_and_escalates(kyrgyz_run):
    # the units of 8 stations shift votes so the leader is reported with a majority (no runoff)
    status, doc = drill("--run", str(kyrgyz_run), "--contest", "president", "--tamper", "shift",
                        "--max-stations", "8", "--shift-factor", "2.5", "--audits", "20")
    assert doc["outcome_changed"] and status == 0
    assert doc["catch_rate"] >= 0.95
    assert doc["first_round_full_count"] == 0 and doc["mean_rounds"] > 1  # escalated, did not start full
    assert doc["tampered_station_found"] == 20


def test_drill_one_unit_that_moves_a_council_seat_is_caught(cambodia_run):
    status, doc = drill("--run", str(cambodia_run), "--contest", "council", "--scope", "seats",
                        "--tamper", "shift", "--audits", "3")
    assert status == 0 and doc["outcome_changed"] and len(doc["tampered_stations"]) == 1
    assert doc["decisions"]["outcome_wrong"] == 3


def test_drill_keeps_a_report_and_refuses_bad_input(kyrgyz_run, tmp_path):
    status, doc = drill("--run", str(kyrgyz_run), "--contest", "president", "--audits", "1", "--keep", str(tmp_path))
    assert status == 0 and (tmp_path / "audit-1" / "report.html").exists()
    bad = cli("sim", "audit", "--election", "nowhere", "--contest", "president")
    assert bad.returncode == 2 and "no election file or named election 'nowhere'" in bad.stderr and "Traceback" not in bad.stderr


# ``sim national --rla-drill N``: the risk-limiting audit drill of a run in its QA report. The run
# audits its results N times with hand counts from the paper in the simulated boxes, as reported
# and with a planted outcome-changing miscount. The figures must be in ``national.json``
# (``rla_drill``), in the ``--json`` summary and on ``report.html``, the same numbers in all three.

def test_the_drill_is_in_national_json_with_every_figure(drilled_kyrgyz_run):
    out, summary = drilled_kyrgyz_run
    drill = json.loads((out / "national.json").read_text())["rla_drill"]
    assert drill == summary["rla_drill"]  # --json prints the same document
    assert drill["contest"] == "president" and drill["scope"] == "contest" and drill["risk_limit"] == 0.05
    assert len(set(drill["audit_seeds"])) == DRILL_AUDITS and all(re.fullmatch(r"\d{20}", s) for s in drill["audit_seeds"])
    honest, planted = drill["honest"], drill["planted"]
    # honest units: every audit stops in round 1 on a sample, never calls the outcome wrong
    assert honest["stopped_in_round_1"] == DRILL_AUDITS and honest["escalated"] == 0
    assert honest["decisions"]["outcome_wrong"] == 0 and honest["catch_rate"] is None
    assert 0 < honest["mean_stations_counted"] <= honest["max_stations_counted"] < honest["stations"] == 30
    # the planted miscount changes the outcome; the audit escalates and the full count shows it
    assert planted["outcome_changed"] and planted["tampered_stations"] >= 1 and planted["shifted_votes"] > 0
    assert planted["catch_rate"] >= 1 - drill["risk_limit"] and planted["meets_risk_limit"]
    assert planted["escalated"] + planted["first_round_full_count"] == DRILL_AUDITS
    assert planted["full_hand_counts"] == planted["decisions"]["outcome_wrong"] == DRILL_AUDITS


def test_the_qa_page_shows_the_same_numbers(drilled_kyrgyz_run):
    out, _ = drilled_kyrgyz_run
    drill = json.loads((out / "national.json").read_text())["rla_drill"]
    page = (out / "report.html").read_text()
    assert "<h2>Risk-limiting audit drill</h2>" in page and drill["audit_seeds"][0] in page
    cells = dict(re.findall(r'<td id="rla-([a-z_]+-[a-z_0-9]+)">([^<]*)</td>', page))
    for case in ("honest", "planted"):
        for key in ("audits", "stations", "stopped_in_round_1", "escalated", "full_hand_counts",
                    "mean_stations_counted", "max_stations_counted", "shifted_votes"):
            assert cells[f"{case}-{key}"] == str(drill[case][key]), (case, key)
    assert cells["planted-catch_rate"] == f"{drill['planted']['catch_rate']:.1%}"
    assert cells["honest-catch_rate"] == "—"


def test_no_drill_unless_asked_and_bad_options_are_one_line(tmp_path):
    for bad in (["--rla-drill", "-1"], ["--rla-drill", "2", "--rla-scope", "nowhere"],
                ["--rla-drill", "2", "--rla-risk-limit", "0"]):
        r = cli("sim", "national", "--election", "kyrgyzstan-2017-national", "--stations", "2", "--workers", "1",
                "--out", str(tmp_path / "x"), *bad)
        assert r.returncode == 2 and "Traceback" not in r.stderr, r.stderr
        assert "--rla-drill must be at least 0" in r.stderr and len(r.stderr.strip().splitlines()) == 1
        assert not (tmp_path / "x").exists()  # refused before the run: nothing written
    r = cli("sim", "national", "--election", "kyrgyzstan-2017-national", "--stations", "2", "--workers", "1",
            "--json")
    assert r.returncode == 0 and "rla_drill" not in json.loads(r.stdout)
