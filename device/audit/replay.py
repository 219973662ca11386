"""``audit replay``: the meaning of an exported unit's journal.

It runs the journal back through the station's state machine (``device/station/machine.py``),
reports any transition the machine would not allow, checks that no voter pseudonym was
authorised twice and that cast events equal cast vote records, recomputes the tally from the
records and compares it with the signed results.
"""
from __future__ import annotations

import json
from pathlib import Path

from device.audit.chain import parse_journal
from device.audit.findings import AuditReport, ExportReadError, Fault, load_json, read_export_file
from device.results import exports


class _ReplayModel:
    """What the journal's transitions drive during replay: the three region states."""

    polls = voter = ballot = ""


def _cross_region_fault(model: _ReplayModel, trigger: str) -> str | None:
    """Rules that span regions (the voter and ballot flows live inside polls_open)."""
    if trigger in ("start_checkin", "start_scanning") and model.polls != "polls_open":
        return f"{trigger} while polls are {model.polls}"
    if trigger in ("pause_polls", "close_polls") and (model.voter, model.ballot) != ("inactive", "inactive"):
        return f"{trigger} with the ID desk {model.voter} and the ballot box {model.ballot}"
    return None


def replay_export(directory: str | Path) -> AuditReport:
    from transitions import MachineError

    from device.ballots.records import CastVoteRecord
    from device.election.definition import ElectionError, parse_election
    from device.station.events import catalog
    from device.station.machine import build_machines, region_of_trigger
    from device.results.tally import TallyInvariantError, tally_station

    d = Path(directory)
    manifest = load_json(read_export_file(d, exports.MANIFEST))
    if manifest is None:
        raise ExportReadError(f"{d} holds no readable {exports.MANIFEST}: not a unit export")
    report = AuditReport("replay", str(d))
    faults = report.faults
    try:
        election = parse_election(load_json(read_export_file(d, exports.ELECTION)))
    except ElectionError as exc:
        raise ExportReadError(f"{d / exports.ELECTION}: {exc}") from None
    if election.hash != manifest.get("election", {}).get("hash"):
        faults.append(Fault("altered", exports.ELECTION, "its hash is not the signed election hash"))
    station = manifest.get("station")
    if station not in election.stations:
        raise ExportReadError(f"the manifest names station {station!r}, not in the election")

    records, _ = parse_journal(read_export_file(d, exports.JOURNAL) or b"")
    model = _ReplayModel()
    build_machines(model)
    regions, known = region_of_trigger(), catalog()["events"]
    checked_in: dict[str, int] = {}
    cast = dropped = 0
    for r in (x for x in records if x is not None):
        where, t = f"journal record seq {r['seq']}", r["type"]
        if t not in known:
            faults.append(Fault("disallowed transition", where, f"unknown event type {t!r}"))
            continue
        if t not in regions:
            continue
        problem = _cross_region_fault(model, t)
        if problem is None:
            state = getattr(model, regions[t])
            try:
                getattr(model, t)()
            except MachineError:
                problem = f"{t} is not allowed from {regions[t]} state {state!r}"
        if problem:
            faults.append(Fault("disallowed transition", where, problem))
        if t == "authorise":
            voter = r["data"].get("voter_id")
            if voter in checked_in:
                faults.append(Fault("double check-in", where,
                                    f"voter {voter} already authorised at seq {checked_in[voter]}"))
            checked_in.setdefault(voter, r["seq"])
        cast += t == "ballot_cast"
        dropped += t == "ballot_dropped" or r["data"].get("resolution") == "placed_in_box"

    cvrs = []
    for n, line in enumerate((read_export_file(d, exports.CVRS) or b"").decode("utf-8", "replace").splitlines(), 1):
        try:
            cvrs.append(CastVoteRecord.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError):
            faults.append(Fault("altered", f"cast vote record line {n}", "not a readable record"))
    if cast != len(cvrs):
        faults.append(Fault("count mismatch", exports.CVRS,
                            f"{cast} ballot_cast events but {len(cvrs)} cast vote records"))
    if dropped != cast and model.polls == "polls_closed":
        faults.append(Fault("count mismatch", "journal",
                            f"{cast} ballots cast but {dropped} confirmed in the box"))
    try:
        recomputed = tally_station(election, station, cvrs).to_json()
    except (TallyInvariantError, KeyError, ValueError) as exc:
        faults.append(Fault("tally mismatch", exports.CVRS, f"the records cannot be tallied: {exc}"))
        recomputed = None
    results_raw = read_export_file(d, exports.RESULTS)
    signed = load_json(results_raw)
    if results_raw is None or exports.sha256_hex(results_raw) != manifest.get("files", {}).get(exports.RESULTS):
        faults.append(Fault("altered", exports.RESULTS, "not the results the unit signed"))
    if recomputed is not None and signed is not None:
        faults.extend(_tally_differences(signed, recomputed))
    report.facts.update(final_state={"polls": model.polls, "voter": model.voter, "ballot": model.ballot},
                        ballots_cast_events=cast, cast_vote_records=len(cvrs), voters_checked_in=len(checked_in),
                        ballots_confirmed_in_box=dropped)
    return report


def _tally_differences(signed: dict, recomputed: dict) -> list[Fault]:
    out = []
    if signed.get("ballots_cast") != recomputed["ballots_cast"]:
        out.append(Fault("tally mismatch", "results ballots_cast",
                         f"signed {signed.get('ballots_cast')}, recomputed {recomputed['ballots_cast']}"))
    for cid, mine in recomputed["contests"].items():
        theirs = signed.get("contests", {}).get(cid, {})
        for choice, n in mine["votes"].items():
            if theirs.get("votes", {}).get(choice) != n:
                out.append(Fault("tally mismatch", f"contest {cid} choice {choice}",
                                 f"signed {theirs.get('votes', {}).get(choice)}, recomputed {n}"))
        for key in ("undervotes", "overvotes", "blank", "invalid", "ballots_counted"):
            if theirs.get(key) != mine[key]:
                out.append(Fault("tally mismatch", f"contest {cid} {key}",
                                 f"signed {theirs.get(key)}, recomputed {mine[key]}"))
    return out
