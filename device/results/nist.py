"""The unit's records in the NIST common data formats (JSON), and the Arlo ballot manifest.

- ``event_log`` — SP 1500-101 Election Event Logging (``EventLogging.ElectionEventLog``): one
  ``Event`` per journal record, ``Id`` = the catalog code, ``Sequence`` = seq, ``Hash`` = the
  record's chained SHA-256. ``event_log_documentation`` describes every event id from the
  catalog (``EventLogging.ElectionEventLogDocumentation``).
- ``cast_vote_records`` — SP 1500-103 (``CVR.CastVoteRecordReport``, version 1.0.0): one ``CVR``
  per cast vote record, in id order, with no time and no sequence number; ``BallotImage`` holds
  the SHA-256 of the ballot image where the unit kept one.
- SP 1500-100 v2 results are built in ``nist_results.py`` (one builder for the unit's, the
  central tally's and the national simulation's reports), from the ids named here.
- ``ballot_manifest_csv`` — the ballot manifest a risk-limiting audit tool (Arlo) reads: one
  row per batch (the box and the invalid-ballot compartment) with its number of ballots.

The journal's ``at`` is the unit's clock in POSIX seconds; NIST times are UTC ISO 8601.
Tests validate each document against the official schemas (``tests/schemas/nist/``).
"""
from __future__ import annotations

import csv
import io
import json
from datetime import datetime, timezone
from typing import Any, Iterable

from device.ballots.records import BLANK, INVALID, OVERVOTE, UNDERVOTE, CastVoteRecord
from device.election.definition import Choice, Contest, Election
from device.event_catalog import catalog, event_code, event_summary
from device.store.journal import JournalRecord

MANUFACTURER, MODEL, VERSION = "ballotbox", "ballotbox polling-station unit", "0.1.0"
FAILURE_EVENTS = {"refuse", "open_polls_refused", "ballot_rejected", "jam", "fault",
                  "journal_truncated"}
_CONTEST_STATUS = {OVERVOTE: ["overvoted"], UNDERVOTE: ["undervoted"],
                   BLANK: ["not-indicated", "undervoted"], INVALID: ["invalidated-rules"]}


def iso_time(at: float) -> str:
    """POSIX seconds -> ``YYYY-MM-DDTHH:MM:SSZ`` (the pattern NIST's schemas require)."""
    return datetime.fromtimestamp(float(at), timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def device_id(station_id: str, public_key_hex: str) -> str:
    return f"unit-{station_id}-{public_key_hex[:12]}"


def selection_id(contest_id: str, choice_id: str) -> str:
    return f"{contest_id}--{choice_id}"


def party_ids(election: Election) -> dict[str, str]:
    """Party id -> name, including list choices that name no party (the choice is the party)."""
    out = {p.id: p.name for p in election.parties.values()}
    for contest in election.contests.values():
        for ch in contest.choices:
            if ch.party:
                out.setdefault(ch.party, ch.party)
            elif contest.kind == "party-list":
                out.setdefault(ch.id, ch.name)
    return out


def party_of(choice: Choice) -> str:
    """The party a choice counts for: its party, or itself on a party list that names none."""
    return choice.party or choice.id


def candidate_id(contest_id: str, choice_id: str) -> str:
    return f"cand-{contest_id}--{choice_id}"


# --- SP 1500-101 ---------------------------------------------------------------------------

def event_log(election: Election, station_id: str, public_key_hex: str,
              records: Iterable[JournalRecord], generated_at: float) -> dict[str, Any]:
    events = []
    for r in records:
        events.append({
            "@type": "EventLogging.Event", "Id": str(event_code(r.type)), "Sequence": str(r.seq),
            "TimeStamp": iso_time(r.at), "Type": r.type, "Description": event_summary(r.type),
            "Disposition": "failure" if r.type in FAILURE_EVENTS else "success",
            "Details": json.dumps(r.data, sort_keys=True, ensure_ascii=False), "Hash": r.hash})
    device = {"@type": "EventLogging.Device", "Id": device_id(station_id, public_key_hex),
              "Type": "scan-single", "Manufacturer": MANUFACTURER, "Model": MODEL,
              "Version": VERSION, "HashType": "sha-256",
              "Details": f"polling station {station_id}; Ed25519 public key {public_key_hex}",
              "Event": events}
    return {"@type": "EventLogging.ElectionEventLog", "GeneratedTime": iso_time(generated_at),
            "ElectionId": election.id, "Details": f"election hash {election.hash}",
            "Device": [device]}


def event_log_documentation(generated_at: float) -> dict[str, Any]:
    events = catalog()["events"]
    return {"@type": "EventLogging.ElectionEventLogDocumentation",
            "DeviceManufacturer": MANUFACTURER, "DeviceModel": MODEL, "DeviceVersion": VERSION,
            "GeneratedDate": iso_time(generated_at)[:10],
            "EventIdDescription": [{"@type": "EventLogging.EventIdDescription",
                                    "Id": str(e["code"]), "Description": e["summary"]}
                                   for e in events.values()],
            "EventTypeDescription": [{"@type": "EventLogging.EventTypeDescription",
                                      "Type": name, "Description": e["summary"]}
                                     for name, e in events.items()]}


# --- SP 1500-103 ---------------------------------------------------------------------------

def _cvr_contest_defs(election: Election, station_id: str) -> tuple[list, list]:
    contests: list[dict[str, Any]] = []
    candidates: list[dict[str, Any]] = []
    for c in election.contests_at_station(station_id):
        if c.kind == "party-list":
            sels = [{"@type": "CVR.PartySelection", "@id": selection_id(c.id, ch.id),
                     "PartyIds": [party_of(ch)]} for ch in c.choices]
            contests.append({"@type": "CVR.PartyContest", "@id": c.id, "Name": c.title,
                             "ContestSelection": sels})
            continue
        sels = []
        for ch in c.choices:
            cand = {"@type": "CVR.Candidate", "@id": candidate_id(c.id, ch.id), "Name": ch.name}
            if ch.party:
                cand["PartyId"] = ch.party
            candidates.append(cand)
            sels.append({"@type": "CVR.CandidateSelection", "@id": selection_id(c.id, ch.id),
                         "CandidateIds": [cand["@id"]]})
        contests.append({"@type": "CVR.CandidateContest", "@id": c.id, "Name": c.title,
                         "VotesAllowed": c.vote_for, "NumberElected": c.vote_for,
                         "ContestSelection": sels})
    return contests, candidates


def _cvr_contest(contest: Contest, selections: tuple[str, ...], status: str) -> dict[str, Any]:
    allocable = "no" if status in (OVERVOTE, INVALID) else "yes"
    out: dict[str, Any] = {
        "@type": "CVR.CVRContest", "ContestId": contest.id, "Selections": len(selections),
        "Overvotes": contest.vote_for if status == OVERVOTE else 0,
        "Undervotes": 0 if status in (OVERVOTE, INVALID) else contest.vote_for - len(selections),
        "CVRContestSelection": [
            {"@type": "CVR.CVRContestSelection", "ContestSelectionId": selection_id(contest.id, s),
             "SelectionPosition": [{"@type": "CVR.SelectionPosition", "HasIndication": "yes",
                                    "NumberVotes": 1, "IsAllocable": allocable}]}
            for s in selections]}
    if status in _CONTEST_STATUS:
        out["Status"] = _CONTEST_STATUS[status]
    return out


def cast_vote_records(election: Election, station_id: str, public_key_hex: str,
                      cvrs: Iterable[CastVoteRecord], generated_at: float) -> dict[str, Any]:
    dev = device_id(station_id, public_key_hex)
    contests, candidates = _cvr_contest_defs(election, station_id)
    out_cvrs = []
    for cvr in sorted(cvrs, key=lambda c: c.id):
        snap = f"{cvr.id}-interpreted"
        entry: dict[str, Any] = {
            "@type": "CVR.CVR", "UniqueId": cvr.id, "BallotStyleId": cvr.ballot_style,
            "BallotStyleUnitId": station_id, "CreatingDeviceId": dev, "ElectionId": election.id,
            "CurrentSnapshotId": snap,
            "CVRSnapshot": [{"@type": "CVR.CVRSnapshot", "@id": snap, "Type": "interpreted",
                             "CVRContest": [_cvr_contest(election.contests[cid], sel, st)
                                            for cid, (sel, st) in sorted(cvr.contests.items())]}]}
        if cvr.image_sha256:
            entry["BallotImage"] = [{"@type": "CVR.ImageData",
                                     "Hash": {"@type": "CVR.Hash", "Type": "sha-256",
                                              "Value": cvr.image_sha256}}]
        out_cvrs.append(entry)
    station = election.stations[station_id]
    return {
        "@type": "CVR.CastVoteRecordReport", "Version": "1.0.0",
        "GeneratedDate": iso_time(generated_at), "ReportType": ["originating-device-export"],
        "ReportGeneratingDeviceIds": [dev],
        "ReportingDevice": [{"@type": "CVR.ReportingDevice", "@id": dev,
                             "Manufacturer": MANUFACTURER, "Model": MODEL,
                             "Application": f"ballotbox {VERSION}",
                             "Notes": [f"Ed25519 public key {public_key_hex}"]}],
        "GpUnit": [{"@type": "CVR.GpUnit", "@id": station_id, "Type": "polling-place",
                    "Name": station.name, "ReportingDeviceIds": [dev]}],
        "Party": [{"@type": "CVR.Party", "@id": pid, "Name": name}
                  for pid, name in sorted(party_ids(election).items())],
        "Election": [{"@type": "CVR.Election", "@id": election.id, "Name": election.title,
                      "ElectionScopeId": station_id, "Contest": contests,
                      "Candidate": candidates}],
        "CVR": out_cvrs}


# --- Arlo ballot manifest ------------------------------------------------------------------

def ballot_manifest_csv(station_id: str, unit_id: str, cvrs: Iterable[CastVoteRecord]) -> str:
    """Container, Tabulator, Batch Name, Number of Ballots: one batch per compartment, counted
    from the cast vote records (the journal does not say which compartment a ballot went to)."""
    counts = {"box": 0, "invalid-compartment": 0}
    for cvr in cvrs:
        counts["invalid-compartment" if cvr.invalid else "box"] += 1
    buf = io.StringIO()
    w = csv.writer(buf, lineterminator="\n")
    w.writerow(["Container", "Tabulator", "Batch Name", "Number of Ballots"])
    for batch, n in counts.items():
        w.writerow([station_id, unit_id, batch, n])
    return buf.getvalue()
