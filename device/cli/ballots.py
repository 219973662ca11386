"""``ballotbox ballots``: render printable ballots and interpret scanned ones.

- ``ballots render ELECTION --style ID --dpi 200 --out DIR``: a PNG per page, one printable PDF
  of the styles rendered and a layout JSON per style (every oval's contest, choice, centre and
  size in mm and pixels) — the contract tests and outside tools use to mark ballots.
- ``ballots interpret IMAGE... --election FILE --json``: one result per image (style, election
  check, mark score per oval, selections and marginal marks per contest, or a rejection with one
  named reason). Exit status 1 when any image was rejected, 2 for bad input.
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from device.cli.main import UserError
from device.election.definition import load_election


def register(subparsers) -> None:
    r = subparsers.add_parser(
        "render", help="render ballots: PNG per page, a printable PDF, layout JSON",
        description="Render the paper ballots of an election: four ArUco fiducials, a QR code "
                    "(election hash prefix, style, page, test flag) and an oval per choice.")
    r.add_argument("election", metavar="ELECTION", help="bundled election name or JSON path")
    r.add_argument("--style", action="append", metavar="ID",
                   help="ballot style to render (repeatable; default: every style)")
    r.add_argument("--dpi", type=float, default=200.0, help="pixels per inch of the PNGs (default 200)")
    r.add_argument("--paper", choices=("letter", "a4"), default="letter", help="paper size (default letter)")
    r.add_argument("--test", action="store_true", help="print test ballots (refused while polls are live)")
    r.add_argument("--out", required=True, metavar="DIR", help="output directory")
    r.add_argument("--json", action="store_true", help="print the files written as JSON")
    r.set_defaults(func=run_render)

    i = subparsers.add_parser(
        "interpret", help="read scanned ballot images with the OpenCV interpreter",
        description="Interpret ballot images (JPEG, PNG, TIFF; any orientation; 150-600 dpi). "
                    "Prints one result per image; exit status 1 when any image was rejected.")
    i.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    i.add_argument("--election", required=True, metavar="FILE", help="bundled election name or JSON path")
    i.add_argument("--definite", type=float, default=None,
                   help="mark score at or above which an oval is a vote (default 0.20)")
    i.add_argument("--marginal", type=float, default=None,
                   help="mark score at or above which an oval is flagged marginal (default 0.08)")
    i.add_argument("--json", action="store_true", help="one JSON object per line per image")
    i.set_defaults(func=run_interpret)



def run_render(args: argparse.Namespace) -> int:
    from device.ballots.layout import LayoutError
    from device.ballots.render import RenderError, write_ballot_files

    election = load_election(args.election)
    styles = args.style or sorted(election.ballot_styles)
    unknown = [s for s in styles if s not in election.ballot_styles]
    if unknown:
        raise UserError(f"unknown ballot style {unknown[0]!r} (election has "
                        f"{', '.join(sorted(election.ballot_styles))})")
    if not 50 <= args.dpi <= 1200:
        raise UserError(f"--dpi must be between 50 and 1200 (got {args.dpi:g})")
    try:
        summary = write_ballot_files(election, styles, Path(args.out), args.dpi, args.paper, args.test)
    except (LayoutError, RenderError) as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        for style, files in summary["styles"].items():
            print(f"{style}: {', '.join(files)}")
        print(f"pdf: {summary['pdf']}")
    return 0


def run_interpret(args: argparse.Namespace) -> int:
    from device.ballots.interpreter import BallotInterpreter, MarkThresholds

    election = load_election(args.election)
    given = {name: getattr(args, name) for name in ("definite", "marginal")
             if getattr(args, name) is not None}
    try:
        thresholds = MarkThresholds(**given)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    interpreter = BallotInterpreter(election, thresholds)
    rejected = 0
    for image in args.images:
        reading = interpreter.interpret_file(image)
        rejected += not reading.readable
        if args.json:
            print(json.dumps({"image": image, **reading.to_json()}, ensure_ascii=False))
        elif not reading.readable:
            print(f"{image}: rejected ({reading.rejection}) {reading.detail}")
        else:
            test = " TEST BALLOT" if reading.test_ballot else ""
            print(f"{image}: style {reading.ballot_style}{test}")
            for cid, contest in reading.contests.items():
                marginal = f"  marginal: {', '.join(contest.marginal)}" if contest.marginal else ""
                print(f"  {cid}: {', '.join(contest.selections) or '(none)'}{marginal}")
    return 1 if rejected else 0
