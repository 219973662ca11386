"""A phone photo of a printed results tape: taken at an angle, on a table, under uneven light.

``photograph(tape, rng, level)`` takes a rendered tape (grayscale uint8, one pixel per printer
dot: the printer twin's PNG of the results slip) and returns what an observer's phone gives:
the tape on a darker table, seen at an angle (a perspective warp: the far end of the tape is
narrower), turned a little, at the phone's resolution, with a shadow across it (uneven light),
lower contrast, focus blur, sensor noise and JPEG compression. ``photos_of`` photographs a long
tape the way a person does: in overlapping sections, each the length one frame holds at the
level's framing, so a longer tape takes more photos, never coarser ones.

The lighting, blur, noise and JPEG steps are ``sim.paper.scan_distortions``'s; only the geometry
and the levels are a photo's own. Randomness comes from the numpy ``Generator`` passed in; a
seed reproduces a photo exactly. Not modelled: motion blur, glare spots, lens distortion, a
curled roll.

**A level is a physical photo, not a number of pixels per QR module.** Its resolution is in
pixels per millimetre of tape (``px_per_mm``): the phone's pixels along the frame's long side
over the tape that side spans. The framing (``FRAME_MM``) is the one the bench has always
photographed the 433 mm demo tape with (two photos, each 65 % of the tape: 281 mm, plus the
fifth of the frame ``photograph`` leaves to the table: 281 x 1.2 = 338 mm along the long
side); a phone's main camera (26 mm equivalent focal length, 69 degrees along the long side)
frames that from about 24 cm above the table (169 / tan 34.7 deg = 244 mm). A longer tape takes
more photos at the same framing, never coarser ones (``photos_of``). The printer has 8 dots per
mm (203 dpi), so a tape printed with ``d`` dots per module has ``px_per_mm * d / 8`` pixels per
module: the same photo of a tape with bigger modules has more pixels per module.

=========== =========== ============================================= ======================
level       px per mm   the phone: pixels along 338 mm of tape         px per module at 4 / 8
                                                                        dots per module
=========== =========== ============================================= ======================
steady      7.0-8.0     2,366-2,704: a 5 MP camera (2,592 x 1,944)     3.5-4.0 / 7.0-8.0
ordinary    5.2-7.2     1,758-2,434: a 2.3-4.4 MP photo, or a 5 MP     2.6-3.6 / 5.2-7.2
                        camera held a little further back
poor        5.2-7.2     ordinary's phone and distance                  2.6-3.6 / 5.2-7.2
unreadable  1.2-1.8 px per *module* of the layout printed (the former  1.2-1.8
            ``poor``: a 0.4-0.6 MP photo of today's tape), a control
=========== =========== ============================================= ======================

``steady`` and ``ordinary`` are the former levels re-expressed (px per module at 4 dots per
module x 8 / 4), not eased. ``poor`` is the worst photo a person still takes of a tape with a
phone: ordinary's phone and distance (no level is better than ``ordinary`` in any factor), with
the former poor level's light (a shadow taking 50-70 % of the light), contrast (black at 60-90,
white at 150-180 grey levels), focus blur (sigma 1.5-2.5 px: a fixed-focus camera 24 cm from the
paper), noise (sigma 10-18: a small sensor indoors), JPEG (quality 25-40: a messenger app's
recompression), tilt (the far end of the tape up to 45 % narrower) and turn (up to 25 degrees).
The same conditions at a 5 MP camera's full resolution (2,592 px / 338 mm = 7.7 px per mm) read
far better (docs/rla.md gives both); the level does not assume that camera.

Why ``unreadable`` cannot be read (``module_contrast``): 1.2-1.8 pixels per module under a
focus blur of sigma 1.5-2.5 pixels. A Gaussian blur keeps ``exp(-2 pi^2 sigma^2 f^2)`` of a
pattern's contrast at frequency ``f``; modules alternating dark/light have ``f = 1 / (2 m)``
for ``m`` pixels per module, so it keeps at most 3 % of it (0 % at its worst), about 2-3 grey
levels under noise of sigma 10-18 and JPEG at quality 25-40: the modules are no longer in the
picture, whatever the decoder. An ordinary photo keeps 48-91 %.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hardware.slip_raster import DOTS_PER_MM, QR_DOTS
from sim.paper.scan_distortions import Range, blur, jpeg, low_contrast, noise, uneven_lighting

TABLE = 90  # grey of the table the tape lies on
FRAME_MM = 338.0  # tape along the frame's long side: the phone about 25 cm above the tape
FRAME_MARGIN = 1.2  # the frame's long side over the tape a photo holds (the table around it)
ORDINARY_PX_PER_MM = (5.2, 7.2)  # the ordinary photo's phone and distance: ``poor`` has them too
OVERLAP = 0.3  # consecutive photos of a long tape share at least this share of a section


@dataclass(frozen=True)
class PhotoLevel:
    tilt: float  # the far end of the tape narrows by up to this fraction of its width
    rotate_deg: float
    px_per_mm: Range  # the photo's resolution at the tape, pixels per mm of tape (8 dots)
    lighting: Range  # darkest part loses this fraction of brightness
    contrast_low: Range
    contrast_high: Range
    blur_px: Range
    noise: Range
    jpeg: Range

    def pixels_per_module(self, dots_per_module: int = QR_DOTS) -> Range:
        """Pixels per QR module on a tape printed with ``dots_per_module`` dots per module."""
        per_dot = dots_per_module / DOTS_PER_MM
        return self.px_per_mm[0] * per_dot, self.px_per_mm[1] * per_dot


def per_module(px: Range, dots_per_module: int = QR_DOTS) -> Range:
    """Pixels per mm that give ``px`` pixels per module at the printed layout."""
    return px[0] * DOTS_PER_MM / dots_per_module, px[1] * DOTS_PER_MM / dots_per_module


LEVELS = {
    "steady": PhotoLevel(0.08, 4.0, (7.0, 8.0), (0.0, 0.15), (0, 20), (230, 255), (0.3, 0.6),
                         (1, 3), (85, 95)),
    "ordinary": PhotoLevel(0.25, 12.0, ORDINARY_PX_PER_MM, (0.2, 0.45), (20, 50), (190, 235),
                           (0.5, 1.0), (3, 6), (60, 85)),
    "poor": PhotoLevel(0.45, 25.0, ORDINARY_PX_PER_MM, (0.5, 0.7), (60, 90),
                       (150, 180), (1.5, 2.5), (10, 18), (25, 40)),
    "unreadable": PhotoLevel(0.45, 25.0, per_module((1.2, 1.8)), (0.5, 0.7), (60, 90), (150, 180),
                             (1.5, 2.5), (10, 18), (25, 40)),
}


def module_contrast(level: str | PhotoLevel, dots_per_module: int = QR_DOTS) -> tuple[float, float]:
    """The share of contrast a pattern of alternating modules keeps after the level's blur,
    at its worst (fewest pixels per module, most blur) and at its best."""
    lv = LEVELS[level] if isinstance(level, str) else level
    fewest, most = lv.pixels_per_module(dots_per_module)

    def kept(pixels_per_module: float, sigma: float) -> float:
        return float(np.exp(-2 * np.pi ** 2 * sigma ** 2 / (2 * pixels_per_module) ** 2))

    return kept(fewest, lv.blur_px[1]), kept(most, lv.blur_px[0])


def _u(rng: np.random.Generator, r: Range) -> float:
    return float(rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])


def angle_warp(tape: np.ndarray, rng: np.random.Generator, lv: PhotoLevel, scale: float) -> np.ndarray:
    """The tape on a table, seen at an angle: a keystone perspective, a turn, a new resolution."""
    h, w = tape.shape
    tilt = _u(rng, (lv.tilt / 2, lv.tilt))
    far_top = rng.random() < 0.5  # which end of the tape is further from the camera
    narrow = tilt * w * scale / 2
    top, bottom = (narrow, 0.0) if far_top else (0.0, narrow)
    sw, sh = w * scale, h * scale
    dst = np.array([[top, 0], [sw - top, 0], [sw - bottom, sh], [bottom, sh]], np.float64)
    dst -= [sw / 2, sh / 2]
    theta = np.radians(rng.uniform(-lv.rotate_deg, lv.rotate_deg))
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    dst = dst @ rot.T
    # the frame: the tape's length and a fifth more, and as wide as the turned tape needs (a
    # person keeps the tape inside the frame), but at least half as wide again as the tape
    out_h = int(h * scale * FRAME_MARGIN)
    out_w = int(max(w * scale * 1.5, np.ptp(dst[:, 0]) + w * scale * 0.5))
    dst += [out_w / 2, out_h / 2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    return cv2.warpPerspective(tape, matrix, (out_w, out_h), flags=cv2.INTER_AREA,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=TABLE)


def photograph(tape: np.ndarray, rng: np.random.Generator, level: str | PhotoLevel = "ordinary") -> np.ndarray:
    """A phone photo (grayscale uint8) of ``tape`` (one pixel per printer dot) at ``level``."""
    lv = LEVELS[level] if isinstance(level, str) else level
    scale = _u(rng, lv.px_per_mm) / DOTS_PER_MM  # photo pixels per printer dot
    img = angle_warp(tape, rng, lv, scale)
    img = uneven_lighting(img, rng, _u(rng, lv.lighting))
    img = low_contrast(img, _u(rng, lv.contrast_low), _u(rng, lv.contrast_high))
    img = blur(img, _u(rng, lv.blur_px))
    img = noise(img, rng, _u(rng, lv.noise))
    quality = _u(rng, lv.jpeg)
    return jpeg(img, int(quality)) if quality > 0 else img


def sections(length: int, section: int, overlap: float = OVERLAP) -> list[tuple[int, int]]:
    """(top, bottom) of the fewest evenly spaced sections ``section`` dots long that cover a
    tape ``length`` dots long, consecutive ones sharing at least ``overlap`` of a section."""
    if length <= section:
        return [(0, length)]
    stride = section * (1 - overlap)
    n = 1 + int(np.ceil((length - section) / stride))
    return [(round(k * (length - section) / (n - 1)), round(k * (length - section) / (n - 1)) + section)
            for k in range(n)]


def photos_of(tape: np.ndarray, rng: np.random.Generator, level: str | PhotoLevel = "ordinary",
              overlap: float = OVERLAP) -> list[np.ndarray]:
    """Photos of successive, overlapping sections of a tape, each ``FRAME_MM / FRAME_MARGIN``
    of tape (one frame at the bench's framing): as many as the tape's length needs."""
    section = int(FRAME_MM / FRAME_MARGIN * DOTS_PER_MM)
    return [photograph(tape[top:bottom], rng, level) for top, bottom in sections(tape.shape[0], section, overlap)]


def load_gray(path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise ValueError(f"cannot read image {path}")
    return img
