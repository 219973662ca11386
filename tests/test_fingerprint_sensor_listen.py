"""``ballotbox sim peripherals``: the fingerprint sensor's twin on its loopback port, its finger
and its line faults set from stdin, reached with the real driver through ``open_peripheral``."""
from __future__ import annotations

import pytest

from hardware.fingerprint_serial import (FingerprintError, FingerprintSensor, FingerprintTimeout,
                                         NoFinger)
from hardware.registry import open_peripheral
from sim.twins.fingerprint import make_template
from tests.test_peripherals_listen import listening  # noqa: F401  (the fixture)

TEMPLATE = make_template("voter at the desk")


def test_the_finger_and_the_line_are_driven_from_stdin(listening):  # noqa: F811
    proc, say, base = listening
    sensor = open_peripheral("fingerprint", f"socket://127.0.0.1:{base + 4}?timeout=20")
    try:
        assert isinstance(sensor, FingerprintSensor)
        assert say("finger genuine") == "ok: finger genuine on the fingerprint sensor"
        assert sensor.match(TEMPLATE).sensor_matched
        assert say("finger impostor").startswith("ok:")
        assert not sensor.match(TEMPLATE).matched_at(50)
        assert say("finger none").startswith("ok:")
        with pytest.raises(NoFinger):
            sensor.match(TEMPLATE)
        assert say("finger elbow").startswith("error: unknown finger 'elbow'")
        assert say("finger genuine").startswith("ok:")
        assert say("sensor checksum") == "ok: fingerprint sensor checksum"
        with pytest.raises(FingerprintError) as err:
            sensor.match(TEMPLATE)
        assert err.value.reason == "bad_checksum"
        assert say("sensor garbage").startswith("ok:")
        assert sensor.match(TEMPLATE).sensor_matched
        assert say("sensor silent").startswith("ok:")
        sensor.timeout = 0.3
        with pytest.raises(FingerprintTimeout):
            sensor.probe()
        assert say("sensor wake").startswith("ok:")
        sensor.timeout = 20
        assert sensor.match(TEMPLATE).sensor_matched
        assert say("sensor melt").startswith("error: unknown sensor fault 'melt'")
    finally:
        sensor.close()
