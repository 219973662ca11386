"""The audit's CSV files: Arlo's batch-comparison inputs, the board's sample list, hand counts.

Arlo (VotingWorks) formats, as its parsers read them (``server/api/ballot_manifest.py``,
``server/api/batch_tallies.py``; examples in its ``fixtures/``):

- ballot manifest: ``Container,Batch Name,Number of Ballots`` (``Container`` is optional in
  Arlo; here the district), one row per batch;
- candidate totals by batch: ``Batch Name`` then one column per choice, headed by the choice's
  name as entered in Arlo (for a single-contest audit Arlo heads columns with the bare choice
  name), the reported votes in each row. Batch names must match the manifest's.

The audit board's files:

- ``sample-round-N.csv``: ``Round,Station,District,Number of Ballots,Ticket Numbers,Times Drawn,
  Already Audited``, one row per station drawn in the round (a station drawn twice is counted
  once and weighs twice);
- ``hand-counts/STATION.csv``: ``Choice,Votes``, one row per choice, written with the votes
  empty for the board to fill in; ``read_hand_count`` refuses anything but a whole number for
  every choice.
"""
from __future__ import annotations

import csv
import io
from pathlib import Path

from device.audit.rla.results import ReportedContest
from device.audit.rla.sampling import Draw

MANIFEST_HEADER = ("Container", "Batch Name", "Number of Ballots")
BATCH_NAME = "Batch Name"
SAMPLE_HEADER = ("Round", "Station", "District", "Number of Ballots", "Ticket Numbers", "Times Drawn",
                 "Already Audited")
HAND_COUNT_HEADER = ("Choice", "Votes")


class HandCountError(ValueError):
    pass


def _csv(rows: list[tuple]) -> str:
    buf = io.StringIO()
    writer = csv.writer(buf, lineterminator="\n")
    writer.writerows(rows)
    return buf.getvalue()


def arlo_manifest(reported: ReportedContest) -> str:
    return _csv([MANIFEST_HEADER] + [(b.district, b.id, b.ballots) for b in reported.batches.values()])


def arlo_batch_tallies(reported: ReportedContest) -> str:
    header = (BATCH_NAME, *(reported.names.get(c, c) for c in reported.choices))
    return _csv([header] + [(b.id, *(b.votes[c] for c in reported.choices)) for b in reported.batches.values()])


def write_arlo(reported: ReportedContest, out: Path, jurisdiction: str) -> dict[str, str]:
    """The two files Arlo asks of a jurisdiction in a batch comparison audit."""
    out.mkdir(parents=True, exist_ok=True)
    files = {"manifest": out / f"{jurisdiction} - ballot manifest.csv",
             "batch_tallies": out / f"{jurisdiction} - {reported.contest} - candidate totals by batch.csv"}
    files["manifest"].write_text(arlo_manifest(reported), encoding="utf-8")
    files["batch_tallies"].write_text(arlo_batch_tallies(reported), encoding="utf-8")
    return {k: str(v) for k, v in files.items()}


def sample_rows(round_no: int, draws: list[Draw], reported: ReportedContest, audited: set[str]) -> list[tuple]:
    by_station: dict[str, list[Draw]] = {}
    for d in draws:
        by_station.setdefault(d.batch, []).append(d)
    rows = []
    for sid in sorted(by_station, key=lambda s: min(d.ticket for d in by_station[s])):
        b = reported.batches[sid]
        tickets = ";".join(f"{d.ticket:.18f}" for d in by_station[sid])
        rows.append((round_no, sid, b.district, b.ballots, tickets, len(by_station[sid]),
                     "yes" if sid in audited else "no"))
    return rows


def write_sample(path: Path, rows: list[tuple]) -> None:
    path.write_text(_csv([SAMPLE_HEADER] + rows), encoding="utf-8")


def hand_count_template(reported: ReportedContest) -> str:
    return _csv([HAND_COUNT_HEADER] + [(c, "") for c in reported.choices])


def read_hand_count(path: Path, choices: list[str]) -> dict[str, int]:
    """One station's hand count; ``HandCountError`` (one line) when it is not complete and whole."""
    try:
        text = path.read_text(encoding="utf-8-sig")
    except FileNotFoundError:
        raise HandCountError(f"{path}: no hand count for this sampled station yet") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise HandCountError(f"{path}: cannot be read ({exc})") from None
    rows = list(csv.reader(io.StringIO(text)))
    if not rows or tuple(h.strip() for h in rows[0][:2]) != HAND_COUNT_HEADER:
        raise HandCountError(f"{path}: the first line must be {','.join(HAND_COUNT_HEADER)}")
    counted: dict[str, int] = {}
    for n, row in enumerate(rows[1:], 2):
        if not row or not "".join(row).strip():
            continue
        choice, votes = (row + [""])[0].strip(), (row + [""])[1].strip()
        if choice not in choices:
            raise HandCountError(f"{path} line {n}: unknown choice {choice!r}")
        if choice in counted:
            raise HandCountError(f"{path} line {n}: {choice!r} counted twice")
        if not votes.isdigit():
            raise HandCountError(f"{path} line {n}: the votes for {choice!r} must be a whole number "
                                 f"(got {votes!r})")
        counted[choice] = int(votes)
    missing = [c for c in choices if c not in counted]
    if missing:
        raise HandCountError(f"{path}: no count for {', '.join(missing)}")
    return counted


def write_hand_count(path: Path, counted: dict[str, int]) -> None:
    """A filled-in hand count (the drill writes what is in the simulated box)."""
    path.write_text(_csv([HAND_COUNT_HEADER] + [(c, v) for c, v in counted.items()]), encoding="utf-8")
