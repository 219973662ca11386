"""Synthetic voters' marks and scan distortions, read back through the real interpreter."""
import random

import cv2
import numpy as np
import pytest

from device.election.definition import load_election
from sim.paper import scan_distortions as sd
from sim.paper.image_paper import ImagePaper
from sim.paper.marks import AMBIGUOUS, DEFINITE_KINDS, NO_VOTE, VOTE, draw_mark, draw_stray, mark_page

DEMO = load_election("demo")
PAPER = ImagePaper(DEMO, distortion="clean")


@pytest.mark.parametrize("kind", DEFINITE_KINDS)
def test_every_definite_mark_kind_reads_as_a_vote(kind):
    layout, pages = PAPER.blank("north-ballot")
    page = pages[0].copy()
    rng = random.Random(kind)
    for oval in layout.pages[0].ovals[::3]:
        draw_mark(page, kind, oval.centre_mm, oval.size_mm, 200 / 25.4, rng)
    reading = PAPER.interpreter.interpret(page)
    read = {(c, ch) for c, r in reading.contests.items() for ch in r.selections}
    assert read == {(o.contest_id, o.choice_id) for o in layout.pages[0].ovals[::3]}


def test_stray_marks_never_vote_and_truth_labels_marks():
    layout, pages = PAPER.blank("north-ballot")
    page = pages[0].copy()
    rng = random.Random(3)
    for _ in range(12):
        draw_stray(page, layout.pages[0], 200 / 25.4, rng)
    assert (page < 128).sum() > (pages[0] < 128).sum()  # strays were drawn
    reading = PAPER.interpreter.interpret(page)
    assert reading.readable, reading.detail  # else the next line would hold vacuously
    assert all(not r.selections for r in reading.contests.values())
    sheet = pages[0].copy()
    truth = mark_page(sheet, layout.pages[0], 200, {"mayor": ("m-bolat",)}, random.Random(1), "mixed")
    assert truth.truth("mayor", "m-bolat") == VOTE
    assert truth.truth("mayor", "m-amara") in (NO_VOTE, AMBIGUOUS)
    with pytest.raises(ValueError, match="unknown mark style"):
        mark_page(sheet, layout.pages[0], 200, {}, random.Random(1), "crayon")


def test_distortion_is_reproducible_from_its_seed():
    page = PAPER.blank("south-ballot")[1][0]
    a = sd.distort(page, np.random.default_rng(7), "moderate")
    b = sd.distort(page, np.random.default_rng(7), "moderate")
    c = sd.distort(page, np.random.default_rng(8), "moderate")
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_each_distortion_does_what_it_says():
    page = PAPER.blank("south-ballot")[1][0]
    gen = np.random.default_rng(0)
    upside = sd.LEVELS["clean"].__class__(**{**sd.LEVELS["clean"].__dict__, "orientations": (180,)})
    turned = sd.warp(page, gen, upside, 200)
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50))
    corners, ids, _ = detector.detectMarkers(turned)
    top_left = min(zip(corners, ids.ravel()), key=lambda ci: ci[0].reshape(4, 2).sum(axis=1).min())
    assert top_left[1] == 2  # the bottom-right marker is now at the top left
    low = sd.low_contrast(page, 60, 180)
    assert low.min() >= 60 and low.max() <= 180
    streaked = sd.streak(page, gen, 0.6, 5)
    cols = np.where((streaked.astype(int) - page).min(axis=0) < 0)[0]
    assert 1 <= len(cols) <= 5
    noisy = sd.noise(np.full_like(page, 128), gen, 10)
    assert 8 < float(np.std(noisy.astype(float))) < 12
    assert sd.blur(page, 2).std() < page.std()
    assert sd.uneven_lighting(page, gen, 0.4).mean() < page.mean()
    assert (sd.crease(page, gen, 0.5, 4) < page).any()
    assert sd.jpeg(page, 30).shape == page.shape


@pytest.mark.parametrize("level", ["clean", "moderate"])
@pytest.mark.parametrize("seed", range(4))
def test_image_paper_reads_back_exactly_the_marks(level, seed):
    paper = ImagePaper(DEMO, distortion=level, mark_style="definite")
    rng = random.Random(seed)
    style = rng.choice(sorted(DEMO.ballot_styles))
    marks = {c.id: tuple(rng.sample(c.choice_ids(), c.vote_for)) for c in DEMO.contests_for_style(style)}
    reading = paper.interpreter.interpret(paper.make_sheet(style, marks, rng))
    assert reading.readable, reading.detail
    assert {cid: c.selections for cid, c in reading.contests.items()} == \
        {cid: tuple(ch for ch in DEMO.contests[cid].choice_ids() if ch in sel) for cid, sel in marks.items()}


def test_image_paper_sheet_kinds():
    paper = ImagePaper(DEMO, distortion="moderate")
    rng = random.Random(5)
    marks = {"mayor": ("m-amara",)}
    read = paper.interpreter.interpret
    assert read(paper.make_sheet("south-ballot", marks, rng, kind="test_ballot")).test_ballot
    assert read(paper.make_sheet("south-ballot", marks, rng, kind="wrong_election")).rejection == "wrong_election"
    assert read(paper.make_sheet("south-ballot", marks, rng, kind="not_a_ballot")).rejection == "not_a_ballot"
    with pytest.raises(ValueError, match="unknown sheet kind"):
        paper.make_sheet("south-ballot", marks, rng, kind="napkin")
    with pytest.raises(ValueError, match="unknown distortion"):
        ImagePaper(DEMO, distortion="apocalyptic")


def test_make_sheet_leaves_the_callers_rng_alone():
    rng = random.Random(9)
    state = rng.getstate()
    a = PAPER.make_sheet("south-ballot", {"mayor": ("m-amara",)}, rng)
    assert rng.getstate() == state
    assert np.array_equal(a, PAPER.make_sheet("south-ballot", {"mayor": ("m-amara",)}, rng))


def test_station_day_at_image_fidelity_tallies_like_logical(capsys):
    import json

    from device.cli.main import main
    results = {}
    for fidelity in ("logical", "image"):
        assert main(["sim", "station", "--election", "demo", "--voters", "25", "--seed", "4",
                     "--fidelity", fidelity, "--json"]) == 0
        day = json.loads(capsys.readouterr().out)
        assert day["matches_ground_truth"]
        results[fidelity] = (day["ballots_cast"], day["results"])
    assert results["image"] == results["logical"]
