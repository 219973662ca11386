"""One abstract class per peripheral kind: the only way the firmware touches hardware.

The controller in ``device/`` knows peripherals only through these classes. Drivers for real
devices (serial lines, cameras) subclass them in ``hardware/``; simulated twins in ``sim/``
subclass them too or speak the same bytes to the real drivers. Every blocking call takes a
timeout in seconds; a driver raises one of the ``PeripheralError`` subclasses below, never a
library exception (``serial.SerialException``, ``cv2.error``) that the controller would have
to know about.

Every kind subclasses ``Peripheral`` (``probe()`` for health, ``close()``); the table of kinds
(name, base class, URL schemes, driver factory, console name) is ``hardware/peripherals.py``.

Kinds:
- ``ScannerTransport``: the motors and sensors that move a sheet: feed it into the scan
  position, drop it into the box (confirmed by the exit sensor), divert it into the invalid
  compartment, or return it to the voter.
- ``Camera``: frames of the sheet in the scan position (or of an ID card held up to it).
- ``IdReader``: raw records from a voter-ID document reader (an MRZ or a barcode payload).
- ``Printer``: prints ``Slip`` documents (zero report, receipts, results tape).
"""
from __future__ import annotations

import enum
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Any


class PeripheralError(Exception):
    """Base of every error a peripheral reports to the controller."""


class PeripheralTimeout(PeripheralError):
    """The peripheral did not answer in time."""


class PeripheralDisconnected(PeripheralError):
    """The link to the peripheral is down (cable, power, port gone)."""


class ScannerJam(PeripheralError):
    """A sheet is stuck in the transport; an operator must clear it."""


class DoubleFeed(PeripheralError):
    """More than one sheet entered the transport at once."""


class CoverOpen(PeripheralError):
    """The ballot box cover is open; the transport refuses to move paper."""


class ScannerEventKind(enum.Enum):
    PAPER_AT_ENTRY = "paper_at_entry"
    PAPER_IN_PATH = "paper_in_path"
    PAPER_DROPPED = "paper_dropped"
    PAPER_RETURNED = "paper_returned"
    JAM = "jam"
    DOUBLE_FEED = "double_feed"
    COVER_OPEN = "cover_open"
    COVER_CLOSED = "cover_closed"
    POWER = "power"


@dataclass(frozen=True)
class ScannerEvent:
    kind: ScannerEventKind
    detail: str = ""


@dataclass(frozen=True)
class ScannerStatus:
    paper_at_entry: bool = False
    paper_in_path: bool = False
    cover_open: bool = False
    jammed: bool = False


class Peripheral(ABC):
    """What the unit asks of every peripheral, whatever its kind: is it there, and let it go."""

    def probe(self, timeout: float = 1.0) -> object | None:
        """Check the link (raises a ``PeripheralError`` when the device does not answer) and return
        its status (``ScannerStatus``, ``PrinterStatus``), or None when this kind cannot tell
        without its next use (a reader is checked by its next ``read``)."""
        return None

    def close(self) -> None:
        """Release the port or device; never raises (the device may already be gone)."""


class ScannerTransport(Peripheral):
    """Paper handling of the ballot box. Each motion call returns when the sensors confirm it."""

    @abstractmethod
    def status(self, timeout: float = 1.0) -> ScannerStatus: ...

    @abstractmethod
    def poll_event(self, timeout: float = 0.0) -> ScannerEvent | None:
        """The next unsolicited event (paper at entry, cover opened...), or None."""

    @abstractmethod
    def feed(self, timeout: float = 5.0) -> None:
        """Pull the sheet at the entry into the scan position (raises ScannerJam, DoubleFeed)."""

    @abstractmethod
    def accept(self, timeout: float = 5.0) -> None:
        """Drop the sheet into the ballot box; returns once the exit sensor saw it fall."""

    @abstractmethod
    def divert(self, timeout: float = 5.0) -> None:
        """Drop the sheet into the invalid-ballot compartment; returns once confirmed."""

    @abstractmethod
    def return_sheet(self, timeout: float = 5.0) -> None:
        """Eject the sheet back to the voter; returns once it is out of the path."""

    @abstractmethod
    def reset(self, timeout: float = 5.0) -> None:
        """Re-initialise after a jam or error has been cleared."""

    def probe(self, timeout: float = 1.0) -> ScannerStatus:
        return self.status(timeout)


class PortOwner:
    """Mixin for a driver that talks over one pyserial-like port (``self.port``): ``close``
    closes it and ignores errors, since the device may already be gone."""

    port: Any

    def close(self) -> None:
        try:
            self.port.close()
        except Exception:
            pass


class Camera(Peripheral):
    """Frames as numpy arrays (grayscale uint8 or BGR), or a simulator's logical frame."""

    @abstractmethod
    def capture(self, timeout: float = 1.0) -> Any: ...


@dataclass(frozen=True)
class IdRecord:
    """One raw record from an ID document reader: ``kind`` is 'mrz' or 'barcode'."""

    kind: str
    payload: str


class IdReader(Peripheral):
    @abstractmethod
    def read(self, timeout: float = 0.0) -> IdRecord | None:
        """The next document presented, or None when none arrived within ``timeout``."""


@dataclass(frozen=True)
class Slip:
    """A printable document: a title, lines of text, and optional QR payloads at the end."""

    kind: str  # zero_report, checkin_receipt, polls_paused, polls_resumed, results
    title: str
    lines: tuple[str, ...] = ()
    qr_codes: tuple[str, ...] = field(default=())

    def as_text(self, width: int = 42) -> str:
        """Plain text: a ``"label\tfigure"`` row is padded so the figure ends at ``width``."""
        body = [self.title, "=" * len(self.title), *(_text_row(line, width) for line in self.lines)]
        body += [f"[QR] {q}" for q in self.qr_codes]
        return "\n".join(body) + "\n"


def _text_row(line: str, width: int) -> str:
    label, tab, figure = line.partition("\t")
    return f"{label:<{max(0, width - len(figure) - 1)}} {figure}" if tab else line


@dataclass(frozen=True)
class PrinterStatus:
    paper_out: bool = False
    near_end: bool = False


class Printer(Peripheral):
    @abstractmethod
    def print_slip(self, slip: Slip, timeout: float = 10.0) -> None: ...

    def status(self, timeout: float = 1.0) -> PrinterStatus | None:
        """The paper sensor, read between slips (None: this printer cannot tell)."""
        return None

    def probe(self, timeout: float = 1.0) -> PrinterStatus | None:
        return self.status(timeout)
