"""Ballot layout: where every printed thing sits on a paper ballot, in page millimetres.

The layout is a pure function of (election, ballot style, paper size) — it never depends on
font metrics — so the renderer, the interpreter and outside tools all agree on it:

- **Fiducials**: four ArUco markers (``DICT_4X4_50``), ``FIDUCIAL_SIZE`` mm square,
  ``FIDUCIAL_MARGIN`` mm from the page edges. Their ids name the corner *and* the paper size:
  letter uses ids 0,1,2,3 and A4 ids 4,5,6,7 (top-left, top-right, bottom-right, bottom-left),
  so the interpreter finds the orientation (any of the four, including upside down) and the
  page geometry from the markers alone.
- **QR code** (segno, error level L) in a fixed ``QR_BOX_SIZE`` mm box below the top-right
  fiducial, carrying ``BB1|<election hash prefix>|<page>|<T or O>|<style id>`` (T = test
  ballot, O = official). Modules are kept >= 1.0 mm (>= 8 px at 200 dpi) so the code survives
  blur and JPEG compression.
- **Ovals**: one per choice, ``OVAL_SIZE`` mm, in up to two columns; contests flow down the
  columns and onto further pages when a page is full (the QR code carries the page number).

Labels are in the election's ballot languages (``languages.ballot``): party and candidate
names from the election's ``names``, instructions from the gettext catalogs, distinct
versions joined with " / " (a Kyrgyz ballot in Kyrgyz and Russian, a Cambodian one in Khmer).

``BallotLayout.to_json(dpi)`` is the contract for tests and outside tools that mark ballots:
every oval's contest id, choice id, centre and size in mm and in pixels at ``dpi``. Pixel
coordinates are continuous (pixel (0, 0) covers [0, 1) x [0, 1)); subtract 0.5 for OpenCV's
pixel-centre convention.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import segno

from device.election.definition import Election
from device.i18n import N_, Translator, translator

LAYOUT_FORMAT = "ballotbox-layout/1"
PAPER_MM = {"letter": (215.9, 279.4), "a4": (210.0, 297.0)}
FIDUCIAL_DICTIONARY = "DICT_4X4_50"
FIDUCIAL_IDS = {"letter": (0, 1, 2, 3), "a4": (4, 5, 6, 7)}  # TL, TR, BR, BL
FIDUCIAL_SIZE = 15.0
FIDUCIAL_MARGIN = 8.0
FIDUCIAL_CELLS = 6  # 4x4 bits plus a one-cell black border
QR_BOX_SIZE = 40.0
QR_MAGIC = "BB1"
QR_MAX_MODULE = 1.4
OVAL_SIZE = (6.0, 4.0)
CONTENT_LEFT = 14.0
CONTENT_TOP = FIDUCIAL_MARGIN + FIDUCIAL_SIZE + 4.0 + QR_BOX_SIZE + 6.0
CONTENT_BOTTOM_GAP = FIDUCIAL_MARGIN + FIDUCIAL_SIZE + 4.0
HEADER_ROW = 11.0
CHOICE_ROW = 8.5
COLUMNS = 2


class LayoutError(ValueError):
    """A layout that cannot be built (unknown style or paper); one line naming the problem."""


@dataclass(frozen=True)
class OvalPosition:
    contest_id: str
    choice_id: str
    centre_mm: tuple[float, float]
    size_mm: tuple[float, float] = OVAL_SIZE


@dataclass(frozen=True)
class TextItem:
    """A label to print: top-left anchor in mm, size in points."""

    x_mm: float
    y_mm: float
    text: str
    size_pt: float = 10.0
    bold: bool = False
    max_width_mm: float = 90.0  # the renderer shrinks the font until the text fits


@dataclass(frozen=True)
class QrPayload:
    hash_prefix: str
    page: int
    test: bool
    style_id: str


@dataclass(frozen=True)
class PageLayout:
    style_id: str
    page: int  # 1-based
    paper: str
    size_mm: tuple[float, float]
    qr_box_mm: tuple[float, float, float]  # x, y, side
    qr_payload: str
    ovals: tuple[OvalPosition, ...]
    texts: tuple[TextItem, ...] = field(default=(), compare=False)

    def fiducials(self) -> list[tuple[int, tuple[float, float], float]]:
        """(marker id, top-left corner in mm, side in mm) for the four corners."""
        return fiducial_positions(self.paper)


@dataclass(frozen=True)
class BallotLayout:
    election_id: str
    hash_prefix: str
    style_id: str
    paper: str
    test: bool
    pages: tuple[PageLayout, ...]

    def to_json(self, dpi: float) -> dict[str, Any]:
        k = dpi / 25.4

        def px(v: tuple[float, float]) -> list[float]:
            return [round(v[0] * k, 2), round(v[1] * k, 2)]

        return {
            "format": LAYOUT_FORMAT, "election_id": self.election_id,
            "election_hash_prefix": self.hash_prefix, "ballot_style": self.style_id,
            "paper": self.paper, "test_ballot": self.test, "dpi": dpi,
            "pixel_convention": "continuous: pixel (0,0) covers [0,1)x[0,1); "
                                "subtract 0.5 for OpenCV pixel centres",
            "pages": [{
                "page": p.page, "size_mm": list(p.size_mm),
                "size_px": [round(p.size_mm[0] * k), round(p.size_mm[1] * k)],
                "fiducials": [{"id": fid, "corner": corner, "top_left_mm": list(tl),
                               "size_mm": side, "top_left_px": px(tl), "size_px": round(side * k, 2)}
                              for (fid, tl, side), corner in zip(p.fiducials(), ("tl", "tr", "br", "bl"))],
                "qr": {"payload": p.qr_payload, "box_mm": list(p.qr_box_mm),
                       "box_px": [round(v * k, 2) for v in p.qr_box_mm]},
                "ovals": [{"contest": o.contest_id, "choice": o.choice_id,
                           "centre_mm": [round(o.centre_mm[0], 3), round(o.centre_mm[1], 3)],
                           "size_mm": list(o.size_mm), "centre_px": px(o.centre_mm),
                           "size_px": px(o.size_mm)} for o in p.ovals],
            } for p in self.pages],
        }


def fiducial_positions(paper: str) -> list[tuple[int, tuple[float, float], float]]:
    w, h = PAPER_MM[paper]
    m, s = FIDUCIAL_MARGIN, FIDUCIAL_SIZE
    tls = [(m, m), (w - m - s, m), (w - m - s, h - m - s), (m, h - m - s)]
    return [(fid, tl, s) for fid, tl in zip(FIDUCIAL_IDS[paper], tls)]


def fiducial_corners_mm(paper: str) -> dict[int, list[tuple[float, float]]]:
    """Marker id -> its four corners in mm, in ArUco's order (TL, TR, BR, BL of the marker)."""
    return {fid: [(x, y), (x + s, y), (x + s, y + s), (x, y + s)]
            for fid, (x, y), s in fiducial_positions(paper)}


def qr_box(paper: str) -> tuple[float, float, float]:
    w, _ = PAPER_MM[paper]
    return (w - FIDUCIAL_MARGIN - QR_BOX_SIZE, FIDUCIAL_MARGIN + FIDUCIAL_SIZE + 4.0, QR_BOX_SIZE)


def qr_payload(hash_prefix: str, page: int, test: bool, style_id: str) -> str:
    return f"{QR_MAGIC}|{hash_prefix}|{page}|{'T' if test else 'O'}|{style_id}"


def parse_qr_payload(text: str) -> QrPayload | None:
    """The fields of a ballot QR payload, or None when ``text`` is not one of ours."""
    parts = text.split("|", 4)
    if len(parts) != 5 or parts[0] != QR_MAGIC or parts[3] not in ("T", "O"):
        return None
    if not parts[2].isdigit() or not parts[4]:
        return None
    return QrPayload(parts[1], int(parts[2]), parts[3] == "T", parts[4])


def qr_symbol(payload: str) -> tuple[list[list[int]], float]:
    """The QR module matrix (with a 4-module quiet zone) and the module size in mm."""
    qr = segno.make_qr(payload, error="l", boost_error=False)
    matrix = [list(row) for row in qr.matrix_iter(scale=1, border=4)]
    module = min(QR_MAX_MODULE, QR_BOX_SIZE / len(matrix))
    return matrix, module


def in_ballot_languages(election: Election, text_of) -> str:
    """``text_of(translator)`` in each ballot language, distinct versions joined with " / "."""
    tr = [translator(lang, election.digits) for lang in election.ballot_languages]
    return " / ".join(dict.fromkeys(text_of(t) for t in tr))


def _page_line(tr: Translator, style_id: str, page: int, pages: int) -> str:
    return tr._(N_("Ballot style: {style} — page {page} of {pages}")).format(
        style=style_id, page=tr.number(page), pages=tr.number(pages))


def layout_ballot(election: Election, style_id: str, paper: str = "letter",
                  test: bool = False) -> BallotLayout:
    """The layout of every page of ballot style ``style_id``."""
    if style_id not in election.ballot_styles:
        raise LayoutError(f"unknown ballot style {style_id!r} (election has "
                          f"{', '.join(sorted(election.ballot_styles))})")
    if paper not in PAPER_MM:
        raise LayoutError(f"unknown paper {paper!r} (expected one of {', '.join(PAPER_MM)})")
    w, h = PAPER_MM[paper]
    col_width = (w - 2 * CONTENT_LEFT) / COLUMNS
    bottom = h - CONTENT_BOTTOM_GAP
    rows: list[tuple[str, Any]] = []  # ("header", contest) or ("choice", (contest, choice))
    for contest in election.contests_for_style(style_id):
        rows.append(("header", contest))
        rows.extend(("choice", (contest, ch)) for ch in contest.choices)

    pages_rows: list[list[tuple[int, float, str, Any]]] = [[]]  # (column, y, kind, item)
    col, y = 0, CONTENT_TOP
    for kind, item in rows:
        height = HEADER_ROW if kind == "header" else CHOICE_ROW
        need = height + (CHOICE_ROW if kind == "header" else 0.0)  # keep header with a choice
        if y + need > bottom:
            col, y = col + 1, CONTENT_TOP
            if col >= COLUMNS:
                pages_rows.append([])
                col = 0
        pages_rows[-1].append((col, y, kind, item))
        y += height

    pages = []
    box = qr_box(paper)
    text_width = box[0] - CONTENT_LEFT - 4.0
    head_width = w - 2 * (FIDUCIAL_MARGIN + FIDUCIAL_SIZE + 5.0)
    words = {  # every label not tied to a page, in the ballot languages
        "title": in_ballot_languages(election, lambda tr: election.title_in(tr.lang)),
        "date": in_ballot_languages(election, lambda tr: tr.date(election.date)),
        "fill": in_ballot_languages(election, lambda tr: tr._(
            N_("Fill the oval next to your choice completely with a dark pen."))),
        "test": in_ballot_languages(election, lambda tr: tr._(N_("TEST BALLOT — NOT VALID FOR VOTING"))),
    }
    for index, placed in enumerate(pages_rows, start=1):
        payload = qr_payload(election.hash_prefix, index, test, style_id)
        texts = [TextItem(FIDUCIAL_MARGIN + FIDUCIAL_SIZE + 5.0, FIDUCIAL_MARGIN + 2.0, words["title"],
                          13, True, head_width),
                 TextItem(FIDUCIAL_MARGIN + FIDUCIAL_SIZE + 5.0, FIDUCIAL_MARGIN + 9.0, words["date"],
                          10, False, head_width),
                 TextItem(CONTENT_LEFT, FIDUCIAL_MARGIN + FIDUCIAL_SIZE + 6.0,
                          in_ballot_languages(election, lambda tr, index=index: _page_line(
                              tr, style_id, index, len(pages_rows))), 10, False, text_width),
                 TextItem(CONTENT_LEFT, FIDUCIAL_MARGIN + FIDUCIAL_SIZE + 13.0, words["fill"], 10, False,
                          text_width)]
        if test:
            texts.append(TextItem(CONTENT_LEFT, FIDUCIAL_MARGIN + FIDUCIAL_SIZE + 22.0,
                                  words["test"], 16, True, text_width))
        ovals = []
        last_col = max((col for col, *_ in placed), default=0)
        for col, y, kind, item in placed:
            x0 = CONTENT_LEFT + col * col_width
            # a label may run up to the next column, or to the right margin in the last column
            # used on the page; only a label that still does not fit is set smaller
            right = w - CONTENT_LEFT if col == last_col else x0 + col_width
            if kind == "header":
                contest = item
                texts.append(TextItem(x0, y + 1.0, in_ballot_languages(
                    election, lambda tr, contest=contest: contest.title_in(tr.lang)), 11, True, right - x0 - 2.0))
                texts.append(TextItem(x0, y + 6.0, in_ballot_languages(
                    election, lambda tr, contest=contest: tr._(N_("Vote for {n}")).format(n=tr.number(contest.vote_for))), 8))
            else:
                contest, choice = item
                cx, cy = x0 + 1.0 + OVAL_SIZE[0] / 2, y + CHOICE_ROW / 2
                ovals.append(OvalPosition(contest.id, choice.id, (cx, cy)))
                texts.append(TextItem(x0 + 10.0, cy - 2.2, in_ballot_languages(
                    election, lambda tr, choice=choice: choice.name_in(tr.lang)), 10, False, right - x0 - 12.0))
        pages.append(PageLayout(style_id, index, paper, (w, h), box, payload,
                                tuple(ovals), tuple(texts)))
    return BallotLayout(election.id, election.hash_prefix, style_id, paper, test, tuple(pages))
