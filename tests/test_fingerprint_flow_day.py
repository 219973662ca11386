"""A full-fidelity Kyrgyz station day through the real ``ballotbox`` CLI: the fingerprint step runs
through the real driver on a pty to the sensor's twin, with failed presses and commission
identifications, and the count matches what the voters meant; nothing of a template is left in
the station's files, the unit's database, the export or the signed results."""
from __future__ import annotations

import json
import subprocess
import sys
from importlib import resources
from pathlib import Path

from device.election.definition import load_election
from device.election.voter_roll import VoterRoll
from sim.day.enrolment import synthetic_templates
from tests.secrecy_checks import bytes_leak_templates, journal_leaks

SEED = 3


def _hard_scenario(tmp: Path) -> Path:
    """The bundled Kyrgyz scenario with many voters unenrolled and poor presses."""
    doc = json.loads((resources.files("sim") / "scenarios" / "kyrgyzstan-2017.json").read_text(encoding="utf-8"))
    doc["turnout"] = 0.9
    doc["fingerprint"] = {"unenrolled_rate": 0.15, "presses": {"partial": 0.6, "dry": 0.4},
                          "threshold": 50, "tries": 3}
    path = tmp / "hard.json"
    path.write_text(json.dumps(doc), encoding="utf-8")
    return path


def test_full_fidelity_day_with_fingerprint_failures_and_commission_identifications(tmp_path):
    out, store = tmp_path / "out", tmp_path / "unit.db"
    proc = subprocess.run(
        [sys.executable, "-m", "device.cli.main", "sim", "station", "--election", "kyrgyzstan-2017",
         "--fidelity", "full", "--voters", "30", "--seed", str(SEED), "--scenario",
         str(_hard_scenario(tmp_path)), "--out", str(out), "--store", str(store), "--json"],
        capture_output=True, text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr[-2000:]
    report = json.loads(proc.stdout)
    assert report["matches_ground_truth"] and report["paper_matches_records"]
    fp = report["fingerprint"]
    by_commission = fp["identified_by_commission"]
    assert by_commission.get("no_match", 0) >= 1 and by_commission.get("no_template", 0) >= 1, fp
    matched = fp["voters"] - sum(by_commission.values())
    assert fp["presses"] > matched + 3 * by_commission["no_match"] - 1  # failed presses happened
    assert report["reconciliation"]["identified_by_commission"] == by_commission
    assert report["reconciliation"]["checked_in"] == fp["voters"]

    journal = [json.loads(line) for line in (out / "journal.jsonl").read_text(encoding="utf-8").splitlines()]
    assert journal_leaks(journal) == []
    kinds = [r["type"] for r in journal]
    assert kinds.index("templates_opened") < kinds.index("templates_wiped") < kinds.index("close_polls")
    wiped = next(r for r in journal if r["type"] == "templates_wiped")
    assert wiped["data"] == {"templates": fp["enrolled"]}
    by_commission_records = [r for r in journal if r["type"] == "authorise" and "identified_by" in r["data"]]
    assert len(by_commission_records) == sum(by_commission.values())
    # the signed results message on the tape (its QR codes) carries the counts by reason
    tape = "".join(p.read_text(encoding="utf-8") for p in (out / "slips").glob("*results*.txt"))
    assert '"identified_by_commission":' + json.dumps(by_commission, separators=(",", ":")) in tape

    election = load_election("kyrgyzstan-2017")
    station = report["station"]
    roll = VoterRoll.from_csv_text((out / "roll.csv").read_text(encoding="utf-8"), election)
    here = VoterRoll([v for v in roll.voters if v.station_id == station])
    templates = synthetic_templates(here, SEED, 0.15)
    assert len(templates) == fp["enrolled"]
    files = [p for p in out.rglob("*") if p.is_file()] + [p for p in tmp_path.glob("unit.db*")]
    blob = b"".join(p.read_bytes() for p in files)
    assert bytes_leak_templates(blob, templates) == []


def test_sim_national_biometric_includes_the_step_and_its_time_per_voter(capsys):
    from device.cli.main import main
    assert main(["sim", "national", "--election", "kyrgyzstan-2017-national", "--stations", "2",
                 "--workers", "1", "--biometric", "--json"]) == 0
    doc = json.loads(capsys.readouterr().out)
    assert doc["matches_intent"]
    fp = doc["fingerprint"]
    assert fp["stations"] == 2 and fp["voters"] > 0 and fp["presses"] >= fp["voters"] - sum(
        fp["identified_by_commission"].values())
    assert 1.0 < fp["seconds_per_voter"] < 30.0  # the sensor's times at 57,600 baud and the press
    assert main(["sim", "national", "--election", "kyrgyzstan-2017-national", "--stations", "2",
                 "--workers", "1", "--json"]) == 0
    assert "fingerprint" not in json.loads(capsys.readouterr().out)  # off unless asked
