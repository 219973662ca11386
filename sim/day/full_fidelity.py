"""Full fidelity: the real drivers talking to the simulated twins over pseudo-terminals.

``build_full_peripherals(election, paper, rng, clock, profile=...)`` starts the scanner
controller, document reader and printer twins, serves each on a pty pair (or a loopback TCP
port, or in memory with ``transport=``), and opens the real drivers on them through
``hardware.registry.open_peripheral`` — ``serial:///dev/pts/N`` exactly as on the device. The
camera is the virtual camera showing the sheet in the virtual scanner (whatever frame
``paper.make_sheet`` gave it: a logical frame or a numpy image). Mechanical and line time go to
``clock.advance`` when the clock has one. ``TwinWorld`` is the simulated hands (the same
operations as ``sim.day.memory_twins.MemoryWorld``), so ``sim/day/station.py`` runs a station day over
this bundle unchanged. With ``out_dir`` the printer twin writes each slip as text and PNG.
"""
from __future__ import annotations

import random
from pathlib import Path
from typing import Any

from hardware.interfaces import Printer, PrinterStatus, Slip
from hardware.registry import open_peripheral
from sim.unit.peripherals import Sheet, StationPeripherals, World, into_box
from sim.twins.backends import serial_driver
from sim.twins.camera import VirtualCamera
from sim.twins.doc_reader import DocReaderTwin
from sim.twins.endpoints import MemoryPort, PtyEndpoint, TcpEndpoint
from sim.twins.printer import PrinterTwin
from sim.twins.profile import Profile, load_profile
from sim.twins.scanner import ScannerTwin

TRANSPORTS = ("pty", "tcp", "memory")


class TwinWorld(World):
    """The simulated hands acting on the twins (documents, sheets, jams, the printer's paper)."""

    scanner: ScannerTwin
    reader: DocReaderTwin
    printer: PrinterTwin

    def present_document(self, kind: str, payload: str) -> None:
        self.reader.present(kind, payload)

    def _put_at_entry(self, sheet: Sheet) -> None:
        self.scanner.insert(sheet)

    def take_returned_sheet(self) -> Any | None:
        sheet = self.scanner.take_returned()
        return sheet.frame if sheet else None

    def _take_from_path(self) -> Sheet | None:
        self.scanner.open_cover()
        sheet = self.scanner.remove_from_path()
        self.scanner.close_cover()
        return sheet

    def scanner_loses_power(self) -> None:
        with self.scanner.lock:
            super().scanner_loses_power()

    def _drop_into_box(self, sheet: Sheet) -> None:
        with self.scanner.lock:
            into_box(self.scanner.box, sheet)

    def printed_slips(self) -> list[Slip]:
        with self.printer.lock:
            return [s.to_slip() for s in self.printer.slips]

    sent: list[Slip] | None = None  # the slips the unit's printer driver printed (SlipRecorder)

    def readable_slips(self) -> list[Slip]:
        """The twin holds pictures (shaped raster) and QR payloads; a person reads the text the
        unit sent to the printer, for each slip that printed."""
        return list(self.sent) if self.sent is not None else self.printed_slips()


class SlipRecorder(Printer):
    """A printer driver wrapped to keep each slip it printed (recording as a wrapper, like
    ``spy+``): the twin receives pictures, QA's report shows their text."""

    def __init__(self, inner: Printer) -> None:
        self.inner, self.slips = inner, []  # type: ignore[var-annotated]

    def print_slip(self, slip: Slip, timeout: float = 10.0) -> None:
        self.inner.print_slip(slip, timeout)
        self.slips.append(slip)

    def status(self, timeout: float = 1.0) -> PrinterStatus | None:
        return self.inner.status(timeout)

    def close(self) -> None:
        self.inner.close()


class FullStationPeripherals(StationPeripherals):
    """The bundle, plus the endpoints to stop when it closes."""

    def close(self) -> None:
        try:
            super().close()
        finally:
            for endpoint in self.extras.get("endpoints", ()):
                endpoint.close()


def _advance_of(clock: Any):
    advance = getattr(clock, "advance", None)
    return advance if callable(advance) else None


def build_twins(profile: Profile, rng: random.Random, clock: Any = None,
                out_dir: str | Path | None = None) -> tuple[ScannerTwin, DocReaderTwin, PrinterTwin]:
    scanner = ScannerTwin(profile, random.Random(rng.getrandbits(64)), _advance_of(clock))
    reader = DocReaderTwin(profile.faults, random.Random(rng.getrandbits(64)))
    return scanner, reader, PrinterTwin(out_dir)


def build_full_peripherals(election: Any, paper: Any, rng: random.Random, clock: Any, *,
                           profile: str | Path | dict | Profile | None = None,
                           transport: str = "pty", out_dir: str | Path | None = None,
                           ack_timeout: float = 0.05) -> FullStationPeripherals:
    """Twins + real drivers on ptys (or ``transport='tcp'``/``'memory'``) for a station day.

    ``election`` and ``paper`` are accepted for symmetry with the other fidelities: the twins
    carry whatever frames the simulated voters insert.
    """
    if transport not in TRANSPORTS:
        raise ValueError(f"transport must be one of {', '.join(TRANSPORTS)}")
    prof = profile if isinstance(profile, Profile) else load_profile(profile)
    scanner_twin, reader_twin, printer_twin = build_twins(prof, rng, clock, out_dir)
    endpoints: list = []
    drivers = {}
    for kind, twin in (("scanner", scanner_twin), ("id_reader", reader_twin),
                       ("printer", printer_twin)):
        if transport == "memory":
            drivers[kind] = serial_driver(kind, MemoryPort(twin), ack_timeout)
            continue
        endpoint = PtyEndpoint(twin) if transport == "pty" else TcpEndpoint(twin)
        endpoints.append(endpoint)
        query = f"?ack_timeout={ack_timeout}" if kind == "scanner" else ""
        drivers[kind] = open_peripheral(kind, endpoint.url + query)
    camera = VirtualCamera(scanner_twin, random.Random(rng.getrandbits(64)),
                           prof.faults.dropped_camera_frame_rate)
    world = TwinWorld(scanner_twin, reader_twin, printer_twin)
    printer = SlipRecorder(drivers["printer"])
    world.sent = printer.slips
    return FullStationPeripherals(
        drivers["scanner"], camera, drivers["id_reader"], printer, world,
        extras={"endpoints": endpoints, "profile": prof, "transport": transport,
                "twins": {"scanner": scanner_twin, "id_reader": reader_twin,
                          "printer": printer_twin}})
