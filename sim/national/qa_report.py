"""The QA report of a national run: one HTML page with matplotlib figures beside the numbers.

Figures (PNG, in ``figures/``): seats by party, simulated vs published (or votes, for an
election without seats); turnout and invalid share across stations (histograms); wall time
per station (histogram, by fidelity); faults injected and how each ended. Every figure's
numbers are in ``national.json`` too (the page says which key), so a script checks what a
person reads. The page also gives the checks against intent at every level and the number of
ballots lost or double-counted (must be 0). Its first line is the run's status (``run.verdict``:
an interrupted run says so, never MATCHES INTENT); where the count differs, the stations,
districts and seats affected; a partial run is not compared with the whole country's published
figures, and votes the spec estimated are labelled so.
"""
from __future__ import annotations

import html
from pathlib import Path

from sim.national.audit_drill_section import drill_html


def _figures(national, run, folder: Path) -> dict[str, str]:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    folder.mkdir(parents=True, exist_ok=True)
    doc = run.document
    ok = [r for r in run.tally.stations.values() if "error" not in r]
    figs = {}

    fig, ax = plt.subplots(figsize=(8, 4))
    pub = doc["published"]
    table = pub.get("seats") or pub["votes"]
    parties = sorted(table, key=lambda p: -table[p]["published"])[:12]
    xs = range(len(parties))
    ax.bar([x - 0.2 for x in xs], [table[p]["published"] for p in parties], 0.4, label="published")
    ax.bar([x + 0.2 for x in xs], [table[p]["simulated"] for p in parties], 0.4, label="simulated")
    ax.set_xticks(list(xs), parties, rotation=45, ha="right")
    ax.set_yscale("log")
    ax.set_title(("Seats" if pub.get("seats") else "Votes") + " by choice: simulated vs published"
                 + ("" if pub["comparable"] else " (partial run: not comparable)"))
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "seats.png", dpi=90)
    plt.close(fig)
    figs["seats"] = "figures/seats.png"

    fig, axes = plt.subplots(1, 2, figsize=(9, 3.5))
    turnout = [r["ballots_cast"] / r["registered"] for r in ok if r["registered"]]
    contest = national.contest_id
    invalid = [r["contests"][contest]["invalid"] / r["ballots_cast"] for r in ok if r["ballots_cast"]]
    axes[0].hist(turnout, bins=40)
    axes[0].set_title("Turnout across stations")
    axes[1].hist(invalid, bins=40, color="tab:red")
    axes[1].set_title("Invalid share across stations")
    fig.tight_layout()
    fig.savefig(folder / "turnout_invalid.png", dpi=90)
    plt.close(fig)
    figs["turnout_invalid"] = "figures/turnout_invalid.png"

    fig, ax = plt.subplots(figsize=(8, 3.5))
    by_fid: dict[str, list[float]] = {}
    for r in ok:
        by_fid.setdefault(r["fidelity"], []).append(run.tally.seconds.get(r["station"], 0.0) * 1000)
    for fid, values in sorted(by_fid.items()):
        ax.hist(values, bins=50, alpha=0.7, label=f"{fid} ({len(values)})")
    ax.set_xscale("symlog")
    ax.set_xlabel("ms per station day")
    ax.set_title("Time per station (worker wall time)")
    ax.legend()
    fig.tight_layout()
    fig.savefig(folder / "time_per_station.png", dpi=90)
    plt.close(fig)
    figs["time"] = "figures/time_per_station.png"

    f = doc["fault_summary"]
    endings = {**{f"cleared {k}": v for k, v in f["cleared"].items()},
               **{f"power-on: sheet {k}": v for k, v in f["power_on_paper"].items()},
               "reboots": f["reboots"]}
    fig, axes = plt.subplots(1, 2, figsize=(10, 3.5))
    inj = f["stations_by_fault"] or {"none": 0}
    axes[0].barh(list(inj), list(inj.values()))
    axes[0].set_title("Stations by fault injected")
    axes[1].barh(list(endings) or ["none"], list(endings.values()) or [0], color="tab:green")
    axes[1].set_xscale("symlog")
    axes[1].set_title("How the faults ended")
    fig.tight_layout()
    fig.savefig(folder / "faults.png", dpi=90)
    plt.close(fig)
    figs["faults"] = "figures/faults.png"
    return figs


def _table(rows: list[list], head: list[str]) -> str:
    h = "".join(f"<th>{html.escape(str(x))}</th>" for x in head)
    body = "".join("<tr>" + "".join(f"<td>{html.escape(str(c))}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><tr>{h}</tr>{body}</table>"


def _label(choice: str, row: dict) -> str:
    return f"{choice} (estimate)" if row.get("estimated") else choice


def _mismatch_part(doc: dict) -> str:
    """The stations, districts and seats where the device's count differs from intent."""
    m = doc["checks"]["mismatches"]
    violations = doc["checks"]["invariants"]["violations"]
    if not (m["stations"] or m["districts"] or violations):
        return ""
    stations = [[x["station"], x["district"], x["province"], f"{x['ballots']:+,}",
                 "; ".join(f"{c}: {v.get('votes', {})}" for c, v in x["contests"].items()),
                 "yes" if x["paper_matches_records"] else "NO"] for x in m["stations"]]
    seats = [[x["district"], x["province"], ", ".join(f"{p} {n:+}" for p, n in v["seats"].items())]
             for x in m["districts"] for v in x["contests"].values() if v.get("seats")]
    return ("<h2 class=\"bad\">Where the count differs from intent</h2>"
            + _table(stations, ["station", "district", "province", "ballots", "votes (device − intent)",
                                "paper = records"])
            + f"<p>Districts affected: {html.escape(', '.join(x['district'] for x in m['districts']) or 'none')}; "
            f"provinces: {html.escape(', '.join(m['provinces']) or 'none')} (key <code>checks.mismatches</code>).</p>"
            + ("<p>Seats that change hands (device − intent):</p>" + _table(seats, ["district", "province", "seats"])
               if seats else "<p>Seats that change hands: none (the differences move no seat).</p>")
            + ("<h2 class=\"bad\">Invariants broken</h2><ul>"
               + "".join(f"<li>{html.escape(v)}</li>" for v in violations) + "</ul>" if violations else ""))


def _img(figs: dict[str, str], key: str, alt: str) -> str:
    """A figure of the page, or where it was not drawn (``--no-figures``) what to read instead."""
    if key in figs:
        return f'<img src="{figs[key]}" alt="{alt}">'
    return "<i>(figure not drawn: --no-figures; its numbers are in national.json)</i>"


def write_report(national, run, out: Path, *, figures: bool = True) -> Path:
    """``report.html`` in ``out``; with ``figures`` (the default) its PNG figures in ``out/figures``."""
    figs = _figures(national, run, out / "figures") if figures else {}
    doc = run.document
    c = doc["checks"]
    pub = doc["published"]
    status = doc["run"]
    compared = pub["comparable"]
    rows = [[p, v["published"], v["simulated"]] + ([v["difference"]] if compared else []) for p, v in
            sorted(pub.get("seats", {}).items(), key=lambda kv: -kv[1]["published"])]
    vote_rows = [[_label(p, v), f"{v['published']:,}", f"{v['simulated']:,}"]
                 + ([f"{v['difference']:+,}", f"{(v['relative'] or 0) * 100:+.2f} %"] if compared else [])
                 for p, v in sorted(pub["votes"].items(), key=lambda kv: -kv[1]["published"])]
    vote_head = ["choice", "published", "simulated"] + (["difference", "relative"] if compared else [])
    verdict = status["verdict"]
    good = status["status"] == "complete" and doc["matches_intent"]
    partial = ("" if compared else
               f"<p><b>Not comparable with the published figures:</b> {html.escape(pub['why_not_comparable'])}.</p>")
    estimates = ("" if "estimates" not in pub else
                 f"<p>Choices marked <i>(estimate)</i> were not published one by one: "
                 f"{html.escape(pub['estimates']['note'])} (key <code>published.estimates</code>).</p>")
    seats_part = ""
    if rows:
        seats_part = ("<h2>Seats: simulated vs published</h2>"
                      + (f"<p>{pub['seats_off']} seats would change hands between simulated and published "
                         f"(key <code>published.seats</code>).</p>" if compared else partial)
                      + _table(rows, ["party", "published", "simulated"] + (["difference"] if compared else [])))
    page = f"""<!doctype html><html lang="en"><meta charset="utf-8">
<title>QA report — {html.escape(national.election.title)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}.bad{{color:#b00}}.good{{color:#070}}</style>
<h1>QA report: {html.escape(national.election.title)}</h1>
<p class="{'good' if good else 'bad'}" id="status"><b>{html.escape(verdict)}</b> (key <code>run</code>)</p>
<p>Seed {doc['seed']}, fault profile <code>{html.escape(doc['faults'])}</code>, election hash
<code>{doc['election_hash'][:16]}</code>. {doc['selection']['stations']:,} of {doc['selection']['of_stations']:,}
stations, {doc['selection']['districts_complete']:,} of {doc['selection']['of_districts']:,} districts complete,
{doc['national']['ballots_cast']:,} ballots, {run.seconds:.1f} s on {html.escape(run.executor)}
({run.workers} workers).</p>
<h2 class="{'good' if good else 'bad'}">{html.escape(verdict)}</h2>
{_table([["stations", c['stations']['match'], c['stations']['run']],
         ["districts", c['districts']['match'], c['districts']['run']],
         ["provinces", c['provinces']['match'], c['provinces']['run']],
         ["nation", int(c['national']), 1]], ["level", "match intent", "of"])}
<p>Ballots lost: <b>{c['ballots_lost']}</b>; double-counted: <b>{c['ballots_double_counted']}</b>; stations
where the paper in the box differs from the records: <b>{c['paper_mismatches']}</b>; station errors:
<b>{len(c['stations']['errors'])}</b> (key <code>checks</code>). Invariants checked:
{len(c['invariants']['checked'])}, broken: <b>{len(c['invariants']['violations'])}</b>
(key <code>checks.invariants</code>).</p>
{_mismatch_part(doc)}
{seats_part}
<p>{_img(figs, 'seats', 'seats simulated vs published')}</p>
<h2>Votes: simulated vs published</h2>{partial}{estimates}{_table(vote_rows, vote_head)}
<h2>Turnout and invalid ballots across stations</h2><p>{_img(figs, 'turnout_invalid', 'turnout and invalid share')}</p>
<h2>Time per station</h2><p>{_img(figs, 'time', 'time per station')} (times in <code>station_seconds.json</code>)</p>
<h2>Faults and how each ended</h2><p>{_img(figs, 'faults', 'faults')} (key <code>fault_summary</code>)</p>
{drill_html(doc)}
</html>
"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
