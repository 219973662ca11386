"""Pre-election testing (logic and accuracy): the test tally of a unit in test mode.

The election manager puts a unit whose polls have never opened into test mode (polls state
``testing``, ``device/station/machine.py``). The ballot box then takes only *test* ballots —
the layout's test flag, printed in the QR code (``ballotbox ballots render --test``) — and each
one is journaled as ``test_ballot_counted`` with its marks, which the ``TestTally`` counts.
Test ballots are not votes: they are a deck prepared with known marks, so unlike a cast ballot
their content is journaled, and they never reach the cast vote records, the results or the
export's tally. Leaving test mode (``end_test``, election manager) prints the test report and
resets the test tally to zero; real polls open only from ``election_loaded``, so never with a
test ballot counted. A test ballot is counted as the live tally would count it (overvotes and
blanks are shown on the report), without the voter's review.

The tally is rebuilt from the journal at boot through the same ``apply`` as live, so a power
cut in test mode loses nothing.
"""
from __future__ import annotations

from typing import Any

from device.ballots.records import CastVoteRecord
from device.election.definition import Election
from device.results.tally import Results, tally_station


def test_ballot_data(cvr: CastVoteRecord) -> dict[str, Any]:
    """The journal data of a counted test ballot: style and marks (no id: nothing to link)."""
    return {"style": cvr.ballot_style,
            "marks": {cid: {"chosen": list(sel), "as": st} for cid, (sel, st) in sorted(cvr.contests.items())}}


class TestTally:
    """Test ballots counted since test mode started (empty outside test mode)."""

    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        self.ballots: list[CastVoteRecord] = []

    def apply(self, trigger: str, data: dict) -> None:
        if trigger in ("start_test", "end_test"):
            self.ballots = []
        elif trigger == "test_ballot_counted":
            contests = {cid: (tuple(m["chosen"]), m["as"]) for cid, m in data["marks"].items()}
            self.ballots.append(CastVoteRecord(f"test-{len(self.ballots) + 1:06d}", data["style"], contests))

    def __len__(self) -> int:
        return len(self.ballots)

    def results(self, election: Election, station_id: str) -> Results:
        return tally_station(election, station_id, self.ballots)
