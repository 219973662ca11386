"""The fingerprint bench's arithmetic: exact intervals, error rates at the threshold, the DET
curve's points and picture, a check-in through the real driver on a pty (unpaced, so fast)."""
from __future__ import annotations

import numpy as np
import pytest

from sim.bench.fingerprint import (check_in_times, clopper_pearson, det_points, error_rates,
                                   write_det)
from sim.twins.fingerprint_profile import load_fingerprint_profile


@pytest.mark.parametrize("errors, n", [(0, 100_000), (1, 100_000), (1_044, 100_000), (7, 7)])
def test_clopper_pearson_is_the_exact_interval(errors, n):
    from scipy.stats import binomtest  # here, not at the top: every xdist worker imports every test module

    ci = binomtest(errors, n).proportion_ci(0.95, method="exact")
    assert clopper_pearson(errors, n) == pytest.approx((ci.low, ci.high), abs=1e-12)


def test_error_rates_at_the_threshold_count_the_scores_on_each_side():
    profile = load_fingerprint_profile()
    rates = error_rates(profile, seed=3, n=20_000, n_impostor=20_000)
    genuine, impostor = rates["_scores"]
    t = profile.threshold
    assert rates["frr"]["errors"] == int((genuine < t).sum()) > 0
    assert rates["far"]["errors"] == int((impostor >= t).sum())
    low, high = rates["frr"]["ci95"]
    assert low < profile.frr_anchor < high  # 20,000 draws cannot tell the anchor apart
    assert error_rates(profile, seed=3, n=20_000, n_impostor=20_000)["frr"] == rates["frr"]  # seeded
    for outcome in rates["presses"].values():
        assert outcome["not_accepted"]["rate"] >= outcome["failed_to_acquire"]["rate"] > 0


def test_det_points_and_picture(tmp_path):
    genuine = np.array([3, 5, 5, 9])
    impostor = np.array([0, 1, 3, 4])
    thresholds, far, frr = det_points(genuine, impostor)
    at = list(thresholds).index(4)
    assert (far[at], frr[at]) == (0.25, 0.25)  # impostor 4 >= 4; genuine 3 < 4
    assert all(np.diff(far) <= 0) and all(np.diff(frr) >= 0)
    png = tmp_path / "det.png"
    rng = np.random.default_rng(1)
    write_det(rng.integers(30, 200, 5000), rng.integers(0, 60, 5000), 50, png)
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_check_in_through_the_real_driver_on_a_pty():
    times = check_in_times(load_fingerprint_profile(), 3, paced=False)
    assert times["check_ins"] == 3 and times["failures"] == 0
    # DownChar 13 + 4 data packets of 139 + GenImg 12 + Img2Tz 13 + Match 12 bytes out, four
    # acknowledges of 12, 12, 12 and 14 bytes back: 656 bytes of 10 bits at 57,600 baud
    assert times["line_s"] == pytest.approx(656 * 10 / 57600)
    assert times["sensor_s"] == pytest.approx(0.8)  # capture 0.3 + extract 0.4 + match 0.1
