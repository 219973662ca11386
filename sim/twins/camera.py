"""The virtual camera: shows the frame of the sheet that is in the virtual scanner's path.

The frame is whatever the sheet carries (``paper.make_sheet``): a numpy image at image
fidelity, a logical frame object at logical fidelity. Dropped frames (the profile's
``dropped_camera_frame_rate``) are retried as a real grab loop would, up to ``max_attempts``;
a camera that keeps dropping raises ``PeripheralTimeout`` like ``OpenCVCamera``. With no sheet
in the path it raises ``PeripheralTimeout`` too (nothing to photograph).

``CameraHttpEndpoint`` serves the camera on loopback HTTP the way a network camera serves
snapshots: ``GET /frame.png`` is the frame now in view as PNG, or HTTP 503 with the reason
(read with ``open_peripheral("camera", "http://HOST:PORT/frame.png")``).
"""
from __future__ import annotations

import random
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import cv2
import numpy as np

from hardware.interfaces import Camera, PeripheralTimeout


class VirtualCamera(Camera):
    def __init__(self, scanner, rng: random.Random | None = None, dropped_rate: float = 0.0,
                 max_attempts: int = 3) -> None:
        self.scanner, self.rng = scanner, rng or random.Random(0)
        self.dropped_rate, self.max_attempts = dropped_rate, max_attempts
        self.frames = self.dropped = 0

    def capture(self, timeout: float = 1.0) -> Any:
        with self.scanner.lock:
            frame = self.scanner.frame_in_path
        if frame is None:
            raise PeripheralTimeout("no sheet in the scan position")
        for _ in range(self.max_attempts):
            if self.dropped_rate and self.rng.random() < self.dropped_rate:
                self.dropped += 1
                continue
            self.frames += 1
            return frame
        raise PeripheralTimeout(f"camera dropped {self.max_attempts} frames in a row")


class CameraHttpEndpoint:
    """``camera`` served over HTTP on ``host:port`` (port 0: any free one), on its own thread."""

    def __init__(self, camera: Camera, host: str = "127.0.0.1", port: int = 0) -> None:
        self.camera = camera

        class Handler(BaseHTTPRequestHandler):
            def do_GET(handler) -> None:  # noqa: N805 - the endpoint is ``self`` here
                if handler.path.split("?")[0] != "/frame.png":
                    return handler._answer(404, b"the camera serves /frame.png", "text/plain")
                try:
                    frame = self.camera.capture(timeout=1.0)
                except PeripheralTimeout as exc:
                    return handler._answer(503, str(exc).encode(), "text/plain")
                if not isinstance(frame, np.ndarray):
                    return handler._answer(503, b"the sheet in view has no image", "text/plain")
                handler._answer(200, cv2.imencode(".png", frame)[1].tobytes(), "image/png")

            def _answer(handler, status: int, body: bytes, kind: str) -> None:  # noqa: N805
                handler.send_response(status)
                handler.send_header("Content-Type", kind)
                handler.send_header("Content-Length", str(len(body)))
                handler.end_headers()
                handler.wfile.write(body)

            def log_message(handler, *args: Any) -> None:  # noqa: N805 - quiet
                pass

        self.server = ThreadingHTTPServer((host, port), Handler)
        self.host, self.port = self.server.server_address[:2]
        self._thread = threading.Thread(target=self.server.serve_forever, daemon=True,
                                        name=f"camera-http-{self.port}")
        self._thread.start()

    @property
    def url(self) -> str:
        return f"http://{self.host}:{self.port}/frame.png"

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
