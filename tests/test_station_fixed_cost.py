"""The per-station work of a national run, made cheaper without changing a result (issue 23 §3).

Each fast path is checked against the plain code it replaced: the bulk draw of document numbers
against ``random.random()``, the voter roll's CSV (hashed at every open) against ``csv.writer``,
the OpenSSL HMAC of the pseudonyms against ``hmac``; and a played station day leaves next to
nothing for the garbage collector to find (``_let_go``, and no ``transitions`` machines built
for a day that never needs them), so that the collection after each station has nothing to walk.
"""
from __future__ import annotations

import csv
import gc
import hashlib
import hmac
import io
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from device.election.pseudonym import VoterPseudonyms
from device.election.voter_roll import COLUMNS, Voter, VoterRoll
from sim.day.voters import _BULK_DRAWS, _DOCUMENT_CHARS, _document_numbers, _random_floats


@pytest.mark.parametrize("n", [1, 2, 63, 64, 65, 999, 4000])
def test_bulk_draws_are_the_draws_of_random(n):
    for seed in range(5):
        bulk, plain = random.Random(seed), random.Random(seed)
        assert _random_floats(bulk, n).tolist() == [plain.random() for _ in range(n)]
        assert bulk.getstate() == plain.getstate()  # left where n calls of random() leave it


def test_document_numbers_drawn_in_bulk_are_random_choices():
    for count in (1, _BULK_DRAWS // 9, _BULK_DRAWS // 9 + 1, 480):
        bulk, plain = random.Random(count), random.Random(count)
        assert _document_numbers(bulk, count) == ["".join(plain.choices(_DOCUMENT_CHARS, k=9))
                                                  for _ in range(count)]
        assert bulk.random() == plain.random()


def _csv_writer_text(voters: list[Voter]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerow(COLUMNS)
    writer.writerows((v.voter_id, v.document_number, v.station_id) for v in voters)
    return buf.getvalue()


_FIELD = st.text(alphabet=st.sampled_from(['a', 'Z', '0', ',', '"', '\n', '\r', ' ', '\t', 'é', "'"]),
                 max_size=5)


@settings(max_examples=400, deadline=None)
@given(st.lists(st.tuples(_FIELD, _FIELD, _FIELD), max_size=5))
def test_voter_roll_csv_is_csv_writers(rows):
    roll = VoterRoll.__new__(VoterRoll)  # any fields, even ones a roll would refuse
    roll.voters = [Voter(*row) for row in rows]
    assert roll.to_csv() == _csv_writer_text(roll.voters)


def test_voter_roll_hash_of_a_plain_roll_is_unchanged():
    voters = [Voter(f"s-V{i:06d}", f"AB{i:07d}", "s") for i in range(300)]
    text = _csv_writer_text(voters)
    assert VoterRoll(voters).sha256() == hashlib.sha256(text.encode()).hexdigest()


def test_pseudonyms_are_hmac_sha256():
    key = bytes(range(32))
    pseudonyms = VoterPseudonyms(key)
    for voter in ("x", "banteay-meanchey-001-001-V000123", "é" * 40):
        assert pseudonyms.of(voter) == hmac.new(key, voter.encode(), hashlib.sha256).hexdigest()[:32]


def test_a_played_station_leaves_little_for_the_collector():
    """Once ``run_station`` returns, the day's journal, records, roll and sheets are freed by
    reference counting, and the unit's ``transitions`` machines (the last cycles, ~390 objects
    a station) are never built for a day without an invalid trigger: after a first station
    (imports, caches), a collection finds next to nothing (old code: 386 objects; before
    ``_let_go``, ~4,400)."""
    from sim.national.generator import national_election
    from sim.national.station_run import run_station

    national = national_election("cambodia-2022-national")
    run_station(national, national.station_ids[3], 1)  # caches, the trigger specs' template machines
    sid = national.station_ids[2]
    collecting = gc.isenabled()
    gc.disable()
    try:
        gc.collect()
        result = run_station(national, sid, 1)
        found = gc.collect()
    finally:
        if collecting:
            gc.enable()
    assert result["matches_intent"] and result["ballots_cast"] > 200
    assert found < 100, found


def test_the_bench_splits_a_station_into_its_fixed_steps_and_its_visitors():
    from sim.bench.national_fixed import STEPS, VISITORS, describe, station_fixed_cost
    from sim.national.generator import national_election

    cost = station_fixed_cost(national_election("cambodia-2022-national").station_ids[:3])
    steps = cost["steps"]
    assert set(steps) == {*STEPS, VISITORS} and cost["ballots"] > 600
    assert abs(sum(steps.values()) - cost["cpu"]) < 1e-9
    assert all(steps[s] > 0 for s in ("plan the day", "build the unit", "open", "close", "result", VISITORS))
    assert cost["fixed"] > 0  # how the two compare is the bench's figure, not a test's (CPU time varies)
    lines = describe(cost)
    assert lines[0].startswith("per-station fixed cost (3 Cambodian station days") and len(lines) == 1 + len(steps)
