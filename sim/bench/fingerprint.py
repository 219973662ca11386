"""The fingerprint step: FAR and FRR at the configured threshold, time per check-in, DET curve.

- **Error rates.** 100,000 genuine and 1,000,000 impostor match scores drawn from the twin's own
  distributions (``FingerprintProfile.draw_score``, the function its Match answers with), seeded;
  FAR and FRR at the profile's threshold with exact (Clopper-Pearson) 95 % intervals, beside the
  datasheet figures the distributions are anchored to. Per press (wet, dry, partial): the share
  of attempts that fail to acquire (capture or extraction fails) and that are rejected.
- **Time per check-in.** ``FingerprintSensor.match`` (DownChar, GenImg, Img2Tz, Match) through
  the real driver on a pty to the twin, the twin paced in real time: it waits 10 bits per byte
  at 57,600 baud for every byte it receives or sends and the sensor's own time per command
  (``timings`` of the profile), so the wall time is what a unit would wait. The median, and the
  driver's own cost (the same check-ins unpaced).
- **DET curve** (FRR against FAR over every threshold, normal-deviate axes) as a PNG, and every
  figure printed here in ``fingerprint.json``, in ``$BALLOTBOX_BENCH_OUT`` (default
  ``out/bench``).

``python -m sim.bench fingerprint [--quick]``.
"""
from __future__ import annotations

import json
import os
import random
import statistics
import time
from pathlib import Path

import numpy as np

from hardware.fingerprint_serial import FingerprintError, FingerprintSensor
from sim.twins.endpoints import PtyEndpoint
from sim.twins.fingerprint import FingerprintTwin, make_template
from sim.twins.fingerprint_profile import PRESSED, FingerprintProfile, load_fingerprint_profile

GENUINE_ATTEMPTS = 100_000
IMPOSTOR_ATTEMPTS = 1_000_000  # FAR is anchored at 1e-5: 100,000 attempts would expect 1 error
CONFIDENCE = 0.95


def clopper_pearson(errors: int, n: int, confidence: float = CONFIDENCE) -> tuple[float, float]:
    """The exact binomial interval of ``errors / n``."""
    from scipy.stats import beta

    alpha = 1 - confidence
    low = 0.0 if errors == 0 else float(beta.ppf(alpha / 2, errors, n - errors + 1))
    high = 1.0 if errors == n else float(beta.ppf(1 - alpha / 2, errors + 1, n - errors))
    return low, high


def _rate(errors: int, n: int) -> dict:
    low, high = clopper_pearson(errors, n)
    return {"errors": errors, "attempts": n, "rate": errors / n, "ci95": [low, high]}


def _press_outcomes(profile: FingerprintProfile, finger: str, n: int, rng: random.Random) -> dict:
    """Per attempt of a press: failed to acquire (capture or extraction failed) or rejected."""
    condition, threshold = profile.fingers[finger], profile.threshold
    fta = rejected = 0
    for _ in range(n):
        if (rng.random() < condition.image_failed_rate or rng.random() < condition.image_messy_rate
                or rng.random() < condition.too_few_features_rate):
            fta += 1
        elif profile.draw_score(finger, rng) < threshold:
            rejected += 1
    return {"failed_to_acquire": _rate(fta, n), "not_accepted": _rate(fta + rejected, n)}


def error_rates(profile: FingerprintProfile, seed: int = 1, n: int = GENUINE_ATTEMPTS,
                n_impostor: int = IMPOSTOR_ATTEMPTS) -> dict:
    rng = random.Random(seed)
    genuine = np.array([profile.draw_score("genuine", rng) for _ in range(n)])
    impostor = np.array([profile.draw_score("impostor", rng) for _ in range(n_impostor)])
    t = profile.threshold
    presses = {f: _press_outcomes(profile, f, n // 10, rng) for f in PRESSED if f not in ("genuine", "impostor")}
    return {"threshold": t, "seed": seed,
            "far": _rate(int((impostor >= t).sum()), n_impostor),
            "frr": _rate(int((genuine < t).sum()), n),
            "anchors": {"far": profile.far_anchor, "frr": profile.frr_anchor},
            "presses": presses, "_scores": (genuine, impostor)}


def det_points(genuine: np.ndarray, impostor: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(thresholds, FAR, FRR) at every integer threshold the scores reach."""
    top = int(max(genuine.max(), impostor.max())) + 1
    thresholds = np.arange(0, top + 1)
    imp = np.bincount(impostor.astype(int), minlength=top + 1)
    gen = np.bincount(genuine.astype(int), minlength=top + 1)
    far = 1 - np.cumsum(imp)[:-1] / len(impostor)  # P(impostor >= t) for t = 1..top
    frr = np.cumsum(gen)[:-1] / len(genuine)  # P(genuine < t)
    return thresholds[1:], far, frr


def write_det(genuine: np.ndarray, impostor: np.ndarray, threshold: int, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    from scipy.stats import norm

    _, far, frr = det_points(genuine, impostor)
    keep = (far > 0) & (frr > 0) & (far < 0.5) & (frr < 0.5)  # a rate of 0 has no deviate
    fig, ax = plt.subplots(figsize=(6, 6))
    ax.plot(norm.ppf(far[keep]), norm.ppf(frr[keep]), lw=1.5)
    at = threshold - 1
    floor = 0.5 / len(impostor)  # a rate of 0 drawn at half an attempt, and said so
    far_text = f"{far[at]:.2g}" if far[at] else f"0 of {len(impostor):,}"
    ax.plot(norm.ppf(max(far[at], floor)), norm.ppf(max(frr[at], floor)), "o",
            label=f"threshold {threshold}: FAR {far_text}, FRR {frr[at]:.3g}")
    ticks = [1e-5, 1e-4, 1e-3, 1e-2, 0.1, 0.4]
    for axis in (ax.xaxis, ax.yaxis):
        axis.set_ticks(norm.ppf(ticks), [f"{t:g}" for t in ticks])
    ax.set_xlabel("false accept rate (FAR)")
    ax.set_ylabel("false reject rate (FRR)")
    ax.set_title(f"DET, fingerprint twin ({len(genuine):,} genuine, {len(impostor):,} impostor)")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="upper right")
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=100, bbox_inches="tight")
    plt.close(fig)


def check_in_times(profile: FingerprintProfile, n: int, paced: bool) -> dict:
    """Wall seconds of ``n`` genuine check-ins through the real driver on a pty."""
    twin = FingerprintTwin(profile, random.Random(5), time.sleep if paced else None)
    endpoint = PtyEndpoint(twin)
    sensor = FingerprintSensor(f"{endpoint.url}?baud={profile.baud}", timeout=10.0)
    walls, failures = [], 0
    try:
        sensor.probe()
        twin.place("genuine")
        line0, sensor0 = twin.line_seconds, twin.sensor_seconds
        for i in range(n):
            template = make_template(f"bench-voter-{i}")
            t0 = time.perf_counter()
            try:
                sensor.match(template)
            except FingerprintError:
                failures += 1
            walls.append(time.perf_counter() - t0)
        line_s, sensor_s = (twin.line_seconds - line0) / n, (twin.sensor_seconds - sensor0) / n
    finally:
        sensor.close()
        endpoint.close()
    return {"check_ins": n, "median_s": statistics.median(walls), "max_s": max(walls),
            "line_s": line_s, "sensor_s": sensor_s, "failures": failures, "paced": paced}


def _pct(value: float) -> str:
    return f"{value * 100:.3g} %"


def _rate_text(rate: dict) -> str:
    low, high = rate["ci95"]
    return (f"{_pct(rate['rate'])} ({rate['errors']:,}/{rate['attempts']:,}; "
            f"95 % CI {_pct(low)} - {_pct(high)})")


def main(quick: bool = False) -> None:
    print("## fingerprint: FAR/FRR at the threshold, time per check-in, DET curve")
    out = Path(os.environ.get("BALLOTBOX_BENCH_OUT", "out/bench"))
    profile = load_fingerprint_profile()
    rates = error_rates(profile, n_impostor=GENUINE_ATTEMPTS if quick else IMPOSTOR_ATTEMPTS)
    genuine, impostor = rates.pop("_scores")
    print(f"threshold {profile.threshold} (profile), {len(genuine):,} genuine + {len(impostor):,} "
          f"impostor attempts, seed {rates['seed']}")
    print(f"  FAR {_rate_text(rates['far'])}; datasheet: < {_pct(profile.far_anchor)}")
    print(f"  FRR {_rate_text(rates['frr'])}; datasheet: < {_pct(profile.frr_anchor)}")
    for finger, outcome in rates["presses"].items():
        print(f"  {finger} press (assumed rates): fails to acquire "
              f"{_rate_text(outcome['failed_to_acquire'])}, not accepted "
              f"{_pct(outcome['not_accepted']['rate'])}")
    paced = check_in_times(profile, 5 if quick else 30, paced=True)
    unpaced = check_in_times(profile, 20 if quick else 200, paced=False)
    print(f"time per check-in at {profile.baud:,} baud through the real driver on a pty: median "
          f"{paced['median_s'] * 1000:.0f} ms over {paced['check_ins']} (line {paced['line_s'] * 1000:.0f} ms, "
          f"sensor {paced['sensor_s'] * 1000:.0f} ms; max {paced['max_s'] * 1000:.0f} ms)")
    print(f"  the driver's own cost (twin unpaced): median {unpaced['median_s'] * 1000:.2f} ms "
          f"over {unpaced['check_ins']}")
    det = out / "fingerprint_det.png"
    write_det(genuine, impostor, profile.threshold, det)
    figures = {"error_rates": rates, "check_in": paced, "driver_only": unpaced, "det_png": str(det)}
    (out / "fingerprint.json").write_text(json.dumps(figures, indent=1) + "\n")
    print(f"DET curve: {det}; figures: {out / 'fingerprint.json'}")
