"""The single writer: decides each upload against the slots and commits decisions in groups.

Handlers run the stateless checks (``central.checks``) concurrently and hand the upload to
``Ingest.submit``; one writer task takes every upload waiting and, inside one store
transaction (``CentralStore.decide_and_commit``), first folds in what other ingest processes
committed since (a PostgreSQL store shared by several ``central serve``; none for SQLite), then
decides the batch in arrival order against the slot index (one slot per station, unit and
phase):

- empty slot -> ``accepted``;
- same message (same digest) -> ``duplicate`` (idempotent success, nothing added);
- a lower sequence than the slot's -> ``older_sequence`` (refused: a replay);
- otherwise a different message -> ``conflict`` (stored, listed publicly, never counted);
- an empty slot whose ballots would bring the station's units together past the voters
  registered there (two units each reporting 60 of 60) -> ``conflict`` too: held aside, the
  station flagged, until the authority decides (``ballotbox central accept``);

and makes the whole batch durable in that transaction (group commit: one fsync for many
uploads). Only then does it answer, apply the other processes' decisions and its own to the
in-memory index and tally, in journal order (``applied``: the last record applied), and wake
the publisher. ``sync()`` folds in the others' decisions without an upload (the service
calls it when the journal's head moves). If the store cannot write, no decision of the batch
holds: the index is left as it was and every upload of the batch gets ``unavailable`` (503:
the unit's outbox retries).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from device.store.journal import StoreWriteError
from central.checks import Upload
from central.decisions import Verdict, clip
from central.store import CentralStore, Entry
from central.tally import CentralTally

MAX_BATCH = 512
RECENT_REFUSALS = 50  # how many refusals the public page lists (the counts are of all)


def without_id(row: dict[str, Any]) -> dict[str, Any]:
    """A stored row as the writer keeps it in memory (the row id is the store's business)."""
    return {k: v for k, v in row.items() if k != "id"}


@dataclass
class SlotState:
    sequence: int
    digest: str


@dataclass
class BatchState:
    """What a batch decides before its commit (dropped if the commit fails)."""

    slots: dict[tuple[str, str, str], SlotState] = field(default_factory=dict)
    cast: dict[str, int] = field(default_factory=dict)  # station -> ballots accepted in the batch
    aside: dict[tuple[str, str, str], set[str]] = field(default_factory=dict)


class Ingest:
    def __init__(self, store: CentralStore, tally: CentralTally, clock: Callable[[], float],
                 on_commit: Callable[[], None] | None = None):
        self.store, self.tally, self.clock = store, tally, clock
        self.on_commit = on_commit or (lambda: None)
        self.slots: dict[tuple[str, str, str], SlotState] = {}
        self.counts: dict[str, int] = {}
        state = store.load(RECENT_REFUSALS)
        for slot in state.slots:
            self.slots[(slot["station"], slot["unit_key"], slot["phase"])] = \
                SlotState(slot["sequence"], slot["digest"])
            tally.add(slot)
        self.conflicts = [without_id(c) for c in state.conflicts]
        self.held_aside: dict[tuple[str, str, str], set[str]] = {}  # slot -> conflicting digests
        for c in self.conflicts:
            self.held_aside.setdefault((c["station"], c["unit_key"], c["phase"]), set()).add(c["digest"])
        self.refusals = [without_id(r) for r in state.refusals]
        self.refusal_counts = dict(state.refusal_counts)
        # scope ("national", "station:ID", "district:ID", "lists") -> (journal seq, at) of the
        # last decision that changed it: the version and time its public documents carry, so
        # the site rebuilt from the store after a restart is byte for byte the site it was
        self.stamps: dict[str, tuple[int, float]] = {}
        for record in state.journal:
            self._stamp(record.type, record.data, record.seq, record.at)
        self.applied = state.head_seq  # the last journal record in memory
        self.timing = {"batches": 0, "commit_s": 0.0, "decide_s": 0.0}  # for the bench
        self._queue: asyncio.Queue | None = None
        self._writer: asyncio.Task | None = None

    def _stamp(self, type_: str, data: dict[str, Any], seq: int, at: float) -> None:
        if type_ == "result_duplicate":
            return
        scopes = ["national"]
        if type_ in ("result_accepted", "result_conflict", "result_accepted_by_authority"):
            scopes.append(f"station:{data['station']}")  # its page lists its conflicts
        if type_ in ("result_accepted", "result_accepted_by_authority"):
            district = self.tally.election.stations[data["station"]].district
            scopes.append(f"district:{district}")
            if district in self.tally.province_of:
                scopes.append(f"province:{self.tally.province_of[district]}")
        if type_ != "result_accepted":
            scopes.append("lists")
        for scope in scopes:
            self.stamps[scope] = (seq, at)

    def stamp(self, scope: str) -> dict[str, Any]:
        """``{"version", "updated_at"}`` of a scope's documents (version 0: nothing yet)."""
        seq, at = self.stamps.get(scope, (0, None))
        return {"version": seq, "updated_at": at}

    @property
    def refusal_total(self) -> int:
        return sum(self.refusal_counts.values())

    # --- the writer task --------------------------------------------------------------------

    def start(self) -> None:
        self._queue = asyncio.Queue()
        self._writer = asyncio.get_running_loop().create_task(self._run())

    async def stop(self) -> None:
        if self._writer is not None:
            self._writer.cancel()
            try:
                await self._writer
            except asyncio.CancelledError:
                pass

    async def submit(self, upload: Upload) -> Verdict:
        fut = asyncio.get_running_loop().create_future()
        await self.queue.put((upload, fut))
        return await fut

    async def sync(self) -> None:
        """Fold in what the other ingest processes committed (through the writer)."""
        fut = asyncio.get_running_loop().create_future()
        await self.queue.put((None, fut))
        await fut

    @property
    def queue(self) -> asyncio.Queue:
        """The writer's queue of uploads (made by ``start``)."""
        if self._queue is None:
            raise RuntimeError("the ingest's writer is not started (call start() first)")
        return self._queue

    async def _run(self) -> None:
        queue = self.queue
        while True:
            batch = [await queue.get()]
            while not queue.empty() and len(batch) < MAX_BATCH:
                batch.append(queue.get_nowait())
            await self._decide_and_commit(batch)

    async def _decide_and_commit(self, batch: list[tuple[Upload | None, asyncio.Future]]) -> None:
        at = float(self.clock())
        uploads = [(up, fut) for up, fut in batch if up is not None]
        decided: list[tuple[Verdict, Entry]] = []

        def decide(news: list[Entry]) -> list[Entry]:  # inside the store's transaction
            t0 = time.perf_counter()
            tentative = BatchState()
            for entry in news:
                self._overlay(entry, tentative)
            decided[:] = [self._decide(up, at, tentative) for up, _ in uploads]
            self.timing["decide_s"] += time.perf_counter() - t0
            return [e for _, e in decided]

        t1 = time.perf_counter()
        try:
            news = await asyncio.to_thread(self.store.decide_and_commit, self.applied, decide)
        except StoreWriteError as exc:
            for up, fut in batch:
                if not fut.done():
                    fut.set_result(None if up is None else Verdict("unavailable", str(exc)))
            return
        t2 = time.perf_counter()
        self.timing["batches"] += 1
        self.timing["commit_s"] += t2 - t1
        for entry in news:
            self._apply(entry)
        for (verdict, entry), (_, fut) in zip(decided, uploads):
            self.counts[verdict.code] = self.counts.get(verdict.code, 0) + 1
            self._apply(entry)
            if not fut.done():
                fut.set_result(verdict)
        for up, fut in batch:
            if up is None and not fut.done():
                fut.set_result(None)
        del self.refusals[RECENT_REFUSALS:]
        self.timing["decide_s"] += time.perf_counter() - t2
        if any(e.type != "result_duplicate" for e in [*news, *(e for _, e in decided)]):
            self.on_commit()  # something to publish

    def _overlay(self, entry: Entry, tentative: BatchState) -> None:
        """Another process's committed decision, seen by this batch's decisions."""
        if entry.slot is not None:
            s = entry.slot
            tentative.slots[(s["station"], s["unit_key"], s["phase"])] = SlotState(s["sequence"], s["digest"])
            station = s["station"]
            tentative.cast[station] = tentative.cast.get(station, 0) + \
                entry.slot["signed"]["message"]["ballots_cast"]
        if entry.conflict is not None:
            c = entry.conflict
            key = (c["station"], c["unit_key"], c["phase"])
            tentative.aside.setdefault(key, set(self.held_aside.get(key, ()))).add(c["digest"])

    def _apply(self, entry: Entry) -> None:
        """A committed decision (this process's or another's) into the index, tally and lists."""
        if entry.record is None:
            raise ValueError(f"a {entry.type} decision not committed cannot be applied")
        self.applied = entry.record.seq
        self._stamp(entry.type, entry.data, entry.record.seq, entry.at)
        if entry.slot is not None:
            s = entry.slot
            self.slots[(s["station"], s["unit_key"], s["phase"])] = SlotState(s["sequence"], s["digest"])
            self.tally.add(entry.slot)
        if entry.conflict is not None:
            c = entry.conflict
            aside = self.held_aside.setdefault((c["station"], c["unit_key"], c["phase"]), set())
            if c["digest"] not in aside:
                aside.add(c["digest"])
                self.conflicts.append({**c, "at": entry.at})
                self.tally.dirty_stations.add(c["station"])  # its page flags it
        if entry.refusal is not None:
            self.refusals.insert(0, {**entry.refusal, "at": entry.at})
            code = entry.refusal["code"]
            self.refusal_counts[code] = self.refusal_counts.get(code, 0) + 1

    def _station_cast(self, station: str, tentative: BatchState) -> int:
        """Ballots cast at ``station`` by its accepted units, this batch's included."""
        held = self.tally.stations.get(station)
        return (held.ballots_cast if held is not None else 0) + tentative.cast.get(station, 0)

    def _decide(self, up: Upload, at: float, tentative: BatchState) -> tuple[Verdict, Entry]:
        if up.verdict is not None:
            return up.verdict, self._refusal(up, up.verdict, at)
        m = up.message
        key = (m["station"], m["unit_public_key"], m["phase"])
        ident = {"station": key[0], "unit_key": key[1], "phase": key[2], "sequence": m["sequence"],
                 "digest": up.digest}
        held = tentative.slots.get(key) or self.slots.get(key)
        reason = None
        if held is None:
            registered = self.tally.served.registered_at(key[0])
            together = self._station_cast(key[0], tentative) + m["ballots_cast"]
            if registered is None or together <= registered:
                tentative.slots[key] = SlotState(m["sequence"], up.digest)
                tentative.cast[key[0]] = tentative.cast.get(key[0], 0) + m["ballots_cast"]
                return (Verdict("accepted", "accepted"),
                        Entry("result_accepted", ident, at, slot={**ident, "signed": up.signed, "at": at}))
            reason = (f"with this unit the station's units report {together} ballots cast, "
                      f"more than the {registered} voters registered: held aside")
        elif held.digest == up.digest:
            return Verdict("duplicate", "already accepted"), Entry("result_duplicate", ident, at)
        elif m["sequence"] < held.sequence:
            v = Verdict("older_sequence", f"sequence {m['sequence']} is older than the "
                                          f"accepted {held.sequence}")
            return v, self._refusal(up, v, at)
        else:
            reason = (f"sequence {m['sequence']} differs from the accepted result "
                      f"(sequence {held.sequence}) for this unit")
        aside = tentative.aside.setdefault(key, set(self.held_aside.get(key, ())))
        known = up.digest in aside
        aside.add(up.digest)
        conflict = None if known else {**ident, "signed": up.signed, "reason": reason}
        return Verdict("conflict", reason), Entry("result_conflict", {**ident, "reason": reason}, at,
                                                  conflict=conflict)

    @staticmethod
    def _refusal(up: Upload, v: Verdict, at: float) -> Entry:
        m = up.message if up.signed else {}
        station = m.get("station")
        row: dict[str, Any] = {"code": v.code, "reason": v.reason,
                               "station": None if station is None else clip(station, 40),
                               "unit_key": m.get("unit_public_key"), "digest": up.digest or None}
        return Entry("upload_refused", row, at, refusal=row)
