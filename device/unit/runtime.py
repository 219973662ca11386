"""The unit's main loop: one thread that owns the controller, the peripherals and the store.

``Unit(config)`` opens the store, provisions it at first boot and verifies the election package
loaded into it, if any (errors here are the operator's one-line ``ConfigError``/
``StoreOpenError``); until a package is loaded the unit is *unconfigured* and the election
manager's first action is to load one (``device/unit/election_source.py``). ``start()`` runs the
*unit thread*. That thread is the
only one that ever calls the controller or touches a peripheral: it builds the controller
(which replays the journal and applies the power-loss boot rule), then loops —

- operator actions queued by ``submit(action, pin, ...)`` (from the console) run first; the
  PIN is checked here, where the action happens, not in the screen; what each action does is
  ``device/unit/actions.py``;
- the scanner's sensors (``poll_event``: paper at the entry, cover opened/closed), the
  printer's paper sensor and the ID reader (``read``) are polled with short timeouts, so the
  screen never waits on a port; while a voter waits at the desk for the fingerprint step (a
  ``fingerprint`` peripheral configured and a package with templates: ``FingerprintIdentity``),
  the sensor is asked for a press (``present_identity_step``) at each turn;
- after anything that changed, a new ``UnitView`` goes to every subscriber (the console
  posts it to its own thread; nothing else crosses threads).

A peripheral that stops answering (or whose port cannot be opened) is listed in
``UnitView.lost`` with the driver's message; the loop keeps probing it (once a second) and
clears it when it answers again. A box that reached ``ballot_box_capacity`` leaves new sheets
at the entry until a poll worker confirms the box was swapped (journaled). When ``unit.toml``
names the central tally, a background sender posts the signed results (``uploads.py``).
"""
from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import replace
from typing import Any, Callable

from device.ballots.interpreter import BallotInterpreter
from device.store.journal import StoreWriteError
from device.election.package import PackageError
from device.i18n import N_, Words
from device.station.controller import ControllerError, StationController
from device.station.events import OperatorMessage
from device.station.fingerprint_identity import FINGER_PRESSED, for_package
from device.station.provisioning import unload_refusal
from device.station.roles import AccessDenied
from device.store.signing import provision
from device.store.sqlite import SqliteStore
from device.unit.actions import ActionResult, OperatorActions
from device.unit.config import ConfigError, UnitConfig
from device.unit.election_source import load_package_now, provisioned_package
from device.unit.journal_tap import JournalTap
from device.unit.staff import OPERATOR_ACTIONS
from device.unit.uploads import ResultsSender
from device.unit.view import UnitView, identity_wait, polls_words, situation_of, words_of
from hardware.interfaces import PeripheralError, PrinterStatus, ScannerEventKind, ScannerStatus
from hardware.peripherals import PeripheralKind, peripheral_kinds
from hardware.registry import open_peripheral

POLL_S = 0.1  # how long the loop waits for an operator action before polling the sensors
PROBE_S = 1.0  # how often a lost peripheral is probed (and the printer's paper sensor read)


class Unit(OperatorActions):
    def __init__(self, config: UnitConfig, *, clock: Callable[[], float] = time.time,
                 devices: dict[str, Any] | None = None, rng=None, interpreter=None):
        """``devices``: peripherals given as objects instead of opened by URL (the simulated
        world's camera, or tests); the rest are opened by the URLs of the config."""
        self.config, self.clock, self.rng = config, clock, rng
        new_store = not config.store.exists()
        self.store = JournalTap(SqliteStore(config.store, durability=config.durability,
                                             mirror=config.mirror, clock=clock))
        try:
            self.loaded = provisioned_package(self.store, config)
        except Exception:
            self.store.close()
            if new_store:  # a unit that could not start leaves no empty store behind
                for leftover in (config.store, *(config.store.with_name(config.store.name + suffix)
                                                 for suffix in ("-wal", "-shm", "-journal"))):
                    leftover.unlink(missing_ok=True)
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
        self._misses: dict[str, int] = {}  # unanswered probes in a row of a kind not yet lost
        self._next_probe = 0.0
        self._next_watch_probe = 0.0
        self._paper_out = False  # the printer's paper sensor, probed like the scanner's
        self._cover_open = False
        # The ballot box's and the ID desk's latest words, each with the polls state it was said
        # in: a word belongs to its situation and is not shown once the polls change.
        self._message: OperatorMessage | None = None
        self._message_polls = ""
        self._desk: OperatorMessage | None = None
        self._desk_polls = ""
        self._unloadable: tuple[int, bool] = (-1, False)  # (journal head seq, may unload)
        self._busy: str | None = None
        self._waiting_sheet = False  # a sheet at the entry left there (box full)
        self._internal_error: str | None = None
        self._seq = 0
        self.sender = (ResultsSender(config.store, config.central_url, clock=clock)
                       if config.central_url else None)
        self.view = UnitView(station=config.station or "", box_capacity=config.ballot_box_capacity)

    @property
    def ready(self) -> StationController:
        """The controller of a booted unit (the actions and the polls run only then)."""
        if self.controller is None:
            raise RuntimeError("the unit has not booted: no controller yet")
        return self.controller

    # --- the console's side (any thread) ---------------------------------------------------
    def subscribe(self, callback: Callable[[UnitView], None]) -> None:
        self._subscribers.append(callback)

    def submit(self, action: str, pin: str = "", **args: Any) -> Future:
        """Queue an operator action; the future gets an ``ActionResult``."""
        if action not in OPERATOR_ACTIONS:
            raise ValueError(f"unknown action {action!r}")
        future: Future = Future()
        self._commands.put((action, pin, args, future))
        return future

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="unit", daemon=True)
        self._thread.start()
        if self.sender is not None:
            self.sender.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self.sender is not None:
            self.sender.stop()
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
                self._probe_watched()
                self._poll_scanner()
                self._poll_reader()
                self._poll_finger()
            self._publish()

    def _try_boot(self) -> None:
        now = time.monotonic()
        if now < self._next_probe:
            return
        self._next_probe = now + PROBE_S
        for kind in self.config.peripherals:  # every kind unit.toml names (hardware/peripherals.py)
            if kind in self.devices:
                continue
            try:
                self.devices[kind] = open_peripheral(kind, self.config.peripherals[kind])
                self._lost.pop(kind, None)
            except PeripheralError as exc:
                self._lost[kind] = str(exc)
        if self._lost or self.loaded is None or self.access is None:  # access: set with loaded
            return
        d, pkg = self.devices, self.loaded
        finger = (for_package(pkg.package, pkg.station_id, self.signer.private_bytes(), d["fingerprint"])
                  if "fingerprint" in d else None)
        self.controller = StationController(
            pkg.election, pkg.station_id, pkg.roll, self.store, scanner=d["scanner"],
            camera=d["camera"], interpreter=self._interpreter or BallotInterpreter(pkg.election),
            printer=d["printer"], clock=self.clock, pseudonym_key=pkg.pseudonym_key,
            access=self.access, rng=self.rng, signer=self.signer, mode=pkg.results_mode,
            identity_after_document=(finger,) if finger is not None else ())
        # However the package got into the store (the console's L, or `device load` before the
        # unit started), the unit's machine leaves "setup" for it: the console shows the store.
        self.ready.load()

    def _probe_lost(self) -> None:
        if not self._lost or time.monotonic() < self._next_probe:
            return
        self._next_probe = time.monotonic() + PROBE_S
        kinds = peripheral_kinds()
        for kind in list(self._lost):
            self._probe(kinds[kind])

    def _probe_watched(self) -> None:
        """Probe the kinds watched even when they answer (the printer's paper sensor, so that
        "out of paper" shows at once, not at the next slip) once a second."""
        now = time.monotonic()
        if now < self._next_watch_probe:
            return
        self._next_watch_probe = now + PROBE_S
        for row in peripheral_kinds().values():
            if row.probe_while_healthy and row.name in self.devices and row.name not in self._lost:
                self._probe(row)

    def _probe(self, row: PeripheralKind) -> None:
        """``Peripheral.probe``: an answer clears the kind from ``lost`` and its status (scanner's
        sensors, printer's paper) updates the view; a ``PeripheralError`` lists it as lost once
        the kind's ``misses_before_lost`` probes in a row went unanswered."""
        try:
            status = self.devices[row.name].probe(row.probe_timeout_s)
        except PeripheralError as exc:
            misses = self._misses.get(row.name, 0) + 1
            self._misses[row.name] = misses
            if row.name in self._lost or misses >= row.misses_before_lost:
                self._lost[row.name] = str(exc)
            return
        self._misses.pop(row.name, None)
        self._lost.pop(row.name, None)
        if isinstance(status, ScannerStatus):
            self._cover_open = status.cover_open
            self._waiting_sheet = status.paper_at_entry
        elif isinstance(status, PrinterStatus):
            self._paper_out = status.paper_out

    def _poll_scanner(self) -> None:
        if "scanner" in self._lost:
            return
        ctl = self.ready
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
            self._say(outcome.message)

    def _poll_reader(self) -> None:
        if "id_reader" in self._lost:
            return
        try:
            record = self.devices["id_reader"].read(timeout=0.0)
        except PeripheralError as exc:
            self._lost["id_reader"] = str(exc)
            return
        if record is not None:
            self._desk = self.ready.present_id(record).message
            self._desk_polls = self.ready.polls

    def _poll_finger(self) -> None:
        """A voter waiting for the fingerprint step: ask the sensor for the press (no finger on
        the glass: the desk keeps saying "place your finger")."""
        pending = self.ready.desk.pending
        if pending is None or pending.commission_reason is not None or "fingerprint" in self._lost:
            return
        self._desk = self.ready.present_identity_step(FINGER_PRESSED).message
        self._desk_polls = self.ready.polls

    def _box_full(self) -> bool:
        return self._box_sheets(self.ready) >= self.config.ballot_box_capacity

    def _box_sheets(self, ctl: StationController) -> int:
        return ctl.sheets_in_box()

    # --- operator actions --------------------------------------------------------------------
    def _perform(self, action: str, pin: str, args: dict, future: Future) -> None:
        if action == "load_election" and self.loaded is None:
            future.set_result(self._load_package(pin))
            return
        if self.controller is None:
            future.set_result(ActionResult(False, Words.of(N_("The unit is not ready: a peripheral is missing.")),
                                           "error"))
            return
        declared = OPERATOR_ACTIONS[action]
        role, access = declared.role, self.controller.access
        try:
            if role is not None:  # a session for this one action; the controller checks it
                access.login(role, pin)
            result = getattr(self, f"_do_{declared.calls}")(role=role, **{**declared.args, **args})
        except (ControllerError, AccessDenied) as exc:
            result = ActionResult.of(False, exc.operator_message, role)
        except StoreWriteError as exc:  # a write outside the controller (unload): the same fault
            msg = self.controller.note_store_failure(exc)
            result = ActionResult.of(False, msg, role)
        except Exception as exc:  # an action the state machine does not allow now
            if type(exc).__name__ != "MachineError":
                raise
            result = ActionResult(False, Words.of(N_("Not possible now: the polls are {state}."),
                                                  state=polls_words(self.controller.polls)), "warning", role)
        finally:
            if role is not None:
                access.logout()
        future.set_result(result)

    def _load_package(self, pin: str) -> ActionResult:
        try:
            loaded = load_package_now(self.store, self.config, self.clock, pin)
        except AccessDenied as exc:
            return ActionResult.of(False, exc.operator_message)
        except (PackageError, ConfigError) as exc:
            return ActionResult(False, Words.of(N_("Election package refused: {detail}"), detail=str(exc)),
                                "error")
        self.loaded, self.access = loaded, loaded.access(self.store, self.clock)
        self._next_probe = 0.0
        self._try_boot()
        return ActionResult(True, Words.of(N_("Election package loaded: {election}, station {station}."),
                                           election=loaded.election.title, station=loaded.station_id),
                            "info", "election_manager")

    # --- views ----------------------------------------------------------------------------
    def _say(self, msg: OperatorMessage | None) -> None:
        """The ballot box's latest word, shown while the polls stay as they were when it was said."""
        self._message = msg
        self._message_polls = self.controller.polls if self.controller is not None else ""

    def _unloaded(self) -> None:
        self.loaded = self.access = self.controller = None
        self._message = self._desk = None

    def _may_unload(self, polls: str) -> bool:
        """Whether the package may be unloaded now (read from the journal once per new record)."""
        if polls not in ("election_loaded", "polls_closed"):
            return False
        head = self.store.recent[-1].seq if self.store.recent else 0
        if self._unloadable[0] != head:
            self._unloadable = (head, unload_refusal(self.store) is None)
        return self._unloadable[1]

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
        base: dict[str, Any] = dict(seq=self.view.seq, station=self.config.station or "",
                    box_capacity=self.config.ballot_box_capacity, configured=pkg is not None,
                    lost=tuple(sorted(self._lost.items())), journal=tuple(self.store.recent),
                    internal_error=self._internal_error,
                    upload=self.sender.status if self.sender is not None else None)
        if pkg is not None:
            e = pkg.election
            base.update(station=pkg.station_id, station_name=e.stations[pkg.station_id].name,
                        election_title=e.title, election_hash=e.hash)
        if ctl is not None:
            c = ctl.counters
            printer = words_of(ctl.printer_fault) if ctl.printer_fault is not None else None
            if self._paper_out:
                printer = Words.of(N_("The printer is out of paper: load a new roll."))
            base.update(polls=ctl.polls, voter=ctl.voter, ballot=ctl.ballot,
                        test_mode=ctl.polls == "testing",
                        test_ballots=len(ctl.test_tally),
                        checked_in=len(c.checked_in), cast=c.cast, invalid_compartment=ctl.invalid_compartment,
                        box_swaps=c.box_swaps,
                        returned=c.returned, authorised_unused=c.outstanding,
                        box_sheets=self._box_sheets(ctl),
                        message=ctl.store_fault or (self._message if self._message_polls == ctl.polls else None),
                        desk_message=self._desk if self._desk_polls == ctl.polls else None,
                        unloadable=self._may_unload(ctl.polls),
                        review_reason=ctl.review_reason, busy=self._busy,
                        identity_wait=identity_wait(ctl.desk.pending),
                        by_commission=sum(c.by_commission.values()),
                        cover_open=self._cover_open, printer_problem=printer)
        view = UnitView(**base)
        return replace(view, situation=situation_of(view))
