"""Store failures on the unit (disk full, I/O error): one named fault, refused actions, recovery.

Any write the store cannot make (``StoreWriteError``) becomes the controller's ``store_fault``,
the ``store_write_failed`` message the operator's screen shows. While it stands, check-in is
refused with it, the ballot box stops, and every operator action (with its PIN session) is
refused with it: nothing raises out of the controller, so the unit's thread lives on. Each new
action first tries to write again (``store_usable``): once space has come back, the ``fault``
record that could not be written (a cast that failed puts the box in fault) and a
``store_recovered`` record are journaled, and the fault is lifted.
"""
from __future__ import annotations

import functools
from abc import ABC, abstractmethod
from typing import Any, Callable, Concatenate, ParamSpec, TypeVar

from device.station.events import ControllerError, OperatorMessage, message
from device.store.journal import StationStore, StoreWriteError


class StoreFaults(ABC):
    """The store-failure half of ``StationController`` (which provides ``store`` and ``_time``)."""

    store: StationStore
    store_fault: OperatorMessage | None = None  # the store failed: shown, actions refused
    _store_fault_detail = ""
    _unwritten_fault: tuple[dict[str, Any], float] | None = None  # a fault entered but not journaled

    @abstractmethod
    def _time(self, coarse: bool) -> float:
        """The time of the next journal record (the controller's clock, coarsened if asked)."""

    def note_store_failure(self, exc: StoreWriteError) -> OperatorMessage:
        self.store_fault = message("store_write_failed", detail=str(exc))
        self._store_fault_detail = str(exc)
        return self.store_fault

    def store_usable(self) -> bool:
        """True when the store writes. In a store fault, try again (space may have come back):
        the fault record that could not be written, then ``store_recovered``."""
        if self.store_fault is None:
            return True
        try:
            if self._unwritten_fault is not None:
                data, at = self._unwritten_fault
                self.store.append_event("fault", data, max(at, self.store.head_at))
                self._unwritten_fault = None
            self.store.append_event("store_recovered", {"failure": self._store_fault_detail},
                                    self._time(coarse=False))
        except StoreWriteError as exc:
            self.note_store_failure(exc)
            return False
        self.store_fault = None
        return True

    def store_refusal(self) -> OperatorMessage | None:
        """The store fault that refuses an action (``store_usable`` tried again), or None."""
        if self.store_fault is None:  # (the common case, twice per ballot, without a call)
            return None
        return None if self.store_usable() else self.store_fault


Faulty = TypeVar("Faulty", bound=StoreFaults)
Params = ParamSpec("Params")
Returned = TypeVar("Returned")


def store_guarded(action: Callable[Concatenate[Faulty, Params], Returned]
                  ) -> Callable[Concatenate[Faulty, Params], Returned]:
    """An operator action refused with the store fault while the store cannot write; a write
    that fails during it becomes that fault (``ControllerError``), never an exception that
    stops the unit."""
    @functools.wraps(action)
    def guarded(self: Faulty, *args: Params.args, **kwargs: Params.kwargs) -> Returned:
        if not self.store_usable():
            assert self.store_fault is not None  # store_usable keeps why it is not
            raise ControllerError(self.store_fault)
        try:
            return action(self, *args, **kwargs)
        except StoreWriteError as exc:
            raise ControllerError(self.note_store_failure(exc)) from None
    return guarded
