"""The ID desk: identity sources as plug-ins after the document, a voter waiting at the desk,
and the commission's decision for a voter no source could identify (issue #20 §1).

The second source here is a small, real plug-in written for the test — a code word the voter
was given, checked against a table, with a number of tries — standing in for the fingerprint
sensor the next issue adds. Everything else is the real controller on a real SQLite store.
"""
from __future__ import annotations

import pytest

from device.station.controller import ControllerError
from device.station.events import message
from device.station.id_desk import (CheckInOutcome, DocumentIdentity, IdDesk, Identified, SourceAnswer)
from device.station.roles import AccessDenied, hash_pin
from device.store.sqlite import SqliteStore
from tests.station_kit import Kit

PW = "750264"
STAFF = {"poll_worker": hash_pin(PW, "simulation")}


class CodeWordIdentity:
    """A source after the document: the voter's code word, ``tries`` attempts; a voter with no
    code word on file, or out of tries, is left to the commission; a code word of another
    voter's is refused."""

    name = "code_word"

    def __init__(self, words: dict[str, str], tries: int = 2):
        self.words, self.tries, self.failed = words, tries, 0

    def identify(self, voter: Identified | None, evidence: object) -> SourceAnswer:
        assert voter is not None  # the document came first
        expected = self.words.get(voter.voter.voter_id)
        if expected is None:
            return SourceAnswer.next_step(message("invalid_document", detail="no code word on file"),
                                          commission_reason="no_code_word")
        if evidence is None:  # the step begins: ask for the word
            self.failed = 0
            return SourceAnswer.next_step(message("invalid_document", detail="say the code word"))
        if evidence == expected:
            return SourceAnswer.authorised()
        if evidence in self.words.values():
            return SourceAnswer.refused(CheckInOutcome.NOT_ON_ROLL, message("not_on_roll"), voter,
                                        {"voter": voter.pseudonym})
        self.failed += 1
        if self.failed >= self.tries:
            return SourceAnswer.next_step(message("invalid_document", detail="no match"),
                                          commission_reason="no_match")
        return SourceAnswer.next_step(message("invalid_document", detail="try again"))


def kit_with_code_words(tmp_path, words=None, staff=None):
    source = CodeWordIdentity(words if words is not None else {"V0": "apple", "V1": "pear"})
    kit = Kit(store=SqliteStore(tmp_path / "unit.db", durability="simulation"),
              identity_after_document=[source], staff=staff)
    if staff:
        kit.ctl.access.login("poll_worker", PW)
    kit.ctl.open()
    return kit


def journal(kit, type_):
    return [r.data for r in kit.store.events() if r.type == type_]


def test_a_second_source_keeps_the_voter_waiting_until_it_answers(tmp_path):
    kit = kit_with_code_words(tmp_path)
    first = kit.checkin(kit.voters[0])
    assert first.outcome == "identifying" and not first.authorised and first.voter_id == "V0"
    assert kit.ctl.counters.outstanding == 0 and journal(kit, "authorise") == []
    assert kit.insert().reason == "no_authorisation"  # no ballot for a voter still at the desk
    assert kit.ctl.present_identity_step("plum").outcome == "identifying"  # one try left
    done = kit.ctl.present_identity_step("apple")
    assert done.authorised and done.voter_id == "V0" and kit.ctl.counters.outstanding == 1
    assert journal(kit, "authorise") == [{"voter": kit.ctl.pseudonyms.of("V0")}]
    assert kit.insert().status == "cast"


def test_a_refusal_by_the_second_source_is_journaled_with_its_reason(tmp_path):
    kit = kit_with_code_words(tmp_path)
    assert kit.checkin(kit.voters[0]).outcome == "identifying"
    refused = kit.ctl.present_identity_step("pear")  # another voter's word
    assert refused.outcome == "not_on_roll" and kit.ctl.desk.pending is None
    assert journal(kit, "refuse") == [{"reason": "not_on_roll", "voter": kit.ctl.pseudonyms.of("V0")}]
    assert kit.ctl.reconciliation()["refused_by_reason"] == {"not_on_roll": 1}


def test_the_commission_identifies_a_voter_no_source_could(tmp_path):
    kit = kit_with_code_words(tmp_path, staff=STAFF)
    kit.checkin(kit.voters[0])
    with pytest.raises(ControllerError):  # the source has not given up yet: no decision to take
        kit.ctl.identify_by_commission()
    for word in ("plum", "fig"):
        answer = kit.ctl.present_identity_step(word)
    assert answer.outcome == "identifying" and kit.ctl.desk.pending.commission_reason == "no_match"
    decided = kit.ctl.identify_by_commission()
    assert decided.authorised and decided.voter_id == "V0"
    kit.checkin(kit.voters[2])  # no code word on file: straight to the commission
    assert kit.ctl.identify_by_commission().authorised
    assert dict(kit.ctl.counters.by_commission) == {"no_match": 1, "no_code_word": 1}
    assert journal(kit, "authorise")[0] == {"voter": kit.ctl.pseudonyms.of("V0"), "identified_by": "commission",
                                            "reason": "no_match", "role": "poll_worker"}
    kit.store.close()
    kit.store = SqliteStore(tmp_path / "unit.db", durability="simulation")  # a restart counts the same
    assert dict(kit.boot().counters.by_commission) == {"no_match": 1, "no_code_word": 1}
    assert kit.ctl.counters.outstanding == 2


def test_the_commission_decision_is_a_poll_workers(tmp_path):
    kit = kit_with_code_words(tmp_path, words={}, staff=STAFF)
    kit.checkin(kit.voters[0])
    kit.ctl.access.logout()
    with pytest.raises(AccessDenied):
        kit.ctl.identify_by_commission()
    assert kit.ctl.counters.outstanding == 0 and kit.ctl.desk.pending is not None


def test_a_new_document_replaces_the_voter_waiting(tmp_path):
    kit = kit_with_code_words(tmp_path)
    kit.checkin(kit.voters[0])
    assert kit.checkin(kit.voters[1]).voter_id == "V1"
    assert kit.ctl.desk.pending.voter.voter.voter_id == "V1"
    assert kit.ctl.present_identity_step("apple").outcome == "not_on_roll"  # V0's word, from V1


def test_evidence_with_nobody_waiting_is_taken_as_a_document_and_refused(tmp_path):
    kit = kit_with_code_words(tmp_path)
    assert kit.ctl.present_identity_step("apple").outcome == "invalid_document"
    assert journal(kit, "refuse") == [{"reason": "invalid_document"}]


def test_pausing_the_polls_sends_the_waiting_voter_away(tmp_path):
    kit = kit_with_code_words(tmp_path)
    kit.checkin(kit.voters[0])
    kit.ctl.pause()
    kit.ctl.resume()
    assert kit.ctl.desk.pending is None
    assert kit.ctl.present_identity_step("apple").outcome == "invalid_document"


def test_the_desk_runs_its_sources_in_order_and_needs_one():
    with pytest.raises(ValueError):
        IdDesk([])
    kit = Kit()
    desk = kit.ctl.desk
    assert [s.name for s in desk.sources] == ["document"]
    assert isinstance(desk.sources[0], DocumentIdentity)
    assert kit.checkin(kit.voters[0]).outcome == "polls_not_open"
    kit.ctl.open()
    assert kit.checkin(kit.voters[0]).outcome is CheckInOutcome.AUTHORISED
    assert kit.checkin(kit.voters[0]).outcome is CheckInOutcome.ALREADY_VOTED
    assert kit.checkin(kit.others[0]).outcome is CheckInOutcome.OTHER_STATION
    assert kit.checkin("NOBODY").outcome is CheckInOutcome.NOT_ON_ROLL
