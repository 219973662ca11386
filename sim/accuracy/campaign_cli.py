"""``ballotbox sim accuracy --positions N``: run or resume an accuracy campaign, print its verdict.

The options are registered by ``sim.accuracy.cli``; the campaign itself is
``sim.accuracy.campaign``. A progress bar (positions read of the target) on a terminal; the
summary JSON to ``--summary`` (and to stdout with ``--json``). Exit 0 PASS, 1 FAIL, 130 when
interrupted (resume with the same command and ``--checkpoint``), 2 for bad input.
"""
from __future__ import annotations

import argparse
import json
import shlex
from pathlib import Path

from device.cli.main import UserError
from device.i18n import _

INTERRUPTED_EXIT = 130


def _names(value: str, every: tuple[str, ...]) -> tuple[str, ...]:
    return every if value == "all" else tuple(v.strip() for v in value.split(",") if v.strip())


def _command(args: argparse.Namespace, plan) -> str:
    """The command that runs (or resumes) this campaign, for the summary."""
    words = ["ballotbox", "sim", "accuracy", "--positions", str(plan.positions), "--seed", str(plan.seed),
             "--elections", ",".join(plan.elections), "--distortions", ",".join(plan.distortions),
             "--marks", plan.mark_style, "--batch", str(plan.batch_ballots)]
    if args.dask_local is not None:
        words += ["--dask-local", str(args.dask_local)]
    elif args.scheduler is not None:
        words += ["--scheduler", args.scheduler]
    elif args.workers is not None:
        words += ["--workers", str(args.workers)]
    for option in ("checkpoint", "summary"):
        if getattr(args, option):
            words += [f"--{option}", getattr(args, option)]
    return shlex.join(words)


def run_campaign_command(args: argparse.Namespace) -> int:
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    from sim.accuracy.campaign import CampaignError, CampaignPlan, all_elections, run_campaign
    from sim.national.executors import make_executor, stop_means_interrupt
    from sim.paper.scan_distortions import LEVELS

    if args.positions < 1 or args.batch < 1:
        raise UserError(_("--positions and --batch must be at least 1"), translated=True)
    if args.scheduler is not None and not args.scheduler.startswith(("tcp://", "tls://", "inproc://")):
        raise UserError(_("--scheduler must be an address like tcp://HOST:8786 (got {scheduler})").format(
            scheduler=repr(args.scheduler)), translated=True)
    if args.dask_local is not None and args.dask_local < 1:
        raise UserError(_("--dask-local must be at least 1"), translated=True)
    checkpoint = Path(args.checkpoint) if args.checkpoint else None
    try:
        plan = CampaignPlan(args.seed, args.positions, _names(args.elections, all_elections()),
                            _names(args.distortions, tuple(LEVELS)), args.marks, args.batch)
        from sim.accuracy.campaign import read_checkpoint
        read_checkpoint(checkpoint, plan)  # refuse another campaign's checkpoint before starting
    except CampaignError as exc:
        raise UserError(str(exc)) from None
    try:
        executor = make_executor(args.workers, args.scheduler, args.dask_local)
    except OSError as exc:
        raise UserError(f"cannot reach the Dask scheduler {args.scheduler}: {exc}") from None
    console = Console(stderr=True)
    with stop_means_interrupt(), Progress(
            TextColumn("positions"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(), TextColumn("left"),
            TimeRemainingColumn(), console=console, disable=not console.is_terminal) as bar:
        task = bar.add_task("positions", total=plan.positions)
        result = run_campaign(plan, executor, checkpoint, lambda n: bar.update(task, completed=n))
    summary = result.summary(_command(args, plan))
    if args.summary:
        Path(args.summary).write_text(json.dumps(summary, indent=1, sort_keys=True) + "\n", encoding="utf-8")
    if args.json:
        print(json.dumps(summary, indent=1, sort_keys=True))
    else:
        timing = summary["timing"]
        print(f"campaign seed {plan.seed}: {summary['positions_read']:,} positions read of "
              f"{plan.positions:,} ({summary['ballots']:,} ballots, {len(summary['cells'])} cells)")
        print(f"misreads {summary['misreads']['total']} (missed {summary['misreads']['missed']}, invented "
              f"{summary['misreads']['invented']}); votes from non-ballots {summary['non_ballot_votes']}")
        print(f"refusals by level {summary['refusals_by_distortion']}")
        print(f"{timing['positions_per_worker_second']:,.0f} positions per worker-second (wall), "
              f"{timing['positions_per_cpu_second']:,.0f} per CPU-second; the target takes "
              f"{timing['worker_hours_for_target']} worker-hours here, {timing['cpu_hours_for_target']} "
              f"hours of one free core")
        print(summary["verdict"] + ("" if result.complete else
                                    f" — interrupted; resume with the same command"
                                    f"{'' if checkpoint else ' and --checkpoint FILE'}"))
    if result.interrupted or not result.complete:
        return INTERRUPTED_EXIT
    return 0 if summary["passed"] else 1
