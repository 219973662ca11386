"""The audit's report: ``report.html`` with figures, and ``report.json`` with the same numbers.

The page gives the parameters (contest, scope, risk limit, seed), the decision of the last
evaluation and what it means for the board, the measured risk after each evaluation, every
discrepancy found (station, votes of margin, the assertion it hurts, its taint), and the
tightest assertions. Figures (``figures/risk.png``): the measured risk after each round against
the risk limit (log scale), and the taint of every counted station. Every figure and table
reads ``report.json``'s numbers, so a script checks what a person reads.
"""
from __future__ import annotations

import html
import json
from pathlib import Path

from device.audit.rla.audit import AuditState, json_safe

TIGHTEST = 10  # assertions listed on the page


def report_doc(state: AuditState, evaluation: dict | None) -> dict:
    tight = sorted(state.assertions, key=lambda a: (a.margin, a.id))[:TIGHTEST]
    return {"format": "ballotbox-rla-report/1", "contest": state.reported.contest, "kind": state.reported.kind,
            "scope": state.scope, "risk_limit": state.risk_limit, "seed": state.seed,
            "stations": len(state.reported.batches), "stations_auditable": len(state.auditable()),
            "assertions": len(state.assertions), "U": state.U,
            "tightest_assertions": [a.to_json() for a in tight],
            "rounds": state.rounds, "evaluations": state.evaluations, "last": evaluation}


def _figure(doc: dict, folder: Path) -> str:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    fig, (ax1, ax2) = plt.subplots(1, 2, figsize=(10, 3.6))
    evals = doc["evaluations"]
    rounds = [0] + [e["round"] for e in evals]  # round 0: before any count, the risk is 1
    risks = [1.0] + [max(e["risk"], 1e-6) for e in evals]
    ax1.plot(rounds, risks, "o-", label="measured risk")
    ax1.axhline(doc["risk_limit"], color="red", linestyle="--", label=f"risk limit {doc['risk_limit']:.0%}")
    ax1.set_yscale("log")
    ax1.set_ylim(min(min(risks), doc["risk_limit"]) / 3, 1.5)
    ax1.set_xticks(rounds)
    ax1.set_xlabel("round (0: before counting)")
    ax1.set_ylabel("risk (p-value)")
    ax1.set_title("Measured risk after each round")
    ax1.legend()
    checks = (doc["last"] or {}).get("checks", [])
    xs = list(range(len(checks)))
    taints = [c["taint"] for c in checks]
    ax2.vlines(xs, 0, taints, color="crimson")
    ax2.scatter(xs, taints, color=["crimson" if c["error_votes"] else "seagreen" for c in checks], zorder=3)
    ax2.set_xlabel("counted station (in id order)")
    ax2.set_ylabel("taint e_p / u_p")
    ax2.set_ylim(-0.02, 1)
    ax2.set_title("Taint of each hand-counted station")
    fig.tight_layout()
    path = folder / "risk.png"
    fig.savefig(path, dpi=90)
    plt.close(fig)
    return "figures/risk.png"


def _rows(rows: list[list]) -> str:
    return "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)


def write_report(state: AuditState, evaluation: dict | None) -> dict[str, str]:
    doc = report_doc(state, evaluation)
    folder = state.folder
    (folder / "report.json").write_text(json.dumps(json_safe(doc), indent=1, ensure_ascii=False, allow_nan=False),
                                        encoding="utf-8")
    figure = _figure(doc, folder / "figures")
    last = evaluation or {}
    e = html.escape
    decision = (f"<p class='decision {e(last['decision'])}'><b>{e(last['decision'])}</b>: {e(last['meaning'])} "
                f"(measured risk {last['risk']:.4g}, limit {doc['risk_limit']:.4g})</p>") if last else \
        "<p>No hand counts evaluated yet.</p>"
    evals = _rows([[v["round"], f"{v['risk']:.4g}", v["decision"], v["stations_counted"], v["draws"]]
                   for v in doc["evaluations"]])
    disc = _rows([[c["batch"], c["error_votes"], c["assertion"], f"{c['taint']:.4f}"]
                  for c in last.get("discrepancies", [])]) or "<tr><td colspan=4>none</td></tr>"
    tight = _rows([[a["id"], a["margin"]] for a in doc["tightest_assertions"]])
    page = f"""<!doctype html><html lang="en"><head><meta charset="utf-8">
<title>Risk-limiting audit — {e(doc['contest'])}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:1em auto}}td,th{{border:1px solid #ccc;padding:2px 6px}}
table{{border-collapse:collapse}}.stop,.confirmed_by_full_count{{color:green}}.outcome_wrong{{color:red}}</style>
</head><body><h1>Risk-limiting audit (batch comparison, MACRO)</h1>
<p>Contest <b>{e(doc['contest'])}</b> ({e(doc['kind'])}), scope <b>{e(doc['scope'])}</b>,
risk limit <b id="risk-limit">{doc['risk_limit']:.4g}</b>, seed <code>{e(doc['seed'])}</code>;
{doc['stations']} stations reported, {doc['stations_auditable']} can move the outcome;
{doc['assertions']} assertions; total error bound U = <span id="U">{doc['U']:.6g}</span>.</p>
{decision}
<img src="{figure}" alt="measured risk per round and taint per station">
<h2>Evaluations</h2><table id="evaluations"><tr><th>round</th><th>risk</th><th>decision</th>
<th>stations counted</th><th>draws</th></tr>{evals}</table>
<h2>Discrepancies</h2><table id="discrepancies"><tr><th>station</th><th>votes of margin</th>
<th>assertion</th><th>taint</th></tr>{disc}</table>
<h2>Tightest assertions</h2><table id="assertions"><tr><th>assertion</th><th>reported margin</th></tr>{tight}</table>
<p>Method: MACRO batch comparison (Stark 2009) with PPEB sampling (Aslam, Popa, Rivest 2008), as Arlo
computes it; party-list seats through D'Hondt assertions (Stark and Teague 2014; Blom et al. 2021).
The same numbers are in <a href="report.json">report.json</a>.</p></body></html>"""
    (folder / "report.html").write_text(page, encoding="utf-8")
    return {"html": str(folder / "report.html"), "json": str(folder / "report.json")}
