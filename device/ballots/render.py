"""Ballot rendering: a ``BallotLayout`` drawn as grayscale page images, PNG files and a PDF.

Pages are drawn with Pillow: labels in Latin, Cyrillic or Khmer, shaped with RAQM in Noto Sans
and Noto Sans Khmer (Debian ``fonts-noto-core``; ``hardware/text_shaping.py``), and the ArUco fiducials and the QR code are
painted module by module on exact millimetre boundaries so every printed thing sits where the
layout says, at any dpi. ``write_ballot_files`` is what ``ballotbox ballots render`` runs: a
PNG per page (the reference image), one vector PDF of all styles for printing
(``render_pdf.py``: real text in embedded fonts), and a layout JSON per style (the contract
that tests and outside tools use to mark ballots).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import cv2
import numpy as np
from PIL import Image, ImageDraw

from device.ballots.layout import (FIDUCIAL_CELLS, FIDUCIAL_DICTIONARY, BallotLayout, PageLayout,
                                  layout_ballot, qr_symbol)
from device.election.definition import Election
from hardware.text_shaping import FACES, NOTO_DIR, FontMissing, Shaper

FONT_REGULAR = NOTO_DIR / FACES[("latin", False)]  # the faces of the Latin/Cyrillic labels
FONT_BOLD = NOTO_DIR / FACES[("latin", True)]
FONT_KHMER = NOTO_DIR / FACES[("khmer", False)]
OVAL_LINE_MM = 0.35
_ARUCO = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, FIDUCIAL_DICTIONARY))
_shaper: Shaper | None = None


class RenderError(RuntimeError):
    """Rendering is impossible on this machine (font missing, output not writable)."""


def shaper() -> Shaper:
    global _shaper
    if _shaper is None:
        try:
            _shaper = Shaper()
        except FontMissing as exc:
            raise RenderError(str(exc)) from None
    return _shaper


def _draw_label(draw: ImageDraw.ImageDraw, x: float, y: float, text: str, bold: bool,
                size: int, max_width: float) -> None:
    """Draw ``text`` with its top at ``y``, shrinking the size until it fits ``max_width``."""
    s = shaper()
    try:
        while size > 6 and s.width(text, size, bold) > max_width:
            size -= 1
        ascent = s.font("latin", bold, size).getmetrics()[0]
        s.draw(draw, x, y + ascent, text, size, bold)
    except FontMissing as exc:
        raise RenderError(str(exc)) from None


def _paint_matrix(pixels: np.ndarray, dark: np.ndarray, x_mm: float, y_mm: float,
                  cell_mm: float, k: float) -> None:
    """Paint a boolean matrix (True = black) with cell edges rounded from exact mm positions."""
    rows, cols = dark.shape
    xs = np.round((x_mm + np.arange(cols + 1) * cell_mm) * k).astype(int)
    ys = np.round((y_mm + np.arange(rows + 1) * cell_mm) * k).astype(int)
    for r in range(rows):
        for c in range(cols):
            pixels[ys[r]:ys[r + 1], xs[c]:xs[c + 1]] = 0 if dark[r, c] else 255


def fiducial_bits(marker_id: int) -> np.ndarray:
    """The 6x6 cell matrix of an ArUco marker, True where black."""
    return cv2.aruco.generateImageMarker(_ARUCO, marker_id, FIDUCIAL_CELLS) < 128


def render_page(page: PageLayout, dpi: float = 200.0) -> np.ndarray:
    """One page as a grayscale uint8 array (white paper, black ink)."""
    k = dpi / 25.4
    width, height = round(page.size_mm[0] * k), round(page.size_mm[1] * k)
    image = Image.new("L", (width, height), 255)
    draw = ImageDraw.Draw(image)
    for item in page.texts:
        _draw_label(draw, item.x_mm * k, item.y_mm * k, item.text, item.bold,
                    max(6, round(item.size_pt * dpi / 72)), item.max_width_mm * k)
    line = max(1, round(OVAL_LINE_MM * k))
    for oval in page.ovals:
        (cx, cy), (ow, oh) = oval.centre_mm, oval.size_mm
        draw.ellipse([(cx - ow / 2) * k, (cy - oh / 2) * k, (cx + ow / 2) * k, (cy + oh / 2) * k],
                     outline=0, width=line)
    pixels = np.array(image)
    for marker_id, (x, y), side in page.fiducials():
        _paint_matrix(pixels, fiducial_bits(marker_id), x, y, side / FIDUCIAL_CELLS, k)
    matrix, module = qr_symbol(page.qr_payload)
    bx, by, side = page.qr_box_mm
    offset = (side - module * len(matrix)) / 2
    _paint_matrix(pixels, np.array(matrix, dtype=bool), bx + offset, by + offset, module, k)
    return pixels


def render_ballot(layout: BallotLayout, dpi: float = 200.0) -> list[np.ndarray]:
    return [render_page(page, dpi) for page in layout.pages]


def write_ballot_files(election: Election, style_ids: list[str], out_dir: Path, dpi: float = 200.0,
                       paper: str = "letter", test: bool = False) -> dict[str, Any]:
    """Write ``<style>-p<N>.png`` per page, ``ballots.pdf`` and ``<style>.layout.json``; test
    ballots' files begin ``test-`` so that they never share a name with live ones.

    Returns a summary: the files written per style.
    """
    prefix = "test-" if test else ""
    layouts = [layout_ballot(election, style_id, paper, test) for style_id in style_ids]  # every
    # style is laid out (and any layout error raised) before the first file is written
    try:
        out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise RenderError(f"cannot create {out_dir}: {exc.strerror or exc}") from None
    styles: dict[str, list[str]] = {}
    summary: dict[str, object] = {"out": str(out_dir), "dpi": dpi, "paper": paper, "styles": styles}
    for style_id, layout in zip(style_ids, layouts):
        files = []
        for page, pixels in zip(layout.pages, render_ballot(layout, dpi)):
            path = out_dir / f"{prefix}{_safe(style_id)}-p{page.page}.png"
            pil = Image.fromarray(pixels)
            pil.save(path, dpi=(dpi, dpi))
            files.append(str(path))
        layout_path = out_dir / f"{prefix}{_safe(style_id)}.layout.json"
        layout_path.write_text(json.dumps(layout.to_json(dpi), indent=1, ensure_ascii=False) + "\n",
                               encoding="utf-8")
        files.append(str(layout_path))
        styles[style_id] = files
    from device.ballots.render_pdf import write_ballot_pdf  # imports this module

    pdf_path = out_dir / f"{prefix}ballots.pdf"
    write_ballot_pdf(layouts, pdf_path, f"{election.title}: ballots")
    summary["pdf"] = str(pdf_path)
    return summary


def _safe(name: str) -> str:
    return "".join(ch if ch.isalnum() or ch in "-_." else "_" for ch in name)
