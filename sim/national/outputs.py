"""The files of a national run: national JSON, NIST SP 1500-100 results, per-station results.

``write_outputs(national, run, out)`` writes into ``out``:
- ``national.json`` — the national document (``aggregation.py``), its status first (``run``:
  complete or interrupted, and the verdict), then nation, provinces, districts
  with seats, checks against intent, published figures beside the simulated ones;
- ``nist/election_results.json`` — SP 1500-100 v2 ``ElectionReport`` (summary-contest): the
  nation, provinces and districts as reporting units, one contest per district council (or the
  one national contest), vote counts per district; validated against the official schema by
  the tests;
- ``stations.jsonl`` — one line per station (device tally, intent tally, faults), in station
  order, byte-identical for a seed;
- ``station_seconds.json`` — wall time per station (varies run to run; kept apart);
- ``report.html`` and ``figures/*.png`` — the QA report (``qa_report.py``).
"""
from __future__ import annotations

import json
from pathlib import Path

from device.results.exports import json_doc, json_line
from device.results.nist import VERSION, _counts, _text, party_ids, selection_id

DATE_TIME = "T07:00:00Z"


def national_nist(national, document: dict) -> dict:
    election = national.election
    contest = election.contests[national.contest_id]
    ru_nation = "ru-nation"
    gp = [{"@type": "ElectionResults.ReportingUnit", "@id": ru_nation, "Type": "country",
           "Name": _text(election.title), "ComposingGpUnitIds": [f"ru-province-{p}" for p in sorted(document["provinces"])]}]
    for p in sorted(document["provinces"]):
        ds = [d for d in national.provinces[p].districts if d in document["districts"]]
        gp.append({"@type": "ElectionResults.ReportingUnit", "@id": f"ru-province-{p}", "Type": "other",
                   "OtherType": national.spec["province_kind"], "Name": _text(national.provinces[p].name),
                   "ComposingGpUnitIds": [f"ru-district-{d}" for d in ds]})
    for d in sorted(document["districts"]):
        gp.append({"@type": "ElectionResults.ReportingUnit", "@id": f"ru-district-{d}", "Type": "other",
                   "OtherType": national.spec["district_kind"], "Name": _text(election.districts[d].name),
                   "VotersParticipated": document["districts"][d]["ballots_cast"]})
    contests = []
    if contest.kind == "party-list":  # every district elects its own council
        for d in sorted(document["districts"]):
            t = document["districts"][d]["contests"][contest.id]
            ru = f"ru-district-{d}"
            contests.append({
                "@type": "ElectionResults.PartyContest", "@id": f"{contest.id}--{d}",
                "Name": f"{contest.title} — {election.districts[d].name}", "ElectionDistrictId": ru,
                "OtherCounts": [{"@type": "ElectionResults.OtherCounts", "GpUnitId": ru,
                                 "Overvotes": t["overvotes"], "Undervotes": t["undervotes"]}],
                "ContestSelection": [{"@type": "ElectionResults.PartySelection",
                                      "@id": f"{selection_id(contest.id, ch.id)}--{d}",
                                      "PartyIds": [ch.party or ch.id],
                                      "VoteCounts": _counts(ru, t["votes"][ch.id])} for ch in contest.choices]})
        candidates = []
    else:
        candidates = [{"@type": "ElectionResults.Candidate", "@id": f"cand-{contest.id}--{ch.id}",
                       "BallotName": _text(ch.name)} for ch in contest.choices]
        sels = []
        for ch in contest.choices:
            counts = [c for d in sorted(document["districts"])
                      for c in _counts(f"ru-district-{d}", document["districts"][d]["contests"][contest.id]["votes"][ch.id])]
            sels.append({"@type": "ElectionResults.CandidateSelection", "@id": selection_id(contest.id, ch.id),
                         "CandidateIds": [f"cand-{contest.id}--{ch.id}"], "VoteCounts": counts})
        t = document["national"]["contests"][contest.id]
        contests.append({"@type": "ElectionResults.CandidateContest", "@id": contest.id, "Name": contest.title,
                         "ElectionDistrictId": ru_nation, "VotesAllowed": contest.vote_for,
                         "NumberElected": contest.vote_for, "ContestSelection": sels,
                         "OtherCounts": [{"@type": "ElectionResults.OtherCounts", "GpUnitId": ru_nation,
                                          "Overvotes": t["overvotes"], "Undervotes": t["undervotes"]}]})
    return {
        "@type": "ElectionResults.ElectionReport", "Format": "summary-contest",
        "GeneratedDate": election.date + DATE_TIME, "Issuer": "ballotbox national simulation (QA)",
        "IssuerAbbreviation": "ballotbox-sim", "SequenceStart": 1, "SequenceEnd": 1, "IsTest": True,
        "TestType": "pre-election", "Status": "unofficial-complete" if document["selection"]["whole_country"]
        else "unofficial-partial", "VendorApplicationId": f"ballotbox {VERSION}", "GpUnit": gp,
        "Party": [{"@type": "ElectionResults.Party", "@id": pid, "Name": _text(name)}
                  for pid, name in sorted(party_ids(election).items())],
        "Election": [{"@type": "ElectionResults.Election", "ElectionScopeId": ru_nation,
                      "Name": _text(election.title), "StartDate": election.date, "EndDate": election.date,
                      "Type": "general", "Contest": contests, "Candidate": candidates,
                      "BallotCounts": [{"@type": "ElectionResults.BallotCounts", "GpUnitId": f"ru-district-{d}",
                                        "Type": "total", "BallotsCast": document["districts"][d]["ballots_cast"]}
                                       for d in sorted(document["districts"])]}]}


def _sorted(value):
    if isinstance(value, dict):
        return {k: _sorted(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [_sorted(v) for v in value]
    return value


def status_first(document: dict) -> dict:
    """The document with its keys sorted at every level, except that the run's status (``run``:
    complete or interrupted, and the verdict) comes first, where a reader looks."""
    ordered = _sorted(document)
    return {"run": ordered.pop("run"), **ordered} if "run" in ordered else ordered


def national_json(document: dict) -> bytes:
    return (json.dumps(status_first(document), indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode()


def write_outputs(national, run, out: Path) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "nist").mkdir(exist_ok=True)
    files = {"national": "national.json", "nist": "nist/election_results.json",
             "stations": "stations.jsonl", "timings": "station_seconds.json", "report": "report.html"}
    (out / files["national"]).write_bytes(national_json(run.document))
    (out / files["nist"]).write_bytes(json_doc(national_nist(national, run.document)))
    with open(out / files["stations"], "w", encoding="utf-8") as fh:
        for sid in sorted(run.tally.stations):
            fh.write(json_line(run.tally.stations[sid]) + "\n")
    (out / files["timings"]).write_text(json.dumps(dict(sorted(run.tally.seconds.items()))), encoding="utf-8")
    from sim.national.qa_report import write_report
    write_report(national, run, out)
    return {k: str(out / v) for k, v in files.items()}
