"""Accuracy volume test: many synthetic marked and scanned ballots through the real interpreter.

As in the voting-system standards' volume test, every ballot position (oval) read is compared
with what the voter meant (``sim.paper.marks.SheetTruth``):

- a **misread** is a definite mark read as no vote (*missed*) or an unmarked oval read as a
  vote (*invented*); the target is zero (the standards: at most 1 in 10,000,000 positions);
- marks ambiguous by construction (dot, hesitation, erased residue) are counted, never misreads;
- a sheet the interpreter rejects is counted by reason and not read (a rejection is the safe
  answer to a bad scan; misreads are not);
- every ``NON_BALLOT_EVERY``-th ballot is followed by a page with no ballot on it and one of
  another election: neither may ever yield a vote.

A campaign **passes** when nothing was misread, no non-ballot page gave a vote, and the share of
ballots read (not rejected) is at least ``min_read_rate`` (``MIN_READ_RATE`` by default: at
``moderate`` distortion every ballot must be read; a unit that hands most ballots back to the
voters is not accurate, even if it never misreads). ``min_read_rate=0`` makes a campaign about
misreads only, as the ``severe`` level (beyond spec) is meant to be run.

Ballot ``i`` of a campaign is generated from ``random.Random(f"{seed}:{i}")``, so results do not
depend on the number of worker processes. Workers use the ``forkserver`` start method (OpenCV's
thread pool can deadlock in forked children) and one OpenCV thread each.
"""
from __future__ import annotations

import multiprocessing
import random
import time
from collections import Counter
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import dataclass, field
from typing import Any, Callable

import cv2

from device.election.definition import Election, load_election
from sim.paper.image_paper import ImagePaper
from sim.paper.marks import AMBIGUOUS, NO_VOTE, VOTE

NON_BALLOT_EVERY = 50
BATCH = 25
MIN_READ_RATE = 0.99  # share of ballots a passing campaign must read (not reject)


@dataclass
class AccuracyReport:
    election: str
    seed: int
    distortion: str
    mark_style: str
    ballots: int = 0
    positions: int = 0
    definite_marks: int = 0
    ambiguous_marks: int = 0
    ambiguous_read_as_vote: int = 0
    missed: int = 0
    invented: int = 0
    marginal_flags: int = 0
    rejections: Counter = field(default_factory=Counter)
    non_ballot_sheets: int = 0
    non_ballot_votes: int = 0
    non_ballot_rejections: Counter = field(default_factory=Counter)
    misread_examples: list[str] = field(default_factory=list)
    elapsed_s: float = 0.0
    min_read_rate: float = MIN_READ_RATE

    @property
    def misreads(self) -> int:
        return self.missed + self.invented

    @property
    def ballots_read(self) -> int:
        return self.ballots - sum(self.rejections.values())

    @property
    def read_rate(self) -> float:
        return self.ballots_read / self.ballots if self.ballots else 0.0

    @property
    def passed(self) -> bool:
        return (self.misreads == 0 and self.non_ballot_votes == 0
                and self.read_rate >= self.min_read_rate)

    def merge(self, other: AccuracyReport) -> None:
        for name in ("ballots", "positions", "definite_marks", "ambiguous_marks",
                     "ambiguous_read_as_vote", "missed", "invented", "marginal_flags",
                     "non_ballot_sheets", "non_ballot_votes"):
            setattr(self, name, getattr(self, name) + getattr(other, name))
        self.rejections.update(other.rejections)
        self.non_ballot_rejections.update(other.non_ballot_rejections)
        self.misread_examples = (self.misread_examples + other.misread_examples)[:20]

    @classmethod
    def from_json(cls, doc: dict[str, Any]) -> AccuracyReport:
        """The report ``to_json`` wrote (a campaign's checkpoint stores finished batches so)."""
        report = cls(doc["election"], doc["seed"], doc["distortion"], doc["mark_style"],
                     ballots=doc["ballots"], positions=doc["positions_read"],
                     definite_marks=doc["definite_marks"], missed=doc["misreads"]["missed"],
                     invented=doc["misreads"]["invented"], marginal_flags=doc["marginal_flags"],
                     ambiguous_marks=doc["ambiguous_marks"]["total"],
                     ambiguous_read_as_vote=doc["ambiguous_marks"]["read_as_vote"],
                     rejections=Counter(doc["rejections"]),
                     non_ballot_sheets=doc["non_ballot_sheets"],
                     non_ballot_votes=doc["non_ballot_votes"],
                     non_ballot_rejections=Counter(doc["non_ballot_rejections"]),
                     misread_examples=list(doc["misread_examples"]),
                     min_read_rate=doc["min_read_rate"])
        return report

    def to_json(self) -> dict[str, Any]:
        return {
            "election": self.election, "seed": self.seed, "distortion": self.distortion,
            "mark_style": self.mark_style, "ballots": self.ballots,
            "ballots_read": self.ballots_read, "read_rate": round(self.read_rate, 6),
            "min_read_rate": self.min_read_rate,
            "positions_read": self.positions, "definite_marks": self.definite_marks,
            "misreads": {"total": self.misreads, "missed": self.missed, "invented": self.invented},
            "marginal_flags": self.marginal_flags,
            "ambiguous_marks": {"total": self.ambiguous_marks, "read_as_vote": self.ambiguous_read_as_vote},
            "rejections": dict(sorted(self.rejections.items())),
            "non_ballot_sheets": self.non_ballot_sheets, "non_ballot_votes": self.non_ballot_votes,
            "non_ballot_rejections": dict(sorted(self.non_ballot_rejections.items())),
            "misread_examples": self.misread_examples,
            "passed": self.passed,  # no timing here: the same seed prints the same object
        }


def voter_marks(election: Election, style_id: str, rng: random.Random) -> dict[str, tuple[str, ...]]:
    """What one voter marks: mostly valid votes, some blank, over- and undervoted contests."""
    marks = {}
    for contest in election.contests_for_style(style_id):
        ids = contest.choice_ids()
        roll = rng.random()
        if roll < 0.06:
            n = 0
        elif roll < 0.12:
            n = min(len(ids), contest.vote_for + 1)
        elif roll < 0.18 and contest.vote_for > 1:
            n = rng.randint(1, contest.vote_for - 1)
        else:
            n = contest.vote_for
        marks[contest.id] = tuple(rng.sample(ids, n))
    return marks


_papers: dict[tuple[str, str, str], ImagePaper] = {}


def _paper(election_ref: str, distortion: str, mark_style: str) -> ImagePaper:
    key = (election_ref, distortion, mark_style)
    if key not in _papers:
        _papers[key] = ImagePaper(load_election(election_ref), distortion=distortion,
                                  mark_style=mark_style)
    return _papers[key]


def run_batch(election_ref: str, seed: int, start: int, count: int, distortion: str,
              mark_style: str) -> AccuracyReport:
    """Ballots ``start .. start+count-1`` of a campaign."""
    paper = _paper(election_ref, distortion, mark_style)
    election, interpreter = paper.election, paper.interpreter
    report = AccuracyReport(election_ref, seed, distortion, mark_style)
    styles = sorted(election.ballot_styles)
    for i in range(start, start + count):
        rng = random.Random(f"{seed}:{i}")
        style = rng.choice(styles)
        frame, truth = paper.make_marked_sheet(style, voter_marks(election, style, rng), rng)
        reading = interpreter.interpret(frame)
        report.ballots += 1
        if not reading.readable:
            report.rejections[reading.rejection] += 1
        else:
            for cid, contest in reading.contests.items():
                for choice in election.contests[cid].choice_ids():
                    report.positions += 1
                    meant = truth.truth(cid, choice)
                    read_vote = choice in contest.selections
                    report.marginal_flags += choice in contest.marginal
                    if meant == VOTE:
                        report.definite_marks += 1
                        if not read_vote:
                            report.missed += 1
                            report.misread_examples.append(f"ballot {i}: {cid}/{choice} missed")
                    elif meant == AMBIGUOUS:
                        report.ambiguous_marks += 1
                        report.ambiguous_read_as_vote += read_vote
                    elif meant == NO_VOTE and read_vote:
                        report.invented += 1
                        report.misread_examples.append(f"ballot {i}: {cid}/{choice} invented")
        if i % NON_BALLOT_EVERY == 0:
            for kind in ("not_a_ballot", "wrong_election"):
                sheet, _ = paper.make_marked_sheet(style, voter_marks(election, style, rng), rng, kind)
                other = interpreter.interpret(sheet)
                report.non_ballot_sheets += 1
                if other.readable:
                    report.non_ballot_votes += sum(len(c.selections) for c in other.contests.values())
                    report.non_ballot_rejections["none"] += 1
                else:
                    report.non_ballot_rejections[other.rejection] += 1
    report.misread_examples = report.misread_examples[:20]
    return report


def _init_worker() -> None:
    cv2.setNumThreads(1)


def run_accuracy(election_ref: str, ballots: int, seed: int = 0, distortion: str = "moderate",
                 mark_style: str = "mixed", workers: int = 1,
                 progress: Callable[[int], None] | None = None,
                 min_read_rate: float = MIN_READ_RATE) -> AccuracyReport:
    """Run a campaign of ``ballots`` sheets; ``progress(n)`` is called as batches complete."""
    if workers <= 1:  # build the paper (and fail on a bad election) before the clock starts
        _paper(election_ref, distortion, mark_style)
    else:
        load_election(election_ref)  # fail early, in the caller, on a bad election
    total = AccuracyReport(election_ref, seed, distortion, mark_style, min_read_rate=min_read_rate)
    t0 = time.perf_counter()
    batches = [(election_ref, seed, s, min(BATCH, ballots - s), distortion, mark_style)
               for s in range(0, ballots, BATCH)]
    if workers <= 1:
        for batch in batches:
            total.merge(run_batch(*batch))
            if progress:
                progress(batch[3])
    else:
        ctx = multiprocessing.get_context("forkserver")
        with ProcessPoolExecutor(workers, mp_context=ctx, initializer=_init_worker) as pool:
            futures = {pool.submit(run_batch, *batch): batch[3] for batch in batches}
            for future in as_completed(futures):
                total.merge(future.result())
                if progress:
                    progress(futures[future])
    total.elapsed_s = time.perf_counter() - t0
    return total
