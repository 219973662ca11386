"""The zip of an election package, written and read without trusting it.

API::

    LIMITS: dict[str, int]                 # every cap, declared once (bytes or a count)
    PackageError(reason, detail)           # .reason in REASONS; str() names the reason
    write_zip(out, members)                # sorted members, fixed times, mode 0600, never over a file
    signed_by(key_hex, signature_hex, data) -> bool; claimed_authority(manifest_raw) -> str
    public_of_private(hex_key) -> str | None   # to name an anchor that is a private key
    open_zip(raw, path) -> PackageZip      # the central directory only: names, duplicates, count
        .read_capped(name, cap) -> bytes | None     # a small member (manifest, signature)
        .read_signed(name, size, sha256) -> bytes   # a member as the signed manifest describes it

Reading is streaming with a hard cap *while* inflating: a member is read in 64 KiB pieces
and refused the moment it passes the size the authority signed (or the cap of a small member),
whatever the zip's own headers claim. A zip bomb therefore costs at most one piece more than
the honest member, and the caller checks the manifest's signature before it reads any other
member (``device/election/package.py``).

The caps are generous for a national election: ``package_bytes`` (1 GiB, the total the signed
manifest may declare and the largest package file) holds a roll of about 20 million voters at
about 45 bytes a line; ``manifest_bytes`` (16 MiB) lists about 100,000 members; ``members``
(200,000) bounds what the central directory may make the reader allocate.
"""
from __future__ import annotations

import hashlib
import io
import os
import json
import zipfile
from pathlib import Path

from device.election.authority import AuthorityKey
from device.store.signing import SignatureError, verify

LIMITS: dict[str, int] = {
    "package_bytes": 1 << 30,     # total uncompressed size a manifest may declare; largest file
    "manifest_bytes": 16 << 20,   # manifest.json
    "signature_bytes": 1 << 10,   # manifest.sig (128 hex digits and a newline)
    "members": 200_000,           # entries in the zip's central directory
}
CHUNK = 64 << 10
_ZIP_TIME = (1980, 1, 1, 0, 0, 0)

REASONS = {
    "unsigned": "the package carries no authority signature",
    "altered": "the package differs from what the authority signed",
    "wrong_authority": "the package is signed by another authority than this unit's trust anchor",
    "malformed": "the file is not a readable election package",
    "too_large": "the package is larger than a unit reads",
    "wrong_station": "the package has no such station",
    "other_election": "the unit already holds another election",
    "not_registered": "this unit's key is not registered for the station",
    "rollback": "the package is older than one this unit already loaded for the election",
    "pseudonym_key_changed": "a re-issued package must keep the election's voter-pseudonym key",
}


class PackageError(ValueError):
    """A package refused; ``reason`` is one of ``REASONS`` and the message starts with it."""

    def __init__(self, reason: str, detail: str = ""):
        if reason not in REASONS:
            raise ValueError(f"unknown package refusal reason {reason!r}")
        self.reason, self.detail = reason, detail or REASONS[reason]
        super().__init__(f"election package refused ({reason}): {self.detail}")


class PackageBuildError(ValueError):
    """Inputs from which no package can be built; one line naming the problem."""


def write_zip(out: Path, members: dict[str, bytes]) -> None:
    """Members in sorted order, fixed timestamps; created exclusively with mode 0600 (the
    package holds the roll and the pseudonym key)."""
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(members):
            info = zipfile.ZipInfo(name, _ZIP_TIME)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = 0o600 << 16
            zf.writestr(info, members[name])
    try:
        out.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(out, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "wb") as fh:
            fh.write(buf.getvalue())
        os.chmod(out, 0o600)  # whatever the umask
    except FileExistsError:
        raise PackageBuildError(f"{out} already exists: refusing to overwrite a package") from None
    except OSError as exc:
        raise PackageBuildError(f"cannot write {out}: {exc.strerror or exc}") from None


class PackageZip:
    """An opened package zip: its member names (each once) and capped, streaming reads."""

    def __init__(self, zf: zipfile.ZipFile, path: Path):
        self._zf, self.path = zf, path
        infos = zf.infolist()
        if len(infos) > LIMITS["members"]:
            raise PackageError("too_large", f"{path} has {len(infos)} members "
                                            f"(a unit reads at most {LIMITS['members']})")
        self.infos: dict[str, zipfile.ZipInfo] = {}
        for info in infos:
            if info.filename in self.infos:
                raise PackageError("malformed", f"member {info.filename!r} appears twice")
            self.infos[info.filename] = info

    def close(self) -> None:
        self._zf.close()

    def _stream(self, name: str, cap: int, sha=None) -> bytes:
        """The member's bytes; ``PackageError`` as soon as more than ``cap`` bytes inflate."""
        out = bytearray()
        try:
            with self._zf.open(self.infos[name]) as fh:
                while True:
                    piece = fh.read(min(CHUNK, cap + 1 - len(out)))
                    if not piece:
                        break
                    out += piece
                    if sha is not None:
                        sha.update(piece)
                    if len(out) > cap:
                        raise PackageError("altered" if sha is not None else "too_large",
                                           f"member {name!r} inflates past {cap} bytes")
        # zipfile raises NotImplementedError for a compression method it does not support and
        # RuntimeError for an encrypted member: both are a malformed package here, not a gap.
        except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError,
                NotImplementedError, RuntimeError) as exc:
            if isinstance(exc, PackageError):
                raise
            raise PackageError("malformed", f"member {name!r} of {self.path} cannot be read "
                                            f"({exc})") from None
        return bytes(out)

    def read_capped(self, name: str, cap: int) -> bytes | None:
        """A small member of the package's own (manifest, signature), or None when absent."""
        return self._stream(name, cap) if name in self.infos else None

    def read_signed(self, name: str, size: int, sha256: str) -> bytes:
        """The member the signed manifest lists with ``size`` bytes and digest ``sha256``."""
        if name not in self.infos:
            raise PackageError("altered", f"signed member {name!r} is missing")
        sha = hashlib.sha256()
        data = self._stream(name, size, sha)
        if len(data) != size or sha.hexdigest() != sha256:
            raise PackageError("altered", f"member {name!r} differs from the signed manifest")
        return data


def open_zip(raw: bytes, path: Path) -> PackageZip:
    """Open ``raw`` as a zip (its central directory only); ``PackageError`` when it is not one."""
    if len(raw) > LIMITS["package_bytes"]:
        raise PackageError("too_large", f"{path} is {len(raw)} bytes (a unit reads at most "
                                        f"{LIMITS['package_bytes']})")
    try:
        zf = zipfile.ZipFile(io.BytesIO(raw))
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, ValueError) as exc:
        raise PackageError("malformed", f"{path} is not a readable zip file ({exc})") from None
    try:
        return PackageZip(zf, path)
    except PackageError:
        zf.close()
        raise


def claimed_authority(raw: bytes) -> str:
    """The key an unverified manifest names (only to name a wrong authority)."""
    try:
        return str(json.loads(raw).get("authority", ""))
    except (ValueError, AttributeError):
        return ""


def public_of_private(hex_key: str) -> str | None:
    """The public key of ``hex_key`` read as a private key (to name that mix-up), or None."""
    try:
        return AuthorityKey.from_seed(bytes.fromhex(hex_key)).public_key_hex()
    except ValueError:
        return None


def signed_by(key_hex: str, signature_hex: str, data: bytes) -> bool:
    try:
        return verify(key_hex, signature_hex, data)
    except SignatureError:
        return False
