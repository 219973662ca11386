"""Printed reports: zero report, polls paused/resumed slips, and the results tape.

Each function returns a ``hardware.interfaces.Slip`` (title, lines, QR payloads); the printer
driver turns it into ESC/POS. The results tape ends with a QR code that anyone can scan and
check (as Brazil's results bulletin does): ``results_qr_payload`` is a compact text line
``BBXR1|<election hash prefix>|<station>|<contest>:<choice>=<votes>,...;...|u=..,o=..,b=..,i=..``
followed, when the unit has a key, by ``|sig=<Ed25519 signature hex>`` over everything before
it. Names are printed as given (Unicode); a printer without the glyphs prints what it can.
"""
from __future__ import annotations

import datetime as dt

from device.election.definition import Election, Station
from device.results.tally import Results
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
        outcome = results.outcome(cid) or {}
        if outcome.get("seats"):
            lines.append("  seats: " + ", ".join(f"{p} {n}" for p, n in outcome["seats"].items() if n))
        if outcome.get("winner"):
            lines.append(f"  winner (over 50%): {outcome['winner']}")
        elif outcome.get("runoff"):
            lines.append("  runoff: " + " vs ".join(outcome["runoff"]))
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


def results_qr_payload(election: Election, station: Station, results: Results) -> str:
    parts = []
    extras = []
    for cid, t in results.contests.items():
        parts.append(cid + ":" + ",".join(f"{c}={n}" for c, n in t.votes.items()))
        extras.append(f"{cid}:u={t.undervotes},o={t.overvotes},b={t.blank},i={t.invalid}")
    return "|".join(["BBXR1", election.hash_prefix, station.id, ";".join(parts), ";".join(extras)])


def results_slip(election: Election, station: Station, results: Results, reconciliation: dict,
                 at: float, signer=None) -> Slip:
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
    payload = results_qr_payload(election, station, results)
    if signer is not None:
        payload += "|sig=" + signer.sign(payload.encode("utf-8")).hex()
    return Slip("results", "RESULTS", tuple(lines), (payload,))
