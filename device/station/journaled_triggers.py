"""The controller's triggers, bound once each: the write-ahead journal record and the state change in one call.

A trigger of the station's machines, even on ``LeanMachine``'s short path, builds an
``EventData`` per call and hands it to the machine's ``before_state_change`` callback, which
then reads back what is constant for the trigger: its name, its rule across regions
(``CROSS_REGION``), whether its time is kept to the minute and whether it is durable (the event
catalog), how it counts (``COUNTING_RULES``), whether it touches the test tally. A ballot fires
five journaled transitions and a national run some 37 million. So those constants are read
once per process (``trigger_specs``), and ``bind_journaled_triggers`` sets on the controller,
for every trigger, a function that journals and then changes the state.

It does exactly what the ``LeanMachine`` short path does with the controller's one
``before_state_change`` callback: the journal record first — if writing it raises, the state
does not change — then the region's state becomes the destination. The destinations are read
from the machines ``build_machines`` makes (the tables of ``machine.py``, which also draw the
diagram and drive the auditor's replay), and only where the short path would take them: one
transition from the state, without conditions or callbacks, no ``on_exit`` / ``on_enter`` /
``final`` on its states, on a machine without a queue, event callbacks or
``after_state_change`` (none of these tables has any). Every other call — a trigger the current
state does not allow, above all — goes to ``transitions``' own trigger on the controller's
machines, unchanged, so an invalid trigger still raises ``MachineError`` with the journal
untouched; their ``before_state_change`` calls the same function in its journal-only mode. The
controller builds its three machines only then (``StationController.machines``: ~0.2 ms a
unit, which a national run of 23,602 units rarely needs).

``tests/test_journaled_triggers.py`` drives a controller through these functions and one
through ``transitions``' triggers with the same random sequences and requires the same
journals, states, counters and errors.
"""
from __future__ import annotations

from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, NamedTuple

from transitions import Machine

from device.station.counters import COUNTING_RULES, CountingRule
from device.station.events import ControllerError, coarse_time_events, durable_events, message
from device.station.machine import CROSS_REGION, REGIONS, build_machines, cross_region_problem
from device.station.test_mode import TEST_TALLY_TRIGGERS
from device.store.journal import StoreWriteError

if TYPE_CHECKING:
    from device.station.controller import StationController

JournaledTrigger = Callable[..., bool]  # (data=None, cvr=None): journal, then change the state


class TriggerSpec(NamedTuple):
    """What is constant about one trigger, for every controller (read once per process)."""

    region: str
    destinations: dict[str, str]  # source state -> destination, where the short path applies (read only)
    rule: tuple[tuple[str, tuple[str, ...]], ...]  # CROSS_REGION: (region, states it may fire from)
    coarse: bool  # its time is kept to the minute
    durable: bool
    counting: CountingRule | None
    test_tally: bool  # it changes the test tally


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


@lru_cache(maxsize=1)
def trigger_specs() -> dict[str, TriggerSpec]:
    """Every trigger's ``TriggerSpec``, the destinations read from the machines ``build_machines``
    makes (built once here, on a model of their own: the tables are the same for every unit)."""
    class _Template:
        pass

    coarse, durable = coarse_time_events(), durable_events()
    return {trigger: TriggerSpec(machine.model_attribute, _short_path_destinations(machine, trigger),
                                 tuple(CROSS_REGION.get(trigger, {}).items()), trigger in coarse,
                                 trigger in durable, COUNTING_RULES.get(trigger), trigger in TEST_TALLY_TRIGGERS)
            for machine in build_machines(_Template()).values() for trigger in machine.events}


def journaled_trigger(ctl: StationController, trigger: str, spec: TriggerSpec) -> JournaledTrigger:
    """``trigger`` on ``ctl``: where the short path applies, check the rules across regions,
    journal the record (the cast vote record with ``ballot_cast``: both durable before the sheet
    drops), count it, then change the state; anywhere else, ``transitions``' own trigger. The
    machines' ``before_state_change`` calls it with ``_journal_only`` (its state change is
    ``transitions``'). Replaying the journal at boot only counts."""
    region, destinations, rule, coarse, durable, count, test_tally = spec  # (count: its counting rule)
    cast, fault = trigger == "ballot_cast", trigger == "fault"
    attributes = vars(ctl)  # the regions' states are plain attributes: read and set here directly

    def fire(data: dict[str, Any] | None = None, cvr: Any = None, _journal_only: bool = False) -> bool:
        if _journal_only:
            dest = None
        elif (dest := destinations.get(attributes[region])) is None:  # transitions' own path
            return bool(ctl.machines[region].events[trigger].trigger(
                ctl, **({} if data is None else {"data": data}), **({} if cvr is None else {"cvr": cvr})))
        if data is None:
            data = {}
        # the write-ahead record: an exception from here on leaves the state unchanged
        if not ctl._replaying:
            for other, allowed in rule:
                if (state := getattr(ctl, other)) not in allowed:
                    raise ControllerError(message("busy", state=cross_region_problem(trigger, other, state)))
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
        if dest is not None:
            attributes[region] = dest
        return True
    fire.__name__ = fire.__qualname__ = trigger
    return fire


def bind_journaled_triggers(ctl: StationController) -> None:
    """Set every trigger of the station's machines on ``ctl`` (``journaled_trigger``)."""
    for trigger, spec in trigger_specs().items():
        setattr(ctl, trigger, journaled_trigger(ctl, trigger, spec))


def initial_states() -> dict[str, str]:
    """Each region's initial state (the machines' ``initial``)."""
    return {region: spec["initial"] for region, spec in REGIONS.items()}
