"""``ballotbox sim accuracy``: the volume test of the paper path (see ``sim.accuracy``).

Prints a summary (or one JSON object with ``--json``) and exits 1 when any definite mark was
misread or a non-ballot yielded a vote, 2 for bad input (unknown election, bad numbers).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from device.cli.main import UserError
from sim.marks import MARK_STYLES
from sim.scan_distortions import LEVELS


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "accuracy", help="volume test: synthetic marked ballots through the real interpreter",
        description="Generate N marked ballots of an election, scan them with distortions, read "
                    "them with the real interpreter and count ballot positions read, misread "
                    "definite marks (missed or invented votes), marginal marks and rejections by "
                    "reason. Exit status 1 when anything was misread.")
    p.add_argument("--election", default="demo", help="bundled election name or JSON path (default demo)")
    p.add_argument("--ballots", type=int, default=1000, help="number of ballots (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="campaign seed; a seed reproduces exactly")
    p.add_argument("--distortion", choices=sorted(LEVELS), default="moderate",
                   help="scan distortion level (default moderate)")
    p.add_argument("--marks", choices=sorted(MARK_STYLES), default="mixed",
                   help="voters' mark kinds: pen fills only, definite kinds, or mixed with "
                        "ambiguous marks and strays (default mixed)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="worker processes (default: one per core)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_accuracy_command)


def run_accuracy_command(args: argparse.Namespace) -> int:
    from sim.accuracy import run_accuracy  # heavy imports (OpenCV) only when run

    if args.ballots < 1:
        raise UserError(f"--ballots must be at least 1 (got {args.ballots})")
    if args.workers < 1:
        raise UserError(f"--workers must be at least 1 (got {args.workers})")
    if args.json or not sys.stdout.isatty():
        report = run_accuracy(args.election, args.ballots, args.seed, args.distortion,
                              args.marks, args.workers)
    else:
        from rich.progress import Progress
        with Progress() as bar:
            task = bar.add_task("ballots", total=args.ballots)
            report = run_accuracy(args.election, args.ballots, args.seed, args.distortion,
                                  args.marks, args.workers, lambda n: bar.advance(task, n))
    out = report.to_json()
    if args.json:
        print(json.dumps(out, indent=1))
        print(f"accuracy run took {report.elapsed_s:.1f} s", file=sys.stderr)
    else:
        print(f"election {out['election']}  seed {out['seed']}  distortion {out['distortion']}  "
              f"marks {out['mark_style']}")
        print(f"ballots {out['ballots']} (read {out['ballots_read']})  positions read "
              f"{out['positions_read']}  definite marks {out['definite_marks']}")
        print(f"misreads {out['misreads']['total']} (missed {out['misreads']['missed']}, invented "
              f"{out['misreads']['invented']})  marginal flags {out['marginal_flags']}  "
              f"ambiguous marks {out['ambiguous_marks']['total']} "
              f"({out['ambiguous_marks']['read_as_vote']} read as votes)")
        print(f"rejections {out['rejections'] or 'none'}")
        print(f"non-ballot sheets {out['non_ballot_sheets']}: votes {out['non_ballot_votes']}, "
              f"rejections {out['non_ballot_rejections']}")
        for line in out["misread_examples"]:
            print(f"  misread: {line}")
        print(f"{'PASS' if report.passed else 'FAIL'} in {report.elapsed_s:.1f} s")
    return 0 if report.passed else 1
