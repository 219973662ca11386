"""The fingerprint step of the ID desk: after the document, the voter's finger against their
enrolled template (an identity source, ``device/station/id_desk.py``).

API::

    FINGER_PRESSED                       # the evidence of a press (the sensor is then asked)
    FingerprintIdentity(sensor, settings, open_vault)  # an IdentitySource named "fingerprint"
        .polls_opened() / .polls_closed() -> [(event, data)]   # templates opened / wiped
        .holds_templates -> bool
    COMMISSION_REASONS                   # why the commission may identify a voter by document
    for_package(package, station_id, unit_private_key, sensor) -> FingerprintIdentity | None

The flow, as Kyrgyzstan's voter identification runs it: once the document has found the voter
on the roll (eligible, not yet voted), the desk asks this source for its step. A voter with an
enrolled template is asked to place a finger (``place_finger``); each press downloads the
template into the sensor and asks for the match score (``sensor.match(template)``): a score at
or above the package's ``threshold`` authorises; a lower score, or a press the sensor cannot
read, costs one of the ``tries`` (``finger_try_again``, ``finger_unreadable``, each saying how
many are left); a press with no finger on the glass is no try and changes nothing on screen (the
desk keeps its last answer, so "did not match" stays up until the voter presses again), and a
garbled answer on the line is asked again (three in a row count as a sensor fault). After the last try the voter waits for the commission
(``finger_not_matched``). A voter with no template goes to the commission at once
(``finger_not_enrolled``), as does a voter whose press the sensor does not answer (timeout, lost
link, refused password: ``finger_sensor_fault``). The commission's identification by document
alone is a poll worker's action (``identify_by_commission`` in ``device/station/roles.py``) with
the reason this source gave, journaled and counted by reason (never naming the voter: the record
carries the same keyed pseudonym as every check-in).

Nothing of a press is journaled: scores, tries and templates stay in memory. A voter still at
the desk when the power goes is not checked in; after the boot they start again with the
document. Templates are opened from the package only while the polls are open: the desk
(``IdDesk.polls_opened``/``polls_closed``, called by the controller when the polls open, resume,
or a boot finds them open, and when they close) journals what this source returns
(``templates_opened {enrolled}``, ``templates_wiped {templates}``).
"""
from __future__ import annotations

from typing import Any, Callable, Protocol

from device.election.package import ElectionPackage
from device.election.templates import FingerprintSettings, TemplateError, TemplateVault
from device.i18n import N_
from device.station.events import OperatorMessage, message
from device.station.id_desk import CheckInOutcome, Identified, SourceAnswer
from hardware.fingerprint_serial import NoFinger, PoorImage, WrongPassword
from hardware.interfaces import PeripheralDisconnected, PeripheralError, PeripheralTimeout

LINK_ERRORS_BEFORE_FAULT = 3  # garbled answers in a row before the sensor counts as faulty

# Why the commission may identify a voter by the document alone: reason -> label (slips, console).
COMMISSION_REASONS = {
    "no_match": N_("no match"),  # not matched after the package's tries
    "no_template": N_("not enrolled"),
    "sensor_fault": N_("sensor fault"),  # timeout, link lost, wrong password
}


class FingerPress:
    """The evidence that a finger was pressed on the sensor (the desk's ``proceed``)."""

    def __repr__(self) -> str:
        return "FINGER_PRESSED"


FINGER_PRESSED = FingerPress()


class FingerScore(Protocol):
    score: int


class FingerSensor(Protocol):
    """What this source needs of a sensor (``hardware/fingerprint_serial.py``)."""

    def match(self, template: bytes) -> FingerScore: ...


class FingerprintIdentity:
    """The fingerprint after the document (see the module docstring)."""

    name = "fingerprint"

    def __init__(self, sensor: FingerSensor, settings: FingerprintSettings,
                 open_vault: Callable[[], TemplateVault | None]):
        """``open_vault``: opens the station's sealed templates with the unit's key (None: the
        package holds none, and every voter goes to the commission with ``no_template``)."""
        settings.check()
        self.sensor, self.settings, self._open_vault = sensor, settings, open_vault
        self._vault: TemplateVault | None = None
        self._failed = 0  # presses of the voter now at the desk that did not match (or unreadable)
        self._link_errors = 0
        self._shown = message("place_finger")  # the desk's last answer to the voter now at the desk

    # --- templates: only while the polls are open -----------------------------------------
    def polls_opened(self) -> list[tuple[str, dict[str, Any]]]:
        """The polls are open (or resumed, or the unit booted with open polls): open the templates
        into memory unless held; the record to journal (how many voters are enrolled)."""
        if self._vault is not None:
            return []
        try:
            self._vault = self._open_vault()
        except TemplateError:  # not this unit's (or not this station's): every voter goes to the
            return [("templates_opened", {"enrolled": 0, "unreadable": True})]  # commission
        return [("templates_opened", {"enrolled": self._vault.enrolled if self._vault else 0})]

    def polls_closed(self) -> list[tuple[str, dict[str, Any]]]:
        """The polls close: overwrite the templates in memory; the record to journal."""
        if self._vault is None:
            return []
        return [("templates_wiped", {"templates": self.wipe_templates()})]

    def wipe_templates(self) -> int:
        """Overwrite the templates held in memory; how many were held."""
        vault, self._vault = self._vault, None
        return vault.wipe() if vault is not None else 0

    @property
    def holds_templates(self) -> bool:
        return self._vault is not None and self._vault.held

    # --- the step -------------------------------------------------------------------------
    def identify(self, voter: Identified | None, evidence: object) -> SourceAnswer:
        if voter is None:  # the desk runs the document first; a desk built otherwise is refused
            return SourceAnswer.refused(CheckInOutcome.INVALID_DOCUMENT, message(
                "invalid_document", detail="the fingerprint step needs the document first"))
        template = self._vault.template(voter.voter.voter_id) if self._vault is not None else None
        if template is None:
            return self._commission(voter, "no_template", message("finger_not_enrolled"))
        if evidence is None:  # the step begins for this voter
            self._failed = self._link_errors = 0
            return self._answer(voter, message("place_finger"))
        if self._failed >= self.settings.tries:
            return self._commission(voter, "no_match", message("finger_not_matched"))
        try:
            score = self.sensor.match(template).score
        except NoFinger:  # nothing on the glass: not a try, and the last answer stays on screen
            return SourceAnswer.next_step(self._shown, voter)
        except PoorImage as exc:  # a wet, dry or partial press: a try
            return self._failed_press(voter, "finger_unreadable", detail=_detail(exc))
        except (PeripheralTimeout, PeripheralDisconnected, WrongPassword) as exc:
            return self._commission(voter, "sensor_fault",
                                    message("finger_sensor_fault", detail=_detail(exc)))
        except PeripheralError as exc:  # a garbled answer on the line: press again, a few times
            self._link_errors += 1
            if self._link_errors >= LINK_ERRORS_BEFORE_FAULT:
                return self._commission(voter, "sensor_fault",
                                        message("finger_sensor_fault", detail=_detail(exc)))
            return self._answer(voter, message("finger_unreadable", detail=_detail(exc),
                                               tries_left=self.settings.tries - self._failed))
        if score >= self.settings.threshold:
            return SourceAnswer.authorised()
        return self._failed_press(voter, "finger_try_again")

    def _answer(self, voter: Identified, msg: OperatorMessage) -> SourceAnswer:
        self._shown = msg
        return SourceAnswer.next_step(msg, voter)

    def _failed_press(self, voter: Identified, code: str, **fields: Any) -> SourceAnswer:
        """A press that costs a try: the next one, or the commission after the last."""
        self._failed += 1
        if self._failed >= self.settings.tries:
            return self._commission(voter, "no_match", message("finger_not_matched"))
        return self._answer(voter, message(code, tries_left=self.settings.tries - self._failed, **fields))

    @staticmethod
    def _commission(voter: Identified, reason: str, msg: OperatorMessage) -> SourceAnswer:
        return SourceAnswer.next_step(msg, voter, commission_reason=reason)


def _detail(exc: Exception) -> str:
    """One line for the screen: the sensor's reason, never a template."""
    return (str(exc).splitlines() or [type(exc).__name__])[0][:120]


def for_package(package: ElectionPackage, station_id: str, unit_private_key: bytes,
                sensor: FingerSensor) -> FingerprintIdentity | None:
    """The fingerprint source of a unit loaded with ``package`` for ``station_id`` (None: the
    election has no fingerprint step): the package's settings, its station's sealed templates
    opened with the unit's key when the polls open (a package without them for the station
    sends every voter to the commission as ``no_template``)."""
    if package.fingerprint is None:
        return None
    sealed, election_hash = package.sealed_templates(station_id), package.election.hash

    def open_vault() -> TemplateVault | None:
        if sealed is None:
            return None
        return TemplateVault.open(sealed, unit_private_key, station_id=station_id,
                                  election_hash=election_hash)

    return FingerprintIdentity(sensor, package.fingerprint, open_vault)
