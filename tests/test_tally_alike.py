"""``Results.add_cvrs`` counts the records that read alike together (issue 23 §3): hypothesis
requires the figures and the order of contests of adding every record on its own, with records
read back from JSON (lists, unhashable) mixed in, and the same error for an unknown status."""
import hypothesis.strategies as st
import pytest
from hypothesis import given, settings

from device.ballots.records import BLANK, INVALID, OVERVOTE, UNDERVOTE, VALID, CastVoteRecord
from device.election.definition import load_election
from device.results.tally import Results

ELECTION = load_election("demo")
STATUSES = (VALID, UNDERVOTE, OVERVOTE, BLANK, INVALID)


@st.composite
def records(draw):
    contests = {}
    for cid in draw(st.lists(st.sampled_from(sorted(ELECTION.contests)), unique=True, max_size=3)):
        choices = ELECTION.contests[cid].choice_ids()
        picked = draw(st.lists(st.sampled_from(choices), unique=True, max_size=2))
        from_json = draw(st.booleans()) and draw(st.integers(0, 9)) == 0  # now and then a list
        contests[cid] = (list(picked) if from_json else tuple(picked), draw(st.sampled_from(STATUSES)))
    return CastVoteRecord(f"{draw(st.integers(0, 2**64)):032x}", "north-ballot", contests)


def one_by_one(cvrs):
    r = Results(ELECTION, "station:north-1", "north")
    for cvr in cvrs:
        r.add_cvr(cvr)
    return r


@settings(max_examples=150, deadline=None)
@given(st.lists(records(), max_size=40))
def test_records_read_alike_count_as_one_by_one(cvrs):
    alike = Results(ELECTION, "station:north-1", "north")
    alike.add_cvrs(cvrs)
    plain = one_by_one(cvrs)
    assert alike.ballots_cast == plain.ballots_cast == len(cvrs)
    assert list(alike.contests) == list(plain.contests)  # the order of contests too
    assert {c: t.to_json() for c, t in alike.contests.items()} == {c: t.to_json() for c, t in plain.contests.items()}


def test_an_unknown_status_is_refused_as_before():
    bad = CastVoteRecord("0" * 32, "north-ballot", {"mayor": (("m-amara",), "maybe")})
    for add in (lambda r: r.add_cvrs([bad]), lambda r: r.add_cvr(bad)):
        with pytest.raises(ValueError, match="unknown contest status 'maybe'"):
            add(Results(ELECTION, "station:north-1", "north"))
