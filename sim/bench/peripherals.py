"""Firmware overhead per ballot at full fidelity, mechanical delays excluded.

A real controller (SQLite store, durability=full) runs over the real drivers on ptys to the
twins; image paper (rendered, distorted ballots) goes through the real interpreter. Each stage
is timed with ``time.perf_counter`` around the firmware's own calls — serial round trips
(feed + accept/divert over the framed link), capture (virtual camera), interpretation, journal
(the cast transaction) — and the twins charge their mechanical time to a simulated clock, so
none of it is in the figures. Target: <= 16 ms per ballot (2 % of a ~0.8 s scan).
``python -m sim.bench peripherals [--quick]``.
"""
from __future__ import annotations

import random
import statistics
import tempfile
import time
from collections import defaultdict
from pathlib import Path

from device.station.controller import StationController
from sim.unit.access import StandingAccess
from device.election.definition import load_election
from device.election.identity import barcode_payload
from device.store.sqlite import SqliteStore
from device.election.voter_roll import Voter, VoterRoll
from hardware.interfaces import IdRecord
from sim.day.full_fidelity import build_full_peripherals
from sim.paper.image_paper import ImagePaper
from sim.day.station import SimClock

TARGET_MS = 16.0


def _timed(obj, name: str, stage: str, laps: dict) -> None:
    fn = getattr(obj, name)

    def wrapper(*a, **k):
        t0 = time.perf_counter()
        try:
            return fn(*a, **k)
        finally:
            laps[stage] += time.perf_counter() - t0
    setattr(obj, name, wrapper)


def _pct(values: list[float], q: float) -> float:
    return sorted(values)[min(len(values) - 1, int(q * len(values)))]


def main(quick: bool) -> None:
    n = 30 if quick else 200
    election = load_election("demo")
    station = next(iter(election.stations))
    style = election.stations[station].ballot_style
    paper = ImagePaper(election)
    rng = random.Random(1)
    voters = [Voter(f"V{i}", f"DOC{i:05d}", station) for i in range(n)]
    clock = SimClock(1_700_000_000.0)
    periph = build_full_peripherals(election, paper, random.Random(2), clock, transport="pty")
    with tempfile.TemporaryDirectory() as tmp:
        store = SqliteStore(Path(tmp) / "unit.db")
        ctl = StationController(election, station, VoterRoll(voters, election), store,
                                scanner=periph.scanner, camera=periph.camera,
                                interpreter=paper.interpreter, printer=periph.printer,
                                clock=clock, rng=random.Random(3), pseudonym_key=b"bench" * 8,
                                access=StandingAccess.for_roles(clock))
        ctl.open()
        laps: dict[str, float] = defaultdict(float)
        for name in ("feed", "accept", "divert", "return_sheet"):
            _timed(ctl.scanner, name, "serial round trips", laps)
        _timed(ctl.camera, "capture", "capture", laps)
        _timed(ctl.interpreter, "interpret", "interpretation", laps)
        _timed(ctl.store, "cast_ballot", "journal (cast transaction)", laps)
        per_stage: dict[str, list[float]] = defaultdict(list)
        totals, handles = [], []
        contests = election.contests_for_style(style)
        sheets = [paper.make_sheet(style, {c.id: tuple(rng.sample(c.choice_ids(), c.vote_for))
                                           for c in contests}, rng) for _ in range(n)]
        for voter, sheet in zip(voters, sheets):
            ctl.present_id(IdRecord("barcode", barcode_payload(voter.document_number)))
            periph.world.insert_sheet(sheet)
            periph.scanner.poll_event(timeout=1.0)
            laps.clear()
            t0 = time.perf_counter()
            outcome = ctl.handle_paper()
            handles.append(time.perf_counter() - t0)
            if outcome.status != "cast":
                raise SystemExit(f"bench ballot not cast: {outcome}")
            for stage, seconds in laps.items():
                per_stage[stage].append(seconds)
            totals.append(sum(laps.values()))
        store.close()
    periph.close()
    print(f"## peripherals: firmware overhead per ballot at full fidelity ({n} ballots, pty, SQLite)")
    print(f"{'stage':32s} {'median ms':>10s} {'p95 ms':>8s}")
    for stage, values in per_stage.items():
        print(f"{stage:32s} {statistics.median(values) * 1e3:10.2f} {_pct(values, 0.95) * 1e3:8.2f}")
    rest = [h - t for h, t in zip(handles, totals)]
    print(f"{'controller + state machine':32s} {statistics.median(rest) * 1e3:10.2f} {_pct(rest, 0.95) * 1e3:8.2f}")
    med = statistics.median(handles) * 1e3
    print(f"{'total handle_paper':32s} {med:10.2f} {_pct(handles, 0.95) * 1e3:8.2f}"
          f"   target <= {TARGET_MS:g} ms: {'met' if med <= TARGET_MS else 'NOT met'}"
          f" ({med / 800 * 100:.1f} % of a 0.8 s scan)")
