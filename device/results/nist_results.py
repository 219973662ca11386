"""Results in NIST SP 1500-100 v2 (``ElectionResults.ElectionReport``): the one builder of the
unit's report, the central tally's national report and the national simulation's.

Every report is made of the same parts, so that the three name the same things alike:
reporting units (``NATION``, ``province_unit``, ``district_unit``, ``station_unit``), the
selections and contests of the definition (``selection``, ``contest``, ``candidates``,
``parties``), counts (``vote_counts``, ``other_counts``, ``ballot_counts``) and the envelope
(``report``). A province's id is the definition's (``device.election.definition.province_id``).

``election_results`` is the unit's own report (``Format`` ``precinct-level``): the district
composed of the station, composed of the unit (a ``ReportingDevice``), the station's counts per
selection, its over/undervotes per contest and its ballots cast. The central tally's report is
``central.nist_national``, the simulation's ``sim.national.outputs``.
Tests validate each against the official schema in ``../shared/schemas/nist``.
"""
from __future__ import annotations

from typing import Any

from device.election.definition import Choice, Contest, Election, Province
from device.results.nist import (MANUFACTURER, MODEL, VERSION, candidate_id, device_id, iso_time, party_ids,
                                 party_of, selection_id)

NATION = "ru-nation"


def district_unit(district_id: str) -> str:
    return f"ru-district-{district_id}"


def station_unit(station_id: str) -> str:
    return f"ru-{station_id}"


def province_unit(province: Province) -> str:
    return f"ru-province-{province.id}"


def text(s: str) -> dict[str, Any]:
    return {"@type": "ElectionResults.InternationalizedText",
            "Text": [{"@type": "ElectionResults.LanguageString", "Content": s, "Language": "en"}]}


def vote_counts(unit: str, n: int, kind: str = "total") -> dict[str, Any]:
    """``n`` votes (``kind`` ``total``) or seats (``seats``) of a selection in ``unit``."""
    return {"@type": "ElectionResults.VoteCounts", "GpUnitId": unit, "Type": kind, "Count": n}


def other_counts(unit: str, tally: dict[str, Any]) -> dict[str, Any]:
    """A contest's over- and undervotes in ``unit`` (``tally``: ``ContestTally.to_json()``)."""
    return {"@type": "ElectionResults.OtherCounts", "GpUnitId": unit,
            "Overvotes": tally["overvotes"], "Undervotes": tally["undervotes"]}


def ballot_counts(unit: str, ballots_cast: int) -> dict[str, Any]:
    return {"@type": "ElectionResults.BallotCounts", "GpUnitId": unit, "Type": "total",
            "BallotsCast": ballots_cast}


def reporting_unit(unit: str, kind: str, name: str, **fields: Any) -> dict[str, Any]:
    """A ``ReportingUnit`` of ``Type`` ``kind`` with its other fields (``OtherType``,
    ``ComposingGpUnitIds``, ``SubUnitsReported``, ``VotersRegistered`` ...) as given."""
    return {"@type": "ElectionResults.ReportingUnit", "@id": unit, "Type": kind, "Name": text(name),
            **fields}


def selection(contest: Contest, choice: Choice, counts: list[dict[str, Any]],
              suffix: str = "") -> dict[str, Any]:
    """The ``PartySelection`` (party-list) or ``CandidateSelection`` of ``choice``."""
    sid = selection_id(contest.id, choice.id) + suffix
    if contest.kind == "party-list":
        return {"@type": "ElectionResults.PartySelection", "@id": sid, "PartyIds": [party_of(choice)],
                "VoteCounts": counts}
    return {"@type": "ElectionResults.CandidateSelection", "@id": sid,
            "CandidateIds": [candidate_id(contest.id, choice.id)], "VoteCounts": counts}


def contest(c: Contest, selections: list[dict[str, Any]], district: str, others: list[dict[str, Any]],
            *, contest_id: str | None = None, name: str | None = None) -> dict[str, Any]:
    """The ``PartyContest`` or ``CandidateContest`` of ``c`` in the unit ``district``."""
    out = {"@id": contest_id or c.id, "Name": name or c.title, "ElectionDistrictId": district,
           "OtherCounts": others, "ContestSelection": selections}
    if c.kind == "party-list":
        return {"@type": "ElectionResults.PartyContest", **out}
    return {"@type": "ElectionResults.CandidateContest", **out, "VotesAllowed": c.vote_for,
            "NumberElected": c.vote_for}


def candidates(contests: list[Contest]) -> list[dict[str, Any]]:
    """The candidates of the contests that are not party lists, with their party if any."""
    out = []
    for c in contests:
        if c.kind == "party-list":
            continue
        for ch in c.choices:
            cand = {"@type": "ElectionResults.Candidate", "@id": candidate_id(c.id, ch.id),
                    "BallotName": text(ch.name)}
            if ch.party:
                cand["PartyId"] = ch.party
            out.append(cand)
    return out


def parties(election: Election) -> list[dict[str, Any]]:
    return [{"@type": "ElectionResults.Party", "@id": pid, "Name": text(name)}
            for pid, name in sorted(party_ids(election).items())]


def report(election: Election, *, format: str, generated: str, issuer: str, abbreviation: str,
           status: str, units: list[dict[str, Any]], scope: str, contests: list[dict[str, Any]],
           candidates: list[dict[str, Any]], ballots: list[dict[str, Any]], **more: Any) -> dict[str, Any]:
    """The ``ElectionReport`` around the parts (``more``: e.g. ``IsTest``, ``TestType``)."""
    return {
        "@type": "ElectionResults.ElectionReport", "Format": format, "GeneratedDate": generated,
        "Issuer": issuer, "IssuerAbbreviation": abbreviation, "SequenceStart": 1, "SequenceEnd": 1,
        "Status": status, "VendorApplicationId": f"ballotbox {VERSION}", **more, "GpUnit": units,
        "Party": parties(election),
        "Election": [{"@type": "ElectionResults.Election", "ElectionScopeId": scope,
                      "Name": text(election.title), "StartDate": election.date, "EndDate": election.date,
                      "Type": "general", "Contest": contests, "Candidate": candidates,
                      "BallotCounts": ballots}]}


def election_results(election: Election, station_id: str, public_key_hex: str,
                     results: dict[str, Any], generated_at: float) -> dict[str, Any]:
    """The unit's report; ``results`` is ``device.results.tally.Results.to_json()`` for the station."""
    station = election.stations[station_id]
    ru_station, ru_district = station_unit(station_id), district_unit(station.district)
    dev = device_id(station_id, public_key_hex)
    at_station = election.contests_at_station(station_id)
    contests = []
    for c in at_station:
        t = results["contests"][c.id]
        contests.append(contest(c, [selection(c, ch, [vote_counts(ru_station, t["votes"][ch.id])])
                                    for ch in c.choices], ru_district, [other_counts(ru_station, t)]))
    units = [
        reporting_unit(ru_district, "other", election.districts[station.district].name,
                       OtherType="district", ComposingGpUnitIds=[ru_station]),
        reporting_unit(ru_station, "polling-place", station.name, ComposingGpUnitIds=[dev]),
        {"@type": "ElectionResults.ReportingDevice", "@id": dev, "SerialNumber": public_key_hex,
         "DeviceClass": {"@type": "ElectionResults.DeviceClass", "Type": "opscan-precinct",
                         "Manufacturer": MANUFACTURER, "Model": MODEL}}]
    return report(election, format="precinct-level", generated=iso_time(generated_at),
                  issuer=f"ballotbox unit at {station.name}", abbreviation=station_id,
                  status="unofficial-complete", units=units, scope=ru_district, contests=contests,
                  candidates=candidates(at_station), ballots=[ballot_counts(ru_station, results["ballots_cast"])])
