"""Wrappers around any pyserial-like port: traffic recording and line-fault injection.

As pyserial's ``spy://`` does, recording and faults are wrappers, never inside a driver:

- ``SpyPort(port, sink)``: writes one line per read or write, ``TX``/``RX`` + hex, to ``sink``
  (a text file object) — ``spy+serial:///dev/ttyUSB0?spy_log=/tmp/scanner.log``.
- ``FaultyPort(port, noise)``: applies ``LineNoise`` to every write and read — a write lost
  (a dropped frame), a write repeated (a duplicated frame), bits flipped at a byte rate —
  ``fault+socket://127.0.0.1:7000?corrupt=0.001&drop=0.01&dup=0.01&seed=7``.

Both forward the rest of the port, member by member, through ``ForwardingPort``: the members
a driver may use are declared once, in the ``SerialPort`` protocol.

``LineNoise`` draws from a seeded ``random.Random``: a seed reproduces the same faults. The
simulated twins use it too, for the noise of their end of the line.
"""
from __future__ import annotations

import random
from typing import Protocol, TextIO

from hardware.serial_link import BytePort


class LineNoise:
    """Faults on one byte stream: drop/duplicate a whole write, flip bits at a byte rate."""

    def __init__(self, rng: random.Random, *, corrupt: float = 0.0, drop: float = 0.0,
                 dup: float = 0.0) -> None:
        self.rng, self.corrupt_rate, self.drop_rate, self.dup_rate = rng, corrupt, drop, dup
        self.dropped = self.duplicated = self.corrupted_bytes = 0

    def apply(self, data: bytes) -> list[bytes]:
        """The writes that reach the wire for one write of ``data`` (0, 1 or 2 of them)."""
        rng = self.rng
        if self.drop_rate and rng.random() < self.drop_rate:
            self.dropped += 1
            return []
        if self.corrupt_rate:
            data = self.corrupt(data)
        if self.dup_rate and rng.random() < self.dup_rate:
            self.duplicated += 1
            return [data, data]
        return [data]

    def corrupt(self, data: bytes) -> bytes:
        rate, rng, out = self.corrupt_rate, self.rng, None
        for i in range(len(data)):
            if rng.random() < rate:
                out = out or bytearray(data)
                out[i] ^= 1 << rng.randrange(8)
                self.corrupted_bytes += 1
        return bytes(out) if out is not None else data


class SerialPort(BytePort, Protocol):
    """Every member of a pyserial-like port that a driver of ``hardware/`` uses (``serial.Serial``
    has them, and so do the simulator's ports): what a wrapper must forward."""

    write_timeout: float | None

    def reset_input_buffer(self) -> None: ...

    def close(self) -> None: ...


class ForwardingPort:
    """A ``SerialPort`` forwarding each member to ``port``, one by one (as ``ForwardingStore``
    does for stores): a wrapper overrides what it changes (``read``, ``write``)."""

    def __init__(self, port: SerialPort) -> None:
        self.port = port

    @property
    def timeout(self) -> float | None:
        return self.port.timeout

    @timeout.setter
    def timeout(self, value: float | None) -> None:
        self.port.timeout = value

    @property
    def write_timeout(self) -> float | None:
        return self.port.write_timeout

    @write_timeout.setter
    def write_timeout(self, value: float | None) -> None:
        self.port.write_timeout = value

    @property
    def in_waiting(self) -> int:
        return self.port.in_waiting

    def read(self, size: int = 1) -> bytes:
        return self.port.read(size)

    def write(self, data: bytes) -> int | None:
        return self.port.write(data)

    def reset_input_buffer(self) -> None:
        self.port.reset_input_buffer()

    def close(self) -> None:
        self.port.close()


class SpyPort(ForwardingPort):
    def __init__(self, port: SerialPort, sink: TextIO) -> None:
        super().__init__(port)
        self.sink = sink

    def write(self, data: bytes) -> int | None:
        self.sink.write(f"TX {bytes(data).hex(' ')}\n")
        return self.port.write(data)

    def read(self, size: int = 1) -> bytes:
        data = self.port.read(size)
        if data:
            self.sink.write(f"RX {data.hex(' ')}\n")
        return data


class FaultyPort(ForwardingPort):
    def __init__(self, port: SerialPort, tx: LineNoise, rx: LineNoise | None = None) -> None:
        super().__init__(port)
        self.tx, self.rx = tx, rx

    def write(self, data: bytes) -> int:
        for chunk in self.tx.apply(bytes(data)):
            self.port.write(chunk)
        return len(data)

    def read(self, size: int = 1) -> bytes:
        data = self.port.read(size)
        if data and self.rx is not None and self.rx.corrupt_rate:
            data = self.rx.corrupt(data)
        return data
