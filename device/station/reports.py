"""Printed reports: zero report, polls paused/resumed slips, and the results tape.

Each function returns a ``hardware.interfaces.Slip`` (title, lines, QR payloads); the printer
driver prints it as a raster picture (``hardware/slip_raster.py``). The results tape shows the
station's figures (votes per choice, undervotes, overvotes, blank, invalid; no seat allocation,
which belongs to the district) and the reconciliation, then the signed results message
(``device.results.signed_results``) as chained QR codes (``device.results.tape_codes``) that
anyone can scan and check with ``ballotbox audit tape`` — as Brazil's results bulletin does.
The codes carry ids and figures only: the same whatever language the slip is printed in.

Language: a slip is printed in the unit's language when the election lists it among its
report languages, else in the election's first one (``Election.report_language``); headings
come from the gettext catalogs (``device.i18n``), names from the election's ``names``,
numbers and dates in the locale's conventions (Khmer digits when the election says so).
Rows are ``"label\tfigure"``: the slip raster right-aligns the figure in fixed-width digit
cells; the text view pads it to ``WIDTH`` columns.
"""
from __future__ import annotations

from typing import Any

from device.election.definition import Election, Station
from device.i18n import N_, Translator, language, translator
from device.results.tally import Results
from device.results.tape_codes import encode_tape
from device.station.counters import Counters
from hardware.interfaces import Slip

WIDTH = 42  # characters on an 80 mm thermal roll (the text view of a slip)
TITLES = {"zero_report": N_("ZERO REPORT"), "polls_paused": N_("POLLS PAUSED"),
          "polls_resumed": N_("POLLS RESUMED"), "polls_reopened": N_("POLLS REOPENED"),
          "results": N_("RESULTS"),
          "test_report": N_("TEST REPORT")}
REFUSAL_LABELS = {"not_on_roll": N_("not on the voter roll"),
                  "other_station": N_("registered at another station"),
                  "already_voted": N_("already voted"),
                  "invalid_document": N_("document not valid")}


def slip_translator(election: Election, lang: str | None = None) -> Translator:
    """Headings, names, numbers and dates of the election's report language for this unit."""
    return translator(election.report_language(lang or language()), election.digits)


def _header(tr: Translator, election: Election, station: Station, at: float) -> list[str]:
    _ = tr._
    return [election.title_in(tr.lang),
            _labelled(tr, _("Station"), f"{station.name_in(tr.lang)} ({station.id})"),
            _labelled(tr, _("Election hash"), election.hash_prefix),
            _labelled(tr, _("Time"), tr.datetime(at)), "-" * WIDTH]


def _labelled(tr: Translator, label: str, value: str) -> str:
    """``label: value`` with the language's colon (Khmer writes ៖)."""
    return tr._("{label}: {value}").format(label=label, value=value)


def _row(tr: Translator, label: str, value: int) -> str:
    return f"{label}\t{tr.number(value)}"


def _contest_lines(tr: Translator, election: Election, results: Results) -> list[str]:
    _ = tr._
    lines: list[str] = []
    for cid, t in results.contests.items():
        contest = election.contests[cid]
        names = {c.id: c.name_in(tr.lang) for c in contest.choices}
        lines.append(contest.title_in(tr.lang))
        for choice in contest.choices:
            lines.append(_row(tr, f"  {names[choice.id]}", t.votes.get(choice.id, 0)))
        lines += [_row(tr, "  " + _("undervotes"), t.undervotes),
                  _row(tr, "  " + _("overvotes"), t.overvotes),
                  _row(tr, "  " + _("blank"), t.blank), _row(tr, "  " + _("invalid"), t.invalid)]
        if contest.kind == "party-list" and results.district and (results.outcome(cid) or {}).get("note"):
            # a station's votes only: say where the seats are decided
            district = election.districts[results.district].name_in(tr.lang)
            lines.append("  " + _("seats are allocated for {district} from the votes of all its "
                                  "stations").format(district=district))
    return lines


def zero_report_slip(election: Election, station: Station, results: Results, at: float,
                     lang: str | None = None) -> Slip:
    tr = slip_translator(election, lang)
    lines = _header(tr, election, station, at) + [_row(tr, tr._("Ballots cast"), results.ballots_cast)]
    lines += _contest_lines(tr, election, results)
    lines.append(tr._("All totals are zero.") if results.ballots_cast == 0
                 else tr._("TOTALS ARE NOT ZERO."))
    return Slip("zero_report", tr._(TITLES["zero_report"]), tuple(lines))


def paused_slip(election: Election, station: Station, what: str, at: float, counters: Counters,
                lang: str | None = None) -> Slip:
    tr = slip_translator(election, lang)
    lines = _header(tr, election, station, at) + [
        _row(tr, tr._("Voters checked in"), len(counters.checked_in)),
        _row(tr, tr._("Ballots cast"), counters.cast)]
    kind = f"polls_{what}"
    return Slip(kind, tr._(TITLES[kind]), tuple(lines))


def _signature_lines(tr: Translator, signed: dict[str, Any]) -> list[str]:
    _ = tr._
    m = signed["message"]
    key = m["unit_public_key"]
    head = f"#{m['journal_head']['seq']} {m['journal_head']['hash'][:16]}"  # ids, as the codes say
    return ["-" * WIDTH, _labelled(tr, _("Unit"), m["unit_id"]),
            _labelled(tr, _("Unit key"), key[:32]), f"  {key[32:]}",
            _("Mode") + "\t" + m["mode"], _row(tr, _("Sequence"), m["sequence"]),
            _("Journal head") + "\t" + head, _("Check the codes below: ballotbox audit tape")]


def results_slip(election: Election, station: Station, results: Results, reconciliation: dict[str, Any],
                 at: float, signed: dict[str, Any] | None = None, lang: str | None = None) -> Slip:
    """The results tape; ``signed`` (the signed results message) adds the unit and its codes."""
    tr = slip_translator(election, lang)
    _ = tr._
    lines = _header(tr, election, station, at) + [_row(tr, _("Ballots cast"), results.ballots_cast)]
    lines += _contest_lines(tr, election, results)
    lines.append("-" * WIDTH)
    lines += [_row(tr, _("Voters checked in"), reconciliation["checked_in"]),
              _row(tr, _("Ballots cast"), reconciliation["cast"]),
              _row(tr, "  " + _("into invalid compartment"), reconciliation["cast_invalid_compartment"]),
              _row(tr, _("Sheets returned to voters"), reconciliation["returned"]),
              _row(tr, _("Authorised, not cast"), reconciliation["authorised_unused"])]
    for reason, n in reconciliation["refused_by_reason"].items():
        label = _(REFUSAL_LABELS[reason]) if reason in REFUSAL_LABELS else reason
        lines.append(_row(tr, _("Check-ins refused: {reason}").format(reason=label), n))
    if reconciliation.get("polls_reopened"):
        lines.append(_row(tr, _("POLLS REOPENED (times)"), reconciliation["polls_reopened"]))
    title = _(TITLES["results"])
    if signed is None:
        lines.append(_("UNSIGNED: this unit has no key; nothing below to check."))
        return Slip("results", title, tuple(lines))
    lines += _signature_lines(tr, signed)
    return Slip("results", title, tuple(lines), tuple(encode_tape(signed)))


def test_report_slip(election: Election, station: Station, results: Results, at: float,
                     lang: str | None = None) -> Slip:
    """The report of a test deck run in test mode: test ballots only, never official totals."""
    tr = slip_translator(election, lang)
    lines = [tr._("*** TEST BALLOTS - NOT AN ELECTION RESULT ***")] + _header(tr, election, station, at)
    lines += [_row(tr, tr._("Test ballots counted"), results.ballots_cast)]
    lines += _contest_lines(tr, election, results)
    return Slip("test_report", tr._(TITLES["test_report"]), tuple(lines))
