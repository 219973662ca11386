"""``ballotbox ballots``: render printable ballots and interpret scanned ones.

- ``ballots render ELECTION --style ID --dpi 200 --out DIR``: a PNG per page, one printable PDF
  of the styles rendered and a layout JSON per style (every oval's contest, choice, centre and
  size in mm and pixels) — the contract tests and outside tools use to mark ballots.
- ``ballots interpret IMAGE... [--election FILE] --json``: one result per image (election, style,
  per contest its status — valid, undervote, blank, overvote — and the names of the choices
  marked and of the marks too faint to call, mark scores; or a rejection with one named
  reason). Without ``--election`` the election is the named one whose hash the ballot's QR code
  carries. Exit status 1 when any image was rejected, 2 for bad input (a missing file).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from device.ballots.records import BallotReading
from device.cli.main import UserError
from device.cli.output_folder import add_force_option, refuse_non_empty_out
from device.election.definition import load_election
from device.election.names import election_help
from device.i18n import N_, _


def register(subparsers) -> None:
    r = subparsers.add_parser(
        "render", help="render ballots: PNG per page, a printable PDF, layout JSON",
        description="Render the paper ballots of an election: four ArUco fiducials, a QR code "
                    "(election hash prefix, style, page, test flag) and an oval per choice.")
    r.add_argument("election", metavar="ELECTION", help=election_help())
    r.add_argument("--style", action="append", metavar="ID",
                   help="ballot style to render (repeatable; default: every style)")
    r.add_argument("--dpi", type=float, default=200.0, help="pixels per inch of the PNGs (default 200)")
    r.add_argument("--paper", choices=("letter", "a4"), default="letter", help="paper size (default letter)")
    r.add_argument("--test", action="store_true", help="print test ballots (refused while polls are live)")
    r.add_argument("--out", required=True, metavar="DIR",
                   help="output folder, new or empty (test ballots' files are named test-...)")
    add_force_option(r)
    r.add_argument("--json", action="store_true", help="print the files written as JSON")
    r.set_defaults(func=run_render)

    i = subparsers.add_parser(
        "interpret", help="read scanned ballot images with the OpenCV interpreter",
        description="Interpret ballot images (JPEG, PNG, TIFF; any orientation; 150-600 dpi). "
                    "Prints one result per image: each contest's status (valid, undervote, blank, "
                    "overvote) and the names marked. Exit status 1 when any image was rejected, "
                    "2 when a file is missing.")
    i.add_argument("images", nargs="+", metavar="IMAGE", help="image files")
    i.add_argument("--election", metavar="FILE",
                   help="election name or JSON path (default: the named election whose hash the "
                        "ballot's QR code carries)")
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
        raise UserError(_("unknown ballot style {style} (election has {styles})").format(
            style=repr(unknown[0]), styles=", ".join(sorted(election.ballot_styles))), translated=True)
    if not 50 <= args.dpi <= 1200:
        raise UserError(_("--dpi must be between 50 and 1200 (got {dpi})").format(dpi=f"{args.dpi:g}"),
                        translated=True)
    refuse_non_empty_out(args.out, args.force)
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
    from device.ballots.interpreter import (BallotInterpreter, ImageDecodeError, MarkThresholds,
                                            decode_image)

    given = {name: getattr(args, name) for name in ("definite", "marginal")
             if getattr(args, name) is not None}
    try:
        thresholds = MarkThresholds(**given)
    except ValueError as exc:
        raise UserError(str(exc)) from None
    interpreters: dict[str, BallotInterpreter] = {}

    def interpreter_for(election):
        if election.hash not in interpreters:
            interpreters[election.hash] = BallotInterpreter(election, thresholds)
        return interpreters[election.hash]

    fixed = load_election(args.election) if args.election else None
    missing = rejected = 0
    for image in args.images:
        path = Path(image)
        if not path.is_file():
            missing += 1
            error = N_("no such file") if not path.exists() else N_("not a file")
            if args.json:  # the error as a code, in English
                print(json.dumps({"image": image, "error": error}, ensure_ascii=False))
            else:
                print(f"{image}: {_(error)}")
            continue
        try:
            frame = decode_image(path.read_bytes())
        except (ImageDecodeError, OSError) as exc:
            frame = None
            problem = str(exc)
        election = fixed
        if frame is None:
            reading = BallotReading.rejected("not_a_ballot", problem)
        elif election is None and (election := _election_of(frame, interpreter_for)) is None:
            reading = BallotReading.rejected(
                "wrong_election", "its QR code names no known election: give --election FILE")
        else:
            reading = interpreter_for(election).interpret(frame)
        rejected += not reading.readable
        if args.json:
            print(json.dumps(_reading_json(image, election, reading), ensure_ascii=False))
        else:
            print("\n".join(_reading_lines(image, election, reading)))
    return 2 if missing else 1 if rejected else 0


def _election_of(frame, interpreter_for):
    """The named election whose hash the ballot's QR code carries (None if no code or none)."""
    from device.election.definition import named_elections

    names = list(named_elections())
    code = interpreter_for(load_election(names[0])).read_code(frame)
    if code is None:
        return None
    for name in names:
        election = load_election(name)
        if election.hash_prefix == code.hash_prefix:
            return election
    return None


def _contest_summary(election, reading):
    """(contest, status, names of the selections, names of the marginal marks) per contest."""
    from device.ballots.records import contest_status

    for cid, c in reading.contests.items():
        contest = election.contests[cid]
        names = {choice.id: choice.name for choice in contest.choices}
        yield (contest, contest_status(len(c.selections), contest.vote_for),
               [names[s] for s in c.selections], [names[m] for m in c.marginal])


def _reading_json(image: str, election, reading) -> dict:
    out = {"image": image, "election": election.id if election else None, **reading.to_json()}
    if reading.readable:
        for contest, status, chosen, faint in _contest_summary(election, reading):
            out["contests"][contest.id].update(status=status, selection_names=chosen,
                                               marginal_names=faint)
    return out


def _reading_lines(image: str, election, reading) -> list[str]:
    if not reading.readable:
        return [f"{image}: rejected ({reading.rejection}) {reading.detail}"]
    test = " TEST BALLOT" if reading.test_ballot else ""
    lines = [f"{image}: {election.title}, style {reading.ballot_style}{test}"]
    for contest, status, chosen, faint in _contest_summary(election, reading):
        marginal = f"; marginal: {', '.join(faint)}" if faint else ""
        lines.append(f"  {contest.title} (vote for {contest.vote_for}): {status.upper()}: "
                     f"{', '.join(chosen) or 'no mark'}{marginal}")
    return lines
