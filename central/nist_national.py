"""The national results file in NIST SP 1500-100 v2 (``ElectionResults.ElectionReport``).

Reporting units: the nation (``country``), its provinces when the election names them
(``state``), its districts (``other``/``district``, each with ``SubUnitsReported`` /
``TotalSubUnits`` stations and the voters registered and participating). Counts per selection
for the nation and every district (``Type`` ``total``); for a party-list contest, the seats of
every district whose stations have all reported (``Type`` ``seats``); over/undervotes per unit
in ``OtherCounts``; ballots cast per unit in ``BallotCounts``. ``Status`` is
``unofficial-partial`` until every station has reported, then ``unofficial-complete``.
Built from the published documents (national and every district's), so it can be written in a
worker thread while results keep arriving. Every part comes from ``device.results.nist_results``,
the builder of the unit's own per-station file too.
"""
from __future__ import annotations

from typing import Any

from device.election.definition import Election
from device.results import nist_results as nr
from device.results.nist import iso_time, party_of
from central.tally import COMPLETE


def _units(e: Election, nat: dict[str, Any], districts: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    du = nr.district_unit
    gp = [nr.reporting_unit(nr.NATION, "country", e.title, SubUnitsReported=nat["stations_reporting"],
                            TotalSubUnits=nat["stations_total"],
                            ComposingGpUnitIds=sorted(nr.province_unit(p) for p in e.provinces.values())
                            or [du(d) for d in e.districts])]
    gp += [nr.reporting_unit(nr.province_unit(p), "state", p.name, ComposingGpUnitIds=[du(d) for d in p.districts])
           for p in e.provinces.values()]
    for d in e.districts:
        doc = districts[d]
        ru = nr.reporting_unit(du(d), "other", e.districts[d].name, OtherType="district",
                               SubUnitsReported=doc["stations_reporting"], TotalSubUnits=doc["stations_total"],
                               VotersParticipated=doc["ballots_cast"])
        if doc["registered"] is not None:
            ru["VotersRegistered"] = doc["registered"]
        gp.append(ru)
    return gp


def national_results(election: Election, nat: dict[str, Any], districts: dict[str, dict[str, Any]],
                     generated_at: float) -> dict[str, Any]:
    """From the published documents: the national one and every district's (``central.tally``)."""
    e = election
    units = [(nr.NATION, nat)] + [(nr.district_unit(d), districts[d]) for d in e.districts]
    contests: list[dict[str, Any]] = []
    for c in e.contests.values():
        sels = []
        for ch in c.choices:
            counts = [nr.vote_counts(ru, doc["contests"][c.id]["votes"].get(ch.id, 0))
                      for ru, doc in units if c.id in doc["contests"]]
            if c.kind == "party-list":
                for d in e.districts:
                    seats = districts[d]["contests"].get(c.id, {}).get("seats")
                    if districts[d]["status"] == COMPLETE and seats is not None:
                        counts.append(nr.vote_counts(nr.district_unit(d), seats.get(party_of(ch), 0), "seats"))
            sels.append(nr.selection(c, ch, counts))
        others = [nr.other_counts(ru, doc["contests"][c.id]) for ru, doc in units if c.id in doc["contests"]]
        contests.append(nr.contest(c, sels, nr.NATION, others))
    return nr.report(e, format="summary-contest", generated=iso_time(generated_at),
                     issuer="ballotbox central tally", abbreviation="central", status=nat["status"],
                     units=_units(e, nat, districts), scope=nr.NATION, contests=contests,
                     candidates=nr.candidates(list(e.contests.values())),
                     ballots=[nr.ballot_counts(ru, doc["ballots_cast"]) for ru, doc in units])
