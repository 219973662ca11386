"""``--out DIR`` of the commands that write a folder of files: never silently over someone's files.

``refuse_non_empty_out(path, force)`` is called before any work: a folder that already holds
files is refused (a ``UserError``, exit 2, naming the folder and ``--force``) unless the user
said ``--force``; a path that is a file is always refused. ``add_force_option(parser)`` adds the
option with one help text. Used by ``ballots render``, ``sim station`` and ``sim national``.
"""
from __future__ import annotations

from pathlib import Path

from device.cli.main import UserError
from device.i18n import _

FORCE_HELP = "write into --out even if it already holds files (they may be overwritten)"


def add_force_option(parser) -> None:
    parser.add_argument("--force", action="store_true", help=FORCE_HELP)


def refuse_non_empty_out(path: str | Path | None, force: bool) -> None:
    """Refuse an ``--out`` that is a file, or a folder with files in it (unless ``force``)."""
    if path is None:
        return
    out = Path(path)
    if out.exists() and not out.is_dir():
        raise UserError(_("--out {out} exists and is not a folder").format(out=out), translated=True)
    if not force and out.is_dir() and any(out.iterdir()):
        raise UserError(_("--out {out} already holds files: choose an empty or new folder, "
                          "or add --force to write over them").format(out=out), translated=True)
