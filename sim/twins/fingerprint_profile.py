"""The fingerprint sensor twin's behaviour as data: ``sim/twins/fingerprint_profile.json``.

The JSON holds published figures for the sensor class (FAR and FRR at security level 3, the
time of a capture, the baud rate) and says where each comes from; the numbers no datasheet
gives (the score scale, the medians, the failure rates of a wet, dry or partial press) are
marked as assumptions there. Match scores are lognormal: each distribution's median is given
and its spread is *solved* from the anchors, so that at the threshold the impostor tail is
the published FAR and the genuine tail the published FRR (``score = floor(draw)``, so
``P(score >= t) = P(draw >= t)`` exactly). A wet, dry or partial press draws from the genuine
distribution with its median scaled by the finger's ``median_factor``.
"""
from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from statistics import NormalDist

FINGERS = ("none", "genuine", "impostor", "wet", "dry", "partial")
PRESSED = FINGERS[1:]


class FingerprintProfileError(ValueError):
    pass


@dataclass(frozen=True)
class LogNormalScores:
    median: float
    sigma: float

    def draw(self, rng: random.Random, median_factor: float = 1.0) -> int:
        return int(rng.lognormvariate(math.log(self.median * median_factor), self.sigma))

    def tail_at_least(self, threshold: float, median_factor: float = 1.0) -> float:
        """P(score >= threshold)."""
        z = (math.log(threshold) - math.log(self.median * median_factor)) / self.sigma
        return 1 - NormalDist().cdf(z)

    def quantile(self, p: float, median_factor: float = 1.0) -> float:
        return self.median * median_factor * math.exp(self.sigma * NormalDist().inv_cdf(p))


@dataclass(frozen=True)
class FingerCondition:
    scores: str  # "genuine" or "impostor"
    median_factor: float
    image_failed_rate: float
    image_messy_rate: float
    too_few_features_rate: float


@dataclass(frozen=True)
class FingerprintProfile:
    baud: int
    library_size: int
    security_level: int
    capture_s: float
    extract_s: float
    match_s: float
    threshold: int
    far_anchor: float
    frr_anchor: float
    impostor: LogNormalScores
    genuine: LogNormalScores
    fingers: dict[str, FingerCondition]

    @property
    def sensor_threshold(self) -> int:
        """The score at which the sensor itself says 'match' (its security level's threshold)."""
        return self.threshold

    def draw_score(self, finger: str, rng: random.Random) -> int:
        condition = self.fingers[finger]
        scores = self.genuine if condition.scores == "genuine" else self.impostor
        return scores.draw(rng, condition.median_factor)


def _number(section: dict, key: str, where: str, *, probability: bool = False) -> float:
    value = section.get(key)
    if not isinstance(value, (int, float)) or isinstance(value, bool) or value < 0:
        raise FingerprintProfileError(f"{where}: {key} must be a non-negative number")
    if probability and value > 1:
        raise FingerprintProfileError(f"{where}: {key} is a probability, got {value}")
    return float(value)


def _object(data: dict, key: str, where: str) -> dict:
    value = data.get(key)
    if not isinstance(value, dict):
        raise FingerprintProfileError(f"{where}: '{key}' must be an object")
    return value


def profile_from_json(data: dict, where: str = "profile") -> FingerprintProfile:
    sensor, timings = _object(data, "sensor", where), _object(data, "timings", where)
    anchors, scores = _object(data, "anchors", where), _object(data, "scores", where)
    threshold = _number(_object(data, "threshold", where), "value", where)
    far = _number(anchors, "far", where, probability=True)
    frr = _number(anchors, "frr", where, probability=True)
    if not 0 < far < 0.5 or not 0 < frr < 0.5 or threshold < 1:
        raise FingerprintProfileError(f"{where}: anchors must lie in (0, 0.5), threshold >= 1")
    imp_median = _number(_object(scores, "impostor", where), "median", where)
    gen_median = _number(_object(scores, "genuine", where), "median", where)
    if not 0 < imp_median < threshold < gen_median:
        raise FingerprintProfileError(f"{where}: the medians must lie either side of the threshold")
    z = NormalDist().inv_cdf
    impostor = LogNormalScores(imp_median, math.log(threshold / imp_median) / z(1 - far))
    genuine = LogNormalScores(gen_median, math.log(gen_median / threshold) / z(1 - frr))
    fingers_data = _object(data, "fingers", where)
    fingers: dict[str, FingerCondition] = {}
    for name in PRESSED:
        f = _object(fingers_data, name, where)
        if f.get("scores") not in ("genuine", "impostor"):
            raise FingerprintProfileError(f"{where}: fingers.{name}.scores is genuine or impostor")
        fingers[name] = FingerCondition(
            f["scores"], _number(f, "median_factor", where),
            *(_number(f, k, where, probability=True)
              for k in ("image_failed_rate", "image_messy_rate", "too_few_features_rate")))
    return FingerprintProfile(
        int(_number(sensor, "baud", where)), int(_number(sensor, "library_size", where)),
        int(_number(sensor, "security_level", where)), _number(timings, "capture_s", where),
        _number(timings, "extract_s", where), _number(timings, "match_s", where),
        int(threshold), far, frr, impostor, genuine, fingers)


def load_fingerprint_profile(source: str | Path | None = None) -> FingerprintProfile:
    """The bundled profile (None) or a JSON file of the same shape."""
    bundled = resources.files("sim.twins").joinpath("fingerprint_profile.json")
    where = "fingerprint_profile.json" if source is None else str(source)
    try:
        data = json.loads(bundled.read_text() if source is None else Path(source).read_text())
    except (OSError, json.JSONDecodeError) as exc:
        raise FingerprintProfileError(f"cannot read fingerprint profile {where}: {exc}") from None
    if not isinstance(data, dict):
        raise FingerprintProfileError(f"{where}: a profile is a JSON object")
    return profile_from_json(data, where)


def render_doc(source: str | Path | None = None) -> str:
    """``docs/fingerprint-sensor.md``: every figure of the profile with its source, and the
    spreads solved from the anchors. ``python -m sim.twins.fingerprint_profile > docs/...``."""
    bundled = resources.files("sim.twins").joinpath("fingerprint_profile.json")
    data = json.loads(bundled.read_text() if source is None else Path(source).read_text())
    p = profile_from_json(data)
    rows = [("baud, library size, security level",
             f"{p.baud:,}; {p.library_size:,}; {p.security_level}", data["sensor"]["source"]),
            ("capture, extract, match (s)", f"{p.capture_s:g}, {p.extract_s:g}, {p.match_s:g}",
             data["timings"]["source"]),
            ("threshold (score)", str(p.threshold), data["threshold"]["source"]),
            ("FAR, FRR at the threshold", f"{p.far_anchor:g}, {p.frr_anchor:g}",
             data["anchors"]["source"])]
    for name, scores in (("impostor", p.impostor), ("genuine", p.genuine)):
        rows.append((f"{name} scores: lognormal median, sigma",
                     f"{scores.median:g}, {scores.sigma:.4f}", data["scores"][name]["source"]))
    for name, f in p.fingers.items():
        rows.append((f"press '{name}': {f.scores} scores x median factor; capture fails, "
                     "messy, too few features", f"x{f.median_factor:g}; {f.image_failed_rate:g}, "
                     f"{f.image_messy_rate:g}, {f.too_few_features_rate:g}",
                     data["fingers"][name]["source"]))
    lines = ["# The fingerprint sensor's twin: its figures and where they come from", "",
             "Generated by `python -m sim.twins.fingerprint_profile` from "
             "`sim/twins/fingerprint_profile.json`; a test fails when this file and the data "
             "disagree. The bytes the twin speaks are in `docs/protocol.md` (section 5).", "",
             (__doc__ or "").strip(), "",
             "| figure | value | source |", "|---|---|---|"]
    lines += [f"| {a} | {b} | {c} |" for a, b, c in rows]
    lines += ["", f"Check: P(impostor score >= {p.threshold}) = {p.impostor.tail_at_least(p.threshold):.3g}, "
              f"P(genuine score < {p.threshold}) = {1 - p.genuine.tail_at_least(p.threshold):.3g}.",
              "", "Measured on the twin's draws, with confidence intervals, the time per check-in "
              "and the DET curve: `python -m sim.bench fingerprint`.", ""]
    return "\n".join(lines)


if __name__ == "__main__":
    print(render_doc(), end="")
