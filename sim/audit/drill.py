"""``ballotbox sim audit``: risk-limiting audit drills on a simulated election.

The reported results are each station's device tally from a national run (``sim national
--out``, or run here with ``--election``); the *paper* an audit board would count is what the
simulated voters dropped into that box (the run's ``intent`` tally of the cast sheets). The drill
runs the real audit (``device.audit.rla``: ``start_audit`` / ``evaluate_audit`` on an audit
folder, hand-count CSVs written from the paper) once per audit seed, round after round until it
stops or the full hand count ends it.

With ``--run DIR`` each drill is added to that run's QA folder: ``audit-drills.jsonl`` and the
page ``audit-drills.html`` beside the run's ``report.html``.

``--tamper shift`` makes the reported results wrong before the audit: it takes the tightest
assertion of the *true* outcome (the winner over the runner-up, or a council's last seat) and
moves votes from its winner to its loser in the reported tallies of as few stations as it can
(at most ``--max-stations``; no station's total changes) until the reported outcome differs
from the paper's. The audit must then fail to confirm it (end in a full hand count that shows
the other outcome) in at least ``1 - risk limit`` of the seeds. Exit status: 0 when the drill
meets that (honest: never a wrong verdict; tampered: catch rate >= 1 - risk limit), 1 when not,
2 for bad input.
"""
from __future__ import annotations

import argparse
import hashlib
import json
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path

from device.audit.rla.assertions import contest_assertions, majority_assertions, ranked
from device.audit.rla.audit import evaluate_audit, start_audit
from device.audit.rla.csv_files import write_hand_count
from device.audit.rla.results import ReportedContest, load_reported
from device.cli.main import UserError
from device.results.seats import allocate_seats

ENDINGS = ("stop", "confirmed_by_full_count", "outcome_wrong")


@dataclass
class DrillElection:
    reported: ReportedContest
    paper: dict[str, dict[str, int]]  # station -> the votes on the sheets in its box
    tampered: list[str]
    shifted_votes: int
    outcome_changed: bool
    target: str | None


def paper_counts(run_dir: Path, contest: str) -> dict[str, dict[str, int]]:
    out = {}
    with open(run_dir / "stations.jsonl", encoding="utf-8") as fh:
        for line in fh:
            st = json.loads(line)
            if "error" not in st:
                out[st["station"]] = dict(st["intent"][contest]["votes"])
    return out


def with_votes(reported: ReportedContest, votes: dict[str, dict[str, int]]) -> ReportedContest:
    """The same contest with other votes per station; each council's seats reallocated."""
    batches = {sid: replace(b, votes=dict(votes[sid])) for sid, b in reported.batches.items()}
    out = replace(reported, batches=batches)
    out.districts = {d: replace(s, seats=allocate_seats(out.totals(d), s.total_seats, s.method).seats)
                     for d, s in reported.districts.items()}
    return out


def outcome(contest: ReportedContest, scope: str) -> object:
    if scope == "contest":
        totals = contest.totals()
        if contest.kind == "majority-runoff":
            return tuple(a.id for a in majority_assertions(totals))
        return tuple(ranked(totals)[:contest.vote_for])
    return {d: s.seats for d, s in contest.districts.items() if scope == "seats" or scope == f"district:{d}"}


def tamper(reported: ReportedContest, paper: dict[str, dict[str, int]], scope: str,
           max_stations: int, factor: float = 1.0) -> DrillElection:
    """Shift votes in the reported tallies until the reported outcome is not the paper's."""
    from device.i18n import _
    truth = with_votes(reported, paper)
    true_outcome = outcome(truth, scope)
    assertions = contest_assertions(truth, scope)
    target = min(assertions, key=lambda a: (a.margin / (a.a_w + a.a_l), a.id))
    lo = target.loser[0]
    votes = {sid: dict(v) for sid, v in paper.items()}
    stations = sorted((b for b in truth.batches.values() if target.applies_to(b)),
                      key=lambda b: (-sum(votes[b.id][c] for c in target.winner), b.id))[:max_stations]
    shifted, used = 0, []
    for b in stations:
        used.append(b.id)
        while _shift_one(votes[b.id], target.winner, lo):
            shifted += 1
            if target.batch_margin(_sum(votes, truth, target)) < 0:
                changed = with_votes(reported, votes)
                if outcome(changed, scope) != true_outcome:
                    return _overshoot(reported, paper, votes, stations, used, shifted, factor, target)
    raise UserError(_("no outcome-changing shift of {assertion} fits in {n} station(s): raise --max-stations "
                      "or pick a closer contest").format(assertion=target.id, n=max_stations), translated=True)


def _shift_one(station_votes: dict[str, int], winner: tuple[str, ...], loser: str) -> bool:
    """Move one vote from the winner side's largest choice to ``loser``; False when none is left."""
    w = max(winner, key=lambda c: (station_votes[c], c))
    if station_votes[w] == 0:
        return False
    station_votes[w] -= 1
    station_votes[loser] += 1
    return True


def _overshoot(reported, paper, votes, stations, used, shifted, factor, target) -> DrillElection:
    """Shift on, up to ``factor`` times the outcome-changing shift, so the wrong outcome is
    reported with a margin of its own (a fraud that wants to survive a sample does this)."""
    goal, lo, i = int(shifted * factor), target.loser[0], 0
    while shifted < goal and i < len(stations):
        if _shift_one(votes[stations[i].id], target.winner, lo):
            shifted += 1
            if stations[i].id not in used:
                used.append(stations[i].id)
        else:
            i += 1
    return DrillElection(with_votes(reported, votes), paper, used, shifted, True, target.id)


def _sum(votes: dict[str, dict[str, int]], contest: ReportedContest, a) -> dict[str, int]:
    total: dict[str, int] = {c: 0 for c in contest.choices}
    for b in contest.batches.values():
        if a.applies_to(b):
            for c, v in votes[b.id].items():
                total[c] += v
    return total


def audit_seed(k: int) -> str:
    return f"{int(hashlib.sha256(f'drill audit seed|{k}'.encode()).hexdigest(), 16) % 10**20:020d}"


def run_one_audit(election: DrillElection, scope: str, risk_limit: float, seed: str, folder: Path,
                  report: bool = False) -> dict:
    """One whole audit: hand counts from the paper, round after round, to its end (``report``:
    write its ``report.html`` and ``report.json`` as ``audit rla risk`` does)."""
    state = start_audit(election.reported, scope, risk_limit, seed, folder)
    found = False
    while True:
        sampled = state.sampled()
        for sid in sampled:
            write_hand_count(folder / "hand-counts" / f"{sid}.csv", election.paper[sid])
        found = found or any(s in sampled for s in election.tampered)
        result = evaluate_audit(state)
        if result["decision"] in ENDINGS:
            if report:
                from device.audit.rla.report import write_report
                write_report(state, result)
            return {"seed": seed, "decision": result["decision"], "rounds": len(state.rounds),
                    "stations_counted": result["stations_counted"], "draws": result["draws"],
                    "first_round_full_count": state.rounds[0]["full_hand_count"], "found": found}


def drill(election: DrillElection, scope: str, risk_limit: float, seeds: list[str], keep: Path | None = None) -> dict:
    runs = []
    work = Path(tempfile.mkdtemp(prefix="rla-drill-"))
    try:
        for i, seed in enumerate(seeds):
            folder = (keep / f"audit-{i + 1}") if keep is not None and i == 0 else work / f"a{i}"
            if folder.exists():
                shutil.rmtree(folder)
            runs.append(run_one_audit(election, scope, risk_limit, seed, folder, report=folder.parent == keep))
    finally:
        shutil.rmtree(work, ignore_errors=True)
    n = len(runs)
    wrong_certified = sum(1 for r in runs if election.outcome_changed and r["decision"] != "outcome_wrong")
    summary = {
        "scope": scope, "risk_limit": risk_limit, "audits": n, "stations": len(election.reported.batches),
        "tampered_stations": election.tampered, "shifted_votes": election.shifted_votes,
        "target_assertion": election.target, "outcome_changed": election.outcome_changed,
        "stopped_in_round_1": sum(1 for r in runs if r["rounds"] == 1 and r["decision"] == "stop"),
        "first_round_full_count": sum(1 for r in runs if r["first_round_full_count"]),
        "escalated": sum(1 for r in runs if r["rounds"] > 1),
        "decisions": {d: sum(1 for r in runs if r["decision"] == d) for d in ENDINGS},
        "catch_rate": (1 - wrong_certified / n) if election.outcome_changed and n else None,
        "tampered_station_found": sum(1 for r in runs if r["found"]) if election.tampered else None,
        "mean_stations_counted": sum(r["stations_counted"] for r in runs) / n if n else 0.0,
        "max_stations_counted": max((r["stations_counted"] for r in runs), default=0),
        "mean_rounds": sum(r["rounds"] for r in runs) / n if n else 0.0,
    }
    if election.outcome_changed:
        summary["meets_risk_limit"] = summary["catch_rate"] >= 1 - risk_limit
    else:
        summary["meets_risk_limit"] = summary["decisions"]["outcome_wrong"] == 0
    return summary


DRILLS_JSONL = "audit-drills.jsonl"
DRILLS_HTML = "audit-drills.html"
DRILL_COLUMNS = (("contest", "contest"), ("scope", "scope"), ("risk_limit", "risk limit"), ("audits", "audits"),
                 ("outcome_changed", "outcome changed"), ("shifted_votes", "votes shifted"),
                 ("catch_rate", "caught"), ("stopped_in_round_1", "stopped in round 1"), ("escalated", "escalated"),
                 ("first_round_full_count", "round 1 a full count"), ("mean_stations_counted", "mean stations counted"),
                 ("stations", "stations"), ("mean_rounds", "mean rounds"), ("meets_risk_limit", "meets the risk limit"))


def record_drill(run_dir: Path, summary: dict) -> Path:
    """Add a drill to the QA folder of a national run: one line of ``audit-drills.jsonl`` and
    the page ``audit-drills.html`` (a table of every drill run there, from those lines)."""
    import html

    with open(run_dir / DRILLS_JSONL, "a", encoding="utf-8") as fh:
        fh.write(json.dumps(summary, ensure_ascii=False) + "\n")
    rows = [json.loads(line) for line in (run_dir / DRILLS_JSONL).read_text(encoding="utf-8").splitlines()]
    head = "".join(f"<th>{html.escape(label)}</th>" for _, label in DRILL_COLUMNS)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(r.get(key)))}</td>" for key, _ in DRILL_COLUMNS) + "</tr>"
                   for r in rows)
    page = (f"<!doctype html><html lang='en'><meta charset='utf-8'><title>Risk-limiting audit drills</title>"
            f"<h1>Risk-limiting audit drills on this run</h1><p>Each row is one <code>ballotbox sim audit</code> "
            f"(hand counts from the paper in the simulated boxes; numbers in <code>{DRILLS_JSONL}</code>). "
            f"A tampered drill must catch the wrong outcome in at least 1 - risk limit of its audits.</p>"
            f"<table border=1><tr>{head}</tr>{body}</table></html>")
    path = run_dir / DRILLS_HTML
    path.write_text(page, encoding="utf-8")
    return path


def register(subparsers) -> None:
    from device.election.names import election_help
    from sim.national.spec_source import NATIONAL_SPEC

    p = subparsers.add_parser(
        "audit", help="risk-limiting audit drills on a simulated election (honest or tampered results)",
        description="Run the real risk-limiting audit (ballotbox audit rla) on a simulated election, "
                    "with hand counts taken from the paper in each simulated box, once per audit seed; "
                    "optionally after making the reported results wrong (--tamper shift).",
        epilog="Exit status: 0 when the drill meets the risk limit (honest results never called wrong; "
               "tampered results caught in at least 1 - risk limit of the audits), 1 when not, 2 for bad input.")
    src = p.add_mutually_exclusive_group(required=True)
    src.add_argument("--run", metavar="DIR", help="a 'ballotbox sim national --out' folder")
    src.add_argument("--election", help="run this national election first: " + election_help(kinds=[NATIONAL_SPEC]))
    p.add_argument("--stations", type=int, default=60, help="with --election: the first N stations (default 60)")
    p.add_argument("--seed", type=int, default=1, help="with --election: the run's seed (default 1)")
    p.add_argument("--contest", required=True, help="the contest id (council, president)")
    p.add_argument("--scope", default="contest", help="contest, seats or district:ID (as audit rla sample)")
    p.add_argument("--risk-limit", type=float, default=5.0, metavar="PERCENT", help="risk limit in percent (default 5)")
    p.add_argument("--tamper", choices=("none", "shift"), default="none",
                   help="shift: move votes in the reported tallies until the reported outcome is wrong")
    p.add_argument("--max-stations", type=int, default=1, help="stations --tamper may alter (default 1)")
    p.add_argument("--shift-factor", type=float, default=1.0, metavar="F",
                   help="shift F times the votes that change the outcome, so the wrong outcome is reported "
                        "with a margin (within --max-stations; default 1)")
    p.add_argument("--audits", type=int, default=20, help="audits, each with its own seed (default 20)")
    p.add_argument("--keep", metavar="DIR", help="keep the first audit's folder (report.html) here")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_drill_command)


def _national_run(args: argparse.Namespace, out: Path) -> None:
    from sim.national.executors import InlineExecutor
    from device.election.fields import ElectionError
    from sim.national.generator import NationalSpecError, national_spec_election
    from sim.national.outputs import write_outputs
    from sim.national.runner import NationalRunError, run_national

    try:
        national = national_spec_election(args.election)
        write_outputs(national, run_national(national, args.seed, InlineExecutor(), stations=args.stations), out,
                      figures=False)  # a folder the drill reads, not a QA report anyone looks at
    except (ElectionError, NationalSpecError, NationalRunError) as exc:
        raise UserError(str(exc)) from None


def run_drill_command(args: argparse.Namespace) -> int:
    from device.audit.rla.assertions import OutcomeNotAuditable
    from device.audit.rla.results import ReportedResultsError
    from device.i18n import _

    if args.audits < 1 or args.max_stations < 1:
        raise UserError(_("--audits and --max-stations must be at least 1"), translated=True)
    tmp = None
    try:
        if args.run:
            run_dir = Path(args.run)
        else:
            tmp = Path(tempfile.mkdtemp(prefix="rla-run-"))
            run_dir = tmp
            _national_run(args, run_dir)
        reported = load_reported(run_dir, args.contest)
        paper = paper_counts(run_dir, args.contest)
        if args.tamper == "shift":
            election = tamper(reported, paper, args.scope, args.max_stations, args.shift_factor)
        else:
            election = DrillElection(reported, paper, [], 0, False, None)
        summary = drill(election, args.scope, args.risk_limit / 100, [audit_seed(k) for k in range(args.audits)],
                        Path(args.keep) if args.keep else None)
        summary["contest"] = args.contest
        if args.run:
            summary["qa_page"] = str(record_drill(run_dir, summary))
    except (ReportedResultsError, OutcomeNotAuditable, ValueError) as exc:
        raise UserError(str(exc)) from None
    finally:
        if tmp is not None:
            shutil.rmtree(tmp, ignore_errors=True)
    if args.json:
        print(json.dumps(summary, ensure_ascii=False))
    else:
        print(f"{summary['audits']} audits of {args.contest} ({args.scope}) at risk limit {args.risk_limit:g} %, "
              f"{summary['stations']} stations")
        if election.outcome_changed:
            print(f"  tampered: {summary['shifted_votes']} votes shifted at {', '.join(election.tampered)} "
                  f"against '{election.target}' — the reported outcome is wrong")
            print(f"  caught (full hand count shows the true outcome): {summary['catch_rate']:.1%}")
        print(f"  decisions: {summary['decisions']}; stopped in round 1: {summary['stopped_in_round_1']}")
        print(f"  mean stations counted {summary['mean_stations_counted']:.1f}, mean rounds {summary['mean_rounds']:.2f}")
    return 0 if summary["meets_risk_limit"] else 1
