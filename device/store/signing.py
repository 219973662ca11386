"""The unit's key pair and signed checkpoints of its journal (Ed25519, via ``cryptography``).

Provisioning creates the unit's Ed25519 key pair once and keeps the private key with the store
(``SqliteStore`` table ``unit_meta``, name ``unit_key``); the public key is exported with the
results (``public_key.txt``) and printed on the unit's reports, so an auditor can check every
signature against a key obtained independently.

``UnitSigner`` is what the controller and the exporter take as ``signer``: ``sign(bytes)``,
``public_key_hex()``. A *checkpoint* is a journal event ``checkpoint`` with data
``{reason, head_seq, head_hash, signature, public_key}``: the signature covers
``device.store.checkpoint_message(head_seq, head_hash, reason)`` — the journal head just before
checkpoint — so it seals every record up to it. Checkpoints are written at polls open, polls
close and every export (``append_checkpoint``).

Keys for simulations may be drawn from a seeded ``random.Random`` so a seed reproduces a whole
day byte for byte; such a key is not secret and is marked ``"simulation"`` in the store. A
device key comes from the operating system's CSPRNG.
"""
from __future__ import annotations

import os
import random
from typing import TYPE_CHECKING, Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from device.store.journal import ChainedJournal, JournalRecord, StationStore, checkpoint_message

if TYPE_CHECKING:  # the protocol lives with the results it signs; imported for the types only
    from device.results.signed_results import Signer

CHECKPOINT_REASONS = ("polls_open", "polls_close", "export")
KEY_META = "unit_key"
KEY_ORIGIN_META = "unit_key_origin"


class SignatureError(ValueError):
    """A public key or signature is malformed."""


class UnitSigner:
    """An Ed25519 private key with the two methods the controller needs."""

    def __init__(self, private_key: Ed25519PrivateKey, origin: str = "device"):
        self._key = private_key
        self.origin = origin

    @classmethod
    def generate(cls, rng: random.Random | None = None) -> UnitSigner:
        """A fresh key: from ``rng`` for a reproducible simulation, else from the OS CSPRNG."""
        if rng is None:
            return cls(Ed25519PrivateKey.from_private_bytes(os.urandom(32)), "device")
        return cls(Ed25519PrivateKey.from_private_bytes(rng.randbytes(32)), "simulation")

    @classmethod
    def from_private_bytes(cls, raw: bytes, origin: str = "device") -> UnitSigner:
        return cls(Ed25519PrivateKey.from_private_bytes(raw), origin)

    def private_bytes(self) -> bytes:
        return self._key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                       serialization.NoEncryption())

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def public_key_hex(self) -> str:
        return self._key.public_key().public_bytes(serialization.Encoding.Raw,
                                                   serialization.PublicFormat.Raw).hex()

    def public_key_pem(self) -> str:
        return self._key.public_key().public_bytes(
            serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo).decode("ascii")


def provision(store: StationStore, rng: random.Random | None = None) -> UnitSigner:
    """The unit's signer: the key kept in ``store``, created there on first use.

    A store without key storage (``MemoryStore``) gets a key that lives as long as the signer.
    """
    meta = store.unit_metadata()
    if meta is None:
        return UnitSigner.generate(rng)
    raw = meta.read_meta(KEY_META)
    if raw is not None:
        origin = (meta.read_meta(KEY_ORIGIN_META) or b"device").decode("ascii")
        return UnitSigner(Ed25519PrivateKey.from_private_bytes(raw), origin)
    signer = UnitSigner.generate(rng)
    meta.write_meta(KEY_META, signer.private_bytes())
    meta.write_meta(KEY_ORIGIN_META, signer.origin.encode("ascii"))
    return signer


def public_key_from_hex(text: str) -> Ed25519PublicKey:
    try:
        raw = bytes.fromhex(text.strip())
        return Ed25519PublicKey.from_public_bytes(raw)
    except ValueError:
        raise SignatureError(f"not an Ed25519 public key in hex: {text[:20]!r}...") from None


def verify(public_key_hex: str, signature_hex: str, data: bytes) -> bool:
    """True when ``signature_hex`` is a valid signature of ``data`` under the key."""
    key = public_key_from_hex(public_key_hex)
    try:
        key.verify(bytes.fromhex(signature_hex), data)
    except (InvalidSignature, ValueError):
        return False
    return True


def checkpoint_data(signer: Signer, reason: str, head_seq: int, head_hash: str) -> dict[str, Any]:
    """The ``checkpoint`` event data sealing the journal up to (head_seq, head_hash)."""
    if reason not in CHECKPOINT_REASONS:
        raise ValueError(f"unknown checkpoint reason {reason!r}")
    sig = signer.sign(checkpoint_message(head_seq, head_hash, reason))
    return {"reason": reason, "head_seq": head_seq, "head_hash": head_hash,
            "signature": sig.hex(), "public_key": signer.public_key_hex()}


def append_checkpoint(store: ChainedJournal, signer: Signer, reason: str, at: float) -> JournalRecord:
    """Append a signed checkpoint of the current head to ``store``; return the record."""
    seq, hsh = store.head
    return store.append_event("checkpoint", checkpoint_data(signer, reason, seq, hsh), at)


def check_checkpoint(data: dict[str, Any], public_key_hex: str) -> bool:
    """True when a checkpoint's signature is valid under ``public_key_hex``."""
    try:
        msg = checkpoint_message(data["head_seq"], data["head_hash"], data["reason"])
        return verify(public_key_hex, data["signature"], msg)
    except (KeyError, TypeError, ValueError, SignatureError):
        return False
