"""The files of a national run: national JSON, NIST SP 1500-100 results, per-station results.

``write_outputs(national, run, out)`` writes into ``out``:
- ``national.json`` — the national document (``aggregation.py``), its status first (``run``:
  complete or interrupted, and the verdict), then nation, provinces, districts
  with seats, checks against intent, published figures beside the simulated ones;
- ``nist/election_results.json`` — SP 1500-100 v2 ``ElectionReport`` (summary-contest): the
  nation, provinces and districts as reporting units, one contest per district council (or the
  one national contest), built by ``device.results.nist_results.national_report``, the
  central tally's builder: equal to the central tally's report of the same stations but for
  its issuer and date; validated against the official schema by the tests;
- ``stations.jsonl`` — one line per station (device tally, intent tally, faults), in station
  order, byte-identical for a seed;
- ``station_seconds.json`` — wall time per station (varies run to run; kept apart);
- ``report.html`` and ``figures/*.png`` — the QA report (``qa_report.py``).
"""
from __future__ import annotations

import json
from pathlib import Path

from device.results import nist_results as nr
from device.results.exports import json_doc, json_line

DATE_TIME = "T07:00:00Z"


def national_nist(national, run) -> dict:
    """The run's SP 1500-100 report, by the central tally's builder
    (``device.results.nist_results.national_report``) from the run's own aggregation: every
    province and district of the election, with the stations of each that ran; a council per
    district is a contest of its own. Equal to the central tally's report of the same stations
    but for its issuer and date (``tests/test_formats_nist.py``)."""
    election, document = national.election, run.document
    ran: dict[str, int] = {d: 0 for d in election.districts}
    for r in run.tally.stations.values():
        if "error" not in r:
            ran[r["district"]] += 1
    registered = election.registered()

    def figures(doc: dict | None, reported: int, stations: list[str]) -> nr.ReportedFigures:
        doc = doc or {"ballots_cast": 0, "contests": {}}
        return nr.ReportedFigures(reported, len(stations), doc["ballots_cast"],
                                  sum(registered.get(s, 0) for s in stations) if registered else None,
                                  doc["contests"])

    districts = {d: figures(document["districts"].get(d), ran[d], list(national.stations_of[d]))
                 for d in election.districts}
    nation = figures(document["national"], sum(ran.values()), list(election.stations))
    return nr.national_report(election, nation, districts, generated=election.date + DATE_TIME,
                              issuer="ballotbox national simulation (QA)", abbreviation="ballotbox-sim",
                              package_mode="simulation")


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


def write_outputs(national, run, out: Path, *, figures: bool = True) -> dict[str, str]:
    out.mkdir(parents=True, exist_ok=True)
    (out / "nist").mkdir(exist_ok=True)
    files = {"national": "national.json", "nist": "nist/election_results.json",
             "stations": "stations.jsonl", "timings": "station_seconds.json", "report": "report.html"}
    (out / files["national"]).write_bytes(national_json(run.document))
    (out / files["nist"]).write_bytes(json_doc(national_nist(national, run)))
    with open(out / files["stations"], "w", encoding="utf-8") as fh:
        for sid in sorted(run.tally.stations):
            fh.write(json_line(run.tally.stations[sid]) + "\n")
    (out / files["timings"]).write_text(json.dumps(dict(sorted(run.tally.seconds.items()))), encoding="utf-8")
    from sim.national.qa_report import write_report
    write_report(national, run, out, figures=figures)
    return {k: str(out / v) for k, v in files.items()}
