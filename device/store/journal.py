"""The unit's store: the hash-chained event journal and the cast vote records, behind declared contracts.

The contracts: ``ChainedJournal`` (append, commit, head, events: every store, the central
tally's too), ``UnitMetadata`` (the unit's named values), the outbox (``device/store/outbox.py``)
and ``StationStore``, the unit's store, which says which of them it offers (``path``,
``unit_metadata()``, ``outbox()``) rather than leave callers to look with ``getattr``. Every
store chains its records with the one ``ChainWriter``; a wrapper forwards the contract with
``device/store/forwarding.py``.

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

import json
from hashlib import sha256
from abc import ABC, abstractmethod
from dataclasses import dataclass
from operator import attrgetter
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Iterator

from device.store.canonical_json import canonical_json, canonical_record_bytes
from device.store.cast_vote_record import CastVoteRecord

if TYPE_CHECKING:  # the outbox's module imports this one
    from device.store.outbox import Outbox

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
    return sha256(canonical_record_bytes(seq, type_, at, data, prev_hash)).hexdigest()


def make_record(seq: int, type_: str, at: float, data: dict[str, Any], prev_hash: str) -> JournalRecord:
    return JournalRecord(seq, type_, at, data, prev_hash, record_hash(seq, type_, at, data, prev_hash))


def canonical_data(data: dict[str, Any]) -> dict[str, Any]:
    """``data`` as it reads back from JSON (tuples -> lists, keys -> str), so hashes round-trip."""
    read_back: dict[str, Any] = json.loads(canonical_json(data))
    return read_back


class ChainWriter:
    """The one writer of the journal's chain, shared by every store (the unit's SQLite and memory
    stores, the central tally's SQLite and PostgreSQL stores): the head (seq, hash and time of
    the last record) and the records chained but not yet committed (group commit).

    ``chain`` makes the records that follow the head; ``stage`` keeps them for the next commit
    (the head moves at once); ``commit(write, records)`` hands the staged records and
    ``records`` to ``write`` — the store's one transaction — and moves the head only once it
    returned. If ``write`` raises, ``records`` are dropped and the staged ones stay staged.
    ``canonical=True`` (a durable store) chains the data as it will read back from JSON."""

    def __init__(self, seq: int = 0, hash_: str = GENESIS_HASH, at: float = 0.0, *, canonical: bool = True):
        self._seq, self._hash, self._at = seq, hash_, at
        self._staged: list[JournalRecord] = []
        self._canonical = canonical

    @property
    def head(self) -> tuple[int, str]:
        return self._seq, self._hash

    @property
    def head_at(self) -> float:
        return self._at

    @property
    def staged(self) -> list[JournalRecord]:
        return list(self._staged)

    def chain(self, events: list[tuple[str, dict[str, Any], float]]) -> list[JournalRecord]:
        """The records of ``events`` (type, data, at) following the head, in order; not staged."""
        out: list[JournalRecord] = []
        seq, prev = self._seq, self._hash
        for type_, data, at in events:
            rec = self._record(seq + 1, type_, data, at, prev)
            out.append(rec)
            seq, prev = rec.seq, rec.hash
        return out

    def append(self, type_: str, data: dict[str, Any], at: float,
               write: Callable[[list[JournalRecord]], Any]) -> JournalRecord:
        """``commit(write, chain([(type_, data, at)]))`` for one record, returned: the path of
        every journal write of an in-memory store (one per transition)."""
        seq, prev = self._seq + 1, self._hash
        if type(at) is not float or self._canonical:  # (the record as _record makes it, inlined)
            rec = self._record(seq, type_, data, at, prev)
        else:
            rec = JournalRecord(seq, type_, at, data, prev,
                                sha256(canonical_record_bytes(seq, type_, at, data, prev)).hexdigest())
        if self._staged:
            self.commit(write, [rec])
        else:
            write([rec])
            self._seq, self._hash, self._at = seq, rec.hash, at
        return rec

    def kept_writer(self, kept: list[JournalRecord]) -> Callable[..., JournalRecord]:
        """``append`` for a store whose records are the list ``kept`` (in memory: the write cannot
        fail), as one function ``(type_, data, at, *, durable=True)``, without a list per record:
        the path of every in-memory journal write (its store offers it as its ``append_event``
        itself: one call a record, not two)."""
        append = self.append

        def append_kept(type_: str, data: dict[str, Any], at: float, *, durable: bool = True) -> JournalRecord:
            if self._staged or self._canonical or type(at) is not float:
                return append(type_, data, at, kept.extend)
            seq, prev = self._seq + 1, self._hash
            hash_ = sha256(canonical_record_bytes(seq, type_, at, data, prev)).hexdigest()
            kept.append(rec := JournalRecord(seq, type_, at, data, prev, hash_))
            self._seq, self._hash, self._at = seq, hash_, at
            return rec

        return append_kept

    def _record(self, seq: int, type_: str, data: dict[str, Any], at: float, prev: str) -> JournalRecord:
        ta = type(at)
        if ta is not float and (ta is bool or not isinstance(at, (int, float))):
            raise ValueError(f"event time must be a number (got {at!r})")
        if self._canonical:
            data = canonical_data(data)
        return JournalRecord(seq, type_, at, data, prev,
                             sha256(canonical_record_bytes(seq, type_, at, data, prev)).hexdigest())

    def stage(self, records: list[JournalRecord]) -> None:
        self._staged += records
        self._move(records)

    def commit(self, write: Callable[[list[JournalRecord]], Any], records: list[JournalRecord]) -> None:
        batch = self._staged + records
        if not batch:
            return
        write(batch)
        self._staged = []
        self._move(batch)

    def _move(self, records: list[JournalRecord]) -> None:
        if records:
            last = records[-1]
            self._seq, self._hash, self._at = last.seq, last.hash, last.at


class ChainedJournal(ABC):
    """A hash-chained journal: append (durable now, or staged for the next commit), commit,
    head, events. The unit's stores and the central tally's stores all offer it."""

    @property
    @abstractmethod
    def head(self) -> tuple[int, str]:
        """(seq, hash) of the last journal record, staged ones included; (0, GENESIS_HASH) when empty."""

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
        with the next durable write (group commit) — a store may commit it at once."""

    def flush(self) -> None:
        """Commit the staged (non-durable) records now; a store that stages none has nothing to do."""

    @abstractmethod
    def events(self) -> Iterator[JournalRecord]:
        """All journal records in sequence order (staged ones included)."""

    def close(self) -> None:  # pragma: no cover - trivial default
        """Commit what is staged and let the store go."""


class UnitMetadata(ABC):
    """Named values a unit keeps beside its journal (its key pair, the trust anchor, the staff)."""

    @abstractmethod
    def read_meta(self, name: str) -> bytes | None: ...

    @abstractmethod
    def write_meta(self, name: str, value: bytes) -> None:
        """Set a value once; a second write of a different value raises ``StoreWriteError``."""


class StationStore(ChainedJournal):
    """The journal and the cast vote records of one unit, and what else it keeps, declared:
    ``path`` (its file), ``unit_metadata()``, ``outbox()`` — None where this store has none."""

    @abstractmethod
    def cast_ballot(self, cvr: CastVoteRecord, event_data: dict[str, Any], at: float) -> JournalRecord:
        """Store ``cvr`` and a ``ballot_cast`` event in one transaction; return the event."""

    @abstractmethod
    def cast_vote_records(self) -> list[CastVoteRecord]:
        """All cast vote records, sorted by id (unrelated to cast order)."""

    def compact(self) -> None:
        """Rewrite the stored form so that it keeps no trace of the order of writes (called at
        the close of polls). A store without such traces needs nothing."""

    @property
    def path(self) -> Path | None:
        """The file the store lives in (None: in memory)."""
        return None

    def unit_metadata(self) -> UnitMetadata | None:
        """Where the unit's metadata is kept (None: this store keeps none, e.g. in memory)."""
        return None

    def outbox(self) -> Outbox | None:
        """The outbox of signed messages beside the journal, opened (close it; ``with``), or
        None for a store without a file."""
        return None


class WrittenByChainWriter(ChainedJournal):
    """A journal whose head is its ``ChainWriter``'s (``_chain``): the head read where it is kept."""

    _chain: ChainWriter

    @property
    def head(self) -> tuple[int, str]:
        return self._chain.head

    # read where it is kept, by a getter in C (the controller asks at every coarse-time record,
    # four per ballot: a Python getter was a call each)
    head_at = property(attrgetter("_chain._at"), doc="The time of the last journal record.")


class MemoryStore(WrittenByChainWriter, StationStore):
    """An in-memory store; same chaining and ordering rules as the durable one (the data of a
    record is kept as given: it hashes as its JSON would)."""

    def __init__(self) -> None:
        self._records: list[JournalRecord] = []
        self._cvrs: dict[str, CastVoteRecord] = {}
        self._chain = ChainWriter(canonical=False)
        self._append = self._chain.kept_writer(self._records)
        if type(self).append_event is MemoryStore.append_event:  # (a subclass's own stays its own)
            self.__dict__["append_event"] = self._append  # the same write, one call a record, not two

    def append_event(self, type_: str, data: dict[str, Any], at: float, *,
                     durable: bool = True) -> JournalRecord:
        return self._append(type_, data, at)

    def cast_ballot(self, cvr: CastVoteRecord, event_data: dict[str, Any], at: float) -> JournalRecord:
        if cvr.id in self._cvrs:
            raise StoreWriteError(f"cast vote record id {cvr.id} already exists")
        rec = self._append("ballot_cast", event_data, at)
        self._cvrs[cvr.id] = cvr
        return rec

    def events(self) -> Iterator[JournalRecord]:
        return iter(list(self._records))

    def cast_vote_records(self) -> list[CastVoteRecord]:
        return [self._cvrs[k] for k in sorted(self._cvrs)]


def checkpoint_message(head_seq: int, head_hash: str, reason: str) -> bytes:
    """The bytes a unit signs in a 'checkpoint' record: the journal head it vouches for."""
    return f"ballotbox-checkpoint/1|{reason}|{head_seq}|{head_hash}".encode("ascii")
