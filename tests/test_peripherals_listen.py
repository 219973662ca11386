"""``ballotbox sim peripherals --listen``: the twins on real loopback ports, driven from stdin
and reached with the real drivers (scanner over TCP, camera over HTTP)."""
import signal
import socket
import subprocess
import sys

import pytest

from device.ballots.interpreter import BallotInterpreter
from device.election.definition import load_election
from hardware.interfaces import PeripheralError, PeripheralTimeout
from hardware.registry import open_peripheral


def _free_base_port() -> int:
    """A port with the four after it free too (the twins take PORT..PORT+4)."""
    for _ in range(50):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            base = s.getsockname()[1]
        if base > 65000:
            continue
        try:
            socks = [socket.create_server(("127.0.0.1", base + i)) for i in range(5)]
        except OSError:
            continue
        for s in socks:
            s.close()
        return base
    pytest.skip("no five consecutive free ports")


@pytest.fixture
def listening(tmp_path):
    base = _free_base_port()
    proc = subprocess.Popen([sys.executable, "-m", "device.cli.main", "sim", "peripherals",
                             "--listen", f"127.0.0.1:{base}", "--out", str(tmp_path / "slips")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                            text=True, bufsize=1)
    banner = [proc.stdout.readline() for _ in range(6)]
    assert banner[3].startswith("camera") and "stdin verbs" in banner[5], banner

    def say(line: str) -> str:
        proc.stdin.write(line + "\n")
        proc.stdin.flush()
        return proc.stdout.readline().rstrip("\n")

    yield proc, say, base
    if proc.poll() is None:
        proc.kill()
        proc.wait()


def test_sheet_camera_jam_clear_and_running_after_stdin_closes(listening):
    proc, say, base = listening
    scanner = open_peripheral("scanner", f"socket://127.0.0.1:{base}")
    camera = open_peripheral("camera", f"http://127.0.0.1:{base + 3}/frame.png")
    try:
        with pytest.raises(PeripheralTimeout):
            camera.capture(timeout=2.0)  # nothing in the path yet: HTTP 503
        ack = say("sheet north-ballot")
        assert ack.startswith("ok: ballot north-ballot at the scanner entry, marked council ")
        scanner.feed()
        reading = BallotInterpreter(load_election("demo")).interpret(camera.capture(timeout=5.0))
        assert reading.readable and reading.ballot_style == "north-ballot"
        marked = dict(part.split(" ", 1) for part in ack.split("marked ", 1)[1].split("; "))
        assert {cid: ", ".join(c.selections) for cid, c in reading.contests.items()} == marked
        scanner.accept()

        assert say("sheet south-ballot").startswith("ok:")
        assert say("jam") == "ok: the sheet is jammed in the scan path"
        assert scanner.status().jammed
        with pytest.raises(PeripheralError):
            scanner.feed()
        assert say("clear") == "ok: jammed sheet taken out"
        scanner.reset()
        assert not scanner.status().jammed
        assert say("jam") == "error: no sheet at the entry or in the path to jam"
        assert say("status").endswith("box 1, invalid compartment 0, slips printed 0")
        assert say("sheet nosuch").startswith("error: 'nosuch' is neither a ballot style")
    finally:
        scanner.close()
        camera.close()
    proc.stdin.close()
    assert proc.stdout.readline().startswith("stdin closed; the twins keep running until Ctrl-C")
    with pytest.raises(subprocess.TimeoutExpired):
        proc.wait(timeout=0.5)  # still serving
    proc.send_signal(signal.SIGINT)
    assert proc.wait(timeout=60) == 0  # a deadline on a loaded machine, not a wait
    assert proc.stdout.read().startswith("stopped; 0 slip(s) printed, 1 sheet(s) in the box")
    assert "Traceback" not in proc.stderr.read()


def test_help_lists_the_verbs():
    out = subprocess.run([sys.executable, "-m", "device.cli.main", "sim", "peripherals", "--help"],
                         capture_output=True, text=True).stdout
    for verb in ("sheet NAME|FILE", "mrz L1/L2[/L3]", "card PAYLOAD", "jam", "clear", "take"):
        assert f"  {verb} " in out


def test_ctrl_c_stops_the_twins_even_where_sigint_was_ignored(tmp_path):
    """A parent that ignores SIGINT (a shell's background job) passes that on across exec: the
    twins must still stop on Ctrl-C (this failed inside a loaded test run)."""
    proc = subprocess.Popen([sys.executable, "-m", "device.cli.main", "sim", "peripherals", "--listen",
                             f"127.0.0.1:{_free_base_port()}", "--out", str(tmp_path / "slips")],
                            stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
                            preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_IGN))
    try:
        while "Ctrl-C stops" not in proc.stdout.readline():
            pass
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=60) == 0
        assert proc.stdout.read().startswith("stopped;")
    finally:
        proc.kill()
        proc.wait()
