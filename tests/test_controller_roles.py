"""Roles enforced in the controller itself, reopening closed polls, and pre-election test mode."""
import pytest

from device.audit.replay import replay_export
from device.results.exports import export_unit
from device.station.controller import ControllerError
from device.station.roles import AccessDenied, hash_pin
from device.store.signing import UnitSigner
from device.store.sqlite import SqliteStore
from tests.station_kit import Kit

EM, PW = "482913", "750264"
STAFF = {"election_manager": hash_pin(EM, "simulation"), "poll_worker": hash_pin(PW, "simulation")}


def journal(kit, type_):
    return [r.data for r in kit.store.events() if r.type == type_]


def vote(kit, voter, **marks):
    assert kit.checkin(voter).authorised
    return kit.insert(kit.marks(**marks))


@pytest.mark.parametrize("action", ["open", "pause", "resume", "close", "clear_jam", "clear_fault"])
def test_operator_actions_need_a_session(action):
    kit = Kit(staff=STAFF)
    with pytest.raises(AccessDenied) as info:
        getattr(kit.ctl, action)()
    assert info.value.reason == "no_session"


def test_the_election_manager_is_not_a_poll_worker():
    kit = Kit(staff=STAFF)
    kit.ctl.access.login("election_manager", EM)
    with pytest.raises(AccessDenied) as info:
        kit.ctl.open()
    assert info.value.reason == "not_permitted" and kit.ctl.polls == "setup"


def test_privileged_transitions_are_journaled_with_the_role_never_the_pin():
    kit = Kit(staff=STAFF)
    kit.ctl.access.login("poll_worker", PW)
    kit.ctl.open()
    kit.ctl.pause()
    kit.ctl.resume()
    assert journal(kit, "open_polls") == [{"role": "poll_worker"}]
    assert journal(kit, "pause_polls") == [{"role": "poll_worker"}]
    assert journal(kit, "session_started") == [{"role": "poll_worker"}]
    assert PW not in repr([r.data for r in kit.store.events()])


def test_wrong_pins_lock_the_role_and_a_reboot_does_not_unlock_it():
    kit = Kit(staff=STAFF)
    for _ in range(5):
        with pytest.raises(AccessDenied):
            kit.ctl.access.login("poll_worker", "000001")
    assert [(r["role"], r["seconds"]) for r in journal(kit, "role_locked")] == [("poll_worker", 60)]
    kit.now[0] += 30
    kit.boot()  # power cycle: a fresh access object, lockouts rebuilt from the journal
    with pytest.raises(AccessDenied) as info:
        kit.ctl.access.login("poll_worker", PW)
    assert info.value.reason == "locked"
    kit.now[0] += 30
    kit.ctl.access.login("poll_worker", PW)
    kit.ctl.open()


def test_an_idle_session_ends_and_the_next_action_is_refused():
    kit = Kit(staff=STAFF)
    kit.ctl.access.login("poll_worker", PW)
    kit.ctl.open()
    kit.now[0] += 30 * 60
    with pytest.raises(AccessDenied) as info:
        kit.ctl.pause()
    assert info.value.reason == "idle" and kit.ctl.polls == "polls_open"
    assert journal(kit, "session_ended") == [{"role": "poll_worker", "reason": "idle"}]


def test_assisted_review_choice_needs_the_poll_worker():
    kit = Kit(staff=STAFF)
    kit.ctl.access.login("poll_worker", PW)
    kit.ctl.open()
    kit.ctl.access.logout()
    out = vote(kit, kit.voters[0], mayor=("m-chenda", "m-okafor"))
    assert out.status == "needs_review"
    with pytest.raises(AccessDenied):
        kit.ctl.voter_decision(cast=True, assisted=True)
    assert kit.ctl.voter_decision(cast=True).status == "cast"  # the voter needs no PIN


def test_only_the_election_manager_reopens_and_the_tape_says_so(tmp_path):
    signer = UnitSigner.generate()
    kit = Kit(staff=STAFF, store=SqliteStore(tmp_path / "unit.db", durability="simulation"), signer=signer)
    kit.ctl.access.login("poll_worker", PW)
    kit.ctl.open()
    vote(kit, kit.voters[0])
    kit.ctl.close()
    with pytest.raises(AccessDenied) as info:
        kit.ctl.reopen()
    assert info.value.reason == "not_permitted" and kit.ctl.polls == "polls_closed"
    kit.ctl.access.login("election_manager", EM)
    kit.ctl.reopen()
    assert kit.ctl.polls == "polls_paused" and journal(kit, "reopen_polls") == [{"role": "election_manager"}]
    with pytest.raises(ControllerError):
        kit.ctl.reopen()  # not closed any more
    kit.ctl.access.login("poll_worker", PW)
    kit.ctl.resume()
    vote(kit, kit.voters[1])
    results = kit.ctl.close()
    assert results.ballots_cast == 2
    tape = kit.periph.printer.slips[-1]
    assert any("POLLS REOPENED" in line and line.endswith("\t1") for line in tape.lines)  # a row
    assert kit.ctl.signed_results["message"]["sequence"] == 2
    assert kit.ctl.signed_results["message"]["reconciliation"]["polls_reopened"] == 1
    kit.ctl.access.login("election_manager", EM)
    export_unit(kit.store, kit.election, tmp_path / "export", signer, role="election_manager")
    report = replay_export(tmp_path / "export")  # the auditor's replay accepts the reopening
    assert report.ok, report.faults


def test_reprint_rules():
    kit = Kit(staff=STAFF)
    kit.ctl.access.login("poll_worker", PW)
    kit.ctl.open()
    kit.ctl.reprint("zero")
    vote(kit, kit.voters[0])
    with pytest.raises(ControllerError):
        kit.ctl.reprint("zero")  # the count changed since the zero report
    kit.ctl.close()
    kit.ctl.reprint("results")
    assert journal(kit, "report_reprinted") == [{"report": "zero", "role": "poll_worker"},
                                                {"report": "results", "role": "poll_worker"}]


def test_simulation_access_drives_the_controller_without_pins():
    kit = Kit()
    kit.ctl.open()
    vote(kit, kit.voters[0])
    kit.ctl.close()
    kit.ctl.reopen()
    assert kit.ctl.polls == "polls_paused"
    assert journal(kit, "session_started") == []
