"""A slip drawn as a 1-bit raster image the width of the thermal roll.

No ESC/POS code page holds Khmer or the Kyrgyz letters ң ө ү, so every slip is printed as a
picture: ``render_slip(slip, paper_mm)`` shapes its text with ``hardware.text_shaping`` (RAQM,
Noto Sans and Noto Sans Khmer) and returns a Pillow image in mode ``1`` that
``hardware/printer_escpos.py`` sends with the raster command ``GS v 0``.

Line conventions of ``Slip.lines`` (built in ``device/station/reports.py``):
``"label\\tfigure"`` is a row whose figure is right-aligned in fixed-width digit cells (so
columns of figures line up at 58 and 80 mm); leading spaces indent; a line of ``-`` is a rule.
Long labels wrap. QR payloads are drawn with segno below the text, large enough to scan from
a phone photo: ``QR_DOTS`` dots (1 mm) per module, or as many as the roll's width holds for the
widest code of the slip (``qr_dots``: a results tape's codes are at most version
``QR_MAX_VERSION``, 69 modules with the quiet zone: 552 of the 576 dots of an 80 mm roll, and 5
dots per module on a 58 mm roll). Measured with ``python -m sim.bench tape``.
"""
from __future__ import annotations

from dataclasses import dataclass

import segno
from PIL import Image, ImageDraw

from hardware.interfaces import Slip
from hardware.text_shaping import Shaper

DOTS_PER_MM = 8  # 203 dpi thermal head


@dataclass(frozen=True)
class Paper:
    """A roll: its printable width in dots and the text sizes that suit it."""

    width_dots: int
    body_px: int
    title_px: int
    margin: int = 8


PAPERS = {58: Paper(384, 20, 28), 80: Paper(576, 24, 34)}
QR_DOTS = 8  # dots per QR module (1 mm), where the roll is wide enough
QR_BORDER = 4  # quiet zone, modules
QR_ERROR = "m"  # error-correction level of printed codes (the tape's payload size assumes it)
QR_MAX_VERSION = 11  # the largest code at QR_DOTS an 80 mm roll holds: (61 + 2 * 4) * 8 <= 576
INDENT = "  "

_shaper: Shaper | None = None


def shaper() -> Shaper:
    global _shaper
    if _shaper is None:
        _shaper = Shaper()
    return _shaper


def _wrap(text: str, width: float, size: int, bold: bool = False) -> list[str]:
    """Break ``text`` at spaces (or, inside a long unspaced run, between characters)."""
    s = shaper()
    lines, current = [], ""
    for word in text.split(" "):
        candidate = f"{current} {word}" if current else word
        if s.width(candidate, size, bold) <= width or not current:
            current = candidate
        else:
            lines.append(current)
            current = word
        while s.width(current, size, bold) > width and len(current) > 1:
            cut = len(current) - 1
            while cut > 1 and (s.width(current[:cut], size, bold) > width or _joins(current, cut)):
                cut -= 1
            lines.append(current[:cut])
            current = current[cut:]
    return lines + [current]


def _joins(text: str, cut: int) -> bool:
    """True where cutting before ``text[cut]`` would split a Khmer cluster."""
    ch, prev = text[cut], text[cut - 1]
    return prev == "\u17d2" or 0x17B6 <= ord(ch) <= 0x17D3 or ch == "\u17d2"


def render_slip(slip: Slip, paper_mm: int = 80) -> Image.Image:
    paper = PAPERS[paper_mm]
    s = shaper()
    body, title = paper.body_px, paper.title_px
    left, right = paper.margin, paper.width_dots - paper.margin
    ops: list[tuple] = []  # (kind, height, args)
    for line in _wrap(slip.title, right - left, title, True):
        ops.append(("centre", s.line_height(title), (line, title, True)))
    ops.append(("rule", body // 2 + 4, (3,)))
    for raw in slip.lines:
        stripped = raw.lstrip(" ")
        indent = (len(raw) - len(stripped)) // len(INDENT) * body
        if stripped and set(stripped) == {"-"}:
            ops.append(("rule", body // 2 + 4, (1,)))
            continue
        label, _, figure = stripped.partition("\t")
        room = right - left - indent - (s.figures_width(figure, body) + body // 2 if figure else 0)
        wrapped = _wrap(label, room, body)
        for i, part in enumerate(wrapped):
            last = i == len(wrapped) - 1
            ops.append(("row", s.line_height(body), (left + indent, part, figure if last else "", body)))
    qrs = [segno.make_qr(q, error=QR_ERROR) for q in slip.qr_codes]
    dots = qr_dots(qrs, paper)
    height = paper.margin + sum(op[1] for op in ops) + sum(
        (q.symbol_size(scale=dots, border=QR_BORDER)[1] + body) for q in qrs) + paper.margin
    image = Image.new("L", (paper.width_dots, height), 255)
    draw = ImageDraw.Draw(image)
    y = paper.margin
    for kind, h, args in ops:
        if kind == "centre":
            text, size, bold = args
            s.draw(draw, (paper.width_dots - s.width(text, size, bold)) / 2, y + s.ascent(size),
                   text, size, bold)
        elif kind == "rule":
            draw.rectangle([left, y + h // 2 - 1, right, y + h // 2 - 1 + args[0] - 1], fill=0)
        else:
            x, label, figure, size = args
            s.draw(draw, x, y + s.ascent(size), label, size)
            if figure:
                s.draw_figures(draw, right, y + s.ascent(size), figure, size)
        y += h
    for q in qrs:
        symbol = _qr_image(q, dots)
        image.paste(symbol, ((paper.width_dots - symbol.width) // 2, y + body // 2))
        y += symbol.height + body
    return image.point(lambda v: 255 if v >= 128 else 0, mode="1")


def qr_dots(qrs: list[segno.QRCode], paper: Paper) -> int:
    """Dots per module for a slip's codes: ``QR_DOTS``, or fewer if the widest code would not
    fit the roll's printable width (all codes of a slip alike, so a reader sees one size)."""
    widest = max((int(q.symbol_size(scale=1, border=QR_BORDER)[0]) for q in qrs), default=1)
    return max(1, min(QR_DOTS, paper.width_dots // widest))


def _qr_image(qr: segno.QRCode, dots: int) -> Image.Image:
    rows = [bytes(0 if v else 255 for v in row) for row in qr.matrix_iter(scale=dots, border=QR_BORDER)]
    return Image.frombytes("L", (len(rows[0]), len(rows)), b"".join(rows))
