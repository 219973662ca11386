"""The single writer: decides each upload against the slots and commits decisions in groups.

Handlers run the stateless checks (``central.checks``) concurrently and hand the upload to
``Ingest.submit``; one writer task takes every upload waiting, decides them in arrival order
against the slot index (one slot per station, unit and phase):

- empty slot -> ``accepted``;
- same message (same digest) -> ``duplicate`` (idempotent success, nothing added);
- a lower sequence than the slot's -> ``older_sequence`` (refused: a replay);
- otherwise a different message -> ``conflict`` (stored, listed publicly, never counted);

then makes the whole batch durable in one store transaction (group commit: one fsync for many
uploads) and only then answers, adds accepted results to the tally and wakes the publisher.
If the store cannot write, no decision of the batch holds: the index is left as it was and
every upload of the batch gets ``unavailable`` (503: the unit's outbox retries).
"""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any, Callable

from device.store.journal import StoreWriteError
from central.checks import Upload
from central.decisions import Verdict
from central.store import CentralStore, Entry
from central.tally import CentralTally

MAX_BATCH = 512
RECENT_REFUSALS = 200  # how many refusals the public page lists (the count is of all)


@dataclass
class SlotState:
    sequence: int
    digest: str
    conflicts: set[str] = field(default_factory=set)


class Ingest:
    def __init__(self, store: CentralStore, tally: CentralTally, clock: Callable[[], float],
                 on_commit: Callable[[], None] | None = None):
        self.store, self.tally, self.clock = store, tally, clock
        self.on_commit = on_commit or (lambda: None)
        self.slots: dict[tuple[str, str, str], SlotState] = {}
        self.counts: dict[str, int] = {}
        for slot in store.slots():
            self.slots[(slot["station"], slot["unit_key"], slot["phase"])] = \
                SlotState(slot["sequence"], slot["digest"])
            tally.add(slot)
        self.conflicts = store.conflicts()
        for c in self.conflicts:
            self.slots[(c["station"], c["unit_key"], c["phase"])].conflicts.add(c["digest"])
        self.refusals = store.refusals(RECENT_REFUSALS)
        self.refusal_count = store.refusal_count()
        self.last_update: float | None = max((s["at"] for s in tally.units_slots()), default=None)
        self.timing = {"batches": 0, "commit_s": 0.0, "decide_s": 0.0}  # for the bench
        self._queue: asyncio.Queue | None = None
        self._writer: asyncio.Task | None = None

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
        await self._queue.put((upload, fut))
        return await fut

    async def _run(self) -> None:
        while True:
            batch = [await self._queue.get()]
            while not self._queue.empty() and len(batch) < MAX_BATCH:
                batch.append(self._queue.get_nowait())
            await self._decide_and_commit(batch)

    async def _decide_and_commit(self, batch: list[tuple[Upload, asyncio.Future]]) -> None:
        at = float(self.clock())
        t0 = time.perf_counter()
        tentative: dict[tuple[str, str, str], SlotState] = {}
        decided = [self._decide(up, at, tentative) for up, _ in batch]
        entries = [e for _, e in decided]
        t1 = time.perf_counter()
        try:
            await asyncio.to_thread(self.store.commit, entries)
        except StoreWriteError as exc:
            for _, fut in batch:
                if not fut.done():
                    fut.set_result(Verdict("unavailable", str(exc)))
            return
        t2 = time.perf_counter()
        self.timing["batches"] += 1
        self.timing["commit_s"] += t2 - t1
        self.slots.update(tentative)
        for (verdict, entry), (_, fut) in zip(decided, batch):
            self.counts[verdict.code] = self.counts.get(verdict.code, 0) + 1
            if entry.slot is not None:
                self.tally.add(entry.slot)
            if entry.conflict is not None:
                self.conflicts.append({**entry.conflict, "at": at})
                self.tally.dirty_stations.add(entry.conflict["station"])  # its page flags it
            if entry.refusal is not None:
                self.refusals.insert(0, {**entry.refusal, "at": at})
                self.refusal_count += 1
            if not fut.done():
                fut.set_result(verdict)
        del self.refusals[RECENT_REFUSALS:]
        self.timing["decide_s"] += t1 - t0 + time.perf_counter() - t2
        if any(e.type != "result_duplicate" for e in entries):  # something to publish
            self.last_update = at
            self.on_commit()

    def _decide(self, up: Upload, at: float, tentative: dict) -> tuple[Verdict, Entry]:
        if up.verdict is not None:
            return up.verdict, self._refusal(up, up.verdict, at)
        m = up.message
        key = (m["station"], m["unit_public_key"], m["phase"])
        ident = {"station": key[0], "unit_key": key[1], "phase": key[2], "sequence": m["sequence"],
                 "digest": up.digest}
        held = tentative.get(key) or self.slots.get(key)
        if held is None:
            tentative[key] = SlotState(m["sequence"], up.digest)
            return (Verdict("accepted", "accepted"),
                    Entry("result_accepted", ident, at, slot={**ident, "signed": up.signed, "at": at}))
        if held.digest == up.digest:
            return Verdict("duplicate", "already accepted"), Entry("result_duplicate", ident, at)
        if m["sequence"] < held.sequence:
            v = Verdict("older_sequence", f"sequence {m['sequence']} is older than the "
                                          f"accepted {held.sequence}")
            return v, self._refusal(up, v, at)
        reason = (f"sequence {m['sequence']} differs from the accepted result "
                  f"(sequence {held.sequence}) for this unit")
        known = up.digest in held.conflicts
        state = tentative.setdefault(key, SlotState(held.sequence, held.digest, set(held.conflicts)))
        state.conflicts.add(up.digest)
        conflict = None if known else {**ident, "signed": up.signed, "reason": reason}
        return Verdict("conflict", reason), Entry("result_conflict", {**ident, "reason": reason}, at,
                                                  conflict=conflict)

    @staticmethod
    def _refusal(up: Upload, v: Verdict, at: float) -> Entry:
        m = up.message if up.signed else {}
        row: dict[str, Any] = {"code": v.code, "reason": v.reason, "station": m.get("station"),
                               "unit_key": m.get("unit_public_key"), "digest": up.digest or None}
        return Entry("upload_refused", row, at, refusal=row)
