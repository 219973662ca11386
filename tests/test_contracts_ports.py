"""The port wrappers' declared contract (issue 20 §2): ``spy+`` and ``fault+`` wrap a real port and
forward exactly the members of the ``SerialPort`` protocol, one by one (``ForwardingPort``), over a
real pty; nothing undeclared passes through (there is no ``__getattr__``)."""
from __future__ import annotations

import io
import os
import random
import time

import pytest

from hardware.port_wrappers import FaultyPort, ForwardingPort, LineNoise, SerialPort, SpyPort
from hardware.registry import _wrap

DECLARED = {"timeout", "write_timeout", "in_waiting", "read", "write", "reset_input_buffer", "close"}


@pytest.fixture
def pty_port():
    serial = pytest.importorskip("serial")
    main_fd, sub_fd = os.openpty()
    port = serial.Serial(os.ttyname(sub_fd), timeout=0, write_timeout=5)
    yield main_fd, port
    port.close()
    os.close(main_fd)
    os.close(sub_fd)


def wait_for_bytes(port: SerialPort, n: int) -> None:
    deadline = time.monotonic() + 30  # a condition with a generous deadline, never a sleep
    while port.in_waiting < n:
        assert time.monotonic() < deadline, "the pty never delivered the bytes"


def test_the_forwarded_members_are_the_protocols():
    def public(cls: type) -> set[str]:
        return {n for n in (*getattr(cls, "__annotations__", {}), *vars(cls)) if not n.startswith("_")}

    protocol = set().union(*(public(c) for c in SerialPort.__mro__ if c.__module__.startswith("hardware.")))
    assert public(ForwardingPort) == protocol == DECLARED


def test_spy_and_fault_wrappers_forward_every_declared_member_over_a_real_pty(pty_port):
    main_fd, port = pty_port
    sink = io.StringIO()
    wrapped = _wrap(port, ["fault", "spy"], {"seed": "3"})  # fault+spy+serial://: fault outermost
    assert isinstance(wrapped, FaultyPort) and isinstance(wrapped.port, SpyPort)
    wrapped.port.sink = sink
    wrapped.timeout = 0.5
    wrapped.write_timeout = 2.0
    assert (port.timeout, port.write_timeout) == (0.5, 2.0) == (wrapped.timeout, wrapped.write_timeout)
    os.write(main_fd, b"\x02hello")
    wait_for_bytes(wrapped, 6)
    assert wrapped.read(6) == b"\x02hello"
    assert wrapped.write(b"ok") == 2 and os.read(main_fd, 2) == b"ok"
    os.write(main_fd, b"stale")
    wait_for_bytes(wrapped, 5)
    wrapped.reset_input_buffer()
    assert port.in_waiting == 0
    assert sink.getvalue().splitlines() == ["RX 02 68 65 6c 6c 6f", "TX 6f 6b"]
    wrapped.close()
    assert not port.is_open


def test_nothing_undeclared_passes_through(pty_port):
    _, port = pty_port
    noise = LineNoise(random.Random(1))
    for wrapper in (SpyPort(port, io.StringIO()), FaultyPort(port, noise)):
        for undeclared in ("is_open", "fileno", "baudrate"):
            assert hasattr(port, undeclared)
            with pytest.raises(AttributeError):
                getattr(wrapper, undeclared)
