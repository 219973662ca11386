"""The national specs as a source of election names for the one lookup (``device.election.names``).

A spec's name (``sim/national/specs/<name>.json``) gives the election its generator makes
(``sim.national.generator.national_election``): every district, station and registered count.
Registered in the ``ballotbox.elections`` entry-point group through ``sim.ELECTIONS``; imports
the generator only when a name is loaded.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from device.election.definition import Election

NATIONAL_SPEC = "national spec"  # the kind, as the lookup's error and --help name it


@dataclass(frozen=True)
class NationalSpecs:
    kind: str = NATIONAL_SPEC

    def names(self) -> list[str]:
        from sim.national.generator import spec_names

        return spec_names()

    def load(self, name: str) -> Election:
        from sim.national.generator import national_election

        return national_election(name).election


NATIONAL_SPECS = NationalSpecs()
