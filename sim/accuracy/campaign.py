"""The volume test at scale: millions of ballot positions over every election and scan profile.

``sim.accuracy.batches.run_batch`` reads one batch of synthetic ballots of one election at one scan
distortion level. A campaign (``run_campaign``) covers every *cell* (election x distortion
level: by default every named election, bundled and the simulator's, at ``clean``, ``moderate``
and ``severe``) and runs until at least ``positions`` ballot positions were read and compared
with the voters' intent. It runs on the national executors (``sim.national.executors``: this
process, a process pool, or Dask), in batches.

Reproducible by seed, whatever the number of workers: the batches form one fixed sequence
(round after round; in each round every cell gets ``weight`` batches, ``CELL_WEIGHTS``), and the
result is the *shortest prefix* of that sequence that reads ``positions`` positions. Workers may
finish batches beyond it (they run in waves of a few per worker); those are kept in the
checkpoint, never counted. Ballot ``i`` of a cell comes from the cell's own seed (``cell_seed``).

Resumable: every finished batch is appended to the checkpoint file (JSON lines; the first line
names the campaign, and a checkpoint of another campaign is refused). After Ctrl-C, the same
command with the same ``--checkpoint`` carries on where it stopped. An interrupted campaign's
summary says ``"complete": false`` and counts only the unbroken prefix of finished batches.

Severe scans are beyond spec: they may be refused (counted by reason), never misread; the
read-rate floor per level is data (``READ_RATE_FLOOR``).
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, Callable

from device.election.definition import named_elections
from sim.accuracy.batches import MIN_READ_RATE, AccuracyReport, run_batch
from sim.paper.scan_distortions import LEVELS

CELL_WEIGHTS = {"dense-34": 4}  # batches per round; 1 for the others. dense-34 is the volume
# test's own ballot (34 positions a sheet, 4x the demo's), so most positions come from it
READ_RATE_FLOOR = {"clean": MIN_READ_RATE, "moderate": MIN_READ_RATE, "severe": 0.0}
BATCH_BALLOTS = 25
WAVE_PER_WORKER = 4  # batches handed to each worker at a time (a wave); a checkpoint per batch


class CampaignError(ValueError):
    """A campaign that cannot run as asked (the message says why)."""


def all_elections() -> tuple[str, ...]:
    return tuple(sorted(named_elections()))


def cell_seed(seed: int, election: str, distortion: str) -> int:
    digest = hashlib.sha256(f"{seed}:{election}:{distortion}".encode()).hexdigest()
    return int(digest[:12], 16)


@dataclass(frozen=True)
class CampaignPlan:
    seed: int
    positions: int  # positions read (compared with intent) that the campaign must reach
    elections: tuple[str, ...]
    distortions: tuple[str, ...]
    mark_style: str = "mixed"
    batch_ballots: int = BATCH_BALLOTS

    def __post_init__(self) -> None:
        if self.positions < 1 or self.batch_ballots < 1:
            raise CampaignError("positions and ballots per batch must be at least 1")
        unknown = [d for d in self.distortions if d not in LEVELS]
        if unknown or not self.distortions:
            raise CampaignError(f"unknown distortion level(s) {unknown} (levels: {', '.join(LEVELS)})")
        names = named_elections()
        missing = [e for e in self.elections if e not in names]
        if missing or not self.elections:
            raise CampaignError(f"unknown election(s) {missing} (named: {', '.join(sorted(names))})")

    def cells(self) -> list[tuple[str, str, int]]:
        return [(e, d, CELL_WEIGHTS.get(e, 1)) for e in self.elections for d in self.distortions]

    def task(self, index: int) -> dict[str, Any]:
        """Batch ``index`` of the campaign's fixed sequence."""
        cells = self.cells()
        per_round = sum(w for _, _, w in cells)
        round_no, slot = divmod(index, per_round)
        for election, distortion, weight in cells:
            if slot < weight:
                start = (round_no * weight + slot) * self.batch_ballots
                return {"index": index, "election": election, "distortion": distortion,
                        "seed": cell_seed(self.seed, election, distortion), "start": start,
                        "count": self.batch_ballots, "mark_style": self.mark_style}
            slot -= weight
        raise AssertionError("unreachable: slot within the round")

    def header(self) -> dict[str, Any]:
        doc = asdict(self)
        doc["elections"], doc["distortions"] = list(self.elections), list(self.distortions)
        doc["cell_weights"] = {e: w for e, _, w in self.cells()}
        return doc


def run_campaign_batch(task: dict[str, Any]) -> dict[str, Any]:
    """One batch, in a worker: its report, the wall seconds it took (longer on a busy machine)
    and the CPU seconds (what it costs a free core); one OpenCV thread."""
    import cv2

    cv2.setNumThreads(1)
    t0, c0 = time.perf_counter(), time.process_time()
    report = run_batch(task["election"], task["seed"], task["start"], task["count"],
                       task["distortion"], task["mark_style"])
    return {"index": task["index"], "report": report.to_json(),
            "seconds": round(time.perf_counter() - t0, 4), "cpu_seconds": round(time.process_time() - c0, 4)}


def read_checkpoint(path: Path | None, plan: CampaignPlan) -> dict[int, dict]:
    if path is None or not path.exists():
        return {}
    lines = path.read_text(encoding="utf-8").splitlines()
    try:
        header = json.loads(lines[0])["campaign"] if lines else None
    except (json.JSONDecodeError, KeyError, TypeError):
        header = None
    if header != plan.header():
        raise CampaignError(f"checkpoint {path} belongs to another campaign (or is not a checkpoint): "
                            f"use the same options, or another --checkpoint file")
    done = {}
    for line in lines[1:]:
        try:
            record = json.loads(line)
        except json.JSONDecodeError:  # the last line of a run killed mid-write
            continue
        done[record["index"]] = record
    return done


@dataclass
class CampaignResult:
    plan: CampaignPlan
    records: list[dict]  # the counted prefix, in sequence order
    complete: bool
    interrupted: bool
    wall_seconds: float
    batches_finished: int  # all finished batches, counted or not (the checkpoint's)

    def cells(self) -> dict[tuple[str, str], AccuracyReport]:
        merged: dict[tuple[str, str], AccuracyReport] = {}
        for record in self.records:
            part = AccuracyReport.from_json(record["report"])
            key = (part.election, part.distortion)
            if key not in merged:
                merged[key] = AccuracyReport(part.election, part.seed, part.distortion, part.mark_style,
                                             min_read_rate=READ_RATE_FLOOR[part.distortion])
            merged[key].merge(part)
        for report in merged.values():
            report.misread_examples.sort()
        return merged

    def summary(self, command: str = "") -> dict[str, Any]:
        cells = self.cells()
        total = AccuracyReport("all", self.plan.seed, "all", self.plan.mark_style)
        refusals: dict[str, dict[str, int]] = {}
        for (_, distortion), report in sorted(cells.items()):
            total.merge(report)
            by_level = refusals.setdefault(distortion, {})
            for reason, n in report.rejections.items():
                by_level[reason] = by_level.get(reason, 0) + n
        worker_seconds = sum(r["seconds"] for r in self.records)
        timed = [r for r in self.records if "cpu_seconds" in r]  # (older checkpoints: wall only)
        cpu_seconds = sum(r["cpu_seconds"] for r in timed)
        cpu_rate = sum(r["report"]["positions_read"] for r in timed) / cpu_seconds if cpu_seconds else 0.0
        rate = total.positions / worker_seconds if worker_seconds else 0.0
        passed = total.misreads == 0 and total.non_ballot_votes == 0 and all(r.passed for r in cells.values())
        return {
            "command": command, "complete": self.complete, "interrupted": self.interrupted,
            "verdict": ("PASS" if passed else "FAIL") if self.complete else
                       ("INCOMPLETE (no misread so far)" if passed else "FAIL (incomplete run)"),
            "campaign": self.plan.header(), "batches_counted": len(self.records),
            "ballots": total.ballots, "positions_read": total.positions,
            "target_positions": self.plan.positions, "definite_marks": total.definite_marks,
            "misreads": {"total": total.misreads, "missed": total.missed, "invented": total.invented},
            "ambiguous_marks": {"total": total.ambiguous_marks, "read_as_vote": total.ambiguous_read_as_vote},
            "marginal_flags": total.marginal_flags,
            "refusals": dict(sorted(total.rejections.items())), "refusals_by_distortion": refusals,
            "non_ballot_sheets": total.non_ballot_sheets, "non_ballot_votes": total.non_ballot_votes,
            "misread_examples": sorted(total.misread_examples)[:20],
            "passed": passed and self.complete,  # an interrupted run has not passed: it is unfinished
            "cells": [{k: v for k, v in r.to_json().items() if k not in ("misread_examples",)}
                      for _, r in sorted(cells.items())],
            "timing": {"worker_seconds": round(worker_seconds, 1),
                       "wall_seconds_this_session": round(self.wall_seconds, 1),
                       "positions_per_worker_second": round(rate, 1),
                       "worker_hours_for_target": round(self.plan.positions / rate / 3600, 2) if rate else None,
                       "cpu_seconds_of_batches_timed": round(cpu_seconds, 1), "batches_timed": len(timed),
                       "positions_per_cpu_second": round(cpu_rate, 1),
                       "cpu_hours_for_target": round(self.plan.positions / cpu_rate / 3600, 2) if cpu_rate else None,
                       "batches_finished": self.batches_finished},
        }


def _counted_prefix(done: dict[int, dict], target: int) -> tuple[list[dict], bool]:
    prefix, positions, i = [], 0, 0
    while i in done and positions < target:
        prefix.append(done[i])
        positions += done[i]["report"]["positions_read"]
        i += 1
    return prefix, positions >= target


def run_campaign(plan: CampaignPlan, executor, checkpoint: Path | None = None,
                 progress: Callable[[int], None] | None = None) -> CampaignResult:
    """Run (or resume) ``plan`` on ``executor`` (closed at the end); ``progress(positions)`` after
    each batch with the positions read by all finished batches (at most the target)."""
    done = read_checkpoint(checkpoint, plan)
    out = None
    if checkpoint is not None:
        new = not checkpoint.exists()
        out = checkpoint.open("a", encoding="utf-8")
        if new:
            out.write(json.dumps({"campaign": plan.header()}) + "\n")
            out.flush()
    wave = max(1, WAVE_PER_WORKER * max(1, executor.workers))
    interrupted, t0 = False, time.perf_counter()
    finished = sum(r["report"]["positions_read"] for r in done.values())
    try:
        while True:
            prefix, reached = _counted_prefix(done, plan.positions)
            if reached:
                break
            todo, i = [], len(prefix)
            while len(todo) < wave:
                if i not in done:
                    todo.append(plan.task(i))
                i += 1
            for record in executor.map(todo, run_campaign_batch):
                done[record["index"]] = record
                finished += record["report"]["positions_read"]
                if out is not None:
                    out.write(json.dumps(record, sort_keys=True) + "\n")
                    out.flush()
                if progress is not None:
                    progress(min(finished, plan.positions))
    except KeyboardInterrupt:
        interrupted = True
    finally:
        executor.close(interrupted)
        if out is not None:
            out.close()
    prefix, reached = _counted_prefix(done, plan.positions)
    return CampaignResult(plan, prefix, reached, interrupted, time.perf_counter() - t0, len(done))
