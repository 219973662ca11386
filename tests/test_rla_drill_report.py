"""``sim national --rla-drill N``: the risk-limiting audit drill of a run in its QA report.

The real CLI in a subprocess runs a small Kyrgyz election, then audits its results N times with
hand counts from the paper in the simulated boxes, as reported and with a planted
outcome-changing miscount. The figures must be in ``national.json`` (``rla_drill``), in the
``--json`` summary and on ``report.html``, the same numbers in all three.
"""
from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
AUDITS = 5


def cli(*args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "device.cli.main", *args], capture_output=True, text=True,
                          cwd=ROOT, timeout=300)


@pytest.fixture(scope="module")
def drilled(tmp_path_factory) -> tuple[Path, dict]:
    out = tmp_path_factory.mktemp("drill") / "run"
    r = cli("sim", "national", "--election", "kyrgyzstan-2017-national", "--stations", "30", "--workers", "1",
            "--out", str(out), "--rla-drill", str(AUDITS), "--json", "--no-figures")
    assert r.returncode == 0, r.stderr
    return out, json.loads(r.stdout)


def test_the_drill_is_in_national_json_with_every_figure(drilled):
    out, summary = drilled
    drill = json.loads((out / "national.json").read_text())["rla_drill"]
    assert drill == summary["rla_drill"]  # --json prints the same document
    assert drill["contest"] == "president" and drill["scope"] == "contest" and drill["risk_limit"] == 0.05
    assert len(set(drill["audit_seeds"])) == AUDITS and all(re.fullmatch(r"\d{20}", s) for s in drill["audit_seeds"])
    honest, planted = drill["honest"], drill["planted"]
    # honest units: every audit stops in round 1 on a sample, never calls the outcome wrong
    assert honest["stopped_in_round_1"] == AUDITS and honest["escalated"] == 0
    assert honest["decisions"]["outcome_wrong"] == 0 and honest["catch_rate"] is None
    assert 0 < honest["mean_stations_counted"] <= honest["max_stations_counted"] < honest["stations"] == 30
    # the planted miscount changes the outcome; the audit escalates and the full count shows it
    assert planted["outcome_changed"] and planted["tampered_stations"] >= 1 and planted["shifted_votes"] > 0
    assert planted["catch_rate"] >= 1 - drill["risk_limit"] and planted["meets_risk_limit"]
    assert planted["escalated"] + planted["first_round_full_count"] == AUDITS
    assert planted["full_hand_counts"] == planted["decisions"]["outcome_wrong"] == AUDITS


def test_the_qa_page_shows_the_same_numbers(drilled):
    out, _ = drilled
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
