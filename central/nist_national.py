"""The national results file in NIST SP 1500-100 v2 (``ElectionResults.ElectionReport``).

Reporting units: the nation (``country``), its provinces when the election names them
(``state``), its districts (``other``/``district``, each with ``SubUnitsReported`` /
``TotalSubUnits`` stations and the voters registered and participating). Counts per selection
for the nation and every district (``Type`` ``total``); for a party-list contest, the seats of
every district whose stations have all reported (``Type`` ``seats``); over/undervotes per unit
in ``OtherCounts``; ballots cast per unit in ``BallotCounts``. ``Status`` is
``unofficial-partial`` until every station has reported, then ``unofficial-complete``.
Built from the published documents (national and every district's), so it can be written in a
worker thread while results keep arriving. The per-station file is the unit's own
(``device.results.nist.election_results``).
"""
from __future__ import annotations

from typing import Any

from device.results.nist import VERSION, _counts, _party_of, _text, iso_time, party_ids, selection_id
from device.election.definition import Election
from central.tally import COMPLETE

NATION = "ru-nation"


def _district_ru(d: str) -> str:
    return f"ru-district-{d}"


def _province_ru(p: str) -> str:
    return "ru-province-" + "".join(ch if ch.isalnum() else "-" for ch in p.lower())


def national_results(election: Election, nat: dict[str, Any], districts: dict[str, dict[str, Any]],
                     generated_at: float) -> dict[str, Any]:
    """From the published documents: the national one and every district's (``central.tally``)."""
    e = election
    province_of = {d: doc["province"] for d, doc in districts.items() if doc.get("province")}
    units = [(NATION, nat)] + [(_district_ru(d), districts[d]) for d in e.districts]
    gp = [{"@type": "ElectionResults.ReportingUnit", "@id": NATION, "Type": "country",
           "Name": _text(e.title), "SubUnitsReported": nat["stations_reporting"],
           "TotalSubUnits": nat["stations_total"],
           "ComposingGpUnitIds": sorted({_province_ru(p) for p in province_of.values()})
           or [_district_ru(d) for d in e.districts]}]
    for p in nat["provinces"]:
        gp.append({"@type": "ElectionResults.ReportingUnit", "@id": _province_ru(p["name"]), "Type": "state",
                   "Name": _text(p["name"]), "ComposingGpUnitIds": [
                       _district_ru(d) for d, pp in province_of.items() if pp == p["name"]]})
    for d in e.districts:
        doc = districts[d]
        ru = {"@type": "ElectionResults.ReportingUnit", "@id": _district_ru(d), "Type": "other",
              "OtherType": "district", "Name": _text(e.districts[d].name),
              "SubUnitsReported": doc["stations_reporting"], "TotalSubUnits": doc["stations_total"],
              "VotersParticipated": doc["ballots_cast"]}
        if doc["registered"] is not None:
            ru["VotersRegistered"] = doc["registered"]
        gp.append(ru)
    contests: list[dict[str, Any]] = []
    for c in e.contests.values():
        sels = []
        for ch in c.choices:
            counts = [vc for ru, doc in units if c.id in doc["contests"]
                      for vc in _counts(ru, doc["contests"][c.id]["votes"].get(ch.id, 0))]
            if c.kind == "party-list":
                for d in e.districts:
                    seats = districts[d]["contests"].get(c.id, {}).get("seats")
                    if districts[d]["status"] == COMPLETE and seats is not None:
                        counts.append({"@type": "ElectionResults.VoteCounts", "GpUnitId": _district_ru(d),
                                       "Type": "seats", "Count": seats.get(_party_of(ch), 0)})
                sels.append({"@type": "ElectionResults.PartySelection", "@id": selection_id(c.id, ch.id),
                             "PartyIds": [_party_of(ch)], "VoteCounts": counts})
            else:
                sels.append({"@type": "ElectionResults.CandidateSelection",
                             "@id": selection_id(c.id, ch.id), "CandidateIds": [f"cand-{c.id}--{ch.id}"],
                             "VoteCounts": counts})
        other = [{"@type": "ElectionResults.OtherCounts", "GpUnitId": ru,
                  "Overvotes": doc["contests"][c.id]["overvotes"],
                  "Undervotes": doc["contests"][c.id]["undervotes"]}
                 for ru, doc in units if c.id in doc["contests"]]
        base = {"@id": c.id, "Name": c.title, "ElectionDistrictId": NATION, "OtherCounts": other,
                "ContestSelection": sels}
        if c.kind == "party-list":
            contests.append({"@type": "ElectionResults.PartyContest", **base})
        else:
            contests.append({"@type": "ElectionResults.CandidateContest", **base,
                             "VotesAllowed": c.vote_for, "NumberElected": c.vote_for})
    candidates = [{"@type": "ElectionResults.Candidate", "@id": f"cand-{c.id}--{ch.id}",
                   "BallotName": _text(ch.name), **({"PartyId": ch.party} if ch.party else {})}
                  for c in e.contests.values() if c.kind != "party-list" for ch in c.choices]
    ballots = [{"@type": "ElectionResults.BallotCounts", "GpUnitId": ru, "Type": "total",
                "BallotsCast": doc["ballots_cast"]} for ru, doc in units]
    return {
        "@type": "ElectionResults.ElectionReport", "Format": "summary-contest",
        "GeneratedDate": iso_time(generated_at), "Issuer": "ballotbox central tally",
        "IssuerAbbreviation": "central", "SequenceStart": 1, "SequenceEnd": 1,
        "Status": nat["status"], "VendorApplicationId": f"ballotbox {VERSION}", "GpUnit": gp,
        "Party": [{"@type": "ElectionResults.Party", "@id": pid, "Name": _text(name)}
                  for pid, name in sorted(party_ids(e).items())],
        "Election": [{"@type": "ElectionResults.Election", "ElectionScopeId": NATION,
                      "Name": _text(e.title), "StartDate": e.date, "EndDate": e.date,
                      "Type": "general", "Contest": contests, "Candidate": candidates,
                      "BallotCounts": ballots}]}
