"""The checks ``audit tape`` makes after decoding: a scan of a tape's QR codes (drawn with segno,
read back by pyzbar) through the real CLI, each refused with its reason and exit status."""
from __future__ import annotations

import copy
import json
from pathlib import Path

import cv2
import numpy as np
import pytest
import segno

from device.cli.main import main
from device.election.authority import AuthorityKey
from device.election.definition import load_election, parse_election
from device.results.signed_results import sign_results
from device.results.tape_codes import GENESIS_LINK, PREFIX, _digest, decode_tape, encode_tape
from device.store.canonical_json import canonical_json
from tests.package_kit import make_package
from tests.test_results_tape import UNIT, signed_tape

AUTHORITY = AuthorityKey.from_seed(b"A" * 32)


def scan(payloads: list[str], path: Path) -> str:
    """A clean scan of the tape's codes, one under the other (what a flatbed gives)."""
    rows = []
    for payload in payloads:
        buf = path.with_suffix(".code.png")
        segno.make(payload, error="m", micro=False).save(str(buf), scale=4, border=4)
        rows.append(cv2.imread(str(buf), cv2.IMREAD_GRAYSCALE))
        buf.unlink()
    width = max(r.shape[1] for r in rows)
    rows = [cv2.copyMakeBorder(r, 0, 0, 0, width - r.shape[1], cv2.BORDER_CONSTANT, value=255)
            for r in rows]
    cv2.imwrite(str(path), np.vstack(rows))
    return str(path)


def chained(text: str, signature: str, chunk: int = 280) -> list[str]:
    """Codes carrying ``text`` as the tape format chains them (an attacker can do this)."""
    chunks = [text[i:i + chunk] for i in range(0, len(text), chunk)]
    prev, out = GENESIS_LINK, []
    for i, part in enumerate(chunks, 1):
        out.append("|".join((PREFIX, str(i), str(len(chunks)), prev,
                             signature if i == len(chunks) else "", part)))
        prev = _digest(out[-1])
    return out


@pytest.fixture(scope="module")
def demo():
    return load_election("demo")


@pytest.fixture(scope="module")
def live_package(demo, tmp_path_factory):
    path, _, _ = make_package(tmp_path_factory.mktemp("pkg"), authority=AUTHORITY, unit=UNIT)
    return ["--package", str(path), "--authority", AUTHORITY.public_key_hex()]


def audit(args, capsys):
    code = main(["audit", "tape", *args, "--json"])
    out = capsys.readouterr().out
    return code, json.loads(out)


def test_a_repeated_key_is_not_the_canonical_text_and_is_refused(demo, live_package, tmp_path, capsys):
    _, signed = signed_tape(demo)
    text = canonical_json(signed["message"])
    cast = f'"ballots_cast":{signed["message"]["ballots_cast"]}'
    forged = text.replace(cast, f'"ballots_cast":999,{cast}', 1)  # a phone shows 999 first
    assert forged != text and json.loads(forged) == signed["message"]  # a parser keeps the real one
    code, report = audit([scan(chained(forged, signed["signature"]), tmp_path / "t.png"),
                          *live_package], capsys)
    assert code == 1 and not report["ok"]
    assert report["first_fault"]["kind"] == "codes"
    assert "not the canonical JSON" in report["first_fault"]["detail"]
    spaced = json.dumps(signed["message"])  # the same message, other spacing: refused too
    with pytest.raises(ValueError, match="canonical JSON"):
        decode_tape(chained(spaced, signed["signature"]))
    assert decode_tape(chained(text, signed["signature"])) == signed  # the unit's own text


def test_the_last_code_missing_is_bad_input_exit_2(demo, live_package, tmp_path, capsys):
    _, signed = signed_tape(demo)
    codes = encode_tape(signed)
    code, report = audit([scan(codes[:-1], tmp_path / "t.png"), *live_package], capsys)
    assert code == 2 and not report["ok"]
    assert f"missing code(s) {len(codes)} of {len(codes)}" in report["error"]


def test_a_station_the_package_does_not_have(demo, live_package, tmp_path, capsys):
    _, signed = signed_tape(demo)
    message = copy.deepcopy(signed["message"])
    message["station"] = "north-9"
    resigned = sign_results(message, UNIT)  # a genuine signature, for a station that is not there
    code, report = audit([scan(encode_tape(resigned), tmp_path / "t.png"), *live_package], capsys)
    assert code == 1 and report["first_fault"]["kind"] == "unknown station"
    assert "north-9" in report["first_fault"]["detail"]


def test_another_elections_package_registering_the_same_unit(demo, tmp_path, capsys):
    other = parse_election({**demo.raw, "id": "other-2026", "title": "Another election"})
    assert other.hash != demo.hash and "north-1" in other.stations
    pkg, _, _ = make_package(tmp_path, authority=AUTHORITY, unit=UNIT, election=other, name="o.bbpkg")
    _, signed = signed_tape(demo)
    code, report = audit([scan(encode_tape(signed), tmp_path / "t.png"), "--package", str(pkg),
                          "--authority", AUTHORITY.public_key_hex()], capsys)
    assert code == 1 and report["first_fault"]["kind"] == "wrong election"
    assert demo.hash[:16] in report["first_fault"]["detail"]


def test_a_test_mode_tape_against_a_live_package(demo, live_package, tmp_path, capsys):
    _, signed = signed_tape(demo, mode="test")
    code, report = audit([scan(encode_tape(signed), tmp_path / "t.png"), *live_package], capsys)
    assert code == 1 and report["mode"] == "test"
    assert report["first_fault"]["kind"] == "wrong mode"
    assert "not a result of this live election" in report["first_fault"]["detail"]


def test_the_genuine_tape_passes_the_same_checks(demo, live_package, tmp_path, capsys):
    _, signed = signed_tape(demo)
    code, report = audit([scan(encode_tape(signed), tmp_path / "t.png"), *live_package], capsys)
    assert code == 0 and report["ok"] and report["message"] == signed["message"]
