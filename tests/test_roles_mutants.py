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


# --- what the operator reads (the survivors of `make mutate` in roles.py) ----------------------
@pytest.fixture
def english():
    from device.i18n import set_language
    set_language("en")
    yield
    set_language("en")


class Clock:
    t = 1000.0

    def __call__(self):
        return self.t


def _denied(call, *args):
    with pytest.raises(AccessDenied) as info:
        call(*args)
    return info.value


def test_operator_messages_name_the_role_the_action_and_the_time(english):
    from device.station.roles import AccessPolicy
    clock = Clock()
    access = StationAccess(STAFF, clock, AccessPolicy(idle_seconds=300, session_seconds=1000))
    denied = _denied(access.require, "reopen_polls")
    assert (denied.reason, denied.operator_message.code) == ("no_session", "session_needed")
    assert str(denied) == "Enter the PIN of the election manager first."
    assert str(_denied(access.require, "send_results")) == \
        "Enter the PIN of the poll worker or election manager first."
    assert str(_denied(access.login, "poll_worker", "000001")) == \
        "Wrong PIN for the poll worker. 4 attempt(s) left before the role is locked."
    access.login("poll_worker", PW)
    denied = _denied(access.require, "reopen_polls")
    assert denied.reason == "not_permitted"
    assert str(denied) == "The poll worker may not reopen polls: it needs the election manager."
    clock.t += 300
    denied = _denied(access.require, "close_polls")
    assert (denied.reason, denied.operator_message.code) == ("idle", "session_idle")
    assert str(denied) == "The session ended after idle time. Enter the PIN of the poll worker again."
    access.login("election_manager", EM)
    for _ in range(3):
        clock.t += 250
        access.require("export")
    clock.t += 250
    denied = _denied(access.require, "export")  # 1000 s in all: the session has expired
    assert (denied.reason, denied.operator_message.code) == ("idle", "session_idle")
    for _ in range(4):
        _denied(access.login, "election_manager", "000001")
    denied = _denied(access.login, "election_manager", "000001")
    assert str(denied) == "The election manager is locked after too many wrong PINs. Try again in 60 s."


def test_a_restart_restores_lockouts_from_a_journal_of_every_kind_of_record(tmp_path):
    """``restore`` reads the whole journal (provisioning passes every record): records without
    a role (check-ins, ballots) do not stop it, and attempts count from one after a lockout."""
    kit = Kit(store=SqliteStore(tmp_path / "unit.db", durability="simulation"), staff=STAFF)
    for _ in range(5):
        _denied(kit.ctl.access.login, "poll_worker", "000001")
    kit.now[0] += 60
    from device.station.provisioning import station_access
    kit.store.append_event("unit_started", {"replayed_records": 0, "station": "north-1"}, kit.now[0])
    access = station_access(kit.store, STAFF, lambda: kit.now[0])
    assert access.locked_for("poll_worker") == 0
    denied = _denied(access.login, "poll_worker", "000002")  # the lockout doubled, restored
    assert denied.reason == "locked" and "120 s" in str(denied)
    kit.now[0] += 120
    access = station_access(kit.store, STAFF, lambda: kit.now[0])
    _denied(access.login, "poll_worker", "000003")
    attempts = [r.data["attempt"] for r in kit.store.events() if r.type == "pin_rejected"]
    assert attempts == [1, 2, 3, 4, 5, 1, 1]


def test_attempts_count_again_from_one_after_a_lockout():
    clock, log = Clock(), []
    access = StationAccess(STAFF, clock, journal=lambda t, d: log.append((t, dict(d))))
    for _ in range(5):
        _denied(access.login, "poll_worker", "000001")
    clock.t += 60
    _denied(access.login, "poll_worker", "000001")
    attempts = [d["attempt"] for t, d in log if t == "pin_rejected"]
    assert attempts == [1, 2, 3, 4, 5, 1]


def test_names_pins_and_unknown_actions():
    import random
    from device.station.roles import PinError, check_pin_strength, generate_pin, permitted, role_name
    assert role_name("auditor") == "auditor" and role_name("poll_worker") == "poll worker"
    with pytest.raises(KeyError, match="teleport"):
        permitted("teleport", "poll_worker")
    for pin, why in (("111111", "a PIN may not repeat one digit"),
                     ("345678", "a PIN may not be a run of digits up or down"),
                     ("12a456", "a PIN is exactly 6 digits"), (None, "a PIN is exactly 6 digits")):
        with pytest.raises(PinError) as info:
            check_pin_strength(pin)
        assert str(info.value) == why
    assert generate_pin(random.Random(3)) == generate_pin(random.Random(3))  # the rng given is used

    class WeakFirst(random.Random):
        """Draws 1,1,1,1,1,1 (a weak PIN) first, then ordinary digits."""
        n = 0

        def randrange(self, *args):
            self.n += 1
            return 1 if self.n <= 6 else super().randrange(*args)

    pin = generate_pin(WeakFirst(5))
    assert isinstance(pin, str) and pin != "111111"
    check_pin_strength(pin)


def test_a_pin_is_hashed_at_the_device_cost_by_default():
    from device.station.roles import PIN_HASH_COSTS, hash_pin
    device = PIN_HASH_COSTS["device"]
    assert f"$m={device['memory_cost']},t={device['time_cost']},p={device['parallelism']}$" in hash_pin(PW)
