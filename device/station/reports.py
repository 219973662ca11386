"""Printed reports: zero report, polls paused/resumed slips, and the results tape.

Each function returns a ``hardware.interfaces.Slip`` (title, lines, QR payloads); the printer
driver turns it into ESC/POS. The results tape shows the station's figures (votes per choice,
undervotes, overvotes, blank, invalid; no seat allocation, which belongs to the district) and
the reconciliation, then the signed results message (``device.results.signed_results``) as
chained QR codes (``device.results.tape_codes``) that anyone can scan and check with
``ballotbox audit tape`` — as Brazil's results bulletin does. Names are printed as given
(Unicode); a printer without the glyphs prints what it can.
"""
from __future__ import annotations

import datetime as dt
import textwrap

from device.election.definition import Election, Station
from device.results.tally import Results
from device.results.tape_codes import encode_tape
from hardware.interfaces import Slip

WIDTH = 42  # characters on an 80 mm thermal roll


def _when(at: float) -> str:
    return dt.datetime.fromtimestamp(at, dt.timezone.utc).strftime("%Y-%m-%d %H:%M:%S UTC")


def _header(election: Election, station: Station, at: float) -> list[str]:
    return [election.title, f"Station: {station.name} ({station.id})",
            f"Election hash: {election.hash_prefix}", f"Time: {_when(at)}", "-" * WIDTH]


def _row(label: str, value: object) -> str:
    value = str(value)
    room = WIDTH - len(value) - 1
    return f"{label[:room]:<{room}} {value}"


def _contest_lines(election: Election, results: Results) -> list[str]:
    lines: list[str] = []
    for cid, t in results.contests.items():
        contest = election.contests[cid]
        lines.append(f"{contest.title}")
        for choice in contest.choices:
            lines.append(_row(f"  {choice.name}", t.votes.get(choice.id, 0)))
        lines += [_row("  undervotes", t.undervotes), _row("  overvotes", t.overvotes),
                  _row("  blank", t.blank), _row("  invalid", t.invalid)]
        if contest.kind == "party-list":  # a station's votes: say where seats are decided
            note = (results.outcome(cid) or {}).get("note", "")
            lines += textwrap.wrap(note, WIDTH, initial_indent="  ", subsequent_indent="  ")
    return lines


def zero_report_slip(election: Election, station: Station, results: Results, at: float) -> Slip:
    lines = _header(election, station, at) + [_row("Ballots cast", results.ballots_cast)]
    lines += _contest_lines(election, results)
    lines.append("All totals are zero." if results.ballots_cast == 0 else "TOTALS ARE NOT ZERO.")
    return Slip("zero_report", "ZERO REPORT", tuple(lines))


def paused_slip(election: Election, station: Station, what: str, at: float, counters) -> Slip:
    lines = _header(election, station, at) + [_row("Voters checked in", len(counters.checked_in)),
                                              _row("Ballots cast", counters.cast)]
    return Slip(f"polls_{what}", f"POLLS {what.upper()}", tuple(lines))


def _signature_lines(signed: dict) -> list[str]:
    m = signed["message"]
    return ["-" * WIDTH, f"Unit: {m['unit_id']}", f"Unit key: {m['unit_public_key'][:32]}",
            f"          {m['unit_public_key'][32:]}", _row("Mode", m["mode"]),
            _row("Sequence", m["sequence"]),
            _row("Journal head", f"#{m['journal_head']['seq']} {m['journal_head']['hash'][:16]}"),
            "Check the codes below: ballotbox audit tape"]


def results_slip(election: Election, station: Station, results: Results, reconciliation: dict,
                 at: float, signed: dict | None = None) -> Slip:
    """The results tape; ``signed`` (the signed results message) adds the unit and its codes."""
    lines = _header(election, station, at) + [_row("Ballots cast", results.ballots_cast)]
    lines += _contest_lines(election, results)
    lines.append("-" * WIDTH)
    lines += [_row("Voters checked in", reconciliation["checked_in"]),
              _row("Ballots cast", reconciliation["cast"]),
              _row("  into invalid compartment", reconciliation["cast_invalid_compartment"]),
              _row("Sheets returned to voters", reconciliation["returned"]),
              _row("Authorised, not cast", reconciliation["authorised_unused"])]
    for reason, n in reconciliation["refused_by_reason"].items():
        lines.append(_row(f"Check-ins refused: {reason}", n))
    if reconciliation.get("polls_reopened"):
        lines.append(_row("POLLS REOPENED (times)", reconciliation["polls_reopened"]))
    if signed is None:
        lines.append("UNSIGNED: this unit has no key; nothing below to check.")
        return Slip("results", "RESULTS", tuple(lines))
    lines += _signature_lines(signed)
    return Slip("results", "RESULTS", tuple(lines), tuple(encode_tape(signed)))


def test_report_slip(election: Election, station: Station, results: Results, at: float) -> Slip:
    """The report of a test deck run in test mode: test ballots only, never official totals."""
    lines = ["*** TEST BALLOTS - NOT AN ELECTION RESULT ***"] + _header(election, station, at)
    lines += [_row("Test ballots counted", results.ballots_cast)] + _contest_lines(election, results)
    return Slip("test_report", "TEST REPORT", tuple(lines))
