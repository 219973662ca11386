"""``ballotbox device ...``: jobs on the unit itself.

- ``device diagram [--check]``: write the state diagram (docs/state-diagram.md) from the state
  machine's own tables; ``--check`` exits 1 when the committed file is out of date.
- ``device export`` (``device/cli/export.py``): the unit's records for auditors.
- ``device run --config unit.toml`` / ``device run --sim``: boot the unit and its operator
  console (``device/console/launch.py``).
"""
from __future__ import annotations

import argparse
from pathlib import Path

from device.election.names import election_help
from device.station.machine import mermaid_diagram

DIAGRAM = Path(__file__).resolve().parents[2] / "docs" / "state-diagram.md"


def register(subparsers) -> None:
    p = subparsers.add_parser("diagram", help="write docs/state-diagram.md from the state machine",
                              description="Draw the station's state machine (mermaid) from its tables.")
    p.add_argument("--out", default=str(DIAGRAM), help=f"output file (default {DIAGRAM})")
    p.add_argument("--check", action="store_true", help="exit 1 if the file differs from the machine")
    p.set_defaults(func=run_diagram)
    register_run(subparsers)


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


def register_run(subparsers) -> None:
    p = subparsers.add_parser(
        "run", help="boot the unit: the operator console on its peripherals (or --sim)",
        description="Boot the polling-station unit: replay its journal, connect the peripherals named "
                    "by URL in the config (serial://, socket://, opencv://, sim://) and show the "
                    "operator console. With --sim, the peripheral twins run on ptys beside a "
                    "'simulated world' panel (keys 0-9), so anyone can try the unit with no hardware. "
                    "Killing the process at any point and running it again comes back to the same "
                    "state and counts.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--config", help="the unit's configuration file (unit.toml)")
    src.add_argument("--sim", action="store_true", help="run a simulated unit (twins on ptys)")
    p.add_argument("--state", default="out/console",
                   help="--sim: folder of the simulated unit's store, roll, world and printouts "
                        "(default out/console; kept between runs, like the unit's disk)")
    p.add_argument("--election", default="demo",
                   help="--sim: the " + election_help("demo") + "; one whose scenario has "
                        "a fingerprint step (kyrgyzstan-2017) adds the sensor's twin (panel keys v b n)")
    p.add_argument("--seed", type=int, default=1, help="--sim: seed of the voters (default 1)")
    p.add_argument("--voters", type=int, default=40, help="--sim: registered voters (default 40)")
    p.add_argument("--capacity", type=int, default=500, help="--sim: ballot box capacity (default 500)")
    p.add_argument("--autoplay", type=int, metavar="N",
                   help="--sim: a robot plays the day on the console's keys: N voters, then close")
    p.add_argument("--headless", action="store_true", help="run without drawing the screen")
    p.set_defaults(func=run_unit)


def run_unit(args: argparse.Namespace) -> int:
    from device.cli.main import UserError
    from device.console.launch import LaunchError, launch

    try:
        return launch(args)
    except LaunchError as exc:
        raise UserError(str(exc)) from None
