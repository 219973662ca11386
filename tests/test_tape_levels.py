"""Tape photo levels are physical photos (issue 22 §3): a phone's pixels over the tape its frame
spans, so a tape printed with bigger modules has more pixels per module in the same photo.

``steady`` and ``ordinary`` are the former levels re-expressed (the same pixels per module for a
tape printed at 4 dots per module), not eased; ``poor`` is ordinary's phone and distance in the
former poor level's conditions (no level better than ``ordinary`` in any factor);
``unreadable`` is the former ``poor`` (pixels per module of whatever layout is printed), a
control no reader can read.
"""
from __future__ import annotations

import dataclasses

import numpy as np
import pytest

from hardware.slip_raster import DOTS_PER_MM, QR_DOTS
from sim.paper.tape_photo import (FRAME_MARGIN, FRAME_MM, LEVELS, module_contrast,
                                  photograph, sections)


def test_steady_and_ordinary_keep_their_former_pixels_per_module_at_4_dots():
    assert LEVELS["steady"].pixels_per_module(4) == pytest.approx((3.5, 4.0))
    assert LEVELS["ordinary"].pixels_per_module(4) == pytest.approx((2.6, 3.6))
    # the same photo of a tape printed at 8 dots per module: twice the pixels per module
    assert LEVELS["ordinary"].pixels_per_module(8) == pytest.approx((5.2, 7.2))


def test_poor_is_the_ordinary_phone_and_distance_with_the_former_poor_conditions():
    poor, ordinary, unreadable = LEVELS["poor"], LEVELS["ordinary"], LEVELS["unreadable"]
    assert poor.px_per_mm == ordinary.px_per_mm and FRAME_MM == 338
    # no factor of poor is better than ordinary's (resolution equal, the rest worse)
    assert poor.tilt >= ordinary.tilt and poor.rotate_deg >= ordinary.rotate_deg
    assert poor.lighting[0] >= ordinary.lighting[1] and poor.blur_px[0] >= ordinary.blur_px[1]
    assert poor.noise[0] >= ordinary.noise[1] and poor.jpeg[1] <= ordinary.jpeg[0]
    assert poor.contrast_low[0] >= ordinary.contrast_low[1] and poor.contrast_high[1] <= ordinary.contrast_high[0]
    # light, contrast, blur, noise, JPEG, tilt and turn: the former poor level's, unchanged
    assert dataclasses.replace(poor, px_per_mm=(0, 0)) == dataclasses.replace(unreadable, px_per_mm=(0, 0))
    # the framing is the one the bench always had: the 433 mm demo tape of the 4-dot layout
    # in two photos (the first 65 % of the tape, and the last)
    section = int(FRAME_MM / FRAME_MARGIN * DOTS_PER_MM)
    assert [(a, b) for a, b in sections(3464, section)] == [(0, 2253), (1211, 3464)]


def test_unreadable_keeps_the_former_poor_pixels_per_module_and_blurs_the_modules_away():
    assert LEVELS["unreadable"].pixels_per_module(QR_DOTS) == pytest.approx((1.2, 1.8))
    worst, best = module_contrast("unreadable")
    assert worst < 1e-6 and best < 0.035
    assert module_contrast("ordinary")[0] > 0.45 and module_contrast("poor")[0] > 0.3


def test_a_longer_tape_takes_more_photos_never_coarser_ones():
    section = int(FRAME_MM / FRAME_MARGIN * DOTS_PER_MM)
    short, long = sections(3464, section), sections(5528, section)
    assert len(short) == 2 and len(long) == 4
    for parts in (short, long):
        assert {b - a for a, b in parts} == {section}
        assert all(b2 - a2 > 0 and b1 - a2 >= 0.3 * section for (a1, b1), (a2, b2) in zip(parts, parts[1:]))
    tape = np.full((5528, 576), 255, np.uint8)
    for level in LEVELS.values():  # the frame's long side: the level's pixels per mm over 338 mm
        photo = photograph(tape[:section], np.random.default_rng(0), level)
        assert level.px_per_mm[0] * FRAME_MM - 2 <= photo.shape[0] <= level.px_per_mm[1] * FRAME_MM + 2
