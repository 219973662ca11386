"""Cameras through OpenCV, and voter cards read from camera frames with pyzbar.

URL forms (through ``hardware.registry.open_peripheral("camera", url)``)::

    opencv://0                          a device index (/dev/video0)
    opencv:///var/ballots/scan.avi      a video file
    opencv:///var/ballots/img_%04d.png  an image sequence (OpenCV's CAP_IMAGES pattern)
    http://10.0.0.9:8080/frame.png      a network camera's snapshot URL (``HttpCamera``)

``OpenCVCamera.capture(timeout)`` returns the next frame (BGR, or grayscale with
``gray=True``) or raises ``PeripheralTimeout`` when no frame comes within ``timeout`` — the
grab runs on a worker thread so a camera that hangs cannot hang the firmware; a grab still
running from a timed-out call is waited for by the next call, never run twice at once.
``loop=True`` rewinds a file or sequence at its end (a camera looking at a fixed scene).

``decode_voter_card(frame)`` finds a Code 128 or QR symbol in a frame and returns it as an
``IdRecord("barcode", payload)``; ``CameraIdReader`` turns a camera into an ``IdReader`` that
reports a card once while it is held in view.
"""
from __future__ import annotations

import threading
import time
from typing import Any

import cv2
import numpy as np
from pyzbar.pyzbar import ZBarSymbol, decode

from hardware.interfaces import (Camera, IdReader, IdRecord, PeripheralDisconnected,
                                 PeripheralError, PeripheralTimeout)

CARD_SYMBOLS = [ZBarSymbol.CODE128, ZBarSymbol.QRCODE]


class OpenCVCamera(Camera):
    def __init__(self, source: int | str, *, gray: bool = False, loop: bool = False) -> None:
        self.source, self.gray, self.loop = source, gray, loop
        self.cap = cv2.VideoCapture(source)
        if not self.cap.isOpened():
            raise PeripheralError(f"cannot open camera source {source!r}")
        self._grab: threading.Thread | None = None
        self._result: tuple[bool, Any] = (False, None)

    def _read(self) -> None:
        ok, frame = self.cap.read()
        if not ok and self.loop:
            self.cap.set(cv2.CAP_PROP_POS_FRAMES, 0)
            ok, frame = self.cap.read()
        self._result = (ok, frame)

    def capture(self, timeout: float = 1.0) -> Any:
        deadline = time.monotonic() + timeout
        if self._grab is not None:  # a grab left over from a timed-out call
            self._grab.join(timeout)
            if self._grab.is_alive():
                raise PeripheralTimeout(f"camera still busy after {timeout:g} s")
            self._grab = None
        worker = threading.Thread(target=self._read, daemon=True, name="camera-grab")
        worker.start()
        worker.join(max(0.0, deadline - time.monotonic()))
        if worker.is_alive():
            self._grab = worker
            raise PeripheralTimeout(f"no frame from the camera within {timeout:g} s")
        ok, frame = self._result
        if not ok or frame is None:
            raise PeripheralTimeout(f"the camera gave no frame ({self.source!r} at its end?)")
        if self.gray and frame.ndim == 3:
            frame = cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
        return frame

    def close(self) -> None:
        if self._grab is not None:
            self._grab.join(1.0)
        self.cap.release()


class HttpCamera(Camera):
    """A network camera that serves a still image per request (``GET`` on its snapshot URL, as
    IP cameras do; ``ballotbox sim peripherals`` serves its camera twin this way). HTTP 503 —
    nothing in view yet — and a timeout are ``PeripheralTimeout``; a refused connection is
    ``PeripheralDisconnected``; a body that is not an image is ``PeripheralError``."""

    def __init__(self, url: str, *, gray: bool = False) -> None:
        import httpx

        self.url, self.gray = url, gray
        self._client = httpx.Client()

    def capture(self, timeout: float = 1.0) -> Any:
        import httpx

        try:
            response = self._client.get(self.url, timeout=timeout)
        except httpx.TimeoutException:
            raise PeripheralTimeout(f"no frame from {self.url} within {timeout:g} s") from None
        except httpx.TransportError as exc:
            raise PeripheralDisconnected(f"camera at {self.url}: {exc}") from None
        if response.status_code == 503:
            raise PeripheralTimeout(f"camera at {self.url}: {response.text.strip() or 'no frame'}")
        if response.status_code != 200:
            raise PeripheralError(f"camera at {self.url} answered HTTP {response.status_code}")
        frame = cv2.imdecode(np.frombuffer(response.content, np.uint8),
                             cv2.IMREAD_GRAYSCALE if self.gray else cv2.IMREAD_UNCHANGED)
        if frame is None:
            raise PeripheralError(f"camera at {self.url} sent something that is not an image")
        return frame

    def close(self) -> None:
        self._client.close()


def decode_voter_card(frame: Any) -> IdRecord | None:
    """The voter card's barcode in ``frame`` (Code 128 or QR), or None when none is readable."""
    if not isinstance(frame, np.ndarray):
        return None
    image = frame if frame.ndim == 2 else cv2.cvtColor(frame, cv2.COLOR_BGR2GRAY)
    found = decode(image, symbols=CARD_SYMBOLS)
    if not found:
        return None
    payloads = [s.data.decode("utf-8", "replace") for s in found]
    payloads.sort(key=lambda p: not p.startswith("BBX1|"))  # prefer a voter card's payload
    return IdRecord("barcode", payloads[0])


class CameraIdReader(IdReader):
    """Voter cards held up to a camera. A card is reported once until it leaves the view."""

    def __init__(self, camera: Camera) -> None:
        self.camera = camera
        self._in_view: str | None = None

    def read(self, timeout: float = 0.0) -> IdRecord | None:
        deadline = time.monotonic() + timeout
        while True:
            try:
                frame = self.camera.capture(max(0.05, deadline - time.monotonic()))
            except PeripheralTimeout:
                return None
            record = decode_voter_card(frame)
            if record is None:
                self._in_view = None
            elif record.payload != self._in_view:
                self._in_view = record.payload
                return record
            if time.monotonic() >= deadline:
                return None

    def close(self) -> None:
        self.camera.close()
