"""Signed election packages: everything a unit needs for one election, in one zip file.

API::

    build_package(election, roll, authority, out, *, units=None, staff_pins=None,
                  languages=("en",), mode="live", pseudonym_key=None, pin_cost="device",
                  paper="letter", serial=1, manager_pin_length=6) -> Path
    load_package(path, authority_public_key_hex) -> ElectionPackage   (load_package_bytes: same)
        .election (Election)  .roll(station_id) -> VoterRoll   .stations
        .registry {station: (unit key hex, ...)}   .unit_keys(station_id) -> list[str]
        .staff(station_id) -> {role: argon2 hash}  .languages  .mode  .pseudonym_key (bytes)
        .sha256 (identity: of manifest.json)  .serial  .pin_lengths {role: digits}
        .pseudonym_key_id  .authority (hex)   .check_unit(station_id, unit_key_hex)
    PackageError(reason, detail): .reason in REASONS; str() names the reason

Members of the zip (``PACKAGE_FORMAT``), written in sorted order with fixed timestamps, mode
0600 (``device/election/package_format.py``):

- ``package.json``: format, election id and hash, mode (live | test | simulation), languages,
  station ids, settings (``pin_lengths``: the election manager's 6 to 12 digits, the poll
  worker's 6);
- ``election.json``: the election definition (canonical JSON);
- ``rolls/<station>.csv``: the voter roll of each station (``device/election/voter_roll.py``);
- ``layouts/<style>.json`` and ``layouts/<style>.test.json``: the ballot layouts (official and
  test deck) as ``BallotLayout.to_json`` gives them, for printers and outside tools;
- ``registry.json``: station -> the public keys of the units allowed to serve it;
- ``staff.json``: station -> role -> Argon2id hash of the role's PIN (``device/station/roles.py``);
- ``secret/templates/<station>.sealed``: the station's enrolled fingerprint templates, sealed to
  its registered units (``device/election/templates.py``; settings ``fingerprint``);
- ``secret/pseudonym.key``: the election's voter-pseudonym key (hex, 32 bytes): by default the
  authority's key for the election (``AuthorityKey.pseudonym_key``), the same in every re-issue;
- ``manifest.json``: the authority's public key, the election id and hash, the package's
  ``serial`` and, for every other member, its SHA-256 and size in bytes;
  ``manifest.sig``: the authority's Ed25519 signature of ``manifest.json``'s bytes.

**Identity.** A package is named by the SHA-256 of its signed ``manifest.json`` (``.sha256``),
not of the zip file: bytes in front of the zip or a zip comment do not change it, and two
packages with the same identity have the same contents.

Who holds the pseudonym key: the election authority and the units it loads into; it never
leaves a unit in an export, slip or journal (only ``pseudonym_key_id``, a one-way fingerprint,
is journaled). The package is therefore confidential, like the roll it carries: it travels by
sealed media and is not published; what is published is its identity and the authority's key.

Loading, in order, names the first failure as ``PackageError.reason``: ``malformed`` (not a
zip, no manifest, a member twice, contents that do not parse), ``too_large`` (past ``LIMITS``),
``unsigned`` (no signature), ``wrong_authority`` (validly signed by another key, or the trust
anchor given is the authority's private key), ``altered`` (the signature or a member's hash or
size does not match, members added or missing). The signature is checked before any member
but the manifest is read, and each member is inflated with a hard cap at its signed size.
``check_unit`` then gives ``wrong_station`` or ``not_registered``; ``other_election``,
``rollback`` and ``pseudonym_key_changed`` are ``device/station/provisioning.py``'s.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

from device.ballots.layout import LayoutError, layout_ballot
from device.election.authority import AuthorityKey
from device.election.definition import Election, ElectionError, parse_election
from device.election.package_format import (LIMITS, REASONS, PackageBuildError, PackageError,  # noqa: F401
                                            claimed_authority, open_zip, public_of_private, signed_by,
                                            write_zip)
from device.election.pseudonym import key_id
from device.election.templates import Enrolment, FingerprintSettings, TemplateError, template_member
from device.election.voter_roll import VoterRoll, VoterRollError
from device.election.staff import ELECTION_MANAGER, PIN_LENGTH, ROLES, PinError, hash_pin
from device.store.canonical_json import canonical_bytes
from device.store.signing import SignatureError, public_key_from_hex

PACKAGE_FORMAT = "ballotbox-package/2"
MODES = ("live", "test", "simulation")
MANIFEST, SIGNATURE = "manifest.json", "manifest.sig"
PACKAGE_INFO, ELECTION, REGISTRY, STAFF = "package.json", "election.json", "registry.json", "staff.json"
PSEUDONYM_KEY = "secret/pseudonym.key"
MANAGER_PIN_LENGTHS = range(PIN_LENGTH, 13)  # the election manager's PIN: 6 to 12 digits


def _roll_name(station_id: str) -> str:
    return f"rolls/{station_id}.csv"


def _sha256(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


# --- building -------------------------------------------------------------------------------

def build_package(election: Election, roll: VoterRoll | Iterable[VoterRoll], authority: AuthorityKey,
                  out: str | Path, *, units: dict[str, list[str]] | None = None,
                  staff_pins: dict[str, dict[str, str]] | None = None,
                  languages: Iterable[str] = ("en",), mode: str = "live",
                  pseudonym_key: bytes | None = None, pin_cost: str = "device",
                  paper: str = "letter", serial: int = 1,
                  manager_pin_length: int = PIN_LENGTH,
                  fingerprints: Enrolment | None = None) -> Path:
    """Write the signed package to ``out`` (never over an existing file, mode 0600) and return
    its path.

    ``roll``: one roll for every station, or several (one per station); ``units``: station ->
    unit public keys (hex); ``staff_pins``: station -> role -> PIN (hashed here, never stored);
    ``pseudonym_key``: by default the authority's key for this election
    (``AuthorityKey.pseudonym_key``), the same for every re-issue; ``serial``: this issue's
    number (a unit never goes back to a lower one); ``fingerprints``: the enrolled templates
    (sealed to each station's units) and the fingerprint settings (``device/election/templates.py``).
    """
    out = Path(out)
    if out.exists():
        raise PackageBuildError(f"{out} already exists: refusing to overwrite a package")
    if mode not in MODES:
        raise PackageBuildError(f"mode must be one of {', '.join(MODES)} (got {mode!r})")
    if isinstance(serial, bool) or not isinstance(serial, int) or serial < 1:
        raise PackageBuildError(f"the serial must be a whole number from 1 (got {serial!r})")
    if manager_pin_length not in MANAGER_PIN_LENGTHS:
        raise PackageBuildError(f"the election manager's PIN length must be "
                                f"{MANAGER_PIN_LENGTHS[0]} to {MANAGER_PIN_LENGTHS[-1]} digits")
    languages = list(languages)
    if not languages or not all(isinstance(x, str) and x.strip() for x in languages):
        raise PackageBuildError("give at least one language tag (e.g. en)")
    voters = [v for r in ([roll] if isinstance(roll, VoterRoll) else roll) for v in r.voters]
    try:
        whole = VoterRoll(voters, election)  # duplicates across rolls, unknown stations
    except VoterRollError as exc:
        raise PackageBuildError(f"voter roll: {exc}") from None
    key = authority.pseudonym_key(election.hash) if pseudonym_key is None else pseudonym_key
    if len(key) < 16:
        raise PackageBuildError("the pseudonym key must be at least 16 bytes")
    lengths = pin_lengths(manager_pin_length)
    registry = _registry(election, units or {})
    try:
        sealed = fingerprints.sealed(registry, election.hash) if fingerprints else {}
    except TemplateError as exc:
        raise PackageBuildError(f"fingerprint templates: {exc}") from None
    settings = {"pin_lengths": lengths, **({"fingerprint": fingerprints.settings.to_json()}
                                           if fingerprints else {})}
    members: dict[str, bytes] = {
        ELECTION: election.canonical_bytes(),
        PACKAGE_INFO: canonical_bytes({
            "format": PACKAGE_FORMAT, "election_id": election.id, "election_hash": election.hash,
            "mode": mode, "languages": languages, "stations": sorted(election.stations),
            "settings": settings}),
        REGISTRY: canonical_bytes(registry),
        STAFF: canonical_bytes(_staff(election, staff_pins or {}, pin_cost, lengths)),
        PSEUDONYM_KEY: key.hex().encode("ascii"),
    }
    members.update(sealed)
    for sid in sorted(election.stations):
        members[_roll_name(sid)] = VoterRoll(
            [v for v in whole.voters if v.station_id == sid]).to_csv().encode("utf-8")
    for style in sorted(election.ballot_styles):
        for test, suffix in ((False, ""), (True, ".test")):
            try:
                layout = layout_ballot(election, style, paper, test)
            except LayoutError as exc:
                raise PackageBuildError(f"ballot style {style!r}: {exc}") from None
            members[f"layouts/{style}{suffix}.json"] = canonical_bytes(layout.to_json(200))
    files: dict[str, dict[str, Any]] = {n: {"sha256": _sha256(b), "bytes": len(b)}
                                        for n, b in sorted(members.items())}
    if sum(f["bytes"] for f in files.values()) > LIMITS["package_bytes"]:
        raise PackageBuildError(f"the package would hold more than {LIMITS['package_bytes']} bytes, "
                                f"more than a unit reads")
    manifest = canonical_bytes({"format": PACKAGE_FORMAT, "authority": authority.public_key_hex(),
                                "election_id": election.id, "election_hash": election.hash,
                                "serial": serial, "files": files})
    members[MANIFEST] = manifest
    members[SIGNATURE] = authority.sign(manifest).hex().encode("ascii")
    write_zip(out, members)
    return out


def pin_lengths(manager_pin_length: int = PIN_LENGTH) -> dict[str, int]:
    """Role -> digits of its PIN: the poll worker's is always six."""
    return {role: manager_pin_length if role == ELECTION_MANAGER else PIN_LENGTH for role in ROLES}


def _registry(election: Election, units: dict[str, list[str]]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {sid: [] for sid in election.stations}
    for sid, keys in units.items():
        if sid not in election.stations:
            raise PackageBuildError(f"unit registry: unknown station {sid!r}")
        if isinstance(keys, str) or not isinstance(keys, list):
            raise PackageBuildError(f"unit registry: station {sid!r} must list public keys")
        for key in keys:
            try:
                public_key_from_hex(str(key))
            except SignatureError:
                raise PackageBuildError(f"unit registry: station {sid!r}: {str(key)[:20]!r} is "
                                        f"not an Ed25519 public key in hex") from None
        out[sid] = sorted({str(k).strip().lower() for k in keys})
    return out


def _staff(election: Election, pins: dict[str, dict[str, str]], cost: str,
           lengths: dict[str, int]) -> dict[str, dict[str, str]]:
    out: dict[str, dict[str, str]] = {sid: {} for sid in election.stations}
    for sid, roles in pins.items():
        if sid not in election.stations:
            raise PackageBuildError(f"staff PINs: unknown station {sid!r}")
        for role, pin in roles.items():
            if role not in ROLES:
                raise PackageBuildError(f"staff PINs: station {sid!r}: unknown role {role!r} "
                                        f"(roles: {', '.join(ROLES)})")
            try:
                out[sid][role] = hash_pin(str(pin), cost, length=lengths[role])
            except PinError as exc:
                raise PackageBuildError(f"staff PINs: station {sid!r}, {role}: {exc}") from None
    return out


# --- loading --------------------------------------------------------------------------------

@dataclass
class ElectionPackage:
    """A verified package (``load_package``); nothing here is read before the checks pass."""

    path: Path
    sha256: str
    authority: str
    election: Election
    mode: str
    languages: tuple[str, ...]
    registry: dict[str, tuple[str, ...]]
    pseudonym_key: bytes = field(repr=False)
    serial: int = 1
    pin_lengths: dict[str, int] = field(default_factory=pin_lengths)
    fingerprint: FingerprintSettings | None = None  # None: no fingerprint step in this election
    _staff: dict[str, dict[str, str]] = field(repr=False, default_factory=dict)
    _members: dict[str, bytes] = field(repr=False, default_factory=dict)
    _rolls: dict[str, VoterRoll] = field(repr=False, default_factory=dict)

    @property
    def pseudonym_key_id(self) -> str:
        """A public fingerprint of the pseudonym key (journaled; reveals no pseudonym)."""
        return key_id(self.pseudonym_key)

    @property
    def stations(self) -> tuple[str, ...]:
        return tuple(sorted(self.election.stations))

    def _station(self, station_id: str) -> str:
        if station_id not in self.election.stations:
            raise PackageError("wrong_station", f"election {self.election.id!r} has no station "
                                                f"{station_id!r} (stations: {', '.join(self.stations)})")
        return station_id

    def roll(self, station_id: str) -> VoterRoll:
        sid = self._station(station_id)
        if sid not in self._rolls:
            try:
                text = self._members[_roll_name(sid)].decode("utf-8")
                self._rolls[sid] = VoterRoll.from_csv_text(text, self.election)
            except (KeyError, UnicodeDecodeError, VoterRollError) as exc:
                raise PackageError("malformed", f"the roll of station {sid!r}: {exc}") from None
        return self._rolls[sid]

    def unit_keys(self, station_id: str) -> list[str]:
        return list(self.registry.get(self._station(station_id), ()))

    def staff(self, station_id: str) -> dict[str, str]:
        """Role -> Argon2id hash of its PIN at ``station_id`` (roles without a PIN are absent)."""
        return dict(self._staff.get(self._station(station_id), {}))

    def sealed_templates(self, station_id: str) -> bytes | None:
        """The station's sealed fingerprint templates (``TemplateVault.open``), or None."""
        return self._members.get(template_member(self._station(station_id)))

    def layout_json(self, style_id: str, test: bool = False) -> dict[str, Any]:
        name = f"layouts/{style_id}{'.test' if test else ''}.json"
        return json.loads(self._members[name])

    def check_unit(self, station_id: str, unit_key_hex: str) -> None:
        """``PackageError`` unless the unit with this public key may serve ``station_id``."""
        keys = self.unit_keys(station_id)
        if unit_key_hex.strip().lower() not in keys:
            raise PackageError("not_registered", f"unit key {unit_key_hex[:16]}... is not among the "
                                                 f"{len(keys)} key(s) registered for station "
                                                 f"{station_id!r}")

    def summary(self) -> dict[str, Any]:
        """What ``election verify --json`` prints (no secret, no PIN hash)."""
        return {"sha256": self.sha256, "serial": self.serial, "authority": self.authority,
                "election_id": self.election.id, "election_hash": self.election.hash,
                "mode": self.mode, "pin_lengths": dict(self.pin_lengths),
                "pseudonym_key_id": self.pseudonym_key_id,
                "languages": list(self.languages), "stations": {
                    sid: {"voters": len(self.roll(sid)), "units": len(self.registry.get(sid, ())),
                          "roles_with_pin": sorted(self._staff.get(sid, {}))}
                    for sid in self.stations}}


def load_package(path: str | Path, authority_public_key_hex: str) -> ElectionPackage:
    """Verify the package at ``path`` against the trust anchor and return its contents."""
    path = Path(path)
    try:
        if path.stat().st_size > LIMITS["package_bytes"]:
            raise PackageError("too_large", f"{path} is larger than {LIMITS['package_bytes']} bytes")
        raw = path.read_bytes()
    except FileNotFoundError:
        raise PackageError("malformed", f"no package file {path}") from None
    except OSError as exc:
        raise PackageError("malformed", f"cannot read {path}: {exc.strerror or exc}") from None
    return load_package_bytes(raw, authority_public_key_hex, path)


def load_package_bytes(raw: bytes, authority_public_key_hex: str,
                       path: str | Path = "package") -> ElectionPackage:
    """``load_package`` of bytes already read (a unit keeps its package inside its store).

    Order: the manifest and its signature (capped reads), the signature against the anchor,
    the member names against the manifest, the declared total against ``LIMITS``, then each
    member streamed with a hard cap at its signed size and checked against its signed hash."""
    path = Path(path)
    anchor = authority_public_key_hex.strip().lower()
    zf = open_zip(raw, path)
    try:
        manifest_raw = zf.read_capped(MANIFEST, LIMITS["manifest_bytes"])
        if manifest_raw is None:
            raise PackageError("malformed", f"{path} holds no {MANIFEST}: not an election package")
        signature = (zf.read_capped(SIGNATURE, LIMITS["signature_bytes"]) or b"").decode(
            "ascii", "replace").strip()
        if not signature:
            raise PackageError("unsigned", f"{path} holds no {SIGNATURE}")
        if not signed_by(anchor, signature, manifest_raw):
            claimed = claimed_authority(manifest_raw)
            if public_of_private(anchor) == claimed.lower():
                raise PackageError("wrong_authority", "the trust anchor given is the authority's "
                                                      "PRIVATE key, not its public key (not shown)")
            if claimed.lower() != anchor and signed_by(claimed, signature, manifest_raw):
                raise PackageError("wrong_authority", f"signed by {claimed[:16]}..., the unit trusts "
                                                      f"{anchor[:16]}...")
            raise PackageError("altered", f"{MANIFEST} is not what the authority {anchor[:16]}... signed")
        manifest, files = _manifest(manifest_raw)
        for name in sorted(set(zf.infos) - set(files) - {MANIFEST, SIGNATURE}):
            raise PackageError("altered", f"member {name!r} is not in the signed manifest")
        total = sum(size for size, _ in files.values())
        if total > LIMITS["package_bytes"]:
            raise PackageError("too_large", f"the manifest declares {total} bytes (a unit reads at "
                                            f"most {LIMITS['package_bytes']})")
        members = {name: zf.read_signed(name, size, digest)
                   for name, (size, digest) in sorted(files.items())}
    finally:
        zf.close()
    return _parse(path, _sha256(manifest_raw), anchor, manifest, members)


def _manifest(raw: bytes) -> tuple[dict[str, Any], dict[str, tuple[int, str]]]:
    """The manifest and its files (name -> (bytes, sha256)); ``malformed`` if it is not one."""
    try:
        manifest = json.loads(raw)
        if manifest.get("format") != PACKAGE_FORMAT:
            raise ValueError(f"format {manifest.get('format')!r}, this unit reads {PACKAGE_FORMAT}")
        files = {str(n): (int(f["bytes"]), str(f["sha256"])) for n, f in dict(manifest["files"]).items()}
        if any(size < 0 for size, _ in files.values()):
            raise ValueError("a negative size")
        serial = manifest["serial"]
        if isinstance(serial, bool) or not isinstance(serial, int) or serial < 1:
            raise ValueError(f"serial {serial!r}")
    except (ValueError, KeyError, TypeError, AttributeError) as exc:
        raise PackageError("malformed", f"{MANIFEST} is not a package manifest ({exc})") from None
    return manifest, files


def _parse(path: Path, identity: str, anchor: str, manifest: dict[str, Any],
           members: dict[str, bytes]) -> ElectionPackage:
    try:
        info = json.loads(members[PACKAGE_INFO])
        election = parse_election(json.loads(members[ELECTION]))
        if info.get("format") != PACKAGE_FORMAT or info.get("election_hash") != election.hash \
                or manifest.get("election_hash") != election.hash:
            raise ValueError("package.json and the manifest do not describe election.json")
        mode = info["mode"]
        if mode not in MODES:
            raise ValueError(f"unknown mode {mode!r}")
        lengths = {str(r): int(n) for r, n in dict(info["settings"]["pin_lengths"]).items()}
        manager = lengths.get(ELECTION_MANAGER, 0)
        if manager not in MANAGER_PIN_LENGTHS or lengths != pin_lengths(manager):
            raise ValueError(f"PIN lengths {lengths}")
        registry = {str(k): tuple(v) for k, v in json.loads(members[REGISTRY]).items()}
        staff = {str(k): dict(v) for k, v in json.loads(members[STAFF]).items()}
        pseudonym_key = bytes.fromhex(members[PSEUDONYM_KEY].decode("ascii"))
        languages = tuple(info["languages"])
        finger = info["settings"].get("fingerprint")
        fingerprint = None if finger is None else FingerprintSettings.from_json(finger)
    except (KeyError, ValueError, TypeError, AttributeError, ElectionError) as exc:
        raise PackageError("malformed", f"signed contents do not parse ({exc})") from None
    return ElectionPackage(path, identity, anchor, election, mode, languages, registry,
                           pseudonym_key, manifest["serial"], lengths, fingerprint, staff, members)
