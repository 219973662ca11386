"""A whole simulated unit for ``ballotbox device run --sim``: twins on ptys, voters, paper that persists.

``start_simulated_unit(state_dir, seed=...)`` is the ``ballotbox.simulated_world`` entry point
``device run --sim`` loads (device/ never imports sim/). It

- starts the scanner, document reader and printer twins, each on a pty (``PtyEndpoint``), so
  the unit opens them by URL with the real drivers exactly as it would open serial ports (and the
  fingerprint sensor's twin when the scenario has that step, its enrolment sealed in the package);
- plans the station's voters (``sim/day/voters.py``); as the election authority (a key derived
  from the seed) signs the election package with that roll, the unit's key in its registry and
  the simulated staff's PINs (``SIM_PINS``); provisions the unit's store (trust anchor + unit
  key, as a factory would); and writes the unit's ``unit.toml`` naming the store, the authority
  key, the package to load and the pty URLs;
- keeps the *physical* world in ``world.pkl`` (the sheets in the box, the invalid compartment,
  the path and the entry, in the operator's hand, the sealed full boxes; the cover; the
  printer's paper; the next voter), written atomically after every motion, so that a power cut
  (SIGKILL of the whole process) loses no paper: the next start puts it all back.

A sheet is kept as what its voter meant (``SheetInfo``: kind and marks); its image is rendered
by ``ImagePaper`` (the real interpreter reads it) from a generator seeded by its serial, so a
restored sheet looks exactly as before.
"""
from __future__ import annotations

import hashlib
import os
import pickle
import random
import signal
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from device.ballots.records import CastVoteRecord
from device.election.definition import Election, load_election
from device.results.tally import Results, tally_station
from device.unit.config import write_config
from device.election.authority import AuthorityKey
from device.election.package import build_package
from device.election.voter_roll import VoterRoll
from device.station.provisioning import provision_unit
from sim.unit.access import SIMULATION_PINS
from device.store.signing import UnitSigner
from device.store.sqlite import SqliteStore
from hardware.scanner_serial import Command, Event, Result
from sim.day.enrolment import enrolment_for
from sim.day.full_fidelity import TwinWorld
from sim.unit.peripherals import Sheet
from sim.day.station import voters_intent
from sim.twins.camera import VirtualCamera
from sim.twins.doc_reader import DocReaderTwin
from sim.twins.endpoints import PtyEndpoint
from sim.twins.fingerprint import FingerprintTwin
from sim.twins.printer import PrinterTwin
from sim.twins.profile import load_profile
from sim.twins.scanner import ScannerTwin
from sim.day.voters import Visitor, load_scenario, plan_station_day

MOTIONS = frozenset((Command.FEED, Command.ACCEPT, Command.RETURN, Command.DIVERT, Command.RESET))
SIM_PINS = SIMULATION_PINS  # the simulated staff's PINs: one table for every simulation
DEFAULT_ELECTION = "demo"
WORLD_FILE = "world.pkl"
SIM_MIRROR = "card/mirror.db"  # the simulated unit's second medium, in a second folder


@dataclass(frozen=True)
class SheetInfo:
    kind: str  # ballot | test_ballot | not_a_ballot
    marks: tuple[tuple[str, tuple[str, ...]], ...]
    how: str = "clean"  # clean | overvoted | blank | test


@dataclass
class WorldState:
    """Everything physical that survives a power cut (pickled)."""

    serial: int = 0
    next_voter: int = 0  # index of the next planned voter to come to the ID desk
    current_voter: int | None = None  # the voter who last showed a card (marks the next ballot)
    sheets: dict[int, SheetInfo] = field(default_factory=dict)
    entry: int | None = None
    path: int | None = None
    returned: int | None = None
    in_hand: int | None = None
    box: list[int] = field(default_factory=list)
    invalid: list[int] = field(default_factory=list)
    sealed: list[int] = field(default_factory=list)  # sheets of full boxes taken out
    cover_open: bool = False
    jammed: bool = False
    paper_out: bool = False
    box_swaps: int = 0


class PersistentScannerTwin(ScannerTwin):
    """The scanner twin, calling ``on_change`` after every command and every hand's move; and
    able to jam the next sheet it feeds (the panel's "jam the transport")."""

    on_change = staticmethod(lambda: None)
    jam_next = False

    def _handle(self, payload: bytes) -> bytes | None:
        reply = super()._handle(payload)
        if payload and payload[0] in MOTIONS:  # the sensors' polls move nothing
            self.on_change()
        return reply

    def _feed(self) -> bytes:
        if self.jam_next and self.entry is not None:
            self.jam_next = False
            self.path, self.entry = self.entry, None
            self.jammed = True
            self.events.append((Event.JAM, "in the scan path"))
            return self._reply(Result.JAM)
        return super()._feed()


class PressingFingerprintTwin(FingerprintTwin):
    """The sensor's twin under a voter's hand: a finger placed is read once, then lifted.

    Read and lift under the twin's lock: the unit asks for a press over and over, and a press
    placed between the read and the lift would otherwise be lifted unread."""

    def _gen_img(self) -> int:
        with self.lock:
            code = super()._gen_img()
            if self.finger != "none":
                self.finger = "none"
            return code


class SimulatedWorld(TwinWorld):
    """The hands of the voters and of the poll worker, on twins whose paper persists."""

    def __init__(self, election: Election, station: str, state_dir: Path, seed: int, voters: list[Visitor],
                 paper: Any, fingerprint: bool = False) -> None:
        self.election, self.station, self.state_dir, self.seed = election, station, state_dir, seed
        self.voters, self.paper = voters, paper
        profile = load_profile(None)
        scanner = PersistentScannerTwin(profile, random.Random(f"{seed}:scanner"))
        reader = DocReaderTwin(profile.faults, random.Random(f"{seed}:reader"))
        printer = PrinterTwin(state_dir / "printed")
        super().__init__(scanner, reader, printer)
        self.state = self._load()
        self._saves = 0
        self._power_cut_at = int(os.environ.get("BALLOTBOX_SIM_POWER_CUT", "0") or 0)
        self._frames: dict[int, Sheet] = {}
        self._restore()
        scanner.on_change = self.save
        self.camera = VirtualCamera(scanner, random.Random(f"{seed}:camera"))
        self.finger = PressingFingerprintTwin(rng=random.Random(f"{seed}:fingerprint-sensor")) if fingerprint else None
        # one pty per wire twin, by its kind of hardware/peripherals.py (the sensor: if any)
        self.endpoints = {kind: PtyEndpoint(t) for kind, t in (("scanner", scanner), ("id_reader", reader),
                          ("printer", printer), ("fingerprint", self.finger)) if t is not None}

    # --- persistence -----------------------------------------------------------------------
    def _load(self) -> WorldState:
        try:
            with open(self.state_dir / WORLD_FILE, "rb") as fh:
                return pickle.load(fh)
        except FileNotFoundError:
            return WorldState()

    def _sheet(self, serial: int | None) -> Sheet | None:
        if serial is None:
            return None
        if serial not in self._frames:
            info = self.state.sheets[serial]
            frame = self.paper.make_sheet(self.election.stations[self.station].ballot_style,
                                          dict(info.marks), random.Random(f"{self.seed}:sheet:{serial}"),
                                          info.kind)
            self._frames[serial] = Sheet(serial, frame)
        return self._frames[serial]

    def _restore(self) -> None:
        s, sc = self.state, self.scanner
        self._serial = s.serial
        sc.entry, sc.path, sc.returned = self._sheet(s.entry), self._sheet(s.path), self._sheet(s.returned)
        self.in_hand = self._sheet(s.in_hand)
        sc.box = [Sheet(n, None) for n in s.box]
        sc.invalid_compartment = [Sheet(n, None) for n in s.invalid]
        sc.cover_open, sc.jammed = s.cover_open, s.jammed
        self.printer.paper_out = s.paper_out
        if sc.entry is not None:
            sc.events.append((Event.PAPER_AT_ENTRY, ""))

    def save(self) -> None:
        """Write the physical state atomically (called under the scanner's lock or the hands').

        With ``BALLOTBOX_SIM_POWER_CUT=N`` in the environment the process SIGKILLs itself right
        after the N-th save: a power cut just after a motion, before the unit hears of it."""
        sc, s = self.scanner, self.state
        with sc.lock:
            s.serial = self._serial
            s.entry, s.path, s.returned = (x.serial if x else None for x in (sc.entry, sc.path, sc.returned))
            s.in_hand = self.in_hand.serial if self.in_hand else None
            s.box = [x.serial for x in sc.box]
            s.invalid = [x.serial for x in sc.invalid_compartment]
            s.cover_open, s.jammed, s.paper_out = sc.cover_open, sc.jammed, self.printer.paper_out
            tmp = self.state_dir / (WORLD_FILE + ".tmp")
            with open(tmp, "wb") as fh:
                pickle.dump(s, fh)
            os.replace(tmp, self.state_dir / WORLD_FILE)
            self._saves += 1
            if self._saves == self._power_cut_at:
                os.kill(os.getpid(), signal.SIGKILL)

    # --- hands -------------------------------------------------------------------------------
    def next_voter(self) -> Visitor | None:
        if self.state.next_voter >= len(self.voters):
            return None
        return self.voters[self.state.next_voter]

    def present_voter_card(self) -> Visitor | None:
        """The next planned voter shows their card; their ballots carry their marks."""
        voter = self.next_voter()
        if voter is not None:
            with self.scanner.lock:
                self.state.current_voter = self.state.next_voter
                self.state.next_voter += 1
                self.save()
            self.present_document(*voter.document)
        return voter

    def present_card(self, payload: str) -> None:
        self.present_document("barcode", payload)

    def insert_ballot(self, how: str = "clean") -> int | None:
        """The current voter inserts a ballot: ``clean`` (as they mean it), ``overvoted``, ``blank``
        or ``test`` (a test-deck ballot). None when a sheet is already at the entry."""
        current = self.state.current_voter
        if how == "test":  # the test deck: known marks, those of the planned voters in turn
            current = self.state.serial % len(self.voters) if self.voters else None
        marks = dict(self.voters[current].marks) if current is not None else {}
        kind = "test_ballot" if how == "test" else "ballot"
        if how == "overvoted":
            for c in self.election.contests_for_style(self.election.stations[self.station].ballot_style):
                if c.vote_for < len(c.choices):
                    marks[c.id] = tuple(c.choice_ids()[: c.vote_for + 1])
                    break
        elif how == "blank":
            marks = {}
        with self.scanner.lock:
            if self.scanner.entry is not None:
                return None
            self.scanner.take_returned()  # a sheet handed back is in the voter's hand now
            self._serial += 1
            info = SheetInfo(kind, tuple(sorted(marks.items())), how)
            self.state.sheets[self._serial] = info
            self._put_at_entry(self._sheet(self._serial))
            self.save()
        return self._serial

    def take_back(self) -> bool:
        with self.scanner.lock:
            sheet = self.scanner.take_returned()
            self.save()
        return sheet is not None

    def remove_jammed_sheet(self) -> None:
        """A poll worker opens the cover, takes out the sheet stuck in the path, closes it."""
        with self.scanner.lock:
            if self.scanner.path is not None:
                self.operator_removes_jammed_sheet()
            self.save()

    def place_removed_sheet(self, into_box: bool) -> None:
        """The sheet taken out of a jam goes into the box, or back into the voter's hand."""
        with self.scanner.lock:
            sheet, self.in_hand = self.in_hand, None
            if sheet is not None:
                if into_box:
                    self._drop_into_box(sheet)
                else:
                    self.scanner.returned = sheet
            self.save()

    def set_cover(self, open_: bool) -> None:
        (self.scanner.open_cover if open_ else self.scanner.close_cover)()
        self.save()

    def set_paper(self, loaded: bool) -> None:
        with self.printer.lock:
            self.printer.paper_out = not loaded
        self.save()

    def swap_box(self) -> int:
        with self.scanner.lock:
            n = len(self.scanner.box)
            self.state.sealed += [s.serial for s in self.scanner.box]
            self.scanner.box = []
            self.state.box_swaps += 1
            self.save()
        return n

    def remove_test_deck(self) -> int:
        """After test mode the poll workers take the test ballots out of the box before opening."""
        with self.scanner.lock:
            sc = self.scanner
            test = [x for x in sc.box + sc.invalid_compartment
                    if self.state.sheets[x.serial].kind == "test_ballot"]
            if test:
                sc.box = [x for x in sc.box if x not in test]
                sc.invalid_compartment = [x for x in sc.invalid_compartment if x not in test]
                self.save()
        return len(test)

    def set_scanner_cable(self, plugged: bool) -> None:
        (self.scanner.reconnect if plugged else self.scanner.disconnect)()

    def jam_next_sheet(self) -> None:
        self.scanner.jam_next = True

    def place_finger(self, finger: str) -> bool:
        """The voter presses ``finger`` (genuine | impostor | none); False: the unit has no sensor."""
        if self.finger is not None:
            self.finger.place(finger)
        return self.finger is not None

    # --- checks ------------------------------------------------------------------------------
    def sheets_counted(self) -> list[int]:
        s = self.state
        return s.sealed + [x.serial for x in self.scanner.box] + [x.serial for x in
                                                                  self.scanner.invalid_compartment]

    def intended_results(self) -> Results:
        """What the sheets in the boxes mean, counted under the election's policy."""
        style = self.election.stations[self.station].ballot_style
        cvrs = [CastVoteRecord(f"truth-{n:06d}", style,
                               voters_intent(self.election, style, dict(self.state.sheets[n].marks)))
                for n in self.sheets_counted()]
        return tally_station(self.election, self.station, cvrs)

    def close(self) -> None:
        for e in self.endpoints.values():
            e.close()


@dataclass
class SimulatedUnit:
    """What ``device run --sim`` gets: the config to boot, objects it cannot open by URL (the
    virtual camera), the world, and the panel to show beside the console."""

    config_path: Path
    world: SimulatedWorld
    devices: dict[str, Any]
    roll: Any = None  # the station's voter roll (a VoterRoll): an authority's package may use it

    def panel(self) -> Any:
        from sim.unit.world_panel import WorldPanel
        return WorldPanel(self.world)

    def autopilot(self, voters: int | None = None, rng_seed: int = 0):
        from sim.unit.world_panel import autoplay
        return lambda pilot: autoplay(pilot, self.world, voters=voters, seed=rng_seed)

    def close(self) -> None:
        self.world.close()


def _authority_and_package(state: Path, elec: Election, station: str, roll, seed: int,
                           fingerprint: Any = None) -> tuple[str, Path]:
    """The simulated authority's key, the provisioned store and the signed package (made once)."""
    authority = AuthorityKey.from_seed(hashlib.sha256(f"{seed}:authority".encode()).digest())
    package = state / "election.bbpkg"
    unit_key = UnitSigner.generate(random.Random(f"{seed}:unit-key"))
    if not (state / "unit.db").exists():
        (state / "card").mkdir(exist_ok=True)  # the second medium: the mirror's folder
        store = SqliteStore(state / "unit.db", mirror=state / SIM_MIRROR)
        try:
            provision_unit(store, authority.public_key_hex(), unit_key=unit_key)
        finally:
            store.close()
    if not package.exists():
        here = VoterRoll([v for v in roll.voters if v.station_id == station])  # enrolled as the scenario says
        enrolment = fingerprint and enrolment_for({station: here}, seed, settings=fingerprint.settings,
                                                  unenrolled_rate=fingerprint.unenrolled_rate)
        build_package(elec, roll, authority, package, units={station: [unit_key.public_key_hex()]},
                      staff_pins={station: dict(SIM_PINS)}, pin_cost="simulation", mode="simulation",
                      pseudonym_key=hashlib.sha256(f"{seed}:pseudonyms".encode()).digest(),
                      fingerprints=enrolment)
    return authority.public_key_hex(), package


def start_simulated_unit(state_dir: str | Path, *, seed: int = 1, election: str = DEFAULT_ELECTION,
                         station: str | None = None, voters: int = 40, capacity: int = 500) -> SimulatedUnit:
    from sim.paper.image_paper import ImagePaper

    elec = load_election(election)  # an unknown election is refused before anything is written
    state = Path(state_dir)
    (state / "printed").mkdir(parents=True, exist_ok=True)
    station = station or next(iter(elec.stations))
    scenario = load_scenario(None, elec, election)
    # Voters mark clean ballots; overvoted and blank ones come from the panel's keys.
    scenario = replace(scenario, rates={**scenario.rates, "overvote_rate": 0.0,
                                                    "blank_rate": 0.0})
    roll, visitors = plan_station_day(elec, station, voters, scenario, random.Random(f"{seed}:plan"))
    planned = [v for v in visitors if v.kind == "voter"]
    anchor, package = _authority_and_package(state, elec, station, roll, seed, scenario.fingerprint)
    paper = ImagePaper(elec, distortion="clean")
    world = SimulatedWorld(elec, station, state, seed, planned, paper, scenario.fingerprint is not None)
    urls = {kind: e.url for kind, e in world.endpoints.items()}
    config = state / "unit.toml"
    write_config(config, store="unit.db", authority=anchor, package=package.name, station=station,
                 peripherals={**urls, "camera": "sim://camera"}, ballot_box_capacity=capacity,
                 export_dir="export", durability="full", mirror=SIM_MIRROR)
    return SimulatedUnit(config, world, {"camera": world.camera}, roll)
