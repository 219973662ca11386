"""The station controller on in-memory twins: polls lifecycle, check-in, ballots, faults, boot."""
import pytest

from device.ballots.records import INVALID, OVERVOTE
from device.station.controller import ControllerError
from device.store.journal import MemoryStore, StoreWriteError
from tests.station_kit import Kit


def opened(**kw):
    kit = Kit(**kw)
    kit.ctl.open()
    return kit


def test_lifecycle_and_zero_report():
    kit = Kit()
    assert kit.ctl.state == {"polls": "setup", "voter": "inactive", "ballot": "inactive"}
    kit.ctl.open()
    assert kit.ctl.state == {"polls": "polls_open", "voter": "waiting_for_id", "ballot": "waiting_for_ballot"}
    assert kit.periph.world.printed_slips()[0].kind == "zero_report"
    kit.ctl.pause()
    assert kit.ctl.state["ballot"] == "inactive" and kit.insert().status == "refused"
    kit.ctl.resume()
    kit.ctl.close()
    assert kit.ctl.state["polls"] == "polls_closed"
    assert [s.kind for s in kit.periph.world.printed_slips()] == ["zero_report", "polls_paused", "polls_resumed", "results"]


def test_opening_with_nonzero_totals_is_refused_and_logged():
    kit = opened()
    kit.checkin(kit.voters[0])
    assert kit.insert().status == "cast"
    fresh = Kit(store=MemoryStore())
    fresh.store.cast_ballot(kit.store.cast_vote_records()[0], {"compartment": "box"}, 0.0)
    with pytest.raises(ControllerError, match="1 recorded ballots"):
        fresh.ctl.open()
    assert [r.type for r in fresh.store.events()][-1] == "open_polls_refused"
    assert fresh.ctl.state["polls"] == "election_loaded"


def test_checkin_outcomes():
    kit = opened()
    assert kit.checkin(kit.voters[0]).outcome == "authorised"
    assert kit.checkin(kit.voters[0]).outcome == "already_voted"
    res = kit.checkin(kit.others[0])
    assert res.outcome == "other_station" and "North library" in res.message.text
    assert kit.checkin("NOBODY123").outcome == "not_on_roll"
    assert kit.checkin("bad doc!").outcome == "invalid_document"
    assert kit.ctl.reconciliation()["refused_by_reason"] == {
        "already_voted": 1, "invalid_document": 1, "not_on_roll": 1, "other_station": 1}


def test_checkin_records_hold_no_ballot_data_and_cast_records_no_voter():
    kit = opened()
    kit.checkin(kit.voters[0])
    kit.insert()
    for rec in kit.store.events():
        flat = repr(rec.data)
        assert "m-amara" not in flat and "GRN" not in flat  # no vote in the journal
    cvr = kit.store.cast_vote_records()[0].to_json()
    assert "V0" not in repr(cvr) and "DOC00000" not in repr(cvr)
    assert set(cvr) <= {"id", "ballot_style", "contests", "image_sha256"}


def test_ballot_without_checkin_is_returned_when_enforced():
    kit = opened()
    out = kit.insert()
    assert out.status == "returned" and out.reason == "no_authorisation"
    assert kit.ctl.results().ballots_cast == 0 and kit.periph.world.sheets_in_box == 0


def test_ballot_without_checkin_is_cast_when_not_enforced():
    kit = opened(enforce=False)
    assert kit.insert().status == "cast"


def test_overvote_return_policy_voter_chooses():
    kit = opened()
    kit.checkin(kit.voters[0])
    out = kit.insert(kit.marks(mayor=["m-amara", "m-bolat"]))
    assert out.status == "needs_review" and "Mayor" in out.message.text
    back = kit.ctl.voter_decision(cast=False)
    assert back.status == "returned" and kit.periph.world.take_returned_sheet() is not None
    assert kit.insert(kit.marks(mayor=["m-amara", "m-bolat"])).status == "needs_review"
    assert kit.ctl.voter_decision(cast=True).status == "cast"
    (cvr,) = kit.store.cast_vote_records()
    assert cvr.contests["mayor"][1] == OVERVOTE
    assert kit.ctl.results().contests["mayor"].overvotes == 1


def test_accept_invalid_policy_diverts_blank_ballot():
    kit = opened(policy={"overvote": "accept-invalid", "blank": "accept-invalid", "unreadable": "accept-invalid"})
    kit.checkin(kit.voters[0])
    out = kit.insert({"council": (), "mayor": (), "parks": ()})
    assert out.status == "cast_invalid" and out.message.code == "cast_invalid"
    assert kit.periph.world.sheets_in_invalid_compartment == 1
    assert all(st == INVALID for _, st in kit.store.cast_vote_records()[0].contests.values())
    kit.checkin(kit.voters[1])
    assert kit.insert().message.code == "cast"
    kit.ctl.close()
    printed = [r for r in kit.store.events() if r.type == "results_printed"]
    assert [r.data for r in printed] == [{"ballots_cast": 2, "invalid_compartment": 1}]


@pytest.mark.parametrize("kind, reason", [("wrong_election", "wrong_election"), ("not_a_ballot", "not_a_ballot"),
                                          ("test_ballot", "test_ballot")])
def test_sheets_that_are_never_cast(kind, reason):
    kit = opened()
    kit.checkin(kit.voters[0])
    out = kit.insert(kind=kind)
    assert (out.status, out.reason) == ("returned", reason)
    assert kit.ctl.counters.outstanding == 1  # the authorisation is still there


def test_jam_during_feed_before_cast_returns_the_sheet_to_the_voter():
    kit = opened()
    kit.checkin(kit.voters[0])
    kit.periph.scanner.jam_rate = 1.0  # the feed jams: nothing recorded -> back to the voter
    out = kit.insert()
    assert out.status == "jammed" and kit.ctl.state["ballot"] == "jammed"
    kit.periph.world.operator_removes_jammed_sheet()
    cleared = kit.ctl.clear_jam()
    assert cleared.status == "returned_to_voter" and kit.ctl.results().ballots_cast == 0
    assert kit.ctl.counters.outstanding == 1  # the voter may insert the sheet again


def test_jam_during_drop_after_cast_goes_into_box():
    kit = opened()
    kit.checkin(kit.voters[0])
    scanner, world = kit.periph.scanner, kit.periph.world
    real_feed = scanner.feed

    def feed_then_stick_at_the_exit(timeout=5.0):
        real_feed(timeout)
        scanner.jam_rate = 1.0  # the drop that follows the cast record will jam

    scanner.feed = feed_then_stick_at_the_exit
    out = kit.insert()
    assert out.status == "jammed" and kit.ctl.state["ballot"] == "jammed"
    assert len(kit.store.cast_vote_records()) == 1 and kit.ctl.counters.drop_pending
    assert world.sheets_in_box == 0 and scanner.path is not None  # recorded, still in the path
    scanner.jam_rate = 0.0
    world.operator_removes_jammed_sheet()
    cleared = kit.ctl.clear_jam()
    assert cleared.status == "placed_in_box"
    world.operator_places_sheet(into_box=True)
    assert world.sheets_in_box == 1 == kit.ctl.results().ballots_cast == kit.ctl.counters.dropped
    assert kit.ctl.counters.outstanding == 0


@pytest.mark.parametrize("failing", ["authorise", "paper_detected", "open_polls", "jam_cleared"])
def test_a_failed_journal_write_leaves_the_state_unchanged(failing):
    """Write-ahead: if the record cannot be written, the transition does not happen."""
    class FailingStore(MemoryStore):
        fail = None

        def append_event(self, type_, data, at, *, durable=True):
            if type_ == self.fail:
                raise StoreWriteError("I/O error")
            return super().append_event(type_, data, at, durable=durable)

    store = FailingStore()
    kit = Kit(store=store)
    if failing == "open_polls":
        store.fail = failing
        with pytest.raises(ControllerError, match="cannot record"):  # refused, the unit lives on
            kit.ctl.open()
        assert kit.ctl.polls == "election_loaded"
        return
    kit.ctl.open()
    if failing == "jam_cleared":
        kit.checkin(kit.voters[0])
        kit.periph.scanner.jam_rate = 1.0
        assert kit.insert().status == "jammed"
        kit.periph.scanner.jam_rate = 0.0
        kit.periph.world.operator_removes_jammed_sheet()
    before = (dict(kit.ctl.state), kit.ctl.reconciliation(), len(list(store.events())))
    store.fail = failing
    if failing == "authorise":  # refused with the store fault, never an exception
        assert kit.checkin(kit.voters[1]).outcome == "store_fault"
    elif failing == "paper_detected":
        assert kit.insert().reason == "store"
    else:
        assert kit.ctl.clear_jam().status == "error"
    assert kit.ctl.store_fault is not None
    assert (kit.ctl.state, kit.ctl.reconciliation(), len(list(store.events()))) == before


def test_store_failure_stops_casting():
    class FailingStore(MemoryStore):
        fail = False

        def cast_ballot(self, cvr, data, at):
            if self.fail:
                raise StoreWriteError("disk full")
            return super().cast_ballot(cvr, data, at)

    store = FailingStore()
    kit = opened(store=store)
    kit.checkin(kit.voters[0])
    store.fail = True
    out = kit.insert()
    assert out.status == "error" and "disk full" in out.message.text
    assert kit.store.cast_vote_records() == [] and kit.periph.world.sheets_in_box == 0
    assert [r.data for r in kit.store.events() if r.type == "fault"] == [{"detail": "store write failed: disk full"}]
    kit.checkin(kit.voters[1])
    assert kit.ctl.handle_paper().status == "refused"  # nothing more is taken until cleared


def test_boot_rebuilds_state_and_counters_from_the_journal():
    kit = opened()
    for v in kit.voters[:3]:
        kit.checkin(v)
        kit.insert()
    kit.checkin(kit.voters[3])
    before = (kit.ctl.state, kit.ctl.reconciliation())
    kit.boot()  # a restart on the same store
    assert (kit.ctl.state, kit.ctl.reconciliation()) == before
    assert kit.checkin(kit.voters[0]).outcome == "already_voted"
    assert kit.insert().status == "cast"  # voter 3's authorisation survived the restart


def test_power_loss_after_cast_before_drop_counts_once():
    kit = opened()
    kit.checkin(kit.voters[0])
    style = kit.election.stations[kit.station].ballot_style
    kit.periph.world.insert_sheet(kit.paper.make_sheet(style, kit.marks(), kit.rng))
    scanner = kit.periph.scanner
    original_accept = scanner.accept

    def power_cut(timeout=5.0):
        raise SystemExit("power cut")  # the process dies between the cast record and the drop

    scanner.accept = power_cut
    with pytest.raises(SystemExit):
        kit.ctl.handle_paper()
    scanner.accept = original_accept
    assert kit.ctl.state["ballot"] == "accepting"
    kit.boot()
    assert kit.ctl.state["ballot"] == "waiting_for_ballot"
    assert kit.periph.world.sheets_in_box == 1 == len(kit.store.cast_vote_records())
    assert [r.type for r in kit.store.events()].count("ballot_dropped") == 1


def test_a_double_feed_is_a_jam_of_its_own_kind_and_cover_open_a_fault():
    from hardware.interfaces import CoverOpen

    kit = opened()
    kit.checkin(kit.voters[0])
    kit.periph.scanner.double_feed_rate = 1.0
    out = kit.insert()
    assert (out.status, out.reason) == ("jammed", "double_feed") and out.message.code == "double_feed"
    jam = [r for r in kit.store.events() if r.type == "jam"][-1]
    assert jam.data["kind"] == "double_feed" and "double feed" in jam.data["detail"]
    kit.periph.scanner.double_feed_rate = 0.0
    kit.periph.world.operator_removes_jammed_sheet()
    assert kit.ctl.clear_jam().status == "returned_to_voter"
    kit.periph.world.take_returned_sheet()

    real_feed = kit.periph.scanner.feed

    def cover_open(timeout=5.0):
        raise CoverOpen("the scanner cover is open")

    kit.periph.scanner.feed = cover_open
    out = kit.insert()
    assert (out.status, out.reason) == ("error", "fault") and "cover open" in out.message.text
    assert kit.ctl.state["ballot"] == "error"
    assert [r for r in kit.store.events() if r.type == "fault"][-1].data == {"detail": "cover open"}
    kit.periph.scanner.feed = real_feed
    assert kit.ctl.clear_fault().status == "returned_to_voter"


def test_a_fault_after_the_cast_puts_the_sheet_in_the_box_when_cleared():
    from hardware.interfaces import PeripheralTimeout

    kit = opened()
    kit.checkin(kit.voters[0])
    scanner = kit.periph.scanner
    real_accept = scanner.accept

    def motor_stalls(timeout=5.0):
        raise PeripheralTimeout("the drop motor did not finish")

    scanner.accept = motor_stalls
    out = kit.insert()
    assert (out.status, out.reason) == ("error", "fault") and "PeripheralTimeout" in out.message.text
    assert len(kit.store.cast_vote_records()) == 1 and scanner.path is not None
    scanner.accept = real_accept
    cleared = kit.ctl.clear_fault()  # the sheet is still in the path: the motors finish the drop
    assert cleared.status == "placed_in_box" and kit.periph.world.sheets_in_box == 1
    assert [r for r in kit.store.events() if r.type == "fault_cleared"][-1].data["resolution"] == "placed_in_box"
    assert kit.ctl.counters.dropped == 1 == kit.ctl.results().ballots_cast


def test_operator_and_voter_actions_out_of_place_are_refused_with_a_reason():
    kit = opened()
    for action, reason in ((kit.ctl.clear_jam, "not_jammed"), (kit.ctl.clear_fault, "no_fault"),
                           (lambda: kit.ctl.voter_decision(cast=True), "not_in_review")):
        out = action()
        assert (out.status, out.reason, out.message.code) == ("refused", reason, "busy")
        assert "waiting_for_ballot" in out.message.text
    kit.ctl.pause()
    out = kit.insert()
    assert (out.status, out.reason, out.message.code) == ("refused", "not_ready", "polls_not_open")
    assert kit.checkin(kit.voters[0]).outcome == "polls_not_open"
    pauses = [r for r in kit.store.events() if r.type == "pause_polls"]
    assert pauses and pauses[-1].data.get("role") == "poll_worker"
