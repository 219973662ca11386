"""The optical fingerprint sensor of the ID desk (ZhianTec R30x / AS608 family) on a UART.

URL forms (``FingerprintSensor(url)``, or ``open_peripheral("fingerprint", url)``, which also
takes ``password`` and ``timeout`` in the query; the sensor's UART runs at 57,600 baud by
default, so give ``baud=57600``: the registry's serial default is 115,200)::

    serial:///dev/ttyUSB0?baud=57600&password=0&timeout=2
    socket://127.0.0.1:7004

Every exchange is a packet: ``EF 01`` header, the 4-byte module address (``FF FF FF FF`` by
default), a 1-byte packet id (command ``01``, data ``02``, acknowledge ``07``, end of data
``08``), a 2-byte big-endian length (payload + 2), the payload and a 2-byte checksum: the
16-bit sum of the packet id, the length bytes and the payload. A command packet carries an
instruction code and its arguments; the sensor answers with one acknowledge packet whose first
payload byte is a confirm code (``CONFIRM_CODES``), then the instruction's data. A template
travels as data packets (the size ``ReadSysPara`` reports, 128 bytes by default), the last
one an end-of-data packet.

One match (``FingerprintSensor.match``), as the unit does it: GenImg (capture; "no finger"
ends the attempt there, so waiting for a press costs one short exchange), Img2Tz into char
buffer 1, DownChar the voter's enrolled template into char buffer 2, Match the two buffers ->
a score. The unit decides by comparing the score with the election package's
threshold (``FingerMatch.matched_at``); the sensor's own verdict at its security level is
kept as ``sensor_matched``.

The commands are sent by Adafruit's maintained client of this protocol
(``adafruit_fingerprint``, which runs on CPython with a pyserial port as its UART). Its
receive side reads fixed-size answers and does not check checksums, so ``_CheckedClient``
replaces it: packets are found by their header (garbage on the line is skipped), the address,
packet id, length and checksum are checked, and every read has a deadline. A confirm code
other than OK, a corrupted packet, silence and a lost port each raise a ``FingerprintError``
(a ``PeripheralError``) whose ``reason`` is one of ``REASONS``.
"""
from __future__ import annotations

import enum
import struct
import time
from dataclasses import dataclass
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

import adafruit_fingerprint

from hardware.fingerprint import (FingerMatch, FingerprintDevice, FingerprintDisconnected,
                                  FingerprintError, FingerprintTimeout, NoFinger, PoorImage,
                                  SensorInfo, WrongPassword)
from hardware.interfaces import PortOwner

__all__ = ["FingerMatch", "FingerprintDisconnected", "FingerprintError", "FingerprintSensor",
           "FingerprintTimeout", "NoFinger", "PoorImage", "SensorInfo", "WrongPassword"]

HEADER = b"\xef\x01"
DEFAULT_ADDRESS = 0xFFFFFFFF
DEFAULT_BAUD = 57600
TEMPLATE_BYTES = 512  # one char buffer's characteristics file
MAX_PACKET_PAYLOAD = 256 + 2  # the largest data packet (256 bytes) + its checksum field
ACK_OVERHEAD = 11  # header 2, address 4, id 1, length 2, checksum 2
DATA_PACKET_BYTES = {0: 32, 1: 64, 2: 128, 3: 256}  # ReadSysPara's packet size code -> bytes


class PacketId(enum.IntEnum):
    COMMAND = 0x01
    DATA = 0x02
    ACK = 0x07
    END_DATA = 0x08


class Instruction(enum.IntEnum):
    """The instructions the unit uses (the first payload byte of a command packet)."""

    GEN_IMG = 0x01  # capture the finger on the glass into the image buffer
    IMG2TZ = 0x02  # image -> characteristics, into char buffer 1 or 2 (argument)
    MATCH = 0x03  # compare char buffers 1 and 2; answer: score (2 bytes)
    DOWN_CHAR = 0x09  # receive a char buffer (argument) from the host as data packets
    READ_SYS_PARA = 0x0F  # 16 bytes: status, system id, library size, security level, ...
    VFY_PWD = 0x13  # the 4-byte password (argument)
    TEMPLATE_NUM = 0x1D  # templates stored in the sensor's flash (2 bytes)


# instruction -> (its arguments, the acknowledge's payload after the confirm code)
INSTRUCTION_LAYOUT = {
    Instruction.GEN_IMG: ("-", "-"),
    Instruction.IMG2TZ: ("buffer (1 or 2)", "-"),
    Instruction.MATCH: ("-", "score (2 bytes)"),
    Instruction.DOWN_CHAR: ("buffer (1 or 2); then the template as data packets, "
                            "the last an end-of-data packet; no acknowledge follows them", "-"),
    Instruction.READ_SYS_PARA: ("-", "status, system id, library size, security level "
                                "(2 bytes each), address (4), packet size code, baud / 9600 (2 each)"),
    Instruction.VFY_PWD: ("password (4 bytes)", "-"),
    Instruction.TEMPLATE_NUM: ("-", "templates stored (2 bytes)"),
}


@dataclass(frozen=True)
class ConfirmCode:
    code: int
    name: str
    reason: str  # "" for OK and for a no-match verdict, which are answers, not errors
    error: type[FingerprintError] | None
    meaning: str


# Every confirm code the unit may meet, once (docs/protocol.md is generated from this table).
CONFIRM_CODES = {c.code: c for c in (
    ConfirmCode(0x00, "OK", "", None, "done"),
    ConfirmCode(0x01, "PACKET_ERROR", "packet_error", FingerprintError,
                "the sensor received a corrupted packet (bad checksum)"),
    ConfirmCode(0x02, "NO_FINGER", "no_finger", NoFinger, "no finger on the sensor"),
    ConfirmCode(0x03, "IMAGE_FAILED", "image_failed", PoorImage, "the capture failed"),
    ConfirmCode(0x06, "IMAGE_MESSY", "image_messy", PoorImage,
                "image too messy to extract characteristics"),
    ConfirmCode(0x07, "TOO_FEW_FEATURES", "too_few_features", PoorImage,
                "too few feature points (partial or faint press)"),
    ConfirmCode(0x08, "NO_MATCH", "", None, "the two char buffers do not match at the "
                "sensor's security level (the score is still given)"),
    ConfirmCode(0x0D, "CHAR_LOAD_FAILED", "bad_template", FingerprintError,
                "the characteristics could not be loaded (not a template)"),
    ConfirmCode(0x0E, "DATA_RECEIVE_FAILED", "packet_error", FingerprintError,
                "the data packets that followed the command did not arrive whole"),
    ConfirmCode(0x13, "WRONG_PASSWORD", "wrong_password", WrongPassword, "wrong password"),
    ConfirmCode(0x15, "NO_IMAGE", "image_failed", PoorImage,
                "no valid image in the buffer to extract characteristics from"),
)}
# Reasons raised by the driver itself, beside the sensor's confirm codes.
LINK_REASONS = {
    "bad_checksum": "an answer arrived with a wrong checksum",
    "timeout": "no complete answer within the command's timeout",
    "disconnected": "the port failed",
    "garbled": "an answer that is not a packet of this protocol (wrong address, id or length)",
    "bad_template": "a template that is not one char buffer's characteristics file",
    "sensor_error": "a confirm code the unit does not know",
}
REASONS = frozenset({c.reason for c in CONFIRM_CODES.values() if c.reason} | set(LINK_REASONS))


def checksum(packet_id: int, payload: bytes) -> int:
    """The 16-bit sum of the packet id, the two length bytes and the payload."""
    length = len(payload) + 2
    return (packet_id + (length >> 8) + (length & 0xFF) + sum(payload)) & 0xFFFF


def encode_packet(packet_id: int, payload: bytes, address: int = DEFAULT_ADDRESS) -> bytes:
    length = len(payload) + 2
    return (HEADER + address.to_bytes(4, "big") + bytes((packet_id,)) + length.to_bytes(2, "big")
            + payload + checksum(packet_id, payload).to_bytes(2, "big"))


@dataclass(frozen=True)
class Packet:
    packet_id: int
    payload: bytes


class PacketDecoder:
    """Incremental decoder shared by the driver and the sensor's twin: feed bytes, take packets.

    Bytes before a header are garbage and are skipped; a header followed by a wrong address,
    an unknown packet id or an impossible length is a false header (skipped, rescanned from the
    next byte). A complete packet with a wrong checksum is returned as ``bad=True``."""

    HEAD = 9  # header 2, address 4, id 1, length 2

    def __init__(self, address: int = DEFAULT_ADDRESS) -> None:
        self._address = address.to_bytes(4, "big")
        self._buf = bytearray()
        self.skipped = 0

    def feed(self, data: bytes) -> list[tuple[Packet, bool]]:
        """Complete packets, each with ``True`` when its checksum is wrong."""
        self._buf += data
        buf = self._buf
        out: list[tuple[Packet, bool]] = []
        while True:
            start = buf.find(HEADER)
            if start < 0:
                keep = 1 if buf[-1:] == HEADER[:1] else 0
                self.skipped += len(buf) - keep
                del buf[:len(buf) - keep]
                return out
            self.skipped += start
            del buf[:start]
            if len(buf) < self.HEAD:
                return out
            length = int.from_bytes(buf[7:9], "big")
            if (bytes(buf[2:6]) != self._address or buf[6] not in PacketId._value2member_map_
                    or not 2 <= length <= MAX_PACKET_PAYLOAD):
                self.skipped += 1
                del buf[:1]
                continue
            total = self.HEAD + length
            if len(buf) < total:
                return out
            payload = bytes(buf[self.HEAD:total - 2])
            bad = int.from_bytes(buf[total - 2:total], "big") != checksum(buf[6], payload)
            out.append((Packet(buf[6], payload), bad))
            del buf[:total]

    def reset(self) -> None:
        self._buf.clear()


def open_byte_port(url: str) -> Any:
    """A pyserial port for ``serial://PATH?baud=N`` or ``socket://HOST:PORT``."""
    import serial

    parts = urlsplit(url)
    options = dict(parse_qsl(parts.query))
    try:
        if parts.scheme == "serial":
            return serial.Serial(parts.path, baudrate=int(options.get("baud", DEFAULT_BAUD)),
                                 timeout=0, write_timeout=5)
        if parts.scheme == "socket":
            return serial.serial_for_url(f"socket://{parts.netloc}", timeout=0, write_timeout=5)
    except (serial.SerialException, OSError, ValueError) as exc:
        raise FingerprintDisconnected("disconnected", f"cannot open {url}: {exc}") from None
    raise ValueError(f"{url!r}: a fingerprint sensor is reached at serial:// or socket://")


class _LibraryPort:
    """What the library writes to: its packets are lists of ints; the port takes bytes."""

    def __init__(self, owner: FingerprintSensor) -> None:
        self._owner = owner

    def write(self, data: Any) -> None:
        self._owner._write(bytes(data))


class _CheckedClient(adafruit_fingerprint.Adafruit_Fingerprint):
    """Adafruit's client, its receive side replaced by ``FingerprintSensor``'s checked reads.

    The library's constructor talks to the sensor at once; ``FingerprintSensor.probe`` does
    that explicitly instead, so the constructor here only sets what the library's methods use."""

    def __init__(self, owner: FingerprintSensor, password: int, address: int) -> None:
        self._owner = owner
        self._uart = _LibraryPort(owner)
        self.password = tuple(password.to_bytes(4, "big"))
        self.address = list(address.to_bytes(4, "big"))
        self.data_packet_size = 2
        self.last_confirm: int | None = None

    def _get_packet(self, expected: int) -> list[int]:
        """The library asks for ``expected`` bytes: a whole acknowledge of that size."""
        packet = self._owner._read_packet((PacketId.ACK,))
        self.last_confirm = packet.payload[0]
        if len(packet.payload) != expected - ACK_OVERHEAD:
            if self.last_confirm:  # an error answer may be shorter: its code says it all
                self._owner._confirmed(self.last_confirm)
            raise FingerprintError("garbled", f"an acknowledge of {len(packet.payload)} bytes "
                                              f"where {expected - ACK_OVERHEAD} were due")
        return list(packet.payload)


class FingerprintSensor(PortOwner, FingerprintDevice):
    """The unit's driver: ``probe()``, ``match(template)``, ``close()``.

    ``port`` is a URL (see the module doc) or an open pyserial-like port. ``timeout`` bounds
    each answer (a capture answers once the image is taken); ``monotonic`` is the clock of
    those deadlines."""

    def __init__(self, port: str | Any, *, password: int = 0, address: int = DEFAULT_ADDRESS,
                 timeout: float = 2.0, monotonic: Callable[[], float] = time.monotonic) -> None:
        self.port = open_byte_port(port) if isinstance(port, str) else port
        self.timeout = timeout
        self._monotonic = monotonic
        self._decoder = PacketDecoder(address)
        self._ready: list[tuple[Packet, bool]] = []
        self._client = _CheckedClient(self, password, address)
        self.info: SensorInfo | None = None

    # --- the byte side ----------------------------------------------------------------------
    def _write(self, data: bytes) -> None:
        try:
            self.port.write(data)
        except Exception as exc:  # serial.SerialException, OSError
            raise FingerprintDisconnected("disconnected", f"link lost: {exc}") from None

    def _set_timeout(self, value: float) -> None:
        if self.port.timeout != value:  # pyserial reconfigures the tty on every assignment
            self.port.timeout = value

    def _read_packet(self, wanted: tuple[PacketId, ...]) -> Packet:
        deadline = self._monotonic() + self.timeout
        while not self._ready:
            remaining = deadline - self._monotonic()
            if remaining <= 0:
                self._decoder.reset()
                raise FingerprintTimeout("timeout", f"no answer within {self.timeout:g} s")
            try:
                self._set_timeout(remaining)
                data = self.port.read(1)
                if data and self.port.in_waiting:
                    data += self.port.read(self.port.in_waiting)
            except Exception as exc:
                raise FingerprintDisconnected("disconnected", f"link lost: {exc}") from None
            self._ready += self._decoder.feed(data)
        packet, bad = self._ready.pop(0)
        self._check(packet, bad, wanted)
        return packet

    def _check(self, packet: Packet, bad: bool, wanted: tuple[PacketId, ...]) -> None:
        if bad:
            self._reset()
            raise FingerprintError("bad_checksum", LINK_REASONS["bad_checksum"])
        if packet.packet_id not in wanted or (packet.packet_id == PacketId.ACK and not packet.payload):
            self._reset()
            raise FingerprintError("garbled", f"unexpected packet id 0x{packet.packet_id:02x}")

    def _reset(self) -> None:
        self._decoder.reset()
        self._ready.clear()

    def _drain(self) -> None:
        """Bytes that arrived before a command are stale (a late answer, noise): drop them."""
        self._reset()
        try:
            self._set_timeout(0)
            while self.port.in_waiting:
                self.port.read(self.port.in_waiting)
        except Exception as exc:
            raise FingerprintDisconnected("disconnected", f"link lost: {exc}") from None

    # --- commands ---------------------------------------------------------------------------
    def _confirmed(self, code: int | None, allow: tuple[int, ...] = (0x00,)) -> int:
        if code is None:
            raise FingerprintError("garbled", "an acknowledge without a confirm code")
        if code in allow:
            return code
        known = CONFIRM_CODES.get(code)
        if known is None or known.error is None:
            raise FingerprintError("sensor_error", f"unexpected confirm code 0x{code:02x}")
        raise known.error(known.reason, known.meaning)

    def _call(self, method: Callable[..., Any], *args: Any) -> Any:
        self._drain()
        self._client.last_confirm = None
        try:
            return method(*args)
        except (RuntimeError, struct.error, IndexError) as exc:  # the library's own checks
            code = self._client.last_confirm
            if code:  # read_sysparam raises on a confirm code other than OK
                self._confirmed(code)
            raise FingerprintError("garbled", f"answer not understood: {exc}") from None

    def probe(self, timeout: float | None = None) -> SensorInfo:
        """Verify the password and read the system parameters (raises ``WrongPassword``...);
        ``timeout`` bounds each answer (default: the driver's)."""
        saved, self.timeout = self.timeout, timeout or self.timeout
        try:
            return self._probe()
        finally:
            self.timeout = saved

    def _probe(self) -> SensorInfo:
        c = self._client
        self._confirmed(self._call(c.verify_password))
        self._call(c.read_sysparam)  # the library raises on a confirm code other than OK
        self._confirmed(self._call(c.count_templates))
        self.info = SensorInfo(c.status_register, c.system_id, c.library_size, c.security_level,
                               int.from_bytes(c.device_address, "big"),
                               DATA_PACKET_BYTES.get(c.data_packet_size, 0), c.baudrate * 9600,
                               c.template_count)
        return self.info

    @staticmethod
    def _check_template(template: bytes) -> None:
        if len(template) != TEMPLATE_BYTES:
            raise FingerprintError("bad_template", f"a template is {TEMPLATE_BYTES} bytes, "
                                                   f"got {len(template)}")

    def download_template(self, template: bytes, buffer: int = 2) -> None:
        """DownChar: the voter's enrolled template into a char buffer."""
        self._check_template(template)
        if self.info is None:
            self.probe()
        self._call(self._client.send_fpdata, list(template), "char", buffer)
        self._confirmed(self._client.last_confirm)

    def capture(self) -> None:
        """GenImg: take the image of the finger on the glass (raises ``NoFinger``...)."""
        self._confirmed(self._call(self._client.get_image))

    def extract(self, buffer: int = 1) -> None:
        """Img2Tz: the image's characteristics into a char buffer (raises ``PoorImage``)."""
        self._confirmed(self._call(self._client.image_2_tz, buffer))

    def compare(self) -> FingerMatch:
        """Match char buffers 1 and 2: the score and the sensor's own verdict."""
        code = self._confirmed(self._call(self._client.compare_templates), allow=(0x00, 0x08))
        return FingerMatch(int(self._client.confidence[0]), code == 0x00)

    def match(self, template: bytes) -> FingerMatch:
        """One check-in: capture, extract into buffer 1, download ``template`` into buffer 2,
        match. Raises a ``FingerprintError`` (``NoFinger``, ``PoorImage``...) on failure.

        The capture comes first: while no finger is on the glass the unit asks again and again,
        and each ask is then one short GenImg exchange, not a 512-byte template download too."""
        self._check_template(template)
        if self.info is None:
            self.probe()
        self.capture()
        self.extract(buffer=1)
        self.download_template(template, buffer=2)
        return self.compare()
