"""The public results package: what a results server needs, and nothing about voters.

API::

    build_public_package(package, authority, out) -> Path
    load_public_package(path, authority_public_key_hex) -> PublicPackage
        .election  .mode  .registry {station: (unit key hex, ...)}  .unit_keys(station_id)
        .registered {station: voters}  .sha256 (of the file)  .authority (hex)
        .source_sha256 (of the confidential package it was made from)
    PublicPackageError(reason, detail): .reason in PUBLIC_REASONS

The confidential election package (``device.election.package``) carries voter rolls, the
Argon2id hashes of the staff PINs and the voter-pseudonym key: it goes to the units by sealed
media, never onto an internet-facing server. The authority derives from it, with its own
signing key, one JSON file a results server may hold and anyone may read::

    {"format": "ballotbox-public-package/1", "authority": HEX, "signature": HEX,
     "content": {"election": {...the definition...}, "election_hash": HEX, "mode": MODE,
                 "registry": {station: [unit key hex, ...]},
                 "registered": {station: voters on the roll},
                 "source_package_sha256": HEX}}

``signature`` is the authority's Ed25519 signature of the canonical JSON of ``content``
(the same key and verification as the confidential package's manifest). Loading checks, in
order: ``confidential`` (the file is the confidential zip package: refused, with the reason),
``malformed``, ``unsigned``, ``wrong_authority`` (validly signed by another key than the trust
anchor), ``altered``.
"""
from __future__ import annotations

import hashlib
import json
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from device.election.authority import AuthorityKey
from device.election.definition import Election, ElectionError, parse_election
from device.election.package import MODES, ElectionPackage, PackageBuildError
from device.store.canonical_json import canonical_bytes
from device.store.signing import SignatureError, verify

PUBLIC_FORMAT = "ballotbox-public-package/1"
MAX_PUBLIC_BYTES = 256 * 1024 * 1024  # a national definition and registry are a few MB

PUBLIC_REASONS = {
    "confidential": "this is the confidential election package (voter rolls, PIN hashes, the "
                    "pseudonym key): a results server takes only the public results package "
                    "('ballotbox election public-package')",
    "malformed": "the file is not a readable public results package",
    "unsigned": "the package carries no authority signature",
    "wrong_authority": "the package is signed by another authority than the trusted one",
    "altered": "the package differs from what the authority signed",
}


class PublicPackageError(ValueError):
    """A public package refused; ``reason`` is one of ``PUBLIC_REASONS``."""

    def __init__(self, reason: str, detail: str = ""):
        self.reason, self.detail = reason, detail or PUBLIC_REASONS[reason]
        super().__init__(f"public results package refused ({reason}): {self.detail}")


def registered_counts(package: ElectionPackage) -> dict[str, int]:
    """Voters per station: from the package's rolls; where every roll is empty (a national
    simulation's package carries none), from ``registered`` in the election's stations, if any."""
    election = package.election
    counts = {sid: len(package.roll(sid)) for sid in election.stations}
    if any(counts.values()):
        return counts
    return election.registered()


def build_public_package(package: ElectionPackage, authority: AuthorityKey, out: str | Path) -> Path:
    """Write the public package of a verified confidential ``package`` (never over a file)."""
    out = Path(out)
    if authority.public_key_hex() != package.authority:
        raise PackageBuildError("the key given is not the authority that signed the package")
    content = {"election": package.election.raw, "election_hash": package.election.hash,
               "mode": package.mode,
               "registry": {sid: sorted(package.registry.get(sid, ())) for sid in package.stations},
               "registered": registered_counts(package), "source_package_sha256": package.sha256}
    doc = {"format": PUBLIC_FORMAT, "authority": authority.public_key_hex(),
           "signature": authority.sign(canonical_bytes(content)).hex(), "content": content}
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        with open(out, "xb") as fh:
            fh.write(canonical_bytes(doc))
    except FileExistsError:
        raise PackageBuildError(f"{out} already exists: refusing to overwrite a package") from None
    except OSError as exc:
        raise PackageBuildError(f"cannot write {out}: {exc.strerror or exc}") from None
    return out


@dataclass(frozen=True)
class PublicPackage:
    path: Path
    sha256: str
    authority: str
    election: Election
    mode: str
    registry: dict[str, tuple[str, ...]]
    registered: dict[str, int]
    source_sha256: str

    def unit_keys(self, station_id: str) -> list[str]:
        return list(self.registry.get(station_id, ()))


def _signed_by(key_hex: str, signature_hex: str, data: bytes) -> bool:
    try:
        return verify(key_hex, signature_hex, data)
    except (SignatureError, ValueError):
        return False


def load_public_package(path: str | Path, authority_public_key_hex: str) -> PublicPackage:
    """Verify the public package at ``path`` against the trust anchor and return its contents."""
    path = Path(path)
    anchor = authority_public_key_hex.strip().lower()
    try:
        if path.stat().st_size > MAX_PUBLIC_BYTES:
            raise PublicPackageError("malformed", f"{path} is larger than {MAX_PUBLIC_BYTES} bytes")
        raw = path.read_bytes()
    except OSError as exc:
        raise PublicPackageError("malformed", f"cannot read {path}: {exc.strerror or exc}") from None
    if zipfile.is_zipfile(path):
        raise PublicPackageError("confidential", f"{path}: {PUBLIC_REASONS['confidential']}")
    try:
        doc = json.loads(raw)
        if not isinstance(doc, dict) or doc.get("format") != PUBLIC_FORMAT:
            raise ValueError(f"format is not {PUBLIC_FORMAT}")
        content, claimed = doc["content"], str(doc.get("authority", ""))
        signature = str(doc.get("signature") or "")
    except (ValueError, KeyError, TypeError) as exc:
        raise PublicPackageError("malformed", f"{path}: {exc}") from None
    if not signature:
        raise PublicPackageError("unsigned", f"{path} holds no signature")
    signed = canonical_bytes(content)
    if not _signed_by(anchor, signature, signed):
        if claimed.lower() != anchor and _signed_by(claimed, signature, signed):
            raise PublicPackageError("wrong_authority", f"signed by {claimed[:16]}..., the trusted "
                                                        f"authority is {anchor[:16]}...")
        raise PublicPackageError("altered", f"{path} is not what the authority {anchor[:16]}... signed")
    try:
        election = parse_election(content["election"])
        if content["election_hash"] != election.hash or content["mode"] not in MODES:
            raise ValueError("the election hash or the mode does not match")
        registry = {str(k): tuple(str(x) for x in v) for k, v in content["registry"].items()}
        registered = {str(k): int(v) for k, v in content["registered"].items()}
    except (KeyError, ValueError, TypeError, AttributeError, ElectionError) as exc:
        raise PublicPackageError("malformed", f"signed contents do not parse ({exc})") from None
    return PublicPackage(path, hashlib.sha256(raw).hexdigest(), anchor, election, content["mode"],
                         registry, registered, str(content.get("source_package_sha256", "")))


def public_path_for(package_path: str | Path) -> Path:
    """Where ``ballotbox sim package`` writes the public package beside the confidential one."""
    p = Path(package_path)
    return p.with_name(p.name + ".public.json")


def summary(pub: PublicPackage) -> dict[str, Any]:
    return {"package": str(pub.path), "sha256": pub.sha256, "authority": pub.authority,
            "election_id": pub.election.id, "election_hash": pub.election.hash, "mode": pub.mode,
            "stations": len(pub.election.stations), "unit_keys": sum(len(v) for v in pub.registry.values()),
            "registered": sum(pub.registered.values()), "source_package_sha256": pub.source_sha256}
