"""The voter-ID document reader on a serial line, in its serial (keyboard-less) mode.

URL forms (through ``hardware.registry.open_peripheral("id_reader", url)``)::

    serial:///dev/ttyACM0?baud=9600
    socket://127.0.0.1:7001

As commercial OCR/barcode document readers do in serial mode, the reader sends one record per
document, terminated by CR (0x0D): the lines of an ICAO 9303 MRZ separated by LF (0x0A), or a
barcode payload prefixed with its AIM symbology identifier (``]C0`` Code 128, ``]Q1`` QR).
``SerialIdReader.read`` turns a record into an ``IdRecord``; it does not validate — the
firmware's ``device.identity.parse_id_record`` does, and refuses a bad record with a detail the
operator reads. Line noise is handled here only as far as framing goes: control bytes other
than LF are dropped, a record that stops arriving for ``inter_char_timeout`` is delivered as it
is (truncated, so parsing refuses it clearly), an empty record is skipped.
"""
from __future__ import annotations

import time

from hardware.interfaces import PortOwner, IdReader, IdRecord, PeripheralDisconnected

CR, LF = 0x0D, 0x0A
AIM_BARCODE = ("]C0", "]C1", "]Q1", "]Q0", "]Q2", "]Q3")  # Code 128 and QR symbology identifiers
MAX_RECORD = 512


def record_from_line(raw: bytes) -> IdRecord | None:
    """One CR-terminated record (without its CR) -> IdRecord, or None for an empty record."""
    text = bytes(b for b in raw if b == LF or 0x20 <= b < 0x7F).decode("ascii").strip("\n ")
    if not text:
        return None
    if text[:3] in AIM_BARCODE:
        return IdRecord("barcode", text[3:].strip())
    return IdRecord("mrz", text)


class SerialIdReader(PortOwner, IdReader):
    def __init__(self, port, *, inter_char_timeout: float = 0.3, monotonic=time.monotonic) -> None:
        self.port = port
        self.inter_char_timeout = inter_char_timeout
        self._monotonic = monotonic
        self._buf = bytearray()
        self._last_byte_at = 0.0

    def _take(self) -> IdRecord | None:
        while True:
            end = self._buf.find(bytes((CR,)))
            if end < 0:
                if len(self._buf) > MAX_RECORD:  # no terminator in sight: deliver, truncated
                    raw = bytes(self._buf[:MAX_RECORD])
                    del self._buf[:MAX_RECORD]
                    return record_from_line(raw) or None
                return None
            raw = bytes(self._buf[:end])
            del self._buf[:end + 1]
            record = record_from_line(raw)
            if record is not None:
                return record

    def _truncated(self) -> IdRecord | None:
        """A record that stopped arriving for ``inter_char_timeout``: delivered as it is."""
        if self._buf and self._monotonic() - self._last_byte_at >= self.inter_char_timeout:
            raw = bytes(self._buf)
            self._buf.clear()
            return record_from_line(raw)
        return None

    def read(self, timeout: float = 0.0) -> IdRecord | None:
        deadline = self._monotonic() + timeout
        while True:
            record = self._take() or self._truncated()
            if record is not None:
                return record
            now = self._monotonic()
            wait = max(0.0, deadline - now)
            if self._buf:
                wait = min(wait, max(0.0, self._last_byte_at + self.inter_char_timeout - now))
            try:
                self.port.timeout = wait
                data = self.port.read(max(1, self.port.in_waiting))
                if data and self.port.in_waiting:
                    data += self.port.read(self.port.in_waiting)
            except Exception as exc:  # serial.SerialException, OSError
                raise PeripheralDisconnected(f"document reader link lost: {exc}") from None
            if data:
                self._buf += data
                self._last_byte_at = self._monotonic()
            elif self._monotonic() >= deadline:
                return self._take() or self._truncated()

