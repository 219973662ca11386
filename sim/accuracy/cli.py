"""``ballotbox sim accuracy``: the volume test of the paper path (see ``sim.accuracy.batches``).

Prints a summary (or one JSON object with ``--json``) and exits 0 when the campaign passed: no
definite mark misread, no vote from a non-ballot page, and at least ``--min-read-rate`` of the
ballots read rather than rejected; 1 when not, 2 for bad input (unknown election, bad numbers).

With ``--positions N`` it runs a campaign instead (``sim.accuracy.campaign``): every election and
scan distortion level until N positions were read, on a process pool or Dask, in batches,
resumable with ``--checkpoint``, with a summary JSON (``--summary``). Exit 0 when the whole
campaign passed, 1 when something was misread (or a floor missed), 130 when interrupted (the
checkpoint keeps what was done; run the same command again to resume).
"""
from __future__ import annotations

import argparse
import json
import os
import sys

from device.cli.main import UserError
from device.election.names import election_help
from sim.accuracy.batches import MIN_READ_RATE
from sim.accuracy.campaign import BATCH_BALLOTS
from sim.paper.marks import MARK_STYLES
from sim.paper.scan_distortions import LEVELS


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "accuracy", help="volume test: synthetic marked ballots through the real interpreter",
        description="Generate N marked ballots of an election, scan them with distortions, read "
                    "them with the real interpreter and count ballot positions read, misread "
                    "definite marks (missed or invented votes), marginal marks and rejections by "
                    "reason. PASS (exit 0) promises three things: no misread, no vote from a "
                    "non-ballot page, and a read rate (ballots read, not rejected) of at least "
                    "--min-read-rate; otherwise FAIL, exit status 1.")
    p.add_argument("--election", default="demo", help=election_help("demo"))
    p.add_argument("--ballots", type=int, default=1000, help="number of ballots (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="campaign seed; a seed reproduces exactly")
    p.add_argument("--distortion", choices=sorted(LEVELS), default="moderate",
                   help="scan distortion level (default moderate)")
    p.add_argument("--marks", choices=sorted(MARK_STYLES), default="mixed",
                   help="voters' mark kinds: pen fills only, definite kinds, or mixed with "
                        "ambiguous marks and strays (default mixed)")
    p.add_argument("--workers", type=int, default=os.cpu_count() or 1,
                   help="worker processes (default: one per core)")
    p.add_argument("--min-read-rate", type=float, default=MIN_READ_RATE, metavar="SHARE",
                   help=f"share of ballots that must be read, not rejected, to pass (default "
                        f"{MIN_READ_RATE:g}; 0 makes the run about misreads only, e.g. for "
                        f"--distortion severe)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    c = p.add_argument_group(
        "campaign (--positions): every election and distortion level, resumable",
        "Batches of ballots over every named election at every distortion level (severe scans may "
        "be refused, never misread) until N positions were read; the same seed gives the same "
        "summary on any number of workers. Exit 0 PASS, 1 FAIL, 130 when stopped (Ctrl-C or "
        "SIGTERM): run the same command again to resume from --checkpoint.")
    c.add_argument("--positions", type=int, metavar="N",
                   help="run a campaign until N ballot positions were read (e.g. 10000000)")
    c.add_argument("--elections", default="all", metavar="A,B",
                   help="comma-separated elections of the campaign (default all named elections)")
    c.add_argument("--distortions", default="all", metavar="A,B",
                   help=f"comma-separated distortion levels (default all: {', '.join(LEVELS)})")
    c.add_argument("--batch", type=int, default=BATCH_BALLOTS, metavar="BALLOTS",
                   help=f"ballots per batch (default {BATCH_BALLOTS}); part of the campaign's identity")
    c.add_argument("--checkpoint", metavar="FILE",
                   help="append each finished batch here; the same command resumes from it")
    c.add_argument("--summary", metavar="FILE", help="write the campaign's summary JSON here")
    ex = c.add_mutually_exclusive_group()
    ex.add_argument("--dask-local", type=int, metavar="N", help="run on a local Dask cluster of N workers")
    ex.add_argument("--scheduler", help="run on a Dask scheduler, e.g. tcp://10.0.0.5:8786")
    p.set_defaults(func=run_accuracy_command)


def run_accuracy_command(args: argparse.Namespace) -> int:
    from device.i18n import _
    from sim.accuracy.batches import run_accuracy  # heavy imports (OpenCV) only when run

    if args.ballots < 1:
        raise UserError(_("--ballots must be at least 1 (got {n})").format(n=args.ballots), translated=True)
    if args.workers < 1:
        raise UserError(_("--workers must be at least 1 (got {n})").format(n=args.workers), translated=True)
    if not 0 <= args.min_read_rate <= 1:
        raise UserError(_("--min-read-rate is a share between 0 and 1 (got {rate})").format(
            rate=f"{args.min_read_rate:g}"), translated=True)
    if args.positions is not None:
        from sim.accuracy.campaign_cli import run_campaign_command
        return run_campaign_command(args)
    if not sys.stderr.isatty():
        report = run_accuracy(args.election, args.ballots, args.seed, args.distortion,
                              args.marks, args.workers, min_read_rate=args.min_read_rate)
    else:  # a progress bar on the terminal, also with --json (stdout stays one JSON object)
        from rich.console import Console
        from rich.progress import Progress
        with Progress(console=Console(stderr=True), transient=args.json) as bar:
            task = bar.add_task("ballots", total=args.ballots)
            report = run_accuracy(args.election, args.ballots, args.seed, args.distortion,
                                  args.marks, args.workers, lambda n: bar.advance(task, n),
                                  min_read_rate=args.min_read_rate)
    out = report.to_json()
    if args.json:
        print(json.dumps(out, indent=1))
        print(f"accuracy run took {report.elapsed_s:.1f} s", file=sys.stderr)
    else:
        print(f"election {out['election']}  seed {out['seed']}  distortion {out['distortion']}  "
              f"marks {out['mark_style']}")
        print(f"ballots {out['ballots']}: read {out['ballots_read']} ({out['read_rate']:.1%}), "
              f"rejected {out['ballots'] - out['ballots_read']}  positions read "
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
        verdict = "PASS" if report.passed else "FAIL"
        floor = (f"read rate {out['read_rate']:.1%} (needs >= {report.min_read_rate:.1%})"
                 if report.min_read_rate else
                 f"read rate {out['read_rate']:.1%} (not judged: --min-read-rate 0)")
        print(f"{verdict}: misreads {out['misreads']['total']} (needs 0), votes from non-ballots "
              f"{out['non_ballot_votes']} (needs 0), {floor}; {report.elapsed_s:.1f} s")
    return 0 if report.passed else 1
