"""The unit's main loop: one thread that owns the controller, the peripherals and the store.

``Unit(config)`` opens the store, provisions it at first boot and verifies the election package
loaded into it, if any (errors here are the operator's one-line ``ConfigError``/
``StoreOpenError``); until a package is loaded the unit is *unconfigured* and the election
manager's first action is to load one (``device/unit/election_source.py``). ``start()`` runs the
*unit thread*. That thread is the
only one that ever calls the controller or touches a peripheral: it builds the controller
(which replays the journal and applies the power-loss boot rule), then loops —

- operator actions queued by ``submit(action, pin, ...)`` (from the console) run first; the
  PIN is checked here, where the action happens, not in the screen;
- the scanner's sensors (``poll_event``: paper at the entry, cover opened/closed) and the ID
  reader (``read``) are polled with short timeouts, so the screen never waits on a port;
- after anything that changed, a new ``UnitView`` goes to every subscriber (the console
  posts it to its own thread; nothing else crosses threads).

A peripheral that stops answering (or whose port cannot be opened) is listed in
``UnitView.lost`` with the driver's message; the loop keeps probing it (once a second) and
clears it when it answers again. A box that reached ``ballot_box_capacity`` leaves new sheets
at the entry until a poll worker confirms the box was swapped (journaled).
"""
from __future__ import annotations

import queue
import threading
import time
from collections import deque
from concurrent.futures import Future
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any, Callable

from device.ballots.interpreter import BallotInterpreter
from device.i18n import _
from device.results.exports import ExportError
from device.station.controller import ControllerError, StationController
from device.station.events import OperatorMessage, message
from device.store.signing import provision
from device.store.journal import StationStore
from device.store.sqlite import SqliteStore
from device.unit.config import UnitConfig
from device.election.package import PackageError
from device.unit.config import ConfigError
from device.unit.election_source import load_package_now, provisioned_package
from device.station.roles import AccessDenied
from device.unit.staff import POLICY_ACTION, ROLE_OF_ACTION
from device.unit.view import UnitView, journal_line, situation_of
from hardware.interfaces import PeripheralError, ScannerEventKind
from hardware.registry import open_peripheral

POLL_S = 0.1  # how long the loop waits for an operator action before polling the sensors
PROBE_S = 1.0  # how often a lost peripheral is probed
JOURNAL_LINES = 30


class JournalTap(StationStore):
    """The unit's store, remembering the last records written (for the console's journal pane)
    and the sheets taken out with swapped ballot boxes."""

    def __init__(self, inner: StationStore, keep: int = JOURNAL_LINES):
        self.inner = inner
        self.recent: deque = deque(maxlen=keep)
        self.swapped = 0
        self.swaps = 0
        for rec in inner.events():
            self._saw(rec)

    def _saw(self, rec) -> None:
        self.recent.append(journal_line(rec))
        if rec.type == "ballot_box_swapped":
            self.swapped += int(rec.data.get("sheets", 0))
            self.swaps += 1

    def append_event(self, type_, data, at, *, durable=True):
        rec = self.inner.append_event(type_, data, at, durable=durable)
        self._saw(rec)
        return rec

    def cast_ballot(self, cvr, event_data, at):
        rec = self.inner.cast_ballot(cvr, event_data, at)
        self._saw(rec)
        return rec

    def events(self):
        return self.inner.events()

    def cast_vote_records(self):
        return self.inner.cast_vote_records()

    def close(self) -> None:
        self.inner.close()

    def __getattr__(self, name: str) -> Any:  # read_meta, write_meta, flush, head ...
        return getattr(self.inner, name)


@dataclass(frozen=True)
class ActionResult:
    ok: bool
    text: str
    severity: str = "info"
    role: str | None = None


class Unit:
    def __init__(self, config: UnitConfig, *, clock: Callable[[], float] = time.time,
                 devices: dict[str, Any] | None = None, rng=None, interpreter=None):
        """``devices``: peripherals given as objects instead of opened by URL (the simulated
        world's camera, or tests); the rest are opened by the URLs of the config."""
        self.config, self.clock, self.rng = config, clock, rng
        self.store = JournalTap(SqliteStore(config.store, durability=config.durability))
        try:
            self.loaded = provisioned_package(self.store, config)
        except Exception:
            self.store.close()
            raise
        self.signer = provision(self.store)
        self.access = self.loaded.access(self.store, clock) if self.loaded else None
        self._interpreter = interpreter
        self.devices: dict[str, Any] = dict(devices or {})
        self.controller: StationController | None = None
        self._commands: queue.Queue = queue.Queue()
        self._subscribers: list[Callable[[UnitView], None]] = []
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lost: dict[str, str] = {}
        self._next_probe = 0.0
        self._cover_open = False
        self._message: OperatorMessage | None = None
        self._desk: OperatorMessage | None = None
        self._busy: str | None = None
        self._waiting_sheet = False  # a sheet at the entry left there (box full)
        self._internal_error: str | None = None
        self._seq = 0
        self.view = UnitView(station=config.station or "", box_capacity=config.ballot_box_capacity)

    # --- the console's side (any thread) ---------------------------------------------------
    def subscribe(self, callback: Callable[[UnitView], None]) -> None:
        self._subscribers.append(callback)

    def submit(self, action: str, pin: str = "", **args: Any) -> Future:
        """Queue an operator action; the future gets an ``ActionResult``."""
        if action not in POLICY_ACTION:
            raise ValueError(f"unknown action {action!r}")
        future: Future = Future()
        self._commands.put((action, pin, args, future))
        return future

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="unit", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        for device in self.devices.values():
            try:
                device.close()
            except Exception:
                pass
        self.store.close()

    # --- the unit thread -------------------------------------------------------------------
    def _run(self) -> None:
        try:
            self._loop()
        except Exception as exc:  # never a silent dead unit: the console shows the fault
            self._internal_error = f"{type(exc).__name__}: {exc}"
            self._publish()
            raise

    def _loop(self) -> None:
        self._publish()
        while not self._stop.is_set():
            if self.controller is None:
                self._try_boot()
            try:
                item = self._commands.get(timeout=POLL_S)
            except queue.Empty:
                item = None
            if item is not None:
                self._perform(*item)
            if self.controller is not None:
                self._probe_lost()
                self._poll_scanner()
                self._poll_reader()
            self._publish()

    def _try_boot(self) -> None:
        now = time.monotonic()
        if now < self._next_probe:
            return
        self._next_probe = now + PROBE_S
        for kind in ("scanner", "id_reader", "printer", "camera"):
            if kind in self.devices:
                continue
            try:
                self.devices[kind] = open_peripheral(kind, self.config.peripherals[kind])
                self._lost.pop(kind, None)
            except PeripheralError as exc:
                self._lost[kind] = str(exc)
        if self._lost or self.loaded is None:
            return
        d, pkg = self.devices, self.loaded
        self.controller = StationController(
            pkg.election, pkg.station_id, pkg.roll, self.store, scanner=d["scanner"],
            camera=d["camera"], interpreter=self._interpreter or BallotInterpreter(pkg.election),
            printer=d["printer"], clock=self.clock, pseudonym_key=pkg.pseudonym_key,
            access=self.access, rng=self.rng, signer=self.signer, mode=pkg.results_mode)

    def _probe_lost(self) -> None:
        if not self._lost or time.monotonic() < self._next_probe:
            return
        self._next_probe = time.monotonic() + PROBE_S
        if "scanner" in self._lost:
            try:
                status = self.devices["scanner"].status()
                self._cover_open = status.cover_open
                del self._lost["scanner"]
                self._waiting_sheet = status.paper_at_entry
            except PeripheralError as exc:
                self._lost["scanner"] = str(exc)
        if "id_reader" in self._lost:
            self._lost.pop("id_reader")  # probed again by the next read

    def _poll_scanner(self) -> None:
        if "scanner" in self._lost:
            return
        ctl = self.controller
        try:
            event = ctl.scanner.poll_event(timeout=0.0)
        except PeripheralError as exc:
            self._lost["scanner"] = str(exc)
            return
        if event is not None:
            if event.kind is ScannerEventKind.COVER_OPEN:
                self._cover_open = True
            elif event.kind is ScannerEventKind.COVER_CLOSED:
                self._cover_open = False
            elif event.kind is ScannerEventKind.PAPER_AT_ENTRY:
                self._waiting_sheet = True
        if self._waiting_sheet and not self._cover_open and ctl.ballot == "waiting_for_ballot" \
                and not self._box_full():
            self._waiting_sheet = False
            self._busy = "scanning"
            self._publish()
            outcome = ctl.handle_paper()
            self._busy = None
            self._message = outcome.message

    def _poll_reader(self) -> None:
        if "id_reader" in self._lost:
            return
        try:
            record = self.devices["id_reader"].read(timeout=0.0)
        except PeripheralError as exc:
            self._lost["id_reader"] = str(exc)
            return
        if record is not None:
            self._desk = self.controller.present_id(record).message

    def _box_full(self) -> bool:
        ctl = self.controller
        return self._box_sheets(ctl) >= self.config.ballot_box_capacity

    def _box_sheets(self, ctl: StationController) -> int:
        return ctl.counters.cast - ctl.invalid_compartment - self.store.swapped

    # --- operator actions --------------------------------------------------------------------
    def _perform(self, action: str, pin: str, args: dict, future: Future) -> None:
        if action == "load_election" and self.loaded is None:
            future.set_result(self._load_package(pin))
            return
        if self.controller is None:
            future.set_result(ActionResult(False, _("The unit is not ready: a peripheral is missing."),
                                           "error"))
            return
        role = ROLE_OF_ACTION[action]
        try:
            if role is not None:  # a session for this one action; the controller checks it
                self.access.login(role, pin)
            result = getattr(self, f"_do_{action}")(role=role, **args)
        except (ControllerError, AccessDenied) as exc:
            result = ActionResult(False, exc.operator_message.text, exc.operator_message.severity, role)
        except Exception as exc:  # an action the state machine does not allow now
            if type(exc).__name__ != "MachineError":
                raise
            result = ActionResult(False, _("Not possible now ({state}).").format(
                state=", ".join(self.controller.state.values())), "warning", role)
        finally:
            if role is not None:
                self.access.logout()
        future.set_result(result)

    def _ok(self, msg: OperatorMessage | str, role: str | None) -> ActionResult:
        if isinstance(msg, OperatorMessage):
            self._message = msg
            return ActionResult(True, msg.text, msg.severity, role)
        return ActionResult(True, msg, "info", role)

    def _printed(self, done: str, role: str | None) -> ActionResult:
        """After an action that prints: report the printer's (or the outbox's) problem, if any."""
        ctl = self.controller
        faults = [f.text for f in (ctl.printer_fault, ctl.outbox_fault) if f is not None]
        if faults:
            return ActionResult(True, " ".join([done, *faults]), "warning", role)
        return self._ok(done, role)

    def _load_package(self, pin: str) -> ActionResult:
        try:
            loaded = load_package_now(self.store, self.config, self.clock, pin)
        except AccessDenied as exc:
            return ActionResult(False, exc.operator_message.text, exc.operator_message.severity)
        except (PackageError, ConfigError) as exc:
            return ActionResult(False, _("Election package refused: {detail}").format(detail=exc), "error")
        self.loaded, self.access = loaded, loaded.access(self.store, self.clock)
        self._next_probe = 0.0
        self._try_boot()
        if self.controller is not None:
            self.controller.load()
        return ActionResult(True, _("Election package loaded: {election}, station {station}.").format(
            election=loaded.election.title, station=loaded.station_id), "info", "election_manager")

    def _do_load_election(self, role):
        return ActionResult(False, _("An election package is already loaded."), "warning", role)

    def _do_test_mode(self, role):
        return self._ok(self.controller.enter_test_mode(), role)

    def _do_end_test(self, role):
        results = self.controller.leave_test_mode()
        return self._ok(_("Test report printed ({n} test ballots); test tally reset to zero.").format(
            n=results.ballots_cast), role)

    def _do_open(self, role):
        self.controller.printer_fault = None
        self.controller.open()
        return self._printed(_("Polls are open. Zero report printed."), role)

    def _do_pause(self, role):
        self.controller.printer_fault = None
        self.controller.pause()
        return self._printed(_("Polls paused."), role)

    def _do_resume(self, role):
        self.controller.printer_fault = None
        self.controller.resume()
        return self._printed(_("Polls resumed."), role)

    def _do_close(self, role):
        self.controller.printer_fault = self.controller.outbox_fault = None
        results = self.controller.close()
        return self._printed(_("Polls closed: {n} ballots cast. Results printed.").format(
            n=results.ballots_cast), role)

    def _do_clear_jam(self, role):
        return self._outcome(self.controller.clear_jam(), role)

    def _do_clear_fault(self, role):
        return self._outcome(self.controller.clear_fault(), role)

    def _outcome(self, outcome, role) -> ActionResult:
        if outcome.status in ("refused", "error"):
            return ActionResult(False, outcome.message.text, outcome.message.severity, role)
        return self._ok(outcome.message, role)

    def _do_voter_cast(self, role):
        return self._decide(True, role)

    def _do_voter_return(self, role):
        return self._decide(False, role)

    def _decide(self, cast: bool, role) -> ActionResult:
        return self._outcome(self.controller.voter_decision(cast=cast), role)

    def _do_swap_box(self, role):
        ctl = self.controller
        sheets = self._box_sheets(ctl)
        ctl.store.append_event("ballot_box_swapped", {"sheets": sheets, "role": role}, self.clock())
        return self._ok(_("Ballot box swapped: {n} sheets sealed in the full box.").format(n=sheets), role)

    def _do_reprint(self, role, kind: str = "results"):
        ctl = self.controller
        ctl.printer_fault = None
        ctl.reprint(kind)
        return self._printed(_("Report printed again."), role)

    def _do_export(self, role, folder: str | None = None):
        base = Path(folder) if folder else self.config.export_dir
        if base is None:
            return ActionResult(False, _("No export folder is configured."), "warning", role)
        stamp = time.strftime("%Y%m%dT%H%M%S", time.gmtime(self.clock()))
        out = base / f"{self.config.station}-{stamp}"
        try:
            self.controller.export(out)
        except (ExportError, OSError) as exc:
            return ActionResult(False, _("Export failed: {detail}").format(detail=exc), "error", role)
        return self._ok(_("Exported to {folder}").format(folder=out), role)

    # --- views ----------------------------------------------------------------------------
    def _publish(self) -> None:
        view = self._build_view()
        if view == replace(self.view, seq=view.seq):
            return
        self._seq += 1
        self.view = replace(view, seq=self._seq)
        for callback in self._subscribers:
            callback(self.view)

    def _build_view(self) -> UnitView:
        ctl, pkg = self.controller, self.loaded
        base = dict(seq=self.view.seq, station=self.config.station or "",
                    box_capacity=self.config.ballot_box_capacity, configured=pkg is not None,
                    lost=tuple(sorted(self._lost.items())), journal=tuple(self.store.recent),
                    box_swaps=self.store.swaps, internal_error=self._internal_error)
        if pkg is not None:
            e = pkg.election
            base.update(station=pkg.station_id, station_name=e.stations[pkg.station_id].name,
                        election_title=e.title, election_hash=e.hash)
        if ctl is not None:
            c = ctl.counters
            printer = ctl.printer_fault.text if ctl.printer_fault is not None else None
            base.update(polls=ctl.polls, voter=ctl.voter, ballot=ctl.ballot,
                        test_mode=ctl.polls == "testing",
                        test_ballots=len(ctl.test_tally),
                        checked_in=len(c.checked_in), cast=c.cast, invalid_compartment=ctl.invalid_compartment,
                        returned=c.returned, authorised_unused=c.outstanding,
                        box_sheets=self._box_sheets(ctl), message=self._message,
                        desk_message=self._desk, review_reason=ctl.review_reason, busy=self._busy,
                        cover_open=self._cover_open, printer_problem=printer)
        view = UnitView(**base)
        return replace(view, situation=situation_of(view))
