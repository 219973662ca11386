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


# --- a provisioned unit driven through the real CLI and the real controller ----------------

def cli(monkeypatch, capsys, *argv: str, stdin: str | None = None) -> tuple[int, str]:
    """Run ``ballotbox ARGV`` in-process: (exit status, everything printed)."""
    import io

    from device.cli.main import main
    if stdin is not None:
        monkeypatch.setattr("sys.stdin", io.StringIO(stdin + "\n"))
    code = main(list(argv))
    out = capsys.readouterr()
    return code, out.out + out.err


def export_argv(store: Path, out: Path) -> list[str]:
    """``device export``, the election manager's PIN read from standard input."""
    return ["device", "export", "--store", str(store), "--out", str(out), "--json", "--pin-stdin"]


class UnitOnStore:
    """The real ``StationController`` of a provisioned unit, booted from the package loaded in
    its SQLite store (memory twins for the peripherals, logical paper). ``shut_down()`` closes
    the store so the CLI can work on it, ``boot()`` starts the unit again from its journal."""

    def __init__(self, path: Path):
        import random

        from sim.day.memory_twins import build_memory_peripherals
        self.path, self.rng = path, random.Random(3)
        self.periph = build_memory_peripherals(self.rng)
        self.store = None
        self.boot()

    def boot(self):
        import random
        import time

        from device.station.controller import StationController
        from device.station.provisioning import current_package
        from device.store.signing import provision
        from device.store.sqlite import SqliteStore
        from sim.paper.logical_paper import LogicalPaper
        self.store = SqliteStore(self.path, durability="simulation")
        self.loaded = current_package(self.store)
        self.paper = LogicalPaper(self.loaded.election)
        self.ctl = StationController(
            self.loaded.election, self.loaded.station_id, self.loaded.roll, self.store,
            scanner=self.periph.scanner, camera=self.periph.camera, interpreter=self.paper.interpreter,
            printer=self.periph.printer, clock=time.time, rng=random.Random(9),
            pseudonym_key=self.loaded.pseudonym_key, access=self.loaded.access(self.store, time.time),
            signer=provision(self.store), mode=self.loaded.results_mode)
        return self

    def shut_down(self) -> None:
        self.store.close()

    def checkin(self, document: str):
        from device.election.identity import barcode_payload
        from hardware.interfaces import IdRecord
        return self.ctl.present_id(IdRecord("barcode", barcode_payload(document)))

    def vote(self, document: str):
        outcome = self.checkin(document)
        assert outcome.authorised, outcome
        style = self.loaded.election.stations[self.loaded.station_id].ballot_style
        marks = {c.id: tuple(c.choice_ids()[:c.vote_for])
                 for c in self.loaded.election.contests_for_style(style)}
        self.periph.world.insert_sheet(self.paper.make_sheet(style, marks, self.rng, "ballot"))
        return self.ctl.handle_paper()
