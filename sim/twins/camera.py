"""The virtual camera: shows the frame of the sheet that is in the virtual scanner's path.

The frame is whatever the sheet carries (``paper.make_sheet``): a numpy image at image
fidelity, a logical frame object at logical fidelity. Dropped frames (the profile's
``dropped_camera_frame_rate``) are retried as a real grab loop would, up to ``max_attempts``;
a camera that keeps dropping raises ``PeripheralTimeout`` like ``OpenCVCamera``. With no sheet
in the path it raises ``PeripheralTimeout`` too (nothing to photograph).
"""
from __future__ import annotations

import random
from typing import Any

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
