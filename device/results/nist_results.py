"""Results in NIST SP 1500-100 v2 (``ElectionResults.ElectionReport``): the one builder of the
unit's report, the central tally's national report and the national simulation's.

Every report is made of the same parts, so that the three name the same things alike:
reporting units (``NATION``, ``province_unit``, ``district_unit``, ``station_unit``), the
selections and contests of the definition (``selection``, ``contest``, ``candidates``,
``parties``), counts (``vote_counts``, ``other_counts``, ``ballot_counts``) and the envelope
(``report``). A province's id is the definition's (``device.election.definition.province_id``).

``election_results`` is the unit's own report (``Format`` ``precinct-level``): the district
composed of the station, composed of the unit (a ``ReportingDevice``), the station's counts per
selection, its over/undervotes per contest and its ballots cast.

``national_report`` is the national report (``summary-contest``) of the central tally
(``central.nist_national``, from its published documents) and of the national simulation
(``sim.national.outputs``, from its own aggregation): fed the same station results they are
equal but for who issued them and when. Its shape, chosen by the schema and the elections:

- reporting units: the nation (``country``), its provinces (``other``/``province``: NIST's
  ``state`` is a federal state, which a Cambodian province or a Kyrgyz region is not; the
  schema's way for a kind it does not list is ``other`` with ``OtherType``), every district
  (``other``/``district``, as the unit's report names it) with its stations reported / in all
  (``SubUnitsReported`` / ``TotalSubUnits``) and its voters registered and participating;
- a party-list contest whose seats are allocated per district is **one contest per district**
  (``council--D``, ``ElectionDistrictId`` the district): every Cambodian commune elects its own
  council of N seats from its own votes, so each council is a contest of its own, decided in
  its district. ``PartyContest`` has no ``NumberElected``: the N seats are the selections'
  ``seats`` counts (NIST's ``CountItemType``), given once every station of the district is in;
- any other contest is one contest of the whole election (``ElectionDistrictId`` the nation),
  with its counts for the nation and for every district where it is on the ballot;
- ``Status`` ``unofficial-partial`` until every station has reported; ``IsTest`` and
  ``TestType`` (the package's mode) unless the package is live.
Tests validate each report against the official schema (``tests/schemas/nist/``).
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from device.election.definition import Choice, Contest, Election, Province
from device.results.nist import (MANUFACTURER, MODEL, VERSION, candidate_id, device_id, iso_time, party_ids,
                                 party_of, selection_id)

NATION = "ru-nation"
COMPLETE, PARTIAL = "unofficial-complete", "unofficial-partial"


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


@dataclass(frozen=True)
class ReportedFigures:
    """What the national report needs of one unit (the nation or a district): its stations that
    reported, of how many, its ballots cast, its registered voters (None: not known) and its
    contests as ``Results.to_json()`` writes them (with ``seats`` where allocated)."""

    stations_reporting: int
    stations_total: int
    ballots_cast: int
    registered: int | None
    contests: dict[str, dict[str, Any]]

    @classmethod
    def of(cls, doc: dict[str, Any]) -> ReportedFigures:
        """From a document of the central tally's (national or district) or of the same keys."""
        return cls(doc["stations_reporting"], doc["stations_total"], doc["ballots_cast"], doc.get("registered"),
                   doc["contests"])

    @property
    def complete(self) -> bool:
        return self.stations_reporting == self.stations_total


def district_seats(c: Contest) -> bool:
    """Whether ``c`` elects its seats district by district (a council per district)."""
    return c.kind == "party-list" and bool(c.seats)


def _tally(fig: ReportedFigures, c: Contest) -> dict[str, Any]:
    zero = {"votes": {}, "overvotes": 0, "undervotes": 0}
    return fig.contests.get(c.id) or zero


def _national_units(e: Election, nation: ReportedFigures, districts: dict[str, ReportedFigures]) -> list[dict[str, Any]]:
    du = district_unit
    units = [reporting_unit(NATION, "country", e.title, SubUnitsReported=nation.stations_reporting,
                            TotalSubUnits=nation.stations_total,
                            ComposingGpUnitIds=sorted(province_unit(p) for p in e.provinces.values())
                            or [du(d) for d in e.districts])]
    units += [reporting_unit(province_unit(p), "other", p.name, OtherType="province",
                             ComposingGpUnitIds=[du(d) for d in p.districts]) for p in e.provinces.values()]
    for d in e.districts:
        fig = districts[d]
        registered = {} if fig.registered is None else {"VotersRegistered": fig.registered}
        units.append(reporting_unit(du(d), "other", e.districts[d].name, OtherType="district",
                                    SubUnitsReported=fig.stations_reporting, TotalSubUnits=fig.stations_total,
                                    VotersParticipated=fig.ballots_cast, **registered))
    return units


def _national_contests(e: Election, nation: ReportedFigures,
                       districts: dict[str, ReportedFigures]) -> list[dict[str, Any]]:
    held: dict[str, set[str]] = {d: set() for d in e.districts}  # district -> the contests on its ballots
    for district, style in {(st.district, st.ballot_style) for st in e.stations.values()}:
        held[district].update(c.id for c in e.contests_for_style(style))
    out = []
    for c in e.contests.values():
        where = [d for d in e.districts if c.id in held[d]]
        if district_seats(c):  # one council per district: a contest of its own (see the docstring)
            for d in where:
                fig, ru = districts[d], district_unit(d)
                t = _tally(fig, c)
                seats = t.get("seats") if fig.complete else None
                sels = [selection(c, ch, [vote_counts(ru, t["votes"].get(ch.id, 0))]
                                  + ([] if seats is None else [vote_counts(ru, seats.get(party_of(ch), 0), "seats")]),
                                  f"--{d}") for ch in c.choices]
                out.append(contest(c, sels, ru, [other_counts(ru, t)], contest_id=f"{c.id}--{d}",
                                   name=f"{c.title} — {e.districts[d].name}"))
            continue
        units = [(NATION, nation)] + [(district_unit(d), districts[d]) for d in where]
        sels = [selection(c, ch, [vote_counts(ru, _tally(fig, c)["votes"].get(ch.id, 0)) for ru, fig in units])
                for ch in c.choices]
        out.append(contest(c, sels, NATION, [other_counts(ru, _tally(fig, c)) for ru, fig in units]))
    return out


def national_report(election: Election, nation: ReportedFigures, districts: dict[str, ReportedFigures], *,
                    generated: str, issuer: str, abbreviation: str, package_mode: str) -> dict[str, Any]:
    """The national report (shape in the module's docstring); ``districts`` holds every district
    of the election, ``package_mode`` is the election package's (``live``, ``test``,
    ``simulation``)."""
    e = election
    test = {} if package_mode == "live" else {"IsTest": True, "TestType": package_mode}
    ballots = [ballot_counts(NATION, nation.ballots_cast)]
    ballots += [ballot_counts(district_unit(d), districts[d].ballots_cast) for d in e.districts]
    return report(e, format="summary-contest", generated=generated, issuer=issuer, abbreviation=abbreviation,
                  status=COMPLETE if nation.complete else PARTIAL, units=_national_units(e, nation, districts),
                  scope=NATION, contests=_national_contests(e, nation, districts),
                  candidates=candidates(list(e.contests.values())), ballots=ballots, **test)
