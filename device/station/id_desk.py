"""The ID desk: who may vote here, decided by identity sources run in order (plug-ins).

An *identity source* (``IdentitySource``) is one way of establishing who stands at the desk:
``DocumentIdentity`` is today's check-in (the ID document read by the reader → the voter on the
roll through the document number → eligible at this station? already checked in?). A source is
asked ``identify(voter, evidence)``: the voter found by the sources before it (``None`` for the
first) and what the desk has just received for it (the ID record for the document; whatever its
own peripheral delivers for a later source, ``None`` when its step begins). It answers with a
``SourceAnswer``:

- ``authorised`` (with the voter, for the first source): the next source takes over, or, after
  the last one, the voter is checked in and one ballot is authorised;
- ``refused(reason, message)``: the check-in ends, journaled as a refusal with that reason;
- ``next_step(message)``: the voter waits at the desk (``IdDesk.pending``) until the source's
  next evidence arrives (``IdDesk.proceed``). A source that cannot identify the voter (no
  enrolled fingerprint, no match after its tries) may leave the decision to the commission
  (``commission_reason``): a poll worker then identifies the voter by the document alone
  (``IdDesk.commission_identifies``), a decision journaled with that reason and counted by it.

``IdDesk`` only runs the list: adding a source (a fingerprint after the document) is adding it to
the list given to the controller, with no change here. The desk decides; the controller
(``device/station/controller.py``) journals what it decided — ``authorise`` with the voter's keyed
pseudonym, ``refuse`` with the reason — and shows the ``CheckInResult``. A voter waiting at the
desk is not journaled: after a power cut they present their document again.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from types import MappingProxyType
from enum import StrEnum
from typing import Any, NamedTuple, Protocol, TypeGuard, runtime_checkable

from device.election.definition import Election
from device.election.identity import IdDocumentError, parse_id_record
from device.election.pseudonym import VoterPseudonyms
from device.election.voter_roll import Voter, VoterRoll
from device.quick_init import quick_init
from device.station.events import OperatorMessage, message
from hardware.interfaces import IdRecord


class CheckInOutcome(StrEnum):
    """How a check-in ended, as the operator's screen and the simulator read it."""

    AUTHORISED = "authorised"
    IDENTIFYING = "identifying"  # the voter waits at the desk for a source's next step
    NOT_ON_ROLL = "not_on_roll"
    OTHER_STATION = "other_station"
    ALREADY_VOTED = "already_voted"
    INVALID_DOCUMENT = "invalid_document"
    POLLS_NOT_OPEN = "polls_not_open"
    STORE_FAULT = "store_fault"
    NO_VOTER_WAITING = "no_voter_waiting"  # a next step or a commission decision with nobody there


@quick_init
@dataclass(frozen=True)
class CheckInResult:
    outcome: CheckInOutcome
    message: OperatorMessage
    voter_id: str | None = None

    @property
    def authorised(self) -> bool:
        return self.outcome is _CHECKED_IN


NOTHING_MORE: Mapping[str, Any] = MappingProxyType({})  # a refusal record with nothing more


class Answer(StrEnum):
    """How one identity source answered (``SourceAnswer``): the voter may go on, may not, or waits."""

    AUTHORISED = "authorised"
    REFUSED = "refused"
    NEXT_STEP = "next_step"


# Read once: an enum member costs a class lookup each time it is named (the check-in's hot path).
_AUTHORISED, _CHECKED_IN = Answer.AUTHORISED, CheckInOutcome.AUTHORISED
_NOTHING_SAID = (None, None)  # an answer's message and reason when it says nothing more


class Identified(NamedTuple):
    """A voter the sources have found: the roll entry and the keyed pseudonym journaled for it."""

    voter: Voter
    pseudonym: str


class SourceAnswer(NamedTuple):
    """One source's answer (a named tuple, as ``Identified`` and ``Decision`` are: the check-in
    and the ballot are the hot path, and a tuple is built in a third of a frozen dataclass's time)."""

    answer: Answer
    message: OperatorMessage | None = None  # refused / next step: what the desk shows
    reason: CheckInOutcome | None = None  # refused: the journaled reason
    voter: Identified | None = None  # the voter found (the first source's answer)
    journal: Mapping[str, Any] = NOTHING_MORE  # refused: more of the refusal record
    commission_reason: str | None = None  # next step: the commission may decide, with this reason

    @classmethod
    def authorised(cls, voter: Identified | None = None) -> SourceAnswer:
        return cls(Answer.AUTHORISED, voter=voter)

    @classmethod
    def refused(cls, reason: CheckInOutcome, msg: OperatorMessage, voter: Identified | None = None,
                journal: dict[str, Any] | None = None) -> SourceAnswer:
        return cls(Answer.REFUSED, msg, reason, voter, journal or NOTHING_MORE)

    @classmethod
    def next_step(cls, msg: OperatorMessage, voter: Identified | None = None,
                  commission_reason: str | None = None) -> SourceAnswer:
        return cls(Answer.NEXT_STEP, msg, voter=voter, commission_reason=commission_reason)


class IdentitySource(Protocol):
    """One way of identifying the voter at the desk (see the module docstring)."""

    name: str

    def identify(self, voter: Identified | None, evidence: object) -> SourceAnswer: ...


@runtime_checkable
class HoldsDataWhilePollsOpen(Protocol):
    """A source that holds voter data only while the polls are open (a fingerprint source's
    templates): the desk tells it when they open and close, and journals what it returns."""

    def polls_opened(self) -> list[tuple[str, dict[str, Any]]]:
        """The polls opened, resumed, or a boot found them open: (event, data) to journal."""

    def polls_closed(self) -> list[tuple[str, dict[str, Any]]]:
        """The polls close: (event, data) to journal (templates wiped)."""


_HOLDS_DATA: dict[type, bool] = {}


def _holds_data(source: object) -> TypeGuard[HoldsDataWhilePollsOpen]:
    """``isinstance(source, HoldsDataWhilePollsOpen)``, asked once per class of source (a
    runtime protocol check walks the protocol's attributes every time, ~20 µs, twice per
    station day in a national run; the sources' methods are their classes')."""
    kind = type(source)
    holds = _HOLDS_DATA.get(kind)
    if holds is None:
        holds = _HOLDS_DATA[kind] = isinstance(source, HoldsDataWhilePollsOpen)
    return holds


class DocumentIdentity:
    """Today's check-in: the ID record → the voter on the roll → eligible here, not yet voted."""

    name = "document"

    def __init__(self, election: Election, station_id: str, roll: VoterRoll,
                 pseudonyms: VoterPseudonyms, checked_in: Callable[[str], bool]):
        self.election, self.station_id, self.roll = election, station_id, roll
        self.pseudonyms, self.checked_in = pseudonyms, checked_in

    def identify(self, voter: Identified | None, evidence: object) -> SourceAnswer:
        if not isinstance(evidence, IdRecord):
            return SourceAnswer.refused(CheckInOutcome.INVALID_DOCUMENT,
                                        message("invalid_document", detail="no ID document was read"))
        try:
            doc = parse_id_record(evidence)
        except IdDocumentError as exc:
            return SourceAnswer.refused(CheckInOutcome.INVALID_DOCUMENT,
                                        message("invalid_document", detail=exc.detail))
        found = self.roll.lookup(doc.document_number)
        if found is None:
            return SourceAnswer.refused(CheckInOutcome.NOT_ON_ROLL, message("not_on_roll"))
        who = Identified(found, self.pseudonyms.of(found.voter_id))
        if found.station_id != self.station_id:
            other = self.election.stations[found.station_id]
            return SourceAnswer.refused(CheckInOutcome.OTHER_STATION,
                                        message("other_station", station=other.id, station_name=other.name),
                                        who, {"voter": who.pseudonym, "station": other.id})
        if self.checked_in(who.pseudonym):
            return SourceAnswer.refused(CheckInOutcome.ALREADY_VOTED, message("already_voted"), who,
                                        {"voter": who.pseudonym})
        return SourceAnswer(_AUTHORISED, voter=who)


@dataclass(frozen=True)
class PendingVoter:
    """A voter waiting at the desk: found so far, and the source whose next step is awaited."""

    voter: Identified | None
    source: int  # index in the desk's sources
    commission_reason: str | None  # the commission may identify the voter, with this reason


class IdDesk:
    """Runs the identity sources in order; keeps the voter waiting for a next step."""

    def __init__(self, sources: Sequence[IdentitySource],
                 journal: Callable[[str, dict[str, Any]], None] = lambda type_, data: None):
        """``journal(type, data)``: where the sources' own records go (the controller's journal)."""
        if not sources:
            raise ValueError("an ID desk needs at least one identity source")
        self.sources, self.journal = tuple(sources), journal
        self.pending: PendingVoter | None = None

    def start(self, evidence: object) -> SourceAnswer:
        """A new voter's first evidence (the document): any voter still waiting is dropped."""
        self.pending = None
        return self._run(None, 0, evidence)

    def proceed(self, evidence: object) -> SourceAnswer | None:
        """The next evidence for the voter waiting at the desk (None: nobody is waiting)."""
        if self.pending is None:
            return None
        pending, self.pending = self.pending, None
        return self._run(pending.voter, pending.source, evidence)

    def commission_identifies(self) -> tuple[Identified, str] | None:
        """The commission identifies the waiting voter by the document alone, where the waiting
        source allows it: (the voter, the reason), or None."""
        pending = self.pending
        if pending is None or pending.voter is None or pending.commission_reason is None:
            return None
        self.pending = None
        return pending.voter, pending.commission_reason

    def polls_opened(self) -> None:
        """The polls opened, resumed, or a boot found them open: each source's records journaled
        (a fingerprint source opens its templates into memory)."""
        for source in self.sources:
            if _holds_data(source):
                for type_, data in source.polls_opened():
                    self.journal(type_, data)

    def polls_closed(self) -> None:
        """The polls close: nobody waits at the desk any more, and each source's records are
        journaled (templates wiped from memory)."""
        self.pending = None
        for source in self.sources:
            if _holds_data(source):
                for type_, data in source.polls_closed():
                    self.journal(type_, data)

    def dismiss(self) -> None:
        """The voter waiting at the desk left (or the desk stops): nobody waits any more."""
        self.pending = None

    def _run(self, voter: Identified | None, index: int, evidence: object) -> SourceAnswer:
        sources = self.sources
        answer = None
        while index < len(sources):
            answer = sources[index].identify(voter, evidence)
            found = answer.voter or voter
            if answer.answer is not _AUTHORISED:
                if answer.answer is Answer.NEXT_STEP:
                    self.pending = PendingVoter(found, index, answer.commission_reason)
                return answer if answer.voter is found else answer._replace(voter=found)
            voter, index, evidence = found, index + 1, None
        if answer is not None and answer.voter is voter and answer[1:3] == _NOTHING_SAID \
                and answer.journal is NOTHING_MORE and answer.commission_reason is None:
            return answer  # the last source's own answer is the desk's (once per voter: not built again)
        return SourceAnswer(_AUTHORISED, voter=voter)  # (SourceAnswer.authorised(voter))
