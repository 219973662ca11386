"""The fingerprint sensor kind: its abstract class, the outcome of a match, its errors.

The ID desk knows a fingerprint sensor only through ``FingerprintDevice`` (a row of
``hardware/peripherals.py``): ``probe()`` checks the link and reports the sensor's parameters,
``match(template)`` compares the finger on the glass with a voter's enrolled template and
returns the sensor's score (``FingerMatch``); the unit decides with the election package's
threshold (``FingerMatch.matched_at``). Every failure is a ``FingerprintError`` (a
``PeripheralError``) whose ``reason`` is a code declared once in the driver's table
(``hardware.fingerprint_serial.REASONS``, shown in ``docs/protocol.md``), never prose to parse.
The driver for real sensors is ``hardware.fingerprint_serial.FingerprintSensor``.
"""
from __future__ import annotations

from abc import abstractmethod
from dataclasses import dataclass

from hardware.interfaces import (Peripheral, PeripheralDisconnected, PeripheralError,
                                 PeripheralTimeout)


class FingerprintError(PeripheralError):
    """A failed sensor exchange; ``reason`` is one of ``REASONS`` (a code, not prose)."""

    def __init__(self, reason: str, detail: str) -> None:
        super().__init__(f"fingerprint sensor: {detail}")
        self.reason = reason


class NoFinger(FingerprintError):
    """Nothing on the glass when the capture was asked."""


class PoorImage(FingerprintError):
    """The capture or its characteristics failed (wet, dry, partial, smudged press)."""


class WrongPassword(FingerprintError):
    """The sensor refused the unit's password."""


class FingerprintTimeout(FingerprintError, PeripheralTimeout):
    """The sensor did not answer in time."""


class FingerprintDisconnected(FingerprintError, PeripheralDisconnected):
    """The port failed (cable, power, port gone)."""


@dataclass(frozen=True)
class FingerMatch:
    """The outcome of one match: the sensor's score and its own verdict."""

    score: int
    sensor_matched: bool

    def matched_at(self, threshold: int) -> bool:
        """The unit's decision at the election package's threshold."""
        return self.score >= threshold


@dataclass(frozen=True)
class SensorInfo:
    """What ``ReadSysPara`` and ``TemplateNum`` report."""

    status: int
    system_id: int
    library_size: int
    security_level: int
    address: int
    data_packet_bytes: int
    baud: int
    templates_stored: int


class FingerprintDevice(Peripheral):
    """A fingerprint sensor that matches a finger against a template it is given (1:1)."""

    @abstractmethod
    def probe(self, timeout: float = 1.0) -> SensorInfo:
        """Check the link and the password; the sensor's parameters (raises ``FingerprintError``)."""

    @abstractmethod
    def match(self, template: bytes) -> FingerMatch:
        """Load ``template``, capture the finger on the glass and compare the two: the score.
        Raises ``NoFinger``, ``PoorImage``, ``FingerprintTimeout``... (``FingerprintError``)."""
