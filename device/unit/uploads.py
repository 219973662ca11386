"""The unit sends its own results: the outbox sender, run in the background while the unit runs.

When ``unit.toml`` names the central tally (``[central] url``), ``Unit`` starts a
``ResultsSender``: a thread with its own connection to the outbox table of the unit's store
(``device/store/outbox.py``) and its own HTTP client. It posts every message that is due, backs
off as the outbox's policy says, and is woken at once when the polls close (``poke``). It never
touches the controller or a peripheral; the unit thread reads ``status`` when it builds the next
view, so the console shows "results sent", "waiting: next try at ..." or "refused: reason".

A message refused by the central tally stays refused (sending the same bytes again cannot
help); the operator fixes the cause and runs ``ballotbox device send --retry-refused``.
"""
from __future__ import annotations

import threading
from typing import Callable

from device.store.journal import StoreWriteError
from device.store.outbox import Outbox, OutboxSender
from device.unit.view import UploadStatus

IDLE_S = 1.0  # the longest the sender waits before looking at the outbox (and the clock) again


def upload_status(outbox: Outbox) -> UploadStatus | None:
    """What the outbox says to the operator: None while it holds nothing."""
    items = outbox.items()
    if not items:
        return None
    refused = [i for i in items if i.state == "refused"]
    if refused:
        return UploadStatus("refused", detail=refused[-1].last_detail or "")
    pending = [i for i in items if i.state == "pending"]
    if pending:
        last = max(pending, key=lambda i: i.attempts)
        return UploadStatus("waiting", next_at=min(i.next_attempt_at for i in pending),
                            detail=last.last_detail or "", attempts=last.attempts)
    return UploadStatus("sent")


class ResultsSender:
    """The background sender of one unit store to one central tally."""

    def __init__(self, store_path, url: str, *, clock: Callable[[], float]) -> None:
        self.store_path, self.url, self.clock = store_path, url, clock
        self.status: UploadStatus | None = None
        self._wake = threading.Event()
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._thread = threading.Thread(target=self._run, name="results-sender", daemon=True)
        self._thread.start()

    def poke(self) -> None:
        """Look at the outbox now (a message was just put in it)."""
        self._wake.set()

    def stop(self) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout=15)

    def _run(self) -> None:
        import httpx

        try:
            outbox = Outbox(self.store_path)
        except StoreWriteError as exc:
            self.status = UploadStatus("waiting", detail=str(exc))
            return
        with outbox, httpx.Client() as client:
            sender = OutboxSender(outbox, self.url, client=client, clock=self.clock)
            while not self._stop.is_set():
                try:
                    sender.send_due()
                    self.status = upload_status(outbox)
                    next_at = outbox.next_due()
                except StoreWriteError as exc:  # the store is busy or failing: try again later
                    self.status = UploadStatus("waiting", detail=str(exc))
                    next_at = None
                wait = IDLE_S if next_at is None else min(IDLE_S, max(0.05, next_at - self.clock()))
                self._wake.wait(wait)
                self._wake.clear()
