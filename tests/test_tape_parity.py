"""The results tape's parity codes (issue 22 §3): any 6 of the demo tape's 8 codes give the
signed message; with 3 missing the reader names them; a forged or foreign parity code is refused,
and one crafted to rebuild a missing code into other figures fails the signature."""
from __future__ import annotations

import copy
import itertools
import random

import pytest

from device.results.signed_results import ResultsSignatureError, verify_signed_results
from device.results.tape_codes import MissingCodesError, TapeCodeError, decode_tape, encode_tape
from device.results.tape_parity import PARITY_PREFIX, parity_codes
from device.store.signing import UnitSigner
from sim.bench.tape import signed_for

SIGNER = UnitSigner.generate(random.Random(1))  # the tape bench's unit


@pytest.fixture(scope="module")
def signed():
    return signed_for("demo", SIGNER)[3]


def test_any_two_codes_missing_still_verify(signed):
    codes = encode_tape(signed)
    assert len(codes) == 8 and [c.startswith(PARITY_PREFIX + ":") for c in codes] == [False] * 6 + [True] * 2
    for lost in itertools.combinations(range(8), 2):
        read = [c for k, c in enumerate(codes) if k not in lost][::-1]
        joined = decode_tape(read)
        assert joined == signed, lost
        verify_signed_results(joined, SIGNER.public_key_hex())


def test_three_codes_missing_are_named(signed):
    codes = encode_tape(signed)
    for lost in itertools.combinations(range(8), 3):
        with pytest.raises(MissingCodesError) as exc:
            decode_tape([c for k, c in enumerate(codes) if k not in lost])
        if any(k >= 6 for k in range(8) if k not in lost):  # a parity code read: the tape's 8 are known
            assert exc.value.missing == [k + 1 for k in lost] and exc.value.total == 8
            assert str(exc.value).endswith("of 8 (any 6 of the 8 are enough)")
        else:  # only data codes read: a tape without parity codes looks the same
            assert exc.value.missing == [k + 1 for k in lost if k < 6] and exc.value.total == 6


def test_a_tape_printed_without_parity_codes_still_reads(signed):
    codes = encode_tape(signed, parity=0)
    assert len(codes) == 6
    assert decode_tape(codes[::-1]) == signed
    with pytest.raises(MissingCodesError, match=r"missing code\(s\) 4 of 6$"):
        decode_tape(codes[:3] + codes[4:])


def test_a_forged_or_foreign_parity_code_is_refused(signed):
    codes = encode_tape(signed)
    data, parity = codes[:6], codes[6:]
    head, body = parity[0].rsplit(":", 1)
    forged = head + ":" + ("0" if body[0] != "0" else "1") + body[1:]  # one Base45 character changed
    with pytest.raises(TapeCodeError, match="parity code 1 of 2 is not the one this tape's codes give"):
        decode_tape(data + [forged, parity[1]])  # not needed, still checked
    other = copy.deepcopy(signed)
    other["message"]["sequence"] = 2
    foreign = encode_tape({"message": other["message"], "signature": signed["signature"]})[7]
    with pytest.raises(TapeCodeError, match="parity code 2 of 2 is not the one|not of one tape"):
        decode_tape(data + [parity[0], foreign])
    with pytest.raises(TapeCodeError):  # used to rebuild code 3: the chain, never a message
        decode_tape(data[:2] + data[3:] + [forged, parity[1]])
    with pytest.raises(TapeCodeError, match="two different parity codes claim to be 1 of 2"):
        decode_tape(codes + [forged])


def test_parity_crafted_to_rebuild_other_figures_fails_the_signature(signed):
    """A forger who prints parity codes computed from altered data codes (the last one's figures
    changed, the chain kept) and hides the genuine last code: the tape rebuilds the altered code,
    and the unit's signature refuses it."""
    genuine = encode_tape(signed, parity=0)
    last = genuine[5]
    head, chunk = last.rsplit("|", 1)  # the last code: ...|signature|the end of the JSON text
    at = next(k for k, ch in enumerate(chunk) if ch.isdigit())
    figure = str(int(chunk[at]) + 1) if chunk[at] != "9" else "8"
    altered_last = f"{head}|{chunk[:at]}{figure}{chunk[at + 1:]}"  # a figure of the message changed
    forged_parity = parity_codes(genuine[:5] + [altered_last], 2)
    joined = decode_tape(genuine[:5] + forged_parity)  # the last code "rebuilt" as the forger wants
    assert joined["message"] != signed["message"]
    with pytest.raises(ResultsSignatureError):
        verify_signed_results(joined, SIGNER.public_key_hex())
