"""``audit replay``: the meaning of an exported unit's journal.

It runs the journal back through the station's state machine (``device/station/machine.py``),
reports any transition the machine would not allow, checks that no voter pseudonym was
authorised twice and that cast events equal cast vote records, recomputes the tally from the
records and compares it with the signed results.

A voter authorised twice is found whatever the packages: the same pseudonym twice in one
journal is a ``double check-in`` across any reload, and because a pseudonym is only as good as
its key, the two ways a reload could hide one are findings of their own: ``package swap`` (a
package loaded or unloaded while the polls were open, or closed and not exported since) and
``pseudonym key changed`` (a package whose voter-pseudonym key differs from the one voters
already checked in under: their second check-in would carry another pseudonym).
"""
from __future__ import annotations

import json
from pathlib import Path

from device.store.chain import parse_journal
from device.audit.findings import AuditReport, ExportReadError, Fault, load_json, open_export, read_export_file
from device.results import exports

NIST_RESULTS = "nist/election_results.json"


class _ReplayModel:
    """What the journal's transitions drive during replay: the three region states."""

    polls = voter = ballot = ""


def replay_export(directory: str | Path) -> AuditReport:
    """Replay the journal of the export in ``directory``; see the module docstring."""
    from transitions import MachineError

    from device.ballots.records import CastVoteRecord
    from device.election.definition import ElectionError, parse_election
    from device.results import nist_results
    from device.results.tally import TallyInvariantError, tally_station
    from device.station.counters import Counters
    from device.station.events import catalog
    from device.station.machine import build_machines, cross_region_violation, region_of_trigger

    d = Path(directory)
    manifest = open_export(d)
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

    parsed, _ = parse_journal(read_export_file(d, exports.JOURNAL) or b"")
    records = [r for r in parsed if r is not None]
    model = _ReplayModel()
    build_machines(model)
    regions, known = region_of_trigger(), catalog()["events"]
    counters = Counters()
    first_check_in: dict[str, int] = {}
    packages = _PackageWatch()
    for r in records:
        where, t = f"journal record seq {r['seq']}", r["type"]
        if t not in known:
            faults.append(Fault("disallowed transition", where, f"unknown event type {t!r}"))
            continue
        faults.extend(packages.see(r, model.polls, bool(first_check_in)))
        if t not in regions:
            continue
        problem = cross_region_violation(model, t)
        if problem is None:
            state = getattr(model, regions[t])
            try:
                getattr(model, t)()
            except MachineError:
                problem = f"{t} is not allowed from {regions[t]} state {state!r}"
        if problem:
            faults.append(Fault("disallowed transition", where, problem))
        if t == "authorise":
            voter = r["data"].get("voter")
            if voter in first_check_in:
                faults.append(Fault("double check-in", where,
                                    f"voter pseudonym {voter} already authorised at seq {first_check_in[voter]}"))
            first_check_in.setdefault(voter, r["seq"])
        try:
            counters.apply(t, r["data"])
        except KeyError as exc:
            faults.append(Fault("altered", where, f"{t} record lacks {exc}"))
    faults.extend(_close_faults(records, model.polls))

    cvrs = []
    for n, line in enumerate((read_export_file(d, exports.CVRS) or b"").decode("utf-8", "replace").splitlines(), 1):
        try:
            cvrs.append(CastVoteRecord.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError):
            faults.append(Fault("altered", f"cast vote record line {n}", "not a readable record"))
    if counters.cast != len(cvrs):
        faults.append(Fault("count mismatch", exports.CVRS,
                            f"{counters.cast} ballot_cast events but {len(cvrs)} cast vote records"))
    if counters.dropped != counters.cast and model.polls == "polls_closed":
        faults.append(Fault("count mismatch", "journal",
                            f"{counters.cast} ballots cast but {counters.dropped} confirmed in the box"))
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
    if recomputed is not None:
        faults.extend(_signed_results_faults(d, manifest, records, recomputed))
    if recomputed is not None:
        nist_doc = exports.json_doc(nist_results.election_results(
            election, station, str(manifest.get("public_key")), recomputed, manifest.get("generated_at", 0)))
        if read_export_file(d, NIST_RESULTS) != nist_doc:
            faults.append(Fault("tally mismatch", NIST_RESULTS,
                                "differs from the results recomputed from the cast vote records"))
    report.facts.update(final_state={"polls": model.polls, "voter": model.voter, "ballot": model.ballot},
                        ballots_cast_events=counters.cast, cast_vote_records=len(cvrs),
                        voters_checked_in=len(first_check_in),
                        ballots_confirmed_in_box=counters.dropped,
                        scope="the journal's transitions, counts and tally; `audit verify` checks "
                              "every file's integrity and signatures")
    return report


class _PackageWatch:
    """Package loads and unloads in the journal, against the polls and the check-ins."""

    def __init__(self) -> None:
        self.closed_at = self.exported_at = 0
        self.key_id: str | None = None  # the pseudonym key voters checked in under

    def see(self, r: dict, polls: str, anyone_checked_in: bool) -> list[Fault]:
        t, where = r["type"], f"journal record seq {r['seq']}"
        if t == "close_polls":
            self.closed_at = r["seq"]
        elif t == "export_written":
            self.exported_at = r["seq"]
        if t not in ("package_loaded", "package_unloaded"):
            return []
        out = []
        what = "loaded" if t == "package_loaded" else "unloaded"
        if polls in ("polls_open", "polls_paused"):
            out.append(Fault("package swap", where, f"an election package was {what} while the "
                                                    f"polls were {polls.removeprefix('polls_')}"))
        elif polls == "polls_closed" and self.exported_at < self.closed_at:
            out.append(Fault("package swap", where, f"an election package was {what} after the "
                                                    f"close of seq {self.closed_at}, before any export"))
        key = r["data"].get("pseudonym_key_id") if t == "package_loaded" else None
        if key is not None:
            if self.key_id is not None and key != self.key_id and anyone_checked_in:
                out.append(Fault("pseudonym key changed", where,
                                 f"voter-pseudonym key {key}, voters checked in under {self.key_id}: "
                                 "a voter checking in again would not be seen"))
            self.key_id = self.key_id if anyone_checked_in and self.key_id else key
        return out


def _close_faults(records: list[dict], polls: str) -> list[Fault]:
    """A finished day ends in a signed close: close_polls, then a polls_close checkpoint."""
    close = next((i for i, r in enumerate(records) if r["type"] == "close_polls"), None)
    if polls != "polls_closed" or close is None:
        last = records[-1]["seq"] if records else 0
        return [Fault("unsigned close", f"journal after seq {last}",
                      f"the journal ends with the polls {polls or 'never loaded'}: no close of polls "
                      "to replay (a truncated journal, or a unit exported mid-day)")]
    if not any(r["type"] == "checkpoint" and r["data"].get("reason") == "polls_close"
               for r in records[close + 1:]):
        return [Fault("unsigned close", f"journal record seq {records[close]['seq']}",
                      "the close of polls is not followed by the unit's signed checkpoint")]
    return []


def _signed_results_faults(d: Path, manifest: dict, records: list[dict], recomputed: dict) -> list[Fault]:
    """The last signed results message (the one on the tape and at the central tally): signed
    by the unit, sealing a head that is in the journal, with the recomputed figures."""
    from device.results.signed_results import ResultsSignatureError, verify_signed_results

    raw = read_export_file(d, exports.SIGNED_RESULTS)
    if raw is None:
        return []
    name = exports.SIGNED_RESULTS
    messages = load_json(raw)
    if not isinstance(messages, list) or not messages:
        return [Fault("altered", name, "not a list of signed results messages")]
    try:
        message = verify_signed_results(messages[-1], str(manifest.get("public_key")))
    except ResultsSignatureError as exc:
        return [Fault("forged signature", name, str(exc))]
    head = message["journal_head"]
    if not any(r["seq"] == head["seq"] and r["hash"] == head["hash"] for r in records):
        return [Fault("altered", name, f"it seals journal record seq {head['seq']}, which is not "
                                       "in this journal")]
    as_results = {"ballots_cast": message["ballots_cast"], "contests": message["tally"]}
    return [Fault(f.kind, f"{name}: {f.where}", f.detail)
            for f in _tally_differences(as_results, recomputed)]


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
