"""The public pages, rendered on the server from the same documents as their JSON twins.

Every page is complete HTML with its figures in tables (readable without JavaScript); its twin
is the JSON document at the same path with ``.json`` (``index.html`` / ``index.json``,
``districts/ID.html`` / ``districts/ID.json``, ...). Two small scripts add what needs one:
``live.js`` polls ``version.json`` and swaps in the page's new ``<main>`` when a new version
is published; ``verify.js`` checks a unit's Ed25519 signature in the browser (WebCrypto) over
the canonical JSON of the message, re-serialised in the browser, not taken from the server.

Pages: national summary (``index``: by province, with links), province (its districts),
district with its seats, station with the figures of its
printed tape, the signed message and downloads, ``conflicts`` and ``refusals``.
"""
from __future__ import annotations

import csv
import datetime as dt
import io
from functools import lru_cache
from html import escape as _escape
from typing import Any
from urllib.parse import quote

import orjson

from device.i18n import N_, _

escape = lru_cache(maxsize=1 << 16)(_escape)  # names repeat on every station's page
SIGNED_TEXT = orjson.OPT_INDENT_2 | orjson.OPT_SORT_KEYS  # as the store gives it back after a restart
STATUS_LABELS = {"unofficial-partial": N_("Unofficial, partial"),
                 "unofficial-complete": N_("Unofficial, complete")}
TEST_EXPLAINED = N_("figures of a test or a simulation, published to check the system; no "
                    "voter cast these ballots")
LIST_COLUMNS = (("at", N_("Received")), ("station", N_("Station")), ("unit_key", N_("Unit key")),
                ("code", N_("Decision")), ("sequence", N_("Sequence")), ("reason", N_("Reason")),
                ("digest", N_("Digest")))
FIGURES = ("ballots_counted", "undervotes", "overvotes", "blank", "invalid")


def slug(ident: str) -> str:
    """An id as a link component (and, for an ASCII id, its file name)."""
    return quote(ident, safe="-_.~")


def province_file(name: str) -> str:
    """A province's file name: its name as it is (Бишкек), made safe for a path; its links
    are ``slug(province_file(name))``, which a web server decodes back to the name."""
    return name.replace("/", "-").replace("\0", "").lstrip(".") or "province"


def when(at: float | None) -> str:
    if at is None:
        return "—"
    return dt.datetime.fromtimestamp(at, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def num(n: Any) -> str:
    return "—" if n is None else f"{n:,}" if isinstance(n, int) else f"{n}"


def pct(x: float | None) -> str:
    return "—" if x is None else f"{x:.2f} %"


def _page(title: str, root: str, meta: dict, body: str, twin: str, extra_head: str = "") -> str:
    """A whole page; test results (``meta["notice"]``) say so in the title and a banner."""
    e = escape
    version, notice = meta["version"], meta.get("notice")
    banner = ""
    if notice:
        title = f"{notice} · {title}"
        banner = (f'<p class="test-marking" id="test-marking" role="alert"><b>{e(_(notice))}</b>: '
                  f'{e(_(TEST_EXPLAINED))}</p>\n')
    return f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta name="results-version" content="{version}"><meta name="results-root" content="{e(root)}">
<title>{e(title)}</title><link rel="stylesheet" href="{e(root)}style.css">
<link rel="alternate" type="application/json" href="{e(twin)}">{extra_head}
<script src="{e(root)}live.js" defer></script></head>
<body class="{'test-results' if notice else 'live-results'}"><main id="main" data-version="{version}">
{banner}{body}
</main></body></html>
"""


def _nav(root: str, doc: dict, meta: dict) -> str:
    """Links and the version; the counts of conflicts and refusals where ``meta`` has them (the
    national and list pages: a station's page changes only when the station does)."""
    e = escape
    counts = {k: f" ({meta[k]})" if k in meta else "" for k in ("conflicts", "refusals")}
    return (f'<nav><a href="{root}index.html">National results</a> · '
            f'<a href="{root}conflicts.html">Conflicts{counts["conflicts"]}</a> · '
            f'<a href="{root}refusals.html">Refused uploads{counts["refusals"]}</a> · '
            f'<span class="version">version <b id="version">{meta["version"]}</b>, last update '
            f'<time id="updated">{e(when(meta["updated_at"]))}</time></span></nav>')


def _status(doc: dict) -> str:
    s = doc["status"]
    return (f'<p class="status {s}" id="status" data-status="{s}"><b>{escape(_(STATUS_LABELS[s]))}</b>: '
            f'<span id="reporting">'
            f'{num(doc["stations_reporting"])} of {num(doc["stations_total"])}</span> stations '
            f'reporting (<span id="reporting-pct">{pct(doc["reporting_pct"])}</span>)</p>')


def _figures(doc: dict) -> str:
    return ('<table class="figures"><tbody>'
            f'<tr><th>Ballots cast</th><td id="ballots-cast">{num(doc["ballots_cast"])}</td></tr>'
            f'<tr><th>Voters registered (reporting stations)</th><td>{num(doc.get("registered_reporting"))}</td></tr>'
            f'<tr><th>Voters registered (all stations)</th><td>{num(doc.get("registered"))}</td></tr>'
            f'<tr><th>Turnout</th><td id="turnout">{pct(doc.get("turnout_pct"))}</td></tr>'
            '</tbody></table>')


def _seat_cols(contest: dict) -> tuple[list[str], dict[str, list[str]]]:
    """Extra column headers and per-choice cells for seats."""
    if "seats_final" in contest or "seats_provisional" in contest:
        # a column of final seats only once a district is complete
        kinds = [(k, label) for k, label in (("seats_final", "Seats (final)"),
                                             ("seats_provisional", "Seats (provisional)")) if contest.get(k)]
        cells = {ch["id"]: [num(contest[k].get(ch["party"] or ch["id"], 0)) for k, _label in kinds]
                 for ch in contest["choices"]}
        return [label for _k, label in kinds], cells
    if contest.get("seats") is not None:
        st = contest.get("seats_status", "provisional")
        return [f"Seats ({st})"], {ch["id"]: [num(contest["seats"].get(ch["party"] or ch["id"], 0))]
                                   for ch in contest["choices"]}
    return [], {}


def contest_table(cid: str, c: dict) -> str:
    e = escape
    heads, cells = _seat_cols(c)
    valid = c["valid_votes"]
    rows = []
    for ch in sorted(c["choices"], key=lambda ch: -ch["votes"]):
        share = f"{100 * ch['votes'] / valid:.2f} %" if valid else "—"
        extra = "".join(f"<td>{x}</td>" for x in cells.get(ch["id"], []))
        rows.append(f'<tr data-choice="{e(ch["id"])}"><th>{e(ch["name"])}</th>'
                    f'<td class="votes">{num(ch["votes"])}</td><td>{share}</td>{extra}</tr>')
    head = "".join(f"<th>{e(h)}</th>" for h in heads)
    verdict = ""
    names = {ch["id"]: ch["name"] for ch in c["choices"]}
    if c.get("winner"):
        verdict = (f'<p class="verdict">Winner: <b>{e(names.get(c["winner"], c["winner"]))}</b> '
                   f'({100 * c["share"]:.2f} % of valid votes)</p>')
    elif c.get("runoff"):
        verdict = (f'<p class="verdict">Runoff between '
                   f'<b>{e(", ".join(names.get(x, x) for x in c["runoff"]))}</b></p>')
    if c.get("seats_status") == "provisional" or c.get("seats_provisional"):
        verdict += '<p class="provisional">Seats are <b>provisional</b> until every station of the district has reported.</p>'
    other = "".join(f'<tr><th>{label}</th><td data-figure="{key}">{num(c[key])}</td></tr>'
                    for key, label in (("ballots_counted", "Ballots counted"), ("undervotes", "Undervotes"),
                                       ("overvotes", "Overvotes"), ("blank", "Blank"),
                                       ("invalid", "Invalid")))
    return (f'<section class="contest" id="contest-{e(cid)}"><h2>{e(c["title"])}</h2>{verdict}'
            f'<table class="votes"><thead><tr><th>Choice</th><th>Votes</th><th>Share</th>{head}</tr></thead>'
            f'<tbody>{"".join(rows)}</tbody></table>'
            f'<table class="other"><tbody>{other}</tbody></table></section>')


def national_page(doc: dict, meta: dict) -> str:
    e = escape
    body = [f"<h1>{e(doc['name'])}</h1>", _nav("", doc, meta), _status(doc), _figures(doc)]
    body += [contest_table(cid, c) for cid, c in doc["contests"].items()]
    if doc["provinces"]:
        body.append("<h2>Provinces</h2><table class='list' id='provinces'><thead><tr><th>Province</th>"
                    "<th>Reporting</th><th>Status</th><th>Ballots cast</th><th>Turnout</th></tr></thead><tbody>"
                    + "".join(f"<tr><th><a href='provinces/{slug(province_file(p['name']))}.html'>{e(p['name'])}</a></th>"
                              f"<td>{num(p['stations_reporting'])}/{num(p['stations_total'])}</td>"
                              f"<td>{e(_(STATUS_LABELS[p['status']]))}</td><td>{num(p['ballots_cast'])}</td>"
                              f"<td>{pct(p['turnout_pct'])}</td></tr>" for p in doc["provinces"])
                    + "</tbody></table>")
    else:
        body.append(_district_list("", doc["districts"]))
    body.append('<p class="downloads">Downloads: <a href="index.json">JSON</a> · '
                '<a href="nist/results.json">NIST SP 1500-100</a> · <a href="version.json">version</a></p>')
    return _page(doc["name"], "", meta, "\n".join(body), "index.json")


def _district_list(root: str, districts: list[dict]) -> str:
    e = escape
    return ("<h2>Districts</h2><table class='list' id='districts'><thead><tr><th>District</th>"
            "<th>Reporting</th><th>Status</th><th>Ballots cast</th></tr></thead><tbody>" + "".join(
                f"<tr><th><a href='{root}districts/{slug(d['id'])}.html'>{e(d['name'])}</a></th>"
                f"<td>{num(d['stations_reporting'])}/{num(d['stations_total'])}</td>"
                f"<td>{e(_(STATUS_LABELS[d['status']]))}</td>"
                f"<td>{num(d['ballots_cast'])}</td></tr>" for d in districts) + "</tbody></table>")


def province_page(doc: dict, meta: dict) -> str:
    """A province: its figures and votes, and the list of its districts with links."""
    e = escape
    root = "../"
    body = [f"<h1>{e(doc['name'])}</h1>", _nav(root, doc, meta), _status(doc), _figures(doc)]
    body += [contest_table(cid, c) for cid, c in doc["contests"].items()]
    body.append(_district_list(root, doc["districts"]))
    twin = f"{slug(province_file(doc['id']))}.json"
    body.append(f'<p class="downloads">Downloads: <a href="{twin}">JSON</a></p>')
    return _page(doc["name"], root, meta, "\n".join(body), twin)


def district_page(doc: dict, meta: dict) -> str:
    e = escape
    root = "../"
    body = [f"<h1>{e(doc['name'])}</h1>", _nav(root, doc, meta), _status(doc), _figures(doc)]
    body += [contest_table(cid, c) for cid, c in doc["contests"].items()]
    body.append("<h2>Stations</h2><table class='list' id='stations'><thead><tr><th>Station</th>"
                "<th>Reported</th><th>Ballots cast</th></tr></thead><tbody>" + "".join(
                    f"<tr><th><a href='../stations/{slug(s['id'])}.html'>{e(s['name'])}</a></th>"
                    f"<td>{'yes' if s['reported'] else 'not yet'}</td><td>{num(s['ballots_cast'])}</td></tr>"
                    for s in doc["stations"]) + "</tbody></table>")
    body.append(f'<p class="downloads">Downloads: <a href="{slug(doc["id"])}.json">JSON</a></p>')
    return _page(doc["name"], root, meta, "\n".join(body), f"{slug(doc['id'])}.json")


def _script_json(obj: Any) -> str:
    return orjson.dumps(obj, option=orjson.OPT_SORT_KEYS).decode("utf-8").replace("<", "\\u003c")


def station_page(doc: dict, meta: dict) -> str:
    e = escape
    root, s = "../", slug(doc["id"])
    body = [f"<h1>{e(doc['name'])}</h1>", _nav(root, doc, meta),
            f'<p>District: <a href="../districts/{slug(doc["district"])}.html">{e(doc["district_name"])}</a></p>']
    if not doc["reported"]:
        body.append('<p class="status unofficial-partial" id="status">No result received yet.</p>')
    if doc.get("conflicts"):
        body.append(f'<p class="conflict" id="conflict-flag"><b>{len(doc["conflicts"])} conflicting '
                    f'result(s)</b> received for this station: kept aside, not counted '
                    f'(<a href="../conflicts.html">conflicts</a>).</p>')
    body.append('<table class="figures"><tbody>'
                f'<tr><th>Ballots cast</th><td id="ballots-cast">{num(doc["ballots_cast"])}</td></tr>'
                f'<tr><th>Voters registered</th><td>{num(doc["registered"])}</td></tr>'
                f'<tr><th>Turnout</th><td id="turnout">{pct(doc["turnout_pct"])}</td></tr></tbody></table>')
    body += [contest_table(cid, c) for cid, c in doc["contests"].items()]
    for i, u in enumerate(doc["units"]):
        body.append(
            f'<section class="unit" id="unit-{i}"><h2>Unit {e(u["unit_id"])}</h2>'
            f'<p>Unit public key <code>{e(u["unit_public_key"])}</code>, sequence {u["sequence"]}, '
            f'accepted {e(when(u["accepted_at"]))}.</p>'
            f'<p class="signature-check" data-unit="{i}">Signature: <output id="sig-{i}">'
            f'not checked (needs JavaScript)</output> <button type="button" data-verify="{i}">Check again</button></p>'
            f'<details><summary>The signed message</summary><pre id="signed-text-{i}">'
            f'{e(orjson.dumps(u["signed"], option=SIGNED_TEXT).decode("utf-8"))}</pre></details>'
            f'<script type="application/json" id="signed-{i}">{_script_json(u["signed"])}</script></section>')
    body.append(f'<p class="downloads">Downloads: <a href="{s}.json">JSON</a> · <a href="{s}.csv">CSV</a> · '
                f'<a href="../api/stations/{s}.json">signed message</a></p>')
    head = f'\n<script src="{root}verify.js" defer></script>'
    return _page(doc["name"], root, meta, "\n".join(body), f"{s}.json", head)


def station_csv(doc: dict) -> str:
    """The station's figures as CSV: contest, line (a choice or a figure), name, count."""
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(("contest", "line", "name", "count"))
    w.writerow(("*", "ballots_cast", "Ballots cast", doc["ballots_cast"]))
    for cid, c in doc["contests"].items():
        w.writerows((cid, ch["id"], ch["name"], ch["votes"]) for ch in c["choices"])
        w.writerows((cid, key, key.replace("_", " "), c[key]) for key in FIGURES)
    return buf.getvalue()


def list_page(title: str, kind: str, rows: list[dict], meta: dict, total: int,
              by_code: dict[str, int] | None = None) -> str:
    """``conflicts`` or ``refusals``: every listed upload with its reason (``by_code``: the
    counts of every refusal by decision)."""
    e = escape
    body = [f"<h1>{e(title)}</h1>", _nav("", {}, meta), f"<p id='{kind}-count'>{total} in all"
            + (f", the latest {len(rows)} listed" if len(rows) < total else "") + ".</p>"]
    if by_code:
        body.append("<table class='list' id='by-code'><thead><tr><th>Decision</th><th>Uploads</th>"
                    "</tr></thead><tbody>" + "".join(f"<tr><th>{e(code)}</th><td>{num(n)}</td></tr>"
                                                     for code, n in by_code.items()) + "</tbody></table>")
    cols = [c for c, _label in LIST_COLUMNS]
    body.append(f"<table class='list' id='{kind}'><thead><tr>" + "".join(f"<th>{e(_(label))}</th>"
                                                                        for _c, label in LIST_COLUMNS)
                + "</tr></thead><tbody>" + "".join(
                    "<tr>" + "".join(f"<td>{e(when(r.get(c)) if c == 'at' else str(r.get(c) if r.get(c) is not None else '—'))}</td>"
                                     for c in cols) + "</tr>" for r in rows) + "</tbody></table>")
    body.append(f'<p class="downloads">Downloads: <a href="{kind}.json">JSON</a></p>')
    return _page(title, "", meta, "\n".join(body), f"{kind}.json")
