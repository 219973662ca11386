"""The fingerprint sensor's data, declared once: the packet decoder, the reason codes, the
twin's profile (anchored to the datasheets' FAR/FRR, every figure with its source) and its
generated document."""
from __future__ import annotations

import json
from importlib import resources

import pytest

from hardware.fingerprint_serial import (CONFIRM_CODES, REASONS, FingerprintError, PacketDecoder,
                                         PacketId, encode_packet)
from sim.twins.fingerprint_profile import FINGERS, load_fingerprint_profile


def bundled_json() -> dict:
    return json.loads(resources.files("sim.twins").joinpath("fingerprint_profile.json").read_text())


def test_decoder_finds_packets_split_anywhere():
    packets = [encode_packet(PacketId.ACK, bytes([0, i, 2 * i])) for i in range(5)]
    stream = b"\x01\x02" + b"".join(packets)
    for cut in range(1, len(stream)):
        decoder = PacketDecoder()
        found = decoder.feed(stream[:cut]) + decoder.feed(stream[cut:])
        assert [p.payload[1] for p, bad in found] == list(range(5)) and not any(b for _, b in found)


def test_every_reason_is_declared_once():
    assert {c.reason for c in CONFIRM_CODES.values() if c.reason} <= REASONS
    assert all(c.error is None or issubclass(c.error, FingerprintError) for c in CONFIRM_CODES.values())


def test_the_profile_reproduces_its_published_anchors_at_the_threshold():
    profile = load_fingerprint_profile()
    t = profile.threshold
    assert profile.impostor.tail_at_least(t) == pytest.approx(profile.far_anchor, rel=1e-9)
    assert 1 - profile.genuine.tail_at_least(t) == pytest.approx(profile.frr_anchor, rel=1e-9)
    data = bundled_json()
    sourced = [data[k] for k in ("sensor", "timings", "threshold", "anchors")]
    sourced += list(data["scores"].values()) + list(data["fingers"].values())
    assert all(section.get("source") for section in sourced)
    assert set(data["fingers"]) == set(FINGERS) - {"none"}


def test_a_bad_profile_is_refused_in_one_line(tmp_path):
    from sim.twins.fingerprint_profile import FingerprintProfileError
    data = bundled_json()
    data["anchors"]["far"] = 2
    bad = tmp_path / "p.json"
    bad.write_text(json.dumps(data))
    with pytest.raises(FingerprintProfileError, match="probability"):
        load_fingerprint_profile(bad)
    bad.write_text("{")
    with pytest.raises(FingerprintProfileError, match="not|cannot"):
        load_fingerprint_profile(bad)


def test_the_twins_figures_document_matches_the_data():
    from pathlib import Path

    from sim.twins.fingerprint_profile import render_doc
    committed = Path(__file__).parent.parent / "docs" / "fingerprint-sensor.md"
    assert committed.read_text() == render_doc(), \
        "regenerate: python -m sim.twins.fingerprint_profile > docs/fingerprint-sensor.md"
