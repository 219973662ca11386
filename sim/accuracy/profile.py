"""Where an accuracy campaign's time goes: one batch per cell under cProfile, the top ten.

``python -m sim.accuracy.profile [--ballots N] [--seed S]`` plays one round of the campaign's
batch sequence (``sim.accuracy.campaign``: every election x distortion level, ``N`` ballots a
batch) after a warm-up round that renders the blank sheets, first unprofiled (positions per
CPU-second, as the campaign's summary counts them) and then under cProfile. It prints the top
ten functions by own time and the CPU by stage (cumulative time of the stage's entry point):
marking the sheet, the scan distortions with their parts (warp, JPEG round trip, the rest),
the interpreter (the firmware's reading), and the campaign's own bookkeeping (comparing with
intent, the report as JSON for the checkpoint).
"""
from __future__ import annotations

import argparse
import cProfile
import json
import pstats
import time
from pathlib import Path

# stage -> (file fragment, function): its cumulative time under cProfile
STAGES = {
    "marking the sheet (sim/paper/marks.py)": ("sim/paper/marks.py", "mark_page"),
    "scan distortions (sim/paper/scan_distortions.py)": ("sim/paper/scan_distortions.py", "distort"),
    "  of which the warp": ("sim/paper/scan_distortions.py", "warp"),
    "  of which the JPEG round trip": ("sim/paper/scan_distortions.py", "jpeg"),
    "interpreter (device/ballots/interpreter.py)": ("device/ballots/interpreter.py", "interpret"),
}


def round_tasks(ballots: int, seed: int, round_no: int) -> list[dict]:
    from sim.accuracy.campaign import CampaignPlan, all_elections
    from sim.paper.scan_distortions import LEVELS

    plan = CampaignPlan(seed, 10_000_000, all_elections(), tuple(LEVELS), batch_ballots=ballots)
    per_round = sum(weight for _, _, weight in plan.cells())
    return [plan.task(i) for i in range(round_no * per_round, (round_no + 1) * per_round)]


def _run(tasks: list[dict]) -> int:
    from sim.accuracy.campaign import run_campaign_batch

    positions = 0
    for task in tasks:
        record = run_campaign_batch(task)
        json.dumps(record, sort_keys=True)  # as the campaign writes it to the checkpoint
        positions += record["report"]["positions_read"]
    return positions


def profile_round(ballots: int = 10, seed: int = 2026) -> dict:
    """Positions per CPU-second of round 1 (unprofiled), and round 2's profile: top ten, stages."""
    _run(round_tasks(ballots, seed, 0))  # warm-up: imports, blank sheets rendered and cached
    c0 = time.process_time()
    positions = _run(round_tasks(ballots, seed, 1))
    cpu = time.process_time() - c0
    profiler = cProfile.Profile(time.process_time)
    profiler.enable()
    _run(round_tasks(ballots, seed, 2))
    profiler.disable()
    stats = pstats.Stats(profiler).stats  # type: ignore[attr-defined]
    total = sum(tottime for _, _, tottime, _, _ in stats.values())
    root = str(Path(__file__).resolve().parents[1]) + "/"
    rows = sorted(((tottime, calls, f"{path.split('site-packages/')[-1].replace(root, '')}:{line} {func}")
                   for (path, line, func), (_, calls, tottime, _, _) in stats.items()), reverse=True)
    stages = {}
    for stage, (fragment, name) in STAGES.items():
        stages[stage] = sum(cum for (path, _, func), (_, _, _, cum, _) in stats.items()
                            if func == name and path.endswith(fragment)) / total
    return {"positions": positions, "cpu_seconds": cpu, "positions_per_cpu_second": positions / cpu,
            "top": [(t / total, calls, name) for t, calls, name in rows[:10]], "stages": stages}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.accuracy.profile", description=__doc__.split("\n\n")[0])
    parser.add_argument("--ballots", type=int, default=10, help="ballots per batch (default 10)")
    parser.add_argument("--seed", type=int, default=2026, help="campaign seed (default 2026)")
    args = parser.parse_args(argv)
    if args.ballots < 1:
        parser.error("--ballots must be at least 1")
    p = profile_round(args.ballots, args.seed)
    print(f"one round of the campaign (one batch per cell, {args.ballots} ballots each): {p['positions']:,} "
          f"positions in {p['cpu_seconds']:.1f} CPU s = {p['positions_per_cpu_second']:.0f} positions per "
          f"CPU-second (unprofiled)")
    print("top ten by own time (cProfile):")
    for share, calls, name in p["top"]:
        print(f"  {share:6.1%}  {calls:>7,} calls  {name}")
    print("CPU by stage (cumulative):")
    for stage, share in p["stages"].items():
        print(f"  {share:6.1%}  {stage}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
