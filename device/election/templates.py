"""Enrolled fingerprint templates, sealed per station so that only that station's units open them.

API::

    TEMPLATE_BYTES = 512                      # one characteristic file of the ZhianTec R30x/AS608 class
    FingerprintSettings(threshold=50, tries=3)   # package settings: match score, tries before the commission
    seal_templates(templates, unit_public_keys, *, station_id, election_hash, rng=None) -> bytes
    TemplateVault.open(sealed, unit_private_key, *, station_id, election_hash) -> TemplateVault
        .template(voter_id) -> bytes | None   .enrolled  .held  .wipe() -> int (templates wiped)
    unit_x25519_public(ed25519_public_hex) -> bytes       # what the authority seals to
    TemplateError                                          # one line; never quotes a template

Templates are voter data: the authority puts them in the confidential package as one member per
station (``secret/templates/<station>.sealed``, ``device/election/package.py``), encrypted so that
only a unit registered for that station opens them. The unit decrypts them only while its polls
are open, holds them in memory only, and wipes them at the close (``templates_wiped`` journaled by
the fingerprint identity source); nothing of them reaches a journal record, an export or a results
message.

**How they are sealed** (ECIES, as age and libsodium's sealed boxes do it): the templates of the
station (canonical JSON, voter id -> template in hex) are encrypted once with a fresh 256-bit data
key (AES-256-GCM, the station id and election hash as associated data, so a member moved to
another station or election does not open). The data key is then wrapped for each unit registered
for the station: an ephemeral X25519 key agrees a secret with the unit's X25519 key, HKDF-SHA-256
(salt: both public keys) derives a key-encryption key, AES-GCM wraps the data key.

**Which X25519 key.** A unit has one key, the Ed25519 key made at provisioning and registered in
the package's unit registry. Its X25519 twin is the birational map of the same key (RFC 7748 §4.1,
libsodium's ``crypto_sign_ed25519_pk_to_curve25519``; age's ``ssh-ed25519`` recipients do the
same): the authority computes it from the registered public key, the unit from its private seed
(the first half of SHA-512 of the seed, the scalar Ed25519 itself uses). So registration and
provisioning stay as they are, and a unit of another station, holding another key, opens nothing.
"""
from __future__ import annotations

import hashlib
import json
import os
import random
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from device.store.canonical_json import canonical_bytes

TEMPLATE_BYTES = 512
SEALED_FORMAT = "ballotbox-templates/1"
_WRAP_INFO = b"ballotbox fingerprint templates/1 key wrap"
_P = 2 ** 255 - 19


class TemplateError(ValueError):
    """Templates that cannot be sealed or opened here (one line; no template is quoted)."""


@dataclass(frozen=True)
class FingerprintSettings:
    """The package's fingerprint settings: the match score that authorises (the sensor's Match
    command returns 0-300 or so for this class) and the presses before the commission decides."""

    threshold: int = 50
    tries: int = 3

    def to_json(self) -> dict[str, int]:
        return {"threshold": self.threshold, "tries": self.tries}

    @classmethod
    def from_json(cls, doc: object) -> FingerprintSettings:
        if not isinstance(doc, dict) or set(doc) != {"threshold", "tries"}:
            raise TemplateError(f"fingerprint settings must be {{threshold, tries}} (got {doc!r})")
        settings = cls(doc["threshold"], doc["tries"])
        settings.check()
        return settings

    def check(self) -> None:
        for name, value, low in (("threshold", self.threshold, 1), ("tries", self.tries, 1)):
            if isinstance(value, bool) or not isinstance(value, int) or not low <= value <= 1000:
                raise TemplateError(f"fingerprint {name} must be a whole number from {low} to 1000 "
                                    f"(got {value!r})")


def _aad(station_id: str, election_hash: str) -> bytes:
    return f"{SEALED_FORMAT}|{election_hash}|{station_id}".encode("utf-8")


def unit_x25519_public(ed25519_public_hex: str) -> bytes:
    """The X25519 public key (32 bytes) of a unit's Ed25519 public key: u = (1 + y) / (1 - y)."""
    try:
        raw = bytes.fromhex(ed25519_public_hex.strip())
    except ValueError:
        raw = b""
    if len(raw) != 32:
        raise TemplateError(f"not an Ed25519 public key in hex: {ed25519_public_hex[:16]!r}...")
    y = int.from_bytes(raw, "little") & ((1 << 255) - 1)
    if y >= _P or (1 - y) % _P == 0:
        raise TemplateError(f"unit key {ed25519_public_hex[:16]}... has no X25519 twin")
    u = (1 + y) * pow((1 - y) % _P, _P - 2, _P) % _P
    return u.to_bytes(32, "little")


def unit_x25519_private(ed25519_seed: bytes) -> X25519PrivateKey:
    """The unit's X25519 key from its Ed25519 seed: the clamped scalar Ed25519 signs with."""
    if len(ed25519_seed) != 32:
        raise TemplateError("a unit's private key is 32 bytes")
    return X25519PrivateKey.from_private_bytes(hashlib.sha512(ed25519_seed).digest()[:32])


def _raw(key: X25519PublicKey) -> bytes:
    return key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)


def _kek(shared: bytes, ephemeral: bytes, recipient: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=32, salt=ephemeral + recipient,
                info=_WRAP_INFO).derive(shared)


def _check_template(voter_id: str, template: bytes | bytearray) -> None:
    if not isinstance(template, (bytes, bytearray)) or len(template) != TEMPLATE_BYTES:
        raise TemplateError(f"the template of voter {voter_id!r} is not {TEMPLATE_BYTES} bytes")


def seal_templates(templates: dict[str, bytes], unit_public_keys: list[str], *, station_id: str,
                   election_hash: str, rng: random.Random | None = None) -> bytes:
    """The sealed member of one station: ``templates`` (voter id -> 512 bytes) for the units with
    these Ed25519 public keys. ``rng`` (simulations) makes it reproducible; a device's authority
    draws keys and nonces from the OS."""
    if not unit_public_keys:
        raise TemplateError(f"station {station_id!r} has templates but no registered unit to seal "
                            f"them to")
    for vid, template in templates.items():
        _check_template(vid, template)
    draw = (lambda n: rng.randbytes(n)) if rng is not None else os.urandom
    aad = _aad(station_id, election_hash)
    data_key, nonce = draw(32), draw(12)
    body = canonical_bytes({vid: bytes(t).hex() for vid, t in sorted(templates.items())})
    recipients = []
    for unit in sorted({k.strip().lower() for k in unit_public_keys}):
        recipient = unit_x25519_public(unit)
        ephemeral = X25519PrivateKey.from_private_bytes(draw(32))
        eph_raw = _raw(ephemeral.public_key())
        kek = _kek(ephemeral.exchange(X25519PublicKey.from_public_bytes(recipient)), eph_raw, recipient)
        wrap_nonce = draw(12)
        recipients.append({"unit": unit, "ephemeral": eph_raw.hex(), "nonce": wrap_nonce.hex(),
                           "wrapped_key": AESGCM(kek).encrypt(wrap_nonce, data_key, aad).hex()})
    return canonical_bytes({"format": SEALED_FORMAT, "station": station_id,
                            "election_hash": election_hash, "recipients": recipients,
                            "nonce": nonce.hex(),
                            "ciphertext": AESGCM(data_key).encrypt(nonce, body, aad).hex()})


class TemplateVault:
    """A station's templates opened in memory (``open``), until ``wipe`` overwrites them."""

    def __init__(self, templates: dict[str, bytearray]):
        self._templates = templates

    @classmethod
    def open(cls, sealed: bytes, unit_private_key: bytes, *, station_id: str,
             election_hash: str) -> TemplateVault:
        """Open the sealed member with the unit's Ed25519 seed; ``TemplateError`` when this unit
        is not among its recipients or the member was altered or belongs elsewhere."""
        try:
            doc = json.loads(sealed)
            if doc.get("format") != SEALED_FORMAT:
                raise ValueError(f"format {doc.get('format')!r}")
            recipients = {str(r["unit"]): r for r in doc["recipients"]}
            nonce, ciphertext = bytes.fromhex(doc["nonce"]), bytes.fromhex(doc["ciphertext"])
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            raise TemplateError(f"the sealed templates do not parse ({exc})") from None
        if doc.get("station") != station_id or doc.get("election_hash") != election_hash:
            raise TemplateError(f"the sealed templates are not station {station_id!r}'s of this election")
        from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
        unit_public = Ed25519PrivateKey.from_private_bytes(unit_private_key).public_key().public_bytes(
            serialization.Encoding.Raw, serialization.PublicFormat.Raw).hex()
        entry = recipients.get(unit_public)
        if entry is None:
            raise TemplateError(f"this unit ({unit_public[:16]}...) is not a recipient of station "
                                f"{station_id!r}'s templates")
        aad = _aad(station_id, election_hash)
        mine = unit_x25519_private(unit_private_key)
        try:
            eph_raw = bytes.fromhex(entry["ephemeral"])
            kek = _kek(mine.exchange(X25519PublicKey.from_public_bytes(eph_raw)), eph_raw,
                       _raw(mine.public_key()))
            data_key = AESGCM(kek).decrypt(bytes.fromhex(entry["nonce"]),
                                           bytes.fromhex(entry["wrapped_key"]), aad)
            body = json.loads(AESGCM(data_key).decrypt(nonce, ciphertext, aad))
            templates = {str(vid): bytearray.fromhex(t) for vid, t in dict(body).items()}
        except (InvalidTag, ValueError, KeyError, TypeError) as exc:
            raise TemplateError(f"the sealed templates do not open with this unit's key "
                                f"({type(exc).__name__})") from None
        for vid, template in templates.items():
            _check_template(vid, template)
        return cls(templates)

    @property
    def held(self) -> bool:
        return bool(self._templates)

    @property
    def enrolled(self) -> int:
        return len(self._templates)

    def template(self, voter_id: str) -> bytes | None:
        """The voter's enrolled template, or None (not enrolled, or the vault was wiped)."""
        found = self._templates.get(voter_id)
        return bytes(found) if found is not None else None

    def wipe(self) -> int:
        """Overwrite every template in memory with zeros and forget them; how many there were.
        (Best effort in Python: copies handed out by ``template`` are the caller's to drop.)"""
        count = len(self._templates)
        for template in self._templates.values():
            template[:] = bytes(len(template))
        self._templates.clear()
        return count


def template_member(station_id: str) -> str:
    """The package member holding a station's sealed templates."""
    return f"secret/templates/{station_id}.sealed"


def sealed_members(templates: dict[str, dict[str, bytes]], registry: dict[str, list[str]], *,
                   election_hash: str, rng: random.Random | None = None) -> dict[str, bytes]:
    """The package members of every station's sealed templates (station -> voter -> template),
    each sealed to the units the registry lists for the station."""
    unknown = sorted(set(templates) - set(registry))
    if unknown:
        raise TemplateError(f"templates for unknown station {unknown[0]!r}")
    return {template_member(sid): seal_templates(templates[sid], registry[sid], station_id=sid,
                                                 election_hash=election_hash, rng=rng)
            for sid in sorted(templates)}



@dataclass
class Enrolment:
    """What the authority gives a package of fingerprints: station -> voter id -> template, the
    settings, and (simulations only) the random stream the sealing draws from."""

    templates: dict[str, dict[str, bytes]]
    settings: FingerprintSettings = FingerprintSettings()
    rng: random.Random | None = None

    def sealed(self, registry: dict[str, list[str]], election_hash: str) -> dict[str, bytes]:
        """The package members of every station's sealed templates."""
        self.settings.check()
        return sealed_members(self.templates, registry, election_hash=election_hash, rng=self.rng)
