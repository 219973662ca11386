"""The one place the CLI opens "the unit's store": the primary file with its mirror.

Every command that opens a unit store takes ``--store DB`` and ``--mirror DB`` (the copy on
the second medium, ``[store] mirror`` of ``unit.toml``). Opening compares the two copies and
repairs one from the other (``device/store/copies.py``); a store that keeps a mirror refuses
to open without it, so no command writes to one medium only. Every problem is a ``UserError``
(one line, exit 2): a missing store, a store that cannot be opened, a broken chain, two
damaged copies.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from device.cli.main import UserError, no_such_file
from device.i18n import N_


def add_mirror_option(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--mirror", metavar="DB",
                        help="the store's mirror on the second medium ([store] mirror in unit.toml); "
                             "required once the store keeps one")


def open_unit_store(path: str, mirror: str | None, *, must_exist: bool = True):
    """``SqliteStore(path, mirror=mirror)``, every failure a ``UserError`` naming the file."""
    from device.store.sqlite import JournalIntegrityError, SqliteStore, StoreOpenError
    if must_exist and not Path(path).is_file() and not (mirror and Path(mirror).is_file()):
        raise no_such_file(path, N_("the unit store: run 'ballotbox device provision' first"))
    try:
        return SqliteStore(path, mirror=mirror)
    except (StoreOpenError, JournalIntegrityError) as exc:
        raise UserError(str(exc) if str(exc).startswith(str(path)) else f"{path}: {exc}") from None
