"""The base of store wrappers: every method the store contract declares, forwarded to ``inner``.

A wrapper adds to a store (the console's journal tap, the simulator's power cuts and
miscounts) and overrides only what it adds; everything else the contract declares
(``device.store.journal.StationStore``: the chained journal, the cast vote records, ``path``,
``unit_metadata()``, ``outbox()``) reaches the wrapped store through a method written here, so
the type checker sees it and nothing undeclared passes through (no ``__getattr__``).
``head_at`` is read at every coarse-time record: it is a plain property, one call deep.
``tests/test_contracts_store.py`` checks that this class forwards exactly the declared names.
"""
from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any, Iterator

from device.store.cast_vote_record import CastVoteRecord
from device.store.journal import JournalRecord, StationStore, UnitMetadata

if TYPE_CHECKING:
    from device.store.outbox import Outbox


class ForwardingStore(StationStore):
    """A ``StationStore`` that forwards every declared method to ``inner``."""

    def __init__(self, inner: StationStore) -> None:
        self.inner = inner

    @property
    def head(self) -> tuple[int, str]:
        return self.inner.head

    @property
    def head_at(self) -> float:
        return self.inner.head_at

    def append_event(self, type_: str, data: dict[str, Any], at: float, *,
                     durable: bool = True) -> JournalRecord:
        return self.inner.append_event(type_, data, at, durable=durable)

    def flush(self) -> None:
        self.inner.flush()

    def events(self) -> Iterator[JournalRecord]:
        return self.inner.events()

    def cast_ballot(self, cvr: CastVoteRecord, event_data: dict[str, Any], at: float) -> JournalRecord:
        return self.inner.cast_ballot(cvr, event_data, at)

    def cast_vote_records(self) -> list[CastVoteRecord]:
        return self.inner.cast_vote_records()

    def compact(self) -> None:
        self.inner.compact()

    def close(self) -> None:
        self.inner.close()

    @property
    def path(self) -> Path | None:
        return self.inner.path

    def unit_metadata(self) -> UnitMetadata | None:
        return self.inner.unit_metadata()

    def outbox(self) -> Outbox | None:
        return self.inner.outbox()
