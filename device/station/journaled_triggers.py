"""The controller's triggers, bound once each: the write-ahead journal record and the state change in one call.

A trigger of the station's machines, even on ``LeanMachine``'s short path, builds an
``EventData`` per call and hands it to the machine's ``before_state_change`` callback, which
then reads back what is constant for the trigger: its name, its region's rule across regions
(``CROSS_REGION``), whether its time is kept to the minute and whether it is durable (the event
catalog), how it counts (``COUNTING_RULES``), whether it touches the test tally. A ballot fires
five journaled transitions and a national run some 37 million, so ``bind_journaled_triggers``
reads those constants once per controller and sets, for every trigger of the three machines, a
function on the controller that journals and then changes the state.

It does exactly what the ``LeanMachine`` short path does with the controller's one
``before_state_change`` callback: ``journal_step`` (the callback's work) first — if it raises,
the state does not change — then the region's state becomes the destination. The destinations
are read from each machine's own transitions (the tables of ``machine.py``, which also draw the
diagram and drive the auditor's replay), and only where the short path would take them: one
transition from the state, without conditions or callbacks, no ``on_exit`` / ``on_enter`` /
``final`` on its states, on a machine without a queue, event callbacks or
``after_state_change`` (none of these tables has any; the check is made once, at binding).
Every other call — a trigger the current state does not allow, above all — goes to
``transitions``' own trigger unchanged, so an invalid trigger still raises ``MachineError``
with the journal untouched. ``tests/test_journaled_triggers.py`` drives a controller through
these functions and one through ``transitions``' triggers with the same random sequences and
requires the same journals, states, counters and errors.

The controller's machines are its own: their callbacks are not changed after binding.
"""
from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from transitions import Machine

from device.station.counters import COUNTING_RULES
from device.station.events import ControllerError, coarse_time_events, durable_events, message
from device.station.machine import CROSS_REGION, cross_region_problem
from device.station.test_mode import TEST_TALLY_TRIGGERS
from device.store.journal import StoreWriteError

if TYPE_CHECKING:
    from device.station.controller import StationController

JournalStep = Callable[[dict[str, Any], Any], None]  # (data, cvr): the write-ahead record, counted


def journal_step(ctl: StationController, trigger: str) -> JournalStep:
    """The ``before_state_change`` work of ``trigger`` on ``ctl``, its constants bound: check the
    rules across regions, journal the record (the cast vote record with ``ballot_cast``: both
    durable before the sheet drops), count it. Replaying the journal at boot only counts."""
    rule = tuple(CROSS_REGION.get(trigger, {}).items())
    coarse, durable = trigger in coarse_time_events(), trigger in durable_events()
    cast, fault = trigger == "ballot_cast", trigger == "fault"
    count = COUNTING_RULES.get(trigger)
    test_tally = trigger in TEST_TALLY_TRIGGERS

    def step(data: dict[str, Any], cvr: Any) -> None:
        if not ctl._replaying:
            for region, allowed in rule:
                if (state := getattr(ctl, region)) not in allowed:
                    raise ControllerError(message("busy", state=cross_region_problem(trigger, region, state)))
            at = ctl.clock()
            store = ctl.store
            if coarse:  # to the minute, never before the last record
                at -= at % 60
                last = store.head_at
                if at < last:
                    at = last
            if cast:
                store.cast_ballot(cvr, data, at)
                ctl.invalid_compartment += cvr.invalid
            else:
                try:
                    store.append_event(trigger, data, at, durable=durable)
                except StoreWriteError as exc:
                    if not fault:
                        raise
                    ctl.note_store_failure(exc)  # the fault is entered even if it cannot be
                    ctl._unwritten_fault = (data, at)  # written: journaled at recovery
        if count is not None:
            count(ctl.counters, data)
        if test_tally:
            ctl.test_tally.apply(trigger, data)
    return step


def _short_path_destinations(machine: Machine, trigger: str) -> dict[str, str]:
    """Source state -> destination for each transition of ``trigger`` the ``LeanMachine`` short
    path would take (see the module docstring); the other sources are left to ``transitions``."""
    if machine._queued or machine._prepare_event or machine._finalize_event or machine._on_exception \
            or machine._after_state_change:
        return {}
    states, out = machine.states, {}
    for source, candidates in machine.events[trigger].transitions.items():
        if len(candidates) != 1:
            continue
        t = candidates[0]
        if t.prepare or t.conditions or t.before or t.after or t.dest is None:
            continue
        dest = states[t.dest]
        if dest.on_enter or dest.final or states[source].on_exit:
            continue
        out[source] = dest.name
    return out


def _bound_trigger(ctl: StationController, machine: Machine, trigger: str, step: JournalStep) -> Callable[..., bool]:
    destinations = _short_path_destinations(machine, trigger)
    stock = machine.events[trigger].trigger  # transitions' own (its errors, its other paths)
    region = machine.model_attribute

    def fire(data: dict[str, Any] | None = None, cvr: Any = None) -> bool:
        dest = destinations.get(getattr(ctl, region))
        if dest is None:
            return bool(stock(ctl, **({} if data is None else {"data": data}),
                              **({} if cvr is None else {"cvr": cvr})))
        step({} if data is None else data, cvr)  # an exception here leaves the state unchanged
        setattr(ctl, region, dest)
        return True
    fire.__name__ = fire.__qualname__ = trigger
    return fire


def bind_journaled_triggers(ctl: StationController, machines: dict[str, Machine]) -> dict[str, JournalStep]:
    """Set each trigger of ``machines`` on ``ctl`` (replacing the ones ``transitions`` bound) and
    return the journal steps by trigger (the machines' ``before_state_change`` runs them too)."""
    steps: dict[str, JournalStep] = {}
    for machine in machines.values():
        for trigger in machine.events:
            steps[trigger] = step = journal_step(ctl, trigger)
            setattr(ctl, trigger, _bound_trigger(ctl, machine, trigger, step))
    return steps
