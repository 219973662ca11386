"""The ballot box: the pure decision (``device/ballots/decide.py``) against an independent oracle,
and the box swap as a transition of the machine, counted and replayed (issues #20 §1, #19 §2)."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.audit.replay import replay_export
from device.ballots.decide import BoxPolicy, Decision, Outcome, PolicyAction, decide
from device.ballots.records import BallotReading, ContestReading
from device.election.definition import load_election, parse_election
from device.station.controller import ControllerError
from device.station.counters import Counters
from device.station.roles import AccessDenied, hash_pin
from device.store.signing import provision
from device.store.sqlite import SqliteStore
from sim.station import voters_intent
from tests.station_kit import Kit

ELECTION = load_election("demo")
STYLE = ELECTION.stations["north-1"].ballot_style
CONTESTS = ELECTION.contests_for_style(STYLE)
ACTIONS = {"overvote": ("return", "accept-invalid"), "blank": ("return", "accept-invalid"),
           "unreadable": ("reject", "accept-invalid")}


def policy(overvote="return", blank="return", unreadable="reject", testing=False) -> BoxPolicy:
    election = parse_election({**ELECTION.raw, "policy": {"overvote": overvote, "blank": blank,
                                                          "unreadable": unreadable}})
    return BoxPolicy.for_station(election, "north-1", testing=testing)


def reading(marks: dict[str, tuple[str, ...]], *, style=STYLE, test=False) -> BallotReading:
    return BallotReading(style, {c: ContestReading(c, sel, ()) for c, sel in marks.items()}, test_ballot=test)


marks_strategy = st.fixed_dictionaries(
    {c.id: st.lists(st.sampled_from(c.choice_ids()), unique=True, max_size=c.vote_for + 1).map(tuple)
     for c in CONTESTS})


@settings(max_examples=150, deadline=None)
@given(marks=marks_strategy, overvote=st.sampled_from(ACTIONS["overvote"]),
       blank=st.sampled_from(ACTIONS["blank"]))
def test_a_cast_decision_counts_what_the_voter_meant(marks, overvote, blank):
    """``voters_intent`` (sim/station.py) is written without the firmware's rules: a ballot the
    box casts must carry exactly that; one it holds for review is an overvote or a blank one
    the policy returns."""
    decision = decide(reading(marks), policy(overvote, blank))
    intent = {cid: sel_status for cid, sel_status in
              voters_intent(parse_election({**ELECTION.raw, "policy": {"overvote": overvote, "blank": blank}}),
                            STYLE, marks).items()}
    statuses = {s for _, s in intent.values()}
    if decision.outcome is Outcome.REVIEW:
        assert (decision.reason == "overvote" and overvote == "return" and "overvote" in statuses) or \
            (decision.reason == "blank" and blank == "return" and statuses == {"blank"})
        return
    assert decision.outcome in (Outcome.CAST, Outcome.CAST_INVALID)
    assert {cid: (tuple(sorted(sel)), s) for cid, (sel, s) in decision.contests.items()} == intent
    assert decision.invalid == ("invalid" in statuses)


@pytest.mark.parametrize("rejection", ["fiducials_missing", "unreadable_code", "unreadable_marks"])
def test_unreadable_sheets_follow_the_unreadable_policy(rejection):
    assert decide(BallotReading.rejected(rejection), policy()) == Decision(Outcome.REJECT, reason=rejection)
    cast = decide(BallotReading.rejected(rejection), policy(unreadable="accept-invalid"))
    assert cast.outcome is Outcome.CAST_INVALID and cast.invalid
    assert cast.contests == {c.id: ((), "invalid") for c in CONTESTS}


class BrokenInterpreter:
    """An interpreter that fails on every sheet (the box reads that as unreadable marks)."""

    def interpret(self, frame):
        raise RuntimeError("camera frame corrupt")


def test_an_unreadable_test_ballot_under_accept_invalid_is_counted_invalid_in_test_mode():
    """Was: the box decided to *cast* it, the cast was refused in test mode and the box stayed
    stuck in ``deciding`` with a ControllerError out of ``handle_paper``."""
    kit = Kit(policy={"unreadable": "accept-invalid"})
    kit.ctl.enter_test_mode()
    kit.ctl.interpreter = BrokenInterpreter()
    outcome = kit.insert(kind="test_ballot")
    assert outcome.status == "test_counted" and kit.ctl.ballot == "waiting_for_ballot"
    report = kit.ctl.leave_test_mode().to_json()
    assert report["ballots_cast"] == 1
    assert all(c["invalid"] == 1 for c in report["contests"].values())
    assert kit.ctl.counters.cast == 0 and kit.store.cast_vote_records() == []


def test_other_rejections_are_never_cast_whatever_the_policy():
    for reason in ("not_a_ballot", "wrong_election", "unknown_style", "test_ballot"):
        got = decide(BallotReading.rejected(reason), policy("accept-invalid", "accept-invalid", "accept-invalid"))
        assert got == Decision(Outcome.REJECT, reason=reason)


def test_test_and_official_ballots_and_styles_in_each_mode():
    valid = {c.id: tuple(c.choice_ids()[:c.vote_for]) for c in CONTESTS}
    assert decide(reading(valid, test=True), policy()).reason == "test_ballot"
    assert decide(reading(valid), policy(testing=True)).reason == "official_ballot_in_test_mode"
    assert decide(reading(valid, style="no-such-style"), policy()).reason == "wrong_style"
    overvoted = {**valid, CONTESTS[0].id: tuple(CONTESTS[0].choice_ids()[:CONTESTS[0].vote_for + 1])}
    counted = decide(reading(overvoted, test=True), policy(testing=True))
    assert counted.outcome is Outcome.TEST  # test ballots are counted without the voter's review
    review = decide(reading(overvoted), policy())
    assert review.outcome is Outcome.REVIEW and review.overvoted == (CONTESTS[0].id,)
    assert decide(reading({}), policy()).reason == "blank"
    assert PolicyAction("accept-invalid") is PolicyAction.ACCEPT_INVALID


# --- the box swap ----------------------------------------------------------------------------
PW = "750264"


def test_swap_box_is_a_transition_counted_journaled_and_replayed(tmp_path):
    store = SqliteStore(tmp_path / "unit.db", durability="simulation")
    kit = Kit(store=store, signer=provision(store, random.Random(3)), voters=8)
    kit.ctl.open()
    for voter in kit.voters[:3]:
        kit.checkin(voter)
        kit.insert()
    assert kit.ctl.sheets_in_box() == 3
    assert kit.ctl.swap_box() == 3 and kit.ctl.ballot == "waiting_for_ballot"
    assert kit.ctl.sheets_in_box() == 0
    kit.checkin(kit.voters[3])
    kit.insert()
    kit.ctl.pause()
    assert kit.ctl.swap_box() == 1  # the polls paused: the box region is inactive
    assert (kit.ctl.counters.box_swaps, kit.ctl.counters.sheets_sealed) == (2, 4)
    swaps = [r.data for r in store.events() if r.type == "ballot_box_swapped"]
    assert swaps == [{"sheets": 3, "role": "poll_worker"}, {"sheets": 1, "role": "poll_worker"}]
    kit.ctl.close()
    store.close()
    kit.store = SqliteStore(tmp_path / "unit.db", durability="simulation")
    kit.boot()  # boot replays the swaps through the machine
    assert (kit.ctl.counters.box_swaps, kit.ctl.counters.sheets_sealed) == (2, 4)
    kit.ctl.export(tmp_path / "export")
    assert replay_export(tmp_path / "export").faults == []
    replayed = Counters()
    for r in kit.store.events():
        replayed.apply(r.type, r.data)
    assert replayed.box_swaps == 2


def test_no_swap_with_a_sheet_in_the_path_or_without_a_poll_worker(tmp_path):
    staff = {"poll_worker": hash_pin(PW, "simulation")}
    kit = Kit(staff=staff, jam_rate=1.0)
    kit.ctl.access.login("poll_worker", PW)
    kit.ctl.open()
    kit.checkin(kit.voters[0])
    assert kit.insert().status == "jammed"
    with pytest.raises(ControllerError, match="busy"):
        kit.ctl.swap_box()
    assert kit.ctl.counters.box_swaps == 0
    kit.ctl.access.logout()
    with pytest.raises(AccessDenied):
        kit.ctl.swap_box()
