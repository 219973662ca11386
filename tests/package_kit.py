"""Shared fixtures for package tests: an authority, a unit key, a small roll, a built package."""
from __future__ import annotations

from pathlib import Path

from device.election.authority import AuthorityKey
from device.election.definition import load_election
from device.election.package import build_package
from device.election.voter_roll import Voter, VoterRoll
from device.store.signing import UnitSigner

EM_PIN, PW_PIN = "482913", "750264"


def demo_roll(election) -> VoterRoll:
    return VoterRoll([Voter(f"V{i:03d}", f"D{i:05d}", sid)
                      for i, sid in enumerate(["north-1"] * 4 + ["north-2"] * 3 + ["south-1"] * 2)],
                     election)


def make_package(tmp: Path, *, authority: AuthorityKey | None = None, unit: UnitSigner | None = None,
                 name: str = "demo.bbpkg", election=None, mode: str = "live",
                 pseudonym_key: bytes = b"k" * 32, serial: int = 1,
                 manager_pin_length: int = 6, em_pin: str = EM_PIN) -> tuple[Path, AuthorityKey, UnitSigner]:
    election = election or load_election("demo")
    authority = authority or AuthorityKey.from_seed(b"A" * 32)
    unit = unit or UnitSigner.generate()
    path = build_package(
        election, demo_roll(election), authority, tmp / name,
        units={"north-1": [unit.public_key_hex()]},
        staff_pins={"north-1": {"election_manager": em_pin, "poll_worker": PW_PIN}},
        languages=["en", "km"], mode=mode, pseudonym_key=pseudonym_key, pin_cost="simulation",
        serial=serial, manager_pin_length=manager_pin_length)
    return path, authority, unit
