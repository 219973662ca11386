"""The virtual voter-ID document reader: sends one CR-terminated record per document.

``present(kind, payload)``: an MRZ (lines joined by LF) or a barcode payload prefixed with its
AIM symbology identifier (``]C0`` for Code 128 by default), then CR — the serial mode of
commercial document readers (see ``hardware.id_reader_serial``). Line noise from the profile
(byte corruption, dropped or repeated records) is applied to what it sends, so a corrupted
MRZ reaches the firmware and is refused by its check digits. ``present_raw`` sends bytes as
they are (garbage, truncated records) for tests. The reader never listens to the host.
"""
from __future__ import annotations

import random
import threading
from typing import Callable

from sim.twins.profile import Faults, LineFaults


class DocReaderTwin:
    def __init__(self, faults: Faults | None = None, rng: random.Random | None = None,
                 barcode_symbology: str = "]C0") -> None:
        self.lock = threading.RLock()
        self.noise = LineFaults(faults or Faults(), rng or random.Random(0))
        self.symbology = barcode_symbology
        self._write: Callable[[bytes], None] | None = None
        self.pending = bytearray()  # sent while nobody was connected: kept for the next host
        self.sent = 0

    def attach(self, write: Callable[[bytes], None] | None) -> None:
        with self.lock:
            self._write = write
            if write is not None and self.pending:
                data, self.pending = bytes(self.pending), bytearray()
                write(data)

    def receive(self, data: bytes) -> None:
        pass  # a document reader in serial mode does not take commands

    def present(self, kind: str, payload: str) -> None:
        if kind == "barcode":
            record = self.symbology + payload
        elif kind == "mrz":
            record = "\n".join(line.strip() for line in payload.replace("\r", "\n").split("\n")
                               if line.strip())
        else:
            raise ValueError(f"unknown document kind {kind!r} (mrz or barcode)")
        for chunk in self.noise.apply(record.encode("ascii", "replace") + b"\r"):
            self.present_raw(chunk)

    def present_raw(self, data: bytes) -> None:
        with self.lock:
            self.sent += 1
            if self._write is None:
                self.pending += data
            else:
                self._write(data)
