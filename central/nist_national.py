"""The central tally's national results file in NIST SP 1500-100 v2 (``ElectionResults.ElectionReport``).

Built from the published documents (national and every district's, ``central.tally``), so it
can be written in a worker thread while results keep arriving, by the one builder of national
reports, ``device.results.nist_results.national_report`` (its docstring gives the shape: the
nation, provinces and districts as reporting units, a council per district as a contest of its
own, ``unofficial-partial`` until every station has reported). The national simulation builds
its report with the same function from its own aggregation; the two are equal for one run
(``tests/test_formats_nist.py``).
"""
from __future__ import annotations

from typing import Any

from device.election.definition import Election
from device.results.nist import iso_time
from device.results.nist_results import ReportedFigures, national_report


def national_results(election: Election, nat: dict[str, Any], districts: dict[str, dict[str, Any]],
                     generated_at: float, package_mode: str) -> dict[str, Any]:
    """From the published documents: the national one and every district's; ``package_mode``:
    the served package's (``live``, ``test``, ``simulation``)."""
    return national_report(election, ReportedFigures.of(nat),
                           {d: ReportedFigures.of(doc) for d, doc in districts.items()},
                           generated=iso_time(generated_at), issuer="ballotbox central tally",
                           abbreviation="central", package_mode=package_mode)
