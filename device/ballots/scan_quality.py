"""Scan-quality checks of the ballot interpreter: faults of the scan itself that could change a vote.

- **Streaks and creases**: the blank bands along the page edges are sampled; a dark line crossing
  two opposite edges (a dirty-sensor streak, a fold) makes the interpreter refuse the sheet.
- **Close calls on a poor scan**: the paper-white samples around each oval give the scan's
  noise; on a scan noisier than the spec's moderate level, a mark scored near the vote threshold
  (a streak through an empty oval, a faint check mark) is refused rather than guessed. Found by
  the 10 M-position accuracy campaign (docs/accuracy/): three such marks were misread on severe
  scans before this check.
"""
from __future__ import annotations

import cv2
import numpy as np

from device.ballots.layout import PAPER_MM

DEFECT_DARKNESS = 0.3  # a line this dark across both opposite blank margins rejects the sheet
MARGIN_BAND_MM = (2.0, 6.5)  # blank band along each page edge, sampled for streaks and creases
NOISY_SCAN = 0.05  # paper-white noise (robust sigma / ink span) above which a scan is poor
CLOSE_CALL_PER_NOISE = 0.7  # on a poor scan, a score this many noise sigmas from definite ...
CLOSE_CALL_MIN = 0.05  # ... (and at least this close) refuses the sheet: too close to call


def margin_bands(paper: str) -> np.ndarray:
    """Points of the four blank edge bands: (4 sides, 3 rows across, n along, 2), NaN-padded."""
    w, h = PAPER_MM[paper]
    across = np.linspace(*MARGIN_BAND_MM, 3)
    n = int((max(w, h) - 8) / 0.2)
    bands = np.full((4, 3, n, 2), np.nan)
    for side, (length, make) in enumerate((
            (w, lambda t, d: (t, d)), (w, lambda t, d: (t, h - d)),
            (h, lambda t, d: (d, t)), (h, lambda t, d: (w - d, t)))):
        along = np.arange(4.0, length - 4.0, 0.2)[:n]
        for row, d in enumerate(across):
            x, y = make(along, d)
            bands[side, row, :len(along), 0] = x
            bands[side, row, :len(along), 1] = y
    return bands


def line_defects(values: np.ndarray, black: float) -> list[bool]:
    """Per side: does a dark line cross this blank band? ``values`` is (4, 3, n), NaN = no sample."""
    out = []
    for side in values:
        counts = np.isfinite(side).sum(axis=0)
        profile = np.nansum(side, axis=0)[counts > 0] / counts[counts > 0]
        if len(profile) < 50:
            out.append(False)
            continue
        profile = profile.astype(np.float32)
        # paper level: running median of every 4th sample over ~4 mm, spread back to full length
        coarse = np.clip(profile[::4], 0, 255).astype(np.uint8).reshape(1, -1)
        local = np.repeat(cv2.medianBlur(coarse, 5).ravel(), 4)[:len(profile)]
        dark = (local - profile) / np.maximum(local.astype(np.float32) - black, 20.0)
        pair = np.minimum(dark[1:], dark[:-1])  # two neighbouring samples: a line >= 0.2 mm wide
        out.append(bool(np.max(pair) > DEFECT_DARKNESS))
    return out


def close_call(scores: np.ndarray, ring: np.ndarray, white: np.ndarray, black: float,
                        definite: float) -> str | None:
    """On a poor scan, a mark scored near the vote threshold is refused, not guessed.

    The paper-white samples around each oval give the scan's noise (robust sigma over the ink
    span). Above ``NOISY_SCAN`` (beyond the spec's moderate level) a streak through an empty
    oval or a faint check mark can land a score on the wrong side of ``definite``: any score
    within ``max(CLOSE_CALL_MIN, CLOSE_CALL_PER_NOISE * noise)`` of it rejects the sheet:
    the reason is returned (None: the scan is good enough, or no score is that close)."""
    if not len(scores):
        return None
    spread = np.median(np.abs(ring - white[:, None]), axis=1) * 1.4826
    noise = float(np.median(spread / np.maximum(white - black, 1.0)))
    if noise < NOISY_SCAN:
        return None
    band = max(CLOSE_CALL_MIN, CLOSE_CALL_PER_NOISE * noise)
    closest = float(np.min(np.abs(scores - definite)))
    if closest >= band:
        return None
    return (f"a mark {closest:.2f} from the vote threshold on a poor scan (noise {noise:.2f}): "
            "too close to call")
