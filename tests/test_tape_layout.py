"""The results tape's layout (issue 22 §3): codes of at most version 11 at error level M, printed
at 8 dots (1 mm) per module on an 80 mm roll and as many dots as fit on a 58 mm roll; the
printer twin reads every code back off the printed picture on both; an unreadable photo gets
one plain line from the real ``ballotbox audit tape``, never a misread or a traceback."""
from __future__ import annotations

import copy
import random
import subprocess
import sys
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
import segno

from device.audit.tape import unread_tape_error
from device.results.tape_codes import PAYLOAD_BYTES, PREFIX, TapeCodeError, decode_tape, encode_tape
from device.results.tape_parity import parity_codes
from device.station.reports import results_slip
from device.store.signing import UnitSigner
from hardware.printer_escpos import slip_bytes
from hardware.slip_raster import PAPERS, QR_BORDER, QR_DOTS, QR_ERROR, QR_MAX_VERSION, qr_dots
from sim.bench.tape import RECONCILIATION, signed_for
from sim.paper.tape_photo import load_gray, photos_of
from sim.twins.printer import PrinterTwin

SIGNER = UnitSigner.generate(random.Random(1))  # the tape bench's unit


def test_the_payload_is_what_the_largest_code_an_80_mm_roll_holds_carries():
    side = 17 + 4 * QR_MAX_VERSION + 2 * QR_BORDER
    assert side * QR_DOTS <= PAPERS[80].width_dots < (side + 4) * QR_DOTS  # the next version does not fit
    segno.make_qr("x" * PAYLOAD_BYTES, error=QR_ERROR, version=QR_MAX_VERSION, boost_error=False)
    with pytest.raises(segno.DataOverflowError):
        segno.make_qr("x" * (PAYLOAD_BYTES + 1), error=QR_ERROR, version=QR_MAX_VERSION, boost_error=False)


def test_codes_fit_their_bytes_and_spread_the_text_evenly_even_in_khmer():
    *_, signed = signed_for("demo", SIGNER)
    khmer = copy.deepcopy(signed)
    khmer["message"]["station"] = "ភ្នំពេញ " * 40  # three UTF-8 bytes a character
    for s in (signed, khmer):
        codes = encode_tape(s)
        data = [c for c in codes if c.startswith(PREFIX + "|")]
        sizes = [len(c.encode("utf-8")) for c in data]
        assert max(sizes) <= PAYLOAD_BYTES and max(sizes) - min(sizes) <= 8, sizes
        assert all(segno.make_qr(c, error=QR_ERROR).version <= QR_MAX_VERSION for c in codes)
        assert decode_tape(codes[::-1]) == s


def test_the_largest_parity_code_fits_the_largest_code_an_80_mm_roll_holds():
    """Parity codes carry as many bytes as the largest data code covers, in Base45 text: for the
    fullest data codes the tape makes (PAYLOAD_BYTES each) they still fit version 11 at level M."""
    data = [f"{PREFIX}|{i}|99|{'0' * 32}||" for i in range(1, 99)] + [f"{PREFIX}|99|99|{'0' * 32}|{'f' * 128}|"]
    data = [d + "\u00ff" * ((PAYLOAD_BYTES - len(d.encode())) // 2) for d in data]  # 2 UTF-8 bytes each
    assert max(len(d.encode()) for d in data) >= PAYLOAD_BYTES - 1
    for code in parity_codes(data, 2):
        assert segno.make_qr(code, error=QR_ERROR).mode == "alphanumeric"
        assert segno.make_qr(code, error=QR_ERROR).version <= QR_MAX_VERSION


@pytest.mark.parametrize("paper, dots", [(80, 8), (58, 5)])
def test_the_printed_codes_fit_the_roll_and_read_back(paper, dots):
    election, station, results, signed = signed_for("demo", SIGNER)
    slip = results_slip(election, election.stations[station], results, RECONCILIATION, 0, signed)
    assert qr_dots([segno.make_qr(c, error=QR_ERROR) for c in slip.qr_codes], PAPERS[paper]) == dots
    with tempfile.TemporaryDirectory() as tmp:
        twin = PrinterTwin(Path(tmp))
        twin.receive(slip_bytes(slip, paper_mm=paper))
        assert twin.slips[-1].qr_codes == list(slip.qr_codes) == encode_tape(signed)
        assert load_gray(twin.slips[-1].png_path).shape[1] == PAPERS[paper].width_dots


def test_what_the_person_is_told_when_codes_cannot_be_read():
    *_, signed = signed_for("demo", SIGNER)
    codes = encode_tape(signed)
    n = len(codes)
    assert n == 8  # 6 data codes and 2 parity codes: any 6 make the message

    def told(read: list[str], unread: int) -> str:
        with pytest.raises(TapeCodeError) as exc:
            decode_tape(read)
        return str(unread_tape_error(exc.value, unread))

    assert told(codes[:1] + codes[4:], unread=2) == (
        f"codes 2, 3 and 4 of {n} (any 6 of the {n} are enough) could not be read: the photo is "
        "too far or blurred; photograph that part of the tape closer and try again")
    assert told(codes[2:7], unread=0) == (
        f"codes 1, 2 and 8 of {n} (any 6 of the {n} are enough) are not in the photos: photograph "
        "the whole tape (every code) and try again")
    old_tape = encode_tape(signed, parity=0)  # printed before the parity codes: every code needed
    assert told(old_tape[1:], unread=0) == (
        "code 1 of 6 is not in the photos: photograph the whole tape (every code) and try again")
    assert "too far or blurred" in told([], unread=0)


def test_an_unreadable_photo_is_one_plain_line_from_the_real_command(tmp_path):
    election, station, results, signed = signed_for("demo", SIGNER)
    slip = results_slip(election, election.stations[station], results, RECONCILIATION, 0, signed)
    twin = PrinterTwin(tmp_path / "printer")
    twin.receive(slip_bytes(slip))
    photos = []
    for k, img in enumerate(photos_of(load_gray(twin.slips[-1].png_path), np.random.default_rng(0),
                                      level="unreadable")):
        photos.append(str(tmp_path / f"tape-{k}.jpg"))
        cv2.imwrite(photos[-1], img)
    proc = subprocess.run([sys.executable, "-m", "device.cli.main", "audit", "tape", *photos,
                           "--key", SIGNER.public_key_hex()], capture_output=True, text=True, timeout=300)
    assert proc.returncode == 2 and proc.stdout == "", (proc.stdout, proc.stderr)
    line, = proc.stderr.strip().splitlines()
    assert "too far or blurred" in line and "closer" in line and "Traceback" not in proc.stderr


@settings(max_examples=200, deadline=None)
@given(st.text(alphabet=st.sampled_from("aZ09{}\":,é Жңөក្ខ€𝄞"), min_size=300, max_size=900),
       st.integers(min_value=200, max_value=400))
def test_a_text_in_any_script_is_cut_on_character_boundaries_into_payloads_that_fit(text, max_payload):
    """``split_text`` cuts in UTF-8 bytes: the chunks join to the text, none splits a character,
    and every chunk fits its code's room."""
    from device.results.tape_codes import _overhead, split_text
    signature = "ab" * 64
    chunks = split_text(text, signature, max_payload)
    assert "".join(chunks) == text
    n = len(chunks)
    for i, chunk in enumerate(chunks, 1):
        assert len(chunk.encode("utf-8")) <= max_payload - _overhead(i, n, signature if i == n else "")
