"""Ballot interpreter: one scanned sheet in, one ``BallotReading`` out — never an exception.

The fast path (see shared/facts/engineering.md):

1. **Fiducials**: ArUco detection only in the four corner windows of the frame, each shrunk to
   ~100 dpi; the whole (shrunk) frame is searched only when a corner comes up empty. The
   marker ids give the paper size and the orientation (any of the four, upside down too).
2. **Homography** from the 16 marker corners (page mm) to the frame; a residual above
   ``MAX_FIDUCIAL_RESIDUAL_MM`` means the markers are not one page (a page printed twice).
3. **QR**: the module centres of this election's own codes (every style, page, official or
   test) are sampled through the homography and compared with each code; an unambiguous
   near-exact match (<= 4 % of modules off, the next code >= 3 % further) is taken. Anything
   else — another election's code, a damaged one — is rectified as a crop (no full-page warp)
   and decoded by pyzbar restricted to QR codes, at ~5 then ~8 px per module, then binarised.
4. **Marks**: sample points inside each oval, and paper-white points around it, are mapped
   through the homography and read straight from the frame. Score = mean darkness inside the
   oval, normalised between the local paper white and the black of the fiducials' borders
   (so uneven lighting and low contrast cancel out): 0 for a clean oval, ~0.85 for a pen
   fill, ~0.5 for pencil. The blank bands along the page edges are sampled too: a dark line
   crossing two opposite edges (a dirty-sensor streak, a crease) rejects the sheet
   (``unreadable_marks``) rather than risk a vote it could invent. On a scan noisier than the
   spec's moderate level, a score near the vote threshold also rejects it: too close to call
   (``device.ballots.scan_quality``).

Default thresholds (``MarkThresholds``): a score >= 0.20 is a vote, 0.08..0.20 is marginal
(flagged, not counted). VxScan uses 0.07 / 0.05 on a different score — the share of pixels
that turned dark inside the whole bubble outline. Our score is a mean darkness over the
bubble's interior only (the printed outline is excluded) and normalised to the ink, so a
check mark or a cross scores 0.27-0.65 rather than VxScan's ~0.1, and noise, JPEG ringing and
blur of the outline stay small. Calibrated on the synthetic corpus (``ballotbox sim
accuracy``, 200 dpi): at the moderate level every definite mark kind scored >= 0.27 and
unmarked ovals <= 0.03; on severe scans that were not rejected, >= 0.25 and <= 0.09; marks
ambiguous by construction (dot, hesitation, erased residue) 0.0-0.23, mostly marginal.
0.20 sits in the gap with room on both sides; 0.08 flags what a human should look at.

Rejections carry one reason from ``device.ballot.REJECTION_REASONS``. The interpreter reports
a test ballot (``reading.test_ballot``); the controller decides to refuse it while polls are
live.
"""
from __future__ import annotations

import io
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import cv2
import numpy as np
from PIL import Image
from pyzbar.pyzbar import ZBarSymbol
from pyzbar.pyzbar import decode as zbar_decode

from device.ballots.records import BallotReading, ContestReading
from device.ballots.layout import (FIDUCIAL_CELLS, FIDUCIAL_DICTIONARY, FIDUCIAL_IDS, OVAL_SIZE,
                                  PAPER_MM, PageLayout, QrPayload, fiducial_corners_mm,
                                  fiducial_positions, layout_ballot, parse_qr_payload, qr_box,
                                  qr_symbol)
from device.ballots.scan_quality import close_call, line_defects, margin_bands
from device.election.definition import Election

MAX_PIXELS = 60_000_000  # a 600-dpi A4 page is ~35 Mpx
MIN_SIDE = 500
DETECT_LONG_SIDE = 1000  # corner windows are shrunk by a whole factor to about this long side
CORNER_FRACTION = 0.2
MAX_FIDUCIAL_RESIDUAL_MM = 0.8
QR_PX_PER_MM = 4.5  # rectified QR crop: ~4.9 px per module (fast path)
QR_MATCH_MAX_WRONG = 0.04  # share of QR modules that may differ from a known code of ours
QR_MATCH_MARGIN = 0.03  # ... and by how much more the next-closest code of ours must differ
QR_FINE_PX_PER_MM = 7.5  # retry at ~8 px per module, then binarised
INTERIOR = 0.72  # share of the oval's half-axes sampled (keeps the printed outline out)
SAMPLE_STEP_MM = 0.25
_PX_PER_MM_RANGE = (90 / 25.4, 700 / 25.4)
_ALL_IDS = {fid: paper for paper, ids in FIDUCIAL_IDS.items() for fid in ids}


class SheetInterpreter(Protocol):
    """What the ballot box asks of an interpreter: one captured frame in, one reading out —
    never an exception (``BallotInterpreter`` below; the simulator's logical paper reads marks
    as data)."""

    def interpret(self, frame: Any) -> BallotReading: ...


@dataclass(frozen=True)
class MarkThresholds:
    """Mark-score thresholds: >= definite is a vote; marginal <= score < definite is flagged."""

    definite: float = 0.20
    marginal: float = 0.08

    def __post_init__(self) -> None:
        if not 0.0 < self.marginal <= self.definite <= 1.0:
            raise ValueError("thresholds must satisfy 0 < marginal <= definite <= 1 "
                             f"(got marginal={self.marginal}, definite={self.definite})")


class ImageDecodeError(ValueError):
    """Bytes or a file that are not an image we can read; ``str()`` is one line."""


def decode_image(data: bytes) -> np.ndarray:
    """Encoded image bytes (JPEG, PNG, TIFF, ...) -> grayscale uint8 array.

    The header is checked first so a huge image is refused before it is decompressed."""
    if not data:
        raise ImageDecodeError("empty image data")
    try:
        with Image.open(io.BytesIO(data)) as probe:
            width, height = probe.size
    except Exception:
        raise ImageDecodeError("not an image (unknown or corrupt format)") from None
    if width * height > MAX_PIXELS:
        raise ImageDecodeError(f"image of {width}x{height} pixels is larger than "
                               f"{MAX_PIXELS // 1_000_000} Mpx")
    image = cv2.imdecode(np.frombuffer(data, np.uint8), cv2.IMREAD_GRAYSCALE)
    if image is None:
        raise ImageDecodeError("image data could not be decoded")
    return image


class _Rejection(Exception):
    def __init__(self, reason: str, detail: str):
        super().__init__(detail)
        self.reason, self.detail = reason, detail


@dataclass
class _PageSampler:
    """Precomputed sample points (page mm) for one page layout."""

    page: PageLayout
    interior: np.ndarray  # (n_ovals * k, 2)
    ring: np.ndarray  # (n_ovals * m, 2)
    k: int
    m: int


def _oval_points(page: PageLayout) -> _PageSampler:
    (ow, oh) = page.ovals[0].size_mm if page.ovals else OVAL_SIZE
    a, b = ow / 2 * INTERIOR, oh / 2 * INTERIOR
    gx, gy = np.meshgrid(np.arange(-a, a + 1e-9, SAMPLE_STEP_MM), np.arange(-b, b + 1e-9, SAMPLE_STEP_MM))
    inside = (gx / a) ** 2 + (gy / b) ** 2 <= 1.0
    interior = np.stack([gx[inside], gy[inside]], axis=1)
    # Paper-white reference: points 0.9-1.8 mm outside the outline, left, above and below.
    ring = []
    for t in np.linspace(0, 2 * np.pi, 24, endpoint=False):
        if abs(np.cos(t)) > 0.5 and np.cos(t) > 0:
            continue  # the label is to the right
        for extra in (0.9, 1.8):
            ring.append(((ow / 2 + extra) * np.cos(t), (oh / 2 + extra) * np.sin(t)))
    ring_arr = np.array(ring)
    centres = np.array([o.centre_mm for o in page.ovals]).reshape(-1, 1, 2)
    return _PageSampler(page, (centres + interior).reshape(-1, 2), (centres + ring_arr).reshape(-1, 2),
                        len(interior), len(ring_arr))


def _black_points(paper: str) -> np.ndarray:
    """Points on the always-black border ring of each fiducial (half a cell in)."""
    pts = []
    for _, (x, y), side in fiducial_positions(paper):
        cell = side / FIDUCIAL_CELLS
        for t in np.linspace(cell, side - cell, 9):
            pts += [(x + t, y + cell / 2), (x + t, y + side - cell / 2),
                    (x + cell / 2, y + t), (x + side - cell / 2, y + t)]
    return np.array(pts)


class BallotInterpreter:
    """Reads marked ballots of one election. ``interpret`` never raises."""

    def __init__(self, election: Election, thresholds: MarkThresholds | None = None):
        self.election = election
        self.thresholds = thresholds or MarkThresholds()
        dictionary = cv2.aruco.getPredefinedDictionary(getattr(cv2.aruco, FIDUCIAL_DICTIONARY))
        fast = cv2.aruco.DetectorParameters()  # corner windows: one threshold pass, big quads only
        fast.adaptiveThreshWinSizeMin = fast.adaptiveThreshWinSizeMax = 15
        fast.minMarkerPerimeterRate = 0.1
        self._fast = cv2.aruco.ArucoDetector(dictionary, fast)
        self._thorough = cv2.aruco.ArucoDetector(dictionary, cv2.aruco.DetectorParameters())
        self._samplers: dict[tuple[str, str, int], _PageSampler | None] = {}
        self._black = {paper: _black_points(paper) for paper in PAPER_MM}
        self._corners = {paper: fiducial_corners_mm(paper) for paper in PAPER_MM}
        self._codes: dict[str, list[tuple[np.ndarray, np.ndarray, list[str]]]] = {}
        bands = {paper: margin_bands(paper).reshape(-1, 2) for paper in PAPER_MM}
        self._band_pts = {paper: np.nan_to_num(b, nan=-1e6) for paper, b in bands.items()}
        self._band_ok = {paper: np.isfinite(b[:, 0]) for paper, b in bands.items()}

    # --- public -------------------------------------------------------------------------
    def interpret(self, image: Any, timings: dict[str, float] | None = None) -> BallotReading:
        """Read one frame: a grayscale or BGR(A) uint8 array. ``timings`` gets seconds per stage."""
        try:
            return self._interpret(image, timings)
        except _Rejection as rej:
            return BallotReading.rejected(rej.reason, rej.detail)
        except Exception as exc:  # the last line of defence: bad input never escapes
            return BallotReading.rejected("not_a_ballot", f"image could not be processed ({type(exc).__name__})")

    def interpret_bytes(self, data: bytes, timings: dict[str, float] | None = None) -> BallotReading:
        t0 = time.perf_counter()
        try:
            image = decode_image(data)
        except ImageDecodeError as exc:
            return BallotReading.rejected("not_a_ballot", str(exc))
        if timings is not None:
            timings["decode"] = time.perf_counter() - t0
        return self.interpret(image, timings)

    def interpret_file(self, path: str | Path) -> BallotReading:
        try:
            data = Path(path).read_bytes()
        except OSError as exc:
            return BallotReading.rejected("not_a_ballot", f"cannot read {path}: {exc.strerror or exc}")
        return self.interpret_bytes(data)

    def read_code(self, image: Any) -> QrPayload | None:
        """The ballot's QR payload (election hash prefix, style, page, test flag), or None when
        the sheet has no readable ballot code. Does not depend on this interpreter's election:
        it tells which election a sheet belongs to."""
        try:
            gray = _as_gray(image)
            markers, paper = self._find_fiducials(gray)
            return parse_qr_payload(self._read_qr(gray, self._homography(markers, paper), paper))
        except Exception:  # _Rejection, or whatever a bad image raises: no code to tell
            return None

    # --- stages -------------------------------------------------------------------------
    def _interpret(self, image: Any, timings: dict[str, float] | None) -> BallotReading:
        clock = time.perf_counter
        t0 = clock()
        gray = _as_gray(image)
        markers, paper = self._find_fiducials(gray)
        t1 = clock()
        homography = self._homography(markers, paper)
        qr = self._match_qr(gray, homography, paper) or self._read_qr(gray, homography, paper)
        t2 = clock()
        payload = parse_qr_payload(qr)
        if payload is None:
            raise _Rejection("not_a_ballot", "the QR code is not a ballot code")
        if payload.hash_prefix != self.election.hash_prefix:
            raise _Rejection("wrong_election", f"ballot of election {payload.hash_prefix}, "
                                               f"this unit runs {self.election.hash_prefix}")
        sampler = self._sampler(paper, payload.style_id, payload.page)
        reading = self._read_marks(gray, homography, sampler, paper, payload.test)
        t3 = clock()
        if timings is not None:
            timings.update(fiducials=t1 - t0, qr=t2 - t1, marks=t3 - t2)
        return reading

    def _find_fiducials(self, gray: np.ndarray) -> tuple[dict[int, np.ndarray], str]:
        h, w = gray.shape
        scale = 1.0 / max(1, int(max(h, w) / DETECT_LONG_SIDE))
        wh, ww = int(h * CORNER_FRACTION), int(w * CORNER_FRACTION)
        found: dict[int, list[np.ndarray]] = {}
        for y0, x0 in ((0, 0), (0, w - ww), (h - wh, w - ww), (h - wh, 0)):
            self._detect(self._fast, gray[y0:y0 + wh, x0:x0 + ww], x0, y0, scale, found)
        if not _complete(found):
            found = {}
            self._detect(self._thorough, gray, 0, 0, scale, found)
        repeated = [fid for fid, hits in found.items() if len(hits) > 1]
        if repeated:
            raise _Rejection("not_a_ballot", "fiducial markers repeated: more than one ballot on the page")
        by_paper = {paper: [fid for fid in ids if fid in found] for paper, ids in FIDUCIAL_IDS.items()}
        paper = max(by_paper, key=lambda p: len(by_paper[p]))
        if not by_paper[paper]:
            raise _Rejection("not_a_ballot", "no ballot fiducials found")
        if len(by_paper[paper]) < 4:
            raise _Rejection("fiducials_missing", f"found {len(by_paper[paper])} of 4 fiducials")
        return {fid: found[fid][0] for fid in by_paper[paper]}, paper

    @staticmethod
    def _detect(detector: Any, region: np.ndarray, x0: int, y0: int, scale: float,
                found: dict[int, list[np.ndarray]]) -> None:
        small = region if scale == 1.0 else cv2.resize(region, None, fx=scale, fy=scale,
                                                       interpolation=cv2.INTER_AREA)
        corners, ids, _ = detector.detectMarkers(small)
        if ids is None:
            return
        sx, sy = region.shape[1] / small.shape[1], region.shape[0] / small.shape[0]
        for quad, (fid,) in zip(corners, ids):
            if int(fid) in _ALL_IDS:
                q = quad.reshape(4, 2).astype(np.float64)
                full = np.empty_like(q)  # pixel-centre convention in both images
                full[:, 0] = (q[:, 0] + 0.5) * sx - 0.5 + x0
                full[:, 1] = (q[:, 1] + 0.5) * sy - 0.5 + y0
                found.setdefault(int(fid), []).append(full)

    def _homography(self, markers: dict[int, np.ndarray], paper: str) -> np.ndarray:
        src = np.array([pt for fid in markers for pt in self._corners[paper][fid]], np.float64)
        dst = np.concatenate([markers[fid] for fid in markers])
        homography, _ = cv2.findHomography(src, dst, 0)
        if homography is None:
            raise _Rejection("fiducials_missing", "fiducials do not form a page")
        proj = cv2.perspectiveTransform(src.reshape(-1, 1, 2), homography).reshape(-1, 2)
        side_px = np.mean([np.linalg.norm(q[0] - q[1]) for q in markers.values()])
        px_per_mm = side_px / (src[1, 0] - src[0, 0])
        if not _PX_PER_MM_RANGE[0] <= px_per_mm <= _PX_PER_MM_RANGE[1]:
            raise _Rejection("not_a_ballot", f"fiducials imply {px_per_mm * 25.4:.0f} dpi")
        residual = float(np.sqrt(np.mean(np.sum((proj - dst) ** 2, axis=1)))) / px_per_mm
        if residual > MAX_FIDUCIAL_RESIDUAL_MM:
            raise _Rejection("fiducials_missing",
                             f"fiducials do not form one page (residual {residual:.2f} mm)")
        return homography

    def _known_codes(self, paper: str) -> list[tuple[np.ndarray, np.ndarray, list[str]]]:
        """This election's QR codes grouped by symbol geometry: (sample points mm, bits, payloads)."""
        if paper not in self._codes:
            groups: dict[tuple[int, float], tuple[list[np.ndarray], list[str]]] = {}
            bx, by, side = qr_box(paper)
            for style_id in sorted(self.election.ballot_styles):
                for test in (False, True):
                    for page in layout_ballot(self.election, style_id, paper, test).pages:
                        matrix, module = qr_symbol(page.qr_payload)
                        bits = np.array(matrix, dtype=bool)[4:-4, 4:-4]
                        bits_list, payloads = groups.setdefault((len(bits), module), ([], []))
                        bits_list.append(bits.ravel())
                        payloads.append(page.qr_payload)
            self._codes[paper] = []
            for (n, module), (bits_list, payloads) in groups.items():
                origin = bx + (side - module * (n + 8)) / 2 + 4 * module
                centre = origin + (np.arange(n) + 0.5) * module
                gx, gy = np.meshgrid(centre, by - bx + centre)
                offsets = np.array([(0, 0), (-.2, -.2), (.2, -.2), (-.2, .2), (.2, .2)]) * module
                pts = (np.stack([gx.ravel(), gy.ravel()], 1)[:, None, :] + offsets).reshape(-1, 2)
                self._codes[paper].append((pts, np.array(bits_list), payloads))
        return self._codes[paper]

    def _match_qr(self, gray: np.ndarray, homography: np.ndarray, paper: str) -> str | None:
        """Fast path: compare the QR modules with this election's own codes (a few hundred
        microseconds). Only an unambiguous, near-exact match counts; anything else — another
        election's code, a damaged one — goes to the full decoder."""
        h, w = gray.shape
        for pts, candidates, payloads in self._known_codes(paper):
            img = cv2.perspectiveTransform(pts.reshape(-1, 1, 2), homography).reshape(-1, 2)
            xs, ys = np.rint(img[:, 0]).astype(np.intp), np.rint(img[:, 1]).astype(np.intp)
            if xs.min() < 0 or ys.min() < 0 or xs.max() >= w or ys.max() >= h:
                return None
            levels = gray[ys, xs].reshape(-1, 5).astype(np.float32).mean(axis=1)
            dark = levels < (np.percentile(levels, 5) + np.percentile(levels, 95)) / 2
            wrong = np.count_nonzero(candidates != dark, axis=1)
            order = np.argsort(wrong)
            best = int(wrong[order[0]])
            runner_up = int(wrong[order[1]]) if len(order) > 1 else dark.size
            if best <= QR_MATCH_MAX_WRONG * dark.size and runner_up - best >= QR_MATCH_MARGIN * dark.size:
                return payloads[int(order[0])]
        return None

    def _read_qr(self, gray: np.ndarray, homography: np.ndarray, paper: str) -> str:
        """Rectify only the QR box and decode it: a small crop first, a finer one if that fails."""
        bx, by, side = qr_box(paper)
        for px_per_mm, binarise in ((QR_PX_PER_MM, False), (QR_FINE_PX_PER_MM, False),
                                    (QR_FINE_PX_PER_MM, True)):
            size = int(round(side * px_per_mm))
            k = 1.0 / px_per_mm  # crop pixel centre (u, v) -> page mm ((u + .5) k + bx, ...)
            crop_to_mm = np.array([[k, 0, bx + 0.5 * k], [0, k, by + 0.5 * k], [0, 0, 1]])
            crop = cv2.warpPerspective(gray, homography @ crop_to_mm, (size, size),
                                       flags=cv2.INTER_LINEAR | cv2.WARP_INVERSE_MAP,
                                       borderMode=cv2.BORDER_CONSTANT, borderValue=255)
            if binarise:
                _, crop = cv2.threshold(cv2.GaussianBlur(crop, (3, 3), 0), 0, 255,
                                        cv2.THRESH_BINARY + cv2.THRESH_OTSU)
            symbols = zbar_decode(crop, symbols=[ZBarSymbol.QRCODE])
            if symbols:
                try:
                    return symbols[0].data.decode("utf-8")
                except UnicodeDecodeError:
                    raise _Rejection("not_a_ballot", "the QR code is not a ballot code") from None
        raise _Rejection("unreadable_code", "the ballot's QR code could not be read")

    def _sampler(self, paper: str, style_id: str, page: int) -> _PageSampler:
        key = (paper, style_id, page)
        if key not in self._samplers:
            sampler = None
            if style_id in self.election.ballot_styles:
                layout = layout_ballot(self.election, style_id, paper)
                if 1 <= page <= len(layout.pages):
                    sampler = _oval_points(layout.pages[page - 1])
            self._samplers[key] = sampler
        found = self._samplers[key]
        if found is None:
            raise _Rejection("unknown_style", f"ballot style {style_id!r} page {page} is not in "
                                              "this election")
        return found

    def _read_marks(self, gray: np.ndarray, homography: np.ndarray, sampler: _PageSampler,
                    paper: str, test: bool) -> BallotReading:
        page = sampler.page
        n = len(page.ovals)
        n_in, n_ring, n_black = n * sampler.k, n * sampler.m, len(self._black[paper])
        pts = np.concatenate([sampler.interior, sampler.ring, self._black[paper], self._band_pts[paper]])
        img = cv2.perspectiveTransform(pts.reshape(-1, 1, 2), homography).reshape(-1, 2)
        xs, ys = np.rint(img[:, 0]).astype(np.intp), np.rint(img[:, 1]).astype(np.intp)
        h, w = gray.shape
        inside = (xs >= 0) & (ys >= 0) & (xs < w) & (ys < h)
        core = n_in + n_ring + n_black
        if not inside[:core].all():
            raise _Rejection("unreadable_marks", "part of the ballot lies outside the image")
        values = gray[ys[:core], xs[:core]].astype(np.float32)
        interior = values[:n_in].reshape(n, sampler.k)
        ring = values[n_in:n_in + n_ring].reshape(n, sampler.m)
        black = float(np.median(values[n_in + n_ring:]))
        band_values = np.full(len(xs) - core, np.nan, np.float32)
        band_inside = inside[core:] & self._band_ok[paper]
        band_values[band_inside] = gray[ys[core:][band_inside], xs[core:][band_inside]]
        top, bottom, left, right = line_defects(band_values.reshape(4, 3, -1), black)
        if (top and bottom) or (left and right):
            raise _Rejection("unreadable_marks", "a streak or crease crosses the ballot "
                                                 "(clean the scanner or flatten the sheet)")
        white = np.median(ring, axis=1)
        page_white = float(np.percentile(white, 90)) if n else 255.0
        if page_white - black < 40:
            raise _Rejection("unreadable_marks", f"contrast too low (paper {page_white:.0f}, "
                                                 f"ink {black:.0f})")
        if n and np.min(white) - black < 0.5 * (page_white - black):
            raise _Rejection("unreadable_marks", "part of the ballot is dark or missing")
        span = (white - black)[:, None]
        scores = np.clip((white[:, None] - interior) / span, -1.0, 1.5).mean(axis=1)
        th = self.thresholds
        too_close = close_call(scores, ring, white, black, th.definite)
        if too_close:
            raise _Rejection("unreadable_marks", too_close)
        by_contest: dict[str, tuple[list[str], list[str]]] = {}
        score_map: dict[str, dict[str, float]] = {}
        for oval, score in zip(page.ovals, scores.tolist()):
            sel, marg = by_contest.setdefault(oval.contest_id, ([], []))
            score_map.setdefault(oval.contest_id, {})[oval.choice_id] = round(score, 4)
            if score >= th.definite:
                sel.append(oval.choice_id)
            elif score >= th.marginal:
                marg.append(oval.choice_id)
        contests = {cid: ContestReading(cid, tuple(sel), tuple(marg))
                    for cid, (sel, marg) in by_contest.items()}
        return BallotReading(page.style_id, contests, test_ballot=test, scores=score_map)


def _complete(found: dict[int, list[np.ndarray]]) -> bool:
    return any(all(len(found.get(fid, [])) == 1 for fid in ids) for ids in FIDUCIAL_IDS.values())


def _as_gray(image: Any) -> np.ndarray:
    if not isinstance(image, np.ndarray):
        raise _Rejection("not_a_ballot", f"expected an image array, got {type(image).__name__}")
    if image.ndim == 3 and image.shape[2] == 1:
        image = image[:, :, 0]
    if image.ndim not in (2, 3) or (image.ndim == 3 and image.shape[2] not in (3, 4)):
        raise _Rejection("not_a_ballot", f"expected a grayscale or colour image, got shape {image.shape}")
    h, w = image.shape[:2]
    if min(h, w) < MIN_SIDE:
        raise _Rejection("not_a_ballot", f"image of {w}x{h} pixels is too small for a ballot")
    if h * w > MAX_PIXELS:
        raise _Rejection("not_a_ballot", f"image of {w}x{h} pixels is too large")
    if image.dtype != np.uint8:
        if image.dtype == np.uint16:
            image = (image >> 8).astype(np.uint8)
        elif np.issubdtype(image.dtype, np.floating) and np.isfinite(image).all() \
                and image.min() >= 0 and image.max() <= 1:
            image = (image * 255).astype(np.uint8)
        else:
            raise _Rejection("not_a_ballot", f"unsupported pixel type {image.dtype}")
    if image.ndim == 3:
        code = cv2.COLOR_BGR2GRAY if image.shape[2] == 3 else cv2.COLOR_BGRA2GRAY
        image = cv2.cvtColor(image, code)
    return np.ascontiguousarray(image)
