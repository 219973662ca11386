"""What one central service serves: the election, the unit-key registry, the voters, the mode.

A ``ServedElection`` is built from the authority's signed *public results package*
(``device.election.public_package``, checked against the authority key before anything is
served; the confidential election package, with rolls, PIN hashes and the pseudonym key, is
refused) by ``from_package``:

- ``keys``: unit public key (hex) -> the station it is registered for (a key registered for
  two stations is refused when the service starts);
- ``registered``: voters on the roll per station, as the authority counted them (unknown
  when the package says nothing: turnout and the ``ballots <= registered`` checks need them);
- ``mode``: the service's mode, ``live`` or ``test``. A live service refuses any package
  that is not live (a ``simulation`` or ``test`` package); a test service takes any package.
  An upload is accepted only when its own ``mode`` equals the service's.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from device.election.definition import Election
from device.election.public_package import PublicPackage
from device.results.signed_results import mode_for_package

SERVICE_MODES = ("live", "test")


class ServiceModeError(ValueError):
    """The package cannot be served in the requested mode."""


@dataclass
class ServedElection:
    election: Election
    keys: dict[str, str]  # unit public key hex -> station id
    mode: str = "test"
    package_sha256: str | None = None
    package_mode: str = "test"
    registered: dict[str, int] = field(default_factory=dict)

    def __post_init__(self) -> None:
        if self.mode not in SERVICE_MODES:
            raise ServiceModeError(f"mode must be live or test (got {self.mode!r})")
        if self.mode == "live" and self.package_mode != "live":
            raise ServiceModeError(f"a live service refuses a {self.package_mode} package")
        for key, station in self.keys.items():
            if station not in self.election.stations:
                raise ServiceModeError(f"unit key {key[:16]}... is registered for unknown station {station!r}")

    def registered_at(self, station_id: str) -> int | None:
        return self.registered.get(station_id)

    def to_json(self) -> dict[str, Any]:
        return {"election_id": self.election.id, "election_hash": self.election.hash,
                "title": self.election.title, "mode": self.mode, "package_mode": self.package_mode,
                "package_sha256": self.package_sha256, "units_registered": len(self.keys)}


def keys_by_station(station_keys: dict[str, list[str]]) -> dict[str, str]:
    """Invert station -> keys, refusing a key registered for two stations."""
    out: dict[str, str] = {}
    for station, keys in station_keys.items():
        for key in keys:
            key = key.strip().lower()
            if out.get(key, station) != station:
                raise ServiceModeError(f"unit key {key[:16]}... is registered for both "
                                       f"{out[key]!r} and {station!r}")
            out[key] = station
    return out


def from_package(package: PublicPackage, mode: str | None = None) -> ServedElection:
    """The served election of a verified public results package.

    ``mode`` None: live for a live package, test otherwise."""
    election = package.election
    if mode is None:
        mode = mode_for_package(package.mode)
    station_keys = {sid: package.unit_keys(sid) for sid in election.stations}
    return ServedElection(election, keys_by_station(station_keys), mode, package.sha256, package.mode,
                          dict(package.registered))
