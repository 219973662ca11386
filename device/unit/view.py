"""What the operator sees of the unit at one moment: ``UnitView``, and the situation it is in.

The unit thread builds a ``UnitView`` (an immutable snapshot) after everything that can change
what a poll worker sees, and hands it to the console; the console never reads the controller.
``situation_of`` is the one place that maps the controller's state (polls, voter and ballot
regions) plus the unit's own conditions (lost peripherals, cover, printer, box) to the
situation a screen is made for. The first matching rule of ``SITUATION_RULES`` wins.

What the unit says is not translated here: messages keep their catalog code and fields
(``words_of``), other texts are ``Words`` (device/i18n.py), so that the console says them in the
language it shows, which a poll worker may switch at any time.
"""
from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from device.i18n import N_, Words
from device.station.events import OperatorMessage, catalog, event_summary

# The polls' state in the operator's words (the status line shows it on every screen).
POLLS_WORDS = {
    "setup": N_("NO ELECTION"), "election_loaded": N_("NOT OPEN"), "polls_open": N_("OPEN"),
    "polls_paused": N_("PAUSED"), "polls_closed": N_("CLOSED"), "testing": N_("NOT OPEN (TEST MODE)"),
}
# Journal data fields shown next to an event, in the operator's words: who acted (a role) and
# the sheets of a swapped box. None names a voter or a ballot's content; the journal's own
# codes (reasons, kinds) stay in the export, for auditors.
SHOWN_FIELDS = ("role", "sheets")


@dataclass(frozen=True)
class JournalLine:
    seq: int
    at: str
    type: str
    summary: str  # the event catalog's English summary (a msgid: the console translates it)
    fields: tuple[tuple[str, str | int], ...] = ()  # of SHOWN_FIELDS: a role (str), a box's sheets (int)


@dataclass(frozen=True)
class UploadStatus:
    """Where the unit's signed results stand with the central tally (``device/unit/uploads.py``)."""

    state: str  # sent | waiting | refused
    next_at: float | None = None  # waiting: when the next try is due (the unit's clock)
    detail: str = ""  # the last answer (waiting) or the central tally's reason (refused)
    attempts: int = 0


@dataclass(frozen=True)
class UnitView:
    seq: int = 0
    configured: bool = False  # an election package is loaded
    station: str = ""
    station_name: str = ""
    election_title: str = ""
    election_hash: str = ""
    polls: str = ""
    voter: str = ""
    ballot: str = ""
    test_mode: bool = False
    test_ballots: int = 0  # counted in the test tally (test mode)
    checked_in: int = 0
    cast: int = 0
    invalid_compartment: int = 0
    returned: int = 0
    authorised_unused: int = 0
    box_sheets: int = 0
    box_capacity: int = 0
    box_swaps: int = 0
    message: OperatorMessage | None = None  # the ballot box's latest word to the operator
    desk_message: OperatorMessage | None = None  # the ID desk's latest check-in result
    review_reason: str | None = None
    identity_wait: str = ""  # a voter waits at the desk: "finger" (a press) or "commission"
    by_commission: int = 0  # voters the commission identified by the document alone
    busy: str | None = None  # "scanning" while a sheet is being read
    lost: tuple[tuple[str, str], ...] = ()  # (peripheral, detail)
    cover_open: bool = False
    printer_problem: Words | None = None
    journal: tuple[JournalLine, ...] = field(default_factory=tuple)
    internal_error: str | None = None  # the unit's own program failed (shown, never a traceback)
    upload: UploadStatus | None = None  # None: no central tally configured, or nothing to send
    unloadable: bool = False  # the election manager may unload the package now (provisioning)
    situation: str = "starting"

    @property
    def hash_prefix(self) -> str:
        return self.election_hash[:12]

    @property
    def box_full(self) -> bool:
        return self.box_capacity > 0 and self.box_sheets >= self.box_capacity


def identity_wait(pending) -> str:
    """What the voter waiting at the ID desk (``IdDesk.pending``) waits for: "" (nobody waits),
    "commission" (its decision) or "finger" (a press on the sensor)."""
    if pending is None:
        return ""
    return "commission" if pending.commission_reason is not None else "finger"


SITUATION_RULES = (
    ("fault", lambda v: v.internal_error is not None),
    ("peripheral_lost", lambda v: bool(v.lost)),
    ("unconfigured", lambda v: not v.configured or v.polls == "setup"),
    ("starting", lambda v: not v.polls),
    ("cover_open", lambda v: v.cover_open),
    ("jammed", lambda v: v.ballot == "jammed"),
    ("fault", lambda v: v.ballot == "error"),
    ("needs_review", lambda v: v.review_reason is not None),
    ("box_full", lambda v: v.polls == "polls_open" and v.box_full),
    ("printer_out", lambda v: v.printer_problem is not None),
    ("test_mode", lambda v: v.polls == "testing"),
    ("election_loaded", lambda v: v.polls == "election_loaded"),
    ("polls_open", lambda v: v.polls == "polls_open"),
    ("polls_paused", lambda v: v.polls == "polls_paused"),
    ("polls_closed", lambda v: v.polls == "polls_closed"),
)


def polls_words(polls: str) -> Words:
    return Words.of(POLLS_WORDS.get(polls, "…"))


def words_of(msg: OperatorMessage) -> Words:
    """An operator message of the event catalog, as words a console translates again."""
    return Words(catalog()["messages"][msg.code]["text"], msg.fields)


def situation_of(view: UnitView) -> str:
    for name, rule in SITUATION_RULES:
        if rule(view):
            return name
    return "starting"


def journal_line(record) -> JournalLine:
    """A journal record as the console shows it: time, what happened, and only safe fields."""
    at = dt.datetime.fromtimestamp(record.at, dt.timezone.utc).strftime("%H:%M:%S")
    try:
        summary = event_summary(record.type)
    except KeyError:
        summary = record.type
    fields = tuple((k, record.data[k]) for k in SHOWN_FIELDS if k in record.data)
    return JournalLine(record.seq, at, record.type, summary, fields)
