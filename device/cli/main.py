"""The ``ballotbox`` command line: one command group per user.

- ``device``: operators (the unit's own jobs: diagram, export, ...)
- ``tally``: seat allocation and tallies by hand (QA, auditors)
- ``ballots``: render and interpret paper ballots
- ``sim``: QA's simulations (station days, accuracy campaigns, peripheral twins)
- ``audit``: auditors (verify and replay an exported unit)
- ``election``: the election authority (keys, validation, signed election packages)

Subcommands are registered through the ``ballotbox.commands`` entry points (name
``GROUP.NAME``, value ``module:register``; ``register(subparsers)`` adds subcommands), loaded
lazily — the way python-can loads its backends — so ``device/`` never imports ``sim/``.
Every command returns an exit status; errors in the input are printed as one line, never as a
traceback (exit 2 for bad input, 1 for a check that failed); with ``--json`` the error is one
JSON object ``{"error": ...}`` on standard output. A malformed election
(``ElectionError``) is bad input wherever a command meets it, so commands need not catch it.
"""
from __future__ import annotations

import argparse
import json
import sys
from importlib.metadata import entry_points

from device.election.definition import ElectionError

GROUPS = {
    "device": "operator jobs on the unit (state diagram, export)",
    "tally": "seat allocation and tallies, to check results by hand",
    "ballots": "render printable ballots and interpret scanned ones",
    "sim": "simulated polling stations, accuracy campaigns and peripheral twins (QA)",
    "audit": "verify and replay an exported unit (auditors)",
    "election": "the election authority: keys, election validation, signed election packages",
}


class UserError(Exception):
    """Bad input from the user: printed as one line, exit status 2."""


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="ballotbox",
        description="Firmware and simulator of a polling-station unit: voter ID + automatic ballot box.")
    groups = parser.add_subparsers(dest="group", metavar="GROUP", required=True)
    subs = {}
    for name, help_text in GROUPS.items():
        gp = groups.add_parser(name, help=help_text, description=help_text)
        subs[name] = gp.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for ep in sorted(entry_points(group="ballotbox.commands"), key=lambda e: e.name):
        group = ep.name.split(".", 1)[0]
        if group not in subs:
            continue
        try:
            register = ep.load()
        except ModuleNotFoundError as exc:
            if exc.name and ep.value.split(":")[0].startswith(exc.name):
                continue  # a command module not built yet; tests check every entry loads
            raise
        register(subs[group])
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return int(args.func(args) or 0)
    except (UserError, ElectionError) as exc:
        if getattr(args, "json", False):
            print(json.dumps({"error": str(exc)}, ensure_ascii=False))
        else:
            print(f"ballotbox: error: {exc}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("ballotbox: interrupted", file=sys.stderr)
        return 130


if __name__ == "__main__":
    # Re-import under the package name so that error classes raised by command modules
    # (``device.cli.UserError``) are the ones ``main`` catches.
    from device.cli.main import main as package_main
    sys.exit(package_main())
