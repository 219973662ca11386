"""What the ballot box does with one reading: a pure decision from the reading and the policy.

``decide(reading, policy) -> Decision`` is the rule from a ``BallotReading`` (the interpreter's
answer for one sheet) to what happens to the sheet, under the election's policy for the station
(``BoxPolicy``: the policy's three actions, the station's ballot style and its contests):

- a rejection (not a ballot, another election, an unreadable code...) returns the sheet with
  that reason — except an unreadable sheet under ``unreadable = accept-invalid``, which is cast
  into the invalid compartment with every contest invalid (in test mode: counted so in the test
  tally);
- a test ballot while the polls are live, or an official ballot in test mode, is returned
  (``test_ballot`` / ``official_ballot_in_test_mode``), as is a ballot of another style
  (``wrong_style``);
- otherwise each contest gets its status (valid, undervote, overvote, blank); overvoted contests
  become invalid under ``overvote = accept-invalid``, an all-blank ballot becomes invalid under
  ``blank = accept-invalid``; in test mode the ballot is counted as a test ballot; an overvote or
  an all-blank ballot under ``return`` waits for the voter's choice (``REVIEW``, with the reason
  and the overvoted contests); anything else is cast, into the invalid compartment if a contest
  is invalid.

Nothing here touches a peripheral, the journal or a clock: the station's ballot box
(``device/station/ballot_box.py``) draws the cast vote record's random id, moves the sheet and
journals. The decision of an overvote and of a valid ballot differ only on the screen, never in
the journal (``device/station/controller.py``, secrecy of the journal).
"""
from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from types import MappingProxyType
from enum import StrEnum
from typing import TYPE_CHECKING, NamedTuple

from device.ballots.records import BLANK, INVALID, OVERVOTE, BallotReading, contest_status

if TYPE_CHECKING:
    from device.election.definition import Election

# Rejections that the ``unreadable`` policy covers (the marks or the code could not be read).
UNREADABLE = ("fiducials_missing", "unreadable_code", "unreadable_marks")

ContestStatuses = dict[str, tuple[tuple[str, ...], str]]  # contest -> (selections, status)


class PolicyAction(StrEnum):
    """The election policy's actions (``device/election/definition.py``, ``POLICY_ACTIONS``)."""

    RETURN = "return"
    ACCEPT_INVALID = "accept-invalid"
    REJECT = "reject"


class Outcome(StrEnum):
    """What happens to the sheet."""

    CAST = "cast"  # into the box, counted as read
    CAST_INVALID = "cast_invalid"  # into the invalid compartment
    REVIEW = "review"  # held for the voter's choice: cast as it is, or take it back
    REJECT = "reject"  # returned to the voter with a reason
    TEST = "test"  # test mode: into the box, counted in the test tally


# Read once: an enum member costs a class lookup each time it is named (the per-ballot path).
_CAST, _CAST_INVALID, _TEST = Outcome.CAST, Outcome.CAST_INVALID, Outcome.TEST
_RETURN, _ACCEPT_INVALID = PolicyAction.RETURN, PolicyAction.ACCEPT_INVALID


@dataclass(frozen=True)
class BoxPolicy:
    """The election's policy as the ballot box of one station applies it."""

    overvote: PolicyAction
    blank: PolicyAction
    unreadable: PolicyAction
    ballot_style: str
    contests: tuple[tuple[str, int], ...]  # (contest id, vote for) of the style, in ballot order
    testing: bool = False  # the unit is in pre-election test mode: only test ballots

    @classmethod
    def for_station(cls, election: Election, station_id: str, *, testing: bool = False) -> BoxPolicy:
        style = election.stations[station_id].ballot_style
        policy = election.policy
        return cls(PolicyAction(policy["overvote"]), PolicyAction(policy["blank"]),
                   PolicyAction(policy["unreadable"]), style,
                   tuple((c.id, c.vote_for) for c in election.contests_for_style(style)), testing)


class Decision(NamedTuple):
    """The decision for one sheet (a named tuple: built for every ballot, in a third of a frozen
    dataclass's time)."""

    outcome: Outcome
    contests: Mapping[str, tuple[tuple[str, ...], str]] = MappingProxyType({})  # empty for REJECT
    reason: str | None = None  # REJECT: the rejection; REVIEW: overvote | blank
    overvoted: tuple[str, ...] = ()  # REVIEW of an overvote: the contests, for the voter's screen

    @property
    def invalid(self) -> bool:
        return self.outcome is Outcome.CAST_INVALID


def decide(reading: BallotReading, policy: BoxPolicy) -> Decision:
    """The decision for ``reading`` under ``policy`` (see the module docstring)."""
    if reading.rejection is not None:
        if reading.rejection in UNREADABLE and policy.unreadable is PolicyAction.ACCEPT_INVALID:
            every_invalid: ContestStatuses = {cid: ((), INVALID) for cid, _ in policy.contests}
            return Decision(Outcome.TEST if policy.testing else Outcome.CAST_INVALID, every_invalid)
        return Decision(Outcome.REJECT, reason=reading.rejection)
    if reading.test_ballot != policy.testing:
        return Decision(Outcome.REJECT, reason="test_ballot" if reading.test_ballot else
                        "official_ballot_in_test_mode")
    if reading.ballot_style != policy.ballot_style:
        return Decision(Outcome.REJECT, reason="wrong_style")
    statuses: ContestStatuses = {}
    read = reading.contests
    overvoted: list[str] = []
    all_blank = True
    for cid, vote_for in policy.contests:
        cr = read.get(cid)
        sel = tuple(cr.selections) if cr else ()
        status = contest_status(len(sel), vote_for)
        statuses[cid] = (sel, status)
        if status == OVERVOTE:
            overvoted.append(cid)
        if status != BLANK:
            all_blank = False
    if overvoted and policy.overvote is _ACCEPT_INVALID:
        for cid in overvoted:
            statuses[cid] = (statuses[cid][0], INVALID)
    elif all_blank and policy.blank is _ACCEPT_INVALID:
        statuses = {cid: (sel, INVALID) for cid, (sel, _) in statuses.items()}
    if policy.testing:
        return Decision(_TEST, statuses)
    if overvoted and policy.overvote is _RETURN:
        return Decision(Outcome.REVIEW, statuses, "overvote", tuple(overvoted))
    if all_blank and policy.blank is _RETURN:
        return Decision(Outcome.REVIEW, statuses, "blank")
    for _, st in statuses.values():
        if st == INVALID:
            return Decision(_CAST_INVALID, statuses)
    return Decision(_CAST, statuses)
