"""The controller's bound triggers (``device/station/journaled_triggers.py``) do what
``transitions``' triggers do through the machines' ``before_state_change``: hypothesis fires the
same random trigger sequences — valid and invalid, with a store that fails on chosen writes —
on one controller through its own trigger methods and on a twin through the machines'
``transitions`` events, and requires the same journal bytes, states, counters, test tally and
errors after every step."""
from __future__ import annotations

import functools

import hypothesis.strategies as st
from hypothesis import given, settings

from device.ballots.records import CastVoteRecord
from device.station.machine import REGIONS, all_triggers, region_of_trigger
from device.store.forwarding import ForwardingStore
from device.store.journal import MemoryStore, StoreWriteError
from tests.station_kit import Kit

TRIGGERS = all_triggers()
REGION = region_of_trigger()


class FailingStore(ForwardingStore):
    """A memory store whose n-th writes after ``arm`` (counted from 1) fail, as a full disk would."""

    def __init__(self) -> None:
        super().__init__(MemoryStore())
        self.failing, self.writes = frozenset[int](), 0

    def arm(self, failing: frozenset[int]) -> None:
        self.failing, self.writes = failing, 0

    def _tick(self) -> None:
        self.writes += 1
        if self.writes in self.failing:
            raise StoreWriteError(f"disk full at write {self.writes}")

    def append_event(self, type_, data, at, *, durable=True):
        self._tick()
        return self.inner.append_event(type_, data, at, durable=durable)

    def cast_ballot(self, cvr, event_data, at):
        self._tick()
        return self.inner.cast_ballot(cvr, event_data, at)


def kwargs_for(trigger: str, n: int) -> dict:
    """What the controller passes with ``trigger`` (the n-th step: distinct voters and records)."""
    data = {"authorise": {"voter": f"{n:032x}"}, "refuse": {"reason": "not_on_roll"},
            "ballot_rejected": {"reason": "unreadable_marks"}, "jam": {"kind": "jam", "detail": "stuck"},
            "fault": {"detail": "cover open"}, "ballot_box_swapped": {"sheets": n, "role": "poll_worker"},
            "jam_cleared": {"resolution": ("placed_in_box", "returned_to_voter")[n % 2]},
            "fault_cleared": {"resolution": ("placed_in_box", "returned_to_voter")[n % 2]},
            "test_ballot_counted": {"style": "ward-north", "marks": {}},
            "load_election": {"election_id": "demo"}}.get(trigger)
    out: dict = {} if data is None else {"data": data}
    if trigger == "ballot_cast":
        invalid = {"mayor": ((), "invalid")} if n % 3 == 0 else {}  # into the invalid compartment
        out["cvr"] = CastVoteRecord(f"{n:032x}", "ward-north", invalid)
    return out


def through_transitions(ctl, trigger: str, **kwargs):
    """``trigger`` fired the way ``transitions`` binds it: the machine's event, its callbacks."""
    return ctl.machines[REGION[trigger]].events[trigger].trigger(ctl, **kwargs)


def observed(kit: Kit) -> dict:
    ctl = kit.ctl
    c = ctl.counters
    return {"state": ctl.state, "journal": [r.to_json() for r in ctl.store.events()],
            "records": [r.to_json() for r in ctl.store.cast_vote_records()],
            "counters": (sorted(c.checked_in), c.outstanding, c.cast, c.dropped, c.returned, dict(c.refused),
                         dict(c.rejected), c.drop_pending, c.reopened, c.box_swaps, c.sheets_sealed),
            "invalid_compartment": ctl.invalid_compartment, "test_tally": len(ctl.test_tally),
            "store_fault": ctl.store_fault, "unwritten": ctl._unwritten_fault}


def fire(kit: Kit, trigger: str, n: int, bound: bool) -> tuple[str, str] | bool:
    kit.now[0] += 7.5
    fn = getattr(kit.ctl, trigger) if bound else functools.partial(through_transitions, kit.ctl, trigger)
    try:
        return fn(**kwargs_for(trigger, n))
    except Exception as exc:  # the same error, by kind and text
        return type(exc).__name__, str(exc)


def twin() -> Kit:
    return Kit(voters=4, store=FailingStore())


def test_the_controller_fires_its_own_bound_triggers():
    """Each trigger on the controller is the bound function, not transitions' partial: the
    comparison below is between two different paths."""
    ctl = Kit(voters=2).ctl
    for trigger in TRIGGERS:
        assert not isinstance(getattr(ctl, trigger), functools.partial), trigger
        assert getattr(ctl, trigger).__name__ == trigger
    assert set(TRIGGERS) == {t["trigger"] for spec in REGIONS.values() for t in spec["transitions"]}


def test_a_unit_builds_its_machines_only_when_needed_and_keeps_its_states():
    kit = Kit(voters=2)
    ctl = kit.ctl
    ctl.open()
    assert kit.checkin(kit.voters[0]).authorised and ctl._machines is None  # a voter without them
    states = dict(ctl.state)
    assert states == {"polls": "polls_open", "voter": "authorised", "ballot": "waiting_for_ballot"}
    machines = ctl.machines
    assert ctl.state == states and ctl.machines is machines
    assert ctl.is_polls_polls_open() and ctl.may_paper_detected() and not ctl.may_ballot_cast()  # transitions'
    ctl.paper_detected()
    assert ctl.ballot == "scanning" and machines["ballot"].get_model_state(ctl).name == "scanning"


def test_an_invalid_trigger_raises_transitions_error_and_journals_nothing():
    from transitions import MachineError

    ctl = Kit(voters=2).ctl
    ctl.open()
    head = ctl.store.head
    try:
        ctl.ballot_cast(cvr=CastVoteRecord("0" * 32, "ward-north", {}))
    except MachineError as exc:
        assert "Can't trigger event ballot_cast from state waiting_for_ballot" in str(exc)
    else:
        raise AssertionError("ballot_cast from waiting_for_ballot was allowed")
    assert ctl.store.head == head and ctl.counters.cast == 0 and ctl.ballot == "waiting_for_ballot"


@settings(max_examples=60, deadline=None)
@given(steps=st.lists(st.sampled_from(TRIGGERS), min_size=1, max_size=40),
       failing=st.frozensets(st.integers(min_value=1, max_value=40), max_size=3),
       opened=st.booleans())
def test_bound_triggers_journal_and_move_as_transitions_does(steps, failing, opened):
    bound, stock = twin(), twin()
    for kit in (bound, stock):
        if opened:
            kit.ctl.open()
        kit.store.arm(failing)
    assert observed(bound) == observed(stock)
    for n, trigger in enumerate(steps):
        assert fire(bound, trigger, n, True) == fire(stock, trigger, n, False), (n, trigger)
        assert observed(bound) == observed(stock), (n, trigger)


def test_a_ballot_cycle_through_bound_triggers_is_the_stock_journal():
    """The common path, long enough for every counting rule of a voter's ballot."""
    bound, stock = twin(), twin()
    cycle = ["authorise", "paper_detected", "ballot_read", "ballot_cast", "ballot_dropped",
             "refuse", "paper_detected", "ballot_rejected", "ballot_returned", "ballot_box_swapped"]
    for kit, is_bound in ((bound, True), (stock, False)):
        kit.ctl.open()
        for n in range(30):
            for trigger in cycle:
                assert fire(kit, trigger, n, is_bound) is True, trigger
    assert observed(bound) == observed(stock)
    assert bound.ctl.counters.cast == 30 and bound.ctl.counters.rejected == {"unreadable_marks": 30}
