"""The voter roll: who may vote at which station, loaded with the election package (CSV).

CSV columns (header required): ``voter_id,document_number,station_id``. Each document number
appears once; every station named must exist in the election. ``VoterRoll.lookup`` finds a
voter by identity-document number. Whether a voter already voted is not the roll's business:
the controller rebuilds it from the journal's check-in events.
"""
from __future__ import annotations

import csv
import hashlib
import io
from operator import attrgetter
from dataclasses import dataclass
from pathlib import Path

from device.election.definition import Election
from device.quick_init import quick_init

COLUMNS = ("voter_id", "document_number", "station_id")
_ROW = attrgetter(*COLUMNS)  # a Voter's row, its fields in the columns' order


class VoterRollError(ValueError):
    pass


@quick_init
@dataclass(frozen=True)
class Voter:
    voter_id: str
    document_number: str
    station_id: str


class VoterRoll:
    def __init__(self, voters: list[Voter], election: Election | None = None):
        self._by_document: dict[str, Voter] = {}
        ids: set[str] = set()
        for n, v in enumerate(voters, start=2):
            if v.document_number in self._by_document:
                raise VoterRollError(f"line {n}: document number {v.document_number!r} appears twice")
            if v.voter_id in ids:
                raise VoterRollError(f"line {n}: voter id {v.voter_id!r} appears twice")
            if election is not None and v.station_id not in election.stations:
                raise VoterRollError(f"line {n}: unknown station {v.station_id!r}")
            ids.add(v.voter_id)
            self._by_document[v.document_number] = v
        self.voters = list(voters)

    def __len__(self) -> int:
        return len(self.voters)

    def lookup(self, document_number: str) -> Voter | None:
        return self._by_document.get(document_number)

    def to_csv(self) -> str:
        rows = list(map(_ROW, self.voters))
        try:  # (hashed at every open) plain fields need no quoting: the text csv.writer writes
            body = "\n".join(map(",".join, rows))
        except TypeError:  # a field that is not a string
            body = None
        if body is not None and body.count(",") == 2 * len(rows) and body.count("\n") == len(rows) - 1 \
                and '"' not in body and "\r" not in body:
            return ",".join(COLUMNS) + "\n" + body + ("\n" if rows else "")
        buf = io.StringIO()
        w = csv.writer(buf, lineterminator="\n")
        w.writerow(COLUMNS)
        w.writerows(map(_ROW, self.voters))  # (hashed at every open: in C, no call per voter)
        return buf.getvalue()

    def sha256(self) -> str:
        return hashlib.sha256(self.to_csv().encode()).hexdigest()

    @classmethod
    def from_csv_text(cls, text: str, election: Election | None = None) -> VoterRoll:
        reader = csv.reader(io.StringIO(text))
        header = next(reader, None)
        if header is None:
            raise VoterRollError("the voter roll is empty (expected a header line)")
        if tuple(h.strip() for h in header) != COLUMNS:
            raise VoterRollError(f"line 1: header must be {','.join(COLUMNS)} (got {','.join(header)})")
        voters = []
        for n, row in enumerate(reader, start=2):
            if not row:
                continue
            if len(row) != 3 or not all(x.strip() for x in row):
                raise VoterRollError(f"line {n}: expected 3 non-empty fields, got {row!r}")
            voters.append(Voter(*(x.strip() for x in row)))
        return cls(voters, election)

    @classmethod
    def from_csv(cls, path: str | Path, election: Election | None = None) -> VoterRoll:
        try:
            text = Path(path).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as exc:
            raise VoterRollError(f"cannot read voter roll {path}: {exc}") from None
        return cls.from_csv_text(text, election)
