"""The one lookup of ``--election NAME``: every name a command accepts, and what it gives.

A name is looked up in *sources*, in order (the first source holding a name wins):

- the device's bundled elections (``device/election/bundled/*.json``, kind ``bundled``);
- what other packages register in the ``ballotbox.elections`` entry-point group, by entry name.
  An entry's value is a folder of election files (kind ``named``), an ``ElectionSource``, or a
  tuple of them. The simulator registers its test elections (``sim/elections``: ``dense-34``)
  and its national specs (kind ``national spec``: a spec *generates* an election, every
  district, station and registered count, ``sim/national/generator.py``).

``election_names()`` is the table: name -> ``NamedElection`` (its source, hence its kind).
Every command that takes ``--election`` resolves it here (``load_election`` for an election;
``find_election`` with ``kinds=`` for a command that needs one kind, as ``sim national`` needs a
national spec), so an unknown name gets the same one-line error everywhere, listing what exists
(``unknown_election_message``). A name that is not in the table is read as a path to an
election JSON file. This module imports nothing of ``definition`` at import time: ``definition``
re-exports it.
"""
from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

from device.election.fields import ElectionError

if TYPE_CHECKING:
    from device.election.definition import Election

BUNDLED = ("demo", "cambodia-2022", "kyrgyzstan-2017")  # the device's own, in bundled/
ELECTION_SOURCES_GROUP = "ballotbox.elections"


@runtime_checkable
class ElectionSource(Protocol):
    """Names that give an election, of one kind (the word the error and ``--help`` use)."""

    @property
    def kind(self) -> str: ...

    def names(self) -> Iterable[str]: ...

    def load(self, name: str) -> Election: ...


@dataclass(frozen=True)
class FolderSource:
    """A folder of ``ballotbox-election/1`` files; a file's stem is its name."""

    kind: str
    folder: Path

    def names(self) -> list[str]:
        return sorted(p.stem for p in self.folder.glob("*.json"))

    def path(self, name: str) -> Path:
        return self.folder / f"{name}.json"

    def load(self, name: str) -> Election:
        from device.election.definition import parse_election

        return parse_election(read_election_document(self.path(name), name))


@dataclass(frozen=True)
class NamedElection:
    """One row of the table: a name and the source that turns it into an election."""

    name: str
    source: ElectionSource

    @property
    def kind(self) -> str:
        return self.source.kind

    @property
    def path(self) -> Path | None:
        """The file of a file-backed name (None for a generated election)."""
        return self.source.path(self.name) if isinstance(self.source, FolderSource) else None

    def load(self) -> Election:
        return self.source.load(self.name)


def bundled_path(name: str) -> Path:
    return Path(str(resources.files("device.election") / "bundled" / f"{name}.json"))


def _registered(value: object) -> list[ElectionSource]:
    if isinstance(value, (tuple, list)):
        return [s for v in value for s in _registered(v)]
    if isinstance(value, ElectionSource):
        return [value]
    return [FolderSource("named", Path(str(value)))]


def election_sources() -> list[ElectionSource]:
    """Where a name is looked up, in order: the bundled folder, then the ``ballotbox.elections``
    entry points by entry name."""
    sources: list[ElectionSource] = [FolderSource("bundled", bundled_path("x").parent)]
    for ep in sorted(entry_points(group=ELECTION_SOURCES_GROUP), key=lambda e: e.name):
        try:
            sources.extend(_registered(ep.load()))
        except ModuleNotFoundError:  # the registering package is not installed
            continue
    return sources


def election_names() -> dict[str, NamedElection]:
    """The table: every name ``--election`` accepts -> its row (the first source wins)."""
    table: dict[str, NamedElection] = {}
    for source in election_sources():
        for name in source.names():
            table.setdefault(name, NamedElection(name, source))
    return table


def named_elections() -> dict[str, Path]:
    """The file-backed names -> their file (generated ones left out: loading every name must
    stay cheap for a command that searches them, e.g. by election hash)."""
    return {name: row.path for name, row in election_names().items() if row.path is not None}


def listing(kinds: Iterable[str] | None = None) -> str:
    """``bundled: demo, ...; national spec: ...``: the names of those kinds (all by default)."""
    wanted = None if kinds is None else tuple(kinds)
    grouped: dict[str, list[str]] = {}
    for name, row in election_names().items():
        if wanted is None or row.kind in wanted:
            grouped.setdefault(row.kind, []).append(name)
    return "; ".join(f"{kind}: {', '.join(names)}" for kind, names in grouped.items())


def unknown_election_message(name: str) -> str:
    """The one line every command prints for a name that is neither in the table nor a file."""
    return f"no election file or named election {name!r} ({listing()})"


def find_election(name: str, kinds: Iterable[str] | None = None) -> NamedElection:
    """The row of ``name``, which must be of one of ``kinds`` (any kind by default); else the
    one-line ``ElectionError``: the common one for an unknown name, or, for a name of another
    kind, the names of the kinds wanted."""
    row = election_names().get(name)
    if row is None:
        raise ElectionError("$", unknown_election_message(name))
    wanted = None if kinds is None else tuple(kinds)
    if wanted is not None and row.kind not in wanted:
        raise ElectionError("$", f"{name!r} is a {row.kind} election; this command takes a "
                                 f"{' or a '.join(wanted)} ({listing(wanted)})")
    return row


class _ElectionHelp(str):
    """The ``--help`` text of an ``--election NAME`` option, listed only when a help is shown:
    building a command line must not load every registered source (an operator's
    ``device export`` would import the simulator). argparse expands a help with ``%``."""

    _default: str | None
    _kinds: tuple[str, ...] | None

    def __new__(cls, default: str | None, kinds: Iterable[str] | None) -> _ElectionHelp:
        help_ = super().__new__(cls, "election name or an election JSON file")
        help_._default, help_._kinds = default, None if kinds is None else tuple(kinds)
        return help_

    def text(self) -> str:
        tail = f" (default {self._default})" if self._default else ""
        if self._kinds is not None:
            return f"election name ({listing(self._kinds)}){tail}"
        return f"election name ({listing()}) or an election JSON file{tail}"

    def __str__(self) -> str:
        return self.text()

    def __mod__(self, params: object) -> str:
        return self.text() % params


def election_help(default: str | None = None, kinds: Iterable[str] | None = None) -> str:
    """The ``--help`` text of an ``--election NAME`` option: the names it takes, by kind, and
    (when it takes every kind) an election JSON file; worked out when the help is shown."""
    return _ElectionHelp(default, kinds)


def load_election(name_or_path: str | Path) -> Election:
    """The election of a name in the table, or of an election JSON file by path."""
    text = str(name_or_path)
    row = election_names().get(text)
    if row is not None:
        return row.load()
    from device.election.definition import parse_election

    return parse_election(read_election_document(Path(text), text))


def election_document(name_or_path: str | Path) -> tuple[str, Any]:
    """(where, the JSON document) of a name or file, unparsed, for ``election validate`` to list
    every error: a file as it is; a generated election (a national spec) as generated."""
    text = str(name_or_path)
    row = election_names().get(text)
    if row is not None and row.path is None:
        return f"{text} ({row.kind})", row.load().raw
    path = row.path if row is not None and row.path is not None else Path(text)
    return str(path), read_election_document(path, text)


def read_election_document(path: Path, text: str) -> Any:
    """The JSON of an election file; every failure a one-line ``ElectionError``."""
    try:
        data = path.read_bytes()
    except FileNotFoundError:
        raise ElectionError("$", unknown_election_message(text)) from None
    except OSError as exc:
        raise ElectionError("$", f"cannot read {text!r}: {exc.strerror or exc}") from None
    try:
        return json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise ElectionError("$", f"{text!r} is not UTF-8 text") from None
    except json.JSONDecodeError as exc:
        raise ElectionError("$", f"{text!r} is not valid JSON: {exc.msg} at line {exc.lineno} "
                                 f"column {exc.colno}") from None
