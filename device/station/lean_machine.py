"""``transitions``' Machine without the per-trigger work the station's machines never use.

A stock ``transitions`` trigger builds a ``functools.partial``, passes it through the machine's
queue check, and on the way to the state change walks seven callback lists (prepare, conditions,
before, exit, enter, after, finalize — all empty on the station's machines) and makes ten
logging calls. That is ~5.8 µs per trigger on this machine, and a national simulation fires
tens of millions of them.

``LeanMachine`` plugs into the library's own extension point (``Machine.event_cls``) and takes
a short path when — and only when — nothing on it would differ: no queue, no
``prepare_event`` / ``finalize_event`` / ``on_exception`` callbacks on the machine, one
transition for the trigger in the current state, with no ``prepare`` / ``conditions`` /
``before`` / ``after``, no ``on_exit`` on the source state, no ``on_enter`` and not ``final``
on the destination. The short path runs the machine's ``before_state_change`` callbacks (an
exception there leaves the state unchanged, as in the stock path), sets the state, then runs
``after_state_change``. Anything else — an invalid trigger, a state with callbacks, a queued
machine, two transitions to try — takes the stock path unchanged. The short path reads the
library's attributes behind their properties (a call each). The tables, the diagram,
``may_<trigger>``, ``is_<state>`` and the replay are all still ``transitions``'.

``tests/test_lean_machine.py`` drives a stock ``Machine`` and a ``LeanMachine`` with the same
random trigger sequences (hypothesis), with and without callbacks of every kind, and requires
the same states, the same callback calls and the same errors. The dependency is pinned to
``transitions>=0.9.2,<0.10`` because the short path mirrors 0.9's ``Event._trigger`` and
``Transition.execute`` and reads 0.9's attributes.
"""
from __future__ import annotations

from typing import Any

from transitions import Event, EventData, Machine


class LeanEvent(Event):
    def trigger(self, model: object, *args: Any, **kwargs: Any) -> bool:
        # The machine's and the states' attributes are read where the library keeps them (the
        # properties around them cost a call each, six per trigger): ``transitions`` 0.9.
        machine = self.machine
        if machine._queued or machine._prepare_event or machine._finalize_event or machine._on_exception:
            return super().trigger(model, *args, **kwargs)
        value = getattr(model, machine.model_attribute)
        candidates = self.transitions.get(value) if type(value) is str else None
        # invalid here, an Enum-valued state, or more than one transition to try: the stock path
        if not candidates or len(candidates) != 1:
            return super().trigger(model, *args, **kwargs)
        transition = candidates[0]
        if transition.prepare or transition.conditions or transition.before or transition.after \
                or transition.dest is None:  # (an internal transition: these tables have none)
            return super().trigger(model, *args, **kwargs)
        states = machine.states
        source, dest = states[value], states[transition.dest]
        if dest.on_enter or dest.final or source.on_exit:
            return super().trigger(model, *args, **kwargs)
        event_data = EventData(source, self, machine, model, args, kwargs)
        event_data.transition = transition
        # Machine.callback(func, event_data) hands a callable the event data (send_event) and
        # resolves a name first: the callable is called directly, a name goes through it
        direct = machine.send_event
        for func in machine._before_state_change:  # an exception here leaves the state unchanged
            if direct and type(func) is not str:
                func(event_data)  # type: ignore[operator]  # (not a str: a callable)
            else:
                machine.callback(func, event_data)
        setattr(model, machine.model_attribute, dest._name)
        event_data.state = dest
        for func in machine._after_state_change:
            machine.callback(func, event_data)
        event_data.result = True
        return True


class LeanMachine(Machine):
    event_cls = LeanEvent
