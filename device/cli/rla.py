"""``ballotbox audit rla``: a risk-limiting audit of the paper, polling station by polling station.

- ``audit rla sample RESULTS --contest C --seed DIGITS --out AUDIT``: freeze the reported
  results (a central tally's public folder or a ``sim national --out`` folder), draw round 1
  and write the audit board's files (``sample-round-1.csv``, blank ``hand-counts/*.csv``) and
  Arlo's batch-comparison files (``arlo/``). ``--scope seats`` audits every district's council
  seats (D'Hondt assertions), ``--scope district:ID`` one council, ``--scope contest`` (default)
  the contest's winner(s).
- ``audit rla risk AUDIT``: read the hand counts, measure the risk, decide, draw the next round
  if needed, write ``report.html`` and ``report.json``.
- ``audit rla arlo RESULTS --contest C --out DIR``: only the Arlo files.

Exit status (``device/audit/rla/audit.py`` ``DECISIONS``): 0 the audit stops (risk limit met,
or a full hand count confirms the outcome); 1 escalate: the next round is drawn; 3 full hand
count: count every remaining station; 4 the full hand count gives another outcome; 2 bad input
(a missing or unfilled hand count included: nothing is decided).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path

from device.cli.main import UserError


def register(subparsers) -> None:
    rla = subparsers.add_parser(
        "rla", help="risk-limiting audit of the paper: sample stations, compare hand counts, stop or escalate",
        description="A batch-comparison risk-limiting audit (MACRO, as VotingWorks' Arlo computes it) "
                    "of a contest, or of every council's seats, with each polling station's box as a "
                    "batch. See docs/rla.md for the procedure.",
        epilog="Exit status: 0 the audit stops; 1 escalate (next round drawn); 3 full hand count; "
               "4 the full hand count gives another outcome; 2 bad input.")
    sub = rla.add_subparsers(dest="rla_command", metavar="STEP", required=True)
    s = sub.add_parser("sample", help="freeze the results and draw round 1",
                       description="Freeze the reported results, work out the assertions and error "
                                   "bounds, draw round 1 from the public seed and write the audit "
                                   "board's sample list, blank hand-count sheets and Arlo's files.")
    _results_args(s)
    s.add_argument("--seed", required=True, help="the public seed: at least 20 digits rolled with dice in public")
    s.add_argument("--risk-limit", type=float, default=5.0, metavar="PERCENT", help="risk limit in percent (default 5)")
    s.add_argument("--scope", default="contest",
                   help="contest (the winners), seats (every complete district's council) or district:ID")
    s.add_argument("--out", required=True, metavar="AUDIT", help="the audit folder to create")
    s.add_argument("--json", action="store_true", help="print one JSON object")
    s.set_defaults(func=run_sample)
    r = sub.add_parser("risk", help="measure the risk from the hand counts and decide",
                       description="Read the hand count of every station drawn so far, measure the "
                                   "risk (MACRO p-value) and decide: stop, escalate (the next round is "
                                   "drawn), or count every station. Writes report.html and report.json.")
    r.add_argument("audit", metavar="AUDIT", help="the audit folder made by 'audit rla sample'")
    r.add_argument("--json", action="store_true", help="print one JSON object")
    r.set_defaults(func=run_risk)
    a = sub.add_parser("arlo", help="write the ballot manifest and batch tallies in Arlo's CSV formats",
                       description="Write Arlo's batch-comparison files: the ballot manifest and the "
                                   "candidate totals by batch, one batch per station.")
    _results_args(a)
    a.add_argument("--out", required=True, metavar="DIR", help="folder for the two CSV files")
    a.add_argument("--jurisdiction", default="national", help="jurisdiction name in the file names")
    a.set_defaults(func=run_arlo)


def _results_args(p: argparse.ArgumentParser) -> None:
    p.add_argument("results", metavar="RESULTS",
                   help="a central tally's public folder, or a 'ballotbox sim national --out' folder")
    p.add_argument("--contest", required=True, help="the contest id (e.g. council, president)")


def _reported(args: argparse.Namespace):
    from device.audit.rla.results import ReportedResultsError, load_reported
    try:
        return load_reported(args.results, args.contest)
    except ReportedResultsError as exc:
        raise UserError(str(exc)) from None


def run_sample(args: argparse.Namespace) -> int:
    from device.audit.rla.assertions import OutcomeNotAuditable
    from device.audit.rla.audit import AuditStateError, json_safe, start_audit
    from device.audit.rla.csv_files import write_arlo
    from device.audit.rla.sampling import SeedError, draw

    reported = _reported(args)
    out = Path(args.out)
    try:
        state = start_audit(reported, args.scope, args.risk_limit / 100, args.seed, out)
    except (OutcomeNotAuditable, AuditStateError, SeedError) as exc:
        raise UserError(str(exc)) from None
    arlo = write_arlo(reported, out / "arlo", "national")
    rnd = state.rounds[0]
    draws = [] if rnd["full_hand_count"] else draw(state.seed, state.bounds, 1, rnd["draws"])
    stations = rnd["stations"] if rnd["full_hand_count"] else sorted({d.batch for d in draws})
    doc = {"audit": str(out), "contest": reported.contest, "scope": args.scope, "risk_limit": state.risk_limit,
           "assertions": len(state.assertions), "U": state.U, "round": 1,
           "full_hand_count": rnd["full_hand_count"], "draws": [d.to_json() for d in draws],
           "stations": stations, "sample_csv": str(out / "sample-round-1.csv"), "arlo": arlo}
    if args.json:
        print(json.dumps(json_safe(doc), ensure_ascii=False, allow_nan=False))
    else:
        what = "every station (full hand count)" if rnd["full_hand_count"] else f"{len(draws)} draws"
        print(f"Round 1 of the audit of {reported.contest} ({args.scope}): {what}, "
              f"{len(stations)} station(s) to count; U = {state.U:.4g}")
        for d in draws:
            print(f"  draw {d.index:4d}  ticket {d.ticket:.18f}  {d.batch}")
        if rnd["full_hand_count"]:
            print("  " + ", ".join(stations))
        print(f"Sample list: {doc['sample_csv']}; hand-count sheets: {out / 'hand-counts'}/")
    return 3 if rnd["full_hand_count"] else 0


def run_risk(args: argparse.Namespace) -> int:
    from device.audit.rla.audit import AuditStateError, evaluate_audit, json_safe, load_audit
    from device.audit.rla.csv_files import HandCountError
    from device.audit.rla.report import write_report

    try:
        state = load_audit(Path(args.audit))
        result = evaluate_audit(state)
    except (AuditStateError, HandCountError) as exc:
        raise UserError(str(exc)) from None
    files = write_report(state, result)
    if args.json:
        print(json.dumps(json_safe({**{k: v for k, v in result.items() if k != "checks"}, "report": files}),
                         ensure_ascii=False, allow_nan=False))
    else:
        print(f"Round {result['round']}: measured risk {result['risk']:.4g} (limit {result['risk_limit']:.4g}), "
              f"{result['stations_counted']} station(s) counted, {len(result['discrepancies'])} with discrepancies")
        for c in result["discrepancies"]:
            print(f"  {c['batch']}: {c['error_votes']:+d} votes of margin against {c['assertion']} "
                  f"(taint {c['taint']:.3f})")
        print(f"Decision: {result['decision']} — {result['meaning']}")
        nxt = result["next_round"]
        if nxt:
            print(f"  sample list: {Path(args.audit) / ('sample-round-%d.csv' % nxt['round'])}")
        print(f"Report: {files['html']}")
    return int(result["exit_status"])


def run_arlo(args: argparse.Namespace) -> int:
    from device.audit.rla.csv_files import write_arlo

    files = write_arlo(_reported(args), Path(args.out), args.jurisdiction)
    for path in files.values():
        print(path)
    return 0
