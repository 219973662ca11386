"""Voters' marks on a rendered ballot page, each with its ground truth.

Marks of the kinds real voters make, drawn in page pixels with an ink darkness:

- definite votes (must be read as a vote): ``pen_fill``, ``pencil_fill``, ``partial_fill``
  (at least half the oval filled), ``check``, ``cross``, ``outside`` (a full fill shifted
  partly outside the oval);
- ambiguous by construction (may be read either way; the interpreter should flag them as
  marginal, and the accuracy campaign never counts them as misreads): ``dot``,
  ``hesitation`` (a small tick touching the oval), ``erased`` (a fill rubbed out, light
  residue left);
- no vote: ``stray`` marks elsewhere on the page, away from every oval.

``mark_page`` applies the marks a voter intends (contest id -> choice ids) in one of the
``MARK_STYLES`` and returns a ``SheetTruth``: which ovals carry a definite vote, which an
ambiguous mark, and the intended selections. Randomness comes from the ``random.Random``
passed in, so a seed reproduces a sheet exactly.
"""
from __future__ import annotations

import math
import random
from dataclasses import dataclass, field

import cv2
import numpy as np

from device.ballots.layout import FIDUCIAL_MARGIN, FIDUCIAL_SIZE, PageLayout

VOTE, AMBIGUOUS, NO_VOTE = "vote", "ambiguous", "no_vote"
DEFINITE_KINDS = ("pen_fill", "pencil_fill", "partial_fill", "check", "cross", "outside")
AMBIGUOUS_KINDS = ("dot", "hesitation", "erased")
_DEFINITE_WEIGHTS = (("pen_fill", 0.45), ("pencil_fill", 0.15), ("partial_fill", 0.1),
                     ("check", 0.1), ("cross", 0.1), ("outside", 0.1))
# mark_style -> (definite kinds and weights, rate of ambiguous marks on unmarked ovals,
#                stray marks per page)
MARK_STYLES = {
    "pen": ((("pen_fill", 1.0),), 0.0, 0),
    "definite": (_DEFINITE_WEIGHTS, 0.0, 1),
    "mixed": (_DEFINITE_WEIGHTS, 0.04, 2),
}


@dataclass
class SheetTruth:
    """What the voter meant on one page, and which marks are ambiguous by construction."""

    style_id: str
    page: int
    intended: dict[str, tuple[str, ...]]
    ovals: dict[tuple[str, str], tuple[str, str]] = field(default_factory=dict)  # -> (truth, kind)

    def truth(self, contest_id: str, choice_id: str) -> str:
        return self.ovals.get((contest_id, choice_id), (NO_VOTE, ""))[0]


def _ink(rng: random.Random, kind: str) -> float:
    if kind == "pencil_fill":
        return rng.uniform(0.45, 0.6)
    if kind == "erased":
        return rng.uniform(0.06, 0.18)
    return rng.uniform(0.82, 0.97)


def _blend(page: np.ndarray, mask: np.ndarray, x0: int, y0: int, ink: float,
           rng: random.Random) -> None:
    """Darken ``page`` where ``mask`` (uint8 coverage) is set, with a little grain."""
    h, w = mask.shape
    y1, x1 = min(page.shape[0], y0 + h), min(page.shape[1], x0 + w)
    if x0 < 0 or y0 < 0 or y1 <= y0 or x1 <= x0:
        return
    cover = mask[:y1 - y0, :x1 - x0].astype(np.float32) / 255.0
    grain = np.random.default_rng(rng.getrandbits(32)).uniform(0.85, 1.0, cover.shape).astype(np.float32)
    roi = page[y0:y1, x0:x1].astype(np.float32)
    page[y0:y1, x0:x1] = np.clip(roi * (1.0 - ink * cover * grain), 0, 255).astype(np.uint8)


def draw_mark(page: np.ndarray, kind: str, centre_mm: tuple[float, float],
              size_mm: tuple[float, float], k: float, rng: random.Random) -> None:
    """Draw one mark of ``kind`` on the oval at ``centre_mm`` (``k`` = pixels per mm)."""
    a, b = size_mm[0] / 2 * k, size_mm[1] / 2 * k
    pad = int(4 * max(a, b)) + 4
    mask = np.zeros((2 * pad, 2 * pad), np.uint8)
    jx, jy = rng.uniform(-0.3, 0.3) * k, rng.uniform(-0.25, 0.25) * k
    cx, cy = pad + jx, pad + jy
    shift = 4  # sub-pixel drawing: coordinates scaled by 2**shift

    def p(x: float, y: float) -> tuple[int, int]:
        return int(round(x * (1 << shift))), int(round(y * (1 << shift)))

    def ellipse(x: float, y: float, ax: float, ay: float) -> None:
        cv2.ellipse(mask, p(x, y), p(ax, ay), rng.uniform(-8, 8), 0, 360, 255, -1, cv2.LINE_AA, shift)

    def stroke(points: list[tuple[float, float]], width_mm: float) -> None:
        pts = np.array([p(x, y) for x, y in points], np.int32)
        cv2.polylines(mask, [pts], False, 255, max(1, round(width_mm * k)), cv2.LINE_AA, shift)

    if kind in ("pen_fill", "pencil_fill", "erased"):
        ellipse(cx, cy, a * rng.uniform(0.92, 1.1), b * rng.uniform(0.92, 1.15))
    elif kind == "outside":
        ang = rng.uniform(0, 2 * math.pi)
        off = rng.uniform(0.2, 0.3)
        ellipse(cx + off * a * 2 * math.cos(ang), cy + off * b * 2 * math.sin(ang), a * 1.05, b * 1.1)
    elif kind == "partial_fill":
        ellipse(cx, cy, a * 1.02, b * 1.05)
        ang = rng.uniform(0, 2 * math.pi)
        keep = rng.uniform(0.15, 0.4)  # the half-plane cut leaves 60-80 % of the oval filled
        nx, ny = math.cos(ang), math.sin(ang)
        yy, xx = np.mgrid[0:mask.shape[0], 0:mask.shape[1]]
        cut = ((xx - cx) / a) * nx + ((yy - cy) / b) * ny > keep
        mask[cut] = 0
    elif kind == "check":
        s = rng.uniform(0.9, 1.15)
        stroke([(cx - 0.75 * a * s, cy - 0.1 * b), (cx - 0.15 * a * s, cy + 0.8 * b * s),
                (cx + 1.0 * a * s, cy - 1.3 * b * s)], rng.uniform(0.7, 1.0))
    elif kind == "cross":
        s = rng.uniform(0.95, 1.2)
        w = rng.uniform(0.7, 1.0)
        stroke([(cx - a * s, cy - b * s), (cx + a * s, cy + b * s)], w)
        stroke([(cx - a * s, cy + b * s), (cx + a * s, cy - b * s)], w)
    elif kind == "dot":
        r = rng.uniform(0.35, 0.7) * k
        ellipse(cx + rng.uniform(-0.3, 0.3) * a, cy + rng.uniform(-0.3, 0.3) * b, r, r)
    elif kind == "hesitation":
        ang = rng.uniform(0, 2 * math.pi)
        x1, y1 = cx + 0.9 * a * math.cos(ang), cy + 0.9 * b * math.sin(ang)
        stroke([(x1, y1), (x1 - 0.25 * a * math.cos(ang), y1 - 0.25 * b * math.sin(ang))],
               rng.uniform(0.3, 0.5))
    else:
        raise ValueError(f"unknown mark kind {kind!r}")
    ox, oy = int(round(centre_mm[0] * k)) - pad, int(round(centre_mm[1] * k)) - pad
    _blend(page, mask, ox, oy, _ink(rng, kind), rng)


def draw_stray(page: np.ndarray, layout: PageLayout, k: float, rng: random.Random) -> None:
    """A scribble somewhere on the page at least 4 mm from every oval, fiducial and the QR code."""
    w, h = layout.size_mm
    for _ in range(50):
        x, y = rng.uniform(12, w - 12), rng.uniform(40, h - 12)
        if _clear_of_print(layout, x, y, 4.0 + 5.0):
            break
    else:
        return
    pts = [(x + rng.uniform(-4, 4), y + rng.uniform(-4, 4)) for _ in range(rng.randint(2, 5))]
    pad = int(10 * k)
    mask = np.zeros((2 * pad, 2 * pad), np.uint8)
    local = np.array([[int((px - x) * k + pad) * 16, int((py - y) * k + pad) * 16] for px, py in pts], np.int32)
    cv2.polylines(mask, [local], False, 255, max(1, round(rng.uniform(0.4, 0.9) * k)), cv2.LINE_AA, 4)
    _blend(page, mask, int(round(x * k)) - pad, int(round(y * k)) - pad, _ink(rng, "stray"), rng)


def _clear_of_print(layout: PageLayout, x: float, y: float, gap: float) -> bool:
    for oval in layout.ovals:
        if abs(oval.centre_mm[0] - x) < oval.size_mm[0] / 2 + gap and \
                abs(oval.centre_mm[1] - y) < oval.size_mm[1] / 2 + gap:
            return False
    bx, by, side = layout.qr_box_mm
    if bx - gap < x < bx + side + gap and by - gap < y < by + side + gap:
        return False
    w, h = layout.size_mm
    edge = FIDUCIAL_MARGIN + FIDUCIAL_SIZE + gap
    near_x, near_y = x < edge or x > w - edge, y < edge or y > h - edge
    return not (near_x and near_y)


def mark_page(page: np.ndarray, layout: PageLayout, dpi: float, marks: dict[str, tuple[str, ...]],
              rng: random.Random, mark_style: str = "definite") -> SheetTruth:
    """Mark ``page`` in place with the voter's choices; return the ground truth."""
    if mark_style not in MARK_STYLES:
        raise ValueError(f"unknown mark style {mark_style!r} (expected one of {', '.join(MARK_STYLES)})")
    kinds, ambiguous_rate, strays = MARK_STYLES[mark_style]
    names, weights = [kn for kn, _ in kinds], [wt for _, wt in kinds]
    k = dpi / 25.4
    on_page = {o.contest_id for o in layout.ovals}
    truth = SheetTruth(layout.style_id, layout.page,
                       {cid: tuple(sel) for cid, sel in marks.items() if cid in on_page})
    for oval in layout.ovals:
        chosen = oval.choice_id in marks.get(oval.contest_id, ())
        if chosen:
            kind = rng.choices(names, weights)[0]
            truth.ovals[(oval.contest_id, oval.choice_id)] = (VOTE, kind)
        elif ambiguous_rate and rng.random() < ambiguous_rate:
            kind = rng.choice(AMBIGUOUS_KINDS)
            truth.ovals[(oval.contest_id, oval.choice_id)] = (AMBIGUOUS, kind)
        else:
            continue
        draw_mark(page, kind, oval.centre_mm, oval.size_mm, k, rng)
    for _ in range(rng.randint(0, strays) if strays else 0):
        draw_stray(page, layout, k, rng)
    return truth
