"""The virtual thermal printer: decodes ESC/POS and renders each slip to text and PNG.

It understands the commands python-escpos emits for our slips (and skips the rest by their
declared lengths): ``ESC @`` init, ``ESC !``/``ESC E``/``ESC a``/``ESC t``/``GS !`` modes,
``ESC d`` feed, ``GS ( k`` native QR (store + print), ``GS v 0`` raster bands (decoded into
the slip's picture, band under band), ``GS V`` cut — which ends a slip — and the real-time
status request ``DLE EOT n``, answered at once with one status byte (paper end when
``paper_out`` is set). Text is decoded in the code page selected with ``ESC t``.

Each cut slip becomes a ``PrintedSlip``: its picture (the decoded raster: our slips are
printed as pictures, since no code page holds Khmer or ң ө ү), the QR codes read back from the
picture with zbar (and any native ones), its text lines (the ``[kind]`` form line), and, when
``out_dir`` is set, ``slip-NNN-<kind>.png`` (the paper as printed) and ``.txt`` files.
``to_slip()`` gives what a machine reads off the paper: the kind and the QR payloads; the text
of a raster slip is only in its picture (tests compare the picture with the slip they meant).

Not modelled: print speed, thermal fading.
"""
from __future__ import annotations

import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

import numpy as np
from escpos.capabilities import get_profile

from hardware.interfaces import Slip
from hardware.printer_escpos import PAPER_END_BITS, STATUS_FIXED

ESC, GS, DLE, LF = 0x1B, 0x1D, 0x10, 0x0A
_CODEPAGES = {int(num): name.lower() for name, num in get_profile("default").get_code_pages().items()}
_ESC_ARGS = {0x21: 1, 0x45: 1, 0x61: 1, 0x74: 1, 0x64: 1, 0x2D: 1, 0x4D: 1, 0x47: 1, 0x7B: 1,
             0x56: 1, 0x33: 1, 0x32: 0, 0x4A: 1, 0x52: 1, 0x20: 1, 0x70: 3}
_GS_ARGS = {0x21: 1, 0x42: 1, 0x62: 1, 0x48: 1, 0x66: 1, 0x68: 1, 0x77: 1, 0x4C: 2, 0x57: 2}


@dataclass
class PrintedSlip:
    lines: list[str] = field(default_factory=list)
    qr_codes: list[str] = field(default_factory=list)
    bands: list[np.ndarray] = field(default_factory=list, repr=False)  # raster rows, True = ink
    text_path: Path | None = None
    png_path: Path | None = None

    @property
    def picture(self) -> np.ndarray | None:
        """The printed raster as a grayscale array (0 = ink, 255 = paper), or None."""
        if not self.bands:
            return None
        width = max(b.shape[1] for b in self.bands)
        rows = [np.pad(b, ((0, 0), (0, width - b.shape[1]))) for b in self.bands]
        return np.where(np.vstack(rows), 0, 255).astype(np.uint8)

    def to_slip(self) -> Slip:
        lines = list(self.lines)
        kind = ""
        if lines and lines[-1].startswith("[") and lines[-1].endswith("]"):
            kind = lines.pop()[1:-1]
        title = lines.pop(0) if lines else ""
        if lines and set(lines[0]) == {"="}:
            lines.pop(0)
        return Slip(kind, title, tuple(lines), tuple(self.qr_codes))

    def as_text(self) -> str:
        picture = ["[picture] " + (self.png_path.name if self.png_path else "raster")] if self.bands else []
        return "\n".join(picture + self.lines + [f"[QR] {q}" for q in self.qr_codes]) + "\n"


class NeedMore(Exception):
    pass


class PrinterTwin:
    def __init__(self, out_dir: str | Path | None = None) -> None:
        self.lock = threading.RLock()
        self.out_dir = Path(out_dir) if out_dir else None
        self.slips: list[PrintedSlip] = []
        self.paper_out = False
        self._buf = bytearray()
        self._current = PrintedSlip()
        self._text = bytearray()
        self._codepage = "cp437"
        self._qr_store = ""
        self._write: Callable[[bytes], None] | None = None
        self.unknown_commands = 0

    def attach(self, write: Callable[[bytes], None] | None) -> None:
        self._write = write

    def receive(self, data: bytes) -> None:
        self._buf += data
        while self._buf:
            try:
                used = self._step(self._buf)
            except NeedMore:
                return
            del self._buf[:used]

    # --- decoding -------------------------------------------------------------------------
    def _need(self, buf: bytes, n: int) -> None:
        if len(buf) < n:
            raise NeedMore

    def _step(self, buf: bytearray) -> int:
        b = buf[0]
        if b == LF:
            self._end_line()
            return 1
        if b == ESC:
            self._need(buf, 2)
            return self._esc(buf)
        if b == GS:
            self._need(buf, 2)
            return self._gs(buf)
        if b == DLE:
            self._need(buf, 3)
            if buf[1] == 0x04:
                self._status(buf[2])
                return 3
            return 1
        if b < 0x20:
            return 1  # CR and other controls: ignored
        self._text.append(b)
        return 1

    def _esc(self, buf: bytearray) -> int:
        cmd = buf[1]
        if cmd == 0x40:  # ESC @
            self._codepage = "cp437"
            return 2
        n = _ESC_ARGS.get(cmd)
        if n is None:
            self.unknown_commands += 1
            return 2
        self._need(buf, 2 + n)
        if cmd == 0x74:  # ESC t n: code page
            self._codepage = _CODEPAGES.get(buf[2], "cp437")
        elif cmd == 0x64:  # ESC d n: feed n lines
            self._end_line()
        return 2 + n

    def _gs(self, buf: bytearray) -> int:
        cmd = buf[1]
        if cmd == 0x28:  # GS ( k pL pH data
            self._need(buf, 5)
            n = buf[3] | buf[4] << 8
            self._need(buf, 5 + n)
            if buf[2] == 0x6B:
                self._qr(bytes(buf[5:5 + n]))
            return 5 + n
        if cmd == 0x56:  # GS V m [n]
            self._need(buf, 3)
            used = 4 if buf[2] in (0x41, 0x42) else 3  # m = 0x41/0x42 is followed by n
            self._need(buf, used)
            self._cut()
            return used
        if cmd == 0x76:  # GS v 0 m xL xH yL yH data: a raster band, width in bytes
            self._need(buf, 8)
            width, height = buf[4] | buf[5] << 8, buf[6] | buf[7] << 8
            self._need(buf, 8 + width * height)
            self._end_line()
            packed = np.frombuffer(bytes(buf[8:8 + width * height]), dtype=np.uint8)
            self._current.bands.append(np.unpackbits(packed.reshape(height, width), axis=1).astype(bool))
            return 8 + width * height
        n = _GS_ARGS.get(cmd)
        if n is None:
            self.unknown_commands += 1
            return 2
        self._need(buf, 2 + n)
        return 2 + n

    def _qr(self, data: bytes) -> None:
        if data[:2] == b"1P" and len(data) >= 3:  # store symbol data (cn=49, fn=80, m=48)
            self._qr_store = data[3:].decode("utf-8", "replace")
        elif data[:2] == b"1Q":  # print the stored symbol
            self._end_line()
            self._current.qr_codes.append(self._qr_store)

    def _status(self, n: int) -> None:
        value = STATUS_FIXED | (PAPER_END_BITS if (n == 4 and self.paper_out) else 0)
        if self._write is not None:
            self._write(bytes((value,)))

    def _end_line(self) -> None:
        if self._text:
            self._current.lines.append(bytes(self._text).decode(self._codepage, "replace"))
            self._text.clear()

    def _cut(self) -> None:
        self._end_line()
        slip, self._current = self._current, PrintedSlip()
        if slip.bands:
            slip.qr_codes += read_qr_codes(slip.picture)
        if self.out_dir is not None:
            self._render(slip, len(self.slips) + 1)
        self.slips.append(slip)

    # --- rendering ------------------------------------------------------------------------
    def _render(self, slip: PrintedSlip, number: int) -> None:
        """The paper: the raster as printed, then the text lines in the printer's own font."""
        from PIL import Image, ImageDraw

        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = self.out_dir / f"slip-{number:03d}-{slip.to_slip().kind or 'slip'}"
        slip.png_path = stem.with_suffix(".png")
        picture = slip.picture
        line_h = 16
        width = picture.shape[1] if picture is not None else 8 * 48
        top = picture.shape[0] if picture is not None else 0
        img = Image.new("L", (width, top + 16 + line_h * len(slip.lines)), 255)
        if picture is not None:
            img.paste(Image.fromarray(picture), (0, 0))
        draw = ImageDraw.Draw(img)
        for i, line in enumerate(slip.lines):
            draw.text((8, top + 8 + i * line_h), line, fill=0)
        img.save(slip.png_path)
        slip.text_path = stem.with_suffix(".txt")
        slip.text_path.write_text(slip.as_text(), encoding="utf-8")


def read_qr_codes(picture: np.ndarray) -> list[str]:
    """The QR codes on a printed picture, top to bottom, read with zbar."""
    from pyzbar.pyzbar import ZBarSymbol, decode

    found = decode(picture, symbols=[ZBarSymbol.QRCODE])
    return [f.data.decode("utf-8") for f in sorted(found, key=lambda f: f.rect.top)]
