"""A simulated polling-station day through the real controller, at any fidelity.

``build_station_day`` plans the day from a scenario (``sim/day/voters.py``), builds the peripherals
for the fidelity (``logical``: in-memory twins and marks as data; ``image``: in-memory twins
and rendered, marked, distorted ballot images read by the real interpreter; ``full``: the real
drivers over ptys to the twins) and the controller; ``play_station_day`` plays it: zero report
and open, each visitor at the ID desk and the ballot box (``visit``: returns, second chances,
jams cleared by the operator with ``operator_clears``), close, results. ``run_station_day`` does
both. The power-loss harness builds a day on its own peripherals and plays visits itself.

Randomness comes in separate seeded streams (plan, paper, faults, record ids) so that the same
seed gives the same voters and the same intentions at every fidelity, and the clock is a
simulated one. The report compares the device's tally with the ground truth: what the people
who marked the cast sheets meant, counted under the election's policy by ``voters_intent`` —
written here on its own, without the firmware's rules, so that a wrong rule in the firmware
shows as a mismatch. The voter-pseudonym key comes from the seed (``pseudonym_key_for``).
"""
from __future__ import annotations

import datetime as dt
import hashlib
import random
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any, Callable

from device.ballots.records import CastVoteRecord
from device.station.controller import StationController
from device.election.definition import Election
from device.results.exports import json_doc, json_line
from device.store.journal import MemoryStore, StationStore
from device.results.tally import tally_station
from hardware.interfaces import ScannerEventKind
from sim.unit.access import StandingAccess
from sim.day.fingerprint_day import checkin_with_finger, fingerprint_step_for
from sim.day.voters import Scenario, Visitor, plan_station_day

FIDELITIES = ("logical", "image", "full")
_AT_ENTRY = ScannerEventKind.PAPER_AT_ENTRY  # (an enum member named costs a class lookup: read once)
MAX_ATTEMPTS = 4  # a voter whose sheet keeps coming back gives up after this many tries


class SimClock:
    """Simulated wall clock (seconds since the epoch); advanced by the simulation only."""

    def __init__(self, start: float):
        self.now = start

    def __call__(self) -> float:
        return self.now

    def reader(self) -> Callable[[], float]:
        """The time as a callable that runs no Python code (``getattr(self, "now")``): the
        controller reads its clock for every journal record, ~6 times per ballot."""
        return partial(getattr, self, "now")

    def advance(self, seconds: float) -> None:
        self.now += seconds


def pseudonym_key_for(seed: int) -> bytes:
    """The simulated election authority's voter-pseudonym key for ``seed``."""
    return hashlib.sha256(f"ballotbox-sim:{seed}:pseudonym-key".encode()).digest()


def _streams(seed: int) -> dict[str, random.Random]:
    return {name: random.Random(f"{seed}:{name}") for name in ("plan", "paper", "faults", "ids", "clock")}


def make_paper(fidelity: str, election: Election):
    if fidelity == "logical":
        from sim.paper.logical_paper import LogicalPaper
        return LogicalPaper(election)
    from sim.paper.image_paper import ImagePaper
    return ImagePaper(election)


def build_peripherals(fidelity: str, election: Election, paper, rngs, clock, scenario: Scenario,
                      profile: str | None = None, printed_dir: Path | None = None):
    if fidelity == "full":
        from sim.day.full_fidelity import build_full_peripherals
        return build_full_peripherals(election, paper, rngs["faults"], clock, profile=profile,
                                      out_dir=printed_dir)
    from sim.day.memory_twins import build_memory_peripherals
    return build_memory_peripherals(rngs["faults"], scenario.jam_rate, scenario.double_feed_rate)


def voters_intent(election: Election, style: str, marks: dict[str, tuple[str, ...]]) -> dict:
    """What a sheet marked ``marks`` should count as under the election's policy: per contest
    (sorted selections, status). Written independently of ``device/`` on purpose."""
    out = {}
    for contest in election.contests_for_style(style):
        chosen = tuple(sorted(marks.get(contest.id, ())))
        if not chosen:
            status = "blank"
        elif len(chosen) > contest.vote_for:
            status = "overvote"
        elif len(chosen) < contest.vote_for:
            status = "undervote"
        else:
            status = "valid"
        out[contest.id] = (chosen, status)
    policy = election.policy
    if policy["overvote"] == "accept-invalid":
        out = {cid: (sel, "invalid" if st == "overvote" else st) for cid, (sel, st) in out.items()}
    if policy["blank"] == "accept-invalid" and all(st == "blank" for _, st in out.values()):
        out = {cid: (sel, "invalid") for cid, (sel, _) in out.items()}
    return out


@dataclass
class StationDay:
    election: Election
    station_id: str
    seed: int
    fidelity: str
    registered: int
    controller: StationController
    peripherals: Any
    visitors: list[Visitor]
    paper: Any = None
    rngs: dict[str, random.Random] = field(default_factory=dict)
    clock: SimClock | None = None
    truth_cvrs: list[CastVoteRecord] = field(default_factory=list)  # what the voters meant (_truth)
    notices: list[dict] = field(default_factory=list)  # operator messages worth showing
    fingerprint: Any = None  # the ID desk's fingerprint step (sim/day/fingerprint_day.py), if any

    def report(self) -> dict:
        ctl = self.controller
        results = ctl.results().to_json()
        truth = tally_station(self.election, self.station_id, self.truth_cvrs).to_json()
        world = self.peripherals.world
        physical = {"sheets_in_box": world.sheets_in_box,
                    "sheets_in_invalid_compartment": world.sheets_in_invalid_compartment}
        return {
            "election": self.election.id, "election_hash": self.election.hash,
            "station": self.station_id, "seed": self.seed, "fidelity": self.fidelity,
            "voters_registered": self.registered, "visitors": len(self.visitors),
            "results": results["contests"],
            "ballots_cast": results["ballots_cast"],
            "reconciliation": ctl.reconciliation(),
            "physical": physical,
            "matches_ground_truth": results == truth,
            "paper_matches_records": physical["sheets_in_box"] + physical["sheets_in_invalid_compartment"]
            == results["ballots_cast"],
            "state": ctl.state,
            **({"fingerprint": self.fingerprint.report(ctl.counters.by_commission)}
               if self.fingerprint is not None else {}),
        }


def build_station_day(election: Election, station_id: str | None = None, *, registered: int,
                      seed: int, scenario: Scenario, fidelity: str = "logical",
                      store: StationStore | None = None, signer=None, profile: str | None = None,
                      printed_dir: Path | None = None, enforce_authorisation: bool = True,
                      peripherals: Any = None, rngs: dict[str, random.Random] | None = None,
                      clock: SimClock | None = None, biometric: bool | None = None) -> StationDay:
    """Plan the day and build its peripherals and controller (which boots on ``store``).

    ``peripherals``, ``rngs`` (paper, faults, ids, clock) and ``clock`` replace the ones built
    from the seed — the power-loss harness restarts a day on its own persistent world. The plan
    (voters and their intentions) always comes from ``seed``. ``biometric``: the fingerprint step
    at the ID desk (None: as the scenario says; a reboot reuses the peripherals' step)."""
    if fidelity not in FIDELITIES:
        raise ValueError(f"fidelity must be one of {', '.join(FIDELITIES)}")
    station_id = station_id or next(iter(election.stations))
    if station_id not in election.stations:
        raise ValueError(f"unknown station {station_id!r} (stations: {', '.join(election.stations)})")
    streams = _streams(seed)
    roll, visitors = plan_station_day(election, station_id, registered, scenario, streams["plan"])
    streams.update(rngs or {})
    if clock is None:
        y, m, d = (int(x) for x in election.date.split("-"))
        clock = SimClock(dt.datetime(y, m, d, 7, 0, tzinfo=dt.timezone.utc).timestamp())
    paper = make_paper(fidelity, election)
    if peripherals is None:
        peripherals = build_peripherals(fidelity, election, paper, streams, clock, scenario, profile,
                                        printed_dir)
    try:
        finger = fingerprint_step_for(scenario, biometric, peripherals, election=election,
                                      station_id=station_id, roll=roll, seed=seed, fidelity=fidelity,
                                      clock=clock, unit=signer)
        ctl = StationController(election, station_id, roll, store if store is not None else MemoryStore(),
                                scanner=peripherals.scanner, camera=peripherals.camera,
                                interpreter=paper.interpreter, printer=peripherals.printer,
                                clock=clock.reader(), rng=streams["ids"], signer=signer,
                                pseudonym_key=pseudonym_key_for(seed),
                                access=StandingAccess.for_roles(clock),
                                enforce_authorisation=enforce_authorisation,
                                mode="test",  # a simulated unit's results are never live
                                identity_after_document=[finger.source] if finger else ())
    except BaseException:
        peripherals.close()
        raise
    return StationDay(election, station_id, seed, fidelity, registered, ctl, peripherals, visitors,
                      paper, streams, clock, fingerprint=finger)


def play_station_day(day: StationDay, progress: Callable[[int, int], None] | None = None) -> StationDay:
    """Open the polls, let every visitor through, close; the peripherals are closed at the end."""
    ctl, clock, visitors = day.controller, day.clock, day.visitors
    try:
        ctl.open()
        gap = 11 * 3600 / max(1, len(visitors))
        one = visitor_at(day)
        for i, visitor in enumerate(visitors):
            clock.advance(day.rngs["clock"].expovariate(1 / gap))
            one(visitor)
            if progress:
                progress(i + 1, len(visitors))
        ctl.close()
    finally:
        day.peripherals.close()
    return day


def run_station_day(election: Election, station_id: str | None = None, *,
                    progress: Callable[[int, int], None] | None = None, **build) -> StationDay:
    """Build and play one station day (``build_station_day``'s arguments). ``printed_dir``: at
    full fidelity, the printer twin writes every slip it prints there as text and PNG."""
    return play_station_day(build_station_day(election, station_id, **build), progress)


def visit(day: StationDay, visitor: Visitor) -> None:
    """One visitor at the ID desk (if they bring a document) and at the ballot box."""
    visitor_at(day)(visitor)


_CAST = ("cast", "cast_invalid")


def visitor_at(day: StationDay) -> Callable[[Visitor], None]:
    """``visit(day, ·)`` with the day's lookups made once: a day lets every visitor through the
    function this returns. It holds the day's controller: after a reboot (a new controller),
    take a new one (``visit`` does, every time). The common turn — the document reads, the voter
    is authorised, the first sheet casts — runs here; any other goes on in ``_at_the_box``."""
    ctl, peripherals, paper, rng = day.controller, day.peripherals, day.paper, day.rngs["paper"]
    world, read_id, poll = peripherals.world, peripherals.id_reader.read, peripherals.scanner.poll_event
    present_document, insert_sheet, make_sheet = world.present_document, world.insert_sheet, paper.make_sheet
    present_id, handle_paper = ctl.present_id, ctl.handle_paper
    election, finger, notices, truths = day.election, day.fingerprint, day.notices, day.truth_cvrs
    style = election.stations[day.station_id].ballot_style

    def one(visitor: Visitor) -> None:
        if visitor.document is not None:
            present_document(*visitor.document)
            record = read_id(timeout=2.0)
            if record is None:
                notices.append({"visitor": visitor.kind, "event": "id_not_read"})
                return
            checkin = present_id(record)
            if finger is not None:
                checkin = checkin_with_finger(day, visitor, checkin)
            if not checkin.authorised:
                notices.append({"visitor": visitor.kind, "event": checkin.outcome,
                                "message": checkin.message.text})
                return
        marks, kind = visitor.marks, visitor.sheet_kind  # (read only: a correction makes new marks)
        insert_sheet(make_sheet(style, marks, rng, kind))
        while (event := poll(timeout=2.0)) is not None and event.kind is not _AT_ENTRY:
            pass
        if event is None:
            raise RuntimeError("the scanner never reported the inserted sheet")
        outcome = handle_paper()
        if outcome.status in _CAST:
            truths.append(truth_of(election, style, marks))
            return
        _at_the_box(day, visitor, style, marks, kind, outcome)

    return one


def _at_the_box(day: StationDay, visitor: Visitor, style: str, marks: dict, kind: str, outcome) -> None:
    """The rest of a visit at the ballot box, from what the unit did with the first sheet
    (``outcome``): a review, a jam, a return and the next try, up to ``MAX_ATTEMPTS`` sheets."""
    ctl, world, paper, rng = day.controller, day.peripherals.world, day.paper, day.rngs["paper"]
    for attempt in range(MAX_ATTEMPTS):
        if attempt:
            world.insert_sheet(paper.make_sheet(style, marks, rng, kind))
            outcome = _feed(day)
        if outcome.status == "needs_review":
            day.notices.append({"visitor": visitor.kind, "event": f"needs_review:{outcome.reason}",
                                "message": outcome.message.text})
            if visitor.corrects:
                outcome = ctl.voter_decision(cast=False)
                world.take_returned_sheet()
                marks = _corrected(day.election, style, marks, rng)
                continue
            outcome = ctl.voter_decision(cast=True)
        if outcome.status in ("jammed", "error"):
            outcome = operator_clears(day, outcome)
            if outcome.status == "placed_in_box":
                day.truth_cvrs.append(_truth(day, style, marks))
                return
            continue  # the sheet went back to the voter, who inserts it again
        if outcome.status in _CAST:
            day.truth_cvrs.append(_truth(day, style, marks))
            return
        if outcome.status == "returned":
            world.take_returned_sheet()
            day.notices.append({"visitor": visitor.kind, "event": f"returned:{outcome.reason}",
                                "message": outcome.message.text})
            if outcome.reason in ("no_authorisation", "test_ballot"):
                return
            if outcome.reason in ("wrong_election", "not_a_ballot", "wrong_style"):
                kind = "ballot"  # the poll worker hands over a proper ballot
            continue
        day.notices.append({"visitor": visitor.kind, "event": outcome.status, "message": outcome.message.text})
        return
    day.notices.append({"visitor": visitor.kind, "event": "gave_up",
                        "message": f"the voter left after {MAX_ATTEMPTS} tries; the authorisation is unused"})


def _feed(day: StationDay):
    scanner = day.peripherals.scanner
    while True:
        event = scanner.poll_event(timeout=2.0)
        if event is None:
            raise RuntimeError("the scanner never reported the inserted sheet")
        if event.kind is _AT_ENTRY:
            return day.controller.handle_paper()


def operator_clears(day: StationDay, outcome=None):
    """The poll worker removes a jammed sheet, clears the jam or fault (the unit's ballot state
    says which), and puts the sheet where the unit says (the box for a recorded cast, else back
    to the voter). ``outcome``: what the unit showed, noted for the report."""
    ctl, world = day.controller, day.peripherals.world
    if outcome is not None:
        day.notices.append({"visitor": "operator", "event": outcome.status, "message": outcome.message.text})
    world.operator_removes_jammed_sheet()
    cleared = ctl.clear_jam() if ctl.ballot == "jammed" else ctl.clear_fault()
    world.operator_places_sheet(into_box=cleared.status == "placed_in_box")
    return cleared


def _corrected(election: Election, style: str, marks: dict, rng: random.Random) -> dict:
    """The voter fixes an overvoted or blank ballot: keeps vote_for of the marks, or picks some."""
    fixed = {}
    for c in election.contests_for_style(style):
        sel = list(marks.get(c.id, ()))
        if len(sel) > c.vote_for:
            sel = sorted(rng.sample(sel, c.vote_for))
        elif not sel:
            sel = sorted(rng.sample(c.choice_ids(), c.vote_for))
        fixed[c.id] = tuple(sel)
    return fixed


# (election hash, style, marks) -> the record of what such a sheet's voter meant: a national run
# meets the same few marked sheets millions of times, and the intent depends on nothing else. The
# record is shared by every such ballot (immutable; its id names the intent, not a ballot: truth
# records are only ever counted)
_TRUTHS: dict[tuple[str, str, tuple], CastVoteRecord] = {}


def _truth(day: StationDay, style: str, marks: dict) -> CastVoteRecord:
    return truth_of(day.election, style, marks)


def truth_of(election: Election, style: str, marks: dict) -> CastVoteRecord:
    """The record of what the voter who marked ``marks`` on a sheet of ``style`` meant (shared)."""
    key = (election.hash, style, tuple(marks.items()))
    try:
        truth = _TRUTHS.get(key)
    except TypeError:  # marks that are not tuples: read them every time
        key, truth = None, None
    if truth is None:
        intent = voters_intent(election, style, marks)
        named = hashlib.sha256(repr((style, sorted(intent.items()))).encode()).hexdigest()[:16]
        truth = CastVoteRecord(f"truth-{named}", style, intent)
        if key is not None:
            if len(_TRUTHS) >= 100_000:
                _TRUTHS.clear()
            _TRUTHS[key] = truth
    return truth


def write_station_files(day: StationDay, report: dict, out_dir: Path) -> dict[str, str]:
    """The station's files: roll, slips as text, journal (JSON lines), records, ``report``.

    Lines and documents are encoded as the unit's export encodes them (``device.results.exports``)."""
    out_dir.mkdir(parents=True, exist_ok=True)
    ctl = day.controller
    files = {}
    (out_dir / "roll.csv").write_text(ctl.roll.to_csv(), encoding="utf-8")
    files["roll"] = "roll.csv"
    slips = out_dir / "slips"
    slips.mkdir(exist_ok=True)
    for n, slip in enumerate(day.peripherals.world.readable_slips(), start=1):
        (slips / f"{n:02d}-{slip.kind}.txt").write_text(slip.as_text(), encoding="utf-8")
    files["slips"] = "slips/"
    with open(out_dir / "journal.jsonl", "w", encoding="utf-8") as fh:
        for rec in ctl.store.events():
            fh.write(json_line(rec.to_json()) + "\n")
    files["journal"] = "journal.jsonl"
    (out_dir / "cast_vote_records.json").write_bytes(
        json_doc([c.to_json() for c in ctl.store.cast_vote_records()]))
    files["cast_vote_records"] = "cast_vote_records.json"
    (out_dir / "report.json").write_bytes(json_doc(report))
    files["report"] = "report.json"
    return files
