"""The files of a national run: national JSON, NIST SP 1500-100 results, per-station results.

``write_outputs(national, run, out)`` writes into ``out``:
- ``national.json`` — the national document (``aggregation.py``), its status first (``run``:
  complete or interrupted, and the verdict), then nation, provinces, districts
  with seats, checks against intent, published figures beside the simulated ones;
- ``nist/election_results.json`` — SP 1500-100 v2 ``ElectionReport`` (summary-contest): the
  nation, provinces and districts as reporting units, one contest per district council (or the
  one national contest), vote counts per district; built from the parts of
  ``device.results.nist_results`` (the unit's and the central tally's builder too, so the
  three name every unit, party, candidate and selection alike); validated against the
  official schema by the tests;
- ``stations.jsonl`` — one line per station (device tally, intent tally, faults), in station
  order, byte-identical for a seed;
- ``station_seconds.json`` — wall time per station (varies run to run; kept apart);
- ``report.html`` and ``figures/*.png`` — the QA report (``qa_report.py``).
"""
from __future__ import annotations

import json
from pathlib import Path

from device.election.definition import province_id
from device.results import nist_results as nr
from device.results.exports import json_doc, json_line

DATE_TIME = "T07:00:00Z"


def national_nist(national, document: dict) -> dict:
    """The run's SP 1500-100 report, of the parts of ``device.results.nist_results``: the nation,
    the provinces and districts that ran (of the kinds the spec names), and per district its
    votes. A party-list contest is one contest per district (each district elects its own
    council); a candidate contest has the nation's over/undervotes."""
    election = national.election
    contest = election.contests[national.contest_id]
    ran = sorted(document["districts"])
    provinces = [election.provinces[province_id(national.provinces[p].name)]  # in the spec's order
                 for p in sorted(document["provinces"])]
    du = nr.district_unit
    gp = [nr.reporting_unit(nr.NATION, "country", election.title,
                            ComposingGpUnitIds=[nr.province_unit(p) for p in provinces])]
    gp += [nr.reporting_unit(nr.province_unit(p), "other", p.name, OtherType=national.spec["province_kind"],
                             ComposingGpUnitIds=[du(d) for d in p.districts if d in document["districts"]])
           for p in provinces]
    gp += [nr.reporting_unit(du(d), "other", election.districts[d].name, OtherType=national.spec["district_kind"],
                             VotersParticipated=document["districts"][d]["ballots_cast"]) for d in ran]
    tally = {d: document["districts"][d]["contests"][contest.id] for d in ran}
    if contest.kind == "party-list":  # every district elects its own council
        contests = []
        for d in ran:
            sels = [nr.selection(contest, ch, [nr.vote_counts(du(d), tally[d]["votes"][ch.id])], f"--{d}")
                    for ch in contest.choices]
            contests.append(nr.contest(contest, sels, du(d), [nr.other_counts(du(d), tally[d])],
                                       contest_id=f"{contest.id}--{d}",
                                       name=f"{contest.title} — {election.districts[d].name}"))
    else:
        sels = [nr.selection(contest, ch, [nr.vote_counts(du(d), tally[d]["votes"][ch.id]) for d in ran])
                for ch in contest.choices]
        contests = [nr.contest(contest, sels, nr.NATION,
                               [nr.other_counts(nr.NATION, document["national"]["contests"][contest.id])])]
    return nr.report(election, format="summary-contest", generated=election.date + DATE_TIME,
                     issuer="ballotbox national simulation (QA)", abbreviation="ballotbox-sim",
                     status="unofficial-complete" if document["selection"]["whole_country"] else "unofficial-partial",
                     units=gp, scope=nr.NATION, contests=contests, candidates=nr.candidates([contest]),
                     ballots=[nr.ballot_counts(du(d), document["districts"][d]["ballots_cast"]) for d in ran],
                     IsTest=True, TestType="pre-election")


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
