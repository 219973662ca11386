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
cut in test mode loses nothing. ``TestModeActions`` is the election manager's side of it on the
controller: ``enter_test_mode``, ``print_test_report``, ``leave_test_mode``.
"""
from __future__ import annotations

from abc import abstractmethod
from collections.abc import Callable
from typing import Any

from device.ballots.records import CastVoteRecord
from device.election.definition import Election, Station
from device.results.tally import Results, tally_station
from device.station.events import ControllerError, OperatorMessage, message
from device.station.machine import Triggers
from device.station.reports import test_report_slip
from device.station.roles import StationAccess
from device.station.store_faults import StoreFaults, store_guarded
from hardware.interfaces import Slip


def test_ballot_data(cvr: CastVoteRecord) -> dict[str, Any]:
    """The journal data of a counted test ballot: style and marks (no id: nothing to link)."""
    return {"style": cvr.ballot_style,
            "marks": {cid: {"chosen": list(sel), "as": st} for cid, (sel, st) in sorted(cvr.contests.items())}}


# The only transitions that change the test tally (``TestTally.apply`` ignores the rest).
TEST_TALLY_TRIGGERS = frozenset({"start_test", "end_test", "test_ballot_counted"})


class TestTally:
    """Test ballots counted since test mode started (empty outside test mode)."""

    __test__ = False  # not a pytest class

    def __init__(self) -> None:
        self.ballots: list[CastVoteRecord] = []

    def apply(self, trigger: str, data: dict[str, Any]) -> None:
        """Count a transition (one of ``TEST_TALLY_TRIGGERS``; any other changes nothing)."""
        if trigger in ("start_test", "end_test"):
            self.ballots = []
        elif trigger == "test_ballot_counted":
            contests = {cid: (tuple(m["chosen"]), m["as"]) for cid, m in data["marks"].items()}
            self.ballots.append(CastVoteRecord(f"test-{len(self.ballots) + 1:06d}", data["style"], contests))

    def __len__(self) -> int:
        return len(self.ballots)

    def results(self, election: Election, station_id: str) -> Results:
        return tally_station(election, station_id, self.ballots)


class TestModeActions(StoreFaults, Triggers):
    """The election manager's test mode on ``StationController`` (which provides the attributes
    declared here)."""

    __test__ = False  # not a pytest class
    election: Election
    station: Station
    access: StationAccess
    clock: Callable[[], float]
    test_tally: TestTally
    polls: str
    ballot: str

    @abstractmethod
    def load(self) -> None: ...

    @abstractmethod
    def _event(self, type_: str, data: dict[str, Any]) -> None: ...

    @abstractmethod
    def _print(self, slip: Slip) -> bool: ...

    @store_guarded
    def enter_test_mode(self) -> OperatorMessage:
        """Election manager: before the polls ever open, take test ballots into a test tally."""
        role = self.access.require("set_test_mode")
        self.load()
        if self.polls != "election_loaded":
            raise ControllerError(message("busy", state=self.polls))
        self.start_test(data={"role": role})
        self.start_scanning()
        return message("test_mode")

    @store_guarded
    def print_test_report(self) -> Results:
        """Print the report of the test ballots counted so far (test mode only)."""
        if self.polls != "testing":
            raise ControllerError(message("nothing_to_reprint", report="test report"))
        results = self.test_tally.results(self.election, self.station.id)
        self._print(test_report_slip(self.election, self.station, results, self.clock()))
        self._event("test_report_printed", {"test_ballots": results.ballots_cast})
        return results

    @store_guarded
    def leave_test_mode(self) -> Results:
        """Election manager: print the test report, reset the test tally to zero and leave test
        mode (journaled with the number of test ballots reset); the polls may then open."""
        role = self.access.require("reset_test_tally")
        if self.polls != "testing":
            raise ControllerError(message("busy", state=self.polls))
        if self.ballot not in ("waiting_for_ballot", "inactive"):
            raise ControllerError(message("busy", state=self.ballot))
        results = self.print_test_report()
        if self.ballot == "waiting_for_ballot":
            self.stop_scanning()
        self.end_test(data={"role": role, "test_ballots_reset": len(self.test_tally)})
        return results
