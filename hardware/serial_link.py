"""Framed, checked request/response messaging over a byte stream (a serial line or a socket).

The ballot scanner's motor/sensor controller speaks this link (see ``docs/protocol.md``).

Frame on the wire::

    STX(0x02) | LEN | SEQ | TYPE | PAYLOAD (LEN bytes) | CRC16 (big-endian)

``CRC16`` is CRC-16/CCITT-FALSE (poly 0x1021, init 0xFFFF; ``binascii.crc_hqx``) over
``LEN SEQ TYPE PAYLOAD``. ``TYPE`` is ``CMD`` (host -> device, PAYLOAD = command code + args),
``ACK`` (device: command received, still working), ``RES`` (device: command done, PAYLOAD =
result status + data) or ``NAK`` (either side: a frame arrived corrupted, send it again).

Reliability lives in ``LinkHost.request`` (the public method owns timeouts and retries, as in
python-can): it sends the command with a fresh sequence number and waits ``ack_timeout`` for
an ACK or the RES; silence or a NAK makes it send the same frame again (same SEQ). The device
executes a SEQ once and answers a repeated SEQ from its cache (ACK while busy, the cached RES
once done), so a lost or duplicated frame never runs a motion twice. SEQ 0 opens a session and
clears the device's cache (used at open and after a reconnect). ``FrameDecoder`` resynchronises
after garbage: it drops bytes up to the next STX and, on a CRC failure, rescans from the byte
after the false STX; a frame whose corrupted LEN promises more bytes than come is abandoned as
soon as a complete valid frame is found after its STX, so it cannot swallow what follows.
"""
from __future__ import annotations

import binascii
import time
from dataclasses import dataclass
from typing import Callable, Iterator, Protocol

from hardware.interfaces import PeripheralDisconnected, PeripheralTimeout

STX = 0x02
MAX_PAYLOAD = 250
HEADER = 4  # STX LEN SEQ TYPE
TRAILER = 2  # CRC16
HELLO = 0x00  # command code reserved by the link: opens a session (always sent with SEQ 0)


class FrameType:
    CMD = 0x43  # 'C'
    RES = 0x52  # 'R'
    ACK = 0x06
    NAK = 0x15


FRAME_TYPES = {FrameType.CMD: "CMD", FrameType.RES: "RES", FrameType.ACK: "ACK",
               FrameType.NAK: "NAK"}


def crc16(data: bytes) -> int:
    """CRC-16/CCITT-FALSE: check value of b'123456789' is 0x29B1."""
    return binascii.crc_hqx(data, 0xFFFF)


def _crc_ok(buf: bytearray, pos: int, length: int) -> bool:
    """Whether the frame of payload ``length`` starting at ``buf[pos]`` (STX) has a valid CRC."""
    end = pos + HEADER + length
    return crc16(bytes(buf[pos + 1:end])) == int.from_bytes(buf[end:end + TRAILER], "big")


@dataclass(frozen=True)
class Frame:
    seq: int
    type: int
    payload: bytes = b""

    def encode(self) -> bytes:
        if len(self.payload) > MAX_PAYLOAD:
            raise ValueError(f"payload of {len(self.payload)} bytes exceeds {MAX_PAYLOAD}")
        body = bytes((len(self.payload), self.seq & 0xFF, self.type)) + self.payload
        return bytes((STX,)) + body + crc16(body).to_bytes(2, "big")


class FrameDecoder:
    """Incremental decoder: feed it bytes, take complete, CRC-checked frames out.

    ``corrupt`` counts frames that were complete but failed their CRC (the caller NAKs them);
    ``skipped`` counts garbage bytes dropped while resynchronising.
    """

    def __init__(self) -> None:
        self._buf = bytearray()
        self.corrupt = 0
        self.skipped = 0

    def feed(self, data: bytes) -> Iterator[Frame]:
        self._buf += data
        buf = self._buf
        while True:
            start = buf.find(STX)
            if start < 0:
                self.skipped += len(buf)
                buf.clear()
                return
            if start:
                self.skipped += start
                del buf[:start]
            if len(buf) < HEADER:
                return
            length = buf[1]
            total = HEADER + length + TRAILER
            if length > MAX_PAYLOAD or buf[3] not in FRAME_TYPES:
                self.skipped += 1
                del buf[:1]  # a false STX: rescan from the next byte
                continue
            if len(buf) < total:
                if not self._skip_to_later_frame(buf):
                    return
                continue
            if not _crc_ok(buf, 0, length):
                self.corrupt += 1
                del buf[:1]
                continue
            frame = Frame(buf[2], buf[3], bytes(buf[HEADER:HEADER + length]))
            del buf[:total]
            yield frame

    def _skip_to_later_frame(self, buf: bytearray) -> bool:
        """A partial frame waits for more bytes; if a complete valid frame starts inside it,
        its LEN was corrupted: drop the bytes before that frame (True)."""
        pos = buf.find(STX, 1)
        while pos > 0:
            if len(buf) - pos >= HEADER + TRAILER:
                length = buf[pos + 1]
                end = pos + HEADER + length + TRAILER
                if length <= MAX_PAYLOAD and end <= len(buf) and _crc_ok(buf, pos, length):
                    self.skipped += pos
                    self.corrupt += 1
                    del buf[:pos]
                    return True
            pos = buf.find(STX, pos + 1)
        return False

    def reset(self) -> None:
        self._buf.clear()


class BytePort(Protocol):
    """What the link needs of a port: the subset of ``serial.Serial`` it uses."""

    timeout: float | None

    def read(self, size: int = 1) -> bytes: ...

    def write(self, data: bytes) -> int | None: ...

    @property
    def in_waiting(self) -> int: ...


@dataclass
class LinkStats:
    requests: int = 0
    retransmits: int = 0
    naks_received: int = 0
    corrupt_frames: int = 0
    stale_frames: int = 0


class LinkHost:
    """The host side of the link: ``request(code, args)`` -> result payload of the RES frame.

    Raises ``PeripheralDisconnected`` when the port fails or nothing at all answers
    ``retries + 1`` consecutive sends, ``PeripheralTimeout`` when the device acknowledged but did
    not finish within ``timeout``. ``monotonic`` is the wall clock used for I/O timeouts only
    (never for simulated mechanical time).
    """

    def __init__(self, port: BytePort, *, ack_timeout: float = 0.05, retries: int = 4,
                 monotonic: Callable[[], float] = time.monotonic,
                 reopen: Callable[[], BytePort] | None = None) -> None:
        self.port = port
        self.ack_timeout = ack_timeout
        self.retries = retries
        self._monotonic = monotonic
        self._reopen = reopen
        self._decoder = FrameDecoder()
        self._seq = 0
        self._session_open = False
        self.stats = LinkStats()

    def _next_seq(self) -> int:
        if not self._session_open:
            self._session_open = True
            return 0
        self._seq = self._seq % 255 + 1  # 1..255; 0 is reserved for "new session"
        return self._seq

    def _send(self, frame: Frame) -> None:
        try:
            self.port.write(frame.encode())
        except Exception as exc:  # serial.SerialException, OSError, socket errors
            self._lost(exc)

    def _lost(self, exc: Exception) -> None:
        self._session_open = False
        self._decoder.reset()
        if self._reopen is not None:
            try:
                self.port = self._reopen()
            except Exception:
                pass
        raise PeripheralDisconnected(f"link lost: {exc}") from None

    def _set_timeout(self, value: float) -> None:
        if self.port.timeout != value:  # pyserial reconfigures the tty on every assignment
            self.port.timeout = value

    def _read_frames(self, wait: float) -> list[Frame]:
        """Frames that complete within ``wait`` (empty list: the line stayed silent)."""
        end = self._monotonic() + wait
        frames: list[Frame] = []
        before = self._decoder.corrupt
        try:
            while True:
                self._set_timeout(max(end - self._monotonic(), 0.0))
                data = self.port.read(1)
                if not data:
                    break
                self._set_timeout(0)
                while self.port.in_waiting:
                    data += self.port.read(self.port.in_waiting)
                frames.extend(self._decoder.feed(data))
                if frames or self._decoder.corrupt != before:
                    break
        except Exception as exc:
            self._lost(exc)
        self.stats.corrupt_frames += self._decoder.corrupt - before
        if self._decoder.corrupt != before:
            frames.append(Frame(0, FrameType.NAK))  # treat like a NAK: resend at once
        return frames

    def request(self, code: int, args: bytes = b"", timeout: float = 1.0) -> bytes:
        """Send command ``code`` and return the RES payload; see the class doc for errors."""
        if not self._session_open:
            self._handshake(timeout)
        return self._exchange(self._next_seq(), bytes((code,)) + args, timeout)

    def _handshake(self, timeout: float) -> None:
        self._exchange(self._next_seq(), bytes((HELLO,)), timeout)

    def _exchange(self, seq: int, payload: bytes, timeout: float) -> bytes:
        self.stats.requests += 1
        frame = Frame(seq, FrameType.CMD, payload)
        deadline = self._monotonic() + timeout
        silent_sends = 0
        acked = False
        self._send(frame)
        while True:
            now = self._monotonic()
            if now >= deadline:
                self._session_open = self._session_open and acked
                raise PeripheralTimeout(f"no result for command 0x{payload[0]:02x} within {timeout:g} s")
            heard = False
            resend = False
            for f in self._read_frames(min(self.ack_timeout, deadline - now)):
                if f.type == FrameType.NAK:
                    self.stats.naks_received += 1
                    heard = resend = True
                elif f.seq != seq:
                    self.stats.stale_frames += 1  # a duplicate or a late answer to an old SEQ
                elif f.type == FrameType.ACK:
                    heard = acked = True
                elif f.type == FrameType.RES:
                    return f.payload
            if heard and not resend:
                silent_sends = 0
                continue
            if not heard:
                silent_sends += 1
                if silent_sends > self.retries:
                    self._session_open = False
                    raise PeripheralDisconnected(
                        f"no answer after {silent_sends} attempts (command 0x{payload[0]:02x})")
            self.stats.retransmits += 1
            self._send(frame)


class LinkDevice:
    """The device side: decode commands, run each SEQ once, answer repeats from the cache.

    ``handle(payload) -> result`` runs one command; it may return None for "still working",
    and the owner calls ``complete(result)`` later (until then a repeated SEQ gets an ACK).
    ``write`` sends bytes to the host. Used by the simulated scanner twin; a real controller's
    firmware would do the same.
    """

    def __init__(self, handle: Callable[[bytes], bytes | None], write: Callable[[bytes], None]) -> None:
        self._handle = handle
        self._write = write
        self._decoder = FrameDecoder()
        self._last_seq: int | None = None
        self._last_result: bytes | None = None
        self.executed = 0

    def receive(self, data: bytes) -> None:
        before = self._decoder.corrupt
        frames = list(self._decoder.feed(data))
        if self._decoder.corrupt != before:
            self._write(Frame(0, FrameType.NAK).encode())
        for f in frames:
            if f.type == FrameType.CMD and f.payload:
                self._on_command(f)
            # NAK from the host: it will resend its command; nothing to do here.

    def _on_command(self, f: Frame) -> None:
        if f.seq == self._last_seq and f.seq != 0:
            if self._last_result is None:
                self._write(Frame(f.seq, FrameType.ACK).encode())
            else:
                self._write(Frame(f.seq, FrameType.RES, self._last_result).encode())
            return
        self._last_seq, self._last_result = f.seq, None
        self.executed += 1
        result = self._handle(f.payload)
        if result is None:
            self._write(Frame(f.seq, FrameType.ACK).encode())
        else:
            self.complete(result)

    def complete(self, result: bytes) -> None:
        """Finish the command in progress: cache its result and send the RES frame."""
        self._last_result = result
        self._write(Frame(self._last_seq or 0, FrameType.RES, result).encode())
