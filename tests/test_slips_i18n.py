"""Printed slips in each language: shaped with RAQM, figures aligned, printed as raster and
decoded by the printer twin; a Kyrgyz full-fidelity day prints its Cyrillic names."""
from __future__ import annotations

import random
from pathlib import Path

import cv2
import numpy as np
import pytest
from PIL import Image, ImageDraw, ImageFont

from device import i18n
from device.election.definition import load_election
from device.results.signed_results import verify_signed_results
from device.results.tape_codes import decode_tape
from device.store.signing import UnitSigner
from hardware import slip_raster
from hardware.interfaces import Slip
from hardware.slip_raster import PAPERS, render_slip
from hardware.text_shaping import Shaper
from sim.day.full_fidelity import build_full_peripherals
from sim.day.station import run_station_day
from sim.day.voters import load_scenario

DOCS = Path(__file__).resolve().parents[1] / "docs"
REFERENCE_TAPE = DOCS / "khmer-results-tape.png"
UNIT_LANGUAGES = {"en": "demo", "km": "cambodia-2022", "ky": "kyrgyzstan-2017", "ru": "kyrgyzstan-2017"}
SIGNER = UnitSigner.generate(random.Random(12))  # deterministic: the reference picture is stable
RESULTS_TITLE = {"en": "RESULTS", "km": "លទ្ធផលបោះឆ្នោត", "ky": "ДОБУШ БЕРҮҮНҮН ЖЫЙЫНТЫГЫ",
                 "ru": "ИТОГИ ГОЛОСОВАНИЯ"}


def play(election_name: str, lang: str, **kw):
    election = load_election(election_name)
    i18n.set_language(lang)
    try:
        return election, run_station_day(election, kw.pop("station", None), registered=kw.pop("registered", 30),
                                         seed=4, scenario=load_scenario(None, election, election_name),
                                         signer=SIGNER, **kw)
    finally:
        i18n.set_language("en")


@pytest.fixture(scope="module")
def slips():
    """The slips a logical station day prints, per unit language."""
    out = {}
    for lang, name in UNIT_LANGUAGES.items():
        election, day = play(name, lang)
        out[lang] = (election, {s.kind: s for s in day.peripherals.world.printed_slips()})
    return out


@pytest.mark.parametrize("lang", UNIT_LANGUAGES)
def test_slips_are_printed_in_the_units_language(slips, lang):
    election, by_kind = slips[lang]
    assert {"zero_report", "results"} <= set(by_kind)
    results = by_kind["results"]
    assert results.title == RESULTS_TITLE[lang]
    contest = next(iter(election.contests.values()))
    for choice in contest.choices:
        assert any(line.strip().startswith(choice.name_in(lang)) for line in results.lines)
    figures = [line.rsplit("\t", 1)[1] for line in results.lines if "\t" in line]
    numbers = [f for f in figures if all(ch.isdigit() or ch in ",.\xa0\u202f" for ch in f)]
    assert len(numbers) >= len(contest.choices)
    khmer_digits = lang == "km"  # the Cambodian election prints Khmer digits on its forms
    assert all(any("០" <= ch <= "៩" for ch in f) == khmer_digits for f in numbers)


@pytest.mark.parametrize("lang", UNIT_LANGUAGES)
def test_each_languages_slips_render_with_raqm_shaping(slips, lang, monkeypatch):
    _, by_kind = slips[lang]
    assert slip_raster.shaper().layout == ImageFont.Layout.RAQM
    for slip in by_kind.values():
        for paper in PAPERS:
            picture = render_slip(slip, paper)
            assert picture.mode == "1" and picture.width == PAPERS[paper].width_dots
    if lang == "km":  # Khmer with coeng subscripts: the BASIC layout draws it otherwise
        shaped = np.array(render_slip(by_kind["results"], 80))
        monkeypatch.setattr(slip_raster, "_shaper", Shaper(ImageFont.Layout.BASIC))
        basic = np.array(render_slip(by_kind["results"], 80))
        assert shaped.shape != basic.shape or (shaped != basic).any()


@pytest.mark.parametrize("text", ["គណបក្សប្រជាជនកម្ពុជា", "ក្រុមប្រឹក្សាឃុំ សង្កាត់", "ស្រឡាញ់ជាតិខ្មែរ"])
def test_khmer_glyph_advances_differ_from_basic_layout(text):
    raqm, basic = Shaper(ImageFont.Layout.RAQM), Shaper(ImageFont.Layout.BASIC)
    assert abs(raqm.width(text, 28) - basic.width(text, 28)) > 2


def _right_ink(picture: Image.Image) -> int:
    ink = np.array(picture.convert("L")) < 128
    ink[:60] = False  # skip the title and its rule
    return int(np.nonzero(ink.any(axis=0))[0].max())


@pytest.mark.parametrize("paper", PAPERS)
@pytest.mark.parametrize("figures", [("1", "21", "4,321", "987,651"), ("១", "២១", "៤,៣២១")])
def test_figures_line_up_at_both_roll_widths(paper, figures):
    """Rows ending in the same digit end in the same pixel column, whatever the label."""
    labels = ["Сооронбай Жээнбеков", "គណបក្សប្រជាជនកម្ពុជា", "blank", "Ballots cast"]
    edges = {_right_ink(render_slip(Slip("results", "T", ("-" * 4, f"{label}\t{fig}",)), paper))
             for label in labels for fig in figures}
    assert len(edges) == 1
    assert edges.pop() < PAPERS[paper].width_dots - PAPERS[paper].margin + 2


def test_long_labels_wrap_inside_a_58_mm_roll(slips):
    _, by_kind = slips["km"]
    picture = np.array(render_slip(by_kind["results"], 58).convert("L")) < 128
    assert not picture[:, -4:].any()  # nothing runs off the roll


def test_twin_decodes_the_khmer_results_tape_to_the_reference_picture(slips, tmp_path):
    _, by_kind = slips["km"]
    slip = by_kind["results"]
    bundle = build_full_peripherals(None, None, random.Random(1), None, transport="memory",
                                    out_dir=tmp_path)
    try:
        bundle.printer.print_slip(slip)
        printed = bundle.extras["twins"]["printer"].slips[-1]
    finally:
        bundle.close()
    assert printed.qr_codes == list(slip.qr_codes)  # read back off the picture by zbar
    assert (printed.picture == np.array(render_slip(slip, 80).convert("L"))).all()
    decoded = np.array(Image.open(printed.png_path).convert("L"))
    reference = np.array(Image.open(REFERENCE_TAPE).convert("L"))
    assert decoded.shape == reference.shape and (decoded == reference).all(), (
        f"the Khmer results tape changed: look at {printed.png_path}; if it is right, copy it to "
        f"{REFERENCE_TAPE}")


def _name_template(name: str, size: int) -> np.ndarray:
    shaper = slip_raster.shaper()
    image = Image.new("L", (int(shaper.width(name, size)) + 8, shaper.line_height(size)), 255)
    shaper.draw(ImageDraw.Draw(image), 0, shaper.ascent(size), name, size)
    ink = np.array(image) < 128
    rows, cols = np.nonzero(ink.any(axis=1))[0], np.nonzero(ink.any(axis=0))[0]
    return np.where(ink[rows.min():rows.max() + 1, cols.min():cols.max() + 1], 0, 255).astype(np.uint8)


def test_kyrgyz_full_fidelity_day_prints_and_reads_cyrillic_names(tmp_path):
    election, day = play("kyrgyzstan-2017", "ky", station="bishkek-1001", registered=8,
                         fidelity="full", printed_dir=tmp_path)
    twin = day.peripherals.extras["twins"]["printer"]
    results = next(s for s in twin.slips if s.to_slip().kind == "results")
    assert results.png_path.exists()
    picture = results.picture
    # the chained QR codes are read back off the paper and carry the signed station tally
    signed = decode_tape(results.qr_codes)
    verify_signed_results(signed, SIGNER.public_key_hex())
    assert signed["message"]["station"] == "bishkek-1001"
    assert signed["message"]["tally"]["president"]["votes"] == day.report()["results"]["president"]["votes"]
    # every Kyrgyz name is on the paper, shaped in a face that has its letters (ң ө ү)
    size = PAPERS[80].body_px
    font = slip_raster.shaper().font("latin", False, size)

    def glyph(ch: str) -> bytes:
        image = Image.new("L", (2 * size, 2 * size), 0)
        ImageDraw.Draw(image).text((0, 0), ch, font=font, fill=255)
        return image.tobytes()
    notdef = glyph("\uffff")  # no character: the face's empty box
    for choice in election.contests["president"].choices:
        name = choice.name_in("ky")
        assert all(glyph(ch) != notdef for ch in name if not ch.isspace()), name
        template = _name_template(name, size)
        score = cv2.matchTemplate(picture, template, cv2.TM_SQDIFF_NORMED).min()
        assert score < 1e-3, (name, score)  # found pixel for pixel
    # one letter off is not found: the Russian spelling (О for Ө) is not on a Kyrgyz slip
    other = _name_template("Омурбек Бабанов", size)
    assert cv2.matchTemplate(picture, other, cv2.TM_SQDIFF_NORMED).min() > 0.01
