"""The ballot box: a sheet at the entry is fed, read, decided, then cast into the box or returned.

``BallotBox`` is the ballot-flow half of ``StationController`` (a mixin over the controller's
machine, journal and peripherals). ``handle_paper`` feeds the sheet, has the camera capture it
and the interpreter read it, and applies the pure decision of ``device/ballots/decide.py``:

- *cast*: the ``ballot_cast`` transition stores the cast vote record and its event in one
  transaction — on both media where the store keeps a mirror — and only then is the motor told
  to drop the sheet (into the invalid compartment for an invalid ballot); the drop is journaled
  when the exit sensor confirms it. If the store cannot write, nothing is cast and the box stops
  in a fault until the store writes again;
- *review* (an overvote or a blank ballot the policy returns): the sheet waits in ``deciding``
  with the same ``ballot_read`` record as a ballot cast at once, the reason only on the screen
  (``review_reason``); ``voter_decision`` casts it as it is or gives it back;
- *reject*: returned with the reason; *test*: counted in the test tally (test mode).

A jam or a double feed puts the box in ``jammed``, any other peripheral error in ``error``;
``clear_jam`` / ``clear_fault`` (a poll worker) put the sheet in the box when its cast is recorded,
else back to the voter. ``resolve_paper_at_power_on`` applies the same rule at boot.
``swap_box`` seals the full box: a transition of the ballot region, counted in ``Counters``.
"""
from __future__ import annotations

import random
from abc import abstractmethod
from dataclasses import dataclass
from enum import StrEnum
from typing import TYPE_CHECKING, Any

from device.ballots.decide import BoxPolicy, Decision, Outcome, decide
from device.ballots.records import BallotReading, CastVoteRecord
from device.election.definition import Election, Station
from device.quick_init import quick_init
from device.station.counters import Counters
from device.station.events import ControllerError, OperatorMessage, message
from device.station.machine import Triggers
from device.station.roles import StationAccess
from device.station.store_faults import StoreFaults, store_guarded
from device.station.test_mode import test_ballot_data
from device.store.journal import StoreWriteError
from hardware.interfaces import Camera, CoverOpen, DoubleFeed, PeripheralError, ScannerJam, ScannerTransport

if TYPE_CHECKING:  # the interpreter's module loads OpenCV: not at the controller's import
    from device.ballots.interpreter import SheetInterpreter


class BallotStatus(StrEnum):
    """What the ballot box did with the sheet, as the screen and the simulator read it."""

    CAST = "cast"
    CAST_INVALID = "cast_invalid"
    NEEDS_REVIEW = "needs_review"
    RETURNED = "returned"
    TEST_COUNTED = "test_counted"
    JAMMED = "jammed"
    ERROR = "error"
    REFUSED = "refused"
    PLACED_IN_BOX = "placed_in_box"  # a fault cleared: the recorded cast went into the box
    RETURNED_TO_VOTER = "returned_to_voter"  # a fault cleared: no cast recorded, the sheet went back


# Read once: an enum member costs a class lookup each time it is named (the per-ballot path).
_REJECT, _TEST, _REVIEW, _CAST_INVALID = Outcome.REJECT, Outcome.TEST, Outcome.REVIEW, Outcome.CAST_INVALID
_STATUS_CAST = BallotStatus.CAST


@quick_init
@dataclass(frozen=True)
class BallotOutcome:
    status: BallotStatus
    message: OperatorMessage
    reason: str | None = None


class BallotBox(StoreFaults, Triggers):
    """The ballot flow of ``StationController`` (which provides the attributes declared here)."""

    election: Election
    station: Station
    scanner: ScannerTransport
    camera: Camera
    interpreter: SheetInterpreter
    counters: Counters
    access: StationAccess
    rng: random.Random
    enforce_authorisation: bool
    invalid_compartment: int
    polls: str
    ballot: str
    review_reason: str | None  # overvote | blank while the voter decides
    _pending: tuple[CastVoteRecord, bool] | None  # decided, not yet cast: (record, invalid)
    _box_policy: dict[bool, BoxPolicy]  # testing -> the station's policy

    @abstractmethod
    def _event(self, type_: str, data: dict[str, Any]) -> None: ...

    # --- a sheet at the entry ---------------------------------------------------------------
    def handle_paper(self) -> BallotOutcome:
        """A sheet is at the scanner entry: feed, capture, interpret, then cast or return it
        (in test mode: count a test ballot in the test tally)."""
        if self.polls not in ("polls_open", "testing") or self.ballot != "waiting_for_ballot":
            msg = message("polls_not_open") if self.polls not in ("polls_open", "testing") else \
                message("busy", state=self.ballot)
            return BallotOutcome(BallotStatus.REFUSED, msg, "not_ready")
        if self.store_fault is not None and (refusal := self.store_refusal()) is not None:
            return BallotOutcome(BallotStatus.REFUSED, refusal, "store")
        try:
            return self._scan()
        except StoreWriteError as exc:  # a record of the sheet's way could not be kept
            return self._store_stopped_box(exc)

    def _store_stopped_box(self, exc: StoreWriteError) -> BallotOutcome:
        msg = self.note_store_failure(exc)
        if self.ballot in ("scanning", "deciding", "accepting", "rejecting"):
            self.fault(data={"detail": f"store write failed: {exc}"})
        return BallotOutcome(BallotStatus.ERROR, msg, "store")

    def _scan(self) -> BallotOutcome:
        self.paper_detected()
        testing = self.polls == "testing"
        if self.enforce_authorisation and self.counters.outstanding <= 0 and not testing:
            return self._reject("no_authorisation")
        try:
            self.scanner.feed()
            frame = self.camera.capture()
        except PeripheralError as exc:
            return self._mechanical_failure(exc)
        try:
            reading = self.interpreter.interpret(frame)
        except Exception as exc:  # an interpreter must not raise; if it does, nothing is cast
            reading = BallotReading.rejected("unreadable_marks", f"interpreter error: {exc}")
        return self._apply(decide(reading, self._box_policy[testing]))

    def _apply(self, decision: Decision) -> BallotOutcome:
        """Carry out ``decision``: the record gets its random id only once it is decided."""
        outcome = decision.outcome
        if outcome is _REJECT:
            assert decision.reason is not None
            return self._reject(decision.reason)
        cvr = CastVoteRecord(self._random_id(), self.station.ballot_style, dict(decision.contests))
        if outcome is _TEST:
            return self._count_test_ballot(cvr)
        if outcome is not _REVIEW:
            self._pending = (cvr, outcome is _CAST_INVALID)
            self.ballot_read()
            return self._cast()
        self._pending = (cvr, False)
        self.ballot_read()  # the same record as for a ballot cast at once: no reason journaled
        self.review_reason = decision.reason
        names = ", ".join(self.election.contests[c].title for c in decision.overvoted)
        return BallotOutcome(BallotStatus.NEEDS_REVIEW, message(decision.reason or "", contests=names),
                             decision.reason)

    def _count_test_ballot(self, cvr: CastVoteRecord) -> BallotOutcome:
        """Test mode: the sheet goes into the box, then it is counted in the test tally (a
        motor failure first leaves it uncounted, to be returned when the fault is cleared)."""
        self.ballot_read()
        try:
            self.scanner.accept()
        except PeripheralError as exc:
            return self._mechanical_failure(exc)
        self.test_ballot_counted(data=test_ballot_data(cvr))
        return BallotOutcome(BallotStatus.TEST_COUNTED, message("test_mode"))

    def _random_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    # --- the voter's choice, the cast, the return ------------------------------------------
    def voter_decision(self, cast: bool, assisted: bool = False) -> BallotOutcome:
        """While the voter reviews (``review_reason`` set): cast the ballot as it is, or take it
        back. The voter answers on the unit's own screen without a PIN; ``assisted`` (a poll
        worker answers at the voter's request) needs the poll worker's session — and is not
        journaled, since that would mark this ballot as one that needed review."""
        if assisted:
            self.access.require("review_choice")
        if self.ballot != "deciding" or self.review_reason is None:
            return BallotOutcome(BallotStatus.REFUSED, message("busy", state=self.ballot), "not_in_review")
        self.review_reason = None
        if cast:
            return self._cast()
        try:
            self.voter_took_back()
            self._pending = None
            return self._return_sheet("voter_choice")
        except StoreWriteError as exc:
            return self._store_stopped_box(exc)

    def _cast(self) -> BallotOutcome:
        assert self._pending is not None  # decided by the read or the review choice
        cvr, invalid = self._pending
        try:
            self.ballot_cast(cvr=cvr)  # no data: the journal says nothing of the ballot
        except StoreWriteError as exc:  # nothing cast; the fault stops the box until cleared
            return self._store_stopped_box(exc)
        self._pending = None
        try:
            self.scanner.divert() if invalid else self.scanner.accept()
        except PeripheralError as exc:
            return self._mechanical_failure(exc)
        self.ballot_dropped(data={})
        if invalid:
            return BallotOutcome(BallotStatus.CAST_INVALID, message("cast_invalid"))
        return BallotOutcome(_STATUS_CAST, message("cast"))

    def _reject(self, reason: str) -> BallotOutcome:
        self.ballot_rejected(data={"reason": reason})
        return self._return_sheet(reason)

    def _return_sheet(self, reason: str) -> BallotOutcome:
        try:
            self.scanner.return_sheet()
        except PeripheralError as exc:
            return self._mechanical_failure(exc)
        self.ballot_returned()
        return BallotOutcome(BallotStatus.RETURNED, message(reason), reason)

    # --- jams and faults ---------------------------------------------------------------------
    def _mechanical_failure(self, exc: PeripheralError) -> BallotOutcome:
        if isinstance(exc, (ScannerJam, DoubleFeed)) and self.ballot in ("scanning", "accepting", "rejecting"):
            kind = "double_feed" if isinstance(exc, DoubleFeed) else "jam"
            self.jam(data={"kind": kind, "detail": str(exc)})
            return BallotOutcome(BallotStatus.JAMMED, message(kind), kind)
        detail = "cover open" if isinstance(exc, CoverOpen) else f"{type(exc).__name__}: {exc}"
        self.fault(data={"detail": detail})
        return BallotOutcome(BallotStatus.ERROR, message("fault", detail=detail), "fault")

    def clear_jam(self) -> BallotOutcome:
        """The operator removed the sheet. A recorded cast goes into the box; otherwise the
        sheet goes back to the voter."""
        role = self.access.require("clear_jam")
        if self.ballot != "jammed":
            return BallotOutcome(BallotStatus.REFUSED, message("busy", state=self.ballot), "not_jammed")
        return self._return_after_fault("jam_cleared", role)

    def clear_fault(self) -> BallotOutcome:
        role = self.access.require("clear_fault")
        if self.ballot != "error":
            return BallotOutcome(BallotStatus.REFUSED, message("busy", state=self.ballot), "no_fault")
        if (refusal := self.store_refusal()) is not None:
            return BallotOutcome(BallotStatus.REFUSED, refusal, "store")
        return self._return_after_fault("fault_cleared", role)

    def _return_after_fault(self, trigger: str, role: str | None = None) -> BallotOutcome:
        into_box = self.counters.drop_pending
        resolution = BallotStatus.PLACED_IN_BOX if into_box else BallotStatus.RETURNED_TO_VOTER
        try:
            if self.scanner.status().paper_in_path:  # e.g. at power-on: the motors finish the job
                self.scanner.accept() if into_box else self.scanner.return_sheet()
            self.scanner.reset()
        except PeripheralError as exc:
            return BallotOutcome(BallotStatus.ERROR, message("fault", detail=f"reset failed: {exc}"), "fault")
        try:
            getattr(self, trigger)(data={"resolution": str(resolution), **({"role": role} if role else {})})
        except StoreWriteError as exc:  # the clear is not recorded: the box stays in its fault
            return BallotOutcome(BallotStatus.ERROR, self.note_store_failure(exc), "store")
        self._pending = None
        self.review_reason = None
        return BallotOutcome(resolution, message(resolution), resolution)

    def resolve_paper_at_power_on(self) -> None:
        """Boot: a ballot in flight at the power loss. Cast recorded, drop not confirmed
        (``accepting``): the sheet belongs in the box. No cast recorded: it goes back to the
        voter (``waiting_for_ballot`` with a sheet in the path: the scan's records were lost)."""
        state = self.ballot
        if state == "waiting_for_ballot":  # the records of a scan in progress were not committed
            try:
                in_path = self.scanner.status().paper_in_path
                if in_path:
                    self.scanner.return_sheet()
            except PeripheralError as exc:
                self._event("power_on_paper_resolved", {"state": state, "resolution": "unresolved",
                                                        "detail": str(exc)})
                return
            if in_path:
                self._event("power_on_paper_resolved", {"state": state, "resolution": "returned"})
        elif state == "accepting":  # cast recorded: the sheet belongs in the box
            try:
                in_path = self.scanner.status().paper_in_path
                if in_path:
                    self.scanner.accept()
            except PeripheralError as exc:
                self._mechanical_failure(exc)
                return
            self._event("power_on_paper_resolved", {"state": state, "resolution": "box",
                                                    "paper_in_path": in_path})
            self.ballot_dropped(data={"at_power_on": True})
        elif state in ("scanning", "deciding", "rejecting"):
            self._event("power_on_paper_resolved", {"state": state, "resolution": "returned"})
            self.fault(data={"detail": "power loss with a sheet in flight"})
            self._return_after_fault("fault_cleared")

    # --- the full box ------------------------------------------------------------------------
    def sheets_in_box(self) -> int:
        """Sheets in the ballot box now: cast, less the invalid compartment, less sealed boxes."""
        return self.counters.cast - self.invalid_compartment - self.counters.sheets_sealed

    @store_guarded
    def swap_box(self) -> int:
        """Poll worker: the full ballot box was sealed and replaced by an empty one. Journaled
        (``ballot_box_swapped``, with the sheets sealed and the role) as a transition of the
        ballot region while no sheet is in the path (else ``ControllerError``, busy); returns
        the number of sheets sealed."""
        role = self.access.require("swap_box")
        if self.ballot not in ("inactive", "waiting_for_ballot"):
            raise ControllerError(message("busy", state=self.ballot))
        sheets = self.sheets_in_box()
        self.ballot_box_swapped(data={"sheets": sheets, "role": role})
        return sheets
