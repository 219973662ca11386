"""The risk-limiting audit drill of a national run: ``sim national --rla-drill N``.

After the run, the real audit (``sim.audit.drill``, which drives ``device.audit.rla``) is run
``N`` times, each with its own public audit seed, on the run's own results, with the hand counts
taken from the paper the simulated voters dropped into each box:

- **honest**: the results as the units reported them (with the run's fault profile, if any);
  the audit must never call a right outcome wrong, and should stop in round 1;
- **planted miscount**: votes moved in the reported tallies from the winner of the tightest
  assertion to its loser, at as few stations as needed, until the reported outcome is not the
  paper's, then on to ``SHIFT_FACTOR`` times that shift (a fraud that wants a margin); the
  audit must catch it (end in a full hand count showing the paper's outcome) in at least
  ``1 - risk limit`` of the seeds.

The figures (contest, scope, risk limit, the audit seeds, stations sampled, escalations, full
hand counts, catch rate) go into ``national.json`` under ``rla_drill`` and into the QA page's
section "Risk-limiting audit drill" (``drill_html``), the same numbers in both.
"""
from __future__ import annotations

import html
import shutil
import tempfile
from pathlib import Path

from device.cli.main import UserError

SHIFT_FACTOR = 2.0  # the planted miscount moves twice the votes that change the outcome
CASES = (("honest", "honest results"), ("planted", "planted miscount"))
ROWS = (("audits", "audits"), ("stations", "stations in the run"),
        ("tampered_stations", "stations whose tally was altered"), ("shifted_votes", "votes moved"),
        ("stopped_in_round_1", "stopped in round 1"), ("escalated", "escalated (a 2nd round or more)"),
        ("first_round_full_count", "round 1 already a full hand count"),
        ("full_hand_counts", "ended in a full hand count"), ("mean_stations_counted", "stations sampled (mean)"),
        ("max_stations_counted", "stations sampled (most)"), ("catch_rate", "catch rate of the miscount"),
        ("meets_risk_limit", "meets the risk limit"))


def _case(summary: dict) -> dict:
    """The figures of one drill the QA report shows."""
    decisions = summary["decisions"]
    return {"audits": summary["audits"], "stations": summary["stations"],
            "tampered_stations": len(summary["tampered_stations"]), "shifted_votes": summary["shifted_votes"],
            "target_assertion": summary["target_assertion"], "outcome_changed": summary["outcome_changed"],
            "stopped_in_round_1": summary["stopped_in_round_1"], "escalated": summary["escalated"],
            "first_round_full_count": summary["first_round_full_count"],
            "full_hand_counts": decisions["confirmed_by_full_count"] + decisions["outcome_wrong"],
            "decisions": decisions, "mean_stations_counted": round(summary["mean_stations_counted"], 2),
            "max_stations_counted": summary["max_stations_counted"], "catch_rate": summary["catch_rate"],
            "meets_risk_limit": summary["meets_risk_limit"]}


def national_drill(run_dir: Path, contest: str, scope: str, risk_limit: float, audits: int) -> dict:
    """Both drills on the ``sim national --out`` folder ``run_dir``; the ``rla_drill`` document."""
    from device.audit.rla.assertions import OutcomeNotAuditable
    from device.audit.rla.results import ReportedResultsError, load_reported
    from sim.audit.drill import DrillElection, audit_seed, drill, paper_counts, tamper

    seeds = [audit_seed(k) for k in range(audits)]
    doc: dict = {"contest": contest, "scope": scope, "risk_limit": risk_limit, "audit_seeds": seeds,
                 "shift_factor": SHIFT_FACTOR}
    try:
        reported, paper = load_reported(run_dir, contest), paper_counts(run_dir, contest)
        doc["honest"] = _case(drill(DrillElection(reported, paper, [], 0, False, None), scope, risk_limit, seeds))
        try:
            planted = tamper(reported, paper, scope, len(reported.batches), SHIFT_FACTOR)
        except UserError as exc:
            doc["planted"] = {"error": str(exc)}
        else:
            doc["planted"] = _case(drill(planted, scope, risk_limit, seeds))
    except (ReportedResultsError, OutcomeNotAuditable, ValueError) as exc:
        doc["error"] = str(exc)
    return doc


def add_drill(national, run, out: str | None, audits: int, risk_limit: float, scope: str,
              figures: bool = True) -> dict:
    """Run the drill on ``run`` and add it to its document; with ``out`` (the run's folder,
    already written) rewrite ``national.json`` and ``report.html`` with it."""
    from sim.national.outputs import national_json, write_outputs
    from sim.national.qa_report import write_report

    if run.interrupted:
        drill_doc = {"error": "the run was interrupted: no audit drill on a partial count"}
    else:
        folder = Path(out) if out else Path(tempfile.mkdtemp(prefix="rla-national-"))
        try:
            if not out:
                write_outputs(national, run, folder, figures=False)  # read by the drill, then removed
            drill_doc = national_drill(folder, national.contest_id, scope, risk_limit, audits)
        finally:
            if not out:
                shutil.rmtree(folder, ignore_errors=True)
    run.document["rla_drill"] = drill_doc
    if out:
        (Path(out) / "national.json").write_bytes(national_json(run.document))
        write_report(national, run, Path(out), figures=figures)
    return drill_doc


def _cell(key: str, value) -> str:
    if value is None:
        return "—"
    return f"{value:.1%}" if key == "catch_rate" else str(value)


def drill_html(doc: dict) -> str:
    """The QA page's section of the drill (empty when the run had none)."""
    drill = doc.get("rla_drill")
    if not drill:
        return ""
    head = (f"<h2>Risk-limiting audit drill</h2><p>Contest <code>{html.escape(drill['contest'])}</code>, scope "
            f"<code>{html.escape(drill['scope'])}</code>, risk limit {drill['risk_limit']:.0%}; "
            f"{len(drill['audit_seeds'])} audits, audit seeds {html.escape(', '.join(drill['audit_seeds'][:3]))}"
            f"{' …' if len(drill['audit_seeds']) > 3 else ''}. Hand counts are the paper in each simulated box; "
            f"the planted miscount moves {drill['shift_factor']:g} times the votes that change the outcome "
            f"(key <code>rla_drill</code>).</p>")
    if "error" in drill:
        return head + f"<p class=\"bad\">No drill: {html.escape(drill['error'])}</p>"
    cases = [(key, label, drill[key]) for key, label in CASES]
    notes = "".join(f"<p class=\"bad\">{html.escape(label)}: {html.escape(case['error'])}</p>"
                    for _, label, case in cases if "error" in case)
    shown = [(key, label, case) for key, label, case in cases if "error" not in case]
    rows = "".join(f"<tr><th>{html.escape(name)}</th>"
                   + "".join(f"<td id=\"rla-{case_key}-{key}\">{html.escape(_cell(key, case.get(key)))}</td>"
                             for case_key, _, case in shown) + "</tr>" for key, name in ROWS)
    table = ("<table><tr><th></th>" + "".join(f"<th>{html.escape(label)}</th>" for _, label, _ in shown)
             + f"</tr>{rows}</table>") if shown else ""
    return head + notes + table


def drill_lines(doc: dict) -> list[str]:
    """The drill in a few lines for the terminal (the same figures as the page)."""
    drill = doc.get("rla_drill") or {}
    if "error" in drill:
        return [f"audit drill: none ({drill['error']})"]
    lines = [f"audit drill: {drill['contest']} ({drill['scope']}), risk limit {drill['risk_limit']:.0%}, "
             f"{len(drill['audit_seeds'])} audit seeds from {drill['audit_seeds'][0]}"]
    for key, label in CASES:
        case = drill[key]
        if "error" in case:
            lines.append(f"  {label}: {case['error']}")
            continue
        lines.append(f"  {label}: stations sampled {case['mean_stations_counted']} on average (at most "
                     f"{case['max_stations_counted']} of {case['stations']}), stopped in round 1 "
                     f"{case['stopped_in_round_1']}, escalated {case['escalated']}, full hand counts "
                     f"{case['full_hand_counts']}" + (f", caught {_cell('catch_rate', case['catch_rate'])} "
                                                      f"({case['shifted_votes']} votes moved at "
                                                      f"{case['tampered_stations']} stations)"
                                                      if case["outcome_changed"] else "")
                     + ("" if case["meets_risk_limit"] else " — DOES NOT MEET THE RISK LIMIT"))
    return lines
