"""The virtual thermal printer: decodes ESC/POS and renders each slip to text and PNG.

It understands the commands python-escpos emits for our slips (and skips the rest by their
declared lengths): ``ESC @`` init, ``ESC !``/``ESC E``/``ESC a``/``ESC t``/``GS !`` modes,
``ESC d`` feed, ``GS ( k`` native QR (store + print), ``GS v 0`` raster images (skipped),
``GS V`` cut — which ends a slip — and the real-time status request ``DLE EOT n``, answered at
once with one status byte (paper end when ``paper_out`` is set). Text is decoded in the code
page selected with ``ESC t``. Each cut slip becomes a ``PrintedSlip``: its text lines, its QR
payloads, the ``hardware.interfaces.Slip`` it was printed from (title, lines, QR, kind from
the ``[kind]`` form line), and, when ``out_dir`` is set, ``slip-NNN-<kind>.txt`` and ``.png``
files a person can open.

Not modelled: fonts, character widths, print speed, graphics content.
"""
from __future__ import annotations

import io
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Callable

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
    text_path: Path | None = None
    png_path: Path | None = None

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
        return "\n".join(self.lines + [f"[QR] {q}" for q in self.qr_codes]) + "\n"


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
        if cmd == 0x76:  # GS v 0 m xL xH yL yH data: raster image, skipped
            self._need(buf, 8)
            width, height = buf[4] | buf[5] << 8, buf[6] | buf[7] << 8
            self._need(buf, 8 + width * height)
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
        if self.out_dir is not None:
            self._render(slip, len(self.slips) + 1)
        self.slips.append(slip)

    # --- rendering ------------------------------------------------------------------------
    def _render(self, slip: PrintedSlip, number: int) -> None:
        from PIL import Image, ImageDraw
        import segno

        self.out_dir.mkdir(parents=True, exist_ok=True)
        stem = self.out_dir / f"slip-{number:03d}-{slip.to_slip().kind or 'slip'}"
        slip.text_path = stem.with_suffix(".txt")
        slip.text_path.write_text(slip.as_text(), encoding="utf-8")
        line_h, width = 16, 8 * 48
        qr_images = []
        for q in slip.qr_codes:
            buf = io.BytesIO()
            segno.make_qr(q, error="m").save(buf, kind="png", scale=4, border=2)
            qr_images.append(Image.open(io.BytesIO(buf.getvalue())))
        height = 16 + line_h * len(slip.lines) + sum(im.height + 8 for im in qr_images)
        img = Image.new("L", (width, height), 255)
        draw = ImageDraw.Draw(img)
        y = 8
        for line in slip.lines:
            draw.text((8, y), line, fill=0)
            y += line_h
        for im in qr_images:
            img.paste(im.convert("L"), ((width - im.width) // 2, y))
            y += im.height + 8
        slip.png_path = stem.with_suffix(".png")
        img.save(slip.png_path)
