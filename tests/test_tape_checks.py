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
    assert (report["first_fault"]["kind"], report["first_fault"]["where"]) == ("codes", "tape")
    assert "not the canonical JSON" in report["first_fault"]["detail"]
    spaced = json.dumps(signed["message"])  # the same message, other spacing: refused too
    with pytest.raises(ValueError, match="canonical JSON"):
        decode_tape(chained(spaced, signed["signature"]))
    assert decode_tape(chained(text, signed["signature"])) == signed  # the unit's own text


def test_the_last_code_missing_is_bad_input_exit_2(demo, live_package, tmp_path, capsys):
    _, signed = signed_tape(demo)
    codes = encode_tape(signed)  # 6 data codes, then 2 parity codes
    code, report = audit([scan(codes[:4] + codes[6:7], tmp_path / "t.png"), *live_package], capsys)
    assert code == 2 and not report["ok"]
    assert report["error"] == ("codes 5, 6 and 8 of 8 (any 6 of the 8 are enough) are not in the photos: "
                               "photograph the whole tape (every code) and try again")


def test_a_station_the_package_does_not_have(demo, live_package, tmp_path, capsys):
    _, signed = signed_tape(demo)
    message = copy.deepcopy(signed["message"])
    message["station"] = "north-9"
    resigned = sign_results(message, UNIT)  # a genuine signature, for a station that is not there
    code, report = audit([scan(encode_tape(resigned), tmp_path / "t.png"), *live_package], capsys)
    assert code == 1 and report["first_fault"]["kind"] == "unknown station"
    assert report["first_fault"]["where"] == "station north-9"
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
    photo = scan(encode_tape(signed), tmp_path / "t.png")
    code, report = audit([photo, *live_package], capsys)
    assert code == 0 and report["ok"] and report["message"] == signed["message"]
    assert report["photos"] == [photo] and report["codes_read"] == len(encode_tape(signed))


# --- the checks as functions (the survivors of `make mutate` in device/audit/tape.py) ----------
def test_figures_that_disagree_are_named(demo):
    from device.audit.tape import figure_faults
    message = copy.deepcopy(signed_tape(demo)[1]["message"])
    assert figure_faults(message) == []
    message["reconciliation"]["cast"] = message["ballots_cast"] + 1
    message["tally"]["council"]["invalid"] += 1
    faults = [f.to_json() for f in figure_faults(message)]
    cast = message["ballots_cast"]
    assert faults[0] == {"kind": "figures disagree", "where": "reconciliation",
                         "detail": f"ballots cast {cast}, reconciliation says {cast + 1}"}
    counted = message["tally"]["council"]["ballots_counted"]
    assert faults[1:] == [{"kind": "figures disagree", "where": "contest council",
                           "detail": f"{counted} counted + {message['tally']['council']['invalid']} "
                                     f"invalid != {cast} ballots cast"}]


def test_the_published_result_of_this_unit_is_found_or_none():
    from device.audit.tape import published_signed
    mine = {"message": {"unit_public_key": "aa", "n": 1}, "signature": "s1"}
    other = {"message": {"unit_public_key": "bb", "n": 2}, "signature": "s2"}
    assert published_signed({"results": [other, mine]}, "aa") == mine
    assert published_signed({"results": [other]}, "aa") is None
    assert published_signed(mine, "aa") == mine
    for doc in ({"message": {"n": 1}}, {"message": "text", "signature": "s"}, {"signature": "s"},
                [mine], None):
        assert published_signed(doc, "aa") is None, doc


def test_comparison_with_central_names_the_url_and_the_fields():
    from device.audit.tape import TapeAudit, compare_with_central
    _, signed = signed_tape(load_election("demo"))
    asked = []

    def central(answer):
        def fetch(url):
            asked.append(url)
            return answer
        return fetch

    audit = TapeAudit([])
    compare_with_central(audit, signed, "http://central.example/", central(None))
    url = "http://central.example/api/stations/north-1.json"
    assert asked == [url] and audit.central == "not published"
    assert audit.faults[0].to_json() == {
        "kind": "not published", "where": url,
        "detail": "the central tally publishes no accepted result of this unit for station north-1"}
    audit = TapeAudit([])
    compare_with_central(audit, signed, "http://TALLYX//", central(None))
    assert asked[-1] == "http://TALLYX/api/stations/north-1.json"
    audit = TapeAudit([])
    compare_with_central(audit, signed, "http://central.example", central(signed))
    assert audit.central == "same" and audit.ok
    changed = copy.deepcopy(signed)
    for contest in changed["message"]["tally"].values():
        for choice in contest["votes"]:
            contest["votes"][choice] += 1
    audit = TapeAudit([])
    compare_with_central(audit, signed, "http://central.example", central(changed))
    fault = audit.faults[0].to_json()
    assert audit.central == "different" and (fault["kind"], fault["where"]) == ("central differs", url)
    from device.audit.tape import differing_fields
    fields = differing_fields(signed["message"], changed["message"])
    assert len(fields) > 8 and fault["detail"] == \
        "the published result is not the tape's: " + ", ".join(fields[:8])
    resigned = {"message": signed["message"], "signature": "0" * 128}
    audit = TapeAudit([])
    compare_with_central(audit, signed, "http://central.example", central(resigned))
    assert audit.faults[0].detail == "the published result is not the tape's: signature"


def test_differing_fields_are_dotted_paths():
    from device.audit.tape import differing_fields
    assert differing_fields({"x": 1, "y": {"z": 2}}, {"x": 1, "y": {"z": 3}, "w": 0}) == ["w", "y.z"]
    assert differing_fields({"a": 1}, {"a": 1}) == []
    assert differing_fields(1, 2) == ["(whole)"]
    assert differing_fields({"a": 1}, 5) == ["(whole)"]
    assert differing_fields({"a": {"b": 1}}, {"a": None}) == ["a"]


def test_the_audit_report_as_json(demo):
    from device.audit.findings import Fault
    from device.audit.tape import TapeAudit
    message = signed_tape(demo)[1]["message"]
    audit = TapeAudit(["a.jpg"], codes_read=4, message=message, central="same")
    assert audit.to_json() == {
        "check": "tape", "photos": ["a.jpg"], "ok": True, "codes_read": 4, "station": "north-1",
        "unit_id": message["unit_id"], "unit_public_key": UNIT.public_key_hex(), "mode": "live",
        "sequence": 1, "ballots_cast": message["ballots_cast"], "central": "same",
        "first_fault": None, "faults": [], "message": message}
    audit.fault("codes", "tape", "broken")
    fault = Fault("codes", "tape", "broken").to_json()
    assert audit.to_json()["faults"] == [fault] and audit.to_json()["first_fault"] == fault
    assert TapeAudit([]).to_json()["station"] is None
