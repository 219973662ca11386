"""The station controller: the firmware's state machine, its journal, and the parts it drives.

``StationController`` binds the three regions of ``device/station/machine.py`` (polls, voter,
ballot) to itself, owns the write-ahead journal, boots from it, and runs the polls lifecycle
(``open``, ``pause``, ``resume``, ``reprint``; the election manager's ``reopen``, ``export``).
Each desk is a part of its own: the **ID desk** (``id_desk.py``: identity sources in order;
``present_id``, ``present_identity_step``, ``identify_by_commission``), the **ballot box**
(``ballot_box.py`` over the pure ``decide`` of ``device/ballots/decide.py``: ``handle_paper``,
``voter_decision``, ``clear_jam``, ``clear_fault``, ``swap_box``), the **close** (``closing.py``:
stages journaled once, resumed after a power cut), **test mode** (``test_mode.py``) and
**store faults** (``store_faults.py``).

Roles are checked where the action happens, not only on the screen: every operator method first
asks ``access.require(action)`` (``roles.py``: the policy, PINs, sessions, lockouts) and raises
``AccessDenied`` when the session's role may not act; the role goes into the transition's
journal record. Simulations pass their own access (``sim/unit/access.py``); the firmware has no
PIN-less path. Lockouts are rebuilt from the journal at boot.

Write-ahead journaling: every transition writes its journal record before the state changes
— if the write fails, the state does not change. The rules across regions (``CROSS_REGION`` in
``machine.py``) are checked there too. Each trigger method is bound once per controller with its
journal step (``journaled_triggers.py``: what the machines' ``before_state_change`` callback
does, without building an ``EventData`` per transition).

Secrecy of the journal: a check-in record carries the voter's keyed pseudonym, never an id; no
record says anything about a ballot's content or validity — an OK ballot and one waiting for
the voter's review both enter ``deciding`` with a ``ballot_read`` record without data,
``ballot_cast`` and ``ballot_dropped`` carry no compartment, and the times of the voter and
ballot flows are kept to the minute (``coarse_time`` in the catalog). At close the store is
compacted so that the file does not keep the order of writes. Records marked ``durable =
false`` in the catalog are committed with the next durable one (two fsyncs per voter).

Boot replays the journal through the same triggers (no side effects) to rebuild the state and
the counters, then finishes what the power loss interrupted: a close (from its last journaled
stage), the flows of open polls, and a ballot in flight (``resolve_paper_at_power_on``: a
recorded cast goes into the box, anything else back to the voter). So the sheets in the box
always equal the cast records.
"""
from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

from transitions import EventData, Machine

from device.ballots.decide import BoxPolicy
from device.election.definition import Election
from device.election.pseudonym import VoterPseudonyms
from device.election.voter_roll import VoterRoll
from device.results.signed_results import Signer
from device.results.tally import Results, tally_station
from device.station.ballot_box import BallotBox, BallotOutcome, BallotStatus
from device.station.closing import CloseStage, PollsClosing, UnitMode, close_stage_after
from device.station.counters import Counters
from device.station.events import ControllerError, OperatorMessage, message
from device.station.id_desk import (Answer, CheckInOutcome, CheckInResult, DocumentIdentity, IdDesk,
                                    IdentitySource, SourceAnswer)
from device.station.journaled_triggers import bind_journaled_triggers, initial_states
from device.station.machine import build_machines, region_of_trigger
from device.station.reports import paused_slip, zero_report_slip
from device.station.roles import ACCESS_EVENTS, StationAccess
from device.station.store_faults import store_guarded as _store_guarded
from device.station.test_mode import TestModeActions, TestTally
from device.store.journal import StationStore, StoreWriteError
from hardware.interfaces import Camera, IdRecord, PeripheralError, Printer, ScannerTransport, Slip

if TYPE_CHECKING:  # the interpreter's module loads OpenCV: not at the controller's import
    from device.ballots.interpreter import SheetInterpreter

# Read once: an enum member costs a class lookup each time it is named (once per voter here).
_REFUSED, _NEXT_STEP = Answer.REFUSED, Answer.NEXT_STEP

__all__ = ["BallotOutcome", "BallotStatus", "CheckInOutcome", "CheckInResult", "ControllerError",
           "StationController", "UnitMode"]


class StationController(BallotBox, PollsClosing, TestModeActions):
    def __init__(self, election: Election, station_id: str, roll: VoterRoll, store: StationStore,
                 *, scanner: ScannerTransport, camera: Camera, interpreter: SheetInterpreter,
                 printer: Printer | None = None, clock: Callable[[], float],
                 pseudonym_key: bytes, access: StationAccess, rng: random.Random | None = None,
                 signer: Signer | None = None, enforce_authorisation: bool = True,
                 mode: str = "live", identity_after_document: Sequence[IdentitySource] = ()):
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
        self.mode = UnitMode(mode)  # signed into the results message
        self.signed_results: dict[str, Any] | None = None  # the signed results message, once polls close
        self.outbox_fault: OperatorMessage | None = None  # the message could not be kept to send
        self.counters = Counters()
        self.test_tally = TestTally()
        self.access = access
        # Once the unit runs, its access records go through the controller: their times keep the
        # journal's order, and a store failure refuses the PIN action instead of raising.
        access.journal = self._event
        self.desk = IdDesk([DocumentIdentity(election, station_id, roll, self.pseudonyms,
                                             self.counters.checked_in.__contains__),
                             *identity_after_document], journal=self._event)  # then a fingerprint
        self._box_policy = {testing: BoxPolicy.for_station(election, station_id, testing=testing)
                            for testing in (False, True)}
        # Sheets cast into the invalid compartment: counted from the cast vote records at boot
        # and at each cast, never from the journal (which does not know a ballot's validity).
        self.invalid_compartment = sum(c.invalid for c in store.cast_vote_records())
        self.review_reason = None  # overvote | blank while the voter decides
        self.printer_fault: OperatorMessage | None = None  # the last slip that could not print
        self.polls, self.voter, self.ballot = initial_states().values()  # the machines' initial states
        self._pending = None  # decided, not yet cast
        self.store_fault = None  # device/station/store_faults.py
        self._unwritten_fault = None
        self._replaying = False
        self._close_stage: CloseStage | None = None  # how far the last close got (closing.py)
        self._regions = region_of_trigger()
        self._machines: dict[str, Machine] | None = None  # built when first needed (``machines``)
        bind_journaled_triggers(self)
        self._boot()

    # --- journal (device/station/journaled_triggers.py) ----------------------------------
    @property
    def machines(self) -> dict[str, Machine]:
        """The three regions' ``transitions`` machines bound to this controller, built the first
        time a trigger is not on the short path (one its state does not allow: transitions
        raises) or someone asks: they keep the states the controller is in."""
        if self._machines is None:
            states = self.state
            self._machines = build_machines(self)  # (sets the initial states: restored below)
            for region, state in states.items():
                setattr(self, region, state)
            for m in self._machines.values():
                m.before_state_change = [self._journal_transition]
        return self._machines

    def _journal_transition(self, event: EventData) -> None:
        """Write-ahead: the record is durable before the state changes (or the change fails).
        The machines' ``before_state_change``, for a trigger fired through ``transitions``: the
        controller's own trigger method in its journal-only mode."""
        kwargs = event.kwargs
        getattr(self, event.event.name)(kwargs.get("data", {}), kwargs.get("cvr"), _journal_only=True)

    def _time(self, coarse: bool) -> float:
        """The time of a new record: to the minute for the voter and ballot flows (``coarse``),
        never before the last record's (journal times do not decrease; the injected clock does
        not go back, so an exact time never comes before an earlier record)."""
        at = self.clock()
        if coarse:
            at -= at % 60
            return max(at, self.store.head_at)
        return at

    def _event(self, type_: str, data: dict[str, Any]) -> None:
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
                self._close_stage = close_stage_after(self._close_stage, head)
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
        if self.polls == "polls_closed":  # a close cut short: the stages after the last journaled
            self._finish_close()
            return
        if self.polls == "polls_open":
            if self.voter == "inactive":
                self.start_checkin()
            if self.ballot == "inactive":
                self.start_scanning()
            self.desk.polls_opened()  # a fingerprint source's templates: in memory only
        if self.polls == "testing" and self.ballot == "inactive":
            self.start_scanning()
        self.resolve_paper_at_power_on()

    # --- the ID desk (device/station/id_desk.py) -------------------------------------------
    def present_id(self, record: IdRecord) -> CheckInResult:
        """A voter's ID document was read: the desk's sources from the first."""
        if (self.polls != "polls_open" or self.voter == "inactive" or self.store_fault is not None) \
                and (closed := self._desk_closed()) is not None:
            return closed
        try:
            return self._desk_answered(self.desk.start(record))
        except StoreWriteError as exc:  # nothing recorded: the voter is not checked in
            return self._desk_store_fault(exc)

    def present_identity_step(self, evidence: object) -> CheckInResult:
        """The next evidence for the voter waiting at the desk (a source's next step). With
        nobody waiting it is taken as a new voter's first evidence (and refused as a document)."""
        if (closed := self._desk_closed()) is not None:
            return closed
        try:
            return self._desk_answered(self.desk.proceed(evidence) or self.desk.start(evidence))
        except StoreWriteError as exc:
            return self._desk_store_fault(exc)

    @_store_guarded
    def identify_by_commission(self) -> CheckInResult:
        """Poll worker: the commission identifies the voter waiting at the desk by the document
        alone, where the waiting source allows it (journaled with the source's reason)."""
        role = self.access.require("identify_by_commission")
        decided = self.desk.commission_identifies() if self.polls == "polls_open" else None
        if decided is None:
            raise ControllerError(message("invalid_document",
                                          detail="no voter is waiting for the commission's decision"))
        who, reason = decided
        self.authorise(data={"voter": who.pseudonym, "identified_by": "commission",
                             "reason": reason, "role": role})
        return CheckInResult(CheckInOutcome.AUTHORISED, message("authorised", voter_id=who.voter.voter_id),
                             who.voter.voter_id)

    def _desk_closed(self) -> CheckInResult | None:
        """Why the desk takes no voter now (polls not open, a store fault), or None."""
        if self.polls != "polls_open" or self.voter == "inactive":
            return CheckInResult(CheckInOutcome.POLLS_NOT_OPEN, message("polls_not_open"))
        if self.store_fault is not None and (refusal := self.store_refusal()) is not None:
            return CheckInResult(CheckInOutcome.STORE_FAULT, refusal)
        return None

    def _desk_store_fault(self, exc: StoreWriteError) -> CheckInResult:
        self.desk.dismiss()
        return CheckInResult(CheckInOutcome.STORE_FAULT, self.note_store_failure(exc))

    def _desk_answered(self, answer: SourceAnswer) -> CheckInResult:
        """Journal what the desk decided: the refusal (reason and pseudonym, never the id) or
        the check-in; show the id on screen."""
        who = answer.voter
        voter_id = who.voter.voter_id if who else None
        if answer.answer is _REFUSED:
            assert answer.reason is not None and answer.message is not None
            self.refuse(data={"reason": str(answer.reason), **answer.journal})
            return CheckInResult(answer.reason, answer.message, voter_id)
        if answer.answer is _NEXT_STEP:
            assert answer.message is not None
            return CheckInResult(CheckInOutcome.IDENTIFYING, answer.message, voter_id)
        if who is None:
            raise ValueError("the ID desk authorised nobody: its first source must name the voter")
        self.authorise(data={"voter": who.pseudonym})
        return CheckInResult(CheckInOutcome.AUTHORISED, message("authorised", voter_id=voter_id), voter_id)

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
        self.desk.polls_opened()
        return message("polls_open")

    @_store_guarded
    def pause(self) -> None:
        role = self.access.require("pause_polls")
        self._stop_flows()
        self.desk.dismiss()
        self.pause_polls(data={"role": role})
        self._print(paused_slip(self.election, self.station, "paused", self.clock(), self.counters))

    @_store_guarded
    def resume(self) -> None:
        role = self.access.require("resume_polls")
        self.resume_polls(data={"role": role})
        self.start_checkin()
        self.start_scanning()
        self.desk.polls_opened()
        self._print(paused_slip(self.election, self.station, "resumed", self.clock(), self.counters))

    @_store_guarded
    def close(self) -> Results:
        """Close the polls, tally the cast vote records, print the results tape (stages: closing.py)."""
        self.desk.polls_closed()  # nobody waits at the desk; templates wiped before the stages
        return self._close()

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
            printed = self._reprint_results()
        else:
            raise ControllerError(message("nothing_to_reprint", report=f"{report} report"))
        if printed:
            self._event("report_reprinted", {"report": report, "role": role})

    @_store_guarded
    def export(self, out_dir: Any) -> dict[str, Any]:
        """Election manager: write the unit's export for auditors (``device/results/exports.py``)."""
        from device.results.exports import export_unit
        role = self.access.require("export")
        if self.signer is None:
            raise ControllerError(message("fault", detail="this unit has no key to sign an export"))
        return export_unit(self.store, self.election, out_dir, self.signer, station_id=self.station.id,
                           at=self.clock(), role=role)

    def _print(self, slip: Slip) -> bool:
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

    def results(self) -> Results:
        return tally_station(self.election, self.station.id, self.store.cast_vote_records())

    def reconciliation(self) -> dict[str, Any]:
        c = self.counters
        return {"checked_in": len(c.checked_in), "cast": c.cast,
                "cast_invalid_compartment": self.invalid_compartment,
                "dropped_confirmed": c.dropped, "authorised_unused": c.outstanding,
                "returned": c.returned, "rejected_by_reason": dict(sorted(c.rejected.items())),
                "refused_by_reason": dict(sorted(c.refused.items())),
                **({"polls_reopened": c.reopened} if c.reopened else {}),
                **({"identified_by_commission": dict(sorted(c.by_commission.items()))} if c.by_commission else {})}

    @property
    def state(self) -> dict[str, str]:
        return {"polls": self.polls, "voter": self.voter, "ballot": self.ballot}
