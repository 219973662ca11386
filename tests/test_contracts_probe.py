"""Every kind is probed for health by the unit, not only the scanner (issue 20 §2).

A plug-in kind (installed as a real distribution with an entry point) whose driver answers a
heartbeat over a real TCP socket is named in the simulated unit's ``unit.toml``. The unit's
thread opens it with the others, probes it every second (``probe_while_healthy``), lists it
as lost when its device stops answering, and clears it when the device answers again — the
same loop that watches the printer's paper, from the table, with no code for this kind.
"""
from __future__ import annotations

import importlib
import socket
import socketserver
import sys
import threading
import time

import pytest

from device.unit.config import load_config
from device.unit.runtime import Unit
from sim.unit.simulated_unit import start_simulated_unit
from tests.console_kit import EM, PATIENCE
from tests.test_contracts_peripherals import install_plugin

HEARTBEAT = '''
"""A device that answers b"?" with b"!" (a test plug-in kind)."""
import time

from hardware.interfaces import Peripheral, PeripheralTimeout
from hardware.peripherals import N_, PeripheralKind


class Heartbeat(Peripheral):
    def __init__(self, port):
        self.port = port

    def probe(self, timeout=1.0):
        self.port.reset_input_buffer()
        self.port.write(b"?")
        self.port.timeout = timeout
        if self.port.read(1) != b"!":
            raise PeripheralTimeout("no heartbeat")
        return None

    def close(self):
        self.port.close()


HEARTBEAT = PeripheralKind("heartbeat", Heartbeat, N_("Heartbeat"), ("socket",),
                           lambda link: Heartbeat(link.port), probe_timeout_s=0.3,
                           probe_while_healthy=True, misses_before_lost=2, required=False)
'''


class HeartbeatServer(socketserver.ThreadingTCPServer):
    """Answers each b"?" with b"!" while ``answering`` is set, except the next ``skip`` ones;
    ``heard`` counts the probes."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self) -> None:
        self.answering = threading.Event()
        self.answering.set()
        self.skip = self.heard = 0
        super().__init__(("127.0.0.1", 0), _Beat)


class _Beat(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        conn: socket.socket = self.request
        while True:
            try:
                data = conn.recv(64)
            except OSError:
                return
            if not data:
                return
            server: HeartbeatServer = self.server  # type: ignore[assignment]
            for _ in range(data.count(b"?")):
                server.heard += 1
                if server.skip > 0:
                    server.skip -= 1
                elif server.answering.is_set():
                    conn.sendall(b"!")


def _until(predicate, what: str) -> None:
    deadline, tick = time.monotonic() + PATIENCE, threading.Event()
    while not predicate():
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        tick.wait(0.05)


@pytest.fixture
def heartbeat_plugin(tmp_path, monkeypatch):
    site = install_plugin(tmp_path / "site", HEARTBEAT, "acme_heartbeat", "heartbeat = acme_heartbeat:HEARTBEAT")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield
    sys.modules.pop("acme_heartbeat", None)


def test_a_plugin_kind_is_probed_lost_and_found_by_the_units_loop(tmp_path, heartbeat_plugin):
    server = HeartbeatServer()
    threading.Thread(target=server.serve_forever, daemon=True).start()
    sim = start_simulated_unit(tmp_path / "state", seed=5, voters=2)
    with open(sim.config_path, "a", encoding="utf-8") as toml:  # [peripherals] is the last table
        toml.write(f'heartbeat = "socket://127.0.0.1:{server.server_address[1]}"\n')
    config = load_config(sim.config_path)
    assert "heartbeat" in config.peripherals
    unit = Unit(config, devices=sim.devices)
    unit.start()
    try:
        assert unit.submit("load_election", EM).result(timeout=PATIENCE).ok
        _until(lambda: unit.controller is not None, "the unit to boot with the heartbeat device")
        assert "heartbeat" in unit.devices
        lost = lambda: dict(unit.view.lost)  # noqa: E731
        # One probe goes unanswered (a late answer on a busy unit): not lost, as the kind says
        # (misses_before_lost=2); watched until two more probes were answered.
        seen_lost, heard = [], server.heard
        server.skip = 1
        _until(lambda: seen_lost.append("heartbeat" in lost()) or server.heard >= heard + 3,
               "three more probes of the heartbeat device")
        assert not any(seen_lost), "one unanswered probe listed the device as lost"
        server.answering.clear()  # the device stops answering
        _until(lambda: "heartbeat" in lost(), "the heartbeat device to be listed as lost")
        assert lost()["heartbeat"] == "no heartbeat" and unit.view.situation == "peripheral_lost"
        server.answering.set()  # it answers again: the unit finds it by itself
        _until(lambda: "heartbeat" not in lost(), "the heartbeat device to be found again")
    finally:
        unit.stop()
        sim.close()
        server.shutdown()
        server.server_close()
