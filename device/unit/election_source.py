"""Where the unit's election comes from: the signed election package kept in its store.

``provisioned_package(store, config)`` is called at boot: a store with no trust anchor is
provisioned with the config's ``authority`` key (``device/station/provisioning.py``; a unit is
provisioned once, and a different anchor is refused), then the package already loaded, if any,
is verified again from the store (``current_package``). ``load_package_now`` is the election
manager's "Load election package": it verifies the config's ``package`` file against the trust
anchor, checks the station and the election, and asks for the manager's PIN from the package
itself. Every refusal names its reason (unsigned, altered, another authority, a station the unit
is not registered for, another election) and is journaled by provisioning.
"""
from __future__ import annotations

from typing import Callable

from device.election.authority import AuthorityKeyError, read_public_key
from device.election.package import PackageError
from device.station.provisioning import (LoadedPackage, ProvisioningError, current_package,
                                         load_into_unit, provision_unit, trust_anchor)
from device.store.journal import StationStore
from device.unit.config import ConfigError, UnitConfig


def provisioned_package(store: StationStore, config: UnitConfig) -> LoadedPackage | None:
    """Provision a new store from the config, then the package loaded into it (or None)."""
    try:
        if trust_anchor(store) is None:
            if config.authority is None:
                raise ConfigError(f"{config.path} [unit]: authority is missing (the election "
                                  "authority's public key this unit trusts)")
            provision_unit(store, read_public_key(config.authority))
        loaded = current_package(store)
    except (ProvisioningError, AuthorityKeyError, PackageError) as exc:
        raise ConfigError(f"{config.store}: {exc}") from None
    if loaded is not None and config.station and loaded.station_id != config.station:
        raise ConfigError(f"{config.path}: the unit serves station {loaded.station_id!r}, "
                          f"not {config.station!r}")
    return loaded


def load_package_now(store: StationStore, config: UnitConfig, clock: Callable[[], float],
                     pin: str) -> LoadedPackage:
    """Load the config's package (raises ``PackageError``/``AccessDenied``/``ConfigError``)."""
    if config.package is None:
        raise ConfigError(f"{config.path} [unit]: package is missing (the election package to load)")
    try:
        return load_into_unit(store, config.package, clock=clock, pin=pin, station_id=config.station)
    except ProvisioningError as exc:
        raise ConfigError(str(exc)) from None
