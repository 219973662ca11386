"""Tape photos from any phone: the module sampler reads poor photos the decoders miss, and a
decoder's text is never trusted without the tape checks."""
from __future__ import annotations

import io
import random
import tempfile
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno

from device.audit.qr_reader import _zxing, _zxing_views
from device.audit.tape import read_codes
from device.results.signed_results import verify_signed_results
from device.results.tape_codes import PREFIX, TapeCodeError, decode_tape, encode_tape
from device.station.reports import results_slip
from device.store.signing import UnitSigner
from hardware.printer_escpos import slip_bytes
from sim.bench.tape import RECONCILIATION, codes_part, signed_for
from sim.paper.tape_photo import load_gray, photos_of
from sim.twins.printer import PrinterTwin

SIGNER = UnitSigner.generate(random.Random(1))  # the tape bench's unit


@pytest.fixture(scope="module")
def bench_tape():
    """The tape ``python -m sim.bench tape`` photographs: the demo slip through the printer twin."""
    election, station, results, signed = signed_for("demo", SIGNER)
    slip = results_slip(election, election.stations[station], results, RECONCILIATION, 0, signed)
    with tempfile.TemporaryDirectory() as tmp:
        twin = PrinterTwin(Path(tmp))
        twin.receive(slip_bytes(slip))
        return load_gray(twin.slips[-1].png_path), signed, list(slip.qr_codes)


def test_poor_photos_of_the_codes_are_read_in_full_and_verify(bench_tape):
    """Three poor photos (ordinary's phone and distance; a shadow, blur, noise, JPEG 25-40, the
    tape at an angle) of the tape's 8 codes at 8 dots per module: codes whose finder patterns
    the photo loses are located by their texture and their modules decided against their
    neighbours' blur (qr_locate, qr_equaliser); every code is read and the tape verifies. The
    reader before them read 5 of these 8 codes (1, 2, 5, 6, 7): not enough, even with the
    parity codes."""
    tape, signed, codes = bench_tape
    photos = photos_of(codes_part(tape), np.random.default_rng(3), level="poor")
    assert len(photos) == 3 and len(codes) == 8
    decoders_alone = {t for p in photos for v, b in _zxing_views(p) for t, _ in _zxing(v, b)[0]}
    assert not set(codes) <= decoders_alone  # the case the sampler is for
    read = {t for p in photos for t in read_codes(p)}
    assert read == set(codes)
    verify_signed_results(decode_tape(read), SIGNER.public_key_hex())


def _qr(text: str) -> np.ndarray:
    buf = io.BytesIO()
    segno.make_qr(text, error="m").save(buf, kind="png", scale=4, border=4)
    return cv2.imdecode(np.frombuffer(buf.getvalue(), np.uint8), cv2.IMREAD_GRAYSCALE)


def test_a_decoded_text_still_goes_through_every_tape_check(bench_tape):
    _, signed, codes = bench_tape
    forged = codes[1].replace('"ballots_cast"', '"ballots_kast"', 1) if '"ballots_cast"' in codes[1] \
        else codes[1][:-1] + ("0" if codes[1][-1] != "0" else "1")
    assert forged != codes[1] and forged.startswith(PREFIX + "|2|")
    tiles = [_qr(c) for c in (codes[0], forged, *codes[2:])] + [_qr("https://example.org/not-a-tape")]
    width = max(t.shape[1] for t in tiles)
    page = np.vstack([cv2.copyMakeBorder(t, 10, 10, 10, 10 + width - t.shape[1], cv2.BORDER_CONSTANT, value=255)
                      for t in tiles])
    read = read_codes(page)
    assert "https://example.org/not-a-tape" not in read  # not a tape code: never returned
    assert forged in read and codes[1] not in read  # both decoders read the forgery as printed...
    with pytest.raises(TapeCodeError, match="chain is broken"):  # ...and the chain refuses it
        decode_tape(read)
    assert set(encode_tape(signed)) == set(codes)
