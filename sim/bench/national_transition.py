"""Where a journaled transition's time goes, and the rest of a ballot's firmware work (issue 23 §3).

``transition_breakdown()`` opens the polls of one Cambodian station's real controller (memory
store, in-memory twins, logical paper) and times, each as the median of several CPU-timed
repetitions:

- the voter's five transitions as the unit fires them (``authorise``, ``paper_detected``,
  ``ballot_read``, ``ballot_cast`` with its cast vote record, ``ballot_dropped``), per transition;
- the same while the controller replays its journal (``_replaying``: the trigger's dispatch,
  the counting and the state change, no record written);
- the record's pieces: its canonical bytes (``canonical_record_bytes``), SHA-256 of them, and
  the in-memory store's whole write (``append_event``: bytes, hash, the ``JournalRecord``, the
  chain's head, the list);
- per ballot, outside the transitions: the ID desk (parsing the document, the roll, the
  keyed pseudonym), the interpreter's reading and the box's decision, the scanner twin's
  feed / accept / acknowledgements, and the tally of one cast vote record.

So the transition splits into dispatch and counting, the clock and the rules across regions,
record bytes, hashing, and the store's bookkeeping (the rest of the write). ``describe`` gives
the bench's lines.
"""
from __future__ import annotations

import random
import statistics
import time
from hashlib import sha256
from typing import Any, Callable

from device.ballots.decide import decide
from device.ballots.records import CastVoteRecord
from device.election.identity import parse_id_record
from device.results.tally import Results
from device.store.canonical_json import canonical_record_bytes
from device.store.journal import MemoryStore
from hardware.interfaces import IdRecord

VOTER_TRANSITIONS = ("authorise", "paper_detected", "ballot_read", "ballot_cast", "ballot_dropped")


def _median_us(prepare: Callable[[int], Callable[[], Any]], n: int, repeat: int = 5) -> float:
    """Median over ``repeat`` runs of the CPU µs per unit of ``prepare(n)()``, which does ``n``
    units (``prepare`` builds their inputs, untimed)."""
    times = []
    for _ in range(repeat):
        run = prepare(n)
        c0 = time.process_time()
        run()
        times.append((time.process_time() - c0) / n * 1e6)
    return statistics.median(times)


def _calls(fn: Callable[..., Any], *args: Any) -> Callable[[int], Callable[[], None]]:
    """``n`` calls of ``fn(*args)``, their results dropped."""
    def prepare(n: int) -> Callable[[], None]:
        def run() -> None:
            for _ in range(n):
                fn(*args)
        return run
    return prepare


def _voter_cycles(ctl: Any, style: str, start: int) -> Callable[[int], Callable[[], None]]:
    """``n`` voters' five transitions on ``ctl`` (fresh pseudonyms and record ids from ``start``)."""
    counter = [start]

    def prepare(n: int) -> Callable[[], None]:
        base = counter[0]
        counter[0] += n
        data = [{"voter": f"{base + i:032x}"} for i in range(n)]
        cvrs = [CastVoteRecord(f"{base + i:032x}", style, {}) for i in range(n)]
        authorise, detected, read, cast, dropped = (getattr(ctl, t) for t in VOTER_TRANSITIONS)

        def run() -> None:
            for i in range(n):
                authorise(data=data[i]); detected(); read(); cast(cvr=cvrs[i]); dropped(data={})  # noqa: E702
        return run
    return prepare


def _each(fn: Callable[[Any], Any], items: list[Any]) -> Callable[[int], Callable[[], None]]:
    """``fn`` of each of ``items`` (``n`` is their number)."""
    def prepare(_: int) -> Callable[[], None]:
        def run() -> None:
            for item in items:
                fn(item)
        return run
    return prepare


def transition_breakdown(n: int = 4000) -> dict[str, float]:
    """µs CPU of each part (see the module docstring); keys ending in ``per ballot`` are per voter."""
    from sim.day.station import build_station_day
    from sim.national.station_run import worker_election

    national = worker_election("cambodia-2022-national")
    sid = national.station_ids[5]
    day = build_station_day(national.election, sid, registered=national.registered[sid], seed=1,
                            scenario=national.scenarios[national.election.stations[sid].district])
    ctl, style = day.controller, day.election.stations[sid].ballot_style
    ctl.open()
    out: dict[str, float] = {}
    out["transition, as fired"] = _median_us(_voter_cycles(ctl, style, 0), n) / 5
    ctl._replaying = True
    out["dispatch, counting and state change (replaying)"] = _median_us(_voter_cycles(ctl, style, 10**9), n) / 5
    ctl._replaying = False
    record = (7, "authorise", 1654412400.0, {"voter": "ab" * 16}, "cd" * 32)
    out["record bytes"] = _median_us(_calls(canonical_record_bytes, *record), 20 * n)
    raw = canonical_record_bytes(*record)
    out["SHA-256"] = _median_us(_calls(lambda: sha256(raw).hexdigest()), 20 * n) - \
        _median_us(_calls(lambda: None), 20 * n)  # (less the lambda's own call)
    store = MemoryStore()
    out["the store's whole write"] = _median_us(_calls(store.append_event, "authorise", record[3], record[2]), 5 * n)
    out["the store's bookkeeping"] = out["the store's whole write"] - out["record bytes"] - out["SHA-256"]
    out[REST] = out["transition, as fired"] - out["dispatch, counting and state change (replaying)"] - \
        out["the store's whole write"]
    # per ballot, outside the transitions
    voters = [v for v in day.visitors if v.kind == "voter"]
    records = [IdRecord(*v.document) for v in voters]
    k = len(records)
    out["ID document parsed, per ballot"] = _median_us(_each(parse_id_record, records), k)
    numbers = [parse_id_record(r).document_number for r in records]
    out["roll lookup and keyed pseudonym, per ballot"] = _median_us(
        _each(lambda number: ctl.pseudonyms.of(ctl.roll.lookup(number).voter_id), numbers), k)
    frames = [day.paper.make_sheet(style, dict(v.marks), random.Random(1)) for v in voters]
    policy = ctl._box_policy[False]
    out["reading and decision, per ballot"] = _median_us(
        _each(lambda frame: decide(ctl.interpreter.interpret(frame), policy), frames), k)
    world, scanner = day.peripherals.world, day.peripherals.scanner

    def through_the_twin(frame: Any) -> None:
        world.insert_sheet(frame)
        scanner.poll_event()
        scanner.feed()
        scanner.accept()
        scanner.poll_event()
    out["scanner twin, per ballot"] = _median_us(_each(through_the_twin, frames), k)
    cvrs = [CastVoteRecord(f"{i:032x}", style, dict(decide(ctl.interpreter.interpret(f), policy).contests))
            for i, f in enumerate(frames)]
    out["tally of a cast record, per ballot"] = _median_us(
        lambda _: lambda: Results(day.election, "station:x", None).add_cvrs(cvrs), k)
    return out


REST = "clock, rules across regions, the call layers"


def describe(parts: dict[str, float], transitions_per_ballot: float) -> list[str]:
    per = parts["transition, as fired"]
    lines = [f"a journaled transition as the controller fires it: {per:.2f} us CPU "
             f"(x {transitions_per_ballot:.2f} per ballot = {per * transitions_per_ballot:.1f} us per ballot):"]
    for name in ("dispatch, counting and state change (replaying)", REST, "record bytes", "SHA-256", "the store's bookkeeping"):
        lines.append(f"  {name:48s} {parts[name]:5.2f} us ({parts[name] / per:4.0%})")
    lines.append("the rest of a ballot's firmware work and its twins (us CPU per ballot):")
    for name, value in parts.items():
        if name.endswith("per ballot"):
            lines.append(f"  {name.removesuffix(', per ballot'):48s} {value:5.2f} us")
    return lines


if __name__ == "__main__":
    print("\n".join(describe(transition_breakdown(), 5.08)))
