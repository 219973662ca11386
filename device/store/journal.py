"""The unit's store: the hash-chained event journal and the cast vote records, behind one interface.

``StationStore`` is what the controller writes to. ``cast_ballot`` stores a cast vote record
and its ``ballot_cast`` journal event atomically — it returns only once both are durable, and
the controller drops the ballot only after it returns (write-ahead casting). A store that
cannot write raises ``StoreWriteError`` and the controller stops casting.

``MemoryStore`` keeps everything in memory (logical simulations, tests). The SQLite store for
the device lives in ``device/store/sqlite.py``.

Journal records: ``seq`` (1, 2, ...), ``type`` (an event id from the catalog), ``at`` (the
injected clock, seconds), ``data`` (never votes), ``prev_hash`` and ``hash`` =
SHA-256(canonical JSON of seq, type, at, data, prev_hash). The first record's ``prev_hash`` is
64 zeros. Cast vote records are returned sorted by their random id: an order unrelated to the
order of casting.
"""
from __future__ import annotations

import hashlib
from abc import ABC, abstractmethod
from dataclasses import dataclass
from typing import Any, Iterator

from device.store.canonical_json import canonical_record_bytes
from device.store.cast_vote_record import CastVoteRecord

GENESIS_HASH = "0" * 64


class StoreWriteError(RuntimeError):
    """The store could not make a write durable; nothing may be cast until it can."""


@dataclass(slots=True)
class JournalRecord:
    seq: int
    type: str
    at: float
    data: dict[str, Any]
    prev_hash: str
    hash: str

    def to_json(self) -> dict[str, Any]:
        return {"seq": self.seq, "type": self.type, "at": self.at, "data": self.data,
                "prev_hash": self.prev_hash, "hash": self.hash}

    @classmethod
    def from_json(cls, obj: dict[str, Any]) -> JournalRecord:
        return cls(obj["seq"], obj["type"], obj["at"], obj["data"], obj["prev_hash"], obj["hash"])


def record_hash(seq: int, type_: str, at: float, data: dict[str, Any], prev_hash: str) -> str:
    return hashlib.sha256(canonical_record_bytes(seq, type_, at, data, prev_hash)).hexdigest()


def make_record(seq: int, type_: str, at: float, data: dict[str, Any], prev_hash: str) -> JournalRecord:
    return JournalRecord(seq, type_, at, data, prev_hash, record_hash(seq, type_, at, data, prev_hash))


class StationStore(ABC):
    """The journal and the cast vote records of one unit."""

    @property
    @abstractmethod
    def head_at(self) -> float:
        """The time of the last journal record (0 for an empty journal), kept by every store as
        it writes: the controller never journals a record earlier than it."""

    @abstractmethod
    def append_event(self, type_: str, data: dict[str, Any], at: float, *,
                     durable: bool = True) -> JournalRecord:
        """Append one journal record and return it. ``durable=True``: committed (with every
        record staged before it) when this returns. ``durable=False``: chained now, committed
        with the next durable write (group commit)."""

    @abstractmethod
    def cast_ballot(self, cvr: CastVoteRecord, event_data: dict[str, Any], at: float) -> JournalRecord:
        """Store ``cvr`` and a ``ballot_cast`` event in one transaction; return the event."""

    @abstractmethod
    def events(self) -> Iterator[JournalRecord]:
        """All journal records in sequence order."""

    @abstractmethod
    def cast_vote_records(self) -> list[CastVoteRecord]:
        """All cast vote records, sorted by id (unrelated to cast order)."""

    def compact(self) -> None:
        """Rewrite the stored form so that it keeps no trace of the order of writes (called at
        the close of polls). A store without such traces needs nothing."""

    def close(self) -> None:  # pragma: no cover - trivial default
        pass


class MemoryStore(StationStore):
    """An in-memory store; same chaining and ordering rules as the durable one."""

    def __init__(self) -> None:
        self._records: list[JournalRecord] = []
        self._cvrs: dict[str, CastVoteRecord] = {}

    def _next(self, type_: str, data: dict[str, Any], at: float) -> JournalRecord:
        prev = self._records[-1].hash if self._records else GENESIS_HASH
        return make_record(len(self._records) + 1, type_, at, data, prev)

    def append_event(self, type_: str, data: dict[str, Any], at: float, *,
                     durable: bool = True) -> JournalRecord:
        rec = self._next(type_, data, at)
        self._records.append(rec)
        return rec

    def cast_ballot(self, cvr: CastVoteRecord, event_data: dict[str, Any], at: float) -> JournalRecord:
        if cvr.id in self._cvrs:
            raise StoreWriteError(f"cast vote record id {cvr.id} already exists")
        rec = self._next("ballot_cast", event_data, at)
        self._cvrs[cvr.id] = cvr
        self._records.append(rec)
        return rec

    def events(self) -> Iterator[JournalRecord]:
        return iter(list(self._records))

    @property
    def head_at(self) -> float:
        return self._records[-1].at if self._records else 0.0

    def cast_vote_records(self) -> list[CastVoteRecord]:
        return [self._cvrs[k] for k in sorted(self._cvrs)]


def checkpoint_message(head_seq: int, head_hash: str, reason: str) -> bytes:
    """The bytes a unit signs in a 'checkpoint' record: the journal head it vouches for."""
    return f"ballotbox-checkpoint/1|{reason}|{head_seq}|{head_hash}".encode("ascii")
