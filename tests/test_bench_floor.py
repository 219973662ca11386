"""The benchmarks' floor measurements still drive the station's real triggers (a renamed
trigger once broke ``make bench``'s controller section without any test noticing)."""
from __future__ import annotations

from device.election.definition import load_election
from sim.bench.controller import _one_day
from sim.bench.national import bare_trigger_seconds, record_hash_seconds, transitions_per_ballot
from sim.day.voters import load_scenario


def test_floor_measurements_run_on_the_station_tables():
    assert bare_trigger_seconds(20, stock=True) > 0
    assert bare_trigger_seconds(20, stock=False) > 0
    assert record_hash_seconds(20) > 0


def test_a_ballot_costs_about_five_journaled_transitions():
    election = load_election("cambodia-2022")
    cast, _, day = _one_day(election, load_scenario(None, election, "cambodia-2022"), 1, 60)
    assert cast > 30
    assert 4.9 < transitions_per_ballot(day) < 5.5  # authorise + 4 at the ballot box, a few refusals
