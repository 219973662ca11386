"""``ballotbox device ...``: jobs on the unit itself.

- ``device diagram [--check]``: write the state diagram (docs/state-diagram.md) from the state
  machine's own tables; ``--check`` exits 1 when the committed file is out of date.
- ``device export`` (``device/cli/export.py``): the unit's records for auditors.
"""
from __future__ import annotations

import argparse
from pathlib import Path

from device.station.machine import mermaid_diagram

DIAGRAM = Path(__file__).resolve().parents[2] / "docs" / "state-diagram.md"


def register(subparsers) -> None:
    p = subparsers.add_parser("diagram", help="write docs/state-diagram.md from the state machine",
                              description="Draw the station's state machine (mermaid) from its tables.")
    p.add_argument("--out", default=str(DIAGRAM), help=f"output file (default {DIAGRAM})")
    p.add_argument("--check", action="store_true", help="exit 1 if the file differs from the machine")
    p.set_defaults(func=run_diagram)


def run_diagram(args: argparse.Namespace) -> int:
    text = mermaid_diagram() + "\n"
    out = Path(args.out)
    if args.check:
        current = out.read_text(encoding="utf-8") if out.exists() else ""
        if current != text:
            print(f"{out} is out of date: run 'ballotbox device diagram'")
            return 1
        print(f"{out} matches the state machine")
        return 0
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(text, encoding="utf-8")
    print(f"wrote {out}")
    return 0
