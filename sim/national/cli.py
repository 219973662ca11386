"""``ballotbox sim national``: a whole national election through the real firmware, for QA.

Every station day runs through the real ``StationController`` (logical fidelity, journaled,
in-memory store) on a process pool (default), in this process (``--workers 1``) or on a Dask
cluster (``--scheduler tcp://HOST:8786`` or ``--dask-local N``); results are added up into
districts (seats once a district is complete), provinces and the nation and compared with the
simulated voters' intent at every level. A progress bar shows stations done, ballots/s and
time left; Ctrl-C stops cleanly and says how far the run got. ``--json`` prints the national
document without the per-district detail (same seed, same bytes, whatever the executor);
``--out DIR`` writes the full document, NIST SP 1500-100 results, per-station results and the
QA report. ``--central URL`` uploads each station's signed results to a central tally as the
station finishes (``sim/results/central_upload.py``). Every run is checked against
invariants computed apart from the aggregation (``invariants.py``); with ``--central`` the
central tally's published figures must equal the run's. An interrupted run (Ctrl-C, or a stop:
SIGTERM) says so at the top of its outputs. Exit status: 0 when everything matches intent and
nothing was lost (every upload delivered and the central tally's figures equal, with
``--central``), 1 when not (or when interrupted), 2 for bad input.
"""
from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from device.cli.main import UserError
from device.cli.output_folder import add_force_option, refuse_non_empty_out

DEFAULT_FAULTS = "none"


def register(subparsers) -> None:
    from device.election.names import election_help
    from sim.national.spec_source import NATIONAL_SPEC

    p = subparsers.add_parser(
        "national", help="simulate a whole national election through the real controller",
        description="Run every polling station of a generated national election through the real "
                    "station controller, aggregate as the election authority does, and check the "
                    "result against what the simulated voters meant. The same seed gives the same "
                    "JSON on any executor.",
        epilog="The whole of Cambodia 2022 (23,602 stations, 7.4 M ballots) takes about 4 minutes on 2 "
               "cores. Exit status: 0 when everything matches intent and no ballot was lost or "
               "double-counted (and, with --central, every upload was delivered; with --rla-drill, the drill "
               "met its risk limit); 1 when not, or "
               "when interrupted with Ctrl-C (what was done is reported); 2 for bad input.")
    p.add_argument("--election", required=True, help=election_help(kinds=[NATIONAL_SPEC]))
    p.add_argument("--seed", type=int, default=1, help="seed of the whole run (default 1)")
    sel = p.add_mutually_exclusive_group()
    sel.add_argument("--stations", type=int, help="run only the first N stations")
    sel.add_argument("--sample", type=float, help="run a seeded sample of this fraction of the districts")
    ex = p.add_mutually_exclusive_group()
    ex.add_argument("--workers", type=int, help="local worker processes (default: the CPUs; 1 = this process)")
    ex.add_argument("--scheduler", help="address of a running Dask scheduler, e.g. tcp://10.0.0.5:8786")
    ex.add_argument("--dask-local", type=int, metavar="N", help="start a local Dask cluster of N workers")
    p.add_argument("--faults", default=DEFAULT_FAULTS,
                   help="fault profile: none, typical, harsh, test (sim/national/fault_profiles.json); "
                        "miscount (and miscount-full, miscount-image at those fidelities) corrupt the unit itself at some stations (a vote "
                        "moved, a cast record dropped): the run must say DOES NOT MATCH and name them")
    p.add_argument("--biometric", action="store_true",
                   help="add the fingerprint step at every ID desk (the spec's 'fingerprint' object, else "
                        "the default): synthetic templates, the sensor's score distributions, commission "
                        "identifications; national.json gives its time per voter")
    p.add_argument("--out", help="write national.json, NIST results, per-station results and the QA report here")
    p.add_argument("--no-figures", action="store_true",
                   help="write the QA report without its matplotlib figures (a second or so less; every "
                        "figure's numbers are in national.json)")
    add_force_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object (no per-district detail)")
    p.add_argument("--central", metavar="URL",
                   help="upload every station's signed results to this central tally as it finishes "
                        "(units keyed by the seed: serve the package of 'ballotbox sim package' with the same seed)")
    p.add_argument("--rla-drill", type=int, default=0, metavar="N",
                   help="after the run, audit its results N times (risk-limiting audit drill, one public seed "
                        "each): as reported, and with a planted outcome-changing miscount; figures in "
                        "national.json (rla_drill) and report.html (default 0: no drill)")
    p.add_argument("--rla-scope", default="contest", help="what the drill audits: contest, seats or district:ID")
    p.add_argument("--rla-risk-limit", type=float, default=5.0, metavar="PERCENT",
                   help="the drill's risk limit in percent (default 5)")
    p.set_defaults(func=run_national_command)


def _fail(args: argparse.Namespace, exc: Exception) -> int:
    if args.json:
        print(json.dumps({"error": str(exc)}, ensure_ascii=False))
        return 2
    raise UserError(str(exc), translated=getattr(exc, "translated", False))


def run_national_command(args: argparse.Namespace) -> int:
    from sim.national.executors import make_executor, stop_means_interrupt
    from device.election.fields import ElectionError
    from sim.national.generator import NationalSpecError, national_spec_election
    from sim.national.runner import NationalRunError, select_stations
    from sim.national.station_run import fault_profiles
    from device.i18n import _

    try:
        national = national_spec_election(args.election)
        if args.faults not in fault_profiles():
            raise UserError(_("unknown fault profile {faults} (profiles: {profiles})").format(
                faults=repr(args.faults), profiles=", ".join(fault_profiles())), translated=True)
        if args.workers is not None and args.workers < 1:
            raise UserError(_("--workers must be at least 1"), translated=True)
        if args.dask_local is not None and args.dask_local < 1:
            raise UserError(_("--dask-local must be at least 1"), translated=True)
        if args.scheduler is not None and not args.scheduler.startswith(("tcp://", "tls://", "inproc://", "ucx://")):
            raise UserError(_("--scheduler must be an address like tcp://HOST:8786 (got {scheduler})").format(
                scheduler=repr(args.scheduler)), translated=True)
        total = len(select_stations(national, args.seed, args.stations, args.sample))
        if args.central is not None and not args.central.startswith(("http://", "https://")):
            raise UserError(_("--central must be an http:// or https:// URL (got {central})").format(
                central=repr(args.central)), translated=True)
        if args.rla_drill < 0 or not 0 < args.rla_risk_limit < 100 or not (
                args.rla_scope in ("contest", "seats") or args.rla_scope.startswith("district:")):
            raise UserError(_("--rla-drill must be at least 0, --rla-risk-limit between 0 and 100 "
                              "and --rla-scope contest, seats or district:ID"), translated=True)
        refuse_non_empty_out(args.out, args.force)
    except (ElectionError, NationalSpecError, NationalRunError, UserError) as exc:
        return _fail(args, exc)
    try:
        executor = make_executor(args.workers, args.scheduler, args.dask_local)
    except OSError as exc:
        return _fail(args, UserError(f"cannot reach the Dask scheduler {args.scheduler}: {exc}"))
    uploader = None
    if args.central:
        from sim.results.central_upload import CentralUploader
        uploader = CentralUploader(args.central)
    try:
        with stop_means_interrupt():
            run = _run_with_progress(national, args, executor, total, uploader)
    finally:
        if uploader is not None:
            uploader.close()
    doc = run.document
    central_differs: list[str] = []
    if uploader is not None and run.tally.done:
        central_differs = central_check(args.central, national, doc, run.tally.done)
        doc["checks"]["central"] = {"url": args.central, "violations": central_differs}
        doc["checks"]["invariants"]["violations"] += central_differs
        if central_differs:
            doc["matches_intent"] = False
            doc["run"]["verdict"] = doc["run"]["verdict"].replace("MATCHES INTENT", "DOES NOT MATCH INTENT")
    if args.out:
        from sim.national.outputs import write_outputs
        files = write_outputs(national, run, Path(args.out), figures=not args.no_figures)
    if args.rla_drill:
        from sim.national.audit_drill_section import add_drill
        add_drill(national, run, args.out, args.rla_drill, args.rla_risk_limit / 100, args.rla_scope,
                  figures=not args.no_figures)
    if args.json:
        summary = {k: v for k, v in doc.items() if k != "districts"}
        if uploader is not None:
            summary["central"] = uploader.summary()
        from sim.national.outputs import status_first
        print(json.dumps(status_first(summary), indent=1, ensure_ascii=False))
    else:
        _print_human(national, run, files if args.out else None)
        if args.rla_drill:
            from sim.national.audit_drill_section import drill_lines
            print("\n".join(drill_lines(doc)))
        if uploader is not None:
            up = uploader.summary()
            print(f"central tally {args.central}: {up['delivered']:,} of {len(run.stations):,} stations "
                  f"delivered; answers {up['answers']}" + (f"; NOT delivered: {up['undelivered'][:5]}"
                                                          if up["undelivered"] else ""))
    lost = uploader is not None and (uploader.undelivered or uploader.delivered < run.tally.done)
    drill_ok = not args.rla_drill or drill_meets_risk_limit(doc)
    return 0 if doc["matches_intent"] and not run.interrupted and not lost and not central_differs and drill_ok else 1


def drill_meets_risk_limit(doc: dict) -> bool:
    drill = doc.get("rla_drill", {})
    return "error" not in drill and all(drill[case].get("meets_risk_limit") for case in ("honest", "planted"))


def central_check(url: str, national, document: dict, stations: int, wait_s: float = 30.0) -> list[str]:
    """Read the central tally's public national document (``URL/index.json``) once it has as many
    stations as the run sent (its publisher runs after each commit; ``wait_s`` at most) and
    compare its figures with the run's (``invariants.compare_with_central``)."""
    import threading
    import time

    from urllib.parse import quote

    import httpx

    from sim.national.invariants import compare_with_central

    pause, deadline, problem = threading.Event(), time.monotonic() + wait_s, ""
    while True:
        try:
            index = httpx.get(f"{url.rstrip('/')}/index.json", headers={"cache-control": "no-cache"},
                              timeout=10).json()
        except (httpx.HTTPError, ValueError) as exc:
            index = None
            problem = f"central_equals_simulation: cannot read {url}/index.json: {exc}"
        if index is not None and (index.get("stations_reporting", 0) >= stations or time.monotonic() > deadline):
            names = {p: province.name for p, province in national.provinces.items()}
            try:  # the national page summarises provinces; each province's document lists its districts
                index["districts"] = [d for p in index.get("provinces", [])
                                      for d in httpx.get(f"{url.rstrip('/')}/provinces/{quote(p['name'])}.json",
                                                         timeout=10).json().get("districts", [])]
            except (httpx.HTTPError, ValueError) as exc:
                return [f"central_equals_simulation: cannot read a province of {url}: {exc}"]
            return compare_with_central(document, index, names)
        if time.monotonic() > deadline:
            return [problem]
        pause.wait(0.05)


def _run_with_progress(national, args, executor, total: int, on_station_done=None):
    from rich.console import Console
    from rich.progress import (BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn,
                               TimeRemainingColumn)

    from sim.national.runner import run_national

    console = Console(stderr=True)

    def started(stations: int) -> None:
        if not args.json:
            console.print(f"[bold]{national.election.title}[/]: {stations:,} of {len(national.registered):,} "
                          f"stations, seed {args.seed}, faults {args.faults}, {executor.name} "
                          f"({executor.workers} workers)", soft_wrap=True)
    with Progress(TextColumn("stations"), BarColumn(), MofNCompleteColumn(),
                  TextColumn("{task.fields[rate]}"), TimeElapsedColumn(), TextColumn("left"),
                  TimeRemainingColumn(), console=console, disable=args.json or not console.is_terminal) as bar:
        task = bar.add_task("stations", total=total, rate="")
        import time
        t0 = time.perf_counter()

        def progress(done: int, ballots: int) -> None:
            rate = ballots / max(1e-9, time.perf_counter() - t0)
            bar.update(task, completed=done, rate=f"{rate:,.0f} ballots/s")

        run = run_national(national, args.seed, executor, stations=args.stations, sample=args.sample,
                           faults=args.faults, biometric=args.biometric, on_progress=progress, on_station_done=on_station_done,
                           on_start=started)
    if run.interrupted:
        print(f"ballotbox: interrupted after {run.tally.done:,} of {total:,} stations "
              f"({run.tally.ballots:,} ballots) in {run.seconds:.1f} s; the results below cover those stations",
              file=sys.stderr)
    return run


def _print_mismatches(console, checks: dict) -> None:
    """Name the stations, districts and seats where the device's count differs from intent."""
    m = checks["mismatches"]
    for x in m["stations"][:20]:
        votes = "; ".join(f"{c} {v.get('votes', {})}" for c, v in x["contests"].items())
        console.print(f"[red]differs from intent[/] station {x['station']} (district {x['district']}, "
                      f"province {x['province']}): ballots {x['ballots']:+}, votes {votes or 'same'}"
                      + ("" if x["paper_matches_records"] else "; paper in the box differs from the records"))
    if len(m["stations"]) > 20:
        console.print(f"... and {len(m['stations']) - 20} more stations (national.json checks.mismatches)")
    if m["stations"] or m["districts"]:
        seats = [f"{x['district']} {v['seats']}" for x in m["districts"] for v in x["contests"].values()
                 if v.get("seats")]
        console.print(f"districts affected: {', '.join(x['district'] for x in m['districts']) or 'none'}; "
                      f"provinces: {', '.join(m['provinces']) or 'none'}; seats that change hands: "
                      f"{'; '.join(seats) or 'none'}")
    for v in checks["invariants"]["violations"][:20]:
        console.print(f"[red]invariant broken[/] {v}")


def _print_human(national, run, files) -> None:
    from rich.console import Console
    from rich.table import Table

    doc = run.document
    console = Console()
    n = doc["national"]
    contest = national.election.contests[national.contest_id]
    t = n["contests"][national.contest_id]
    console.rule(f"{national.election.title} — seed {doc['seed']}")
    good = doc["run"]["status"] == "complete" and doc["matches_intent"]
    console.print(f"[bold {'green' if good else 'red'}]{doc['run']['verdict']}[/]")
    console.print(f"stations {doc['selection']['stations']:,} of {doc['selection']['of_stations']:,}; "
                  f"districts complete {doc['selection']['districts_complete']:,} of "
                  f"{doc['selection']['of_districts']:,}; ballots {n['ballots_cast']:,}; "
                  f"{run.seconds:.1f} s on {run.executor} ({run.workers} workers, {run.batches} batches); "
                  f"{n['ballots_cast'] / max(run.seconds, 1e-9):,.0f} ballots/s")
    pub_all = doc["published"]
    table = Table(title=f"{contest.title}: simulated vs published"
                        + ("" if pub_all["comparable"] else " (partial run: NOT comparable, the published "
                                                            "figures are the whole country's)"),
                  title_justify="left")
    for col in ("choice", "votes", "published votes"):
        table.add_column(col, justify="left" if col == "choice" else "right")
    seats = doc["published"].get("seats")
    if seats:
        table.add_column("seats", justify="right")
        table.add_column("published seats", justify="right")
    for choice in sorted(contest.choices, key=lambda c: -t["votes"][c.id]):
        pub = doc["published"]["votes"][choice.id]
        row = [choice.name, f"{t['votes'][choice.id]:,}",
               f"{pub['published']:,}" + (" (estimate)" if pub["estimated"] else "")]
        if seats:
            s = seats.get(choice.id, {"simulated": 0, "published": 0})
            row += [f"{s['simulated']:,}", f"{s['published']:,}"]
        table.add_row(*row)
    console.print(table)
    if "estimates" in pub_all:
        console.print(f"(estimate): {pub_all['estimates']['note']}")
    if t.get("winner") or t.get("runoff"):
        console.print(f"winner over 50%: {t['winner']}" if t.get("winner") else f"runoff: {' and '.join(t['runoff'])}")
    c = doc["checks"]
    console.print(f"matches intent — stations {c['stations']['match']:,}/{c['stations']['run']:,}, "
                  f"districts {c['districts']['match']:,}/{c['districts']['run']:,}, provinces "
                  f"{c['provinces']['match']}/{c['provinces']['run']}, nation {c['national']}; "
                  f"ballots lost {c['ballots_lost']}, double-counted {c['ballots_double_counted']}")
    for err in c["stations"]["errors"][:5]:
        console.print(f"[red]station error[/] {err}")
    _print_mismatches(console, c)
    f = doc["fault_summary"]
    if f["stations_by_fault"]:
        console.print(f"faults: {f['stations_by_fault']}; reboots {f['reboots']}, jams {f['jams']}, "
                      f"double feeds {f['double_feeds']}; ended: {f['cleared']} {f['power_on_paper']}")
    if "fingerprint" in doc:
        fp = doc["fingerprint"]
        console.print(f"fingerprints: {fp['voters']:,} voters at the sensor, {fp['presses']:,} presses, "
                      f"{fp['seconds_per_voter']} s per voter; identified by the commission: "
                      f"{fp['identified_by_commission'] or 'none'}")
    if files:
        console.print("files: " + ", ".join(f"{k} {v}" for k, v in files.items()))
