"""The unit's store seen through a tap: the last journal records (the console's journal pane),
kept as the unit thread writes them. (Swapped boxes are counted by the controller's Counters.)"""
from __future__ import annotations

from collections import deque
from typing import Any

from device.store.cast_vote_record import CastVoteRecord
from device.store.forwarding import ForwardingStore
from device.store.journal import JournalRecord, StationStore
from device.unit.view import JournalLine, journal_line

JOURNAL_LINES = 30


class JournalTap(ForwardingStore):
    """The unit's store, remembering the last records written (for the console's journal pane)."""

    def __init__(self, inner: StationStore, keep: int = JOURNAL_LINES):
        super().__init__(inner)
        self.recent: deque[JournalLine] = deque(maxlen=keep)
        for rec in inner.events():
            self._saw(rec)

    def _saw(self, rec: JournalRecord) -> None:
        self.recent.append(journal_line(rec))

    def append_event(self, type_: str, data: dict[str, Any], at: float, *,
                     durable: bool = True) -> JournalRecord:
        rec = self.inner.append_event(type_, data, at, durable=durable)
        self._saw(rec)
        return rec

    def cast_ballot(self, cvr: CastVoteRecord, event_data: dict[str, Any], at: float) -> JournalRecord:
        rec = self.inner.cast_ballot(cvr, event_data, at)
        self._saw(rec)
        return rec
