"""The fingerprint sensor driver against its twin over a real pty: every command, every error.

The driver (``hardware.fingerprint_serial``) opens the pty's slave path with pyserial exactly as
it opens ``/dev/ttyUSB0``; the twin (``sim.twins.fingerprint``) serves the master end. Faults
are driven through the twin's hands (a wrong checksum, silence, garbage, a power cut), never
by sleeping.
"""
from __future__ import annotations

import json
import random
from importlib import resources

import pytest

from hardware.fingerprint_serial import (CONFIRM_CODES, REASONS, TEMPLATE_BYTES, FingerMatch,
                                         FingerprintDisconnected, FingerprintError,
                                         FingerprintSensor, FingerprintTimeout, NoFinger,
                                         PacketId, PoorImage, WrongPassword,
                                         encode_packet)
from hardware.interfaces import PeripheralError, PeripheralTimeout
from sim.twins.endpoints import PtyEndpoint, TcpEndpoint
from sim.twins.fingerprint import FingerprintTwin, make_template
from sim.twins.fingerprint_profile import profile_from_json

GENEROUS = 20.0  # seconds: an answer that comes, comes long before this on a loaded machine
SHORT = 0.3  # seconds: the timeout where the twin is silent, so nothing can come
TEMPLATE = make_template("voter-0001")


def wait_for_bytes(port, count: int) -> None:
    """Wait until ``count`` bytes are readable on ``port`` (a pty hands bytes over through the
    kernel's work queue, so a write on one side is not at once readable on the other)."""
    import select
    import time
    end = time.monotonic() + GENEROUS
    while port.in_waiting < count:
        assert time.monotonic() < end, f"{port.in_waiting} of {count} bytes arrived"
        select.select([port.fileno()], [], [], end - time.monotonic())


def bundled_json() -> dict:
    return json.loads(resources.files("sim.twins").joinpath("fingerprint_profile.json").read_text())


def profile_with(finger: str, **rates: float):
    data = bundled_json()
    data["fingers"][finger].update(rates)
    return profile_from_json(data)


@pytest.fixture
def rig():
    """``make(twin=None, **sensor_options)`` -> (twin, sensor) over a real pty, closed after."""
    made = []

    def make(twin=None, **sensor_kw):
        twin = twin or FingerprintTwin(rng=random.Random(7))
        endpoint = PtyEndpoint(twin)
        sensor = FingerprintSensor(endpoint.url + "?baud=57600", **{"timeout": GENEROUS, **sensor_kw})
        made.append((endpoint, sensor))
        return twin, sensor

    yield make
    for endpoint, sensor in made:
        sensor.close()
        endpoint.close()


def test_probe_verifies_the_password_and_reads_the_system_parameters(rig):
    twin, sensor = rig()
    info = sensor.probe()
    assert twin.commands == ["VFY_PWD", "READ_SYS_PARA", "TEMPLATE_NUM"]
    assert (info.baud, info.library_size, info.security_level) == (57600, 1000, 3)
    assert (info.address, info.data_packet_bytes, info.templates_stored) == (0xFFFFFFFF, 128, 0)


def test_a_match_captures_extracts_downloads_and_compares(rig):
    twin, sensor = rig()
    twin.place("genuine")
    result = sensor.match(TEMPLATE)
    assert twin.commands[3:] == ["GEN_IMG", "IMG2TZ", "DOWN_CHAR", "MATCH"]
    assert twin.char_buffers[2] == TEMPLATE  # the template crossed the line whole (4 packets)
    assert twin.char_buffers[1] == "genuine"
    assert result == FingerMatch(twin.scores[-1], True)
    assert result.matched_at(50) and not result.matched_at(result.score + 1)


def test_another_persons_finger_scores_below_the_threshold(rig):
    twin, sensor = rig()
    twin.place("impostor")
    scores = [sensor.match(TEMPLATE) for _ in range(5)]
    assert [m.score for m in scores] == twin.scores
    assert not any(m.matched_at(50) or m.sensor_matched for m in scores)


def test_scores_are_reproduced_by_the_seed(rig):
    runs = []
    for _ in range(2):
        twin, sensor = rig(FingerprintTwin(rng=random.Random(42)))
        twin.place("genuine")
        runs.append([sensor.match(TEMPLATE).score for _ in range(4)])
    assert runs[0] == runs[1]


def test_no_finger_on_the_glass(rig):
    twin, sensor = rig()
    twin.place("none")
    with pytest.raises(NoFinger) as err:
        sensor.match(TEMPLATE)
    assert err.value.reason == "no_finger" and isinstance(err.value, PeripheralError)
    assert twin.commands[-1] == "GEN_IMG"


@pytest.mark.parametrize("finger, rate, reason, last", [
    ("dry", "image_failed_rate", "image_failed", "GEN_IMG"),
    ("wet", "image_messy_rate", "image_messy", "IMG2TZ"),
    ("partial", "too_few_features_rate", "too_few_features", "IMG2TZ"),
])
def test_a_bad_press_fails_with_its_reason(rig, finger, rate, reason, last):
    twin, sensor = rig(FingerprintTwin(profile_with(finger, **{rate: 1.0}), random.Random(1)))
    twin.place(finger)
    with pytest.raises(PoorImage) as err:
        sensor.match(TEMPLATE)
    assert err.value.reason == reason and twin.commands[-1] == last


def test_extracting_with_no_image_is_refused(rig):
    twin, sensor = rig(FingerprintTwin(profile_with("dry", image_failed_rate=1.0), random.Random(1)))
    twin.place("dry")
    sensor.probe()
    with pytest.raises(PoorImage):
        sensor.capture()
    with pytest.raises(PoorImage) as err:
        sensor.extract(1)
    assert err.value.reason == "image_failed" and twin.commands[-1] == "IMG2TZ"


def test_no_finger_on_the_glass_costs_one_short_exchange_not_a_template_download(rig):
    """While the voter has not yet pressed, the unit asks again and again: each ask must be one
    GenImg (12 bytes out, 12 back), not the 512-byte template download before it."""
    twin, sensor = rig()
    sensor.probe()
    before = len(twin.commands)
    for _ in range(3):
        with pytest.raises(NoFinger):
            sensor.match(TEMPLATE)
    assert twin.commands[before:] == ["GEN_IMG"] * 3


def test_a_wrong_password_is_refused(rig):
    twin, sensor = rig(FingerprintTwin(rng=random.Random(1), password=0x5EC12E7))
    with pytest.raises(WrongPassword) as err:
        sensor.match(TEMPLATE)
    assert err.value.reason == "wrong_password" and twin.commands == ["VFY_PWD"]
    twin2, good = rig(FingerprintTwin(rng=random.Random(1), password=0x5EC12E7), password=0x5EC12E7)
    assert good.probe().security_level == 3


def test_an_answer_with_a_bad_checksum_is_refused_then_the_next_match_works(rig):
    twin, sensor = rig()
    twin.place("genuine")
    sensor.probe()
    twin.corrupt_next_answer()
    with pytest.raises(FingerprintError) as err:
        sensor.match(TEMPLATE)
    assert err.value.reason == "bad_checksum"
    assert sensor.match(TEMPLATE).sensor_matched


class CorruptingLine:
    """The line from host to sensor: ``arm(skip)`` flips a bit in the checksum of the write
    after the next ``skip`` writes."""

    def __init__(self, port) -> None:
        self.port, self.countdown = port, -1

    def arm(self, skip: int = 0) -> None:
        self.countdown = skip

    def write(self, data: bytes) -> int:
        if self.countdown == 0:
            data = data[:-1] + bytes((data[-1] ^ 0x01,))
        self.countdown -= 1
        return self.port.write(data)

    def __getattr__(self, name):
        return getattr(self.port, name)


@pytest.fixture
def corrupting_rig():
    import serial

    twin = FingerprintTwin(rng=random.Random(1))
    endpoint = PtyEndpoint(twin)
    line = CorruptingLine(serial.Serial(endpoint.slave_path, 57600, timeout=0))
    sensor = FingerprintSensor(line, timeout=GENEROUS)
    yield twin, line, sensor
    sensor.close()
    endpoint.close()


def test_a_command_that_arrives_corrupted_is_answered_with_a_packet_error(corrupting_rig):
    twin, line, sensor = corrupting_rig
    sensor.probe()
    twin.place("genuine")
    line.arm()
    with pytest.raises(FingerprintError) as err:
        sensor.capture()
    assert err.value.reason == "packet_error" and CONFIRM_CODES[0x01].reason == "packet_error"
    sensor.capture()  # the line is clean again


def test_a_corrupted_template_download_never_matches_the_previous_template(corrupting_rig):
    twin, line, sensor = corrupting_rig
    twin.place("genuine")
    assert sensor.match(make_template("the previous voter")).sensor_matched
    line.arm(skip=4)  # GenImg, Img2Tz, DownChar, the first data packet; the second corrupted
    result = sensor.match(TEMPLATE)
    assert twin.char_buffers[2] is None and result == FingerMatch(0, False)


def test_garbage_on_the_line_is_skipped(rig):
    twin, sensor = rig()
    twin.place("genuine")
    sensor.probe()
    rng = random.Random(3)
    false_header = b"\xef\x01\xff\xff\xff\xff\x07\x7f\xff"  # a header with an impossible length
    twin.inject_garbage(bytes(rng.randrange(256) for _ in range(300)) + false_header + b"\xef")
    assert sensor.match(TEMPLATE).sensor_matched
    stale = encode_packet(PacketId.ACK, b"\x00")  # a late answer waiting before a command
    twin.inject_garbage(b"\x00\x13\x37" + stale, now=True)
    wait_for_bytes(sensor.port, 3 + len(stale))
    assert sensor.match(TEMPLATE).sensor_matched


def test_a_late_answer_of_another_size_is_refused_not_misread(rig):
    """A Match acknowledge (3 bytes) arriving late, read where GenImg's (1 byte) is due: without
    the size check the capture would pass as OK with no finger on the glass."""
    twin, sensor = rig()
    sensor.probe()
    twin.place("none")
    twin.inject_garbage(encode_packet(PacketId.ACK, b"\x00\x00\x99"))
    with pytest.raises(FingerprintError) as err:
        sensor.capture()
    assert err.value.reason == "garbled"
    with pytest.raises(NoFinger):
        sensor.capture()


def test_a_noisy_line_gives_the_twins_score_or_an_error_never_another_score():
    """Bits flipped both ways (``fault+``): a match returns the score the twin drew, or 0 when
    the template arrived corrupted (the buffer stays empty), or raises a FingerprintError."""
    from hardware.registry import open_peripheral
    outcomes = set()
    for seed in range(8):
        sensor = open_peripheral("fingerprint", f"fault+sim://fingerprint?corrupt=0.001&seed={seed}")
        sensor.timeout = 0.05  # the in-memory twin answers inside the write: nothing comes later
        sensor.twin.place("genuine")
        for i in range(10):
            drawn = len(sensor.twin.scores)
            try:
                result = sensor.match(make_template(f"voter {i}"))
            except FingerprintError as exc:
                outcomes.add(exc.reason)
                continue
            new = sensor.twin.scores[drawn:]
            expected = FingerMatch(new[-1], new[-1] >= 50) if new else FingerMatch(0, False)
            assert result == expected
            outcomes.add("score" if new else "empty buffer")
    errors = outcomes - {"score", "empty buffer"}
    assert "score" in outcomes and errors and errors <= REASONS, outcomes


def test_a_silent_sensor_times_out_and_answers_again_once_awake(rig):
    twin, sensor = rig()
    sensor.probe()
    twin.place("genuine")
    twin.go_silent()
    sensor.timeout = SHORT  # only where silence is certain: answers that come get GENEROUS
    with pytest.raises(FingerprintTimeout) as err:
        sensor.capture()
    assert err.value.reason == "timeout" and isinstance(err.value, PeripheralTimeout)
    twin.wake()
    sensor.timeout = GENEROUS
    assert sensor.match(TEMPLATE).sensor_matched


def test_a_sensor_at_another_address_never_answers(rig):
    twin, sensor = rig(FingerprintTwin(rng=random.Random(1), address=0x00000001), timeout=SHORT)
    with pytest.raises(FingerprintTimeout):
        sensor.probe()
    assert twin.commands == []


def test_a_power_cut_mid_match_loses_the_buffers(rig):
    twin, sensor = rig()
    twin.place("genuine")
    sensor.download_template(TEMPLATE)
    twin.power_cut()
    sensor.timeout = SHORT
    with pytest.raises(FingerprintTimeout):
        sensor.capture()
    assert twin.char_buffers == {1: None, 2: None}
    twin.wake()
    sensor.timeout = GENEROUS
    assert sensor.match(TEMPLATE).sensor_matched  # a new match downloads the template again


def test_a_lost_port_is_a_disconnect(rig):
    twin = FingerprintTwin(rng=random.Random(1))
    endpoint = TcpEndpoint(twin)
    sensor = FingerprintSensor(endpoint.url, timeout=GENEROUS)
    try:
        sensor.probe()
        endpoint.drop_client()
        with pytest.raises(FingerprintDisconnected) as err:
            sensor.capture()
        assert err.value.reason == "disconnected"
    finally:
        sensor.close()
        endpoint.close()


def test_a_client_dropped_while_the_twin_waits_does_not_stop_the_twin(monkeypatch):
    """The cable is pulled (``drop_client``, the test's thread) just after the twin's thread listed
    the connection to wait on: its ``select`` then meets a closed socket. The twin must carry on
    and serve the next connection (its thread once died there, and every later probe timed out)."""
    import select as select_module

    import sim.twins.endpoints as endpoints
    twin = FingerprintTwin(rng=random.Random(1))
    endpoint = TcpEndpoint(twin)
    real_select = select_module.select
    pulled = []

    def select_after_the_pull(rlist, wlist, xlist, *timeout):
        client = endpoint.client
        if client is not None and client in rlist and not pulled:
            pulled.append(client)
            endpoint.drop_client()  # in the gap between making the list and waiting on it
        return real_select(rlist, wlist, xlist, *timeout)

    sensor = FingerprintSensor(endpoint.url, timeout=GENEROUS)
    try:
        monkeypatch.setattr(endpoints.select, "select", select_after_the_pull)
        with pytest.raises(FingerprintDisconnected):
            sensor.probe()
        assert pulled and endpoint._thread is not None and endpoint._thread.is_alive()
        sensor.close()
        sensor = FingerprintSensor(endpoint.url, timeout=GENEROUS)  # the cable plugged back in
        sensor.probe()
    finally:
        sensor.close()
        endpoint.close()


def test_over_a_socket_as_well():
    twin = FingerprintTwin(rng=random.Random(1))
    endpoint = TcpEndpoint(twin)
    sensor = FingerprintSensor(endpoint.url, timeout=GENEROUS)
    try:
        twin.place("genuine")
        assert sensor.match(TEMPLATE).sensor_matched
    finally:
        sensor.close()
        endpoint.close()


def test_a_template_of_the_wrong_size_is_refused_before_the_line(rig):
    twin, sensor = rig()
    with pytest.raises(FingerprintError) as err:
        sensor.match(TEMPLATE[:-1])
    assert err.value.reason == "bad_template" and twin.commands == []
    assert len(TEMPLATE) == TEMPLATE_BYTES


def test_the_documented_example_is_what_the_twin_answers():
    from pathlib import Path
    doc = (Path(__file__).parent.parent / "docs" / "protocol.md").read_text()
    line = next(x for x in doc.splitlines() if x.startswith("Example: GenImg"))
    command, answer = (bytes.fromhex(part.split("`")[1]) for part in line.split("with"))
    twin, heard = FingerprintTwin(rng=random.Random(1)), []
    twin.attach(heard.append)
    twin.place("genuine")
    twin.receive(command)
    assert heard == [answer] and twin.commands == ["GEN_IMG"]


def test_the_fingerprint_is_a_row_of_the_peripheral_table():
    from hardware.fingerprint import FingerprintDevice
    from hardware.peripherals import console_name, peripheral_kinds, required_kinds
    row = peripheral_kinds()["fingerprint"]
    assert row.base is FingerprintDevice and issubclass(FingerprintSensor, FingerprintDevice)
    assert "fingerprint" not in required_kinds() and console_name("fingerprint") == "Fingerprint sensor"


def test_open_peripheral_reaches_the_sensor_on_a_pty_with_its_options():
    from hardware.registry import RegistryError, open_peripheral
    twin = FingerprintTwin(rng=random.Random(1), password=7)
    endpoint = PtyEndpoint(twin)
    sensor = open_peripheral("fingerprint", f"{endpoint.url}?baud=57600&password=7&timeout={GENEROUS}")
    try:
        assert isinstance(sensor, FingerprintSensor) and sensor.timeout == GENEROUS
        assert sensor.probe(timeout=GENEROUS).baud == 57600
        twin.place("genuine")
        assert sensor.match(TEMPLATE).sensor_matched
        with pytest.raises(RegistryError, match="not reached over opencv"):
            open_peripheral("fingerprint", "opencv://0")
    finally:
        sensor.close()
        endpoint.close()


def test_sim_fingerprint_is_the_real_driver_over_the_twin_in_memory():
    from hardware.registry import open_peripheral
    sensor = open_peripheral("fingerprint", "sim://fingerprint?seed=3")
    sensor.twin.place("impostor")
    result = sensor.match(TEMPLATE)
    assert isinstance(sensor, FingerprintSensor) and result.score == sensor.twin.scores[-1]
    assert not result.matched_at(50)
