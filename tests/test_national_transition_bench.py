"""The bench's breakdown of a journaled transition drives the real controller's bound triggers
(a renamed trigger or store method would break ``python -m sim.bench national`` otherwise)."""
from sim.bench.national_transition import REST, VOTER_TRANSITIONS, describe, transition_breakdown
from device.station.machine import all_triggers


def test_the_breakdown_runs_the_voters_transitions_and_prints_each_part():
    assert set(VOTER_TRANSITIONS) <= set(all_triggers())
    parts = transition_breakdown(n=40)
    assert parts["transition, as fired"] > 0 and parts["record bytes"] > 0 and parts["SHA-256"] > 0
    assert REST in parts and "scanner twin, per ballot" in parts
    lines = describe(parts, 5.08)
    assert lines[0].startswith("a journaled transition as the controller fires it:")
    assert len(lines) == 1 + 5 + 1 + sum(name.endswith("per ballot") for name in parts)
