"""Tally conventions, the invariant, verdicts, and aggregation of stations into districts and nation."""
import pytest

from device.ballots.records import BLANK, INVALID, OVERVOTE, UNDERVOTE, VALID, CastVoteRecord
from device.election.definition import load_election
from device.results.tally import ContestTally, TallyInvariantError, aggregate, majority_verdict, tally_station


def cvr(i, style, **contests):
    return CastVoteRecord(f"{i:032x}", style, contests)


def test_conventions_and_invariant():
    e = load_election("demo")
    ballots = [
        cvr(1, "north-ballot", council=(("GRN",), VALID), mayor=(("m-amara",), VALID), parks=(("p-dara",), UNDERVOTE)),
        cvr(2, "north-ballot", council=((), BLANK), mayor=(("m-amara", "m-bolat"), OVERVOTE), parks=((), BLANK)),
        cvr(3, "north-ballot", council=((), INVALID), mayor=((), INVALID), parks=((), INVALID)),
    ]
    r = tally_station(e, "north-1", ballots)
    assert r.ballots_cast == 3
    parks = r.contests["parks"]
    assert (parks.votes["p-dara"], parks.undervotes, parks.blank, parks.invalid) == (1, 1 + 2, 1, 1)
    mayor = r.contests["mayor"]
    assert (mayor.overvotes, sum(mayor.votes.values()), mayor.ballots_counted) == (1, 1, 2)
    for t in r.contests.values():
        assert sum(t.votes.values()) + t.undervotes + t.overvotes == t.ballots_counted * t.vote_for


def test_broken_invariant_is_caught():
    t = ContestTally("x", 1, {"a": 5}, ballots_counted=3)
    with pytest.raises(TallyInvariantError, match="contest x"):
        t.check_invariant()


def test_majority_runoff_verdicts():
    assert majority_verdict(ContestTally("p", 1, {"a": 51, "b": 49}, 100))["winner"] == "a"
    tie = majority_verdict(ContestTally("p", 1, {"a": 50, "b": 30, "c": 20}, 100))
    assert tie["winner"] is None and tie["runoff"] == ["a", "b"]  # exactly 50% is not a majority


def test_aggregation_into_districts_and_nation_allocates_seats_per_district():
    e = load_election("cambodia-2022")
    stations = {}
    for n, sid in enumerate(["teuk-laak-1-1", "teuk-laak-1-2", "chbar-mon-1"]):
        ballots = [cvr(n * 1000 + i, "commune", council=(("CPP",) if i % 3 else ("CP",), VALID)) for i in range(30 + n)]
        stations[sid] = tally_station(e, sid, ballots)
    totals = aggregate(e, stations.values())
    tl = totals["district:teuk-laak-1"]
    assert tl.ballots_cast == 30 + 31
    assert tl.contests["council"].votes["CPP"] == stations["teuk-laak-1-1"].contests["council"].votes["CPP"] + \
        stations["teuk-laak-1-2"].contests["council"].votes["CPP"]
    assert sum(tl.outcome("council")["seats"].values()) == 11
    assert sum(totals["district:chbar-mon"].outcome("council")["seats"].values()) == 5
    assert totals["national"].ballots_cast == 30 + 31 + 32
    assert totals["national"].outcome("council") is None  # seats are allocated per commune only


def test_majority_verdict_share_and_an_empty_contest():
    won = majority_verdict(ContestTally("p", 1, {"b": 2, "a": 1}, 3))
    assert won == {"winner": "b", "share": 0.666667, "runoff": None}
    tied = majority_verdict(ContestTally("p", 1, {"b": 40, "a": 40, "c": 20}, 100))
    assert tied["runoff"] == ["a", "b"]  # equal votes: ranked by id, so a recount gives the same pair
    empty = majority_verdict(ContestTally("p", 1, {"a": 0, "b": 0}, 0))
    assert empty["winner"] is None and empty["runoff"] is None


def test_merging_station_tallies_equals_tallying_all_their_ballots():
    e = load_election("cambodia-2022")
    statuses = [("CPP",), ("CP",), ()]
    a = [cvr(i, "commune", council=(statuses[i % 3], VALID if statuses[i % 3] else "blank")) for i in range(13)] + \
        [cvr(50, "commune", council=(("CPP", "CP"), OVERVOTE)), cvr(51, "commune", council=((), INVALID))]
    b = [cvr(100 + i, "commune", council=(("CPP", "CP"), OVERVOTE)) for i in range(4)] + \
        [cvr(200 + i, "commune", council=((), INVALID)) for i in range(3)] + \
        [cvr(300 + i, "commune", council=(("FUNCINPEC",), VALID)) for i in range(2)]
    one, two = tally_station(e, "teuk-laak-1-1", a), tally_station(e, "teuk-laak-1-2", b)
    merged = aggregate(e, [one, two])["district:teuk-laak-1"]
    together = tally_station(e, "teuk-laak-1-1", a + b)
    assert merged.ballots_cast == together.ballots_cast == 24
    m, t = merged.contests["council"], together.contests["council"]
    assert (m.votes, m.undervotes, m.overvotes, m.blank, m.invalid, m.ballots_counted) == \
        (t.votes, t.undervotes, t.overvotes, t.blank, t.invalid, t.ballots_counted)
    assert (m.overvotes, m.invalid, m.blank) == (5, 4, 4)
