"""Pre-election testing: only test ballots, a separate tally, a known deck gives a known report,
and the polls open only after the test tally is reset to zero."""
import json

import pytest

from device.audit.replay import replay_export
from device.cli.main import main
from device.station.controller import ControllerError
from device.station.roles import AccessDenied, hash_pin
from device.ballots.interpreter import BallotInterpreter
from device.store.signing import UnitSigner
from tests.station_kit import Kit

EM, PW = "482913", "750264"
STAFF = {"election_manager": hash_pin(EM, "simulation"), "poll_worker": hash_pin(PW, "simulation")}

# A deck with known marks: (council, mayor, parks) per sheet.
DECK = [
    {"council": ("GRN",), "mayor": ("m-amara",), "parks": ("p-dara", "p-elif")},
    {"council": ("GRN",), "mayor": ("m-bolat",), "parks": ("p-dara",)},
    {"council": ("RIV",), "mayor": ("m-amara",), "parks": ("p-farid", "p-gulnara")},
    {"council": ("LAB",), "mayor": ("m-amara", "m-chenda"), "parks": ()},  # mayor overvoted
]
EXPECTED = {"council": {"GRN": 2, "RIV": 1, "IND": 0, "LAB": 1},
            "mayor": {"m-amara": 2, "m-bolat": 1, "m-chenda": 0},
            "parks": {"p-dara": 2, "p-elif": 1, "p-farid": 1, "p-gulnara": 1}}


def run_deck(kit, deck):
    outcomes = []
    for marks in deck:
        kit.periph.world.insert_sheet(kit.paper.make_sheet(kit.election.stations[kit.station].ballot_style,
                                                           marks, kit.rng, "test_ballot"))
        outcomes.append(kit.ctl.handle_paper())
    return outcomes


def check_report(results):
    assert results.ballots_cast == len(DECK)
    for cid, votes in EXPECTED.items():
        assert results.contests[cid].votes == votes, cid
    assert results.contests["mayor"].overvotes == 1
    assert results.contests["parks"].undervotes == 1 + 2  # one mark of two, then none


@pytest.mark.parametrize("paper", ["logical", "image"])
def test_a_known_test_deck_gives_a_known_report(paper):
    kit = Kit(staff=STAFF, paper=paper)
    if paper == "image":
        assert isinstance(kit.paper.interpreter, BallotInterpreter)  # the real OpenCV reader
    kit.ctl.access.login("election_manager", EM)
    kit.ctl.enter_test_mode()
    assert kit.ctl.state == {"polls": "testing", "voter": "inactive", "ballot": "waiting_for_ballot"}
    outcomes = run_deck(kit, DECK)
    assert [o.status for o in outcomes] == ["test_counted"] * len(DECK)
    official = kit.insert(kit.marks())  # an official ballot is not counted in test mode
    assert official.status == "returned" and official.reason == "official_ballot_in_test_mode"
    check_report(kit.ctl.print_test_report())
    report = kit.periph.printer.slips[-1]
    assert report.kind == "test_report" and "TEST BALLOTS" in report.lines[0]
    assert kit.store.cast_vote_records() == [] and kit.ctl.results().ballots_cast == 0


def test_polls_open_only_after_the_test_tally_is_reset(tmp_path):
    kit = Kit(staff=STAFF, signer=UnitSigner.generate())
    kit.ctl.access.login("poll_worker", PW)
    with pytest.raises(AccessDenied):
        kit.ctl.enter_test_mode()  # a poll worker does not switch test mode
    kit.ctl.access.login("election_manager", EM)
    kit.ctl.enter_test_mode()
    run_deck(kit, DECK[:2])
    kit.ctl.access.login("poll_worker", PW)
    with pytest.raises(ControllerError):
        kit.ctl.open()  # still in test mode, with test ballots counted
    with pytest.raises(AccessDenied):
        kit.ctl.leave_test_mode()
    kit.ctl.access.login("election_manager", EM)
    results = kit.ctl.leave_test_mode()
    assert results.ballots_cast == 2 and len(kit.ctl.test_tally) == 0
    end = [r.data for r in kit.store.events() if r.type == "end_test"]
    assert end == [{"role": "election_manager", "test_ballots_reset": 2}]
    kit.ctl.access.login("poll_worker", PW)
    kit.ctl.open()
    assert kit.periph.printer.slips[-1].kind == "zero_report"
    assert kit.ctl.results().ballots_cast == 0
    assert kit.checkin(kit.voters[0]).authorised
    assert kit.insert(kit.marks(), kind="test_ballot").reason == "test_ballot"  # live: refused
    assert kit.insert(kit.marks()).status == "cast"
    with pytest.raises(AccessDenied):
        kit.ctl.enter_test_mode()  # the poll worker's session; and after opening it is refused anyway
    kit.ctl.access.login("election_manager", EM)
    with pytest.raises(ControllerError):
        kit.ctl.enter_test_mode()
    kit.ctl.access.login("poll_worker", PW)
    assert kit.ctl.close().ballots_cast == 1  # the test ballots never reach the results
    kit.ctl.access.login("election_manager", EM)
    kit.ctl.export(tmp_path / "export")
    assert [r.data["role"] for r in kit.store.events() if r.type == "export_written"] == ["election_manager"]
    report = replay_export(tmp_path / "export")  # the auditor's replay accepts test mode
    assert report.ok, report.faults


def test_the_test_tally_survives_a_power_cut():
    kit = Kit(staff=STAFF)
    kit.ctl.access.login("election_manager", EM)
    kit.ctl.enter_test_mode()
    run_deck(kit, DECK)
    kit.boot()
    assert kit.ctl.polls == "testing" and kit.ctl.ballot == "waiting_for_ballot"
    kit.ctl.access.login("election_manager", EM)
    check_report(kit.ctl.leave_test_mode())


def test_render_test_deck_cli(tmp_path, capsys):
    assert main(["ballots", "render", "demo", "--style", "north-ballot", "--test", "--out", str(tmp_path),
                 "--json"]) == 0
    layout = json.loads(next(tmp_path.glob("*.json")).read_text())
    assert layout["test_ballot"] is True and layout["pages"][0]["qr"]["payload"].split("|")[3] == "T"
