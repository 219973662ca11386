"""Operator messages: the refusals, rejections and faults of the event catalog, rendered.

The catalog (``event_catalog.toml``, read by ``device.event_catalog``) is declared once as data
(as VotingWorks declares its log events): every state-machine trigger is an event type, plus the
few events that are not transitions. ``message(name, **fields)`` renders the operator-facing text
for a refusal, rejection or fault in the unit's active language (``device.i18n``; the texts are
extracted into the catalogs by ``make messages``). An operator action that is not possible now
raises ``ControllerError``, which carries such a message.
"""
from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from device.event_catalog import catalog as catalog
from device.event_catalog import coarse_time_events as coarse_time_events
from device.event_catalog import durable_events as durable_events
from device.event_catalog import event_code as event_code
from device.event_catalog import event_summary as event_summary
from device.i18n import _, language
from device.quick_init import quick_init


@quick_init
@dataclass(frozen=True)
class OperatorMessage:
    code: str
    severity: str
    text: str
    fields: tuple[tuple[str, object], ...] = ()  # the text's {fields}: a console may translate again

    def to_json(self) -> dict[str, str]:
        return {"code": self.code, "severity": self.severity, "text": self.text}


class ControllerError(RuntimeError):
    """An operator action that is not possible in the current state (message says why)."""

    def __init__(self, msg: OperatorMessage):
        self.operator_message = msg
        super().__init__(msg.text)


def message(name: str, **fields: object) -> OperatorMessage:
    if not fields:  # e.g. "cast", once per ballot: the same (immutable) message every time
        return _plain_message(name, language())
    severity, text = _template(name, language())  # looked up and translated once per language
    items = tuple(fields.items())
    return OperatorMessage(name, severity, text.format(**fields), items if len(items) == 1 else tuple(sorted(items)))


@lru_cache(maxsize=256)
def _template(name: str, lang: str) -> tuple[str, str]:
    """The severity of message ``name`` and its text in ``lang`` (the active language: ``_``
    translates into it), its ``{fields}`` not yet filled in."""
    entry = catalog()["messages"][name]
    return entry["severity"], _(entry["text"])


@lru_cache(maxsize=256)
def _plain_message(name: str, lang: str) -> OperatorMessage:
    """A message without fields in ``lang``."""
    severity, text = _template(name, lang)
    return OperatorMessage(name, severity, text.format())
