"""A full disk (real SQLITE_FULL through ``PRAGMA max_page_count``) is one named fault, then heals.

Before: check-in raised StoreWriteError out of the controller, and a PIN action after the
failure raised out of the unit's thread (the console hung). Now every store failure becomes the
``store_write_failed`` fault: check-in and PIN actions are refused with it, the ballot box stops,
and the first action after space returns journals ``store_recovered`` and carries on.
"""
from __future__ import annotations

import pytest

from device.station.controller import ControllerError
from device.station.roles import hash_pin
from device.store.sqlite import SqliteStore
from tests.station_kit import Kit

PW, EM = "246810", "135790"
STAFF = {"election_manager": hash_pin(EM, "simulation"), "poll_worker": hash_pin(PW, "simulation")}
ROOM = 100_000  # pages: space has come back


def _kit(tmp_path) -> Kit:
    store = SqliteStore(tmp_path / "unit.db", durability="simulation", mirror=tmp_path / "card.db")
    kit = Kit(voters=60, staff=STAFF, store=store)
    kit.ctl.access.login("poll_worker", PW)
    kit.ctl.open()
    kit.ctl.access.logout()
    return kit


def _disk_full(kit: Kit) -> None:
    conn = kit.store._conn
    conn.execute(f"PRAGMA main.max_page_count = {conn.execute('PRAGMA main.page_count').fetchone()[0]}")


def _space_back(kit: Kit) -> None:
    kit.store._conn.execute(f"PRAGMA main.max_page_count = {ROOM}")


def _until_check_in_fails(kit: Kit):
    for voter in kit.voters:
        _disk_full(kit)
        result = kit.checkin(voter)
        if not result.authorised:
            return voter, result
        _space_back(kit)
        assert kit.insert().status == "cast"
    pytest.fail("the disk never filled")


def test_a_full_disk_refuses_check_in_and_pin_actions_with_the_fault_then_recovers(tmp_path):
    kit = _kit(tmp_path)
    voter, refused = _until_check_in_fails(kit)
    assert refused.outcome == "store_fault" and "full" in refused.message.text
    assert kit.ctl.store_fault is refused.message
    before = kit.store.head
    with pytest.raises(ControllerError, match="cannot record"):  # the PIN action is refused
        kit.ctl.access.login("poll_worker", PW)
    kit.ctl.access.logout()
    assert kit.insert().reason == "store"  # the ballot box stops with it
    assert kit.checkin(voter).outcome == "store_fault" and kit.store.head == before
    _space_back(kit)
    assert kit.checkin(voter).authorised  # the first action after space returns heals the unit
    assert kit.ctl.store_fault is None and kit.insert().status == "cast"
    types = [r.type for r in kit.store.events()]
    assert types.count("store_recovered") == 1 and types.index("store_recovered") > before[0] - 1
    kit.ctl.access.login("poll_worker", PW)
    kit.ctl.pause()


def test_a_cast_that_cannot_be_written_faults_the_box_and_the_day_replays_after_recovery(tmp_path):
    kit = _kit(tmp_path)
    for voter in kit.voters:
        assert kit.checkin(voter).authorised
        _disk_full(kit)
        outcome = kit.insert()
        if outcome.status != "cast":
            break
        _space_back(kit)
    assert outcome.status == "error" and outcome.reason == "store" and kit.ctl.ballot == "error"
    cast = kit.ctl.counters.cast
    assert len(kit.store.cast_vote_records()) == cast  # the failed cast is on neither medium
    assert kit.ctl.store_fault is outcome.message  # on screen until a write succeeds again
    _space_back(kit)
    kit.ctl.access.login("poll_worker", PW)
    assert kit.ctl.clear_fault().status == "returned_to_voter"
    kit.ctl.access.logout()
    types = [r.type for r in kit.store.events()]
    assert types.index("fault") < types.index("store_recovered") < types.index("fault_cleared")
    kit.store.close()
    again = SqliteStore(tmp_path / "unit.db", mirror=tmp_path / "card.db")
    kit.store = again
    replayed = kit.boot()  # the journal replays: the fault written at recovery fits its place
    assert replayed.counters.cast == cast and replayed.ballot == "waiting_for_ballot"
    again.close()
