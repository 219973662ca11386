"""The virtual optical fingerprint sensor (ZhianTec R30x / AS608): the far end of its UART.

It speaks the packets of ``hardware.fingerprint_serial`` (decoded with the same
``PacketDecoder``) and answers VfyPwd, ReadSysPara, TemplateNum, DownChar, GenImg, Img2Tz and
Match as the sensor does. A simulated finger lies on the glass (``place``): the enrolled
voter's (``genuine``: the finger of whatever template the unit downloaded), another person's
(``impostor``), ``none``, or the voter's pressed ``wet``, ``dry`` or ``partial``. Capture and
extraction fail and Match scores are drawn from the distributions of
``sim/twins/fingerprint_profile.json`` (``sim.twins.fingerprint_profile``), from a seeded
``random.Random``: a seed reproduces every score.

Line faults on demand (the control channel's hands): ``corrupt_next_answer`` (a wrong
checksum), ``go_silent``/``wake`` (no answer: the driver times out), ``inject_garbage``
(bytes that are not a packet, before the next answer), ``power_cut`` (silent, buffers lost).
A command packet that arrives with a wrong checksum is answered with confirm code 01, as
the sensor does; a packet for another address is ignored (the host times out). Line time
(10 bits per byte at the profile's baud) and the sensor's own time per command are charged
to the injected ``advance(seconds)``; the bench passes ``time.sleep`` so that a pty runs at
the sensor's pace.

Not modelled: the sensor's flash library (Store, Search, LoadChar), enrolment (RegModel),
image upload, the LED, a baud change.
"""
from __future__ import annotations

import hashlib
import random
import threading
from typing import Callable

from hardware.fingerprint_serial import (DATA_PACKET_BYTES, DEFAULT_ADDRESS, TEMPLATE_BYTES,
                                         Instruction, PacketDecoder, PacketId, encode_packet)
from sim.twins.fingerprint_profile import FINGERS, FingerprintProfile, load_fingerprint_profile

OK, PACKET_ERROR, NO_FINGER, IMAGE_FAILED = 0x00, 0x01, 0x02, 0x03
IMAGE_MESSY, TOO_FEW_FEATURES, NO_MATCH = 0x06, 0x07, 0x08
WRONG_PASSWORD, NO_IMAGE = 0x13, 0x15
PACKET_SIZE_CODE = 2  # 128-byte data packets, the sensor's default


def make_template(person: str) -> bytes:
    """A synthetic 512-byte characteristics file for ``person`` (the twin never reads its
    content: a genuine finger matches whatever template was downloaded)."""
    out = bytearray()
    counter = 0
    while len(out) < TEMPLATE_BYTES:
        out += hashlib.sha256(f"{person}:{counter}".encode()).digest()
        counter += 1
    out[0:2] = b"\x03\x01"  # the sensors' characteristics files start with a small header
    return bytes(out[:TEMPLATE_BYTES])


class FingerprintTwin:
    def __init__(self, profile: FingerprintProfile | None = None, rng: random.Random | None = None,
                 advance: Callable[[float], None] | None = None, *, password: int = 0,
                 address: int = DEFAULT_ADDRESS) -> None:
        self.profile = profile or load_fingerprint_profile()
        self.rng = rng or random.Random(0)
        self._advance = advance or (lambda s: None)
        self.lock = threading.RLock()
        self.password = password
        self.address = address
        self._decoder = PacketDecoder(address)
        self._write: Callable[[bytes], None] | None = None
        self.finger = "none"
        self.image: str | None = None  # the finger condition captured by GenImg
        self.char_buffers: dict[int, str | bytes | None] = {1: None, 2: None}
        self._download: tuple[int, bytearray] | None = None  # DownChar in progress
        self.silent = False
        self._corrupt_next = False
        self._garbage = b""
        self.commands: list[str] = []  # names of executed instructions, in order
        self.scores: list[int] = []
        self.sensor_seconds = 0.0
        self.line_seconds = 0.0

    # --- the world's hands (control channel) ------------------------------------------------
    def place(self, finger: str) -> None:
        if finger not in FINGERS:
            raise ValueError(f"unknown finger {finger!r} (known: {', '.join(FINGERS)})")
        with self.lock:
            self.finger = finger

    def corrupt_next_answer(self) -> None:
        with self.lock:
            self._corrupt_next = True

    def go_silent(self) -> None:
        with self.lock:
            self.silent = True

    def wake(self) -> None:
        with self.lock:
            self.silent = False

    def inject_garbage(self, data: bytes, now: bool = False) -> None:
        """Line noise: ``data`` goes out just before the next answer (or at once)."""
        with self.lock:
            if now:
                self._send_raw(data)
            else:
                self._garbage += data

    def power_cut(self) -> None:
        """The sensor loses power: silent, and its image and char buffers are gone."""
        with self.lock:
            self.silent = True
            self.image, self._download = None, None
            self.char_buffers = {1: None, 2: None}
            self._decoder.reset()

    # --- byte side ------------------------------------------------------------------------
    def attach(self, write: Callable[[bytes], None] | None) -> None:
        self._write = write

    def _charge(self, seconds: float, line: bool = False) -> None:
        if line:
            self.line_seconds += seconds
        else:
            self.sensor_seconds += seconds
        self._advance(seconds)

    def _line(self, n: int) -> None:
        self._charge(n * 10 / self.profile.baud, line=True)

    def _send_raw(self, data: bytes) -> None:
        if self._write is not None:
            self._line(len(data))
            self._write(data)

    def _send(self, packet_id: int, payload: bytes) -> None:
        if self.silent:
            return
        data = bytearray(self._garbage + encode_packet(packet_id, payload, self.address))
        self._garbage = b""
        if self._corrupt_next:
            self._corrupt_next = False
            data[-1] ^= 0x5A
        self._send_raw(bytes(data))

    def _ack(self, code: int, data: bytes = b"") -> None:
        self._send(PacketId.ACK, bytes((code,)) + data)

    def receive(self, data: bytes) -> None:
        if self.silent:
            return
        self._line(len(data))
        for packet, bad in self._decoder.feed(data):
            if self._download is not None and packet.packet_id in (PacketId.DATA, PacketId.END_DATA):
                self._on_data(packet.packet_id, packet.payload, bad)
            elif bad:
                self._ack(PACKET_ERROR)
            elif packet.packet_id == PacketId.COMMAND and packet.payload:
                self._download = None
                self._execute(packet.payload[0], packet.payload[1:])

    # --- instructions -----------------------------------------------------------------------
    def _execute(self, code: int, args: bytes) -> None:
        try:
            instruction = Instruction(code)
        except ValueError:
            self._ack(PACKET_ERROR)
            return
        self.commands.append(instruction.name)
        if instruction is Instruction.VFY_PWD:
            ok = len(args) == 4 and int.from_bytes(args, "big") == self.password
            self._ack(OK if ok else WRONG_PASSWORD)
        elif instruction is Instruction.READ_SYS_PARA:
            p = self.profile
            params = (0, 0x0009, p.library_size, p.security_level)
            self._ack(OK, b"".join(v.to_bytes(2, "big") for v in params)
                      + self.address.to_bytes(4, "big") + PACKET_SIZE_CODE.to_bytes(2, "big")
                      + (p.baud // 9600).to_bytes(2, "big"))
        elif instruction is Instruction.TEMPLATE_NUM:
            self._ack(OK, (0).to_bytes(2, "big"))
        elif instruction is Instruction.DOWN_CHAR:
            if args[:1] not in (b"\x01", b"\x02"):
                self._ack(PACKET_ERROR)
                return
            self._download = (args[0], bytearray())
            self.char_buffers[args[0]] = None
            self._ack(OK)
        elif instruction is Instruction.GEN_IMG:
            self._ack(self._gen_img())
        elif instruction is Instruction.IMG2TZ:
            self._ack(self._img2tz(args[0] if args[:1] in (b"\x01", b"\x02") else 1))
        else:  # MATCH
            self._match()

    def _on_data(self, packet_id: int, payload: bytes, bad: bool) -> None:
        assert self._download is not None
        buffer, data = self._download
        if bad or len(payload) != DATA_PACKET_BYTES[PACKET_SIZE_CODE]:
            self._download = None  # the transfer is dropped and the buffer stays empty, so
            return  # Match answers NO_MATCH with score 0 (the host sees no answer to data)
        data += payload
        if packet_id == PacketId.END_DATA:
            self._download = None
            self.char_buffers[buffer] = bytes(data) if len(data) == TEMPLATE_BYTES else None

    def _chance(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def _gen_img(self) -> int:
        self._charge(self.profile.capture_s)
        if self.finger == "none":
            return NO_FINGER
        condition = self.profile.fingers[self.finger]
        if self._chance(condition.image_failed_rate):
            self.image = None
            return IMAGE_FAILED
        self.image = self.finger
        return OK

    def _img2tz(self, buffer: int) -> int:
        self._charge(self.profile.extract_s)
        if self.image is None:
            return NO_IMAGE
        condition = self.profile.fingers[self.image]
        if self._chance(condition.image_messy_rate):
            return IMAGE_MESSY
        if self._chance(condition.too_few_features_rate):
            return TOO_FEW_FEATURES
        self.char_buffers[buffer] = self.image
        return OK

    def _match(self) -> None:
        self._charge(self.profile.match_s)
        capture, template = self.char_buffers[1], self.char_buffers[2]
        if not isinstance(capture, str) or not isinstance(template, bytes):
            self._ack(NO_MATCH, (0).to_bytes(2, "big"))
            return
        score = self.profile.draw_score(capture, self.rng)
        self.scores.append(score)
        self._ack(OK if score >= self.profile.sensor_threshold else NO_MATCH,
                  min(score, 0xFFFF).to_bytes(2, "big"))
