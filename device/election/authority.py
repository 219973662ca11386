"""The election authority's Ed25519 key pair: the trust anchor of every election package.

``generate_authority_keys(out_dir)`` writes ``authority.key`` (the raw 32-byte private key as
hex, file mode 0600, created exclusively: an existing key is never overwritten) and
``authority.pub`` (the public key as hex, mode 0644). A unit is provisioned once with the
public key (``ballotbox device provision``) and from then on accepts only packages whose
manifest that key signed (``device/election/package.py``).

``AuthorityKey`` signs, and derives the election's voter-pseudonym key
(``pseudonym_key(election_hash)``: HKDF-SHA-256 of the authority's secret, salted with the
election hash, so every re-issue of one election carries the same key and the authority keeps
no extra secret; whoever holds the authority key can compute it, as they could sign a package).
``read_authority_key`` / ``read_public_key`` load the files and raise ``AuthorityKeyError`` with
one line naming the problem (missing, unreadable, not a key, a private key readable by others,
a private key given where a public key is asked or the reverse). No message ever quotes a key
file's content: a private key is never printed.

Private key files (``authority.key``, a unit's ``--unit-key`` file) start with the line
``PRIVATE_HEADER`` then the key in hex; files without it (older ones) are read too.

``IssueLog`` (``authority.issued.json`` beside the private key) is the authority's record of
the packages it issued: per election, the last serial and the package identity. ``election
package`` takes the next serial from it (``--serial`` to set one, never lower or equal).
"""
from __future__ import annotations

import json
import os
import stat
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from device.store.signing import SignatureError, public_key_from_hex

PRIVATE_NAME = "authority.key"
PUBLIC_NAME = "authority.pub"
ISSUED_NAME = "authority.issued.json"
PRIVATE_HEADER = "# ballotbox Ed25519 PRIVATE key: keep it offline, never give it where a public key is asked"
_PSEUDONYM_INFO = b"ballotbox voter-pseudonym key/1"


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

    def pseudonym_key(self, election_hash: str) -> bytes:
        """The voter-pseudonym key of the election with this hash (32 bytes, the same at every
        call: every re-issued package of the election carries it)."""
        return HKDF(algorithm=hashes.SHA256(), length=32, salt=election_hash.encode("ascii"),
                    info=_PSEUDONYM_INFO).derive(bytes.fromhex(self.private_hex()))

    def private_hex(self) -> str:
        return self._key.private_bytes(serialization.Encoding.Raw, serialization.PrivateFormat.Raw,
                                       serialization.NoEncryption()).hex()


def write_secret_file(path: Path, text: str) -> None:
    """Create ``path`` with mode 0600 holding ``text``; never overwrite (O_EXCL)."""
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="ascii") as fh:
        fh.write(text)
    os.chmod(path, 0o600)  # whatever the umask


def private_key_text(hex_key: str) -> str:
    """What a private key file holds: ``PRIVATE_HEADER`` and the key in hex."""
    return f"{PRIVATE_HEADER}\n{hex_key}\n"


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
        write_secret_file(private, private_key_text(key.private_hex()))
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
        raise AuthorityKeyError(f"no such file: {path} (the {what})") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise AuthorityKeyError(f"cannot read {what} {path}: {getattr(exc, 'strerror', None) or exc}") from None


def _key_lines(text: str) -> tuple[bool, str]:
    """(whether the text carries the private-key header, the key's hex without comments)."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    labelled = any(line == PRIVATE_HEADER for line in lines)
    return labelled, "".join(line for line in lines if not line.startswith("#"))


def _public_of(private_hex: str) -> str | None:
    try:
        return AuthorityKey.from_seed(bytes.fromhex(private_hex)).public_key_hex()
    except ValueError:
        return None


def _pair_partner(path: Path, suffix: str) -> str | None:
    """The hex key in the file beside ``path`` with ``suffix`` (authority.key <-> .pub)."""
    try:
        return _key_lines(path.with_suffix(suffix).read_text(encoding="ascii"))[1].lower()
    except (OSError, UnicodeDecodeError):
        return None


def read_private_key_bytes(path: str | Path, what: str = "authority private key") -> bytes:
    """The 32 raw bytes of an Ed25519 private key kept as hex in a 0600 file (like ssh, a key
    file others may read is refused); a public key file given instead is named as such."""
    p = Path(path)
    labelled, hex_key = _key_lines(_read_text(p, what))
    partner = _pair_partner(p, ".key")
    if not labelled and (p.suffix == ".pub" or (partner and _public_of(partner) == hex_key.lower())):
        raise AuthorityKeyError(f"{p} is a public key, not the {what}: give the private key file "
                                f"(e.g. {p.with_suffix('.key').name}, mode 0600)")
    mode = stat.S_IMODE(p.stat().st_mode)
    if mode & 0o077:
        raise AuthorityKeyError(f"{p} is readable by others (mode {mode:o}): run 'chmod 600 {p}'")
    try:
        raw = bytes.fromhex(hex_key)
        Ed25519PrivateKey.from_private_bytes(raw)
        return raw
    except ValueError:
        raise AuthorityKeyError(f"{p} is not an Ed25519 {what} in hex") from None


def read_authority_key(path: str | Path) -> AuthorityKey:
    """The authority's private key in ``path`` (made by 'ballotbox election keygen')."""
    return AuthorityKey.from_seed(read_private_key_bytes(path))


def read_public_key(path_or_hex: str | Path) -> str:
    """A public key as lower-case hex, from a file (``authority.pub``) or given as hex. A
    private key file is refused as such (and never quoted)."""
    text = str(path_or_hex).strip()
    if len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text) and not Path(text).exists():
        hex_key, where = text, "the 64-digit value given"
    else:
        p = Path(text)
        labelled, hex_key = _key_lines(_read_text(p, "public key"))
        where = str(p)
        partner = _pair_partner(p, ".pub")
        if labelled or (partner is not None and _public_of(hex_key) == partner):
            raise AuthorityKeyError(f"{p} is a PRIVATE key, not a public key: give the public key "
                                    f"(e.g. {p.with_suffix('.pub').name}); keep the private key offline")
    try:
        public_key_from_hex(hex_key)
    except SignatureError:
        raise AuthorityKeyError(f"{where} is not an Ed25519 public key in hex") from None
    return hex_key.lower()


class IssueLog:
    """The authority's record of issued packages: election hash -> last serial and identity."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        try:
            doc = json.loads(self.path.read_text(encoding="utf-8"))
            self.elections: dict[str, dict] = dict(doc["elections"])
        except FileNotFoundError:
            self.elections = {}
        except (OSError, UnicodeDecodeError, ValueError, KeyError, TypeError) as exc:
            raise AuthorityKeyError(f"cannot read the authority's issue log {self.path}: {exc}") from None

    @classmethod
    def beside(cls, private_key_path: str | Path) -> IssueLog:
        return cls(Path(private_key_path).with_name(ISSUED_NAME))

    def last_serial(self, election_hash: str) -> int:
        return int(self.elections.get(election_hash, {}).get("serial", 0))

    def next_serial(self, election_hash: str, requested: int | None = None) -> int:
        """``requested`` (when above the last issued) or the last issued + 1."""
        last = self.last_serial(election_hash)
        if requested is None:
            return last + 1
        if requested <= last:
            raise AuthorityKeyError(f"serial {requested} is not above serial {last}, already issued "
                                    f"for this election ({self.path}): units refuse an older package")
        return requested

    def record(self, election_hash: str, election_id: str, serial: int, identity: str) -> None:
        """Keep the issue (written whole, then renamed over the old log)."""
        self.elections[election_hash] = {"election_id": election_id, "serial": serial,
                                         "package_sha256": identity}
        tmp = self.path.with_name(self.path.name + ".tmp")
        try:
            tmp.write_text(json.dumps({"format": "ballotbox-issue-log/1", "elections": self.elections},
                                      indent=1, sort_keys=True) + "\n", encoding="utf-8")
            os.replace(tmp, self.path)
        except OSError as exc:
            raise AuthorityKeyError(f"cannot write the issue log {self.path}: {exc.strerror or exc}") from None
