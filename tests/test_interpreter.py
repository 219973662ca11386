"""The OpenCV interpreter on real rendered images: orientations, dpi, rejections, thresholds."""
import dataclasses

import cv2
import numpy as np
import pytest

from device.ballots.layout import layout_ballot
from device.ballots.render import render_page
from device.election.definition import BallotStyle, load_election
from device.ballots.interpreter import BallotInterpreter, MarkThresholds, decode_image

DEMO = load_election("demo")
INTERP = BallotInterpreter(DEMO)


def marked(style="north-ballot", marks=(), dpi=200.0, darkness=0, election=DEMO, test=False,
           paper="letter"):
    """Render a page and fill ovals using only the layout JSON contract (centre/size in px)."""
    layout = layout_ballot(election, style, paper, test=test)
    image = render_page(layout.pages[0], dpi)
    for oval in layout.to_json(dpi)["pages"][0]["ovals"]:
        if (oval["contest"], oval["choice"]) in marks:
            cx, cy = oval["centre_px"]
            w, h = oval["size_px"]
            cv2.ellipse(image, (round(cx - 0.5), round(cy - 0.5)), (round(w / 2), round(h / 2)),
                        0, 0, 360, darkness, -1)
    return image


VOTES = {("council", "RIV"), ("mayor", "m-chenda"), ("parks", "p-dara"), ("parks", "p-gulnara")}


def selections(reading):
    return {(cid, ch) for cid, c in reading.contests.items() for ch in c.selections}


@pytest.mark.parametrize("dpi", [150, 300, 600])
@pytest.mark.parametrize("rotation", [None, cv2.ROTATE_90_CLOCKWISE, cv2.ROTATE_180,
                                      cv2.ROTATE_90_COUNTERCLOCKWISE])
def test_reads_marks_at_any_dpi_and_orientation(dpi, rotation):
    image = marked(marks=VOTES, dpi=dpi)
    if rotation is not None:
        image = cv2.rotate(image, rotation)
    reading = INTERP.interpret(image)
    assert reading.readable, reading.detail
    assert reading.ballot_style == "north-ballot" and not reading.test_ballot
    assert selections(reading) == VOTES
    assert reading.scores["council"]["RIV"] > 0.9 and reading.scores["council"]["GRN"] < 0.03


def test_a4_ballot_in_kyrgyz_election():
    election = load_election("kyrgyzstan-2017")
    image = marked("national", {("president", election.contests["president"].choice_ids()[1])},
                   election=election, paper="a4")
    reading = BallotInterpreter(election).interpret(cv2.rotate(image, cv2.ROTATE_180))
    assert reading.contests["president"].selections == (election.contests["president"].choice_ids()[1],)


def test_colour_skewed_scaled_perspective_frame():
    page = marked(marks=VOTES)
    h, w = page.shape
    src = np.float32([[0, 0], [w, 0], [w, h], [0, h]])
    dst = np.float32([[60, 40], [w * 0.97 + 90, 10], [w * 0.96 + 40, h * 0.96 + 70], [20, h * 0.98]])
    frame = cv2.warpPerspective(page, cv2.getPerspectiveTransform(src, dst), (w + 140, h + 120),
                                borderValue=230)
    rot = cv2.getRotationMatrix2D((w / 2, h / 2), 4.5, 1.0)
    frame = cv2.warpAffine(frame, rot, (frame.shape[1], frame.shape[0]), borderValue=230)
    reading = INTERP.interpret(cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR))
    assert selections(reading) == VOTES


def test_overvote_blank_and_marginal_marks():
    image = marked(marks={("mayor", "m-amara"), ("mayor", "m-bolat")})
    faint = marked(marks={("council", "IND")}, darkness=225)  # a faint fill, score ~0.12
    image = np.minimum(image, faint)
    reading = INTERP.interpret(image)
    assert reading.contests["mayor"].selections == ("m-amara", "m-bolat")  # overvote reported as read
    assert reading.contests["parks"].selections == ()
    assert reading.contests["council"].selections == () and reading.contests["council"].marginal == ("IND",)


def test_thresholds_are_configurable_and_validated():
    image = marked(marks={("council", "IND")}, darkness=140)  # ~0.45: pencil-like
    assert INTERP.interpret(image).contests["council"].selections == ("IND",)
    strict = BallotInterpreter(DEMO, MarkThresholds(definite=0.6, marginal=0.3))
    reading = strict.interpret(image)
    assert reading.contests["council"].selections == () and reading.contests["council"].marginal == ("IND",)
    with pytest.raises(ValueError, match="marginal <= definite"):
        MarkThresholds(definite=0.1, marginal=0.2)


def test_test_ballot_is_reported_for_the_controller_to_refuse():
    reading = INTERP.interpret(marked(marks=VOTES, test=True))
    assert reading.readable and reading.test_ballot and selections(reading) == VOTES


def test_ballot_of_another_election_is_refused():
    other = BallotInterpreter(load_election("cambodia-2022"))
    reading = other.interpret(marked(marks=VOTES))
    assert reading.rejection == "wrong_election" and not reading.contests


def test_unknown_style_is_refused():
    ghost = dataclasses.replace(DEMO, ballot_styles={**DEMO.ballot_styles,
                                                     "ghost": BallotStyle("ghost", ("mayor",))})
    reading = INTERP.interpret(marked("ghost", {("mayor", "m-amara")}, election=ghost))
    assert reading.rejection == "unknown_style"


def test_missing_fiducial_and_unreadable_code():
    image = marked(marks=VOTES)
    k = 200 / 25.4
    covered = image.copy()
    covered[int(250 * k):, :int(30 * k)] = 255  # bottom-left fiducial torn off
    assert INTERP.interpret(covered).rejection == "fiducials_missing"
    blotted = image.copy()
    qr = blotted[int(27 * k):int(67 * k), int(168 * k):int(208 * k)]
    qr[:] = np.random.default_rng(1).integers(0, 256, qr.shape, dtype=np.uint8)
    assert INTERP.interpret(blotted).rejection == "unreadable_code"


def test_a_page_printed_twice_is_refused():
    page = marked(marks=VOTES)
    h, w = page.shape
    half = cv2.resize(cv2.rotate(page, cv2.ROTATE_90_CLOCKWISE), (w, int(h / 2)))
    twice = np.vstack([half, half])
    reading = INTERP.interpret(twice)
    assert not reading.readable and not selections(reading)


def test_encoded_bytes_files_and_garbage(tmp_path):
    ok, jpg = cv2.imencode(".jpg", marked(marks=VOTES), [cv2.IMWRITE_JPEG_QUALITY, 70])
    assert selections(INTERP.interpret_bytes(jpg.tobytes())) == VOTES
    path = tmp_path / "ballot.jpg"
    path.write_bytes(jpg.tobytes())
    assert selections(INTERP.interpret_file(path)) == VOTES
    assert INTERP.interpret_file(tmp_path / "missing.png").rejection == "not_a_ballot"
    assert INTERP.interpret_bytes(b"").rejection == "not_a_ballot"
    assert INTERP.interpret_bytes(b"\x89PNG\r\n\x1a\n garbage").rejection == "not_a_ballot"
    assert INTERP.interpret(None).rejection == "not_a_ballot"
    assert INTERP.interpret(np.zeros((10, 10), np.uint8)).rejection == "not_a_ballot"
    assert INTERP.interpret(np.full((2000, 1500), 255, np.uint8)).rejection == "not_a_ballot"


def test_huge_image_is_refused_from_its_header():
    ok, png = cv2.imencode(".png", np.zeros((9000, 8000), np.uint8))
    from device.ballots.interpreter import ImageDecodeError
    with pytest.raises(ImageDecodeError, match="larger than"):
        decode_image(png.tobytes())
    assert INTERP.interpret_bytes(png.tobytes()).rejection == "not_a_ballot"


def test_cli_interpret_json(tmp_path, capsys):
    import json

    from device.cli.main import main
    path = tmp_path / "b.png"
    cv2.imwrite(str(path), marked(marks=VOTES))
    assert main(["ballots", "interpret", str(path), "--election", "demo", "--json"]) == 0
    out = json.loads(capsys.readouterr().out)
    assert out["ballot_style"] == "north-ballot" and out["contests"]["council"]["selections"] == ["RIV"]
    junk = tmp_path / "junk.jpg"
    junk.write_bytes(b"not really")
    assert main(["ballots", "interpret", str(path), str(junk), "--election", "demo"]) == 1
    assert "rejected (not_a_ballot)" in capsys.readouterr().out
    assert main(["ballots", "interpret", str(path), "--election", "demo", "--definite", "0.01",
                 "--marginal", "0.5"]) == 2


def test_a_score_near_the_threshold_on_a_noisy_scan_is_refused_not_guessed():
    light = marked(marks={("council", "RIV")}, darkness=200)  # a grey fill scoring ~0.22
    reading = INTERP.interpret(light)
    assert reading.readable and selections(reading) == {("council", "RIV")}  # clean scan: read
    rng = np.random.default_rng(3)

    def poor_scan(page):  # paper at grey 210, ink at 30, grain of sigma 20 grey levels
        grey = 30 + page * (180 / 255) + rng.normal(0, 20, page.shape)
        return np.clip(grey, 0, 255).astype(np.uint8)

    noisy = poor_scan(light)
    reading = INTERP.interpret(noisy)
    assert not reading.readable and reading.rejection == "unreadable_marks"
    assert "too close to call" in reading.detail
    firm = marked(marks=VOTES)  # the same noise with firm marks only: read, not refused
    reading = INTERP.interpret(poor_scan(firm))
    assert reading.readable, reading.detail
    assert selections(reading) == VOTES
