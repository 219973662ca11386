"""Logical fidelity paper: a ballot is its marks as data, read back without an image.

``LogicalPaper`` has the same two members as ``sim.paper.image_paper.ImagePaper``: ``make_sheet``
(what the camera will see for a marked sheet) and ``interpreter`` (turns that into a
``BallotReading``). A ``LogicalFrame`` carries the election-hash prefix printed on the sheet,
the style, the marks and whether it is a test ballot, so the controller's checks (wrong
election, wrong style, test ballot, overvote, blank) run exactly as at image fidelity; only
the optical reading is skipped.
"""
from __future__ import annotations

import random
from typing import NamedTuple

from device.ballots.records import BallotReading, ContestReading
from device.election.definition import Election

SHEET_KINDS = ("ballot", "test_ballot", "wrong_election", "not_a_ballot")


class LogicalFrame(NamedTuple):
    """An immutable value (a named tuple: a national run makes one per sheet fed, millions)."""

    kind: str
    election_hash_prefix: str
    ballot_style: str
    marks: tuple[tuple[str, tuple[str, ...]], ...]


class LogicalInterpreter:
    """Reads a ``LogicalFrame``. Frames are immutable values and a reading depends on nothing
    else, so each distinct frame is read once and its (immutable) reading reused: a national
    run meets the same few marked sheets millions of times."""

    def __init__(self, election: Election):
        self.election = election
        self._readings: dict[LogicalFrame, BallotReading] = {}

    def interpret(self, frame: object) -> BallotReading:
        if isinstance(frame, LogicalFrame):
            reading = self._readings.get(frame)
            if reading is None:
                reading = self._readings[frame] = self._read(frame)
            return reading
        return self._read(frame)

    def _read(self, frame: object) -> BallotReading:
        if not isinstance(frame, LogicalFrame) or frame.kind == "not_a_ballot":
            return BallotReading.rejected("not_a_ballot")
        if frame.election_hash_prefix != self.election.hash_prefix:
            return BallotReading.rejected("wrong_election", f"hash prefix {frame.election_hash_prefix}")
        if frame.ballot_style not in self.election.ballot_styles:
            return BallotReading.rejected("unknown_style", frame.ballot_style)
        contests = {cid: ContestReading(cid, sel) for cid, sel in frame.marks}
        return BallotReading(frame.ballot_style, contests, test_ballot=frame.kind == "test_ballot")


class LogicalPaper:
    fidelity = "logical"

    def __init__(self, election: Election):
        self.election = election
        self.interpreter = LogicalInterpreter(election)
        self._prefix = election.hash_prefix  # (printed on every sheet: read once)
        # (kind, style, marks as given) -> its frame: a value, and a station meets the same few
        self._frames: dict[tuple, LogicalFrame] = {}

    def make_sheet(self, style_id: str, marks: dict[str, tuple[str, ...]], rng: random.Random,
                   kind: str = "ballot") -> LogicalFrame:
        try:
            frame = self._frames.get(key := (kind, style_id, tuple(marks.items())))
        except TypeError:  # marks that are not tuples: made every time
            key, frame = None, None
        if frame is None:
            if kind not in SHEET_KINDS:
                raise ValueError(f"unknown sheet kind {kind!r}")
            prefix = self._prefix if kind != "wrong_election" else "f" * len(self._prefix)
            frame = LogicalFrame(kind, prefix, style_id, tuple([(cid, sel if type(sel) is tuple else tuple(sel))
                                                                for cid, sel in sorted(marks.items())]))
            if key is not None:
                if len(self._frames) >= 4096:
                    self._frames.clear()
                self._frames[key] = frame
        return frame
