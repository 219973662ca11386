"""Ballots as a vector PDF for the print shop: real text in embedded fonts, vector ovals, marks.

``write_ballot_pdf(layouts, path)`` draws every page of the given ``BallotLayout``s with fpdf2
at the layout's millimetre positions — the same geometry as the PNG of ``render.py``, which
stays the reference image the tests and the interpreter check against. Labels are text set in
the PNG's faces, Noto Sans (regular and bold; Latin and Cyrillic) and Noto Sans Khmer for the
Khmer runs, shaped with HarfBuzz (fpdf2's text shaping: Khmer subscripts placed as in
the PNG) and embedded as font subsets, so names can be searched, copied and read aloud; a label is set
smaller only when it does not fit its width, by the same rule as the PNG. The ArUco fiducials
and the QR code are filled rectangles on exact millimetre cell boundaries (one per run of black
cells in a row), the ovals are stroked ellipses.
"""
from __future__ import annotations

from pathlib import Path

import numpy as np
from fpdf import FPDF
from PIL import ImageFont

from device.ballots.layout import FIDUCIAL_CELLS, BallotLayout, PageLayout, qr_symbol
from device.ballots.render import FONT_BOLD, FONT_REGULAR, OVAL_LINE_MM, RenderError, fiducial_bits
from hardware.text_shaping import FACES, NOTO_DIR, script_runs
MIN_SIZE_PT = 6.0
PT_MM = 25.4 / 72


def _ascent(path: Path) -> float:
    """The font's ascent as a share of the em: where the baseline sits below a text's top (the
    PNG renderer anchors text at its ascender line)."""
    return ImageFont.truetype(str(path), 1000).getmetrics()[0] / 1000


def _new_pdf() -> FPDF:
    pdf = FPDF(unit="mm")
    pdf.set_auto_page_break(False)
    pdf.set_margins(0, 0, 0)
    for (script, bold), face in FACES.items():  # one family per script, as the PNG draws them
        path = NOTO_DIR / face
        if not path.exists():
            raise RenderError(f"font {path} is missing: install the Debian package "
                              "fonts-noto-core (apt-get install fonts-noto-core)")
        pdf.add_font(script, "B" if bold else "", str(path))
    pdf.set_creator("ballotbox")
    return pdf


def _width(pdf: FPDF, text: str, bold: bool, size: float) -> float:
    width = 0.0
    for script, run in script_runs(text):
        pdf.set_text_shaping(script == "khmer")
        pdf.set_font(script, "B" if bold else "", size)
        width += pdf.get_string_width(run)
    return width


def _text(pdf: FPDF, x: float, baseline: float, text: str, bold: bool, size: float) -> None:
    """``text`` run by run, each script in its own face; Khmer runs shaped by HarfBuzz (Latin and
    Cyrillic need no shaping, and stay one text object each)."""
    for script, run in script_runs(text):
        pdf.set_text_shaping(script == "khmer")
        pdf.set_font(script, "B" if bold else "", size)
        width = pdf.get_string_width(run)
        # cell() shapes (text() does not); it puts the baseline at 0.5 h + 0.3 em below y
        pdf.set_xy(x, baseline - 0.8 * pdf.font_size)
        pdf.cell(w=width, h=pdf.font_size, text=run)
        x += width


def _fill_matrix(pdf: FPDF, dark: np.ndarray, x_mm: float, y_mm: float, cell_mm: float) -> None:
    for r, row in enumerate(dark):
        c = 0
        while c < len(row):
            if not row[c]:
                c += 1
                continue
            start = c
            while c < len(row) and row[c]:
                c += 1
            pdf.rect(x_mm + start * cell_mm, y_mm + r * cell_mm, (c - start) * cell_mm, cell_mm,
                     style="F")


def _draw_page(pdf: FPDF, page: PageLayout, ascent: dict[bool, float]) -> None:
    pdf.add_page(format=page.size_mm)
    pdf.set_text_color(0)
    pdf.set_fill_color(0)
    pdf.set_draw_color(0)
    for item in page.texts:
        size = item.size_pt
        while size > MIN_SIZE_PT and _width(pdf, item.text, item.bold, size) > item.max_width_mm:
            size = max(MIN_SIZE_PT, size - 0.5)
        _text(pdf, item.x_mm, item.y_mm + ascent[item.bold] * size * PT_MM, item.text, item.bold, size)
    pdf.set_line_width(OVAL_LINE_MM)
    for oval in page.ovals:
        (cx, cy), (ow, oh) = oval.centre_mm, oval.size_mm
        pdf.ellipse(cx - ow / 2, cy - oh / 2, ow, oh, style="D")
    for marker_id, (x, y), side in page.fiducials():
        _fill_matrix(pdf, fiducial_bits(marker_id), x, y, side / FIDUCIAL_CELLS)
    matrix, module = qr_symbol(page.qr_payload)
    bx, by, side = page.qr_box_mm
    offset = (side - module * len(matrix)) / 2
    _fill_matrix(pdf, np.array(matrix, dtype=bool), bx + offset, by + offset, module)


def write_ballot_pdf(layouts: list[BallotLayout], path: Path, title: str = "Ballots") -> None:
    """Every page of ``layouts``, in order, as one vector PDF at ``path``."""
    pdf = _new_pdf()
    pdf.set_title(title)
    ascent = {False: _ascent(FONT_REGULAR), True: _ascent(FONT_BOLD)}
    for layout in layouts:
        for page in layout.pages:
            _draw_page(pdf, page, ascent)
    try:
        pdf.output(str(path))
    except OSError as exc:
        raise RenderError(f"cannot write {path}: {exc.strerror or exc}") from None
