"""The unit's store seen through a tap: the last journal records (the console's journal pane),
kept as the unit thread writes them. (Swapped boxes are counted by the controller's Counters.)"""
from __future__ import annotations

from collections import deque
from typing import Any

from device.store.journal import StationStore
from device.unit.view import journal_line

JOURNAL_LINES = 30


class JournalTap(StationStore):
    """The unit's store, remembering the last records written (for the console's journal pane)."""

    def __init__(self, inner: StationStore, keep: int = JOURNAL_LINES):
        self.inner = inner
        self.recent: deque = deque(maxlen=keep)
        for rec in inner.events():
            self._saw(rec)

    def _saw(self, rec) -> None:
        self.recent.append(journal_line(rec))

    def append_event(self, type_, data, at, *, durable=True):
        rec = self.inner.append_event(type_, data, at, durable=durable)
        self._saw(rec)
        return rec

    def cast_ballot(self, cvr, event_data, at):
        rec = self.inner.cast_ballot(cvr, event_data, at)
        self._saw(rec)
        return rec

    def events(self):
        return self.inner.events()

    def cast_vote_records(self):
        return self.inner.cast_vote_records()

    def close(self) -> None:
        self.inner.close()

    @property
    def head_at(self) -> float:
        return self.inner.head_at

    def compact(self) -> None:  # the close's compaction reaches the real store
        self.inner.compact()

    def __getattr__(self, name: str) -> Any:  # read_meta, write_meta, flush, head ...
        return getattr(self.inner, name)
