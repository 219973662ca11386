"""Closing the polls, in stages, each journaled once: a close cut short resumes where it stopped.

``PollsClosing`` is the close half of ``StationController`` (a mixin over the controller's
machine and journal). A close runs these stages in order (``CLOSE_STAGES``, declared once):

1. *stop the flows*: the ID desk and the ballot box stop (``stop_checkin``, ``stop_scanning``;
   refused while a ballot is in the box's path), then ``close_polls`` — stage ``closed``;
2. *sign the journal*: the ``polls_close`` checkpoint, signed by the unit key — ``signed``;
3. *tally, sign the results, keep them in the outbox*: the results are tallied from the stored
   cast vote records and signed (``_sign_results``); the outbox keeps a message once however
   often it is put, and the message is the same bytes every time (its sequence and journal head
   are fixed by the checkpoint, Ed25519 is deterministic), so this stage has no record of its own;
4. *print the results tape*: ``results_printed`` once it is on paper — ``printed``; a tape the
   printer could not print is journaled as ``printer_fault`` and the next boot or a
   ``reprint("results")`` prints it;
5. *compact the store*, so the database file does not keep the order in which records were
   written (idempotent).

Boot follows the journal through ``close_stage_after`` to the last stage reached; a unit that
boots with its polls closed calls ``_finish_close``, which runs only the stages after that one.
So a power cut between any two stages neither loses nor repeats one (the tape is printed once,
the checkpoint written once). Reopening the polls (election manager) starts the stages afresh.
"""
from __future__ import annotations

import random
from abc import abstractmethod
from collections.abc import Callable
from enum import StrEnum
from itertools import compress
from operator import attrgetter
from typing import Any

from device.election.definition import Election, Station
from device.election.voter_roll import VoterRoll
from device.results.signed_results import Signer, build_results_message, sign_results
from device.results.tally import Results
from device.station.counters import Counters
from device.station.events import ControllerError, OperatorMessage, message
from device.station.machine import Triggers
from device.station.reports import results_slip
from device.station.roles import StationAccess
from device.store.journal import JournalRecord, StationStore, StoreWriteError
from device.store.outbox import Outbox
from device.store.signing import append_checkpoint
from hardware.interfaces import Printer, Slip

_TYPE, _IS_CHECKPOINT = attrgetter("type"), "checkpoint".__eq__


class UnitMode(StrEnum):
    """Whether the unit's results are votes (``live``) or a test's (``test``): signed into the
    results message (``device/results/signed_results.py``)."""

    LIVE = "live"
    TEST = "test"


class CloseStage(StrEnum):
    CLOSED = "closed"  # close_polls journaled
    SIGNED = "signed"  # the polls_close checkpoint journaled
    PRINTED = "printed"  # results_printed journaled


# The record that completes each stage: event type, or (event type, checkpoint reason) -> stage;
# reopening the polls forgets the stages of the last close.
CLOSE_STAGES: dict[str | tuple[str, str], CloseStage | None] = {
    "close_polls": CloseStage.CLOSED,
    ("checkpoint", "polls_close"): CloseStage.SIGNED,
    "results_printed": CloseStage.PRINTED,
    "reopen_polls": None,
}


def close_stage_after(stage: CloseStage | None, record: JournalRecord) -> CloseStage | None:
    """The close's stage once ``record`` is journaled (``stage`` if it says nothing of it)."""
    key: str | tuple[str, str] = record.type
    if key == "checkpoint":
        key = (key, str(record.data.get("reason")))
    return CLOSE_STAGES.get(key, stage)


class PollsClosing(Triggers):
    """The close of ``StationController`` (which provides the attributes declared here)."""

    election: Election
    station: Station
    roll: VoterRoll
    store: StationStore
    printer: Printer | None
    signer: Signer | None
    access: StationAccess
    counters: Counters
    clock: Callable[[], float]
    rng: random.Random
    mode: UnitMode
    polls: str
    voter: str
    ballot: str
    invalid_compartment: int
    signed_results: dict[str, Any] | None  # the signed results message, once polls close
    outbox_fault: OperatorMessage | None  # the message could not be kept to send
    printer_fault: OperatorMessage | None
    _close_stage: CloseStage | None

    @abstractmethod
    def _event(self, type_: str, data: dict[str, Any]) -> None: ...

    @abstractmethod
    def results(self) -> Results: ...

    @abstractmethod
    def reconciliation(self) -> dict[str, Any]: ...

    @abstractmethod
    def _print(self, slip: Slip) -> bool: ...

    def _stop_flows(self) -> None:
        if self.ballot not in ("waiting_for_ballot", "inactive"):
            raise ControllerError(message("busy", state=self.ballot))
        if self.ballot == "waiting_for_ballot":
            self.stop_scanning()
        if self.voter != "inactive":
            self.stop_checkin()

    def _close(self) -> Results:
        """Stage 1, then the rest (``close`` checks the role and the store first)."""
        role = self.access.require("close_polls")
        if self.polls == "polls_open":
            self._stop_flows()
        self.close_polls(data={"role": role})
        self._close_stage = CloseStage.CLOSED
        return self._finish_close()

    def _finish_close(self) -> Results:
        """The stages after the last one journaled (all of them at a close; the rest after a
        power cut during one)."""
        results = self.results()
        if self._close_stage is CloseStage.CLOSED:
            self._checkpoint("polls_close")
            self._close_stage = CloseStage.SIGNED
        if self._close_stage is CloseStage.SIGNED:
            self.signed_results = self._sign_results(results)
            self._print_results(results, self.signed_results)
        self.store.compact()
        return results

    def _checkpoint(self, reason: str) -> None:
        if self.signer is not None:
            append_checkpoint(self.store, self.signer, reason, self.clock())

    def _sign_results(self, results: Results) -> dict[str, Any] | None:
        """The signed results message, kept in the store's outbox for the central tally.

        Its sequence is the number of polls-close checkpoints in the journal (persistent, one
        more at every close) and its journal head is the last of them: both are fixed once the
        checkpoint is written, so a close resumed after a power cut signs the very same message
        (Ed25519 is deterministic) and the outbox keeps it once. No key, no message: the tape
        then says it is unsigned."""
        if self.signer is None:
            return None
        records = list(self.store.events())  # (the checkpoints picked out in C: ~1,700 records a day)
        closes = [r for r in compress(records, map(_IS_CHECKPOINT, map(_TYPE, records)))
                  if r.data.get("reason") == "polls_close"]
        unsigned = build_results_message(
            self.election, self.station.id, results, self.reconciliation(),
            (closes[-1].seq, closes[-1].hash), public_key_hex=self.signer.public_key_hex(),
            mode=str(self.mode), sequence=len(closes))
        signed = sign_results(unsigned, self.signer)
        path = self.store.path
        if path is not None:  # a durable store: the outbox lives beside the journal
            try:
                with Outbox(path) as outbox:
                    outbox.put(signed, self.clock())
            except StoreWriteError as exc:  # the tape still prints; the operator is told
                self.outbox_fault = message("store_write_failed", detail=str(exc))
        return signed

    def _print_results(self, results: Results, signed: dict[str, Any] | None) -> None:
        """The results tape; ``results_printed`` only once it is on paper."""
        if self._print(results_slip(self.election, self.station, results, self.reconciliation(),
                                    self.clock(), signed)):
            self._event("results_printed", {"ballots_cast": results.ballots_cast,
                                            "invalid_compartment": self.invalid_compartment})
            self._close_stage = CloseStage.PRINTED

    def _reprint_results(self) -> bool:
        """The results tape again — or for the first time, when the printer failed at the close
        (stage ``signed``: then it is the tape's first print, journaled ``results_printed``).
        True when a reprint went on paper."""
        results = self.results()
        signed = self.signed_results or self._sign_results(results)
        if self._close_stage is CloseStage.SIGNED:
            self._print_results(results, signed)
            return False
        return self._print(results_slip(self.election, self.station, results, self.reconciliation(),
                                        self.clock(), signed))
