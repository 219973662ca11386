"""Ballot layout and rendering: the layout JSON contract, fiducials, QR code, Unicode labels."""
import json

import cv2
import pytest
from pyzbar.pyzbar import ZBarSymbol, decode

from device.ballots import render as ballot_render
from device.ballots.layout import (FIDUCIAL_IDS, LayoutError, layout_ballot, parse_qr_payload,
                                  qr_payload)
from device.ballots.render import RenderError, render_page
from hardware import text_shaping
from device.cli.main import main
from device.election.definition import BUNDLED, load_election


@pytest.mark.parametrize("name", BUNDLED)
@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_every_choice_has_one_oval_inside_the_page_and_none_overlap(name, paper):
    election = load_election(name)
    for style_id in election.ballot_styles:
        layout = layout_ballot(election, style_id, paper)
        ovals = [o for page in layout.pages for o in page.ovals]
        expected = [(c.id, ch.id) for c in election.contests_for_style(style_id) for ch in c.choices]
        assert [(o.contest_id, o.choice_id) for o in ovals] == expected
        for page in layout.pages:
            w, h = page.size_mm
            boxes = [(o.centre_mm[0], o.centre_mm[1]) for o in page.ovals]
            for i, (x, y) in enumerate(boxes):
                assert 10 < x < w - 10 and 60 < y < h - 25
                for x2, y2 in boxes[i + 1:]:
                    assert abs(x - x2) > 6.0 or abs(y - y2) > 4.0


def test_layout_json_gives_mm_and_px_at_the_dpi():
    election = load_election("demo")
    doc = layout_ballot(election, "north-ballot").to_json(300)
    assert doc["format"] == "ballotbox-layout/1" and doc["election_hash_prefix"] == election.hash_prefix
    oval = doc["pages"][0]["ovals"][0]
    assert oval["contest"] == "council" and oval["choice"] == "GRN"
    assert oval["centre_px"][0] == pytest.approx(oval["centre_mm"][0] * 300 / 25.4, abs=0.01)
    assert oval["size_px"][1] == pytest.approx(4.0 * 300 / 25.4, abs=0.01)
    assert [f["id"] for f in doc["pages"][0]["fiducials"]] == list(FIDUCIAL_IDS["letter"])
    json.dumps(doc)  # serialisable


def test_qr_payload_round_trips_and_garbage_is_not_ours():
    text = qr_payload("deadbeefdeadbeef", 2, True, "style|with|bars")
    parsed = parse_qr_payload(text)
    assert (parsed.hash_prefix, parsed.page, parsed.test, parsed.style_id) == \
        ("deadbeefdeadbeef", 2, True, "style|with|bars")
    for bad in ("", "BB1|x", "XX1|a|1|O|s", "BB1|a|one|O|s", "BB1|a|1|Q|s", "BB1|a|1|O|"):
        assert parse_qr_payload(bad) is None


def test_unknown_style_or_paper_is_a_clear_error():
    election = load_election("demo")
    with pytest.raises(LayoutError, match="unknown ballot style 'nope'"):
        layout_ballot(election, "nope")
    with pytest.raises(LayoutError, match="unknown paper"):
        layout_ballot(election, "north-ballot", "legal")


@pytest.mark.parametrize("paper", ["letter", "a4"])
def test_rendered_page_has_fiducials_qr_and_ovals_where_the_layout_says(paper):
    election = load_election("kyrgyzstan-2017")  # Cyrillic labels
    layout = layout_ballot(election, "national", paper)
    page = layout.pages[0]
    dpi = 200
    k = dpi / 25.4
    image = render_page(page, dpi)
    assert image.shape == (round(page.size_mm[1] * k), round(page.size_mm[0] * k))
    detector = cv2.aruco.ArucoDetector(cv2.aruco.getPredefinedDictionary(cv2.aruco.DICT_4X4_50))
    corners, ids, _ = detector.detectMarkers(image)
    found = {int(i): c.reshape(4, 2) for c, (i,) in zip(corners, ids)}
    assert set(found) == set(FIDUCIAL_IDS[paper])
    for fid, (x, y), side in page.fiducials():
        # ArUco reports pixel-centre coordinates: the layout's continuous mm minus half a pixel
        assert found[fid][0] == pytest.approx([x * k - 0.5, y * k - 0.5], abs=1.0)
    bx, by, side = page.qr_box_mm
    crop = image[int(by * k):int((by + side) * k), int(bx * k):int((bx + side) * k)]
    assert decode(crop, symbols=[ZBarSymbol.QRCODE])[0].data.decode() == page.qr_payload
    for oval in page.ovals:
        cx, cy = oval.centre_mm
        assert image[int(cy * k), int(cx * k)] == 255  # empty inside
        assert image[int(cy * k), int((cx - oval.size_mm[0] / 2 + 0.15) * k)] < 128  # outline
        label = image[int((cy - 2) * k):int((cy + 2) * k), int((cx + 7) * k):int((cx + 40) * k)]
        assert (label < 128).sum() > 50  # the (Cyrillic) name was drawn


def test_missing_font_is_a_clear_error(monkeypatch, tmp_path):
    monkeypatch.setattr(text_shaping, "NOTO_DIR", tmp_path)
    monkeypatch.setattr(ballot_render, "_shaper", None)
    with pytest.raises(RenderError, match="fonts-noto-core"):
        render_page(layout_ballot(load_election("demo"), "south-ballot").pages[0], 100)


def test_cli_render_writes_png_pdf_and_layout(tmp_path, capsys):
    assert main(["ballots", "render", "demo", "--style", "south-ballot", "--dpi", "100",
                 "--out", str(tmp_path), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    assert (tmp_path / "south-ballot-p1.png").exists()
    assert (tmp_path / "ballots.pdf").read_bytes().startswith(b"%PDF")
    doc = json.loads((tmp_path / "south-ballot.layout.json").read_text())
    assert doc["dpi"] == 100 and summary["styles"]["south-ballot"]
    assert main(["ballots", "render", "demo", "--style", "zz", "--out", str(tmp_path)]) == 2
    assert main(["ballots", "render", "no-such-election", "--out", str(tmp_path)]) == 2
    assert "unknown ballot style 'zz'" in capsys.readouterr().err


def test_a_style_that_cannot_be_laid_out_writes_no_file(tmp_path):
    from device.ballots.layout import LayoutError
    from device.ballots.render import write_ballot_files
    e = load_election("demo")
    good = next(iter(e.ballot_styles))
    with pytest.raises(LayoutError):
        write_ballot_files(e, [good, "no-such-style"], tmp_path / "out")
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())
