"""``make demo``'s terminal output is readable (issue 19 §4): the zero report and the results tape
as text (the twin prints them as pictures: before, the zero report was "(printed as a
picture...)" and the slip files held only raw QR payloads), and tallies say what they count."""
from __future__ import annotations

from tests.console_kit import ballotbox


def test_sim_station_prints_the_slips_as_text_and_says_what_tallies_count(tmp_path):
    out = tmp_path / "day"
    run = ballotbox("sim", "station", "--election", "demo", "--voters", "4", "--seed", "3",
                    "--fidelity", "full", "--out", str(out)).stdout
    zero = run.split("Zero report (printed before the polls opened)")[1].split("What the operator saw")[0]
    assert "ZERO REPORT" in zero and "All totals are zero." in zero and "Ballots cast" in zero
    tape = run.split("Results tape (printed at the close)")[1]
    assert "RESULTS" in tape and "Voters checked in" in tape
    assert "BBT1|" not in run and "printed as a picture" not in run  # no raw QR payload
    assert "vote positions left empty (undervotes)" in run and "ballots blank in this contest" in run
    slip_file = (out / "slips" / "01-zero_report.txt").read_text(encoding="utf-8")
    assert "All totals are zero." in slip_file
