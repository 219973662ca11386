"""The virtual ballot scanner: the motor/sensor controller at the far end of the serial link.

It speaks ``hardware.serial_link`` frames carrying the commands of
``hardware.scanner_serial`` and moves ``Sheet`` objects between the entry, the scan position
(the path), the ballot box, the invalid compartment and the voter's hand, with the same
physical rules as the in-memory twin of ``sim/day/memory_twins.py``: a jam or double feed leaves
the sheet in the path and the transport jammed until an operator removes the sheet and the
host sends RESET. Mechanical time (feed, scan, drop, return) and line time (10 bits per byte
at the profile's baud) are charged to the injected ``advance(seconds)``; nothing sleeps.

Faults from the profile: jam and double-feed rates per motion, line noise both ways
(``LineFaults``), disconnects (the controller goes silent for a number of incoming frames, or
``disconnect()`` until ``reconnect()``), slow answers (ACK only, for a number of host repeats).

Not modelled: skew, paper of the wrong size, motor current, the cover's mechanical interlock
beyond refusing to move paper while open.
"""
from __future__ import annotations

import random
import threading
from collections import deque
from typing import Any, Callable

from hardware.interfaces import ScannerStatus
from hardware.scanner_serial import (MAX_EVENTS_PER_FETCH, Command, Event, Result, encode_events,
                                     encode_status)
from hardware.serial_link import LinkDevice
from sim.unit.peripherals import Sheet, into_box
from sim.twins.profile import LineFaults, Profile


class ScannerTwin:
    def __init__(self, profile: Profile, rng: random.Random,
                 advance: Callable[[float], None] | None = None) -> None:
        self.profile, self.rng = profile, rng
        self._advance = advance or (lambda s: None)
        self.lock = threading.RLock()
        self.entry: Sheet | None = None
        self.path: Sheet | None = None
        self.returned: Sheet | None = None
        self.box: list[Sheet] = []
        self.invalid_compartment: list[Sheet] = []
        self.jammed = False
        self.cover_open = False
        self.events: deque[tuple[Event, str]] = deque()
        self.mechanical_seconds = 0.0
        self.line_seconds = 0.0
        self.tx_faults = LineFaults(profile.faults, rng)
        self.rx_faults = LineFaults(profile.faults, rng)
        self._write: Callable[[bytes], None] | None = None
        self._silent_frames = 0
        self.unplugged = False
        self._slow_polls = 0
        self._slow_result: bytes | None = None
        self.link = LinkDevice(self._handle, self._send)
        self.commands: list[str] = []  # names of executed commands, in order

    # --- byte side ------------------------------------------------------------------------
    def attach(self, write: Callable[[bytes], None] | None) -> None:
        self._write = write

    def _charge_line(self, n: int) -> None:
        seconds = n * 10 / self.profile.timings.line_baud
        self.line_seconds += seconds
        self._advance(seconds)

    def _send(self, data: bytes) -> None:
        if self._write is None or self.unplugged:
            return
        self._charge_line(len(data))
        for chunk in self.tx_faults.apply(data):
            self._write(chunk)

    def receive(self, data: bytes) -> None:
        if self.unplugged:
            return
        if self._silent_frames > 0:
            self._silent_frames -= 1
            return
        self._charge_line(len(data))
        for chunk in self.rx_faults.apply(data):
            if self._slow_result is not None:
                self._slow_poll()
            self.link.receive(chunk)

    def disconnect(self) -> None:
        """Cable pulled: nothing in, nothing out, until ``reconnect``."""
        self.unplugged = True

    def reconnect(self) -> None:
        self.unplugged = False

    # --- command side ---------------------------------------------------------------------
    def _chance(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def _mechanical(self, seconds: float) -> None:
        self.mechanical_seconds += seconds
        self._advance(seconds)

    def _status(self) -> ScannerStatus:
        return ScannerStatus(self.entry is not None, self.path is not None, self.cover_open,
                             self.jammed)

    def _reply(self, result: Result, data: bytes = b"") -> bytes:
        return bytes((result, encode_status(self._status()))) + data

    def _handle(self, payload: bytes) -> bytes | None:
        f = self.profile.faults
        if self._chance(f.disconnect_rate):
            self._silent_frames = f.disconnect_frames
        try:
            command = Command(payload[0])
        except ValueError:
            return self._reply(Result.BAD_COMMAND)
        self.commands.append(command.name)
        result = self._execute(command)
        if self._chance(f.slow_response_rate) and f.slow_response_polls:
            self._slow_polls, self._slow_result = f.slow_response_polls, result
            return None  # ACK now, the result after the host has asked again
        return result

    def _slow_poll(self) -> None:
        self._slow_polls -= 1
        if self._slow_polls <= 0:
            result, self._slow_result = self._slow_result, None
            self.link.complete(result)

    def _execute(self, command: Command) -> bytes:
        t = self.profile.timings
        if command is Command.HELLO:
            self.events.append((Event.POWER, "on-line"))
            return self._reply(Result.OK)
        if command is Command.STATUS:
            return self._reply(Result.OK)
        if command is Command.EVENTS:
            return self._reply(Result.OK, self._take_events())
        if self.cover_open and command is not Command.RESET:
            return self._reply(Result.COVER_OPEN)
        if command is Command.RESET:
            if self.path is not None or self.cover_open:
                return self._reply(Result.JAM if self.path is not None else Result.COVER_OPEN)
            self._mechanical(t.reset_s)
            self.jammed = False
            return self._reply(Result.OK)
        if self.jammed:
            return self._reply(Result.JAM)
        if command is Command.FEED:
            return self._feed()
        if command is Command.RETURN:
            if self.path is None and self.entry is not None:  # never fed: reverse the rollers
                self.path, self.entry = self.entry, None
            return self._out_of_path(None, t.return_s)
        dest = self.box if command is Command.ACCEPT else self.invalid_compartment
        return self._out_of_path(dest, t.drop_s)

    def _feed(self) -> bytes:
        t, f = self.profile.timings, self.profile.faults
        if self.entry is None:
            return self._reply(Result.NO_PAPER)
        self.path, self.entry = self.entry, None
        self._mechanical(t.feed_s)
        if self._chance(f.double_feed_rate):
            self.jammed = True
            self.events.append((Event.DOUBLE_FEED, ""))
            return self._reply(Result.DOUBLE_FEED)
        if self._chance(f.jam_rate):
            self.jammed = True
            self.events.append((Event.JAM, "in the scan path"))
            return self._reply(Result.JAM)
        self._mechanical(t.scan_s)
        self.events.append((Event.PAPER_IN_PATH, ""))
        return self._reply(Result.OK)

    def _out_of_path(self, dest: list[Sheet] | None, seconds: float) -> bytes:
        if self.path is None:
            return self._reply(Result.NO_PAPER)
        self._mechanical(seconds)
        if dest is not None and self._chance(self.profile.faults.jam_rate):
            self.jammed = True
            self.events.append((Event.JAM, "before the exit sensor"))
            return self._reply(Result.JAM)
        sheet, self.path = self.path, None
        if dest is None:
            self.returned = sheet
            self.events.append((Event.PAPER_RETURNED, ""))
        else:
            into_box(dest, sheet)
            self.events.append((Event.PAPER_DROPPED, "box" if dest is self.box else "invalid"))
        return self._reply(Result.OK)

    def _take_events(self) -> bytes:
        batch = [self.events.popleft() for _ in range(min(len(self.events), MAX_EVENTS_PER_FETCH))]
        return encode_events(batch)

    # --- the world's hands ----------------------------------------------------------------
    def insert(self, sheet: Sheet) -> None:
        with self.lock:
            self.entry = sheet
            self.events.append((Event.PAPER_AT_ENTRY, ""))

    def take_returned(self) -> Sheet | None:
        with self.lock:
            sheet, self.returned = self.returned, None
            return sheet

    def open_cover(self) -> None:
        with self.lock:
            self.cover_open = True
            self.events.append((Event.COVER_OPEN, ""))

    def close_cover(self) -> None:
        with self.lock:
            self.cover_open = False
            self.events.append((Event.COVER_CLOSED, ""))

    def jam_sheet(self) -> bool:
        """The sheet at the entry or in the path gets stuck there (a crumpled corner): the
        transport is jammed until an operator removes it and the host resets. False when there
        is no sheet to jam."""
        with self.lock:
            if self.path is None and self.entry is None:
                return False
            if self.path is None:
                self.path, self.entry = self.entry, None
            self.jammed = True
            self.events.append((Event.JAM, "in the scan path"))
            return True

    def remove_from_path(self) -> Sheet | None:
        with self.lock:
            sheet, self.path = self.path, None
            return sheet

    @property
    def frame_in_path(self) -> Any | None:
        sheet = self.path
        return None if sheet is None else sheet.frame
