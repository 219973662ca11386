"""Reading a results tape's QR codes from a phone photo: two decoders and a module sampler.

``read_tape_photo(gray, accept)`` returns every text read that ``accept`` allows (the caller's
check that it is a tape code), and how many codes it located but could not read (the photo
is then too far or blurred: ``device.audit.tape`` says so), cheapest looks first:

1. zxing-cpp on the photo as taken;
2. every code located by its finder patterns (three, or two and where the third must be:
   ``device.audit.qr_sampler``) and not read yet: its module grid registered on its finder and
   alignment patterns, each module averaged and compared with the modules around it, the
   function patterns drawn in, and the clean code decoded by zxing-cpp (Reed-Solomon). This
   reads dim, noisy, blurred photos the decoders' binarizers lose;
3. unless a code was read and every code located is read: zxing-cpp and pyzbar (zbar) on
   enhanced copies (local contrast evened out by CLAHE, the image enlarged 1.5 times; zbar on
   the photo as taken), then, per code located (zxing-cpp's corners, or three finder patterns)
   and nobody read, a perspective correction: the quadrilateral warped to an upright square
   with a quiet zone and given to zxing-cpp again. A photo in which steps 1 and 2
   find no code and no finder pattern (the tape's text, the table) is not looked at further.

A decoder never vouches for a text: every text, whoever read it, goes through ``accept`` here
and then through the tape's own checks (index and count, hash chain, signature) in
``device.audit.tape``. Reed-Solomon correction inside each decoder makes a wrong text very
unlikely; the chain and the signature make one that slipped through a refused tape, never a
wrong result. Measured with ``python -m sim.bench tape``.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Callable, Iterable

import cv2
import numpy as np

from device.audit.qr_locate import textured_squares
from device.audit.qr_sampler import codes_from_finders, codes_from_pairs, finder_patterns, read_located

QUIET = 0.12  # quiet zone added around a rectified code, as a share of its side
RECTIFIED_PX = 480  # side of a rectified code
TEXTURE_VERSIONS = range(1, 16)
READ_NEARBY = 0.6  # a located code this near (times its side) a code read is that code, or a phantom  # sizes tried for a code located by its texture alone


def _zxing_views(gray: np.ndarray) -> Iterable[tuple[np.ndarray, str]]:
    """The copies zxing-cpp looks at (it is fast: ~30 ms a photo), with the binarizer for each:
    as taken and with local contrast evened out, at 1 and 1.5 times the size (cubic), each
    binarised by local average and by a fixed threshold (a sharp but small code)."""
    clahe = cv2.createCLAHE(clipLimit=3.0, tileGridSize=(8, 8)).apply(gray)
    for factor in (1.0, 1.5):
        for base in (gray, clahe):
            img = base if factor == 1.0 else cv2.resize(base, None, fx=factor, fy=factor,
                                                         interpolation=cv2.INTER_CUBIC)
            for binarizer in ("LocalAverage", "FixedThreshold"):
                yield img, binarizer


def _passes(gray: np.ndarray) -> Iterable[np.ndarray]:
    """The copies zbar looks at (it is slower: the photo as taken)."""
    yield gray


def _zbar(img: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """(text, centre) of every QR code zbar reads."""
    from pyzbar.pyzbar import ZBarSymbol, decode

    return [(s.data.decode("utf-8", "replace"),
             np.array([s.rect.left + s.rect.width / 2, s.rect.top + s.rect.height / 2], np.float32))
            for s in decode(img, symbols=[ZBarSymbol.QRCODE])]


def _zxing(img: np.ndarray, binarizer: str = "LocalAverage") -> tuple[list[tuple[str, np.ndarray]], list[np.ndarray]]:
    """(text, centre) of every code zxing-cpp reads, and the corners of every code it located
    (read or not: a code found but failing its checksum is one to rectify and try again)."""
    import zxingcpp

    read, quads = [], []
    # zxing-cpp takes one format where its stub asks for a set of them
    for r in zxingcpp.read_barcodes(img, formats=zxingcpp.BarcodeFormat.QRCode,  # type: ignore[arg-type]
                                    return_errors=True,
                                    binarizer=getattr(zxingcpp.Binarizer, binarizer)):
        p = r.position
        quad = np.array([[p.top_left.x, p.top_left.y], [p.top_right.x, p.top_right.y],
                         [p.bottom_right.x, p.bottom_right.y], [p.bottom_left.x, p.bottom_left.y]], np.float32)
        if r.valid:
            read.append((r.text, quad.mean(axis=0)))
        quads.append(quad)
    return read, quads


def rectify(gray: np.ndarray, quad: np.ndarray) -> np.ndarray:
    """The code inside ``quad`` (four corners, clockwise from top-left) as an upright square."""
    q = RECTIFIED_PX
    margin = q * QUIET
    dst = np.array([[margin, margin], [margin + q, margin], [margin + q, margin + q], [margin, margin + q]],
                   np.float32)
    matrix = cv2.getPerspectiveTransform(quad.astype(np.float32), dst)
    side = int(q + 2 * margin)
    return cv2.warpPerspective(gray, matrix, (side, side), flags=cv2.INTER_CUBIC,
                               borderMode=cv2.BORDER_REPLICATE)


class _Reading:
    """What has been read in one photo so far: accepted texts, and where codes were read."""

    def __init__(self, accept: Callable[[str], bool]):
        self.accept = accept
        self.found: dict[str, None] = {}
        self.centres: list[np.ndarray] = []

    def keep(self, read: Iterable[tuple[str, np.ndarray]], scale: float = 1.0) -> None:
        for text, centre in read:
            if self.accept(text):
                self.found.setdefault(text)
                if scale:
                    self.centres.append(centre / scale)

    def unread(self, quads: list[np.ndarray]) -> list[np.ndarray]:
        """Located codes no decoder has read yet: no read code's centre inside them, nor nearer
        their centre than ``READ_NEARBY`` of their side (three finder patterns of two codes
        read, one above the other, make a code across the gap between them)."""
        out = []
        for quad in quads:
            area = cv2.contourArea(quad)
            if area < 400:  # a speck, not a code
                continue
            near = READ_NEARBY * np.sqrt(area)
            if not any(cv2.pointPolygonTest(quad, (float(c[0]), float(c[1])), False) >= 0
                       or np.linalg.norm(c - quad.mean(axis=0)) < near for c in self.centres):
                out.append(quad)
        return out


def distinct(quads: list[np.ndarray]) -> list[np.ndarray]:
    """One quad per located code (detectors report the same code from several views)."""
    out: list[np.ndarray] = []
    for quad in quads:
        reach = np.sqrt(max(cv2.contourArea(quad), 1.0)) / 4
        if all(np.linalg.norm(quad.mean(axis=0) - q.mean(axis=0)) > reach for q in out):
            out.append(quad)
    return out


@dataclass
class PhotoReading:
    """What one photo gave: the accepted texts, in the order first read, and how many codes
    were located in it (finder patterns or a detector's corners) that nothing could read."""

    texts: list[str]
    unread_codes: int


def read_tape_photo(gray: np.ndarray, accept: Callable[[str], bool]) -> PhotoReading:
    """Every accepted text read in ``gray``, cheapest looks first: zxing-cpp on the photo;
    each code located by its finder patterns and not yet read, sampled module by module; and,
    unless every code located so far is read, both decoders on enhanced copies, then each code
    a detector located and nobody read, rectified and tried again."""
    reading = _Reading(accept)
    views = list(_zxing_views(gray))
    read, quads = _zxing(*views[0])
    reading.keep(read)
    finders = finder_patterns(gray)
    _sample(gray, reading, codes_from_finders(finders), quads)
    free = [f for f in finders if not any(cv2.pointPolygonTest(q, (float(f[0][0]), float(f[0][1])), False) >= 0
                                          for q in quads if not reading.unread([q]))]
    _sample(gray, reading, codes_from_pairs(free), quads)
    _sample(gray, reading, [(q, 0) for q in textured_squares(gray)], [], TEXTURE_VERSIONS)  # a guess:
    # a square of texture not read is not counted as a code located (the text, the table's grain)
    if reading.found and not distinct(reading.unread(quads)):
        return PhotoReading(list(reading.found), 0)
    if not reading.found and not quads and not finders:  # no code in sight: the text, the table
        return PhotoReading([], 0)
    for img, binarizer in views[1:]:
        scale = img.shape[0] / gray.shape[0]
        read, located = _zxing(img, binarizer)
        reading.keep(read, scale)
        quads += [q / scale for q in located]
    for variant in _passes(gray):
        reading.keep(_zbar(variant), variant.shape[0] / gray.shape[0])
    for quad in distinct(reading.unread(quads)):
        if not reading.unread([quad]):  # read meanwhile, through another quad of the same code
            continue
        patch = rectify(gray, quad)
        for binarizer in ("LocalAverage", "FixedThreshold"):
            reading.keep((text, quad.mean(axis=0)) for text, _ in _zxing(patch, binarizer)[0])
    return PhotoReading(list(reading.found), len(distinct(reading.unread(quads))))


def _sample(gray: np.ndarray, reading: _Reading, codes: list[tuple[np.ndarray, int]],
            located: list[np.ndarray], versions: Iterable[int] | None = None) -> None:
    """Read each of ``codes`` (corners, version) not read yet with the module sampler (trying
    ``versions`` too, if given); a code whose finder patterns are there joins ``located``, read
    or not."""
    for quad, version in codes:
        if reading.unread([quad]):
            texts = read_located(gray, quad, version, versions)
            if texts is not None and _inside(quad, gray.shape):
                located.append(quad)
            reading.keep((text, quad.mean(axis=0)) for text in texts or ())


def _inside(quad: np.ndarray, shape: tuple[int, ...]) -> bool:
    """True if the code at ``quad`` is whole in the photo (a code cut by the frame's edge is not
    one the photo could read: it is not counted as located and unread)."""
    return bool((quad >= 0).all() and (quad[:, 0] <= shape[1]).all() and (quad[:, 1] <= shape[0]).all())


def read_tape_payloads(gray: np.ndarray, accept: Callable[[str], bool]) -> list[str]:
    """The accepted texts ``read_tape_photo`` reads in ``gray``."""
    return read_tape_photo(gray, accept).texts
