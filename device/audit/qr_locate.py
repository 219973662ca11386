"""Locating a QR code by its texture when its finder patterns are lost in a photo.

A finder pattern is found as three nested contours (``qr_sampler.finder_patterns``); a focus
blur of half a module closes its light ring, and then a code with two or three finders lost is
never located, though its modules may still be in the picture (on poor photos of the demo tape
about a third of the codes not read had no three finders found, and with their position known
most of them read). The whole code is easier to see: a square of fine dark and light texture
on plain paper.

``textured_squares(gray)`` returns the corners (clockwise from the top-left-most, in the
photo's pixels) of every such square: the photo's fine detail (the difference between two
blurs, about a module apart) is squared and averaged over a few modules, thresholded (Otsu),
opened (specks and the tape's edge go), and each region about as wide as it is long, big enough
to be a code, and filling its rectangle is reduced to four corners (a tilted code is a
trapezoid). The sampler (``qr_sampler.read_located``) then registers the grid on the code's own
finder and alignment patterns, whichever corner is which, and tries the sizes that fit.
"""
from __future__ import annotations

import cv2
import numpy as np

DETAIL_PX = (1.5, 4.0)  # the two blurs (sigma, pixels) whose difference is the fine detail
AVERAGE_PX = 8.0  # the detail's energy is averaged over this (sigma, pixels)
OPEN_PX = 9  # specks and thin lines (the tape's edge) narrower than this go
MIN_SIDE_PX = 80  # smaller regions are not a code the sampler can read
MAX_ASPECT = 1.8  # a code seen at an angle, not a line of text
MIN_FILL = 0.7  # of its bounding rectangle: a square, not a ragged region


def textured_squares(gray: np.ndarray) -> list[np.ndarray]:
    """Corners (4 x 2 float32, clockwise in the photo) of every square of fine texture."""
    smooth = cv2.GaussianBlur(gray.astype(np.float32), (0, 0), DETAIL_PX[0])
    detail = smooth - cv2.GaussianBlur(smooth, (0, 0), DETAIL_PX[1])
    energy = np.sqrt(cv2.GaussianBlur(detail * detail, (0, 0), AVERAGE_PX))
    scaled = (255 * (energy - energy.min()) / max(float(np.ptp(energy)), 1e-6)).astype(np.uint8)
    _, mask = cv2.threshold(scaled, 0, 255, cv2.THRESH_BINARY + cv2.THRESH_OTSU)
    mask = cv2.morphologyEx(mask, cv2.MORPH_OPEN, np.ones((OPEN_PX, OPEN_PX), np.uint8))
    contours, _ = cv2.findContours(mask, cv2.RETR_EXTERNAL, cv2.CHAIN_APPROX_SIMPLE)
    squares = []
    for contour in contours:
        box = cv2.minAreaRect(contour)
        w, h = box[1]
        area = cv2.contourArea(contour)
        if min(w, h) < MIN_SIDE_PX or max(w, h) > MAX_ASPECT * min(w, h) or area < MIN_FILL * w * h:
            continue
        squares.append(_clockwise(_four_corners(contour, box)))
    return squares


def _four_corners(contour: np.ndarray, box) -> np.ndarray:
    """The region as a quadrilateral: its convex hull simplified to four corners, or its
    bounding rectangle when no simplification gives four."""
    hull = cv2.convexHull(contour)
    perimeter = cv2.arcLength(hull, True)
    for share in np.linspace(0.01, 0.1, 19):
        corners = cv2.approxPolyDP(hull, share * perimeter, True)
        if len(corners) == 4:
            return corners[:, 0, :].astype(np.float32)
    return cv2.boxPoints(box).astype(np.float32)


def _clockwise(quad: np.ndarray) -> np.ndarray:
    centre = quad.mean(axis=0)
    return quad[np.argsort(np.arctan2(quad[:, 1] - centre[1], quad[:, 0] - centre[0]))]
