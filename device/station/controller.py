"""The station controller: the firmware's state machine driving the ID desk and the ballot box.

``StationController`` binds the three regions of ``device/station/machine.py`` (polls, voter,
ballot) to itself and reacts to the operator (``open``, ``pause``, ``resume``, ``close``,
``clear_jam``, ``clear_fault``, ``reprint``; the election manager's ``reopen``,
``enter_test_mode``, ``leave_test_mode``, ``export``), to the ID reader (``present_id``) and
to the scanner (``handle_paper`` when a sheet is at the entry; ``voter_decision`` when a ballot
needs the voter's choice).

Roles are checked here, where the action happens, not only on the screen: every operator
method first asks ``access.require(action)`` (``device/station/roles.py``: the policy, PINs,
sessions, lockouts) and raises ``AccessDenied`` when the session's role may not act; the role
goes into the transition's journal record. Simulations pass their own access
(``sim/unit/access.py``: standing sessions); the firmware has no PIN-less path. Lockouts are rebuilt
from the journal at boot. Reopening closed polls (``reopen_polls``) leaves them paused with
the ballots kept; the results tape then says how many times the polls were reopened. Test mode
(``device/station/test_mode.py``) counts test ballots apart from the votes.

Write-ahead journaling: every transition writes its journal record in the machines'
``before_state_change`` callback — if the write fails, the state does not change. The rules
across regions (``CROSS_REGION`` in ``device/station/machine.py``) are checked there too.

Secrecy of the journal: a check-in record carries the voter's keyed pseudonym
(``device/election/pseudonym.py``), never an id; no record says anything about a ballot's
content or validity — an OK ballot and one waiting for the voter's review both enter
``deciding`` with a ``ballot_read`` record without data, ``ballot_cast`` and ``ballot_dropped``
carry no compartment, and the times of the voter and ballot flows are recorded to the minute
(``coarse_time`` in the catalog). The review reason is shown live (``review_reason``) and the
invalid-compartment count comes from the cast vote records. At close the store is compacted so
that the database file does not keep the order in which records were written. Records of
events marked ``durable = false`` in the catalog (scan progress, returns, drop confirmations)
are committed with the next durable one (group commit: two fsyncs per voter, at check-in and
at cast). The
``ballot_cast`` transition stores the cast vote record and its event in one transaction
(``StationStore.cast_ballot``), and only then is the motor told to drop the sheet; the drop is
journaled when the exit sensor confirms it. If the store cannot write, casting stops with an
operator message until the fault is cleared.

Boot replays the journal through the same machines (no side effects) to rebuild the state and
the counters, then resolves a ballot that was in flight at power loss by this rule:
- cast recorded, drop not confirmed (``accepting``): the sheet belongs in the box — it is
  dropped if still in the path, otherwise the drop is recorded as having happened;
- no cast recorded (``scanning``, ``deciding``, ``rejecting``, or ``waiting_for_ballot``
  with a sheet in the path because the scan's records were not yet committed): the sheet is
  returned to the voter, who may insert it again.
So the sheets in the box always equal the cast records.
"""
from __future__ import annotations

import random
from dataclasses import dataclass
from typing import Any, Callable, Protocol

from device.ballots.records import BLANK, INVALID, OVERVOTE, BallotReading, CastVoteRecord, contest_status
from device.election.definition import Election
from device.election.pseudonym import VoterPseudonyms
from device.station.counters import Counters
from device.station.events import OperatorMessage, coarse_time_events, durable_events, message
from device.election.identity import IdDocumentError, parse_id_record
from device.station.reports import paused_slip, results_slip, test_report_slip, zero_report_slip
from device.station.machine import Triggers, build_machines, cross_region_violation, region_of_trigger
from device.station.roles import ACCESS_EVENTS, StationAccess
from device.station.test_mode import TestTally, test_ballot_data
from device.results.signed_results import build_results_message, sign_results
from device.store.outbox import Outbox
from device.store.signing import append_checkpoint
from device.station.store_faults import StoreFaults, store_guarded as _store_guarded
from device.store.journal import StationStore, StoreWriteError
from device.results.tally import Results, tally_station
from device.election.voter_roll import VoterRoll
from hardware.interfaces import (Camera, CoverOpen, DoubleFeed, IdRecord, PeripheralError, Printer,
                                 ScannerJam, ScannerTransport)

UNREADABLE = ("fiducials_missing", "unreadable_code", "unreadable_marks")


# How far a close of polls got, from the journal: (event, or (checkpoint, reason)) -> stage.
_CLOSE_STAGES: dict[str | tuple[str, Any], str | None] = {"close_polls": "closed", ("checkpoint", "polls_close"): "signed",
                 "results_printed": "printed", "reopen_polls": None}


class BallotInterpreter(Protocol):
    def interpret(self, frame: Any) -> BallotReading: ...


class Signer(Protocol):
    def sign(self, data: bytes) -> bytes: ...
    def public_key_hex(self) -> str: ...


class ControllerError(RuntimeError):
    """An operator action that is not possible in the current state (message says why)."""

    def __init__(self, msg: OperatorMessage):
        self.operator_message = msg
        super().__init__(msg.text)


@dataclass(frozen=True)
class CheckInResult:
    outcome: str  # authorised | not_on_roll | other_station | already_voted | invalid_document | polls_not_open
    message: OperatorMessage
    voter_id: str | None = None

    @property
    def authorised(self) -> bool:
        return self.outcome == "authorised"


@dataclass(frozen=True)
class BallotOutcome:
    status: str  # cast | cast_invalid | needs_review | returned | jammed | error | refused
    message: OperatorMessage
    reason: str | None = None


class StationController(StoreFaults, Triggers):
    def __init__(self, election: Election, station_id: str, roll: VoterRoll, store: StationStore,
                 *, scanner: ScannerTransport, camera: Camera, interpreter: BallotInterpreter,
                 printer: Printer | None = None, clock: Callable[[], float],
                 pseudonym_key: bytes, access: StationAccess, rng: random.Random | None = None,
                 signer: Signer | None = None, enforce_authorisation: bool = True,
                 mode: str = "live"):
        if station_id not in election.stations:
            raise ValueError(f"unknown station {station_id!r}")
        self.election, self.station = election, election.stations[station_id]
        self.roll, self.store = roll, store
        self.scanner, self.camera, self.interpreter, self.printer = scanner, camera, interpreter, printer
        # Record ids must not be predictable on a device (they would give away the cast order):
        # the OS CSPRNG by default; simulations pass a seeded random.Random to reproduce a day.
        self.clock, self.rng, self.signer = clock, rng or random.SystemRandom(), signer
        self.enforce_authorisation = enforce_authorisation
        self.pseudonyms = VoterPseudonyms(pseudonym_key)
        self.mode = mode  # "live" or "test": signed into the results message
        self.signed_results: dict | None = None  # the signed results message, once polls close
        self.outbox_fault: OperatorMessage | None = None  # the message could not be kept to send
        self.counters = Counters()
        self.test_tally = TestTally()
        self.access = access
        # Once the unit runs, its access records go through the controller: their times keep the
        # journal's order, and a store failure refuses the PIN action instead of raising.
        access.journal = self._event
        # Sheets cast into the invalid compartment: counted from the cast vote records at boot
        # and at each cast, never from the journal (which does not know a ballot's validity).
        self.invalid_compartment = sum(c.invalid for c in store.cast_vote_records())
        self.review_reason: str | None = None  # overvote | blank while the voter decides
        self.printer_fault: OperatorMessage | None = None  # the last slip that could not print
        self.polls = self.voter = self.ballot = ""  # set by the machines
        self._pending: tuple[CastVoteRecord, bool] | None = None  # decided, not yet cast
        self.store_fault = None  # device/station/store_faults.py
        self._unwritten_fault = None
        self._replaying = False
        self._close_stage: str | None = None  # closed -> signed -> printed (see _finish_close)
        self._regions = region_of_trigger()
        self._durable = durable_events()
        self._coarse = coarse_time_events()
        self.machines = build_machines(self)
        for m in self.machines.values():
            m.before_state_change = [self._journal_transition]
        self._boot()

    # --- journal ------------------------------------------------------------------------
    def _journal_transition(self, event) -> None:
        """Write-ahead: the record is durable before the state changes (or the change fails)."""
        trigger, data = event.event.name, event.kwargs.get("data", {})
        if not self._replaying:
            problem = cross_region_violation(self, trigger)
            if problem is not None:
                raise ControllerError(message("busy", state=problem))
            at = self.clock()
            if trigger in self._coarse:  # to the minute, never before the last record
                at -= at % 60
                last = self.store.head_at
                if at < last:
                    at = last
            if trigger == "ballot_cast":
                cvr = event.kwargs["cvr"]
                self.store.cast_ballot(cvr, data, at)
                self.invalid_compartment += cvr.invalid
            else:
                try:
                    self.store.append_event(trigger, data, at, durable=trigger in self._durable)
                except StoreWriteError as exc:
                    if trigger != "fault":
                        raise
                    self.note_store_failure(exc)  # the fault is entered even if it cannot be
                    self._unwritten_fault = (data, at)  # written: journaled at recovery
        self.counters.apply(trigger, data)
        self.test_tally.apply(trigger, data)

    def _time(self, coarse: bool) -> float:
        """The time of a new record: to the minute for the voter and ballot flows (``coarse``),
        never before the last record's (journal times do not decrease; the injected clock does
        not go back, so an exact time never comes before an earlier record)."""
        at = self.clock()
        if coarse:
            at -= at % 60
            return max(at, self.store.head_at)
        return at

    def _event(self, type_: str, data: dict) -> None:
        """A record outside the machine (access, reports). A store failure refuses the action
        with the store fault; the end of a session is not refused (nothing depends on it)."""
        if self.store_fault is not None and type_ == "session_ended":
            return
        if (refusal := self.store_refusal()) is not None:
            raise ControllerError(refusal)
        try:
            self.store.append_event(type_, data, self._time(coarse=False))
        except StoreWriteError as exc:
            if type_ != "session_ended":
                raise ControllerError(self.note_store_failure(exc)) from None

    def _boot(self) -> None:
        head = None
        self._replaying = True
        access_records = []
        try:
            for head in self.store.events():
                if head.type in ACCESS_EVENTS:
                    access_records.append(head)
                if head.type in self._regions:
                    getattr(self, head.type)(data=head.data, cvr=None)
                self._close_stage = _CLOSE_STAGES.get(
                    (head.type, head.data.get("reason")) if head.type == "checkpoint" else head.type,
                    self._close_stage)
        finally:
            self._replaying = False
        self.access.restore(access_records)  # a restart gives no fresh PIN attempts
        if head is not None and type(self.rng) is random.Random:
            # A seeded (simulation) generator restarted with the same seed would draw the same
            # record ids again: continue from the journal head instead. A device's
            # SystemRandom is left alone.
            self.rng = random.Random(f"{self.rng.getrandbits(128)}|{head.hash}")
        self._event("unit_started", {"replayed_records": head.seq if head else 0,
                                     "station": self.station.id})
        self._resume_after_power_loss()

    def _resume_after_power_loss(self) -> None:
        if self.polls == "polls_closed":  # a close cut short: sign, print, compact as close() does
            self._finish_close()
            return
        if self.polls == "polls_open":
            if self.voter == "inactive":
                self.start_checkin()
            if self.ballot == "inactive":
                self.start_scanning()
        if self.polls == "testing" and self.ballot == "inactive":
            self.start_scanning()
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

    # --- polls lifecycle ------------------------------------------------------------------
    def load(self) -> None:
        if self.polls != "setup":
            return
        self.load_election(data={"election_id": self.election.id, "election_hash": self.election.hash,
                                 "station": self.station.id, "roll_sha256": self.roll.sha256()})

    @_store_guarded
    def open(self) -> OperatorMessage:
        """Print the zero report and open the polls; refused unless every total is zero (and
        never from test mode: leaving it resets the test tally first). The polls open only once
        the zero report is on paper: a printer fault (no paper) is journaled as ``printer_fault``
        and the polls stay closed until ``open`` is asked again and the report prints."""
        role = self.access.require("open_polls")
        self.load()
        if self.polls != "election_loaded":
            raise ControllerError(message("busy", state=self.polls))
        count = len(self.store.cast_vote_records())
        if count or self.counters.cast:
            self._event("open_polls_refused", {"recorded_ballots": count})
            raise ControllerError(message("open_refused_nonzero", count=count))
        results = self.results()
        if not self._print(zero_report_slip(self.election, self.station, results, self.clock())):
            assert self.printer_fault is not None  # _print keeps why it could not
            raise ControllerError(self.printer_fault)  # no zero report on paper, no open polls
        self._event("zero_report_printed", {"ballots_cast": results.ballots_cast})
        self.open_polls(data={"role": role})
        self._checkpoint("polls_open")
        self.start_checkin()
        self.start_scanning()
        return message("polls_open")

    @_store_guarded
    def pause(self) -> None:
        role = self.access.require("pause_polls")
        self._stop_flows()
        self.pause_polls(data={"role": role})
        self._print(paused_slip(self.election, self.station, "paused", self.clock(), self.counters))

    @_store_guarded
    def resume(self) -> None:
        role = self.access.require("resume_polls")
        self.resume_polls(data={"role": role})
        self.start_checkin()
        self.start_scanning()
        self._print(paused_slip(self.election, self.station, "resumed", self.clock(), self.counters))

    @_store_guarded
    def close(self) -> Results:
        """Close the polls, tally from the stored cast vote records and print the results tape."""
        role = self.access.require("close_polls")
        if self.polls == "polls_open":
            self._stop_flows()
        self.close_polls(data={"role": role})
        self._close_stage = "closed"
        return self._finish_close()

    def _finish_close(self) -> Results:
        """The steps after ``close_polls`` that have not happened yet (all of them at a close; the
        rest after a power cut during one): the signed checkpoint, the results tape with its
        ``results_printed`` record (totals only: invalid ballots are counted at the close, never
        per ballot), and the compaction that erases the order of writes from the database. A tape
        the printer could not print is journaled as ``printer_fault``; the next boot or a
        ``reprint("results")`` prints it and only then journals ``results_printed``."""
        results = self.results()
        if self._close_stage == "closed":
            self._checkpoint("polls_close")
            self._close_stage = "signed"
        if self._close_stage == "signed":
            self.signed_results = self._sign_results(results)
            self._print_results(results, self.signed_results)
        self.store.compact()
        return results

    @_store_guarded
    def reopen(self) -> OperatorMessage:
        """Election manager: reopen closed polls. They come back paused with every ballot kept;
        a poll worker resumes them, and the next close signs a new results message (its
        sequence one higher) whose tape says the polls were reopened."""
        role = self.access.require("reopen_polls")
        if self.polls != "polls_closed":
            raise ControllerError(message("busy", state=self.polls))
        self.reopen_polls(data={"role": role})
        self._close_stage = None
        self.signed_results = None
        self._print(paused_slip(self.election, self.station, "reopened", self.clock(), self.counters))
        return message("polls_reopened")

    # --- pre-election testing (device/station/test_mode.py) --------------------------------
    @_store_guarded
    def enter_test_mode(self) -> OperatorMessage:
        """Election manager: before the polls ever open, take test ballots into a test tally."""
        role = self.access.require("set_test_mode")
        self.load()
        if self.polls != "election_loaded":
            raise ControllerError(message("busy", state=self.polls))
        self.start_test(data={"role": role})
        self.start_scanning()
        return message("test_mode")

    @_store_guarded
    def print_test_report(self) -> Results:
        """Print the report of the test ballots counted so far (test mode only)."""
        if self.polls != "testing":
            raise ControllerError(message("nothing_to_reprint", report="test report"))
        results = self.test_tally.results(self.election, self.station.id)
        self._print(test_report_slip(self.election, self.station, results, self.clock()))
        self._event("test_report_printed", {"test_ballots": results.ballots_cast})
        return results

    @_store_guarded
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

    # --- reports and export -------------------------------------------------------------
    @_store_guarded
    def reprint(self, report: str) -> None:
        """Poll worker: print the ``zero`` report again (polls open, nothing cast since) or the
        ``results`` tape again (polls closed); journaled with the role."""
        role = self.access.require("reprint")
        if report == "zero" and self.polls == "polls_open" and self.counters.cast == 0:
            printed = self._print(zero_report_slip(self.election, self.station, self.results(),
                                                   self.clock()))
        elif report == "results" and self.polls == "polls_closed":
            results = self.results()
            signed = self.signed_results or self._sign_results(results)
            if self._close_stage == "signed":  # the tape never printed: this is its first print
                self._print_results(results, signed)
                return
            printed = self._print(results_slip(self.election, self.station, results,
                                               self.reconciliation(), self.clock(), signed))
        else:
            raise ControllerError(message("nothing_to_reprint", report=f"{report} report"))
        if printed:
            self._event("report_reprinted", {"report": report, "role": role})

    @_store_guarded
    def export(self, out_dir) -> dict:
        """Election manager: write the unit's export for auditors (``device/results/exports.py``)."""
        from device.results.exports import export_unit
        role = self.access.require("export")
        if self.signer is None:
            raise ControllerError(message("fault", detail="this unit has no key to sign an export"))
        return export_unit(self.store, self.election, out_dir, self.signer, station_id=self.station.id,
                           at=self.clock(), role=role)

    def _stop_flows(self) -> None:
        if self.ballot not in ("waiting_for_ballot", "inactive"):
            raise ControllerError(message("busy", state=self.ballot))
        if self.ballot == "waiting_for_ballot":
            self.stop_scanning()
        if self.voter != "inactive":
            self.stop_checkin()

    def _sign_results(self, results: Results) -> dict | None:
        """The signed results message, kept in the store's outbox for the central tally.

        Its sequence is the number of polls-close checkpoints in the journal (persistent, one
        more at every close) and its journal head is the last of them: both are fixed once the
        checkpoint is written, so a close resumed after a power cut signs the very same message
        (Ed25519 is deterministic) and the outbox keeps it once. No key, no message: the tape
        then says it is unsigned."""
        if self.signer is None:
            return None
        closes = [r for r in self.store.events()
                  if r.type == "checkpoint" and r.data.get("reason") == "polls_close"]
        unsigned = build_results_message(
            self.election, self.station.id, results, self.reconciliation(),
            (closes[-1].seq, closes[-1].hash), public_key_hex=self.signer.public_key_hex(),
            mode=self.mode, sequence=len(closes))
        signed = sign_results(unsigned, self.signer)
        path = self.store.path
        if path is not None:  # a durable store: the outbox lives beside the journal
            try:
                with Outbox(path) as outbox:
                    outbox.put(signed, self.clock())
            except StoreWriteError as exc:  # the tape still prints; the operator is told
                self.outbox_fault = message("store_write_failed", detail=str(exc))
        return signed

    def _checkpoint(self, reason: str) -> None:
        if self.signer is not None:
            append_checkpoint(self.store, self.signer, reason, self.clock())

    def _print(self, slip) -> bool:
        """Print ``slip``: True when it is on paper (or the unit has no printer). A printer error
        is kept for the operator (``printer_fault``) and journaled with the report's kind."""
        if self.printer is None:
            return True
        try:
            self.printer.print_slip(slip)
        except PeripheralError as exc:
            self.printer_fault = message("fault", detail=f"printer: {exc}")
            self._event("printer_fault", {"report": slip.kind, "detail": str(exc)})
            return False
        return True

    def _print_results(self, results: Results, signed: dict | None) -> None:
        """The results tape; ``results_printed`` only once it is on paper."""
        if self._print(results_slip(self.election, self.station, results, self.reconciliation(),
                                    self.clock(), signed)):
            self._event("results_printed", {"ballots_cast": results.ballots_cast,
                                            "invalid_compartment": self.invalid_compartment})
            self._close_stage = "printed"

    # --- voter flow -----------------------------------------------------------------------
    def present_id(self, record: IdRecord) -> CheckInResult:
        if self.polls != "polls_open" or self.voter == "inactive":
            return CheckInResult("polls_not_open", message("polls_not_open"))
        if (refusal := self.store_refusal()) is not None:
            return CheckInResult("store_fault", refusal)
        try:
            return self._check_in(record)
        except StoreWriteError as exc:  # nothing recorded: the voter is not checked in
            return CheckInResult("store_fault", self.note_store_failure(exc))

    def _check_in(self, record: IdRecord) -> CheckInResult:
        try:
            doc = parse_id_record(record)
        except IdDocumentError as exc:
            return self._refuse("invalid_document", message("invalid_document", detail=exc.detail))
        voter = self.roll.lookup(doc.document_number)
        if voter is None:
            return self._refuse("not_on_roll", message("not_on_roll"))
        pseudonym = self.pseudonyms.of(voter.voter_id)
        if voter.station_id != self.station.id:
            other = self.election.stations[voter.station_id]
            return self._refuse("other_station", message("other_station", station=other.id,
                                                         station_name=other.name),
                                voter.voter_id, {"voter": pseudonym, "station": other.id})
        if pseudonym in self.counters.checked_in:
            return self._refuse("already_voted", message("already_voted"), voter.voter_id,
                                {"voter": pseudonym})
        self.authorise(data={"voter": pseudonym})
        return CheckInResult("authorised", message("authorised", voter_id=voter.voter_id), voter.voter_id)

    def _refuse(self, reason: str, msg: OperatorMessage, voter_id: str | None = None,
                extra: dict | None = None) -> CheckInResult:
        """Journal the refusal (reason and pseudonym, never the id); show the id on screen."""
        self.refuse(data={"reason": reason, **(extra or {})})
        return CheckInResult(reason, msg, voter_id)

    # --- ballot flow ----------------------------------------------------------------------
    def handle_paper(self) -> BallotOutcome:
        """A sheet is at the scanner entry: feed, capture, interpret, then cast or return it
        (in test mode: count a test ballot in the test tally)."""
        if self.polls not in ("polls_open", "testing") or self.ballot != "waiting_for_ballot":
            msg = message("polls_not_open") if self.polls not in ("polls_open", "testing") else \
                message("busy", state=self.ballot)
            return BallotOutcome("refused", msg, "not_ready")
        if (refusal := self.store_refusal()) is not None:
            return BallotOutcome("refused", refusal, "store")
        try:
            return self._scan()
        except StoreWriteError as exc:  # a record of the sheet's way could not be kept
            return self._store_stopped_box(exc)

    def _store_stopped_box(self, exc: StoreWriteError) -> BallotOutcome:
        msg = self.note_store_failure(exc)
        if self.ballot in ("scanning", "deciding", "accepting", "rejecting"):
            self.fault(data={"detail": f"store write failed: {exc}"})
        return BallotOutcome("error", msg, "store")

    def _scan(self) -> BallotOutcome:
        self.paper_detected()
        if self.enforce_authorisation and self.counters.outstanding <= 0 and self.polls != "testing":
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
        return self._decide(reading)

    def _decide(self, reading: BallotReading) -> BallotOutcome:
        policy = self.election.policy
        if reading.rejection is not None:
            if reading.rejection in UNREADABLE and policy["unreadable"] == "accept-invalid":
                style = self.station.ballot_style
                cvr = CastVoteRecord(self._random_id(), style,
                                     {c.id: ((), INVALID) for c in self.election.contests_for_style(style)})
                return self._ready(cvr, invalid=True)
            return self._reject(reading.rejection)
        if reading.test_ballot != (self.polls == "testing"):
            return self._reject("test_ballot" if reading.test_ballot else "official_ballot_in_test_mode")
        if reading.ballot_style != self.station.ballot_style:
            return self._reject("wrong_style")
        statuses = {}
        for contest in self.election.contests_for_style(reading.ballot_style):
            cr = reading.contests.get(contest.id)
            sel = cr.selections if cr else ()
            statuses[contest.id] = (tuple(sel), contest_status(len(sel), contest.vote_for))
        overvoted = [cid for cid, (_, st) in statuses.items() if st == OVERVOTE]
        all_blank = all(st == BLANK for _, st in statuses.values())
        if overvoted and policy["overvote"] == "accept-invalid":
            for cid in overvoted:
                statuses[cid] = (statuses[cid][0], INVALID)
        elif all_blank and policy["blank"] == "accept-invalid":
            statuses = {cid: (sel, INVALID) for cid, (sel, _) in statuses.items()}
        invalid = any(st == INVALID for _, st in statuses.values())
        cvr = CastVoteRecord(self._random_id(), reading.ballot_style, statuses)
        if self.polls == "testing":
            return self._count_test_ballot(cvr)
        review = "overvote" if overvoted and policy["overvote"] == "return" else \
            "blank" if all_blank and policy["blank"] == "return" else None
        if review is None:
            return self._ready(cvr, invalid)
        self._pending = (cvr, False)
        self.ballot_read()  # the same record as for a ballot cast at once: no reason journaled
        self.review_reason = review
        names = ", ".join(self.election.contests[c].title for c in overvoted)
        return BallotOutcome("needs_review", message(review, contests=names), review)

    def _count_test_ballot(self, cvr: CastVoteRecord) -> BallotOutcome:
        """Test mode: the sheet goes into the box, then it is counted in the test tally (a
        motor failure first leaves it uncounted, to be returned when the fault is cleared)."""
        self.ballot_read()
        try:
            self.scanner.accept()
        except PeripheralError as exc:
            return self._mechanical_failure(exc)
        self.test_ballot_counted(data=test_ballot_data(cvr))
        return BallotOutcome("test_counted", message("test_mode"))

    def _random_id(self) -> str:
        return f"{self.rng.getrandbits(128):032x}"

    def _ready(self, cvr: CastVoteRecord, invalid: bool) -> BallotOutcome:
        self._pending = (cvr, invalid)
        self.ballot_read()
        return self._cast()

    def voter_decision(self, cast: bool, assisted: bool = False) -> BallotOutcome:
        """While the voter reviews (``review_reason`` set): cast the ballot as it is, or take it
        back. The voter answers on the unit's own screen without a PIN; ``assisted`` (a poll
        worker answers at the voter's request) needs the poll worker's session — and is not
        journaled, since that would mark this ballot as one that needed review."""
        if assisted:
            self.access.require("review_choice")
        if self.ballot != "deciding" or self.review_reason is None:
            return BallotOutcome("refused", message("busy", state=self.ballot), "not_in_review")
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
        return BallotOutcome("cast_invalid" if invalid else "cast",
                             message("cast_invalid" if invalid else "cast"))

    def _reject(self, reason: str) -> BallotOutcome:
        self.ballot_rejected(data={"reason": reason})
        return self._return_sheet(reason)

    def _return_sheet(self, reason: str) -> BallotOutcome:
        try:
            self.scanner.return_sheet()
        except PeripheralError as exc:
            return self._mechanical_failure(exc)
        self.ballot_returned()
        return BallotOutcome("returned", message(reason), reason)

    def _mechanical_failure(self, exc: PeripheralError) -> BallotOutcome:
        if isinstance(exc, (ScannerJam, DoubleFeed)) and self.ballot in ("scanning", "accepting", "rejecting"):
            kind = "double_feed" if isinstance(exc, DoubleFeed) else "jam"
            self.jam(data={"kind": kind, "detail": str(exc)})
            return BallotOutcome("jammed", message(kind), kind)
        detail = "cover open" if isinstance(exc, CoverOpen) else f"{type(exc).__name__}: {exc}"
        self.fault(data={"detail": detail})
        return BallotOutcome("error", message("fault", detail=detail), "fault")

    def clear_jam(self) -> BallotOutcome:
        """The operator removed the sheet. A recorded cast goes into the box; otherwise the
        sheet goes back to the voter."""
        role = self.access.require("clear_jam")
        if self.ballot != "jammed":
            return BallotOutcome("refused", message("busy", state=self.ballot), "not_jammed")
        return self._return_after_fault("jam_cleared", role)

    def clear_fault(self) -> BallotOutcome:
        role = self.access.require("clear_fault")
        if self.ballot != "error":
            return BallotOutcome("refused", message("busy", state=self.ballot), "no_fault")
        if (refusal := self.store_refusal()) is not None:
            return BallotOutcome("refused", refusal, "store")
        return self._return_after_fault("fault_cleared", role)

    def _return_after_fault(self, trigger: str, role: str | None = None) -> BallotOutcome:
        into_box = self.counters.drop_pending
        resolution = "placed_in_box" if into_box else "returned_to_voter"
        try:
            if self.scanner.status().paper_in_path:  # e.g. at power-on: the motors finish the job
                self.scanner.accept() if into_box else self.scanner.return_sheet()
            self.scanner.reset()
        except PeripheralError as exc:
            return BallotOutcome("error", message("fault", detail=f"reset failed: {exc}"), "fault")
        try:
            getattr(self, trigger)(data={"resolution": resolution, **({"role": role} if role else {})})
        except StoreWriteError as exc:  # the clear is not recorded: the box stays in its fault
            return BallotOutcome("error", self.note_store_failure(exc), "store")
        self._pending = None
        self.review_reason = None
        return BallotOutcome(resolution, message(resolution), resolution)

    # --- reports --------------------------------------------------------------------------
    def results(self) -> Results:
        return tally_station(self.election, self.station.id, self.store.cast_vote_records())

    def reconciliation(self) -> dict:
        c = self.counters
        return {"checked_in": len(c.checked_in), "cast": c.cast,
                "cast_invalid_compartment": self.invalid_compartment,
                "dropped_confirmed": c.dropped, "authorised_unused": c.outstanding,
                "returned": c.returned, "rejected_by_reason": dict(sorted(c.rejected.items())),
                "refused_by_reason": dict(sorted(c.refused.items())),
                **({"polls_reopened": c.reopened} if c.reopened else {})}

    @property
    def state(self) -> dict[str, str]:
        return {"polls": self.polls, "voter": self.voter, "ballot": self.ballot}
