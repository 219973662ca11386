"""Babel extractor for the event catalog: the operator messages and event summaries of ``event_catalog.toml``.

``pybabel extract`` calls ``extract_event_catalog`` on the event catalog (``babel.cfg`` names it as the
method). Every ``[messages.NAME]`` table's ``text`` becomes a
catalog entry whose comment names the message and its placeholders, so a translator sees
which ``{fields}`` must stay intact. ``events.message()`` translates the same text at run time.
Every ``[events.NAME]`` table's ``summary`` is extracted too: the console's journal pane shows it
in the console's language.
"""
from __future__ import annotations

import re
import tomllib
from string import Formatter
from typing import IO, Iterator

_TABLE = re.compile(rb"^\[(messages|events)\.([A-Za-z0-9_]+)\]")


def placeholders(text: str) -> set[str]:
    """The ``{name}`` fields of a ``str.format`` template."""
    return {name for _, name, _, _ in Formatter().parse(text) if name is not None}


def extract_event_catalog(fileobj: IO[bytes], keywords, comment_tags, options
                          ) -> Iterator[tuple[int, str | None, str, list[str]]]:
    raw = fileobj.read()
    doc = tomllib.loads(raw.decode("utf-8"))
    messages = doc.get("messages", {})
    lines = {}
    for number, line in enumerate(raw.splitlines(), start=1):
        match = _TABLE.match(line)
        if match:
            lines[(match.group(1).decode(), match.group(2).decode())] = number
    for name, event in doc.get("events", {}).items():
        if event.get("summary"):
            yield lines.get(("events", name), 0), None, event["summary"], [f"journal event '{name}'"]
    for name, entry in messages.items():
        fields = sorted(placeholders(entry["text"]))
        note = f"operator message '{name}' ({entry.get('severity', 'info')})"
        if fields:
            note += "; keep " + ", ".join("{" + f + "}" for f in fields)
        yield lines.get(("messages", name), 0), None, entry["text"], [note]
