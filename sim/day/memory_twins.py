"""In-memory twins of the four peripherals, for logical and image fidelity.

They implement the ``hardware.interfaces`` classes directly (no bytes on a wire): a scanner
transport that moves ``Sheet`` objects between the entry, the path, the box, the invalid
compartment and the voter's hand; a camera that shows the frame of the sheet in the path; an
ID reader fed by the simulated voter; a printer that keeps the slips. Faults (jams and double
feeds at a rate, from a seeded ``random.Random``) are raised exactly as a real driver raises
them. What they do not model: timing of the mechanics, line noise, disconnects — the pty twins
of full fidelity (``sim/twins``) do.
"""
from __future__ import annotations

import random
from collections import deque
from typing import Any

from hardware.interfaces import (Camera, DoubleFeed, IdReader, IdRecord, PeripheralError,
                                 PeripheralTimeout, Printer,
                                 ScannerEvent, ScannerEventKind, ScannerJam, ScannerStatus,
                                 ScannerTransport, Slip)
from sim.unit.peripherals import Sheet, StationPeripherals, World, into_box

# The events the twin reports, made once: they are frozen values (a sheet makes two of them)
_AT_ENTRY, _DROPPED, _RETURNED = (ScannerEvent(kind) for kind in (
    ScannerEventKind.PAPER_AT_ENTRY, ScannerEventKind.PAPER_DROPPED, ScannerEventKind.PAPER_RETURNED))


class MemoryScanner(ScannerTransport):
    def __init__(self, rng: random.Random, jam_rate: float = 0.0, double_feed_rate: float = 0.0):
        self.rng, self.jam_rate, self.double_feed_rate = rng, jam_rate, double_feed_rate
        self.entry: Sheet | None = None
        self.path: Sheet | None = None
        self.jammed = False
        self.box: list[Sheet] = []
        self.invalid_compartment: list[Sheet] = []
        self.returned: Sheet | None = None
        self.events: deque[ScannerEvent] = deque()

    def status(self, timeout: float = 1.0) -> ScannerStatus:
        return ScannerStatus(self.entry is not None, self.path is not None, False, self.jammed)

    def poll_event(self, timeout: float = 0.0) -> ScannerEvent | None:
        return self.events.popleft() if self.events else None

    def feed(self, timeout: float = 5.0) -> None:
        if self.jammed:
            raise ScannerJam("transport is jammed")
        if self.entry is None:
            raise PeripheralTimeout("no sheet at the entry")
        self.path, self.entry = self.entry, None
        # a fault at its rate (a station without faults draws nothing)
        if self.double_feed_rate > 0 and self.rng.random() < self.double_feed_rate:
            self.jammed = True
            raise DoubleFeed("double feed detected")
        if self.jam_rate > 0 and self.rng.random() < self.jam_rate:
            self.jammed = True
            raise ScannerJam("sheet stuck in the path")

    def _out_of_path(self, dest: list[Sheet] | None) -> None:
        if self.jammed:
            raise ScannerJam("transport is jammed")
        if self.path is None:
            raise PeripheralTimeout("no sheet in the path")
        if dest is not None and self.jam_rate > 0 and self.rng.random() < self.jam_rate:
            self.jammed = True
            raise ScannerJam("sheet stuck before the exit sensor")
        sheet, self.path = self.path, None
        if dest is None:
            self.returned = sheet
            self.events.append(_RETURNED)
        else:
            into_box(dest, sheet)
            self.events.append(_DROPPED)

    def accept(self, timeout: float = 5.0) -> None:
        self._out_of_path(self.box)

    def divert(self, timeout: float = 5.0) -> None:
        self._out_of_path(self.invalid_compartment)

    def return_sheet(self, timeout: float = 5.0) -> None:
        if self.path is None and self.entry is not None:  # never fed: reverse the entry rollers
            self.path, self.entry = self.entry, None
        self._out_of_path(None)

    def reset(self, timeout: float = 5.0) -> None:
        if self.path is not None:
            raise ScannerJam("a sheet is still in the path; remove it first")
        self.jammed = False


class MemoryCamera(Camera):
    def __init__(self, scanner: MemoryScanner):
        self.scanner = scanner

    def capture(self, timeout: float = 1.0) -> Any:
        if self.scanner.path is None:
            raise PeripheralTimeout("no sheet in the scan position")
        return self.scanner.path.frame


class MemoryIdReader(IdReader):
    def __init__(self) -> None:
        self.queue: deque[IdRecord] = deque()

    def read(self, timeout: float = 0.0) -> IdRecord | None:
        return self.queue.popleft() if self.queue else None


class MemoryPrinter(Printer):
    def __init__(self) -> None:
        self.slips: list[Slip] = []
        self.paper_out = False  # as the ESC/POS driver reports a paper end: nothing printed

    def print_slip(self, slip: Slip, timeout: float = 10.0) -> None:
        if self.paper_out:
            raise PeripheralError("printer out of paper: the slip was not printed in full")
        self.slips.append(slip)


class MemoryWorld(World):
    """The simulated hands acting on the in-memory twins."""

    def present_document(self, kind: str, payload: str) -> None:
        self.reader.queue.append(IdRecord(kind, payload))

    def insert_sheet(self, frame: Any) -> None:
        """``World.insert_sheet`` and ``_put_at_entry`` in one call (every sheet fed)."""
        self._serial += 1
        scanner = self.scanner
        scanner.entry = Sheet(self._serial, frame)
        scanner.events.append(_AT_ENTRY)

    def _put_at_entry(self, sheet: Sheet) -> None:
        self.scanner.entry = sheet
        self.scanner.events.append(_AT_ENTRY)

    def take_returned_sheet(self) -> Any | None:
        sheet, self.scanner.returned = self.scanner.returned, None
        return sheet.frame if sheet else None

    def _take_from_path(self) -> Sheet | None:
        sheet, self.scanner.path = self.scanner.path, None
        return sheet

    def printed_slips(self) -> list[Slip]:
        return list(self.printer.slips)


def build_memory_peripherals(rng: random.Random, jam_rate: float = 0.0,
                             double_feed_rate: float = 0.0) -> StationPeripherals:
    scanner = MemoryScanner(rng, jam_rate, double_feed_rate)
    reader, printer = MemoryIdReader(), MemoryPrinter()
    return StationPeripherals(scanner, MemoryCamera(scanner), reader, printer,
                              MemoryWorld(scanner, reader, printer))
