"""Hypothesis drives the controller with random operator actions, ID reads and ballots.

It runs on the in-memory store and on SQLite. After every step: no ballot is counted outside
open polls; ballots cast <= voters authorised (enforcement on); totals never decrease; the
tally equals the accepted ballots; the sheets in the box and the invalid compartment (plus a
recorded sheet still in the path or in the operator's hand, jammed or not) equal the cast
records; the journal chain is intact and no record carries ballot content or a voter id.
"""
import shutil
import tempfile
from pathlib import Path

import hypothesis.strategies as st
import pytest
from hypothesis import settings
from hypothesis.stateful import RuleBasedStateMachine, invariant, precondition, rule

from device.ballots.records import CastVoteRecord
from device.store.journal import GENESIS_HASH, record_hash
from device.results.tally import tally_station
from device.store.sqlite import SqliteStore
from sim.day.station import voters_intent
from tests.secrecy_checks import journal_leaks
from tests.station_kit import Kit

POLICIES = [None, {"overvote": "accept-invalid", "blank": "accept-invalid", "unreadable": "accept-invalid"}]


class StationMachine(RuleBasedStateMachine):
    def __init__(self):
        super().__init__()
        self.kit = None
        self.cast_seen = 0
        self.accepted = []  # marks of the sheets the device accepted
        self.in_flight = None  # marks of the sheet under review or stuck in a jam

    @rule(policy=st.sampled_from(POLICIES), jam=st.sampled_from([0.0, 0.0, 0.2]),
          sqlite=st.booleans())
    @precondition(lambda self: self.kit is None)
    def setup(self, policy, jam, sqlite):
        store = None
        if sqlite:
            self.tmp = tempfile.mkdtemp(prefix="stateful-")
            store = SqliteStore(Path(self.tmp) / "unit.db", durability="simulation")
        self.kit = Kit(voters=8, policy=policy, jam_rate=jam, store=store)

    def teardown(self):
        if self.kit is not None:
            self.kit.store.close()
        if getattr(self, "tmp", None):
            shutil.rmtree(self.tmp, ignore_errors=True)

    def ready(self):
        return self.kit is not None

    @rule()
    @precondition(ready)
    def open_polls(self):
        if self.kit.ctl.polls == "election_loaded" or self.kit.ctl.polls == "setup":
            self.kit.ctl.open()

    @rule(action=st.sampled_from(["pause", "resume", "close"]))
    @precondition(ready)
    def operator(self, action):
        ctl = self.kit.ctl
        allowed = {"pause": ctl.polls == "polls_open", "resume": ctl.polls == "polls_paused",
                   "close": ctl.polls in ("polls_open", "polls_paused")}[action]
        if allowed and ctl.ballot in ("waiting_for_ballot", "inactive"):
            getattr(ctl, action)()

    @rule(i=st.integers(0, 10))
    @precondition(ready)
    def present_id(self, i):
        doc = self.kit.voters[i].document_number if i < len(self.kit.voters) else f"NOPE{i}"
        self.kit.checkin(doc)

    @rule(mayor=st.lists(st.sampled_from(["m-amara", "m-bolat", "m-chenda"]), unique=True, max_size=3),
          council=st.lists(st.sampled_from(["GRN", "RIV", "IND", "LAB"]), unique=True, max_size=2),
          kind=st.sampled_from(["ballot", "ballot", "ballot", "wrong_election", "test_ballot"]))
    @precondition(ready)
    def insert_ballot(self, mayor, council, kind):
        if self.kit.ctl.ballot != "waiting_for_ballot":
            return
        marks = self.kit.marks(mayor=mayor, council=council)
        out = self.kit.insert(marks, kind)
        if out.status in ("cast", "cast_invalid"):
            self.accepted.append(marks)
        self.in_flight = marks

    @rule(cast=st.booleans())
    @precondition(lambda self: self.kit is not None and self.kit.ctl.review_reason is not None)
    def voter_decides(self, cast):
        out = self.kit.ctl.voter_decision(cast)
        if out.status in ("cast", "cast_invalid"):
            self.accepted.append(self.in_flight)
        if out.status == "returned":
            self.kit.periph.world.take_returned_sheet()

    @rule()
    @precondition(lambda self: self.kit is not None and self.kit.ctl.ballot == "jammed")
    def clear_jam(self):
        self.kit.periph.world.operator_removes_jammed_sheet()
        out = self.kit.ctl.clear_jam()
        self.kit.periph.world.operator_places_sheet(into_box=out.status == "placed_in_box")
        if out.status == "placed_in_box":
            self.accepted.append(self.in_flight)

    @rule()
    @precondition(ready)
    def restart(self):
        """Power cycle between steps: state comes back from the journal."""
        before = (dict(self.kit.ctl.state), self.kit.ctl.reconciliation())
        cast_before = len(self.kit.store.cast_vote_records())
        self.kit.boot()
        ballot = before[0]["ballot"]
        if ballot in ("inactive", "waiting_for_ballot", "jammed", "error"):
            assert (self.kit.ctl.state, self.kit.ctl.reconciliation()) == before
        else:  # a sheet in flight is resolved by the documented power-on rule
            assert self.kit.ctl.state == {**before[0], "ballot": "waiting_for_ballot"}
            assert len(self.kit.store.cast_vote_records()) == cast_before
            if ballot != "accepting":  # never cast: back to the voter
                assert self.kit.periph.world.take_returned_sheet() is not None or ballot == "rejecting"

    @invariant()
    def invariants(self):
        if self.kit is None:
            return
        ctl, store = self.kit.ctl, self.kit.store
        cvrs = store.cast_vote_records()
        results = ctl.results()  # checks votes + under + over == ballots x vote_for
        assert results.ballots_cast == len(cvrs) == ctl.counters.cast
        if ctl.ballot not in ("accepting", "jammed", "error"):  # tally == the accepted ballots
            style = self.kit.election.stations[self.kit.station].ballot_style
            truth = [CastVoteRecord(str(i), style, voters_intent(self.kit.election, style, m))
                     for i, m in enumerate(self.accepted)]
            expected = tally_station(self.kit.election, self.kit.station, truth)
            assert results.to_json() == expected.to_json()
        assert ctl.counters.cast <= len(ctl.counters.checked_in)
        assert len(cvrs) >= self.cast_seen
        self.cast_seen = len(cvrs)
        world = self.kit.periph.world
        # a recorded cast whose drop is not confirmed: its sheet is still in the path (accepting,
        # jammed, fault) or in the operator's hand — or already in the box
        recorded_not_dropped = ctl.counters.drop_pending and (
            world.scanner.path is not None or world.in_hand is not None)
        assert world.sheets_in_box + world.sheets_in_invalid_compartment + int(recorded_not_dropped) \
            == len(cvrs)
        assert ctl.invalid_compartment == sum(c.invalid for c in cvrs)
        assert journal_leaks(store.events()) == []
        if ctl.polls != "polls_open":
            assert ctl.ballot in ("inactive", "jammed", "error") or ctl.polls == "polls_open"
        casts = [r for r in store.events() if r.type == "ballot_cast"]
        assert len(casts) == len(cvrs)
        prev = GENESIS_HASH
        for r in store.events():
            assert r.prev_hash == prev and r.hash == record_hash(r.seq, r.type, r.at, r.data, r.prev_hash)
            prev = r.hash
        opened = False
        for r in store.events():  # no ballot counted outside open polls
            if r.type in ("open_polls", "resume_polls"):
                opened = True
            elif r.type in ("pause_polls", "close_polls"):
                opened = False
            elif r.type == "ballot_cast":
                assert opened


# make test: 60 runs of 40 steps (with CI's fixed draws they find a jam cleared the wrong way:
# the sheet given back though its cast was recorded); make test-slow: 500.
TestStation = StationMachine.TestCase
TestStation.settings = settings(max_examples=60, stateful_step_count=40, deadline=None)


@pytest.mark.slow
class TestStationLonger(StationMachine.TestCase):
    settings = settings(max_examples=500, stateful_step_count=40, deadline=None)
