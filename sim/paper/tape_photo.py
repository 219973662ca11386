"""A phone photo of a printed results tape: taken at an angle, on a table, under uneven light.

``photograph(tape, rng, level)`` takes a rendered tape (grayscale uint8, e.g. the printer
twin's PNG of the results slip) and returns what an observer's phone gives: the tape on a
darker table, seen at an angle (a perspective warp: the far end of the tape is narrower),
turned a little, scaled to the phone's resolution, with a shadow across it (uneven light),
lower contrast, focus blur, sensor noise and JPEG compression. ``photos_of`` splits a long
tape into overlapping sections, as a person photographs a tape too long for one frame.

The lighting, blur, noise and JPEG steps are ``sim.paper.scan_distortions``'s; only the geometry and
the levels are a photo's own. Levels (``LEVELS``): ``steady`` (a careful photo), ``ordinary``
(the default: hand-held at an angle, an office ceiling light) and ``poor`` (beyond what the
reader promises: it must then report the codes it cannot read, never misread one).
Randomness comes from the numpy ``Generator`` passed in; a seed reproduces a photo exactly.

Not modelled: motion blur, glare spots, lens distortion, a curled roll.

Why ``poor`` cannot be read (``module_contrast``): its photo has 1.2-1.8 pixels per QR module
and a focus blur of sigma 1.5-2.5 pixels. A Gaussian blur keeps ``exp(-2 pi^2 sigma^2 f^2)`` of
a pattern's contrast at frequency ``f``; modules alternating dark/light have ``f = 1 / (2 m)``
for ``m`` pixels per module, so a poor photo keeps at most 3 % of it (0 % at its worst), about
2-3 grey levels under noise of sigma 10-18 and JPEG at quality 25-40: the modules are no longer
in the picture, whatever the decoder. An ordinary photo keeps 48-91 %.
"""
from __future__ import annotations

from dataclasses import dataclass

import cv2
import numpy as np

from hardware.slip_raster import QR_DOTS as PRINTED_MODULE_PX  # dots per QR module on the tape
from sim.paper.scan_distortions import Range, blur, jpeg, low_contrast, noise, uneven_lighting

TABLE = 90  # grey of the table the tape lies on


@dataclass(frozen=True)
class PhotoLevel:
    tilt: float  # the far end of the tape narrows by up to this fraction of its width
    rotate_deg: float
    pixels_per_module: Range  # the photo's resolution at the tape, per printed QR module
    lighting: Range  # darkest part loses this fraction of brightness
    contrast_low: Range
    contrast_high: Range
    blur_px: Range
    noise: Range
    jpeg: Range


LEVELS = {
    "steady": PhotoLevel(0.08, 4.0, (3.5, 4.0), (0.0, 0.15), (0, 20), (230, 255), (0.3, 0.6),
                         (1, 3), (85, 95)),
    "ordinary": PhotoLevel(0.25, 12.0, (2.6, 3.6), (0.2, 0.45), (20, 50), (190, 235),
                           (0.5, 1.0), (3, 6), (60, 85)),
    "poor": PhotoLevel(0.45, 25.0, (1.2, 1.8), (0.5, 0.7), (60, 90), (150, 180), (1.5, 2.5),
                       (10, 18), (25, 40)),
}


def module_contrast(level: str | PhotoLevel) -> tuple[float, float]:
    """The share of contrast a pattern of alternating modules keeps after the level's blur,
    at its worst (fewest pixels per module, most blur) and at its best."""
    lv = LEVELS[level] if isinstance(level, str) else level

    def kept(pixels_per_module: float, sigma: float) -> float:
        return float(np.exp(-2 * np.pi ** 2 * sigma ** 2 / (2 * pixels_per_module) ** 2))

    return kept(lv.pixels_per_module[0], lv.blur_px[1]), kept(lv.pixels_per_module[1], lv.blur_px[0])


def _u(rng: np.random.Generator, r: Range) -> float:
    return float(rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])


def angle_warp(tape: np.ndarray, rng: np.random.Generator, lv: PhotoLevel, scale: float) -> np.ndarray:
    """The tape on a table, seen at an angle: a keystone perspective, a turn, a new resolution."""
    h, w = tape.shape
    out_w, out_h = int(w * scale * 1.5), int(h * scale * 1.2)
    tilt = _u(rng, (lv.tilt / 2, lv.tilt))
    far_top = rng.random() < 0.5  # which end of the tape is further from the camera
    narrow = tilt * w * scale / 2
    top, bottom = (narrow, 0.0) if far_top else (0.0, narrow)
    sw, sh = w * scale, h * scale
    dst = np.array([[top, 0], [sw - top, 0], [sw - bottom, sh], [bottom, sh]], np.float64)
    dst -= [sw / 2, sh / 2]
    theta = np.radians(rng.uniform(-lv.rotate_deg, lv.rotate_deg))
    rot = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    dst = dst @ rot.T + [out_w / 2, out_h / 2]
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    return cv2.warpPerspective(tape, matrix, (out_w, out_h), flags=cv2.INTER_AREA,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=TABLE)


def photograph(tape: np.ndarray, rng: np.random.Generator, level: str | PhotoLevel = "ordinary") -> np.ndarray:
    """A phone photo (grayscale uint8) of ``tape`` at ``level``."""
    lv = LEVELS[level] if isinstance(level, str) else level
    scale = _u(rng, lv.pixels_per_module) / PRINTED_MODULE_PX
    img = angle_warp(tape, rng, lv, scale)
    img = uneven_lighting(img, rng, _u(rng, lv.lighting))
    img = low_contrast(img, _u(rng, lv.contrast_low), _u(rng, lv.contrast_high))
    img = blur(img, _u(rng, lv.blur_px))
    img = noise(img, rng, _u(rng, lv.noise))
    quality = _u(rng, lv.jpeg)
    return jpeg(img, int(quality)) if quality > 0 else img


def photos_of(tape: np.ndarray, rng: np.random.Generator, parts: int = 2,
              level: str | PhotoLevel = "ordinary", overlap: float = 0.3) -> list[np.ndarray]:
    """``parts`` photos of successive, overlapping sections of a long tape."""
    h = tape.shape[0]
    step = h / parts
    photos = []
    for k in range(parts):
        top = max(0, int(k * step - overlap * step))
        bottom = min(h, int((k + 1) * step + overlap * step))
        photos.append(photograph(tape[top:bottom], rng, level))
    return photos


def load_gray(path) -> np.ndarray:
    img = cv2.imread(str(path), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise ValueError(f"cannot read image {path}")
    return img
