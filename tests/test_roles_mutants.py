"""Tests that fail on wrong versions the suite used to let pass (issue 17, section 6): a lockout
restored at boot without its doubling, a PIN check that takes a longer entry starting with the
PIN, a results message signed with the first close's journal head after a reopen."""
from __future__ import annotations

import pytest

from device.station.roles import AccessDenied, StationAccess
from device.store.signing import UnitSigner
from device.store.sqlite import SqliteStore
from tests.station_kit import Kit
from tests.test_controller_roles import EM, PW, STAFF, journal, vote


def _lock_once(kit):
    for _ in range(5):
        with pytest.raises(AccessDenied):
            kit.ctl.access.login("poll_worker", "000001")


def test_a_lockout_restored_at_boot_keeps_its_doubling():
    kit = Kit(staff=STAFF)
    _lock_once(kit)
    kit.now[0] += 60  # the first lockout is over
    kit.boot()  # a power cycle must not forget that the next wrong PIN locks for twice as long
    assert kit.ctl.access.locked_for("poll_worker") == 0
    with pytest.raises(AccessDenied) as info:
        kit.ctl.access.login("poll_worker", "000002")
    assert info.value.reason == "locked"
    assert [r["seconds"] for r in journal(kit, "role_locked")] == [60, 120]
    kit.now[0] += 119
    kit.boot()
    assert kit.ctl.access.locked_for("poll_worker") == 1
    kit.now[0] += 1
    kit.boot()
    with pytest.raises(AccessDenied):
        kit.ctl.access.login("poll_worker", "000003")
    assert [r["seconds"] for r in journal(kit, "role_locked")] == [60, 120, 240]


def test_restore_keeps_the_count_of_wrong_pins_and_a_right_pin_resets_it():
    kit = Kit(staff=STAFF)
    for _ in range(2):
        with pytest.raises(AccessDenied):
            kit.ctl.access.login("election_manager", "000001")
    kit.boot()
    with pytest.raises(AccessDenied) as info:
        kit.ctl.access.login("election_manager", "000001")
    assert "2 attempt(s) left" in str(info.value)
    kit.ctl.access.login("election_manager", EM)
    kit.boot()
    with pytest.raises(AccessDenied) as info:
        kit.ctl.access.login("election_manager", "000001")
    assert "4 attempt(s) left" in str(info.value)


@pytest.mark.parametrize("entry", [PW + "0", PW + PW, PW[:-1], " " + PW, PW + "\n0"])
def test_only_the_exact_pin_opens_a_session(entry):
    access = StationAccess(STAFF, lambda: 1000.0)
    with pytest.raises(AccessDenied) as info:
        access.login("poll_worker", entry)
    assert info.value.reason == "wrong_pin" and access.session is None
    assert access.login("poll_worker", PW).role == "poll_worker"


def test_after_a_reopen_the_results_are_signed_with_the_last_closes_journal_head(tmp_path):
    signer = UnitSigner.generate()
    kit = Kit(store=SqliteStore(tmp_path / "unit.db", durability="simulation"), signer=signer)
    kit.ctl.open()
    vote(kit, kit.voters[0])
    kit.ctl.close()
    first = kit.ctl.signed_results["message"]
    kit.ctl.reopen()
    kit.ctl.resume()
    vote(kit, kit.voters[1])
    kit.ctl.close()
    second = kit.ctl.signed_results["message"]
    closes = [r for r in kit.store.events()
              if r.type == "checkpoint" and r.data.get("reason") == "polls_close"]
    assert len(closes) == 2
    assert first["journal_head"] == {"seq": closes[0].seq, "hash": closes[0].hash}
    assert second["journal_head"] == {"seq": closes[1].seq, "hash": closes[1].hash}
    assert (second["sequence"], second["ballots_cast"]) == (2, 2)
    kit.boot()  # the same message is signed again at boot (a reprint): the last close's head
    kit.ctl.reprint("results")
    assert kit.ctl.signed_results is None or kit.ctl.signed_results["message"] == second
    assert list(kit.periph.printer.slips[-1].qr_codes) == _tape_codes(second, signer)


def _tape_codes(message, signer):
    from device.results.signed_results import sign_results
    from device.results.tape_codes import encode_tape
    return encode_tape(sign_results(message, signer))
