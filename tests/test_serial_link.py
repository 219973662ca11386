"""The framed serial link: CRC, framing, resynchronisation, retries, exactly-once commands."""
from __future__ import annotations

import random

import pytest
from hypothesis import given, settings, strategies as st

from hardware.interfaces import PeripheralDisconnected
from hardware.scanner_serial import Command
from hardware.serial_link import Frame, FrameDecoder, FrameType, LinkHost, crc16
from sim.twins.endpoints import MemoryPort
from sim.twins.profile import load_profile
from sim.twins.scanner import ScannerTwin


def test_crc_is_ccitt_false():
    assert crc16(b"123456789") == 0x29B1


def test_frame_round_trip_and_layout():
    f = Frame(7, FrameType.CMD, b"\x02abc")
    raw = f.encode()
    assert raw[0] == 0x02 and raw[1] == 4 and raw[2] == 7 and raw[3] == FrameType.CMD
    assert list(FrameDecoder().feed(raw)) == [f]


def test_byte_by_byte_delivery():
    dec, frames = FrameDecoder(), []
    for b in Frame(1, FrameType.RES, bytes(range(40))).encode():
        frames += dec.feed(bytes((b,)))
    assert frames == [Frame(1, FrameType.RES, bytes(range(40)))]


def test_resync_after_garbage_and_a_corrupted_length():
    good = [Frame(i, FrameType.RES, bytes([i]) * 5) for i in range(3)]
    bad = bytearray(good[1].encode())
    bad[1] = 200  # a corrupted LEN must not swallow the frame after it
    stream = b"\x00\xff\x02\x02garbage" + good[0].encode() + bytes(bad) + good[2].encode()
    dec = FrameDecoder()
    assert list(dec.feed(stream)) == [good[0], good[2]]
    assert dec.skipped > 0


@settings(max_examples=200, deadline=None)
@given(payloads=st.lists(st.binary(max_size=60), min_size=1, max_size=8),
       noise=st.lists(st.binary(max_size=12), min_size=9, max_size=9))
def test_frames_survive_any_garbage_between_them(payloads, noise):
    frames = [Frame(i + 1, FrameType.RES, p) for i, p in enumerate(payloads)]
    stream = b"".join(noise[i] + f.encode() for i, f in enumerate(frames)) + noise[-1]
    got = list(FrameDecoder().feed(stream))
    # garbage may by chance contain a valid frame (1 in 65536 per candidate); ours all arrive
    assert [g for g in got if g in frames] == frames


def _scanner_link(rng_seed: int, **faults) -> tuple[LinkHost, ScannerTwin]:
    twin = ScannerTwin(load_profile("clean").with_faults(**faults), random.Random(rng_seed))
    return LinkHost(MemoryPort(twin), ack_timeout=0.002, retries=6), twin


def test_every_command_runs_exactly_once_on_a_bad_line():
    host, twin = _scanner_link(3, byte_corruption_rate=1e-3, dropped_frame_rate=0.02,
                               duplicated_frame_rate=0.02, slow_response_rate=0.02,
                               slow_response_polls=2)
    n = 1500
    for _ in range(n):
        result = host.request(Command.STATUS, timeout=2.0)
        assert result[0] == 0
    assert twin.link.executed == n + 1  # + the HELLO that opened the session
    assert host.stats.retransmits > 0 and twin.tx_faults.dropped > 0 and twin.tx_faults.duplicated > 0


def test_silence_is_a_disconnect_and_the_next_request_reopens_the_session():
    host, twin = _scanner_link(1)
    host.request(Command.STATUS)
    twin.disconnect()
    with pytest.raises(PeripheralDisconnected):
        host.request(Command.STATUS)
    twin.reconnect()
    assert host.request(Command.STATUS)[0] == 0
    assert twin.commands[-2:] == ["HELLO", "STATUS"]


def test_protocol_document_matches_the_code():
    from pathlib import Path
    from hardware.protocol_doc import render
    committed = Path(__file__).resolve().parents[1] / "docs" / "protocol.md"
    assert committed.read_text() == render(), "regenerate: python -m hardware.protocol_doc > docs/protocol.md"
    for c in Command:
        assert f"| {c.name} | 0x{c.value:02X} |" in committed.read_text()


class _StaleAnswerPort:
    """A device that first replays the answer to an older command (a late duplicate on the
    line), then answers the current one: the host must take only the answer with its SEQ."""

    def __init__(self):
        self.timeout = None
        self._rx = bytearray()
        self._decoder = FrameDecoder()

    @property
    def in_waiting(self) -> int:
        return len(self._rx)

    def write(self, data: bytes) -> int:
        for f in self._decoder.feed(bytes(data)):
            if f.type == FrameType.CMD:
                stale = (f.seq - 1) % 256
                self._rx += Frame(stale, FrameType.RES, b"\x07stale").encode()
                self._rx += Frame(f.seq, FrameType.RES, b"\x00fresh").encode()
        return len(data)

    def read(self, size: int = 1) -> bytes:
        out, self._rx = bytes(self._rx[:size]), self._rx[size:]
        return out


def test_an_answer_with_a_stale_sequence_number_is_ignored():
    host = LinkHost(_StaleAnswerPort(), ack_timeout=0.01, retries=2)
    for _ in range(3):
        assert host.request(Command.STATUS) == b"\x00fresh"
    assert host.stats.stale_frames >= 3
