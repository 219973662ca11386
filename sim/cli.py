"""``ballotbox sim station``: one simulated polling-station day, for QA and for the demo.

Human output (a terminal): the zero report, a progress bar while voters are processed, the
refusals and returns the operator saw, results with seat allocation, the reconciliation and
where the station's files went. ``--json`` prints one JSON object instead (same seed, same
object). Exit status: 0 when the device's tally matches the ground truth and the paper in the
box matches the records, 1 when not, 2 for bad input.
"""
from __future__ import annotations

import argparse
import dataclasses
import json
import sys
from collections import Counter
from pathlib import Path

from device.cli.main import UserError
from device.cli.output_folder import add_force_option, refuse_non_empty_out
from device.i18n import _
from device.election.definition import load_election
from device.election.names import election_help
from sim.day.station import FIDELITIES, run_station_day, write_station_files
from sim.twins.profile import ProfileError, load_profile
from sim.day.voters import ScenarioError, load_scenario


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "station", help="simulate one polling-station day through the real controller",
        description="Simulate one polling-station day: synthetic voters from a scenario check in, "
                    "mark and feed ballots; the real controller counts them. The same seed gives "
                    "the same day.")
    p.add_argument("--election", default="demo",
                   help=election_help("demo"))
    p.add_argument("--station", help="station id (default: the election's first station)")
    p.add_argument("--voters", type=int, default=200, help="registered voters at the station (default 200)")
    p.add_argument("--seed", type=int, default=1, help="seed of the whole day (default 1)")
    p.add_argument("--fidelity", choices=FIDELITIES, default="logical",
                   help="logical: marks as data; image: rendered ballots through the interpreter; "
                        "full: real drivers over ptys to the peripheral twins")
    p.add_argument("--scenario", help="scenario file or bundled name (default: the election's own, "
                                      "else uniform shares)")
    p.add_argument("--profile", help="peripheral behaviour profile, a bundled name (clean, noisy) or "
                                     "a JSON file: used at --fidelity full, checked at every fidelity")
    p.add_argument("--allow-unauthorised-ballots", action="store_true",
                   help="station setting: accept a ballot with no outstanding check-in "
                        "(default: such a sheet is returned — anti-ballot-stuffing)")
    p.add_argument("--biometric", action=argparse.BooleanOptionalAction, default=None,
                   help="the fingerprint step at the ID desk after the document (default: when the "
                        "scenario has one, as kyrgyzstan-2017's does): synthetic enrolled templates, "
                        "the sensor (its twin on a pty at --fidelity full), commission identifications")
    p.add_argument("--store", help="keep the unit's SQLite database at this path")
    p.add_argument("--out", help="write the station's files (roll, slips, journal, records) here")
    add_force_option(p)
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_station_command)


def _open_store(path: str | None, seed: int, station_id: str):
    """The unit's SQLite database and its key: the seed's simulated key for the station, the one
    ``ballotbox sim package`` registers (``sim.results.results_feed.unit_signer``), so the unit's tape
    and results verify against that package and its central tally accepts them.

    The simulator only ever plays on a store it created itself (``sim.unit.access.mark_simulation_store``
    marks it, with the simulated staff's PIN hashes): a unit's store (``device provision``) or
    any other file is refused untouched (``sim.unit.access.check_simulation_store``)."""
    if not path:
        return None, None
    from device.store.signing import provision
    from sim.unit.access import SimulationStoreError, check_simulation_store, mark_simulation_store
    from sim.results.results_feed import unit_key_rng
    from pathlib import Path

    from device.store.sqlite import SqliteStore, StoreOpenError
    created = not Path(path).exists()
    try:
        if not created:
            check_simulation_store(path)
        Path(path).parent.mkdir(parents=True, exist_ok=True)  # as --out creates its folder
        store = SqliteStore(path, durability="simulation")
    except SimulationStoreError as exc:
        raise UserError(str(exc)) from None
    except OSError as exc:
        raise UserError(f"cannot create the folder for {path}: {exc.strerror or exc}") from None
    except StoreOpenError as exc:
        raise UserError(str(exc)) from None
    try:
        if created:
            mark_simulation_store(store)
        _refuse_used_store(store, path)
    except UserError:
        store.close()
        raise
    return store, provision(store, unit_key_rng(seed, station_id))


def _refuse_used_store(store, path: str) -> None:
    """A simulated day starts on an empty unit: say what a used database holds and what to do."""
    records = list(store.events())
    loaded = next((r.data for r in records if r.type == "load_election"), None)
    if loaded is None:
        return
    closed = any(r.type == "close_polls" for r in records)
    held = _("{path} already holds a closed day") if closed else _("{path} already holds an unfinished day")
    raise UserError(
        _("{held} (election {election}, station {station}, {ballots} ballots cast); a simulated day "
          "starts on an empty unit: give a new --store path, or export this one with "
          "'ballotbox device export --store {path} --out DIR'").format(
            held=held.format(path=path), election=loaded.get("election_id"), station=loaded.get("station"),
            ballots=len(store.cast_vote_records()), path=path), translated=True)


def _printed_dir(args: argparse.Namespace) -> Path | None:
    """Where the printer twin puts what it printed (text + PNG), at full fidelity with --out."""
    return Path(args.out) / "printed" if args.out and args.fidelity == "full" else None


def run_station_command(args: argparse.Namespace) -> int:
    election = load_election(args.election)
    try:
        scenario = load_scenario(args.scenario, election, args.election)
    except ScenarioError as exc:
        raise UserError(str(exc)) from None
    if args.voters < 1:
        raise UserError(_("--voters must be at least 1"), translated=True)
    if args.station and args.station not in election.stations:
        raise UserError(_("unknown station {station} (stations: {stations})").format(
            station=repr(args.station), stations=", ".join(election.stations)), translated=True)
    try:
        args.profile = load_profile(args.profile) if args.profile else None
    except ProfileError as exc:
        raise UserError(str(exc)) from None
    refuse_non_empty_out(args.out, args.force)
    store, signer = _open_store(args.store, args.seed, args.station or next(iter(election.stations)))
    interactive = not args.json and sys.stdout.isatty()
    if args.json:
        day = run_station_day(election, args.station, registered=args.voters, seed=args.seed,
                              scenario=scenario, fidelity=args.fidelity, store=store, signer=signer,
                              profile=args.profile, printed_dir=_printed_dir(args),
                              enforce_authorisation=not args.allow_unauthorised_ballots,
                              biometric=args.biometric)
    else:
        day = _run_with_progress(election, args, scenario, store, signer, interactive)
    report = day.report()
    if args.out:
        report["files"] = {k: str(Path(args.out) / v) for k, v in write_station_files(day, report, Path(args.out)).items()}
        if _printed_dir(args):  # what the printer twin printed: each slip as text and PNG
            report["files"]["printed"] = f"{_printed_dir(args)}/"
    if args.store:
        report["store"] = args.store
    if store is not None:
        store.close()
    if args.json:
        print(json.dumps(report, indent=1, ensure_ascii=False, sort_keys=True))
    else:
        _print_human(day, report)
    return 0 if report["matches_ground_truth"] and report["paper_matches_records"] else 1


def _run_with_progress(election, args, scenario, store, signer, interactive):
    from rich.console import Console
    from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeElapsedColumn

    console = Console()
    station = args.station or next(iter(election.stations))
    console.print(f"[bold]{election.title}[/] — station [bold]{station}[/] "
                  f"({election.stations[station].name}), {args.voters} registered voters, "
                  f"seed {args.seed}, {args.fidelity} fidelity")
    with Progress(TextColumn("voters"), BarColumn(), MofNCompleteColumn(), TimeElapsedColumn(),
                  console=console, disable=not interactive) as bar:
        task = bar.add_task("voters", total=None)
        day = run_station_day(election, args.station, registered=args.voters, seed=args.seed,
                              scenario=scenario, fidelity=args.fidelity, store=store, signer=signer,
                              profile=args.profile, printed_dir=_printed_dir(args),
                              enforce_authorisation=not args.allow_unauthorised_ballots,
                              biometric=args.biometric, progress=lambda i, n: bar.update(task, completed=i, total=n))
    return day


def _slip_text(slip) -> str:
    """A slip as a person reads it: its lines; a QR code as a short note, not its payload."""
    qr = (f"\n[{len(slip.qr_codes)} QR code(s): the signed results, for 'ballotbox audit tape']"
          if slip.qr_codes else "")
    if not slip.lines:
        return "(printed as a picture: the printer twin wrote it as PNG with --out)"
    return dataclasses.replace(slip, qr_codes=()).as_text().rstrip("\n") + qr


def _print_human(day, report) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console()
    slips = day.peripherals.world.readable_slips()  # as text, also where printed as a picture
    zero = next((s for s in slips if s.kind == "zero_report"), None)
    if zero:
        console.rule("Zero report (printed before the polls opened)")
        console.print(_slip_text(zero), markup=False, highlight=False)
    console.rule("What the operator saw")
    seen = Counter(n["event"] for n in day.notices)
    example = {n["event"]: n.get("message", "") for n in reversed(day.notices)}
    for event, n in sorted(seen.items()):
        console.print(f"  {n:4d} x [yellow]{event}[/]: {example[event]}")
    if not seen:
        console.print("  nothing: every visitor checked in and every ballot was cast first time")
    console.rule("Results")
    election = day.election
    for cid, res in report["results"].items():
        contest = election.contests[cid]
        table = Table(title=f"{contest.title} ({contest.kind})", title_justify="left")
        table.add_column("choice")
        table.add_column("votes", justify="right")
        if "seats" in res and res["seats"]:
            table.add_column("seats", justify="right")
        for choice in contest.choices:
            row = [choice.name, str(res["votes"][choice.id])]
            if "seats" in res and res["seats"]:
                row.append(str(res["seats"][choice.id]))
            table.add_row(*row)
        console.print(table)
        names = {c.id: c.name for c in contest.choices}
        extra = (f"  vote positions left empty (undervotes) {res['undervotes']}, vote positions on "
                 f"overvoted contests (overvotes) {res['overvotes']}; ballots blank in this contest "
                 f"{res['blank']}, invalid ballots {res['invalid']}")
        if res.get("winner"):
            extra += f" — winner with over half the votes: {names.get(res['winner'], res['winner'])}"
        elif res.get("runoff"):
            extra += f" — runoff between {' and '.join(names.get(c, c) for c in res['runoff'])}"
        console.print(extra)
        if "seats" in res and res.get("note"):
            console.print(f"  {res['note']}")
    tape = next((s for s in reversed(slips) if s.kind == "results"), None)
    if tape:
        console.rule("Results tape (printed at the close)")
        console.print(_slip_text(tape), markup=False, highlight=False)
    rec = report["reconciliation"]
    console.rule("Reconciliation")
    console.print(f"  checked in {rec['checked_in']}, ballots cast {rec['cast']} "
                  f"({rec['cast_invalid_compartment']} into the invalid compartment), "
                  f"sheets returned {rec['returned']}, authorised but not cast {rec['authorised_unused']}")
    console.print(f"  refused at the ID desk: {rec['refused_by_reason'] or 'none'}")
    console.print(f"  sheets rejected: {rec['rejected_by_reason'] or 'none'}")
    if "fingerprint" in report:
        fp = report["fingerprint"]
        console.print(f"  fingerprints: {fp['voters']} voters at the sensor ({fp['enrolled']} enrolled), "
                      f"{fp['presses']} presses, {fp['seconds_per_voter']} s per voter; identified by "
                      f"the commission: {fp['identified_by_commission'] or 'none'}")
    console.print(f"  paper in the box = records: {report['paper_matches_records']}; "
                  f"tally matches what voters meant: {report['matches_ground_truth']}")
    if report.get("files") or report.get("store"):
        console.rule("Files")
        for name, path in report.get("files", {}).items():
            console.print(f"  {name}: {path}")
        if report.get("store"):
            console.print(f"  unit database: {report['store']}")
