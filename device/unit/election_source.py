"""Where the unit's election comes from: the one function to switch to signed election packages.

``load_unit_election(config)`` returns the election definition, the voter roll and the key of
the voters' pseudonyms. Today it reads the election file and roll CSV the config names (the
interim way, before packages); once ``device/election/package.py`` lands it loads the package
provisioned into the unit and everything else follows unchanged.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass

from device.election.definition import Election, ElectionError, load_election
from device.election.voter_roll import VoterRoll, VoterRollError
from device.unit.config import ConfigError, UnitConfig


@dataclass(frozen=True)
class UnitElection:
    election: Election
    roll: VoterRoll
    pseudonym_key: bytes


def load_unit_election(config: UnitConfig) -> UnitElection:
    try:
        election = load_election(config.election)
    except ElectionError as exc:
        raise ConfigError(f"{config.path}: election: {exc}") from None
    if config.station not in election.stations:
        raise ConfigError(f"{config.path}: station {config.station!r} is not in election "
                          f"{election.id!r} (stations: {', '.join(election.stations)})")
    if config.roll is None:
        raise ConfigError(f"{config.path} [unit]: roll is missing (the voter roll CSV)")
    try:
        roll = VoterRoll.from_csv(config.roll, election)
    except VoterRollError as exc:
        raise ConfigError(f"{config.roll}: {exc}") from None
    # Until the package brings a random key, the key is derived from the election and roll.
    key = hashlib.sha256(b"pseudonym|" + election.hash.encode() + roll.sha256().encode()).digest()
    return UnitElection(election, roll, key)
