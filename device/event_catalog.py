"""The event catalog as data: every journal event type, its code and summary, and which are durable
or journaled with a coarse time, read from ``device/station/event_catalog.toml``.

Every layer reads it (the station journals the events, the results' NIST export describes them,
the audit replays them), so it sits below them all; the operator messages of the same file are
rendered by ``device.station.events``.
"""
from __future__ import annotations

import tomllib
from functools import lru_cache
from importlib import resources
from typing import Any


@lru_cache(maxsize=1)
def catalog() -> dict[str, Any]:
    with resources.files("device.station").joinpath("event_catalog.toml").open("rb") as fh:
        return tomllib.load(fh)


def event_code(event_type: str) -> int:
    code: int = catalog()["events"][event_type]["code"]
    return code


def event_summary(event_type: str) -> str:
    summary: str = catalog()["events"][event_type]["summary"]
    return summary


@lru_cache(maxsize=1)
def durable_events() -> frozenset[str]:
    """Event types committed before the state changes (see ``durable`` in the catalog)."""
    return frozenset(n for n, e in catalog()["events"].items() if e.get("durable", True))


@lru_cache(maxsize=1)
def coarse_time_events() -> frozenset[str]:
    """Event types of the voter and ballot flows, journaled with the time to the minute
    (``coarse_time`` in the catalog): seconds between a check-in, a read and a cast would hint
    at which voter needed to review a ballot."""
    return frozenset(n for n, e in catalog()["events"].items() if e.get("coarse_time", False))
