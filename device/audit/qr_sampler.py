"""Reading a QR code that the decoders' own binarizers lose: locate it, sample its module grid.

zbar and zxing-cpp decide each pixel black or white and then read one pixel per module. In a
dim, noisy, blurred photo (a shadow across the tape, JPEG) that loses the code even where its
modules are still in the picture: a single pixel is noise, and a global or block threshold is
wrong under a shadow. This module reads such a code as a reader built for these photos does.

Locating (``finder_patterns``, ``codes_from_finders``, ``codes_from_pairs``): the finder
patterns are contours nested three deep in the photo thresholded against its local mean; three
of one size at a right angle make a code (its size, hence its version, from their distance),
and two make one where a square puts the third (a finder lost in the photo).

Reading (``read_located(gray, quad, version)``), for the version guessed and those either side:

1. the quadrilateral is warped to an upright grid of ``MODULE_PX`` pixels per module, turned so
   that the corner without a finder pattern is at the bottom right;
2. the grid is registered on the code's own landmarks: the three finder patterns and the
   alignment pattern of the fourth corner are found by template matching near where the
   corners put them, and the warp is redone through their centres (a corner guessed several
   modules off no longer shifts the whole grid);
3. each module's mean grey is taken (averaging away the noise) and the module decided dark or
   light with its neighbours' blur taken away (``qr_equaliser``), from the landmarks found and,
   in case the alignment pattern matched was a false one, from the three finder patterns alone;
4. the modules are drawn as a clean code, its function patterns (finders, timing, alignment)
   as the standard fixes them, and given to zxing-cpp, whose Reed-Solomon decoding corrects
   the modules sampled wrong, or refuses the code.

A sampled code is only ever what zxing-cpp decodes with its error correction; the caller's
``accept`` and the tape's chain and signature then check it as any other read.
"""
from __future__ import annotations

import functools
from typing import Iterable

import cv2
import numpy as np
from segno.consts import ALIGNMENT_POS

from device.audit.qr_equaliser import equalised_modules

MODULE_PX = 8  # pixels per module of the resampled grid
PAD_MODULES = 3  # light modules kept around the resampled code (its quiet zone)
SEARCH_MODULES = 2.5  # how far from where the corners put it a finder pattern is looked for
ALIGNMENT_SEARCH_MODULES = 9.0  # and the alignment pattern (a corner guessed from the others)
# The equaliser (``qr_equaliser``) models the blur between neighbours, so it gains from the whole
# module's mean (less noise): with the code's position known it reads 147 of 160 codes on poor
# photos with all 8 x 8 pixels, 146 with the central 6 x 6, 131 with 4 x 4 (seeds 0-19, demo
# tape), and a fixed comparison with the local mean (the former sampler) reads none it misses.
EQUALISED_CENTRES = (8, 6)
MIN_FINDER_SCORE = 0.3  # below it, no three finder patterns: not a code of that size
TRIED_VERSIONS = 3  # the versions whose finder patterns fit best are decoded
FINDER_BLOCKS = (31, 71)  # neighbourhoods (pixels) a photo is thresholded in to find finders


def _ring_template(modules: int) -> np.ndarray:
    """A finder (7 modules) or alignment (5) pattern inside one light module, ``MODULE_PX``
    pixels per module: a dark square ring, a light ring, a dark centre."""
    size = modules + 2
    img = np.full((size, size), 255, np.uint8)
    for edge, value in ((1, 0), (2, 255), (3, 0)):
        img[edge:size - edge, edge:size - edge] = value
    return cv2.resize(img, None, fx=MODULE_PX, fy=MODULE_PX, interpolation=cv2.INTER_NEAREST)


FINDER = _ring_template(7)
ALIGNMENT = _ring_template(5)


def _warp(gray: np.ndarray, src: np.ndarray, dst: np.ndarray, side: int) -> np.ndarray:
    matrix = cv2.getPerspectiveTransform(src.astype(np.float32), dst.astype(np.float32))
    return cv2.warpPerspective(gray, matrix, (side, side), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_REPLICATE)


def _find(grid: np.ndarray, template: np.ndarray, centre: tuple[float, float],
          reach_modules: float = SEARCH_MODULES) -> tuple[float, tuple[float, float]]:
    """(score, centre) of the best match of ``template`` within ``reach_modules`` of ``centre``
    (pixels of ``grid``)."""
    half, reach = template.shape[0] / 2, reach_modules * MODULE_PX
    x0, y0 = int(max(0, centre[0] - half - reach)), int(max(0, centre[1] - half - reach))
    x1 = int(min(grid.shape[1], centre[0] + half + reach))
    y1 = int(min(grid.shape[0], centre[1] + half + reach))
    window = grid[y0:y1, x0:x1]
    if window.shape[0] < template.shape[0] or window.shape[1] < template.shape[1]:
        return -1.0, centre
    scores = cv2.matchTemplate(window, template, cv2.TM_CCOEFF_NORMED)
    _, best, _, (bx, by) = cv2.minMaxLoc(scores)
    return float(best), (x0 + bx + half, y0 + by + half)


def _landmarks(n: int) -> list[tuple[float, float]]:
    """Centres (in modules) of the landmarks at the four corners, clockwise from top-left,
    for a code whose missing finder is at the bottom right: three finders and the alignment
    pattern of versions >= 2 (for version 1, the corner module itself)."""
    far = n - 6.5 if n > 21 else n - 0.5
    return [(3.5, 3.5), (n - 3.5, 3.5), (far, far), (3.5, n - 3.5)]


def sample_grid(gray: np.ndarray, quad: np.ndarray, n: int) -> tuple[float, list[np.ndarray]]:
    """How well a code of ``n`` modules a side fits ``quad`` (four corners, clockwise, any
    starting corner: the third best finder-pattern match), and the code warped upright onto
    a grid of ``MODULE_PX`` pixels per module registered on its landmarks."""
    m, pad = MODULE_PX, PAD_MODULES * MODULE_PX
    side = n * m + 2 * pad
    square = np.array([[0, 0], [n, 0], [n, n], [0, n]], np.float32) * m + pad
    grid = _warp(gray, quad, square, side)
    corners = np.array([(3.5, 3.5), (n - 3.5, 3.5), (n - 3.5, n - 3.5), (3.5, n - 3.5)]) * m + pad
    finders = [_find(grid, FINDER, (float(x), float(y)))[0] for x, y in corners]
    # the corner without a finder pattern is the bottom right: turn the quad to put it there
    turn = 2 - int(np.argmin(finders))
    quad = np.roll(quad, turn, axis=0)
    grid = np.ascontiguousarray(np.rot90(grid, -turn))  # as the turned quad warps (half a pixel)
    ideal = np.array(_landmarks(n), np.float32) * m + pad
    found = ideal.copy()
    for k, centre in enumerate(ideal):
        if k == 2 and n == 21:
            continue
        template, reach = (ALIGNMENT, ALIGNMENT_SEARCH_MODULES) if k == 2 else (FINDER, SEARCH_MODULES)
        score, at = _find(grid, template, (float(centre[0]), float(centre[1])), reach)
        if score > 0.2:
            found[k] = at
    # the landmarks where they are in the photo, and the grid warped through them; and, in case
    # the alignment pattern matched was a false one (a blurred alignment pattern is faint), the
    # grid with the fourth landmark where the three finder patterns put it
    back = cv2.getPerspectiveTransform(square, quad.astype(np.float32))
    grids = [_warp(gray, cv2.perspectiveTransform(found[None], back)[0], ideal, side).astype(np.float32)]
    share = (n - 10) / (n - 7)  # of the way from the top-left finder to the others
    across = found[0] + share * (found[1] - found[0]) + share * (found[3] - found[0])
    if n > 21 and np.linalg.norm(across - found[2]) > m:
        found[2] = across
        grids.append(_warp(gray, cv2.perspectiveTransform(found[None], back)[0], ideal, side).astype(np.float32))
    return sorted(finders)[1], grids


def module_values(grid: np.ndarray, n: int, centre: int = 4) -> np.ndarray:
    """The mean grey of each module's central ``centre`` x ``centre`` pixels (n x n)."""
    m, pad = MODULE_PX, PAD_MODULES * MODULE_PX
    lo = (m - centre) // 2
    cells = grid[pad:pad + n * m, pad:pad + n * m].reshape(n, m, n, m)
    return cells[:, lo:lo + centre, :, lo:lo + centre].mean(axis=(1, 3)).astype(np.float32)


def sampled(grid: np.ndarray, n: int) -> Iterable[np.ndarray]:
    """The module matrices to try for a registered grid: the equaliser's (``qr_equaliser``)
    on each module's whole mean, then on its centre (a grid registered a little off)."""
    where, dark = function_patterns(n)
    for centre in EQUALISED_CENTRES:
        yield equalised_modules(module_values(grid, n, centre), where, dark)


@functools.cache
def function_patterns(n: int) -> tuple[np.ndarray, np.ndarray]:
    """(where, dark) of the modules of an ``n``-module code that carry no data: the finder
    patterns with their separators, the timing patterns, the alignment patterns and the dark
    module (ISO/IEC 18004 section 6.3); the same in every code of that size."""
    where, dark = np.zeros((n, n), bool), np.zeros((n, n), bool)
    ring = np.zeros((7, 7), bool)
    ring[[0, 6], :] = ring[:, [0, 6]] = True
    ring[2:5, 2:5] = True
    for r, c in ((0, 0), (0, n - 7), (n - 7, 0)):
        where[max(r - 1, 0):r + 8, max(c - 1, 0):c + 8] = True  # with the separator
        dark[r:r + 7, c:c + 7] = ring
    where[6, :] = where[:, 6] = True
    dark[6, 8:n - 8] = dark[8:n - 8, 6] = np.arange(8, n - 8) % 2 == 0
    centres = ALIGNMENT_POS[(n - 17) // 4 - 2] if n > 21 else ()
    small = np.ones((5, 5), bool)
    small[1:4, 1:4] = False
    small[2, 2] = True
    for r in centres:
        for c in centres:
            if where[r, c]:  # under a finder pattern
                continue
            where[r - 2:r + 3, c - 2:c + 3] = True
            dark[r - 2:r + 3, c - 2:c + 3] = small
    where[n - 8, 8] = dark[n - 8, 8] = True
    return where, dark


def drawn(modules: np.ndarray, scale: int = 4) -> np.ndarray:
    """A clean image of a module matrix, its function patterns drawn as they must be, with a
    quiet zone of four modules."""
    where, dark = function_patterns(modules.shape[0])
    light = np.where(np.where(where, dark, modules), 0, 255).astype(np.uint8)
    framed = cv2.copyMakeBorder(light, 4, 4, 4, 4, cv2.BORDER_CONSTANT, value=255)
    return cv2.resize(framed, None, fx=scale, fy=scale, interpolation=cv2.INTER_NEAREST)


def read_located(gray: np.ndarray, quad: np.ndarray, version: int,
                 others: Iterable[int] | None = None) -> list[str] | None:
    """The texts zxing-cpp decodes from the module grid of the code at ``quad``: of the
    ``version`` its size suggests and ``others`` (by default the ones either side: a guess from
    the finder patterns' size), the ``TRIED_VERSIONS`` whose finder patterns fit best. None,
    quickly, when none of them shows three finder patterns there (no code located)."""
    import zxingcpp

    tried = [version, *(others if others is not None else (version - 1, version + 1))]
    fits = []
    for v in dict.fromkeys(v for v in tried if 1 <= v <= 40):
        fit = sample_grid(gray, quad, 17 + 4 * v)
        if v == version and others is None and fit[0] < MIN_FINDER_SCORE:
            return None  # the suggested size shows no code: do not look at the others
        fits.append((*fit, 17 + 4 * v))
    if max(f[0] for f in fits) < MIN_FINDER_SCORE:
        return None
    for score, grids, n in sorted(fits, key=lambda f: -f[0])[:TRIED_VERSIONS]:
        if score < MIN_FINDER_SCORE:
            break
        for matrix in (m for grid in grids for m in sampled(grid, n)):
            texts = [r.text for r in zxingcpp.read_barcodes(
                drawn(matrix),
                formats=zxingcpp.BarcodeFormat.QRCode,  # type: ignore[arg-type]
                binarizer=zxingcpp.Binarizer.FixedThreshold) if r.valid]
            if texts:
                return texts
    return []


def finder_patterns(gray: np.ndarray) -> list[tuple[np.ndarray, float]]:
    """(centre, module size in pixels) of the finder patterns in a photo: a dark square ring
    around a light ring around a dark square (areas in the ratio 49 : 25 : 9), found as
    contours nested three deep in the photo thresholded against its local mean."""
    smooth = cv2.GaussianBlur(gray, (0, 0), 1.0)
    found: list[tuple[np.ndarray, float]] = []
    for block in FINDER_BLOCKS:
        binary = cv2.medianBlur(cv2.adaptiveThreshold(
            smooth, 255, cv2.ADAPTIVE_THRESH_MEAN_C, cv2.THRESH_BINARY_INV, block, 2), 3)  # no specks
        contours, hierarchy = cv2.findContours(binary, cv2.RETR_TREE, cv2.CHAIN_APPROX_SIMPLE)
        if hierarchy is None:
            continue
        tree = hierarchy[0]
        child = tree[:, 2]
        nested = np.flatnonzero((child >= 0) & (tree[np.maximum(child, 0), 2] >= 0))  # three deep
        for k in map(int, nested):
            contour = contours[k]
            outer = cv2.contourArea(contour)
            if outer < 200:
                continue
            hole = cv2.contourArea(contours[int(child[k])])
            grand = tree[child[k]][2]
            if not 0.3 < hole / outer < 0.75:
                continue
            centre_area = max(cv2.contourArea(contours[g]) for g in _siblings(tree, grand)) / outer
            (w, h) = cv2.minAreaRect(contour)[1]
            if not 0.08 < centre_area < 0.35 or max(w, h) > 2.2 * min(w, h):
                continue
            moments = cv2.moments(contour)
            centre = np.array([moments["m10"] / moments["m00"], moments["m01"] / moments["m00"]])
            if all(np.linalg.norm(centre - c) > np.sqrt(outer) / 4 for c, _ in found):
                found.append((centre, float(np.sqrt(outer) / 7)))
    return found


def _siblings(tree: np.ndarray, first: int) -> Iterable[int]:
    k = first
    while k >= 0:
        yield k
        k = tree[k][0]


def _code(corner: np.ndarray, pb: np.ndarray, pc: np.ndarray, module: float) -> tuple[np.ndarray, int] | None:
    """(corners, version) of the code whose finder patterns are centred at ``corner`` (at the
    right angle), ``pb`` and ``pc``; the fourth corner completes the parallelogram (the
    sampler then finds its alignment pattern). None if they cannot be a code's."""
    ab, ac = pb - corner, pc - corner
    la, lc = np.linalg.norm(ab), np.linalg.norm(ac)
    if not 0.5 < la / lc < 2 or abs(np.dot(ab, ac)) > 0.6 * la * lc:
        return None
    version = round(((la + lc) / 2 / module + 7 - 17) / 4)
    if not 1 <= version <= 40:
        return None
    if ab[0] * ac[1] - ab[1] * ac[0] < 0:  # pb is the bottom-left one: swap
        ab, ac, pb, pc = ac, ab, pc, pb
    n = 17 + 4 * version
    u, v = ab / (n - 7), ac / (n - 7)  # one module along the top and down the side
    return np.array([corner - 3.5 * (u + v), pb + 3.5 * (u - v), pb + ac + 3.5 * (u + v),
                     pc + 3.5 * (v - u)], np.float32), version


def _similar(*modules: float) -> bool:
    return max(modules) <= 1.5 * min(modules)


def codes_from_finders(finders: list[tuple[np.ndarray, float]]) -> list[tuple[np.ndarray, int]]:
    """(corners, version) of every code three of ``finders`` could be the corners of: one at
    the right angle, two at about equal distances from it, all of one module size."""
    codes = []
    for a, (pa, ma) in enumerate(finders):
        for b, (pb, mb) in enumerate(finders):
            for c, (pc, mc) in enumerate(finders):
                if len({a, b, c}) == 3 and b < c and _similar(ma, mb, mc):
                    code = _code(pa, pb, pc, (ma + mb + mc) / 3)
                    if code is not None:
                        codes.append(code)
    return codes


def codes_from_pairs(finders: list[tuple[np.ndarray, float]]) -> list[tuple[np.ndarray, int]]:
    """(corners, version) of every code two of ``finders`` could be two corners of, the third
    finder pattern (lost in the photo) where a square puts it: beside one of them, or across
    the diagonal between them."""
    codes = []
    turn = np.array([[0.0, -1.0], [1.0, 0.0]])
    for a, (pa, ma) in enumerate(finders):
        for pb, mb in finders[a + 1:]:
            if not _similar(ma, mb):
                continue
            module, side = (ma + mb) / 2, pb - pa
            guesses = [(pa, pb, pa + s * (turn @ side)) for s in (1, -1)]
            guesses += [(pb, pa, pb + s * (turn @ -side)) for s in (1, -1)]
            middle = (pa + pb) / 2
            guesses += [(middle + s * (turn @ side) / 2, pa, pb) for s in (1, -1)]
            for corner, pb_, pc in guesses:
                code = _code(corner, pb_, pc, module)
                if code is not None:
                    codes.append(code)
    return codes
