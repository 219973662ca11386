"""The ballot scanner's paper transport driven over a serial line (``SerialScannerTransport``).

URL forms (through ``hardware.registry.open_peripheral("scanner", url)``)::

    serial:///dev/ttyUSB0?baud=115200&ack_timeout=0.05&retries=4
    socket://127.0.0.1:7000

The motor/sensor controller speaks the framed link of ``hardware.serial_link``; the command,
result and event codes below are the whole application protocol (``docs/protocol.md`` is
tested against them). Every motion command's RES carries a result status and the sensor
flags; a status other than OK becomes the ``PeripheralError`` subclass the controller knows
(``ScannerJam``, ``DoubleFeed``, ``CoverOpen``). Unsolicited events are queued in the
controller and fetched with ``EVENTS`` (exactly once: a repeated SEQ gets the same batch).
"""
from __future__ import annotations

import enum
from collections import deque

from hardware.interfaces import (PortOwner, CoverOpen, DoubleFeed, PeripheralError, ScannerEvent,
                                 ScannerEventKind, ScannerJam, ScannerStatus, ScannerTransport)
from hardware.serial_link import HELLO, BytePort, LinkHost


class Command(enum.IntEnum):
    HELLO = HELLO  # open a session (SEQ 0); result: status
    STATUS = 0x01  # sensor flags
    FEED = 0x02  # pull the sheet at the entry into the scan position
    ACCEPT = 0x03  # drop the sheet into the ballot box; done when the exit sensor saw it
    RETURN = 0x04  # eject the sheet back to the voter
    DIVERT = 0x05  # drop the sheet into the invalid-ballot compartment
    RESET = 0x06  # re-initialise after a jam or fault was cleared
    EVENTS = 0x07  # fetch queued unsolicited events


class Result(enum.IntEnum):
    OK = 0x00
    JAM = 0x01
    DOUBLE_FEED = 0x02
    COVER_OPEN = 0x03
    NO_PAPER = 0x04  # FEED with nothing at the entry, or ACCEPT/RETURN/DIVERT with nothing in the path
    BAD_COMMAND = 0x05
    FAULT = 0x06  # motor or sensor failure


class Event(enum.IntEnum):
    PAPER_AT_ENTRY = 0x10
    PAPER_IN_PATH = 0x11
    PAPER_DROPPED = 0x12
    PAPER_RETURNED = 0x13
    JAM = 0x14
    DOUBLE_FEED = 0x15
    COVER_OPEN = 0x16
    COVER_CLOSED = 0x17
    POWER = 0x18


class SensorFlag(enum.IntFlag):
    PAPER_AT_ENTRY = 0x01
    PAPER_IN_PATH = 0x02
    COVER_OPEN = 0x04
    JAMMED = 0x08


MAX_EVENTS_PER_FETCH = 16  # the controller answers EVENTS with at most this many queued events
EVENT_KINDS = {e: ScannerEventKind[e.name] for e in Event}
RESULT_ERRORS: dict[Result, type[PeripheralError]] = {
    Result.JAM: ScannerJam, Result.DOUBLE_FEED: DoubleFeed, Result.COVER_OPEN: CoverOpen,
    Result.NO_PAPER: PeripheralError, Result.BAD_COMMAND: PeripheralError,
    Result.FAULT: PeripheralError,
}
RESULT_TEXT = {
    Result.JAM: "paper jam", Result.DOUBLE_FEED: "double feed", Result.COVER_OPEN: "cover open",
    Result.NO_PAPER: "no sheet where the command needs one",
    Result.BAD_COMMAND: "the scanner refused the command", Result.FAULT: "motor or sensor fault",
}


def encode_status(flags: ScannerStatus) -> int:
    value = SensorFlag(0)
    for flag, on in ((SensorFlag.PAPER_AT_ENTRY, flags.paper_at_entry),
                     (SensorFlag.PAPER_IN_PATH, flags.paper_in_path),
                     (SensorFlag.COVER_OPEN, flags.cover_open), (SensorFlag.JAMMED, flags.jammed)):
        if on:
            value |= flag
    return int(value)


def decode_status(byte: int) -> ScannerStatus:
    f = SensorFlag(byte & 0x0F)
    return ScannerStatus(paper_at_entry=bool(f & SensorFlag.PAPER_AT_ENTRY),
                         paper_in_path=bool(f & SensorFlag.PAPER_IN_PATH),
                         cover_open=bool(f & SensorFlag.COVER_OPEN),
                         jammed=bool(f & SensorFlag.JAMMED))


def encode_events(events: list[tuple[Event, str]]) -> bytes:
    out = bytearray((len(events),))
    for code, detail in events:
        raw = detail.encode("ascii", "replace")[:40]
        out += bytes((code, len(raw))) + raw
    return bytes(out)


def decode_events(data: bytes) -> list[ScannerEvent]:
    events, i = [], 1
    for _ in range(data[0] if data else 0):
        code, n = data[i], data[i + 1]
        detail = data[i + 2:i + 2 + n].decode("ascii", "replace")
        i += 2 + n
        try:
            events.append(ScannerEvent(EVENT_KINDS[Event(code)], detail))
        except ValueError:
            continue  # an event code this firmware does not know: skip it
    return events


class SerialScannerTransport(PortOwner, ScannerTransport):
    """``ScannerTransport`` over a pyserial-like port speaking the framed link."""

    def __init__(self, port: BytePort, *, ack_timeout: float = 0.05, retries: int = 4,
                 reopen=None) -> None:
        self.link = LinkHost(port, ack_timeout=ack_timeout, retries=retries, reopen=reopen)
        self._events: deque[ScannerEvent] = deque()
        self.last_status = ScannerStatus()

    def _call(self, command: Command, timeout: float) -> bytes:
        payload = self.link.request(command, timeout=timeout)
        if len(payload) < 2:
            raise PeripheralError(f"short result to {command.name}: {payload.hex()}")
        try:
            result = Result(payload[0])
        except ValueError:
            raise PeripheralError(f"unknown result code 0x{payload[0]:02x} to {command.name}") from None
        self.last_status = decode_status(payload[1])
        if result is not Result.OK:
            raise RESULT_ERRORS[result](f"{RESULT_TEXT[result]} ({command.name.lower()})")
        return payload[2:]

    def status(self, timeout: float = 1.0) -> ScannerStatus:
        self._call(Command.STATUS, timeout)
        return self.last_status

    def poll_event(self, timeout: float = 0.0) -> ScannerEvent | None:
        if not self._events:
            self._events.extend(decode_events(self._call(Command.EVENTS, max(timeout, 0.5))))
        return self._events.popleft() if self._events else None

    def discard_events(self) -> None:
        """Forget the notices fetched from the scanner but not yet handed out (a unit that
        restarts after a power cut starts with none)."""
        self._events.clear()

    def feed(self, timeout: float = 5.0) -> None:
        self._call(Command.FEED, timeout)

    def accept(self, timeout: float = 5.0) -> None:
        self._call(Command.ACCEPT, timeout)

    def divert(self, timeout: float = 5.0) -> None:
        self._call(Command.DIVERT, timeout)

    def return_sheet(self, timeout: float = 5.0) -> None:
        self._call(Command.RETURN, timeout)

    def reset(self, timeout: float = 5.0) -> None:
        self._call(Command.RESET, timeout)

    @property
    def port(self) -> BytePort:  # the link reopens its port after a loss: close the current one
        return self.link.port
