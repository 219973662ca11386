"""``transitions``' Machine without the per-trigger work the station's machines never use.

A stock ``transitions`` trigger builds a ``functools.partial``, passes it through the machine's
queue check, and on the way to the state change walks seven callback lists (prepare, conditions,
before, exit, enter, after, finalize — all empty on the station's machines) and makes ten
logging calls. That is ~5.8 µs per trigger on this machine, and a national simulation fires
tens of millions of them.

``LeanMachine`` plugs into the library's own extension points (``Machine.event_cls`` and
``Machine.transition_cls``) and takes a short path when — and only when — nothing on it would
differ: no queue, no ``prepare_event`` / ``finalize_event`` / ``on_exception`` callbacks on the
machine, no ``prepare`` / ``conditions`` / ``before`` / ``after`` on the transition, no
``on_exit`` on the source state, no ``on_enter`` and not ``final`` on the destination. The
short path runs the machine's ``before_state_change`` callbacks (an exception there leaves the
state unchanged, as in the stock path), sets the state, then runs ``after_state_change``.
Anything else — an invalid trigger, a state with callbacks, a queued machine — takes the stock
path unchanged. The tables, the diagram, ``may_<trigger>``, ``is_<state>`` and the replay are
all still ``transitions``'.

``tests/test_lean_machine.py`` drives a stock ``Machine`` and a ``LeanMachine`` with the same
random trigger sequences (hypothesis), with and without callbacks of every kind, and requires
the same states, the same callback calls and the same errors. The dependency is pinned to
``transitions>=0.9.2,<0.10`` because the short path mirrors 0.9's ``Event._trigger`` and
``Transition.execute``.
"""
from __future__ import annotations

from typing import Any

from transitions import Event, EventData, Machine, Transition


class LeanTransition(Transition):
    def execute(self, event_data: EventData) -> bool:
        machine = event_data.machine
        if self.prepare or self.conditions or self.before or self.after:
            return super().execute(event_data)
        states = machine.states
        if self.dest is None:  # an internal transition: the stock path (these tables have none)
            return super().execute(event_data)
        dest = states[self.dest]
        if dest.on_enter or dest.final or states[self.source].on_exit:
            return super().execute(event_data)
        for func in machine.before_state_change:
            machine.callback(func, event_data)
        setattr(event_data.model, machine.model_attribute, dest.value)
        event_data.state = dest
        for func in machine.after_state_change:
            machine.callback(func, event_data)
        return True


class LeanEvent(Event):
    def trigger(self, model: object, *args: Any, **kwargs: Any) -> bool:
        machine = self.machine
        if machine.has_queue or machine.prepare_event or machine.finalize_event or machine.on_exception:
            return super().trigger(model, *args, **kwargs)
        value = getattr(model, machine.model_attribute)
        candidates = self.transitions.get(value) if type(value) is str else None
        if not candidates:  # invalid here, or an Enum-valued state: the stock path decides
            return super().trigger(model, *args, **kwargs)
        event_data = EventData(machine.states[value], self, machine, model, args, kwargs)
        for transition in candidates:
            event_data.transition = transition
            if transition.execute(event_data):
                event_data.result = True
                break
        return bool(event_data.result)


class LeanMachine(Machine):
    event_cls = LeanEvent
    transition_cls = LeanTransition
