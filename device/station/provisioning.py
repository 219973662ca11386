"""Provisioning a unit and loading an election package into it (the election manager's jobs).

API::

    provision_unit(store, authority_public_key_hex, unit_key=None) -> str   # unit public key
    trust_anchor(store) -> str | None
    load_into_unit(store, package_path, *, clock, pin=None, station_id=None, access=None)
        -> LoadedPackage            # PackageError(reason) or AccessDenied(reason) on refusal
    current_package(store) -> LoadedPackage | None      # at boot: re-verified from the store
    unload_from_unit(store, *, clock, pin=None, access=None) -> str   # identity; UnloadRefused
    unload_refusal(store) -> (reason, why) | None                        # the rule, from the journal
    LoadedPackage: .package (ElectionPackage)  .station_id  .unit_public_key  .election  .roll
                   .pseudonym_key  .sha256  .access(store, clock) -> StationAccess

A unit is provisioned once: the authority's public key (its trust anchor) is written into the
store's ``unit_meta`` (write-once, like the unit key kept there by ``device/store/signing.py``),
and the unit's own Ed25519 key is created there — or imported from a key file, so the same unit
keeps its registered key when it starts a new store for the next election.

Loading verifies the package against the trust anchor (``device/election/package.py``), finds
the station this unit's key is registered for (or checks the one named), refuses to go back
(``rollback``: a serial lower than the newest this journal loaded for the election, or another
package with the same serial; both serials are named) and a re-issue whose pseudonym key differs
once a voter checked in (``pseudonym_key_changed``), refuses a second election, asks for the
*election manager's* PIN from the package itself (lockouts are rebuilt from the journal, so
retrying through reloads gains nothing), then keeps the package bytes in ``unit_meta``
(``package:<identity>``) and journals ``package_loaded`` with its identity, serial, pseudonym
key fingerprint and the acting role. Every refusal is journaled as ``package_refused`` with its
reason. ``current_package`` re-verifies the kept bytes at every boot, so a store edited behind
the unit's back (garbage, or another validly signed package) does not load.

One store holds one election. ``unload_from_unit`` (election manager) is allowed only before
the polls ever opened, or once they are closed *and* exported after the close and the last
cast (``unload_refusal``; ``UnloadRefused`` names ``polls_open`` or ``not_exported``): a package
swapped mid-day would otherwise let a voter check in again. After an unload the same store may
take a package of the same election again; another election needs a new store (the old one is
the archive).
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable

from device.election.definition import Election
from device.election.package import ElectionPackage, PackageError, load_package_bytes
from device.election.voter_roll import VoterRoll
from device.results.signed_results import mode_for_package
from device.station.roles import ELECTION_MANAGER, AccessDenied, StationAccess
from device.store.journal import StationStore
from device.store.signing import KEY_META, KEY_ORIGIN_META, SignatureError, UnitSigner, provision, public_key_from_hex

ANCHOR_META = "authority_key"
PACKAGE_META = "package:"  # + sha256: the bytes of a loaded package


class ProvisioningError(RuntimeError):
    """The unit or its store is not in a state to do this (one line saying why)."""


@dataclass
class LoadedPackage:
    package: ElectionPackage
    station_id: str
    unit_public_key: str

    @property
    def election(self) -> Election:
        return self.package.election

    @property
    def roll(self) -> VoterRoll:
        return self.package.roll(self.station_id)

    @property
    def pseudonym_key(self) -> bytes:
        return self.package.pseudonym_key

    @property
    def sha256(self) -> str:
        return self.package.sha256

    @property
    def results_mode(self) -> str:
        """``mode`` for the ``StationController``: what its signed results say (live | test)."""
        return mode_for_package(self.package.mode)

    def access(self, store: StationStore, clock: Callable[[], float], **kwargs: Any) -> StationAccess:
        """The station's operator access, journaling into ``store``, lockouts restored from it."""
        return station_access(store, self.package.staff(self.station_id), clock, **kwargs)


def station_access(store: StationStore, staff: dict[str, str], clock: Callable[[], float],
                   **kwargs: Any) -> StationAccess:
    access = StationAccess(staff, clock, journal=lambda t, d: store.append_event(t, d, clock()), **kwargs)
    access.restore(store.events())
    return access


def _meta(store: StationStore) -> tuple[Callable[[str], bytes | None], Callable[[str, bytes], None]]:
    meta = store.unit_metadata()
    if meta is None:
        raise ProvisioningError("this store keeps no unit metadata: a unit needs a SQLite store")
    return meta.read_meta, meta.write_meta


def provision_unit(store: StationStore, authority_public_key_hex: str,
                   unit_key: UnitSigner | None = None) -> str:
    """Write the trust anchor and the unit key (created, or ``unit_key``); return the unit's
    public key. Provisioning again with the same anchor and key changes nothing."""
    read, write = _meta(store)
    try:
        public_key_from_hex(authority_public_key_hex)
    except SignatureError as exc:
        raise ProvisioningError(str(exc)) from None
    anchor = authority_public_key_hex.strip().lower()
    existing = read(ANCHOR_META)
    if existing is not None and existing.decode("ascii") != anchor:
        raise ProvisioningError("this unit already trusts another authority key "
                                f"({existing.decode('ascii')[:16]}...): a unit is provisioned once")
    if unit_key is not None:
        current = read(KEY_META)
        if current is not None and current != unit_key.private_bytes():
            raise ProvisioningError("this store already holds another unit key")
        if current is None:
            write(KEY_META, unit_key.private_bytes())
            write(KEY_ORIGIN_META, unit_key.origin.encode("ascii"))
    signer = provision(store)
    if existing is None:
        write(ANCHOR_META, anchor.encode("ascii"))
    _owner_only(store.path)
    return signer.public_key_hex()


def _owner_only(path: Path | None) -> None:
    """The store keeps the unit key and, once loaded, the pseudonym key: mode 0600 (with the
    SQLite files beside it, which SQLite creates with the database's mode)."""
    if path is None:
        return
    for suffix in ("", "-wal", "-shm"):
        part = Path(f"{path}{suffix}")
        if part.exists():
            part.chmod(0o600)


def trust_anchor(store: StationStore) -> str | None:
    raw = _meta(store)[0](ANCHOR_META)
    return raw.decode("ascii") if raw is not None else None


def _anchor_and_key(store: StationStore) -> tuple[str, str]:
    anchor = trust_anchor(store)
    if anchor is None:
        raise ProvisioningError("this unit is not provisioned: run 'ballotbox device provision' "
                                "with the authority's public key first")
    return anchor, provision(store).public_key_hex()


def _package_events(store: StationStore) -> list[Any]:
    return [r for r in store.events() if r.type in ("package_loaded", "package_unloaded")]


def current_package(store: StationStore) -> LoadedPackage | None:
    """The package loaded into this unit (verified again from the kept bytes), or None."""
    events = _package_events(store)
    if not events or events[-1].type != "package_loaded":
        return None
    anchor, unit_key = _anchor_and_key(store)
    data = events[-1].data
    raw = _meta(store)[0](PACKAGE_META + data["sha256"])
    if raw is None:
        raise ProvisioningError(f"the loaded package {data['sha256'][:16]}... is missing from the store")
    pkg = load_package_bytes(raw, anchor, f"store:{data['sha256'][:16]}")
    if pkg.sha256 != data["sha256"]:
        raise PackageError("altered", "the package kept in the store is not the one loaded")
    pkg.check_unit(data["station"], unit_key)
    return LoadedPackage(pkg, data["station"], unit_key)


def _station_for(pkg: ElectionPackage, station_id: str | None, unit_key: str) -> str:
    if station_id is not None:
        pkg.check_unit(station_id, unit_key)
        return station_id
    mine = [s for s in pkg.stations if unit_key in pkg.registry.get(s, ())]
    if not mine:
        raise PackageError("not_registered", f"unit key {unit_key[:16]}... is registered for no "
                                             f"station of election {pkg.election.id!r}")
    if len(mine) > 1:
        raise PackageError("wrong_station", f"this unit is registered for {', '.join(mine)}: "
                                            f"name the station to serve")
    return mine[0]


def _other_election(store: StationStore, pkg: ElectionPackage) -> None:
    loaded = current_package(store)
    if loaded is not None and loaded.sha256 != pkg.sha256:
        what = "another election" if loaded.election.hash != pkg.election.hash else \
            "another package of this election"
        raise PackageError("other_election", f"the unit holds {what} ({loaded.election.id}, "
                                             f"package {loaded.sha256[:16]}...): the election "
                                             f"manager unloads it first")
    for r in store.events():
        if r.type == "load_election" and r.data.get("election_hash") != pkg.election.hash:
            raise PackageError("other_election", f"this store holds the journal of election "
                                                 f"{r.data.get('election_id')!r}: start a new store "
                                                 f"for another election (keep this one as the archive)")


def _no_going_back(store: StationStore, pkg: ElectionPackage) -> None:
    """Refuse a package older than (or a sibling of) the newest this unit loaded for the
    election, and a re-issue whose pseudonym key differs once a voter checked in."""
    seen = [r.data for r in store.events()
            if r.type == "package_loaded" and r.data.get("election_hash") == pkg.election.hash]
    newest = max(seen, key=lambda d: int(d.get("serial", 0)), default=None)
    if newest is not None:
        serial = int(newest.get("serial", 0))
        if pkg.serial < serial or (pkg.serial == serial and pkg.sha256 != newest["sha256"]):
            raise PackageError("rollback", f"package serial {pkg.serial} is not newer than serial "
                                           f"{serial} (package {newest['sha256'][:16]}...), already "
                                           f"loaded for election {pkg.election.id!r}")
    keys = {d.get("pseudonym_key_id") for d in seen} - {None, pkg.pseudonym_key_id}
    if keys and any(r.type == "authorise" for r in store.events()):
        raise PackageError("pseudonym_key_changed", f"this package's voter-pseudonym key "
                                                    f"({pkg.pseudonym_key_id}) is not the one voters "
                                                    f"already checked in under: they could vote again")


def load_into_unit(store: StationStore, package_path: str | Path, *, clock: Callable[[], float],
                   pin: str | None = None, station_id: str | None = None,
                   access: StationAccess | None = None) -> LoadedPackage:
    """Verify and load a package (see the module docstring); journaled either way."""
    anchor, unit_key = _anchor_and_key(store)
    try:
        try:
            raw = Path(package_path).read_bytes()
        except OSError as exc:
            raise PackageError("malformed", f"cannot read {package_path}: {exc.strerror or exc}") from None
        pkg = load_package_bytes(raw, anchor, package_path)
        station = _station_for(pkg, station_id, unit_key)
        _no_going_back(store, pkg)
        _other_election(store, pkg)
    except PackageError as exc:
        store.append_event("package_refused", {"reason": exc.reason}, clock())
        raise
    if access is None:
        access = station_access(store, pkg.staff(station), clock)
        if pin is not None:
            access.login(ELECTION_MANAGER, pin)
    role = access.require("load_package")
    loaded = current_package(store)
    if loaded is None:
        _meta(store)[1](PACKAGE_META + pkg.sha256, raw)
        store.append_event("package_loaded", {
            "sha256": pkg.sha256, "serial": pkg.serial, "election_id": pkg.election.id,
            "election_hash": pkg.election.hash, "station": station, "mode": pkg.mode,
            "pseudonym_key_id": pkg.pseudonym_key_id, "role": role}, clock())
    return LoadedPackage(pkg, station, unit_key)


def unload_refusal(store: StationStore) -> tuple[str, str] | None:
    """(reason, why) when the package may not be unloaded now, else None: only before the
    polls ever opened, or once they are closed *and* exported after the close and the last
    cast (a package swap mid-day would let a voter check in again). The polls state comes
    from the journal through the machine's own table (``device/station/machine.py``)."""
    from device.station.machine import REGIONS
    dest = {t["trigger"]: t["dest"] for t in REGIONS["polls"]["transitions"]}
    polls, opened = REGIONS["polls"]["initial"], False
    last_change = last_export = last_cast = 0
    for r in store.events():
        if r.type in dest:
            polls, last_change = dest[r.type], r.seq
            opened = opened or polls == "polls_open"
        elif r.type == "export_written":
            last_export = r.seq
        elif r.type == "ballot_cast":
            last_cast = r.seq
    if opened and polls != "polls_closed":
        return ("polls_open", "the polls have opened and are not closed: close the polls and export "
                              "before unloading the election package")
    if last_export < max(last_change if opened else 0, last_cast):
        return ("not_exported", "the unit holds a day not exported since it ended: export first "
                                "('ballotbox device export')")
    return None


class UnloadRefused(ProvisioningError):
    """``unload_from_unit`` refused; ``reason`` is ``polls_open`` or ``not_exported``."""

    def __init__(self, reason: str, why: str):
        self.reason = reason
        super().__init__(f"unload refused ({reason}): {why}")


def unload_from_unit(store: StationStore, *, clock: Callable[[], float], pin: str | None = None,
                     access: StationAccess | None = None) -> str:
    """Unload the current package (election manager; see ``unload_refusal``): its identity."""
    loaded = current_package(store)
    if loaded is None:
        raise ProvisioningError("no election package is loaded")
    if access is None:
        access = loaded.access(store, clock)
        if pin is not None:
            access.login(ELECTION_MANAGER, pin)
    role = access.require("unload_package")
    refusal = unload_refusal(store)
    if refusal is not None:
        raise UnloadRefused(*refusal)
    store.append_event("package_unloaded", {"sha256": loaded.sha256, "role": role}, clock())
    return loaded.sha256


__all__ = ["AccessDenied", "LoadedPackage", "PackageError", "ProvisioningError", "UnloadRefused",
           "current_package", "load_into_unit", "provision_unit", "station_access", "trust_anchor",
           "unload_from_unit", "unload_refusal"]
