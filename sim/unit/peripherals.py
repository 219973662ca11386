"""The set of peripherals a simulated station runs with, and the simulated world's hands.

``StationPeripherals`` bundles the four peripheral interfaces the controller uses (scanner
transport, camera, ID reader, printer) with a ``World``: the side of the simulation that acts
on the physical things — a voter holding a document to the reader, feeding a sheet into the
scanner entry, taking a returned sheet back — and that counts what physically happened (sheets
in the box, in the invalid compartment). Every fidelity builds one: logical/image fidelity
with the in-memory twins of ``sim/day/memory_twins.py``, full fidelity with the real drivers over
ptys (``sim/day/full_fidelity.py``).
"""
from __future__ import annotations

from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any

from hardware.interfaces import Camera, IdReader, Printer, ScannerTransport, Slip


@dataclass(slots=True)  # (made and read once or twice a ballot)
class Sheet:
    """A physical sheet in the simulation: a serial number and the frame the camera sees."""

    serial: int
    frame: Any


def into_box(box: list[Sheet], sheet: Sheet) -> None:
    """A sheet drops into the ballot box (or the invalid compartment). Nobody scans it again, so
    only its serial is kept: at image fidelity the frame is a rendered page of ~4 MB, and a
    station day's box would otherwise hold ~1.5 GB of them."""
    box.append(Sheet(sheet.serial, None))


class World(ABC):
    """What the simulated people and paper do to the peripherals.

    Subclasses put a new sheet at the scanner entry (``_put_at_entry``) and may override how a
    sheet is dropped into the box (``_drop_into_box``, e.g. under the twin's lock)."""

    def __init__(self, scanner: Any, reader: Any, printer: Any) -> None:
        self.scanner, self.reader, self.printer = scanner, reader, printer
        self._serial = 0
        self.in_hand: Sheet | None = None  # a sheet an operator took out of the transport

    @abstractmethod
    def present_document(self, kind: str, payload: str) -> None:
        """A voter holds a document to the reader (``kind`` 'mrz' or 'barcode')."""

    def insert_sheet(self, frame: Any) -> None:
        """A voter feeds a sheet into the scanner entry; ``frame`` is what the camera will see."""
        self._serial += 1
        self._put_at_entry(Sheet(self._serial, frame))

    @abstractmethod
    def _put_at_entry(self, sheet: Sheet) -> None: ...

    def _drop_into_box(self, sheet: Sheet) -> None:
        into_box(self.scanner.box, sheet)

    @abstractmethod
    def take_returned_sheet(self) -> Any | None:
        """The voter takes back the sheet the scanner returned (None if none is out)."""

    def operator_removes_jammed_sheet(self) -> None:
        """An operator opens the transport and takes out the sheet stuck in the path. A sheet
        already in the hand (taken out before a power cut) stays there when the path is empty."""
        sheet = self._take_from_path()
        if sheet is not None:
            self.in_hand = sheet

    @abstractmethod
    def _take_from_path(self) -> Sheet | None:
        """Open the transport, take out the sheet in the path (None if there is none), close it."""

    def scanner_loses_power(self) -> None:
        """A power cut at the ballot box: the notices the scanner had queued are gone, and a sheet
        at the entry that was not yet taken in stays in the voter's hand (who inserts it again).
        A sheet in the path stays there, for the unit's power-on rule."""
        self.scanner.events.clear()
        self.scanner.entry = None

    def operator_places_sheet(self, into_box: bool) -> Any | None:
        """After the controller says how the jam/fault was resolved: the sheet in the
        operator's hand goes into the box (a recorded cast) or back to the voter (its frame
        is returned so the voter can insert it again)."""
        sheet, self.in_hand = self.in_hand, None
        if sheet is None:
            return None
        if into_box:
            self._drop_into_box(sheet)
            return None
        return sheet.frame

    # Both twins of the scanner keep the sheets that fell in ``box`` and ``invalid_compartment``.
    scanner: Any

    @property
    def sheets_in_box(self) -> int:
        return len(self.scanner.box)

    @property
    def sheets_in_invalid_compartment(self) -> int:
        return len(self.scanner.invalid_compartment)

    @abstractmethod
    def printed_slips(self) -> list[Slip]: ...

    def readable_slips(self) -> list[Slip]:
        """The printed slips as text a person reads in a terminal (QA's report, ``make demo``)."""
        return self.printed_slips()


@dataclass
class StationPeripherals:
    scanner: ScannerTransport
    camera: Camera
    id_reader: IdReader
    printer: Printer
    world: World
    extras: dict[str, Any] = field(default_factory=dict)

    def close(self) -> None:
        for p in (self.scanner, self.camera, self.id_reader, self.printer):
            p.close()
        for close in self.extras.pop("closers", ()):  # added devices (the fingerprint step's)
            close()
