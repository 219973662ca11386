"""The results tape: chained QR codes, printed by the printer twin, photographed, audited."""
from __future__ import annotations

import copy
import json
import random

import cv2
import numpy as np
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from device.cli.main import main
from device.election.definition import load_election
from device.results.signed_results import build_results_message, sign_results
from device.results.tape_codes import TapeCodeError, decode_tape, encode_tape
from device.station.reports import results_slip
from device.store.signing import UnitSigner
from hardware.printer_escpos import slip_bytes
from sim.paper.tape_photo import load_gray, photos_of
from sim.twins.printer import PrinterTwin
from tests.local_http import serve
from tests.package_kit import make_package
from tests.test_signed_results import RECONCILIATION, station_results

UNIT = UnitSigner.generate(random.Random(11))


def signed_tape(election, unit=UNIT, sequence=1, mode="live"):
    results = station_results(election)
    message = build_results_message(election, "north-1", results, RECONCILIATION, (57, "cd" * 32),
                                    public_key_hex=unit.public_key_hex(), mode=mode, sequence=sequence)
    return results, sign_results(message, unit)


@pytest.fixture(scope="module")
def election():
    return load_election("demo")


@pytest.fixture(scope="module")
def signed(election):
    return signed_tape(election)[1]


# --- the codes ------------------------------------------------------------------------------

def test_codes_round_trip_in_any_order_and_overlap(signed):
    codes = encode_tape(signed, parity=0)  # the chained data codes (the parity codes: test_tape_parity.py)
    assert len(codes) >= 3 and all(c.startswith(f"BBT1|{i}|{len(codes)}|") for i, c in enumerate(codes, 1))
    assert signed["signature"] in codes[-1] and all(signed["signature"] not in c for c in codes[:-1])
    shuffled = codes[::-1] + codes[:2]  # reversed, two read twice
    assert decode_tape(shuffled) == signed


def test_missing_mixed_and_reordered_codes_are_named(election, signed):
    codes = encode_tape(signed, parity=0)  # a tape without parity codes: every code needed
    with pytest.raises(TapeCodeError, match="missing code\\(s\\) 2 of"):
        decode_tape(codes[:1] + codes[2:])
    other = encode_tape(signed_tape(election, sequence=2)[1], parity=0)
    k = next(i for i, (a, b) in enumerate(zip(codes, other)) if a != b)  # where the tapes part
    with pytest.raises(TapeCodeError, match=f"two different codes claim to be {k + 1}"):
        decode_tape(codes + other[k:k + 1])
    mixed = codes[:k] + other[k:k + 1] + codes[k + 1:]  # another tape's code in place of this one's
    with pytest.raises(TapeCodeError, match="chain is broken at code"):
        decode_tape(mixed)
    swapped = [c.replace(f"|{i}|", f"|{j}|", 1) for c, i, j in ((codes[0], 1, 2), (codes[1], 2, 1))]
    with pytest.raises(TapeCodeError, match="chain is broken at code 1"):
        decode_tape(swapped + codes[2:])
    with pytest.raises(TapeCodeError, match="not a results-tape code"):
        decode_tape(["https://example.org"])


# --- printed, photographed, audited ---------------------------------------------------------

def printed_tape(election, results, signed, out_dir):
    """The results slip through the ESC/POS driver's bytes and the printer twin, as a PNG."""
    slip = results_slip(election, election.stations["north-1"], results, RECONCILIATION,
                        1_700_000_000, signed)
    twin = PrinterTwin(out_dir)
    twin.receive(slip_bytes(slip))
    assert twin.slips[-1].qr_codes == list(slip.qr_codes) == encode_tape(signed)
    return load_gray(twin.slips[-1].png_path)


def photograph(tape, tmp_path, seed, level="ordinary", name="photo"):
    paths = []
    for k, img in enumerate(photos_of(tape, np.random.default_rng(seed), level=level)):
        path = tmp_path / f"{name}-{seed}-{k}.jpg"
        cv2.imwrite(str(path), img)
        paths.append(str(path))
    return paths


@pytest.fixture(scope="module")
def tape_photos(election, signed, tmp_path_factory):
    tmp = tmp_path_factory.mktemp("tape")
    results = station_results(election)
    tape = printed_tape(election, results, signed, tmp / "printer")
    package, authority, _ = make_package(tmp, unit=UNIT)
    return {"tmp": tmp, "tape": tape, "photos": photograph(tape, tmp, seed=3),
            "package": ["--package", str(package), "--authority", authority.public_key_hex()]}


def run_cli(args, capsys):
    code = main(["audit", "tape", *args])
    out = capsys.readouterr()
    return code, out.out, out.err


def test_photographed_tape_verifies_against_the_package(tape_photos, signed, capsys):
    code, out, _ = run_cli([*tape_photos["photos"], *tape_photos["package"], "--json"], capsys)
    report = json.loads(out)
    assert code == 0 and report["ok"], report
    assert report["message"] == signed["message"] and report["station"] == "north-1"
    code, out, _ = run_cli([*tape_photos["photos"], *tape_photos["package"]], capsys)
    assert code == 0 and out.startswith("tape: OK — station north-1") and "ballots cast: 3" in out


def test_an_altered_tape_is_caught(election, signed, tape_photos, tmp_path, capsys):
    """A tape reprinted with one figure changed (the codes re-chained, the signature copied)."""
    forged = copy.deepcopy(signed)
    forged["message"]["tally"]["council"]["votes"]["GRN"] += 5
    tape = printed_tape(election, station_results(election), forged, tmp_path / "printer")
    photos = photograph(tape, tmp_path, seed=4, name="forged")
    code, out, _ = run_cli([*photos, *tape_photos["package"], "--json"], capsys)
    report = json.loads(out)
    assert code == 1 and report["first_fault"]["kind"] == "forged signature"
    assert "does not match" in report["first_fault"]["detail"]


def test_a_tape_signed_by_an_unregistered_unit_is_caught(election, tape_photos, tmp_path, capsys):
    rogue = UnitSigner.generate(random.Random(12))
    results, signed = signed_tape(election, unit=rogue)
    photos = photograph(printed_tape(election, results, signed, tmp_path / "p"), tmp_path, seed=5)
    code, out, _ = run_cli([*photos, *tape_photos["package"]], capsys)
    assert code == 1 and "unknown unit key" in out
    code, out, _ = run_cli([*photos, "--key", rogue.public_key_hex()], capsys)
    assert code == 0  # with that key given by hand, the same tape verifies


def test_bad_input_is_exit_2_with_one_line(tape_photos, tmp_path, capsys):
    not_image = tmp_path / "notes.txt"
    not_image.write_text("hello")
    cases = [
        [str(not_image), "--key", UNIT.public_key_hex()],
        [str(tmp_path / "nope.jpg"), "--key", UNIT.public_key_hex()],
        [tape_photos["photos"][0], "--key", "xyz"],
        [tape_photos["photos"][0]],  # no key source
        [tape_photos["photos"][0], "--package", str(tmp_path / "none.bbpkg"), "--authority", "ab" * 32],
    ]
    for args in cases:
        code, out, err = run_cli(args, capsys)
        assert code == 2 and out == "" and len(err.strip().splitlines()) == 1, (args, err)
    # Half the tape: the codes it shows are not all; nothing verified, so exit 2, not 1.
    from pyzbar.pyzbar import ZBarSymbol, decode
    first = min((c.rect for c in decode(tape_photos["tape"], symbols=[ZBarSymbol.QRCODE])),
                key=lambda r: r.top)
    top = photograph(tape_photos["tape"][:first.top + first.height + 12], tmp_path, seed=6,
                     name="top")
    code, out, err = run_cli([*top, "--key", UNIT.public_key_hex(), "--json"], capsys)
    error = json.loads(out)["error"]
    assert code == 2 and error.startswith("codes 2, 3, 4, 5 and 6 of 6 ") and "photograph" in error


def test_an_unreadable_photo_is_never_misread(tape_photos, tmp_path, capsys):
    photos = photograph(tape_photos["tape"], tmp_path, seed=7, level="unreadable", name="unreadable")
    code, _, _ = run_cli([*photos, *tape_photos["package"]], capsys)
    assert code in (0, 2)  # read in full and verified, or reported unreadable: never "forged"


def test_central_comparison(tape_photos, signed, capsys):
    published = {"north-1": signed}
    other = copy.deepcopy(signed)
    other["message"]["ballots_cast"] = 4
    another_unit = copy.deepcopy(signed)
    another_unit["message"]["unit_public_key"] = "ab" * 32
    published["south-1"] = {"results": [another_unit, other]}  # two units of one station

    async def station(request):
        sid = request.path_params["sid"]
        doc = published.get(sid)
        return JSONResponse(doc) if doc else JSONResponse({"error": "not found"}, status_code=404)

    app = Starlette(routes=[Route("/api/stations/{sid}.json", station)])
    with serve(app) as url:
        code, out, _ = run_cli([*tape_photos["photos"], *tape_photos["package"], "--central", url], capsys)
        assert code == 0 and "central: same" in out
        published["north-1"] = published.pop("south-1")  # central publishes a different result
        code, out, _ = run_cli([*tape_photos["photos"], *tape_photos["package"], "--central", url,
                                "--json"], capsys)
        report = json.loads(out)
        assert code == 1 and report["central"] == "different"
        assert "ballots_cast" in report["first_fault"]["detail"]
        del published["north-1"]
        code, out, _ = run_cli([*tape_photos["photos"], *tape_photos["package"], "--central", url], capsys)
        assert code == 1 and "central: not published" in out
    code, out, err = run_cli([*tape_photos["photos"], *tape_photos["package"], "--central", url], capsys)
    assert code == 2 and "cannot reach the central tally" in err


from hypothesis import given, settings, strategies as st  # noqa: E402

from device.results.signed_results import ResultsSignatureError, verify_signed_results  # noqa: E402


@settings(max_examples=150, deadline=None)
@given(index=st.integers(0, 3), at=st.integers(0, 400), char=st.characters(codec="utf-8"))
def test_any_one_character_changed_in_any_code_is_refused(signed, index, at, char):
    """Reading never crashes, and no altered tape both joins and verifies."""
    codes = encode_tape(signed)
    code = codes[index % len(codes)]
    pos = at % len(code)
    codes[index % len(codes)] = code[:pos] + char + code[pos + 1:]
    try:
        joined = decode_tape(codes)
        verify_signed_results(joined, UNIT.public_key_hex())
    except (TapeCodeError, ResultsSignatureError):
        return
    assert joined == signed  # only an unchanged tape (the same character put back) verifies
