"""The simulator's fast paths draw exactly what the plain code drew, and the per-ballot cost
stays bounded (issue #23 §3).

``plan_station_day`` draws document numbers in one pass and the common one-mark contest with
``bisect`` instead of ``random.choices``; ``LogicalPaper`` makes named-tuple frames. A national
run must stay byte-identical for a seed, so each fast path is checked against the plain
version it replaced (kept here as the reference), on seeded inputs. The cost per ballot is
counted, not timed (``sim/bench/national_cost.py``): Python calls per ballot (deterministic for
a seed, a few seconds) and, in ``make test-slow``, instructions under cachegrind.
"""
from __future__ import annotations

import random

import pytest

from sim.paper.logical_paper import LogicalFrame, LogicalPaper
from sim.national.generator import national_election
from sim.day.voters import _DOCUMENT_CHARS, _document_numbers, _weighted_sample, choose_marks, plan_station_day


@pytest.fixture(scope="module")
def national():
    return national_election("cambodia-2022-national")


def reference_choose_marks(election, station_id, scenario, rng, allow_spoil=True):
    """``choose_marks`` as it was written before the fast path (random.choices per voter)."""
    district = election.stations[station_id].district
    contests = election.contests_at_station(station_id)
    if allow_spoil and rng.random() < scenario.blank_rate:
        return {c.id: () for c in contests}
    marks = {}
    for c in contests:
        if allow_spoil and rng.random() < scenario.overvote_rate and c.vote_for < len(c.choices):
            k = c.vote_for + 1
        elif c.vote_for > 1 and rng.random() < scenario.undervote_rate:
            k = rng.randint(0, c.vote_for - 1)
        else:
            k = c.vote_for
        if k == 1:
            names, cum = scenario.draw_table(election, district, c.id)
            marks[c.id] = (rng.choices(names, cum_weights=cum)[0],)
        else:
            marks[c.id] = _weighted_sample(scenario.weights(election, district, c.id), k, rng)
    return marks


def test_document_numbers_are_the_numbers_random_choices_drew():
    for seed in range(20):
        fast, plain = random.Random(seed), random.Random(seed)
        numbers = _document_numbers(fast, 57)
        assert numbers == ["".join(plain.choices(_DOCUMENT_CHARS, k=9)) for _ in range(57)]
        assert fast.random() == plain.random()  # the stream is left where the plain code left it


def test_choose_marks_draws_as_random_choices_did(national):
    election = national.election
    for sid in national.station_ids[:: max(1, len(national.station_ids) // 40)]:
        scenario = national.scenarios[election.stations[sid].district]
        fast, plain = random.Random(sid), random.Random(sid)
        for n in range(300):
            spoil = n % 7 != 0
            assert choose_marks(election, sid, scenario, fast, spoil) == \
                reference_choose_marks(election, sid, scenario, plain, spoil)
        assert fast.random() == plain.random()


def test_choose_marks_multi_seat_contests_unchanged():
    from device.election.definition import load_election
    from sim.day.voters import Scenario

    election = load_election("demo")  # contests with vote_for > 1: the undervote and sample paths
    scenario = Scenario("stress", {"blank_rate": 0.05, "overvote_rate": 0.2, "undervote_rate": 0.3}, {})
    for sid in election.stations:
        fast, plain = random.Random(sid), random.Random(sid)
        for _ in range(500):
            assert choose_marks(election, sid, scenario, fast) == reference_choose_marks(election, sid, scenario, plain)


def test_a_station_day_is_the_same_for_a_seed(national):
    election = national.election
    sid = national.station_ids[3]
    scenario = national.scenarios[election.stations[sid].district]
    roll_a, day_a = plan_station_day(election, sid, national.registered[sid], scenario, random.Random(5))
    roll_b, day_b = plan_station_day(election, sid, national.registered[sid], scenario, random.Random(5))
    assert day_a == day_b and roll_a.to_csv() == roll_b.to_csv()
    _, other = plan_station_day(election, sid, national.registered[sid], scenario, random.Random(6))
    assert other != day_a


def test_logical_frames_are_values_read_once(national):
    paper = LogicalPaper(national.election)
    style = next(iter(national.election.ballot_styles))
    contest = next(iter(national.election.ballot_styles[style].contests))
    a = paper.make_sheet(style, {contest: ["x", "y"]}, random.Random(1))
    b = paper.make_sheet(style, {contest: ("x", "y")}, random.Random(2))
    assert isinstance(a, LogicalFrame) and a == b and hash(a) == hash(b)
    assert a.marks == ((contest, ("x", "y")),)
    assert paper.interpreter.interpret(a) is paper.interpreter.interpret(b)
    with pytest.raises(AttributeError):
        a.kind = "test_ballot"  # type: ignore[misc]


# --- the per-ballot cost, counted (sim/bench/national_cost.py) -----------------------------
# Bounds a little above what the code does today (118.7 firmware calls, none in transitions:
# the controller's bound triggers, device/station/journaled_triggers.py; 176.7 in all; 317.6k
# instructions); the code before issue 23 §3's fourth round made 172.3 firmware calls (163.7 in
# device/, 8.6 in transitions), 242.4 in all and 451-458k instructions per ballot (the third
# round's start: 167.0 firmware, 263.5 in all, 497,196 instructions; the second's: 315.2, 433.6,
# 665,775). Those figures were counted through pstats, which merged the generated __init__ of
# every dataclass (all "<string>", line 2) into one, so "all" then depended on what had run
# before in the process (164.7 alone, 169.5 after the power-loss tests). Counted per code object
# now: branch speed3 made 113.6 firmware calls and 187.3 in all; the simulator's day loop
# (sim/day/station.py visitor_at, logical frames kept, the arrival drawn inline) 181.4 in all;
# the memory store's append_event as its chain's one writer function (device/store/journal.py
# kept_writer) 109.5 firmware, 177.3 in all.
FIRMWARE_CALLS_PER_BALLOT = 112
ALL_CALLS_PER_BALLOT = 180
INSTRUCTIONS_PER_BALLOT = 340_000


def test_python_calls_per_ballot_stay_bounded():
    """Python calls per ballot cast over 5 seeded Cambodian station days: deterministic, so a
    bound that fails when the per-ballot path grows (old code: 172.3 firmware, 242.4 in all;
    speed3: 113.6, 187.3 counted per code object)."""
    from sim.bench.national_cost import calls_per_ballot

    calls = calls_per_ballot(5)
    firmware = calls["firmware (device/)"] + calls["transitions"]
    assert firmware <= FIRMWARE_CALLS_PER_BALLOT, calls
    assert calls["all"] <= ALL_CALLS_PER_BALLOT, calls


@pytest.mark.slow
def test_instructions_per_ballot_stay_bounded():
    """CPU instructions per ballot under cachegrind, 15 station days (two valgrind runs, ~2 min;
    old code: 451-458k)."""
    import shutil

    from sim.bench.national_cost import instructions_per_ballot

    if shutil.which("valgrind") is None:
        pytest.skip("valgrind is not installed")
    assert instructions_per_ballot(15) <= INSTRUCTIONS_PER_BALLOT
