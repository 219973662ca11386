"""The election authority's Ed25519 key pair: the trust anchor of every election package.

``generate_authority_keys(out_dir)`` writes ``authority.key`` (the raw 32-byte private key as
hex, file mode 0600, created exclusively: an existing key is never overwritten) and
``authority.pub`` (the public key as hex, mode 0644). A unit is provisioned once with the
public key (``ballotbox device provision``) and from then on accepts only packages whose
manifest that key signed (``device/election/package.py``).

``AuthorityKey`` signs; ``read_authority_key`` / ``read_public_key`` load the files and raise
``AuthorityKeyError`` with one line naming the problem (missing, unreadable, not a key, a
private key readable by others).
"""
from __future__ import annotations

import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from device.store.signing import SignatureError, public_key_from_hex

PRIVATE_NAME = "authority.key"
PUBLIC_NAME = "authority.pub"


class AuthorityKeyError(ValueError):
    """A key file that cannot be used; the message names the file and the reason."""


class AuthorityKey:
    """The authority's private key: ``sign(bytes)`` and ``public_key_hex()``."""

    def __init__(self, private_key: Ed25519PrivateKey):
        self._key = private_key

    @classmethod
    def generate(cls) -> AuthorityKey:
        return cls(Ed25519PrivateKey.from_private_bytes(os.urandom(32)))

    @classmethod
    def from_seed(cls, seed: bytes) -> AuthorityKey:
        """A key from 32 given bytes (simulations derive them from their seed)."""
        return cls(Ed25519PrivateKey.from_private_bytes(seed))

    def sign(self, data: bytes) -> bytes:
        return self._key.sign(data)

    def public_key_hex(self) -> str:
        return self._key.public_key().public_bytes(serialization.Encoding.Raw,
                                                   serialization.PublicFormat.Raw).hex()

    def private_hex(self) -> str:
        return self._key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                       serialization.NoEncryption()).hex()


def write_secret_file(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 holding ``text``; never overwrite (O_EXCL)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text)
    os.chmod(path, 0o600)  # whatever the umask


def generate_authority_keys(out_dir: str | Path) -> tuple[Path, Path]:
    """Create ``authority.key`` (0600) and ``authority.pub`` in ``out_dir``; never overwrite."""
    d = Path(out_dir)
    private, public = d / PRIVATE_NAME, d / PUBLIC_NAME
    for path in (private, public):
        if path.exists():
            raise AuthorityKeyError(f"{path} already exists: refusing to overwrite a key")
    try:
        d.mkdir(parents=True, exist_ok=True)
        key = AuthorityKey.generate()
        write_secret_file(private, key.private_hex() + "\n")
        fd = os.open(public, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o644)
        with os.fdopen(fd, "w", encoding="ascii") as fh:
            fh.write(key.public_key_hex() + "\n")
    except FileExistsError as exc:
        raise AuthorityKeyError(f"{exc.filename} already exists: refusing to overwrite a key") from None
    except OSError as exc:
        raise AuthorityKeyError(f"cannot write keys to {d}: {exc.strerror or exc}") from None
    return private, public


def _read_text(path: Path, what: str) -> str:
    try:
        return path.read_text(encoding="ascii").strip()
    except FileNotFoundError:
        raise AuthorityKeyError(f"no {what} file {path}") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthorityKeyError(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None


def read_private_key_bytes(path: str | Path, what: str = "authority private key") -> bytes:
    """The 32 raw bytes of an Ed25519 private key kept as hex in a 0600 file (like ssh, a key
    file others may read is refused)."""
    p = Path(path)
    text = _read_text(p, what)
    mode = stat.S_IMODE(p.stat().st_mode)
    if mode & 0o077:
        raise AuthorityKeyError(f"{p} is readable by others (mode {mode:o}): run 'chmod 600 {p}'")
    try:
        raw = bytes.fromhex(text)
        Ed25519PrivateKey.from_private_bytes(raw)
        return raw
    except ValueError:
        raise AuthorityKeyError(f"{p} is not an Ed25519 {what} in hex") from None


def read_authority_key(path: str | Path) -> AuthorityKey:
    """The authority's private key in ``path`` (made by 'ballotbox election keygen')."""
    return AuthorityKey.from_seed(read_private_key_bytes(path))


def read_public_key(path_or_hex: str | Path) -> str:
    """A public key as lower-case hex, from a file (``authority.pub``) or given as hex."""
    text = str(path_or_hex).strip()
    if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text) and not Path(text).exists():
        hex_key = text
    else:
        hex_key = _read_text(Path(text), "public key")
    try:
        public_key_from_hex(hex_key)
    except SignatureError:
        raise AuthorityKeyError(f"{text} is not an Ed25519 public key in hex") from None
    return hex_key.lower()
