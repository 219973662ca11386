"""The operator actions the unit thread performs, one method each (``_do_<action>``), and their
``ActionResult``: whether it was done and what the unit says about it, as ``Words`` the console
translates in its own language.

``OperatorActions`` is a mixin of ``Unit`` (``device/unit/runtime.py``): ``Unit._perform``
checks the role's PIN, then calls ``_do_<action>`` on the unit thread, the only thread that
touches the controller. Which action calls which method, its role, key and when it is possible: the one table,
``device/unit/staff.py``.
"""
from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device.i18n import N_, Words
from device.results.exports import ExportError
from device.station.controller import StationController
from device.station.events import OperatorMessage
from device.station.provisioning import ProvisioningError, unload_from_unit
from device.unit.config import UnitConfig
from device.unit.view import words_of


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    words: Words  # what the unit says about it; the console translates it in its own language
    severity: str = "info"
    role: str | None = None

    @property
    def text(self) -> str:
        """In the unit's language."""
        return self.words.text()

    @classmethod
    def of(cls, ok: bool, msg: OperatorMessage, role: str | None = None) -> ActionResult:
        return cls(ok, words_of(msg), msg.severity, role)


class OperatorActions(ABC):
    """What each console action does on the unit thread (mixed into ``Unit``)."""

    config: UnitConfig
    clock: Any
    sender: Any
    _message: OperatorMessage | None
    _desk: OperatorMessage | None
    _desk_polls: str

    @property
    @abstractmethod
    def ready(self) -> StationController:
        """The station's controller: an action runs only once the unit has booted (``Unit.ready``)."""

    @abstractmethod
    def _box_sheets(self, ctl: StationController) -> int:
        """Sheets in the ballot box now (the unit's count)."""

    @abstractmethod
    def _say(self, msg: OperatorMessage | None) -> None:
        """Keep the ballot box's latest word for the operator (``Unit._say``)."""

    @abstractmethod
    def _unloaded(self) -> None:
        """Forget the election after its package was unloaded (``Unit._unloaded``)."""

    def _ok(self, msg: OperatorMessage | Words, role: str | None) -> ActionResult:
        if isinstance(msg, OperatorMessage):
            self._say(msg)
            return ActionResult.of(True, msg, role)
        return ActionResult(True, msg, "info", role)

    def _printed(self, done: Words, role: str | None) -> ActionResult:
        """After an action that prints: report the printer's (or the outbox's) problem, if any."""
        ctl = self.ready
        for fault in (ctl.printer_fault, ctl.outbox_fault):
            if fault is not None:
                done = Words.of(N_("{done} {fault}"), done=done, fault=words_of(fault))
        if ctl.printer_fault is not None or ctl.outbox_fault is not None:
            return ActionResult(True, done, "warning", role)
        return self._ok(done, role)

    def _do_load_election(self, role):
        return ActionResult(False, Words.of(N_("An election package is already loaded.")), "warning", role)

    def _do_test_mode(self, role):
        return self._ok(self.ready.enter_test_mode(), role)

    def _do_end_test(self, role):
        results = self.ready.leave_test_mode()
        return self._ok(Words.ngettext("Test report printed ({n} test ballot); test tally reset to zero.",
                                       "Test report printed ({n} test ballots); test tally reset to zero.",
                                       results.ballots_cast), role)

    def _do_open(self, role):
        self.ready.printer_fault = None
        self.ready.open()
        return self._printed(Words.of(N_("Polls are open. Zero report printed.")), role)

    def _do_pause(self, role):
        self.ready.printer_fault = None
        self.ready.pause()
        return self._printed(Words.of(N_("Polls paused.")), role)

    def _do_resume(self, role):
        self.ready.printer_fault = None
        self.ready.resume()
        return self._printed(Words.of(N_("Polls resumed.")), role)

    def _do_close(self, role):
        self.ready.printer_fault = self.ready.outbox_fault = None
        results = self.ready.close()
        if self.sender is not None:
            self.sender.poke()  # the signed results wait in the outbox: send them now
        return self._printed(Words.ngettext("Polls closed: {n} ballot cast. Results printed.",
                                            "Polls closed: {n} ballots cast. Results printed.",
                                            results.ballots_cast), role)

    def _do_reopen(self, role):
        self.ready.printer_fault = None
        return self._printed(words_of(self.ready.reopen()), role)

    def _do_unload(self, role):
        try:
            sha = unload_from_unit(self.ready.store, clock=self.clock, access=self.ready.access)
        except ProvisioningError as exc:  # the polls not closed, or the day not exported yet
            return ActionResult(False, Words.of(N_("Not unloaded: {detail}"), detail=str(exc)), "warning", role)
        self._unloaded()
        return self._ok(Words.of(N_("Election package unloaded ({package}…). The unit holds no election now."),
                                 package=sha[:16]), role)

    def _do_clear_jam(self, role):
        return self._outcome(self.ready.clear_jam(), role)

    def _do_clear_fault(self, role):
        return self._outcome(self.ready.clear_fault(), role)

    def _outcome(self, outcome, role) -> ActionResult:
        if outcome.status in ("refused", "error"):
            return ActionResult.of(False, outcome.message, role)
        return self._ok(outcome.message, role)

    def _do_identify_by_commission(self, role):
        """The commission identifies the voter waiting at the desk by the document alone."""
        checkin = self.ready.identify_by_commission()
        self._desk, self._desk_polls = checkin.message, self.ready.polls
        return ActionResult(True, words_of(checkin.message), "info", role)

    def _do_voter_cast(self, role):
        return self._decide(True, role)

    def _do_voter_return(self, role):
        return self._decide(False, role)

    def _decide(self, cast: bool, role) -> ActionResult:
        return self._outcome(self.ready.voter_decision(cast=cast), role)

    def _do_swap_box(self, role):
        sheets = self.ready.swap_box()  # a transition of the ballot box, counted in Counters
        return self._ok(Words.ngettext("Ballot box swapped: {n} sheet sealed in the full box.",
                                       "Ballot box swapped: {n} sheets sealed in the full box.", sheets), role)

    def _do_reprint(self, role, kind: str = "results"):
        ctl = self.ready
        ctl.printer_fault = None
        ctl.reprint(kind)
        return self._printed(Words.of(N_("Report printed again.")), role)

    def _do_export(self, role, folder: str | None = None):
        base = Path(folder) if folder else self.config.export_dir
        if base is None:
            return ActionResult(False, Words.of(N_("No export folder is configured.")), "warning", role)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self.clock()))
        out = base / f"{self.config.station}-{stamp}"
        try:
            self.ready.export(out)
        except (ExportError, OSError) as exc:
            return ActionResult(False, Words.of(N_("Export failed: {detail}"), detail=str(exc)), "error", role)
        return self._ok(Words.of(N_("Exported to {folder}"), folder=str(out)), role)

