"""The fingerprint step of a simulated station day: enrolment, the sensor, the voters' presses.

API::

    FingerprintScenario(unenrolled_rate, presses, threshold, tries)   # a scenario's "fingerprint"
    parse_fingerprint(doc, where) -> FingerprintScenario | None       # ScenarioError on bad input
    MemoryFingerprintSensor(profile, rng, advance)   # logical/image fidelity: the twin without bytes
    build_fingerprint_step(scenario, *, election, station_id, roll, seed, fidelity, clock, unit)
        -> FingerprintStep: .source (FingerprintIdentity)  .place(finger)  .close()
           .presses  .seconds (simulated time spent at the sensor)  .sealed (the package member)

A scenario with a ``fingerprint`` object (``sim/scenarios/kyrgyzstan-2017.json``) or a run with
``--biometric`` adds the step after the document: the station's voters get synthetic templates
(``sim/day/enrolment.py``; ``unenrolled_rate`` of them none), sealed to the simulated unit's key
exactly as the authority seals them into a package, and opened by the real
``FingerprintIdentity`` when the polls open. At each press the voter's finger condition is drawn
from ``presses`` (a normal ``genuine`` press, ``wet``, ``dry``, ``partial``) from the day's own
``finger`` stream, so adding the step changes no other draw of the day.

The sensor: at ``full`` fidelity the real driver (``hardware/fingerprint_serial.py``) on a pty to
the sensor's twin (``sim/twins/fingerprint.py``), at 57,600 baud of simulated line time; at the
other fidelities ``MemoryFingerprintSensor``, which makes the twin's draws from the same profile
in the same order (capture failure, messy image, too few features, then the score) without
bytes, and charges the same simulated times (the commands' and the line's).
"""
from __future__ import annotations

import random
from dataclasses import dataclass, field
from typing import Any, Callable

from device.election.definition import Election
from device.election.templates import FingerprintSettings, TemplateVault, seal_templates
from device.election.voter_roll import VoterRoll
from device.station.fingerprint_identity import FINGER_PRESSED, FingerprintIdentity
from device.store.signing import UnitSigner
from hardware.fingerprint_serial import (TEMPLATE_BYTES, FingerMatch, NoFinger, PoorImage,
                                         encode_packet)
from sim.day.enrolment import UNENROLLED_RATE, synthetic_templates
from sim.twins.fingerprint_profile import PRESSED, FingerprintProfile, load_fingerprint_profile

DEFAULT_PRESSES = {"genuine": 0.9, "wet": 0.04, "dry": 0.04, "partial": 0.02}
VOTER_FINGERS = ("genuine", "wet", "dry", "partial")  # the voter's own finger, pressed so


class FingerprintScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class FingerprintScenario:
    """How the fingerprint step goes at a station: who is enrolled, how voters press, and the
    package's settings."""

    unenrolled_rate: float = UNENROLLED_RATE
    presses: dict[str, float] = field(default_factory=lambda: dict(DEFAULT_PRESSES))
    threshold: int = FingerprintSettings.threshold
    tries: int = FingerprintSettings.tries

    @property
    def settings(self) -> FingerprintSettings:
        return FingerprintSettings(self.threshold, self.tries)


def parse_fingerprint(doc: object, where: str = "scenario") -> FingerprintScenario | None:
    """A scenario's ``fingerprint`` object (None when absent)."""
    if doc is None:
        return None
    if not isinstance(doc, dict) or set(doc) - {"unenrolled_rate", "presses", "threshold", "tries",
                                                "source"}:
        raise FingerprintScenarioError(f"{where}: $.fingerprint takes unenrolled_rate, presses, "
                                       f"threshold, tries (and a source)")
    rate = doc.get("unenrolled_rate", UNENROLLED_RATE)
    if isinstance(rate, bool) or not isinstance(rate, (int, float)) or not 0 <= rate <= 1:
        raise FingerprintScenarioError(f"{where}: $.fingerprint.unenrolled_rate must be in [0, 1]")
    presses = doc.get("presses", DEFAULT_PRESSES)
    if not isinstance(presses, dict) or not presses or set(presses) - set(VOTER_FINGERS) or any(
            isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0 for w in presses.values()) \
            or sum(presses.values()) <= 0:
        raise FingerprintScenarioError(f"{where}: $.fingerprint.presses: weights >= 0 of "
                                       f"{', '.join(VOTER_FINGERS)}")
    base = FingerprintScenario()
    scenario = FingerprintScenario(float(rate), {k: float(v) for k, v in presses.items()},
                                   doc.get("threshold", base.threshold), doc.get("tries", base.tries))
    try:
        scenario.settings.check()
    except ValueError as exc:
        raise FingerprintScenarioError(f"{where}: $.fingerprint: {exc}") from None
    return scenario


def _exchange(command: bytes, answer: bytes, data_packets: int = 0) -> int:
    """Bytes on the line for one command and its acknowledge (and template data packets)."""
    return (len(encode_packet(1, command)) + len(encode_packet(7, answer))
            + data_packets * len(encode_packet(2, bytes(TEMPLATE_BYTES // 4))))


# The exchanges of one match as the driver and the twin make them (bytes both ways): the probe
# once (VfyPwd, ReadSysPara, TemplateNum), then GenImg, Img2Tz, DownChar of the template in
# four 128-byte packets (only once a finger gave a usable image), Match.
PROBE_BYTES = (_exchange(bytes(5), bytes(1)) + _exchange(bytes(1), bytes(17))
               + _exchange(bytes(1), bytes(3)))
DOWNLOAD_BYTES = _exchange(bytes(2), bytes(1), data_packets=4)
CAPTURE_BYTES, EXTRACT_BYTES, MATCH_BYTES = (_exchange(bytes(1), bytes(1)), _exchange(bytes(2), bytes(1)),
                                             _exchange(bytes(1), bytes(3)))


class MemoryFingerprintSensor:
    """The sensor and its twin in one object, without bytes (see the module docstring)."""

    def __init__(self, profile: FingerprintProfile, rng: random.Random,
                 advance: Callable[[float], None] | None = None):
        self.profile, self.rng = profile, rng
        self._advance = advance or (lambda s: None)
        self.finger = "none"
        self._probed = False

    def place(self, finger: str) -> None:
        if finger != "none" and finger not in PRESSED:
            raise ValueError(f"unknown finger {finger!r}")
        self.finger = finger

    def _chance(self, rate: float) -> bool:
        return rate > 0 and self.rng.random() < rate

    def _exchange(self, line_bytes: int, sensor_s: float = 0.0) -> None:
        self._advance(line_bytes * 10 / self.profile.baud + sensor_s)  # 10 bits a byte

    def match(self, template: bytes) -> FingerMatch:
        p = self.profile
        if not self._probed:
            self._exchange(PROBE_BYTES)
            self._probed = True
        self._exchange(CAPTURE_BYTES, p.capture_s)
        if self.finger == "none":
            raise NoFinger("no_finger", "no finger on the sensor")
        condition = p.fingers[self.finger]
        if self._chance(condition.image_failed_rate):
            raise PoorImage("image_failed", "the capture failed")
        self._exchange(EXTRACT_BYTES, p.extract_s)
        if self._chance(condition.image_messy_rate):
            raise PoorImage("image_messy", "image too messy to extract characteristics")
        if self._chance(condition.too_few_features_rate):
            raise PoorImage("too_few_features", "too few feature points (partial or faint press)")
        self._exchange(DOWNLOAD_BYTES)
        self._exchange(MATCH_BYTES, p.match_s)
        score = p.draw_score(self.finger, self.rng)
        return FingerMatch(score, score >= p.sensor_threshold)


def _advance_of(clock: Any) -> Callable[[float], None]:
    return clock.advance if callable(getattr(clock, "advance", None)) else (lambda s: None)


@dataclass
class FingerprintStep:
    """The step as one station day runs it: the identity source, the hands on the glass, and
    what it cost (presses, simulated seconds at the sensor)."""

    source: FingerprintIdentity
    place: Callable[[str], None]
    sealed: bytes
    enrolled: int
    scenario: FingerprintScenario
    rng: random.Random
    closers: list[Callable[[], None]] = field(default_factory=list)
    twin: Any = None  # the sensor's twin at full fidelity (its control channel's hands)
    presses: int = 0
    voters: int = 0  # voters who reached the step (the document found them eligible)
    seconds: float = 0.0

    def report(self, by_commission: dict[str, int]) -> dict[str, Any]:
        """The step's figures for the day's report (no voter named)."""
        return {"enrolled": self.enrolled, "voters": self.voters, "presses": self.presses,
                "seconds_per_voter": round(self.seconds / self.voters, 2) if self.voters else 0.0,
                "identified_by_commission": dict(sorted(by_commission.items()))}

    def draw_finger(self) -> str:
        names = list(self.scenario.presses)
        return self.rng.choices(names, [self.scenario.presses[n] for n in names])[0]

    def close(self) -> None:
        self.source.wipe_templates()
        for close in self.closers:
            close()


def build_fingerprint_step(scenario: FingerprintScenario, *, election: Election, station_id: str,
                           roll: VoterRoll, seed: int, fidelity: str, clock: Any,
                           unit: UnitSigner | None = None,
                           profile: FingerprintProfile | None = None) -> FingerprintStep:
    """The station's enrolment sealed to ``unit`` (a seeded simulated key when None), the sensor
    for ``fidelity`` and the real identity source on it."""
    unit = unit or UnitSigner.generate(random.Random(f"{seed}:fingerprint-unit"))
    here = VoterRoll([v for v in roll.voters if v.station_id == station_id])  # not the neighbours
    templates = synthetic_templates(here, seed, scenario.unenrolled_rate)
    sealed = seal_templates(templates, [unit.public_key_hex()], station_id=station_id,
                            election_hash=election.hash, rng=random.Random(f"{seed}:template-sealing"))
    profile = profile or load_fingerprint_profile()
    sensor_rng = random.Random(f"{seed}:fingerprint-sensor")
    closers: list[Callable[[], None]] = []
    twin = None
    if fidelity == "full":
        from hardware.fingerprint_serial import FingerprintSensor
        from sim.twins.endpoints import PtyEndpoint
        from sim.twins.fingerprint import FingerprintTwin
        twin = FingerprintTwin(profile, sensor_rng, _advance_of(clock))
        endpoint = PtyEndpoint(twin)
        driver = FingerprintSensor(endpoint.url)
        closers += [driver.close, endpoint.close]
        sensor: Any = driver

        def place(finger: str) -> None:
            twin.place(finger)
    else:
        memory = MemoryFingerprintSensor(profile, sensor_rng, _advance_of(clock))
        sensor, place = memory, memory.place
    key = unit.private_bytes()

    def open_vault() -> TemplateVault:
        return TemplateVault.open(sealed, key, station_id=station_id, election_hash=election.hash)

    source = FingerprintIdentity(sensor, scenario.settings, open_vault)
    return FingerprintStep(source, place, sealed, len(templates), scenario,
                           random.Random(f"{seed}:finger"), closers, twin)


HUMAN_PRESS_S = 2.0  # a voter places a finger and lifts it (simulated seconds; an assumption)


def checkin_with_finger(day: Any, visitor: Any, checkin: Any) -> Any:
    """The visitor at the fingerprint step, after the document: presses until the desk decides;
    when it leaves the decision to the commission, the poll worker identifies the voter by the
    document (the law's path; the simulated commission always does). Returns the check-in."""
    step: FingerprintStep = day.fingerprint
    ctl, clock = day.controller, day.clock
    if checkin.outcome != "identifying":  # refused (or authorised) by the document alone
        return checkin
    start = clock.now
    while checkin.outcome == "identifying":
        pending = ctl.desk.pending
        if pending is not None and pending.commission_reason is not None:
            day.notices.append({"visitor": visitor.kind, "event": f"commission:{pending.commission_reason}",
                                "message": checkin.message.text})
            checkin = ctl.identify_by_commission()
            break
        step.place(step.draw_finger())
        clock.advance(HUMAN_PRESS_S)
        step.presses += 1
        checkin = ctl.present_identity_step(FINGER_PRESSED)
    step.place("none")
    step.voters += 1
    step.seconds += clock.now - start
    return checkin


def fingerprint_step_for(scenario: Any, biometric: bool | None, peripherals: Any, **build: Any
                         ) -> FingerprintStep | None:
    """The day's step: the one the peripherals already carry (a reboot's build), else one built
    for the scenario's ``fingerprint`` (``biometric=True`` adds the default one, ``False`` none).
    It is kept in the peripherals' extras and closed with them."""
    kept = peripherals.extras.get("fingerprint")
    if kept is not None or biometric is False:
        return kept
    wanted = scenario.fingerprint or (FingerprintScenario() if biometric else None)
    if wanted is None:
        return None
    step = build_fingerprint_step(wanted, **build)
    peripherals.extras["fingerprint"] = step
    peripherals.extras.setdefault("closers", []).append(step.close)
    return step
