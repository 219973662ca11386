"""Image fidelity paper: ballots rendered, marked by synthetic voters, scanned with distortions.

``ImagePaper`` has the same two members as ``sim.paper.logical_paper.LogicalPaper`` — the plug the
station simulation uses for ``ballotbox sim station --fidelity image``:

- ``make_sheet(style_id, marks, rng, kind="ballot")``: the camera frame (grayscale numpy
  array) of a sheet marked with ``marks`` (contest id -> choice ids) and distorted at this
  paper's level; ``kind`` is ``ballot``, ``test_ballot``, ``wrong_election`` (the same style
  printed for an election with another hash) or ``not_a_ballot`` (a page with no ballot);
- ``interpreter``: the real ``device.interpreter.BallotInterpreter``.

``make_marked_sheet`` also returns the ground truth (``sim.paper.marks.SheetTruth``) for accuracy
campaigns. Blank pages are rendered once per (style, kind, page) and cached: rendering costs
tens of milliseconds, marking and scanning a few.
"""
from __future__ import annotations

import dataclasses
import hashlib
import random

import cv2
import numpy as np

from device.ballots.layout import BallotLayout, layout_ballot
from device.ballots.render import render_page
from device.election.definition import Election
from device.ballots.interpreter import BallotInterpreter, MarkThresholds
from sim.paper.marks import MARK_STYLES, SheetTruth, mark_page
from sim.paper.scan_distortions import LEVELS, distort

SHEET_KINDS = ("ballot", "test_ballot", "wrong_election", "not_a_ballot")


def other_election(election: Election) -> Election:
    """The same election with another hash: its ballots must be refused as wrong_election."""
    other = hashlib.sha256(b"another election:" + election.hash.encode()).hexdigest()
    return dataclasses.replace(election, hash=other)


def derived_rng(rng: random.Random) -> random.Random:
    """A generator seeded from ``rng``'s state, without advancing ``rng``."""
    return random.Random(hashlib.sha256(repr(rng.getstate()).encode()).digest())


def not_a_ballot_page(shape: tuple[int, int], rng: random.Random) -> np.ndarray:
    """A page with text-like blocks, boxes and a photo-like gradient, but no ballot."""
    h, w = shape
    gen = np.random.default_rng(rng.getrandbits(64))
    small = gen.uniform(90, 250, (6, 5)).astype(np.uint8)
    page = cv2.resize(small, (w, h), interpolation=cv2.INTER_CUBIC)
    for _ in range(rng.randint(5, 25)):
        x, y = rng.randrange(w), rng.randrange(h)
        cv2.rectangle(page, (x, y), (x + rng.randint(20, 400), y + rng.randint(5, 120)),
                      rng.randint(0, 255), rng.choice((-1, 2, 5)))
    for _ in range(rng.randint(3, 12)):
        cv2.putText(page, "NOTICE %d" % rng.randint(0, 9999), (rng.randrange(w), rng.randrange(h)),
                    cv2.FONT_HERSHEY_SIMPLEX, rng.uniform(0.8, 3), rng.randint(0, 80), 2)
    return page


class ImagePaper:
    fidelity = "image"

    def __init__(self, election: Election, *, distortion: str = "moderate",
                 mark_style: str = "definite", dpi: float = 200.0, paper: str = "letter",
                 thresholds: MarkThresholds | None = None):
        if distortion not in LEVELS:
            raise ValueError(f"unknown distortion level {distortion!r} "
                             f"(expected one of {', '.join(LEVELS)})")
        if mark_style not in MARK_STYLES:
            raise ValueError(f"unknown mark style {mark_style!r} "
                             f"(expected one of {', '.join(MARK_STYLES)})")
        self.election = election
        self.distortion, self.mark_style, self.dpi, self.paper = distortion, mark_style, dpi, paper
        self.interpreter = BallotInterpreter(election, thresholds)
        self._other = other_election(election)
        self._blank: dict[tuple[str, str], tuple[BallotLayout, list[np.ndarray]]] = {}

    def blank(self, style_id: str, kind: str = "ballot") -> tuple[BallotLayout, list[np.ndarray]]:
        """The layout and rendered blank pages of a style (cached)."""
        key = (style_id, kind)
        if key not in self._blank:
            election = self._other if kind == "wrong_election" else self.election
            layout = layout_ballot(election, style_id, self.paper, test=kind == "test_ballot")
            self._blank[key] = (layout, [render_page(p, self.dpi) for p in layout.pages])
        return self._blank[key]

    def make_marked_sheet(self, style_id: str, marks: dict[str, tuple[str, ...]],
                          rng: random.Random, kind: str = "ballot",
                          page: int = 1) -> tuple[np.ndarray, SheetTruth]:
        """A distorted frame of page ``page`` marked with ``marks``, and its ground truth."""
        if kind not in SHEET_KINDS:
            raise ValueError(f"unknown sheet kind {kind!r} (expected one of {', '.join(SHEET_KINDS)})")
        gen = np.random.default_rng(rng.getrandbits(64))
        if kind == "not_a_ballot":
            shape = self.blank(style_id)[1][0].shape
            frame = distort(not_a_ballot_page(shape, rng), gen, self.distortion, self.dpi)
            return frame, SheetTruth(style_id, page, {})
        layout, pages = self.blank(style_id, kind)
        if not 1 <= page <= len(pages):
            raise ValueError(f"style {style_id!r} has {len(pages)} page(s), not {page}")
        sheet = pages[page - 1].copy()
        truth = mark_page(sheet, layout.pages[page - 1], self.dpi, marks, rng, self.mark_style)
        return distort(sheet, gen, self.distortion, self.dpi), truth

    def make_sheet(self, style_id: str, marks: dict[str, tuple[str, ...]], rng: random.Random,
                   kind: str = "ballot") -> np.ndarray:
        """The station simulation's plug. Like ``LogicalPaper.make_sheet`` it leaves ``rng``
        untouched (the pen strokes and the scan draw from a generator seeded by ``rng``'s
        state), so a seed gives the same voters and the same day at every fidelity."""
        return self.make_marked_sheet(style_id, marks, derived_rng(rng), kind)[0]
