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
from string import Formatter

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
    around = _one_field(text)
    if around is not None and len(items) == 1:  # e.g. "authorised", once per voter
        before, field, after = around
        formatted = before + format(fields[field]) + after  # what text.format(**fields) writes
    else:
        formatted = text.format(**fields)
    return OperatorMessage(name, severity, formatted, items if len(items) == 1 else tuple(sorted(items)))


@lru_cache(maxsize=256)
def _one_field(text: str) -> tuple[str, str, str] | None:
    """(before, field, after) when ``text`` has exactly one ``{field}`` (a plain name, no
    conversion or format spec): ``before + format(value) + after`` is then what
    ``text.format(field=value)`` writes. None for any other text."""
    parts = list(Formatter().parse(text))
    named = [i for i, (_, field, _, _) in enumerate(parts) if field is not None]
    if len(named) != 1 or named[0] != 0:
        return None
    before, field, spec, conversion = parts[0]
    if spec or conversion is not None or not str(field).isidentifier():
        return None
    return before, str(field), "".join(literal for literal, _, _, _ in parts[1:])


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
