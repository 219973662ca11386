"""The fingerprint step at the ID desk, through the real controller: match, try again, the
commission's identification by document, power cut mid-match, templates only while polls open."""
from __future__ import annotations

import dataclasses
import random
import shutil
from pathlib import Path

import pytest

from device.election.definition import load_election
from device.election.voter_roll import Voter, VoterRoll
from device.station.fingerprint_identity import FINGER_PRESSED
from device.station.id_desk import Identified
from device.store.signing import UnitSigner, provision
from device.store.sqlite import SqliteStore
from sim.unit.access import mark_simulation_store
from sim.day.enrolment import synthetic_templates
from sim.day.fingerprint_day import FingerprintScenario, build_fingerprint_step
from sim.national.station_run import PowerCut
from sim.day.station import SimClock, build_station_day, visit
from sim.day.voters import load_scenario
from tests.secrecy_checks import bytes_leak_templates

ELECTION = "kyrgyzstan-2017"
SEED = 11


@pytest.fixture(scope="module")
def election():
    return load_election(ELECTION)


def _scenario(election, **fingerprint):
    base = load_scenario(None, election, ELECTION)
    return dataclasses.replace(base, fingerprint=FingerprintScenario(**fingerprint))


def _day(election, tmp_path: Path | None = None, fidelity: str = "logical", **fingerprint):
    store, signer = None, UnitSigner.generate(random.Random(f"{SEED}:key"))
    if tmp_path is not None:
        store = SqliteStore(tmp_path / "unit.db", durability="simulation")
        signer = provision(store, random.Random(f"{SEED}:key"))
        mark_simulation_store(store)
    day = build_station_day(election, registered=60, seed=SEED, scenario=_scenario(election, **fingerprint),
                            fidelity=fidelity, store=store, signer=signer)
    return store, day


def _voter_at_desk(day, enrolled: bool = True):
    """The next voter (on the roll here) whose document the reader reads; their check-in."""
    step = day.fingerprint
    for visitor in day.visitors:
        if visitor.kind == "voter" and (step.source._vault.template(visitor.voter_id) is not None) == enrolled:
            day.visitors.remove(visitor)
            day.peripherals.world.present_document(*visitor.document)
            return visitor, day.controller.present_id(day.peripherals.id_reader.read(timeout=2.0))
    raise AssertionError("no such voter in the plan")


def _press(day, finger: str):
    day.fingerprint.place(finger)
    return day.controller.present_identity_step(FINGER_PRESSED)


def test_a_match_authorises_and_a_stranger_finger_goes_to_the_commission_after_the_tries(election):
    _, day = _day(election, tries=3)
    ctl = day.controller
    ctl.open()
    visitor, checkin = _voter_at_desk(day)
    assert checkin.outcome == "identifying" and checkin.message.code == "place_finger"
    assert not any(r.type == "authorise" for r in ctl.store.events())
    assert _press(day, "none").message.code == "place_finger"  # nothing on the glass: no try
    assert _press(day, "genuine").authorised
    visitor, checkin = _voter_at_desk(day)
    first = _press(day, "impostor")
    assert first.message.code == "finger_try_again" and dict(first.message.fields) == {"tries_left": 2}
    # the finger lifted, the unit asks again: no try, and "did not match" stays on screen (the
    # console draws the latest answer only: a "place your finger" here would hide it at once)
    assert _press(day, "none").message == first.message
    second = _press(day, "impostor")
    assert second.message.code == "finger_try_again" and dict(second.message.fields) == {"tries_left": 1}
    last = _press(day, "impostor")
    assert last.outcome == "identifying" and last.message.code == "finger_not_matched"
    assert ctl.desk.pending.commission_reason == "no_match"
    assert _press(day, "genuine").message.code == "finger_not_matched"  # the tries are spent
    decided = ctl.identify_by_commission()
    assert decided.authorised and decided.voter_id == visitor.voter_id
    record = [r for r in ctl.store.events() if r.type == "authorise"][-1]
    assert record.data["identified_by"] == "commission" and record.data["reason"] == "no_match"
    assert visitor.voter_id not in str(record.data)
    assert ctl.reconciliation()["identified_by_commission"] == {"no_match": 1}
    ctl.close()
    assert ctl.signed_results["message"]["reconciliation"]["identified_by_commission"] == {"no_match": 1}
    tape = day.peripherals.world.printed_slips()[-1].as_text()
    assert "Identified by commission: no match" in tape and visitor.voter_id not in tape
    day.peripherals.close()


def test_a_voter_with_no_enrolled_template_goes_straight_to_the_commission(election):
    _, day = _day(election, unenrolled_rate=0.3)
    ctl = day.controller
    ctl.open()
    _, checkin = _voter_at_desk(day, enrolled=False)
    assert checkin.outcome == "identifying" and checkin.message.code == "finger_not_enrolled"
    assert ctl.desk.pending.commission_reason == "no_template"
    assert ctl.identify_by_commission().authorised
    assert ctl.reconciliation()["identified_by_commission"] == {"no_template": 1}
    day.peripherals.close()


def test_templates_are_opened_with_the_polls_and_wiped_at_the_close(election):
    _, day = _day(election)
    ctl, source = day.controller, day.fingerprint.source
    assert not source.holds_templates  # a unit with its polls not yet open holds none
    ctl.open()
    assert source.holds_templates
    ctl.pause()
    ctl.resume()
    assert source.holds_templates
    for visitor in day.visitors:
        visit(day, visitor)
    ctl.close()
    assert not source.holds_templates
    records = [(r.type, r.data) for r in ctl.store.events() if r.type.startswith("templates_")]
    assert records == [("templates_opened", {"enrolled": day.fingerprint.enrolled}),
                       ("templates_wiped", {"templates": day.fingerprint.enrolled})]
    ctl.reopen()
    ctl.resume()  # reopened polls: the templates come back from the package, journaled again
    assert source.holds_templates
    assert [r.type for r in ctl.store.events()][-4:].count("templates_opened") == 1
    day.peripherals.close()


def test_power_cut_mid_match_the_voter_is_not_checked_in_and_starts_again(election, tmp_path):
    store, day = _day(election, tmp_path, fidelity="full")
    ctl = day.controller
    ctl.open()
    visitor, checkin = _voter_at_desk(day)
    assert checkin.outcome == "identifying"
    driver = day.fingerprint.source.sensor

    class PowerGoesMidMatch:  # fault injection around the real driver on the pty
        def match(self, template: bytes):
            driver.download_template(template)
            driver.capture()
            raise PowerCut("the unit lost power between the capture and the match")

    day.fingerprint.source.sensor = PowerGoesMidMatch()
    with pytest.raises(PowerCut):
        _press(day, "genuine")
    shutil.copyfile(tmp_path / "unit.db", tmp_path / "after-cut.db")
    store.close()
    day.fingerprint.source.sensor = driver
    day.fingerprint.source.wipe_templates()  # memory does not survive the cut
    store = SqliteStore(tmp_path / "after-cut.db", durability="simulation")
    rebooted = build_station_day(election, registered=60, seed=SEED, scenario=_scenario(election),
                                 fidelity="full", store=store, signer=provision(store),
                                 peripherals=day.peripherals, rngs=day.rngs, clock=day.clock)
    ctl = rebooted.controller
    assert rebooted.fingerprint is day.fingerprint and rebooted.fingerprint.source.holds_templates
    assert ctl.counters.outstanding == 0 and not ctl.counters.checked_in  # not marked voted
    assert ctl.desk.pending is None  # the desk forgot the voter: they start again
    before = [r.type for r in store.events()]
    assert before.count("templates_opened") == 2  # at the open, and again at the boot
    visit(rebooted, visitor)
    authorised = [r for r in store.events() if r.type == "authorise"]
    assert len(authorised) == 1 and "identified_by" not in authorised[0].data
    assert ctl.counters.cast == 1
    ctl.close()
    store.close()
    rebooted.peripherals.close()


def test_the_sensor_going_silent_leaves_the_decision_to_the_commission(election):
    _, day = _day(election, fidelity="full")
    ctl = day.controller
    ctl.open()
    day.fingerprint.source.sensor.timeout = 0.3  # the driver's deadline for an answer
    _voter_at_desk(day)
    day.fingerprint.twin.go_silent()
    checkin = _press(day, "genuine")
    assert checkin.message.code == "finger_sensor_fault" and ctl.desk.pending.commission_reason == "sensor_fault"
    assert ctl.identify_by_commission().authorised
    assert ctl.reconciliation()["identified_by_commission"] == {"sensor_fault": 1}
    day.peripherals.close()


def test_no_template_in_the_store_or_the_station_files_after_the_close(election, tmp_path):
    store, day = _day(election, tmp_path, fidelity="logical")
    ctl = day.controller
    ctl.open()
    for visitor in day.visitors:
        visit(day, visitor)
    ctl.close()
    store.close()
    day.peripherals.close()
    here = VoterRoll([v for v in ctl.roll.voters if v.station_id == day.station_id])
    templates = synthetic_templates(here, SEED, day.fingerprint.scenario.unenrolled_rate)
    assert len(templates) == day.fingerprint.enrolled > 0
    raw = b"".join(p.read_bytes() for p in tmp_path.iterdir() if p.is_file())
    assert bytes_leak_templates(raw, templates) == []


def test_the_memory_sensor_draws_as_the_twin_over_a_pty_does(election):
    """At logical fidelity the step's sensor is the twin without bytes: the same seed gives the
    same answers and the same simulated seconds as the real driver on a pty to the twin."""
    sid = next(iter(election.stations))
    roll = VoterRoll([Voter(f"V{i}", f"D{i}", sid) for i in range(25)])
    runs = []
    for fidelity in ("logical", "full"):
        clock = SimClock(0.0)
        step = build_fingerprint_step(FingerprintScenario(presses={"genuine": 1, "wet": 1, "dry": 1, "partial": 1}),
                                      election=election, station_id=sid, roll=roll, seed=4,
                                      fidelity=fidelity, clock=clock)
        step.source.polls_opened()
        answers = []
        for voter in roll.voters:
            who = Identified(voter, "p")
            answer = step.source.identify(who, None)
            while answer.answer == "next_step" and answer.commission_reason is None:
                step.place(step.draw_finger())
                answer = step.source.identify(who, FINGER_PRESSED)
                answers.append((answer.answer.value, answer.message.code if answer.message else None))
        step.close()
        runs.append((answers, round(clock.now, 6)))
    assert runs[0] == runs[1]
    assert {code for _, code in runs[0][0]} >= {"finger_try_again", "finger_unreadable"}


def test_an_unreadable_press_says_how_many_tries_are_left_and_stays_on_screen(election):
    _, day = _day(election, tries=3)
    day.controller.open()
    _voter_at_desk(day)
    for finger in ("partial", "wet", "dry"):  # presses the sensor often cannot read
        answer = _press(day, finger)
        if answer.message.code == "finger_unreadable":
            break
    else:
        raise AssertionError("no press was unreadable")
    fields = dict(answer.message.fields)
    assert 1 <= fields["tries_left"] <= 2 and fields["detail"]
    assert "tries left" in answer.message.text
    assert _press(day, "none").message == answer.message
    day.peripherals.close()
