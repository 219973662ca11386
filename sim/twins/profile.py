"""Behaviour and faults of the simulated peripherals, as data (``sim/profiles/*.json``).

A profile has ``timings`` (mechanical seconds per motion, the line's baud rate — a pty ignores
baud, so the twin charges the line time to the injected clock itself) and ``faults`` (rates per
motion, per frame or per byte). ``LineFaults`` applies the line faults to whatever bytes a twin
sends or receives (``hardware.port_wrappers.LineNoise``: a write lost, a write repeated, bits
flipped), drawn from the seeded ``random.Random`` so a seed reproduces them exactly.
"""
from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass, field, fields
from importlib import resources
from pathlib import Path

from hardware.port_wrappers import LineNoise


@dataclass(frozen=True)
class Timings:
    feed_s: float = 0.35
    scan_s: float = 0.8
    drop_s: float = 0.3
    return_s: float = 0.45
    reset_s: float = 0.5
    line_baud: int = 115200


@dataclass(frozen=True)
class Faults:
    jam_rate: float = 0.0
    double_feed_rate: float = 0.0
    byte_corruption_rate: float = 0.0
    dropped_frame_rate: float = 0.0
    duplicated_frame_rate: float = 0.0
    disconnect_rate: float = 0.0
    disconnect_frames: int = 0  # incoming frames ignored by a disconnect drawn at disconnect_rate
    slow_response_rate: float = 0.0
    slow_response_polls: int = 0  # host repeats answered with ACK before a slow result
    dropped_camera_frame_rate: float = 0.0


@dataclass(frozen=True)
class Profile:
    timings: Timings = field(default_factory=Timings)
    faults: Faults = field(default_factory=Faults)
    description: str = ""

    def with_faults(self, **changes: float) -> Profile:
        """A copy with some fault rates changed (validated as a profile file is)."""
        faults = _section(Faults, {**asdict(self.faults), **changes}, "faults", "profile")
        return Profile(self.timings, faults, self.description)

    def to_json(self) -> dict:
        return {"description": self.description, "timings": asdict(self.timings),
                "faults": asdict(self.faults)}


class ProfileError(ValueError):
    pass


def _section(cls, data: object, name: str, where: str):
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: '{name}' must be an object")
    known = {f.name: f.type for f in fields(cls)}
    for key, value in data.items():
        if key not in known:
            raise ProfileError(f"{where}: unknown {name} key {key!r} (known: {', '.join(known)})")
        if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
            raise ProfileError(f"{where}: {name}.{key} must be a non-negative number")
        if key.endswith("_rate") and value > 1:
            raise ProfileError(f"{where}: {name}.{key} is a probability, got {value}")
    return cls(**data)


def load_profile(source: str | Path | dict | None = None) -> Profile:
    """A bundled profile by name ('clean', 'noisy'), a JSON file, or a dict; None = clean."""
    if isinstance(source, dict):
        data, where = source, "profile"
    else:
        name = "clean" if source is None else str(source)
        path = Path(name)
        try:
            if path.suffix == ".json" or path.exists():
                text, where = path.read_text(), str(path)
            else:
                text = resources.files("sim").joinpath("profiles", f"{name}.json").read_text()
                where = f"profile {name!r}"
        except OSError:  # FileNotFoundError included
            raise ProfileError(f"no profile file or bundled profile named {name!r}") from None
        try:
            data = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ProfileError(f"{where}: not JSON ({exc.msg} at line {exc.lineno})") from None
    if not isinstance(data, dict):
        raise ProfileError(f"{where}: a profile is a JSON object")
    unknown = set(data) - {"description", "timings", "faults"}
    if unknown:
        raise ProfileError(f"{where}: unknown key(s) {', '.join(sorted(unknown))}")
    return Profile(_section(Timings, data.get("timings", {}), "timings", where),
                   _section(Faults, data.get("faults", {}), "faults", where),
                   str(data.get("description", "")))


class LineFaults(LineNoise):
    """Line noise of one direction of a twin's byte stream, from the profile's faults."""

    def __init__(self, faults: Faults, rng: random.Random):
        super().__init__(rng, corrupt=faults.byte_corruption_rate, drop=faults.dropped_frame_rate,
                         dup=faults.duplicated_frame_rate)
