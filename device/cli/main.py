"""The ``ballotbox`` command line: one command group per user.

- ``device``: operators (the unit's own jobs: diagram, export, ...)
- ``tally``: seat allocation and tallies by hand (QA, auditors)
- ``ballots``: render and interpret paper ballots
- ``sim``: QA's simulations (station days, accuracy campaigns, peripheral twins)
- ``audit``: auditors (verify and replay an exported unit)
- ``election``: the election authority (keys, validation, signed election packages)
- ``central``: the central tally service (a separate program, ``central/``)

Subcommands are registered through the ``ballotbox.commands`` entry points (name
``GROUP.NAME``, value ``module:register``; ``register(subparsers)`` adds subcommands), loaded
lazily — the way python-can loads its backends — so ``device/`` never imports ``sim/``. A command
whose package is not installed (the unit's wheel holds neither ``sim/`` nor ``central/``) is
left out, and a group with no command left is absent from the CLI.
Every command returns an exit status; errors in the input are printed as one line, never as a
traceback (exit 2 for bad input, 1 for a check that failed). Messages operators read are in the
language given by ``--lang`` or ``BALLOTBOX_LANG`` (``device.i18n``; default English). A malformed election
(``ElectionError``) is bad input wherever a command meets it, so commands need not catch it.
All of that is done here, once: with ``--json`` on the command line an error (a usage error
from argparse included) is one JSON object on standard output, where a JSON reader looks for
the answer, ``{"error": ..., "exit_status": ...}``; output piped into a command that stops
reading (``| head``) ends quietly, with exit status 0.
"""
from __future__ import annotations

import argparse
import json
import os
import sys
from importlib.metadata import entry_points

from device.election.definition import ElectionError
from device.i18n import LANGUAGES, _, set_language

GROUPS = {
    "device": "operator jobs on the unit (run the unit and its console, export, state diagram)",
    "tally": "seat allocation and tallies, to check results by hand",
    "ballots": "render printable ballots and interpret scanned ones",
    "sim": "simulated polling stations, accuracy campaigns and peripheral twins (QA)",
    "audit": "verify and replay an exported unit (auditors)",
    "election": "the election authority: keys, election validation, signed election packages",
    "central": "the central tally: ingest signed station results, publish the results site",
}


class UserError(Exception):
    """Bad input from the user: printed as one line, exit status 2. ``translated``: the message
    is in the chosen language (made with ``_``), so the line's "error:" is too; an English
    message keeps an English line, never a line in two languages."""

    def __init__(self, message: str, *, translated: bool = False) -> None:
        super().__init__(message)
        self.translated = translated


def no_such_file(path: object, hint: str = "") -> UserError:
    """The one message for a missing input file or folder (exit 2), in the chosen language;
    ``hint`` (a msgid marked ``N_``) says what to do."""
    text = _("no such file: {path}").format(path=path)
    return UserError(f"{text} ({_(hint)})" if hint else text, translated=True)


class UsageError(Exception):
    """A command line argparse refused; ``usage`` is the usage text of the (sub)command."""

    def __init__(self, message: str, prog: str, usage: str) -> None:
        super().__init__(message)
        self.prog, self.usage = prog, usage


class Parser(argparse.ArgumentParser):
    """argparse, raising ``UsageError`` instead of printing and exiting, so that ``main`` words
    every error the same way (plain or JSON)."""

    def error(self, message: str):
        raise UsageError(message, self.prog, self.format_usage())


def _named(argv: list[str]) -> tuple[str | None, str | None]:
    """The command group and the command the command line names (its first two words that are
    not options), or None for what it does not name (or when it asks for the top-level help)."""
    named: list[str] = []
    words = iter(argv)
    for word in words:
        if word in ("-h", "--help") and not named:
            return None, None
        if word == "--lang":
            next(words, None)
        elif not word.startswith("-"):
            named.append(word)
            if len(named) == 2:
                break
    group = named[0] if named and named[0] in GROUPS else None
    return group, named[1] if group and len(named) == 2 else None


def build_parser(argv: list[str] | None = None) -> argparse.ArgumentParser:
    """The whole CLI, or (given the command line) only the group it names: a command then loads
    its own group's modules, not every group's (a unit's command starts in a fraction of the time).
    Where the command's own entry point is named ``group.command`` (every ``sim`` command's is),
    only that module is loaded: ``sim package`` does not import OpenCV for ``sim accuracy``."""
    only, command = _named(argv or [])
    points = sorted(entry_points(group="ballotbox.commands"), key=lambda e: e.name)
    if command is not None and any(ep.name == f"{only}.{command}" for ep in points):
        points = [ep for ep in points if ep.name == f"{only}.{command}"]
    parser = Parser(
        prog="ballotbox",
        description="Firmware and simulator of a polling-station unit: voter ID + automatic ballot box.")
    parser.add_argument("--lang", choices=LANGUAGES, default=os.environ.get("BALLOTBOX_LANG") or "en",
                        help="language of the messages operators read (default: $BALLOTBOX_LANG or en)")
    groups = parser.add_subparsers(dest="group", metavar="GROUP", required=True)
    registers: dict[str, list] = {}
    for ep in points:
        group = ep.name.split(".", 1)[0]
        if group not in GROUPS or only not in (None, group):
            continue
        try:
            register = ep.load()
        except ModuleNotFoundError as exc:
            if exc.name and ep.value.split(":")[0].startswith(exc.name):
                continue  # its package is not installed (the unit's wheel has no sim/, central/)
            raise
        registers.setdefault(group, []).append(register)
    if only is not None and not registers:  # none of its commands is installed: say what exists
        return build_parser()
    for name, help_text in GROUPS.items():  # a group with no command installed is absent
        if name in registers:
            gp = groups.add_parser(name, help=help_text, description=help_text)
            sub = gp.add_subparsers(dest="command", metavar="COMMAND", required=True)
            for register in registers[name]:
                register(sub)
    _lang_after_the_command(parser)
    return parser


def _lang_after_the_command(parser: argparse.ArgumentParser) -> None:
    """``--lang`` is accepted after the subcommand too (``device run --sim --lang km``): every
    command takes it, and when given there it overrides the one before the group."""
    for action in parser._actions:
        if not isinstance(action, argparse._SubParsersAction):
            continue
        for sub in action._name_parser_map.values():
            if sub._subparsers is not None:
                _lang_after_the_command(sub)
            elif "--lang" not in sub._option_string_actions:
                sub.add_argument("--lang", choices=LANGUAGES, default=argparse.SUPPRESS,
                                 help="language of the messages (as before the command group)")


def _report_error(message: str, status: int, as_json: bool, prog: str | None = None,
                  usage: str = "", translated: bool = False) -> int:
    if as_json:
        error = f"{prog}: {message}" if prog else message
        print(json.dumps({"error": error, "exit_status": status}, ensure_ascii=False))
    else:
        line = _("{prog}: error: {message}") if translated else "{prog}: error: {message}"
        print(usage + line.format(prog=prog or "ballotbox", message=message), file=sys.stderr)
    return status


def _quiet_broken_pipe() -> int:
    """The reader of our output went away (``| head``): stop without a traceback. stdout is
    pointed at /dev/null so that the interpreter's final flush does not raise again."""
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, sys.stdout.fileno())
    except (OSError, ValueError):  # stdout is not a real file (tests capture it)
        pass
    return 0  # the reader had what it wanted: not a failure (exit 1 means a check failed)


def main(argv: list[str] | None = None) -> int:
    argv = sys.argv[1:] if argv is None else list(argv)
    as_json = "--json" in argv
    try:
        try:
            args = build_parser(argv).parse_args(argv)
        except UsageError as exc:
            return _report_error(str(exc), 2, as_json, exc.prog, exc.usage)
        if args.lang not in LANGUAGES:  # from the environment: argparse checks only the option
            return _report_error(f"BALLOTBOX_LANG={args.lang!r} is not one of {', '.join(LANGUAGES)}",
                                 2, as_json)
        set_language(args.lang)
        try:
            status = int(args.func(args) or 0)
            sys.stdout.flush()
            return status
        except (UserError, ElectionError) as exc:
            return _report_error(str(exc), 2, as_json, translated=getattr(exc, "translated", False))
        except KeyboardInterrupt:
            return _report_error(_("interrupted"), 130, as_json, translated=True)
    except BrokenPipeError:
        return _quiet_broken_pipe()


if __name__ == "__main__":
    # Re-import under the package name so that error classes raised by command modules
    # (``device.cli.UserError``) are the ones ``main`` catches.
    from device.cli.main import main as package_main
    sys.exit(package_main())
