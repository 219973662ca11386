"""Tape photos: a decoder never makes a wrong result.

A tampered code printed on the tape and photographed as an observer would is read as printed
by the decoders and then refused by the tape's own checks (the chain for one altered code, the
signature for a tape re-chained around an altered figure); poor and unreadable photos give codes
of the tape or nothing, never another text.
"""
from __future__ import annotations

import copy
import dataclasses
import random
import tempfile
from pathlib import Path

import numpy as np
import pytest

from device.audit.tape import read_codes
from device.results.signed_results import ResultsSignatureError, verify_signed_results
from device.results.tape_codes import TapeCodeError, decode_tape, encode_tape
from device.station.reports import results_slip
from device.store.signing import UnitSigner
from hardware.printer_escpos import slip_bytes
from sim.bench.tape import RECONCILIATION, codes_part, signed_for
from sim.paper.tape_photo import load_gray, photograph, photos_of
from sim.twins.printer import PrinterTwin

SIGNER = UnitSigner.generate(random.Random(1))  # the tape bench's unit


def printed(codes: list[str]) -> np.ndarray:
    """The bench's demo results slip with these QR payloads, through the ESC/POS bytes and the
    printer twin, as the tape comes out of the printer."""
    election, station, results, signed = signed_for("demo", SIGNER)
    slip = results_slip(election, election.stations[station], results, RECONCILIATION, 0, signed)
    slip = dataclasses.replace(slip, qr_codes=tuple(codes))
    with tempfile.TemporaryDirectory() as tmp:
        twin = PrinterTwin(Path(tmp))
        twin.receive(slip_bytes(slip))
        return load_gray(twin.slips[-1].png_path)


@pytest.fixture(scope="module")
def signed():
    return signed_for("demo", SIGNER)[3]


@pytest.fixture(scope="module")
def genuine_tape(signed) -> np.ndarray:
    """The genuine tape as printed (tests only read it)."""
    return printed(encode_tape(signed))


def read_photos(tape: np.ndarray, seed: int, level: str) -> set[str]:
    return {t for photo in photos_of(tape, np.random.default_rng(seed), level=level)
            for t in read_codes(photo)}


def test_one_tampered_code_is_read_as_printed_and_refused_by_the_chain(signed):
    codes = encode_tape(signed)
    assert '"ballots_cast":0' in codes[0]
    forged = codes[0].replace('"ballots_cast":0', '"ballots_cast":9', 1)  # same length, same index
    read = read_photos(printed([forged, *codes[1:]]), seed=3, level="ordinary")
    assert forged in read and codes[0] not in read  # the decoders read what is printed...
    with pytest.raises(TapeCodeError, match="chain is broken at code 2"):  # ...the chain refuses it
        decode_tape(read)


def test_a_tape_rechained_around_a_changed_figure_fails_the_signature(signed, genuine_tape):
    forged = copy.deepcopy(signed)
    forged["message"]["ballots_cast"] = 9
    codes = encode_tape(forged)  # a forger can re-chain, but cannot sign
    read = read_photos(printed(codes), seed=5, level="ordinary")
    assert read == set(codes)
    joined = decode_tape(read)
    with pytest.raises(ResultsSignatureError):
        verify_signed_results(joined, SIGNER.public_key_hex())
    verify_signed_results(decode_tape(read_photos(genuine_tape, 5, "ordinary")),
                          SIGNER.public_key_hex())  # the genuine tape, same photo seed, verifies


# One poor photo of the whole codes part costs ~4.5 CPU-s (the sampler on a 4447x2115 frame); in
# ``make test`` tests/test_tape_photos.py reads three poor photos of this tape to exactly its codes,
# which proves more (a wrong text read there fails too), so the poor case is in ``make test-slow``.
@pytest.mark.parametrize("level", [pytest.param("poor", marks=pytest.mark.slow), "unreadable"])
def test_poor_and_unreadable_photos_give_codes_of_the_tape_or_nothing(signed, genuine_tape, level):
    part = codes_part(genuine_tape)
    assert set(read_codes(photograph(part, np.random.default_rng(0), level))) <= set(encode_tape(signed))
