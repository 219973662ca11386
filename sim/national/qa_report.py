"""The QA report of a national run: one HTML page with matplotlib figures beside the numbers.

Figures (PNG, in ``figures/``): seats by party, simulated vs published (or votes, for an
election without seats); turnout and invalid share across stations (histograms); wall time
per station (histogram, by fidelity); faults injected and how each ended. Every figure's
numbers are in ``national.json`` too (the page says which key), so a script checks what a
person reads. The page also gives the checks against intent at every level and the number of
ballots lost or double-counted (must be 0).
"""
from __future__ import annotations

import html
from pathlib import Path


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
    ax.set_title(("Seats" if pub.get("seats") else "Votes") + " by choice: simulated vs published")
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


def write_report(national, run, out: Path) -> Path:
    figs = _figures(national, run, out / "figures")
    doc = run.document
    c = doc["checks"]
    pub = doc["published"]
    rows = [[p, v["published"], v["simulated"], v["difference"]] for p, v in
            sorted(pub.get("seats", {}).items(), key=lambda kv: -kv[1]["published"])]
    vote_rows = [[p, f"{v['published']:,}", f"{v['simulated']:,}", f"{v['difference']:+,}",
                  f"{(v['relative'] or 0) * 100:+.2f} %"]
                 for p, v in sorted(pub["votes"].items(), key=lambda kv: -kv[1]["published"])]
    verdict = "MATCHES INTENT" if doc["matches_intent"] else "DOES NOT MATCH INTENT"
    seats_part = ""
    if rows:
        seats_part = (f"<h2>Seats: simulated vs published</h2><p>{pub['seats_off']} seats would change hands "
                      f"between simulated and published (key <code>published.seats</code>)."
                      + ("" if pub["comparable"] else " Only part of the country ran: not comparable.")
                      + "</p>" + _table(rows, ["party", "published", "simulated", "difference"]))
    page = f"""<!doctype html><html lang="en"><meta charset="utf-8">
<title>QA report — {html.escape(national.election.title)}</title>
<style>body{{font-family:sans-serif;max-width:60em;margin:2em auto}}table{{border-collapse:collapse}}
td,th{{border:1px solid #ccc;padding:2px 8px;text-align:right}}.bad{{color:#b00}}.good{{color:#070}}</style>
<h1>QA report: {html.escape(national.election.title)}</h1>
<p>Seed {doc['seed']}, fault profile <code>{html.escape(doc['faults'])}</code>, election hash
<code>{doc['election_hash'][:16]}</code>. {doc['selection']['stations']:,} of {doc['selection']['of_stations']:,}
stations, {doc['selection']['districts_complete']:,} of {doc['selection']['of_districts']:,} districts complete,
{doc['national']['ballots_cast']:,} ballots, {run.seconds:.1f} s on {html.escape(run.executor)}
({run.workers} workers).</p>
<h2 class="{'good' if doc['matches_intent'] else 'bad'}">{verdict}</h2>
{_table([["stations", c['stations']['match'], c['stations']['run']],
         ["districts", c['districts']['match'], c['districts']['run']],
         ["provinces", c['provinces']['match'], c['provinces']['run']],
         ["nation", int(c['national']), 1]], ["level", "match intent", "of"])}
<p>Ballots lost: <b>{c['ballots_lost']}</b>; double-counted: <b>{c['ballots_double_counted']}</b>; stations
where the paper in the box differs from the records: <b>{c['paper_mismatches']}</b>; station errors:
<b>{len(c['stations']['errors'])}</b> (key <code>checks</code>).</p>
{seats_part}
<p><img src="{figs['seats']}" alt="seats simulated vs published"></p>
<h2>Votes: simulated vs published</h2>{_table(vote_rows, ["choice", "published", "simulated", "difference", "relative"])}
<h2>Turnout and invalid ballots across stations</h2><p><img src="{figs['turnout_invalid']}" alt="turnout and invalid share"></p>
<h2>Time per station</h2><p><img src="{figs['time']}" alt="time per station"> (times in <code>station_seconds.json</code>)</p>
<h2>Faults and how each ended</h2><p><img src="{figs['faults']}" alt="faults"> (key <code>fault_summary</code>)</p>
</html>
"""
    path = out / "report.html"
    path.write_text(page, encoding="utf-8")
    return path
