"""Scan distortions: what a real scanner or camera does to a ballot page, at named levels.

``distort(page, rng, level, dpi)`` applies, in the order a sheet meets them: one geometric
warp (orientation — any of the four, upside down included — skew, scale, translation, mild
perspective), uneven lighting, low contrast, a crease, blur, a vertical streak from a dirty
sensor, Gaussian noise and JPEG compression. Each is also a function of its own so tests can
apply one at a time.

Levels (``LEVELS``): ``clean`` (a good flatbed scan), ``moderate`` (the default: what a
precinct scanner sees on an ordinary day — the interpreter must read these exactly) and
``severe`` (beyond spec: the interpreter must reject or read correctly, never misread).
Randomness comes from the numpy ``Generator`` passed in; a seed reproduces a scan exactly.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import cv2
import numpy as np

Range = tuple[float, float]


@dataclass(frozen=True)
class DistortionLevel:
    orientations: tuple[int, ...]  # multiples of 90 degrees
    skew_deg: float
    scale: float  # +- fraction
    translate_mm: float
    perspective: float  # corner displacement, fraction of the page size
    lighting: Range  # darkest corner loses this fraction of brightness
    contrast_low: Range  # black level after the scan
    contrast_high: Range  # white level after the scan
    crease: tuple[float, Range, Range]  # probability, darkness, width mm
    blur_px: Range  # Gaussian sigma at 200 dpi
    streak: tuple[float, Range, Range]  # probability, darkness, width mm
    noise: Range  # Gaussian sigma in grey levels
    jpeg: Range  # quality; 0 = no JPEG round trip


LEVELS = {
    "clean": DistortionLevel((0,), 0.5, 0.005, 1.0, 0.0, (0.0, 0.05), (0, 10), (245, 255),
                             (0.0, (0, 0), (0, 0)), (0.0, 0.5), (0.0, (0, 0), (0, 0)),
                             (0, 2), (92, 95)),
    "moderate": DistortionLevel((0, 90, 180, 270), 3.0, 0.03, 3.0, 0.004, (0.0, 0.2), (0, 40),
                                (200, 255), (0.15, (0.1, 0.25), (0.2, 0.4)), (0.3, 1.2),
                                (0.1, (0.1, 0.3), (0.1, 0.35)), (3, 8), (60, 90)),
    "severe": DistortionLevel((0, 90, 180, 270), 5.0, 0.05, 6.0, 0.01, (0.1, 0.45), (40, 90),
                              (150, 200), (0.5, (0.2, 0.5), (0.3, 0.6)), (1.0, 2.5),
                              (0.5, (0.3, 0.7), (0.25, 0.8)), (8, 20), (20, 50)),
}
BACKGROUND = 235  # scanner lid / background grey outside the sheet
SCAN_MARGIN_MM = 8.0  # the scanner's field of view extends this far beyond the sheet


def _u(rng: np.random.Generator, r: Range) -> float:
    return float(rng.uniform(r[0], r[1])) if r[1] > r[0] else float(r[0])


def warp(page: np.ndarray, rng: np.random.Generator, level: DistortionLevel, dpi: float) -> np.ndarray:
    """Orientation, skew, scale, translation and perspective in one warp."""
    h, w = page.shape
    quarter = int(rng.choice(level.orientations)) // 90
    k = dpi / 25.4
    margin = 2 * round(SCAN_MARGIN_MM * k)
    out_w, out_h = (w + margin, h + margin) if quarter % 2 == 0 else (h + margin, w + margin)
    theta = math.radians(quarter * 90 + rng.uniform(-level.skew_deg, level.skew_deg))
    s = 1.0 + rng.uniform(-level.scale, level.scale)
    tx, ty = (rng.uniform(-level.translate_mm, level.translate_mm) * k for _ in range(2))
    cos, sin = math.cos(theta) * s, math.sin(theta) * s
    src = np.array([[0, 0], [w, 0], [w, h], [0, h]], np.float32)
    centred = src - [w / 2, h / 2]
    dst = np.stack([centred[:, 0] * cos - centred[:, 1] * sin + out_w / 2 + tx,
                    centred[:, 0] * sin + centred[:, 1] * cos + out_h / 2 + ty], axis=1)
    dst += rng.uniform(-level.perspective, level.perspective, (4, 2)) * [out_w, out_h]
    matrix = cv2.getPerspectiveTransform(src, dst.astype(np.float32))
    return cv2.warpPerspective(page, matrix, (out_w, out_h), flags=cv2.INTER_LINEAR,
                               borderMode=cv2.BORDER_CONSTANT, borderValue=BACKGROUND)


def uneven_lighting(img: np.ndarray, rng: np.random.Generator, loss: float) -> np.ndarray:
    if loss <= 0:
        return img
    field = (255 * (1 - rng.uniform(0, loss, (3, 3)))).astype(np.uint8)
    gain = cv2.resize(field, (img.shape[1], img.shape[0]), interpolation=cv2.INTER_LINEAR)
    return cv2.multiply(img, gain, scale=1 / 255)


def low_contrast(img: np.ndarray, low: float, high: float) -> np.ndarray:
    lut = np.clip(low + np.arange(256) * (high - low) / 255, 0, 255).astype(np.uint8)
    return cv2.LUT(img, lut)


def crease(img: np.ndarray, rng: np.random.Generator, darkness: float, width_px: int) -> np.ndarray:
    """A fold line across the whole frame, within 2 degrees of its rows or columns."""
    h, w = img.shape
    tilt = math.tan(math.radians(rng.uniform(-2, 2)))
    if rng.random() < 0.5:
        y = rng.uniform(0.2, 0.8) * h
        p0, p1 = (0, int(y)), (w, int(y + tilt * w))
    else:
        x = rng.uniform(0.2, 0.8) * w
        p0, p1 = (int(x), 0), (int(x + tilt * h), h)
    mask = np.zeros_like(img)
    cv2.line(mask, p0, p1, int(255 * darkness), max(1, width_px), cv2.LINE_AA)
    return cv2.subtract(img, cv2.multiply(img, mask, scale=1 / 255))


def blur(img: np.ndarray, sigma: float) -> np.ndarray:
    return cv2.GaussianBlur(img, (0, 0), sigma) if sigma > 0.05 else img


def streak(img: np.ndarray, rng: np.random.Generator, darkness: float, width_px: int) -> np.ndarray:
    """A vertical line down the whole frame: dirt on the scanner's sensor."""
    x = int(rng.integers(0, img.shape[1] - width_px))
    out = img.copy()
    out[:, x:x + width_px] = (out[:, x:x + width_px] * (1 - darkness)).astype(np.uint8)
    return out


_NOISE_BUFFERS: dict[int, np.ndarray] = {}
_NOISE_SLACK = 1 << 20


def _noise_buffer(size: int) -> np.ndarray:
    """A fixed field of N(128, 16) grey levels per frame size; frames take random windows of it."""
    if size not in _NOISE_BUFFERS:
        gen = np.random.default_rng(size)
        _NOISE_BUFFERS[size] = np.clip(128 + 16 * gen.standard_normal(size + _NOISE_SLACK),
                                       0, 255).astype(np.uint8)
    return _NOISE_BUFFERS[size]


def noise(img: np.ndarray, rng: np.random.Generator, sigma: float) -> np.ndarray:
    """Gaussian noise of ``sigma`` grey levels (a random window of a fixed noise field)."""
    if sigma <= 0:
        return img
    size = img.size
    start = int(rng.integers(0, _NOISE_SLACK))
    field = _noise_buffer(size)[start:start + size].reshape(img.shape)
    return cv2.addWeighted(img, 1.0, field, sigma / 16, -128 * sigma / 16)


def jpeg(img: np.ndarray, quality: int) -> np.ndarray:
    ok, data = cv2.imencode(".jpg", img, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    return cv2.imdecode(data, cv2.IMREAD_GRAYSCALE)


def distort(page: np.ndarray, rng: np.random.Generator, level: str | DistortionLevel = "moderate",
            dpi: float = 200.0) -> np.ndarray:
    """A scanned frame of ``page`` (grayscale uint8) at distortion ``level``."""
    lv = LEVELS[level] if isinstance(level, str) else level
    k = dpi / 25.4
    img = warp(page, rng, lv, dpi)
    img = uneven_lighting(img, rng, _u(rng, lv.lighting))
    img = low_contrast(img, _u(rng, lv.contrast_low), _u(rng, lv.contrast_high))
    p, dark, width = lv.crease
    if p and rng.random() < p:
        img = crease(img, rng, _u(rng, dark), round(_u(rng, width) * k))
    img = blur(img, _u(rng, lv.blur_px) * dpi / 200)
    p, dark, width = lv.streak
    if p and rng.random() < p:
        img = streak(img, rng, _u(rng, dark), max(1, round(_u(rng, width) * k)))
    img = noise(img, rng, _u(rng, lv.noise))
    quality = _u(rng, lv.jpeg)
    return jpeg(img, int(quality)) if quality > 0 else img
