"""LeanMachine behaves exactly like transitions' Machine: same states, callbacks and errors."""
from __future__ import annotations

import pytest
from hypothesis import given, settings, strategies as st
from transitions import Machine
from transitions.core import MachineError

from device.station.lean_machine import LeanMachine
from device.station.machine import REGIONS, all_triggers, build_machines

TRIGGERS = all_triggers()
# Callback placements that the short path must hand back to the stock path.
EXTRAS = ["none", "condition", "unless", "prepare", "before", "after", "on_enter", "on_exit",
          "prepare_event", "finalize_event", "after_state_change", "final", "queued", "on_exception",
          "callable_before", "no_send_event", "two_transitions"]


class Model:
    def __init__(self, fail_on: frozenset[str]):
        self.log: list[tuple] = []
        self.fail_on = fail_on

    def _state(self):
        return tuple(getattr(self, r) for r in REGIONS)

    def before(self, event):
        self.log.append(("before", event.event.name, event.state.name, self._state(), event.args, event.kwargs,
                         event.transition.source, event.transition.dest))
        if event.event.name in self.fail_on:
            raise RuntimeError(f"refused {event.event.name}")

    def before_args(self, *args, **kwargs):  # send_event=False: the trigger's own arguments
        self.log.append(("before_args", self._state(), args, kwargs))

    def note(self, event):
        self.log.append(("note", event.event.name, event.state.name, self._state()))

    def allow(self, event):
        self.log.append(("allow", event.event.name))
        return len(self.log) % 3 != 0

    def on_error(self, event):
        self.log.append(("error", type(event.error).__name__))


def build(cls, extra: str, fail_on: frozenset[str]) -> Model:
    model = Model(fail_on)
    for region, spec in REGIONS.items():
        transitions = [dict(t) for t in spec["transitions"]]
        states: list = list(spec["states"])
        kwargs = {}
        if extra in ("condition", "unless", "prepare", "before", "after"):
            key = {"condition": "conditions"}.get(extra, extra)
            transitions[1][key] = "allow" if extra in ("condition", "unless") else "note"
        elif extra in ("on_enter", "on_exit"):
            states[1] = {"name": states[1], extra: "note"}
        elif extra == "final":
            states[-1] = {"name": states[-1], "final": True}
            kwargs["on_final"] = "note"
        elif extra in ("prepare_event", "finalize_event", "after_state_change"):
            kwargs[extra] = "note"
        elif extra == "queued":
            kwargs["queued"] = True
        elif extra == "on_exception":
            kwargs["on_exception"] = "on_error"
        elif extra == "two_transitions":  # a second, guarded transition for the same trigger
            transitions.insert(0, {**transitions[1], "conditions": "allow", "dest": spec["initial"]})
        before = {"callable_before": model.before, "no_send_event": "before_args"}.get(extra, "before")
        cls(model=model, states=states, transitions=transitions, initial=spec["initial"],
            model_attribute=region, auto_transitions=False, send_event=extra != "no_send_event",
            before_state_change=before, **kwargs)
    return model


def run(cls, extra, fail_on, sequence):
    model = build(cls, extra, fail_on)
    outcomes = []
    for trigger in sequence:
        try:
            outcomes.append(getattr(model, trigger)(len(outcomes), data={"n": len(outcomes)}))
        except MachineError as err:
            outcomes.append(("MachineError", str(err)))
        except RuntimeError as err:
            outcomes.append(("RuntimeError", str(err)))
        outcomes.append(model._state())
    return outcomes, model.log


@pytest.mark.parametrize("extra", EXTRAS)
@settings(max_examples=60, deadline=None)
@given(fail_on=st.frozensets(st.sampled_from(TRIGGERS), max_size=3),
       sequence=st.lists(st.sampled_from(TRIGGERS), max_size=40))
def test_lean_machine_equals_stock_machine(extra, fail_on, sequence):
    # the polls must open for most triggers to be valid: lead most sequences there
    sequence = ["load_election", "open_polls", "start_checkin", "start_scanning"] + sequence
    assert run(LeanMachine, extra, fail_on, sequence) == run(Machine, extra, fail_on, sequence)


def test_the_short_path_is_taken_by_the_station_machines():
    """The station's tables declare nothing that would send a trigger down the stock path: a
    stock-only step (logging) never runs. Fails if a callback sneaks into the tables."""
    import transitions.core as core

    class Model:
        pass

    calls = []

    class Spy:
        def __getattr__(self, name):
            return lambda *a, **k: calls.append(name)

    model = Model()
    build_machines(model)
    saved, core._LOGGER = core._LOGGER, Spy()
    try:
        for t in ["load_election", "open_polls", "start_checkin", "start_scanning", "authorise",
                  "paper_detected", "ballot_read", "ballot_cast", "ballot_dropped"]:
            getattr(model, t)(data={})
    finally:
        core._LOGGER = saved
    assert (model.polls, model.voter, model.ballot) == ("polls_open", "authorised", "waiting_for_ballot")
    assert calls == []
