"""One contract suite per peripheral kind, run over every backend.

Backends: ``memory`` (the in-memory twins of ``sim/day/memory_twins.py``, no bytes), ``sim``
(the real drivers over in-memory byte ports to the wire twins), ``pty`` (the real drivers
opening a pseudo-terminal's slave path with pyserial) and ``tcp`` (pyserial ``socket://``
to the twins on a loopback port) — as python-can runs one suite over its virtual and real buses.
"""
from __future__ import annotations

import random

import cv2
import numpy as np
import pytest
import segno

from device.election.identity import barcode_payload, parse_id_record
from hardware.camera import decode_voter_card
from hardware.interfaces import (DoubleFeed, PeripheralError, PeripheralTimeout, ScannerEventKind,
                                 ScannerJam, Slip)
from hardware.registry import RegistryError, open_peripheral
from hardware.slip_raster import render_slip
from sim.day.full_fidelity import build_full_peripherals
from sim.day.memory_twins import build_memory_peripherals

BACKENDS = ["memory", "sim", "pty", "tcp"]
TD3 = ("P<UTOERIKSSON<<ANNA<MARIA<<<<<<<<<<<<<<<<<<<\n"
       "L898902C36UTO7408122F1204159ZE184226B<<<<<10")


def make_bundle(backend: str, tmp_path=None, **faults):
    rng = random.Random(5)
    if backend == "memory":
        return build_memory_peripherals(rng, faults.get("jam_rate", 0.0),
                                        faults.get("double_feed_rate", 0.0))
    transport = {"sim": "memory", "pty": "pty", "tcp": "tcp"}[backend]
    return build_full_peripherals(None, None, rng, None, profile={"faults": faults},
                                  transport=transport, out_dir=tmp_path)


@pytest.fixture(params=BACKENDS)
def bundle(request, tmp_path):
    b = make_bundle(request.param, tmp_path)
    yield b
    b.close()


def events_of(scanner, limit=10):
    kinds = []
    for _ in range(limit):
        e = scanner.poll_event(timeout=0.5)
        if e is None:
            break
        kinds.append(e.kind)
    return kinds


# --- scanner transport ---------------------------------------------------------------------
def test_scanner_feed_capture_accept(bundle):
    s, w = bundle.scanner, bundle.world
    assert not s.status().paper_at_entry
    w.insert_sheet("frame-1")
    assert ScannerEventKind.PAPER_AT_ENTRY in events_of(s)
    assert s.status().paper_at_entry
    s.feed()
    assert s.status().paper_in_path
    assert bundle.camera.capture() == "frame-1"
    s.accept()
    assert w.sheets_in_box == 1 and not s.status().paper_in_path
    assert ScannerEventKind.PAPER_DROPPED in events_of(s)


def test_scanner_divert_and_return(bundle):
    s, w = bundle.scanner, bundle.world
    w.insert_sheet("a")
    s.feed()
    s.divert()
    assert w.sheets_in_invalid_compartment == 1 and w.sheets_in_box == 0
    w.insert_sheet("b")
    s.feed()
    s.return_sheet()
    assert w.take_returned_sheet() == "b" and w.take_returned_sheet() is None
    w.insert_sheet("c")
    s.return_sheet()  # never fed: the entry rollers reverse
    assert w.take_returned_sheet() == "c"


def test_scanner_refuses_motion_without_paper(bundle):
    with pytest.raises(PeripheralError):
        bundle.scanner.feed()
    with pytest.raises(PeripheralError):
        bundle.scanner.accept()
    with pytest.raises(PeripheralTimeout):
        bundle.camera.capture()


@pytest.mark.parametrize("backend", BACKENDS)
@pytest.mark.parametrize("fault, error", [("jam_rate", ScannerJam), ("double_feed_rate", DoubleFeed)])
def test_scanner_jam_needs_the_sheet_removed_before_reset(backend, fault, error, tmp_path):
    b = make_bundle(backend, tmp_path, **{fault: 1.0})
    try:
        b.world.insert_sheet("x")
        with pytest.raises(error):
            b.scanner.feed()
        assert b.scanner.status().jammed
        with pytest.raises(ScannerJam):
            b.scanner.reset()
        b.world.operator_removes_jammed_sheet()
        b.scanner.reset()
        st = b.scanner.status()
        assert not st.jammed and not st.paper_in_path
        assert b.world.operator_places_sheet(into_box=False) == "x"
    finally:
        b.close()


# --- ID reader -----------------------------------------------------------------------------
def test_id_reader_delivers_mrz_and_barcodes(bundle):
    r, w = bundle.id_reader, bundle.world
    assert r.read(timeout=0.05) is None
    w.present_document("mrz", TD3)
    rec = r.read(timeout=2.0)
    assert rec.kind == "mrz" and parse_id_record(rec).document_number == "L898902C3"
    w.present_document("barcode", barcode_payload("DOC00042"))
    rec = r.read(timeout=2.0)
    assert rec.kind == "barcode" and parse_id_record(rec).document_number == "DOC00042"


@pytest.mark.parametrize("backend", ["sim", "pty", "tcp"])
def test_serial_id_reader_survives_garbage_and_truncation(backend, tmp_path):
    from device.election.identity import IdDocumentError
    b = make_bundle(backend, tmp_path)
    try:
        twin = b.extras["twins"]["id_reader"]
        twin.present_raw(b"\x00\xff\x1b\r\r")  # garbage: skipped
        twin.present_raw(b"P<UTOERIKSSON<<ANNA\r")  # a truncated record: refused clearly
        rec = b.id_reader.read(timeout=2.0)
        with pytest.raises(IdDocumentError, match="truncated"):
            parse_id_record(rec)
        b.id_reader.inter_char_timeout = 0.05
        twin.present_raw(TD3[:30].encode())  # stops arriving: delivered after the gap
        rec = b.id_reader.read(timeout=2.0)
        assert rec is not None and rec.kind == "mrz"
        with pytest.raises(IdDocumentError):
            parse_id_record(rec)
    finally:
        b.close()


# --- printer -------------------------------------------------------------------------------
SLIP = Slip("zero_report", "ZERO REPORT", ("Station: North 1 (north-1)", "Ballots cast: 0"),
            ("BBXR1|abcd|north-1|c1:a=0",))


def test_printer_prints_the_slip(bundle):
    bundle.printer.print_slip(SLIP)
    printed = bundle.world.printed_slips()[-1]
    if "twins" not in bundle.extras:  # the memory printer keeps the Slip itself
        assert printed == SLIP
        return
    # on paper: the kind (form line), the QR codes read back off the picture, and the picture
    # is the slip's raster bit for bit
    assert (printed.kind, printed.qr_codes) == (SLIP.kind, SLIP.qr_codes)
    picture = bundle.extras["twins"]["printer"].slips[-1].picture
    expected = np.array(render_slip(SLIP, 80).convert("L"))
    assert picture.shape == expected.shape and (picture == expected).all()


@pytest.mark.parametrize("backend", ["sim", "pty", "tcp"])
def test_escpos_printer_renders_text_and_png_and_reports_paper_out(backend, tmp_path):
    b = make_bundle(backend, tmp_path)
    try:
        b.printer.print_slip(SLIP)
        printed = b.extras["twins"]["printer"].slips[-1]
        assert printed.text_path.read_text().startswith("[picture] slip-001-zero_report.png\n")
        img = cv2.imread(str(printed.png_path), cv2.IMREAD_GRAYSCALE)
        qr = cv2.QRCodeDetector().detectAndDecode(img)[0]
        assert qr == SLIP.qr_codes[0]
        b.extras["twins"]["printer"].paper_out = True
        with pytest.raises(PeripheralError, match="out of paper"):
            b.printer.print_slip(SLIP)
    finally:
        b.close()


# --- camera --------------------------------------------------------------------------------
def _card(payload: str, symbology: str) -> np.ndarray:
    if symbology == "qr":
        import io
        buf = io.BytesIO()
        segno.make_qr(payload, error="m").save(buf, kind="png", scale=8, border=4)
        img = cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)
    else:
        import io
        from barcode import Code128
        from barcode.writer import ImageWriter
        buf = io.BytesIO()
        Code128(payload, writer=ImageWriter()).write(buf, {"module_width": 0.4, "quiet_zone": 6})
        img = cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)
    canvas = np.full((max(480, img.shape[0] + 40), max(640, img.shape[1] + 40)), 255, np.uint8)
    canvas[20:20 + img.shape[0], 20:20 + img.shape[1]] = img
    return cv2.cvtColor(canvas, cv2.COLOR_GRAY2BGR)


@pytest.fixture(params=["sequence", "video"])
def camera_source(request, tmp_path):
    frames = [_card(barcode_payload("DOC00007"), "qr"), _card(barcode_payload("DOC00008"), "code128"),
              np.full((480, 640, 3), 255, np.uint8)]
    if request.param == "sequence":
        for i, f in enumerate(frames):
            cv2.imwrite(str(tmp_path / f"img_{i:04d}.png"), f)
        return f"opencv://{tmp_path}/img_%04d.png", frames
    path = tmp_path / "cards.avi"
    h, w = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"MJPG"), 5, (w, h))
    for f in frames:
        writer.write(cv2.resize(f, (w, h)))
    writer.release()
    return f"opencv://{path}", frames


def test_opencv_camera_frames_and_end_of_source(camera_source):
    url, frames = camera_source
    cam = open_peripheral("camera", url)
    try:
        got = [cam.capture(timeout=2.0) for _ in frames]
        assert all(g.shape[0] >= 480 and g.ndim == 3 for g in got)
        with pytest.raises(PeripheralTimeout):
            cam.capture(timeout=2.0)
    finally:
        cam.close()


def test_camera_id_reader_reads_qr_and_code128_cards_once(camera_source):
    url, _ = camera_source
    reader = open_peripheral("id_reader", url)
    try:
        first, second = reader.read(timeout=2.0), reader.read(timeout=2.0)
        assert (first.payload, second.payload) == (barcode_payload("DOC00007"), barcode_payload("DOC00008"))
        assert reader.read(timeout=0.2) is None  # a blank frame, then the end of the source
    finally:
        reader.close()


def test_decode_voter_card_on_a_frame_without_a_card():
    assert decode_voter_card(np.zeros((100, 100), np.uint8)) is None
    assert decode_voter_card("a logical frame") is None


@pytest.mark.parametrize("url", ["nope", "ftp://x", "sim://printer", "spyx+serial:///dev/null",
                                 "opencv://", "sim://scanner?jam_rate=2"])
def test_bad_urls_are_one_line_errors(url):
    with pytest.raises((RegistryError, PeripheralError)) as err:
        open_peripheral("scanner", url)
    assert "\n" not in str(err.value)


def test_a_non_numeric_option_is_named_with_its_value():
    with pytest.raises(RegistryError, match=r"option baud='fast' is not a number"):
        open_peripheral("scanner", "serial:///dev/null?baud=fast")
