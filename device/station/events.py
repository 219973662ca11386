"""The event catalog: journal event ids and operator messages, loaded from event_catalog.toml.

Declared once as data (as VotingWorks declares its log events): every state-machine trigger
is an event type, plus the few events that are not transitions. ``message(name, **fields)``
renders the operator-facing text for a refusal, rejection or fault in the unit's active
language (``device.i18n``; the texts are extracted into the catalogs by ``make messages``).
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources

from device.i18n import _


@dataclass(frozen=True)
class OperatorMessage:
    code: str
    severity: str
    text: str
    fields: tuple[tuple[str, object], ...] = ()  # the text's {fields}: a console may translate again

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "text": self.text}


@lru_cache(maxsize=1)
def catalog() -> dict:
    with resources.files("device.station").joinpath("event_catalog.toml").open("rb") as fh:
        return tomllib.load(fh)


def event_code(event_type: str) -> int:
    return catalog()["events"][event_type]["code"]


def event_summary(event_type: str) -> str:
    return catalog()["events"][event_type]["summary"]


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


def message(name: str, **fields: object) -> OperatorMessage:
    entry = catalog()["messages"][name]
    return OperatorMessage(name, entry["severity"], _(entry["text"]).format(**fields),
                           tuple(sorted(fields.items())))
