"""Synthetic fingerprint enrolment of simulated voters: who has a template, and its bytes.

``synthetic_templates(roll, seed, unenrolled_rate=0.03) -> {voter_id: 512 bytes}`` gives each
enrolled voter of the roll a template shaped like the characteristic file a ZhianTec
R30x/AS608 sensor uploads (``UpChar``: 512 bytes, ``device.election.templates.TEMPLATE_BYTES``),
drawn from the seed and the voter id alone, so the same voter has the same template in every
package and at every fidelity. Some voters have none (never enrolled, or their enrolment failed):
at the unit they go straight to the commission's identification by document.

The bytes carry no biometric meaning: the sensor's twin (``sim/twins/fingerprint.py``) scores a
press from its genuine and impostor distributions by whose finger is on the glass, and only
needs the template the unit downloads to be the voter's. ``enrolment_for`` wraps a station's
templates as the package builder takes them (``device.election.templates.Enrolment``).
"""
from __future__ import annotations

import hashlib
import random

from device.election.templates import TEMPLATE_BYTES, Enrolment, FingerprintSettings
from device.election.voter_roll import VoterRoll

UNENROLLED_RATE = 0.03  # share of voters with no template (a synthetic figure, not a published one)


def synthetic_template(seed: int, voter_id: str) -> bytes:
    """The enrolled template of ``voter_id`` in the world of ``seed`` (512 bytes)."""
    out = bytearray()
    counter = 0
    while len(out) < TEMPLATE_BYTES:
        out += hashlib.sha256(f"ballotbox-sim:{seed}:template:{voter_id}:{counter}".encode()).digest()
        counter += 1
    return bytes(out[:TEMPLATE_BYTES])


def is_enrolled(seed: int, voter_id: str, unenrolled_rate: float = UNENROLLED_RATE) -> bool:
    """Whether the voter has a template (drawn from the seed and the id alone)."""
    return random.Random(f"{seed}:enrolled:{voter_id}").random() >= unenrolled_rate


def synthetic_templates(roll: VoterRoll, seed: int,
                        unenrolled_rate: float = UNENROLLED_RATE) -> dict[str, bytes]:
    """Voter id -> template for the enrolled voters of ``roll``."""
    return {v.voter_id: synthetic_template(seed, v.voter_id) for v in roll.voters
            if is_enrolled(seed, v.voter_id, unenrolled_rate)}


def enrolment_for(rolls: dict[str, VoterRoll], seed: int, *,
                  settings: FingerprintSettings | None = None,
                  unenrolled_rate: float = UNENROLLED_RATE) -> Enrolment:
    """The package builder's ``fingerprints`` for these stations' rolls (sealing drawn from the
    seed, so a simulated package is reproducible)."""
    return Enrolment({sid: synthetic_templates(roll, seed, unenrolled_rate)
                      for sid, roll in sorted(rolls.items())},
                     settings or FingerprintSettings(), random.Random(f"{seed}:template-sealing"))
