"""The printable PDF of ``ballots render`` is vector: real text in embedded fonts, and the same
page as the reference PNG (rasterised with PDFium, it reads as the same ballot)."""
import ctypes

import cv2
import numpy as np
import pypdfium2 as pdfium
import pypdfium2.raw as pdfium_c
import pytest

from device.ballots.interpreter import BallotInterpreter
from device.ballots.layout import in_ballot_languages
from device.cli.main import main
from device.election.definition import load_election


def _text_objects(page):
    """(text, font size in pt) of every text object on a PDF page."""
    textpage = page.get_textpage()
    out = []
    for obj in page.get_objects():
        if obj.type != pdfium_c.FPDF_PAGEOBJ_TEXT:
            continue
        n = pdfium_c.FPDFTextObj_GetText(obj.raw, textpage.raw, None, 0)
        buf = (ctypes.c_ushort * n)()
        pdfium_c.FPDFTextObj_GetText(obj.raw, textpage.raw, buf, n)
        size = ctypes.c_float()
        pdfium_c.FPDFTextObj_GetFontSize(obj.raw, ctypes.byref(size))
        out.append((bytes(buf).decode("utf-16-le").rstrip("\x00"), round(size.value, 2)))
    return out


@pytest.fixture(scope="module")
def rendered(tmp_path_factory):
    out = {}
    for name in ("demo", "cambodia-2022", "kyrgyzstan-2017"):
        folder = tmp_path_factory.mktemp(name)
        assert main(["ballots", "render", name, "--out", str(folder)]) == 0
        out[name] = folder
    return out


@pytest.mark.parametrize("name", ["demo", "cambodia-2022", "kyrgyzstan-2017"])
def test_pdf_is_vector_text_in_embedded_fonts(rendered, name):
    data = (rendered[name] / "ballots.pdf").read_bytes()
    assert b"/FontFile2" in data  # TrueType font programs embedded (subsets)
    pdf = pdfium.PdfDocument(data)
    election = load_election(name)
    assert len(pdf) == len(election.ballot_styles)
    for page, style in zip(pdf, sorted(election.ballot_styles)):
        kinds = {obj.type for obj in page.get_objects()}
        assert pdfium_c.FPDF_PAGEOBJ_IMAGE not in kinds  # nothing raster on the page
        text = page.get_textpage().get_text_range()
        if "km" in election.ballot_languages:
            # shaped Khmer: HarfBuzz reorders clusters, so the PDF's copy text is approximate;
            # the Latin parts read back exactly (the picture is checked against the PNG below)
            assert style in text
            continue
        for contest in election.contests_for_style(style):
            assert in_ballot_languages(election, lambda tr, contest=contest: contest.title_in(tr.lang)) in text
            assert all(in_ballot_languages(election, lambda tr, choice=choice: choice.name_in(tr.lang)) in text
                       for choice in contest.choices)


def test_parks_board_says_vote_for_2_once(rendered):
    texts = [t for t, _ in _text_objects(pdfium.PdfDocument(rendered["demo"] / "ballots.pdf")[0])]
    at = texts.index("Parks board")
    assert texts[at + 1] == "Vote for 2"
    assert sum("vote for 2" in t.lower() for t in texts) == 1


def test_a_long_party_name_keeps_its_size_when_there_is_room(rendered):
    sizes = [size for _, size in _text_objects(pdfium.PdfDocument(rendered["cambodia-2022"] / "ballots.pdf")[0])]
    labels = sizes[len(sizes) - sizes[::-1].index(8.0):]  # after "Vote for 1" (8 pt): the party names
    assert labels and set(labels) == {10.0}
    last = load_election("cambodia-2022").contests["council"].choices[-1].name_in("km")
    assert last == "គណបក្សប្រជាធិបតេយ្យជនជាតិដើមភាគតិចកម្ពុជា"  # the longest name


@pytest.mark.parametrize("name", ["demo", "cambodia-2022"])
def test_pdf_page_is_the_reference_png(rendered, name):
    election = load_election(name)
    style = sorted(election.ballot_styles)[0]
    png = cv2.imread(str(rendered[name] / f"{style}-p1.png"), cv2.IMREAD_GRAYSCALE)
    page = pdfium.PdfDocument(rendered[name] / "ballots.pdf")[0]
    raster = page.render(scale=200 / 72, grayscale=True).to_numpy()
    raster = raster if raster.ndim == 2 else raster[..., 0]
    assert raster.shape == png.shape
    assert np.mean(np.abs(raster.astype(int) - png.astype(int))) < 8  # antialiasing differs
    reading = BallotInterpreter(election).interpret(raster)
    assert reading.readable and reading.ballot_style == style
