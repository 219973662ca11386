"""One station day of a national run: the real controller, journaled, with the station's faults.

``run_station`` plans the day from the district's scenario (``sim/day/voters.py``), builds the
peripherals for the station's fidelity, plays every visitor through the real
``StationController`` on an in-memory store (``sim/day/station.py`` does the visiting), and returns
a ``StationResult`` as plain data: the device's tally, the tally of what the voters meant, the
reconciliation and the faults with how each ended. Everything in it except ``seconds`` follows
from (seed, station), so a run is byte-identical on any executor.

Faults (``fault_profiles.json``): which stations get them is decided per station by its own
seeded generator. Jams and double feeds are raised by the scanner twin at the profile's rates
and cleared by the simulated operator. A power cut kills the unit at a chosen journal write
(``PowerCut`` is raised before the write, as a unit that loses power writes nothing more); the
controller is then rebooted on the same store and the same peripherals, resolves the sheet in
flight by its power-on rule, and the interrupted voter carries on: a recorded cast is counted,
an authorised voter whose cast was not recorded feeds the sheet again, a voter not yet
authorised starts again at the ID desk. A miscount (``miscount.py``) corrupts what the unit
stores at the station, to show that the run's checks catch a unit that counts wrong. Serial noise runs the station at full fidelity (real
drivers over ptys) with the twins' ``noisy`` profile, and image fidelity renders every sheet and
reads it with the real interpreter; power cuts combine with both.
"""
from __future__ import annotations

import gc
import hashlib
import json
import random
import time
from math import log
from dataclasses import replace
from functools import lru_cache
from importlib import resources
from typing import Any

from device.results.tally import Results
from device.store.cast_vote_record import CastVoteRecord
from device.store.forwarding import ForwardingStore
from device.store.journal import JournalRecord, MemoryStore, StationStore
from sim.day.fingerprint_day import FingerprintScenario, parse_fingerprint
from sim.national.generator import NationalElection
from sim.national.miscount import MISCOUNT_KINDS, MiscountingStore, miscount_kind
from sim.day.station import StationDay, _truth, build_station_day, operator_clears, visit, visitor_at
from device.results.tally import tally_station
from sim.results.results_feed import unit_signer
from sim.day.voters import Visitor

FAULT_KINDS = ("power_cut", "jams", "double_feeds", "serial_noise", "image", *MISCOUNT_KINDS)


class PowerCut(BaseException):
    """The unit lost power (raised by ``CuttableStore`` instead of a journal write)."""


@lru_cache(maxsize=1)
def fault_profiles() -> dict[str, dict]:
    path = resources.files("sim.national") / "fault_profiles.json"
    return json.loads(path.read_text(encoding="utf-8"))["profiles"]


def station_seed(seed: int, station_id: str) -> int:
    return int.from_bytes(hashlib.sha256(f"{seed}|{station_id}".encode()).digest()[:8], "big")


def station_faults(profile: dict, seed: int, station_id: str) -> dict[str, bool]:
    rng = random.Random(f"{seed}|faults|{station_id}")
    return {kind: rng.random() < profile.get(kind, 0.0) for kind in FAULT_KINDS}


class CuttableStore(ForwardingStore):
    """A store that loses power before its n-th write (n in ``cuts``, counted from ``arm``)."""

    def __init__(self, inner: StationStore):
        super().__init__(inner)
        self.writes = 0
        self.cuts: list[int] = []
        self.powered = True  # False while the unit boots after a cut: its writes are not counted

    def arm(self, cuts: list[int]) -> None:
        self.writes, self.cuts = 0, sorted(cuts)

    def _tick(self) -> None:
        if not self.powered:
            return
        self.writes += 1
        if self.cuts and self.writes >= self.cuts[0]:
            self.cuts.pop(0)
            raise PowerCut(f"power cut before journal write {self.writes}")

    def append_event(self, type_: str, data: dict[str, Any], at: float, *,
                     durable: bool = True) -> JournalRecord:
        self._tick()
        return self.inner.append_event(type_, data, at, durable=durable)

    def cast_ballot(self, cvr: CastVoteRecord, event_data: dict[str, Any], at: float) -> JournalRecord:
        self._tick()
        return self.inner.cast_ballot(cvr, event_data, at)


def run_station(national: NationalElection, station_id: str, seed: int, profile_name: str = "none",
                biometric: bool = False) -> dict:
    """Play one station day; return its ``StationResult`` (a JSON-ready dict). ``biometric``: the
    fingerprint step at the ID desk (the national spec's ``fingerprint`` object, else the
    default one: ``sim/day/fingerprint_day.py``), its figures in the result's ``fingerprint``."""
    t0 = time.perf_counter()
    election = national.election
    station = election.stations[station_id]
    profile = fault_profiles()[profile_name]
    faults = station_faults(profile, seed, station_id)
    scenario = national.scenarios[station.district]
    rates = {}
    if faults["jams"]:
        rates["jam_rate"] = profile["jam_rate"]
    if faults["double_feeds"]:
        rates["double_feed_rate"] = profile["double_feed_rate"]
    if rates:
        scenario = replace(scenario, rates={**scenario.rates, **rates})
    if biometric:
        scenario = replace(scenario, fingerprint=national_fingerprint(national))
    fidelity = "full" if faults["serial_noise"] else "image" if faults["image"] else "logical"
    unit_store: StationStore = MemoryStore()
    corrupt = miscount_kind(faults)
    faults.update({kind: kind == corrupt for kind in MISCOUNT_KINDS})  # one corruption per station
    if corrupt is not None:  # the unit itself miscounts (QA's oracles must catch it)
        contest = national.contest_id
        unit_store = MiscountingStore(unit_store, corrupt, contest, tuple(election.contests[contest].choice_ids()))
    # the power-cut wrapper only where the power is cut (it costs every journal write a call)
    store = CuttableStore(unit_store) if faults["power_cut"] else unit_store
    day = build_station_day(election, station_id, registered=national.registered[station_id],
                            seed=station_seed(seed, station_id), scenario=scenario, fidelity=fidelity,
                            store=store, profile="noisy" if fidelity == "full" else None,
                            signer=unit_signer(seed, station_id))
    day.scenario = scenario  # for a reboot's build
    reboots = 0
    try:
        day.controller.open()
        if faults["power_cut"]:
            cut_rng = random.Random(f"{seed}|cuts|{station_id}")
            writes = 5 * len(day.visitors)
            assert isinstance(store, CuttableStore)
            store.arm([cut_rng.randrange(1, max(2, writes)) for _ in range(profile["cuts_per_station"])])
        gap = 11 * 3600 / max(1, len(day.visitors))
        clock, draw, rate = day.clock, day.rngs["clock"].random, 1 / gap
        cuts = faults["power_cut"]  # (a visit is watched for power cuts only where they happen)
        one = visitor_at(day)  # (its controller is the day's: a reboot makes another, visit takes it)
        for visitor in day.visitors:
            clock.now += -log(1.0 - draw()) / rate  # (clock.advance(expovariate(rate)): its draw and sum)
            if cuts:
                reboots += _visit_through_power_cuts(day, visitor)
            else:
                one(visitor)
        if isinstance(store, CuttableStore):
            store.arm([])
        device = day.controller.close()  # the unit's tally of its cast vote records, as printed
    finally:
        day.peripherals.close()
    result = _result(national, day, device, store, faults, reboots, time.perf_counter() - t0)
    if isinstance(unit_store, MiscountingStore):
        result["faults"]["miscount"] = unit_store.done
    if day.fingerprint is not None:
        result["fingerprint"] = day.fingerprint.report(day.controller.counters.by_commission)
    _let_go(day)
    return result


def _let_go(day: StationDay) -> None:
    """Let the played day's objects be freed by reference counting, now, rather than by the
    garbage collector. The controller and its machines refer to each other (each machine keeps
    its model; the model keeps trigger methods bound to the machines' events; the access and
    the ID desk keep the controller's journal method), so everything the controller holds — the
    journal, the cast vote records, the roll, the peripherals with their sheets, ~4,400 objects
    a station — stayed alive until a collection walked it all, ~3–4 µs per ballot (issue 23
    §3). Emptying the controller's attributes once the result is taken breaks those cycles."""
    vars(day.controller).clear()


def national_fingerprint(national: NationalElection) -> FingerprintScenario:
    """The fingerprint step of a ``--biometric`` run: the spec's ``fingerprint``, else its base
    scenario's, else the default."""
    doc = national.spec.get("fingerprint")
    if doc is None:
        base = resources.files("sim") / "scenarios" / f"{national.spec['base_scenario']}.json"
        doc = json.loads(base.read_text(encoding="utf-8")).get("fingerprint")
    return parse_fingerprint(doc, national.name) or FingerprintScenario()


def _visit_through_power_cuts(day: StationDay, visitor: Visitor) -> int:
    """One visitor; after a power cut, reboot and let the visitor carry on. Returns reboots."""
    reboots = 0
    authorised_before = day.controller.counters.outstanding
    cast_before = len(day.truth_cvrs)
    current = visitor
    style = day.election.stations[day.station_id].ballot_style
    while True:
        try:
            visit(day, current)
            return reboots
        except PowerCut:
            reboots += 1
            _reboot(day)
            recorded = len(day.controller.store.cast_vote_records())
            if recorded > len(day.truth_cvrs):  # the cast was recorded before the power went
                day.truth_cvrs.append(_truth(day, style, dict(current.marks)))
                return reboots
            if len(day.truth_cvrs) > cast_before:
                return reboots
            if day.controller.counters.outstanding > authorised_before:  # checked in, not cast
                current = Visitor(visitor.kind, None, visitor.marks, visitor.voter_id, "ballot",
                                  visitor.corrects)


def _scanner_loses_power(day: StationDay) -> None:
    """The power cut as the ballot box feels it (``World.scanner_loses_power``); at full fidelity
    the unit's serial driver, a separate object, starts afresh too."""
    world, driver = day.peripherals.world, day.peripherals.scanner
    world.scanner_loses_power()
    if driver is not world.scanner:
        driver.discard_events()


def _reboot(day: StationDay) -> None:
    """Power back: a new controller boots on the same store and peripherals."""
    old = day.controller
    world = day.peripherals.world
    _scanner_loses_power(day)
    store = old.store
    store.powered = False
    try:
        # the same build as the day's own (same seed: same roll), on the same store, peripherals,
        # random streams and clock: only the controller is new
        day.controller = build_station_day(
            day.election, day.station_id, registered=day.registered, seed=day.seed, scenario=day.scenario,
            fidelity=day.fidelity, store=store, peripherals=day.peripherals, rngs=day.rngs,
            clock=day.clock, signer=old.signer).controller
        world.take_returned_sheet()
        if day.controller.ballot in ("jammed", "error"):  # the power-on rule could not finish
            operator_clears(day)
    finally:
        store.powered = True
    _scanner_loses_power(day)  # notices of the power-on paper handling: nobody waits for them


def _contests_json(results: Results) -> dict:
    results.check()
    return {cid: t.to_json() for cid, t in results.contests.items()}


def _result(national: NationalElection, day: StationDay, device: Results, store: StationStore,
            faults: dict, reboots: int, seconds: float) -> dict:
    ctl = day.controller
    election = national.election
    truth = tally_station(election, day.station_id, day.truth_cvrs)
    world = day.peripherals.world
    in_paper = world.sheets_in_box + world.sheets_in_invalid_compartment
    recorded, intended = device.ballots_cast, truth.ballots_cast
    device_json, truth_json = _contests_json(device), _contests_json(truth)
    fault_report = {"injected": sorted(k for k, v in faults.items() if v), "reboots": reboots}
    if any(faults.values()):
        fault_report.update(_fault_endings(store))
    return {
        "station": day.station_id, "district": election.stations[day.station_id].district,
        "fidelity": day.fidelity, "registered": day.registered, "visitors": len(day.visitors),
        "ballots_cast": recorded, "ballots_intended": intended, "ballots_in_paper": in_paper,
        "lost": max(0, intended - recorded), "double_counted": max(0, recorded - intended),
        "contests": device_json, "intent": truth_json,
        "matches_intent": device_json == truth_json and recorded == intended,
        "paper_matches_records": in_paper == recorded,
        "polls": ctl.polls, "faults": fault_report, "seconds": round(seconds, 6),
        "signed": ctl.signed_results,  # what the unit sends the central tally (--central)
    }


def _fault_endings(store: StationStore) -> dict:
    """How each fault ended, read back from the journal."""
    jams = {"jam": 0, "double_feed": 0}
    cleared: dict[str, int] = {}
    power_on: dict[str, int] = {}
    for rec in store.events():
        if rec.type == "jam":
            kind = rec.data.get("kind", "jam")
            jams[kind] = jams.get(kind, 0) + 1
        elif rec.type in ("jam_cleared", "fault_cleared"):
            key = f"{rec.type}:{rec.data.get('resolution')}"
            cleared[key] = cleared.get(key, 0) + 1
        elif rec.type == "power_on_paper_resolved":
            key = str(rec.data.get("resolution"))
            power_on[key] = power_on.get(key, 0) + 1
    return {"jams": jams["jam"], "double_feeds": jams["double_feed"], "cleared": dict(sorted(cleared.items())),
            "power_on_paper": dict(sorted(power_on.items()))}


@lru_cache(maxsize=None)
def worker_election(name: str) -> NationalElection:
    """The generated election a worker runs stations of (generated once per process).

    It lives as long as the worker, so it is moved out of the garbage collector's way
    (``gc.freeze``, once per election and process): otherwise every full collection walks its
    ~50,000 objects again — ~40 ms each, ~12 % of a worker's time on Cambodia."""
    from sim.national.generator import national_election

    national = national_election(name)
    gc.collect()
    gc.freeze()
    return national


_settled = False  # this process has played a station and frozen what it loaded (run_batch)


def run_batch(task: dict) -> list[dict]:
    """The unit of work of every executor: a batch of stations of one national election.

    The garbage collector runs once per station, after it, instead of whenever allocations
    pile up: a station day's cycles (its controller and machines) are garbage only once it is
    done, and a collection in the middle of a day walked everything alive, ~15 % of a worker's
    CPU. After this process's first station, what it loaded for good (modules imported on first
    use, caches) is frozen with the election (``gc.freeze``). The collection after a station
    is of the youngest generation only: the station's leftovers (``_let_go`` frees the rest)
    were all made since the last one, while a full collection would walk again the results of
    every station of the batch so far (quadratic in a 300-station batch). One full collection
    ends the batch."""
    global _settled
    national = worker_election(task["election"])
    if national.election.hash != task["election_hash"]:
        raise RuntimeError(f"this worker generated election {national.election.hash[:16]}, the run "
                           f"uses {task['election_hash'][:16]}: install the same ballotbox version")
    out = []
    collecting = gc.isenabled()
    gc.disable()
    try:
        for sid in task["stations"]:
            try:
                out.append(run_station(national, sid, task["seed"], task["faults"], task.get("biometric", False)))
            except Exception as exc:  # one broken station must not sink the run: it is reported
                out.append({"station": sid, "district": national.election.stations[sid].district,
                            "error": f"{type(exc).__name__}: {exc}", "seconds": 0.0})
            gc.collect(0)
            if not _settled:
                gc.freeze()
                _settled = True
    finally:
        gc.collect()
        if collecting:
            gc.enable()
    return out
