"""Roles and PINs: the policy, wrong PINs, lockouts that double, idle sessions, journaling."""
from dataclasses import dataclass

import pytest

from device.station.roles import (POLICY, ROLES, AccessDenied, AccessPolicy, PinError, StationAccess,
                                  check_pin_strength, generate_pin, hash_pin, permitted)

EM, PW = "482913", "750264"


class Clock:
    def __init__(self):
        self.t = 1000.0

    def __call__(self):
        return self.t


@dataclass
class Rec:
    type: str
    at: float
    data: dict


@pytest.fixture(scope="module")
def staff():
    return {"election_manager": hash_pin(EM, "simulation"), "poll_worker": hash_pin(PW, "simulation")}


def make(staff, **policy):
    clock, log = Clock(), []
    access = StationAccess(staff, clock, AccessPolicy(**policy),
                           journal=lambda t, d: log.append(Rec(t, clock(), dict(d))))
    return access, clock, log


def test_policy_is_the_declared_split():
    assert all(set(r) <= set(ROLES) and r for r in POLICY.values())
    for action in ("load_package", "unload_package", "set_test_mode", "export", "reopen_polls"):
        assert permitted(action, "election_manager") and not permitted(action, "poll_worker")
    for action in ("open_polls", "pause_polls", "resume_polls", "close_polls", "clear_jam",
                   "clear_fault", "reprint", "review_choice"):
        assert permitted(action, "poll_worker")


def test_pin_rules():
    for weak in ("111111", "123456", "654321", "890123", "12345", "1234567", "12a456", ""):
        with pytest.raises(PinError):
            check_pin_strength(weak)
    import random
    rng = random.Random(1)
    for _ in range(200):
        check_pin_strength(generate_pin(rng))


def test_poll_worker_cannot_reopen_or_export(staff):
    access, _, log = make(staff)
    access.login("poll_worker", PW)
    assert access.require("close_polls") == "poll_worker"
    for action in ("reopen_polls", "export", "load_package", "set_test_mode"):
        with pytest.raises(AccessDenied) as info:
            access.require(action)
        assert info.value.reason == "not_permitted"
    access.login("election_manager", EM)
    assert access.require("reopen_polls") == "election_manager"
    with pytest.raises(AccessDenied):
        access.require("open_polls")
    assert [r.type for r in log] == ["session_started", "session_ended", "session_started"]


def test_no_session_no_action(staff):
    access, _, _ = make(staff)
    with pytest.raises(AccessDenied) as info:
        access.require("open_polls")
    assert info.value.reason == "no_session" and "poll worker" in str(info.value)


def test_wrong_pin_is_refused_and_journaled_without_the_pin(staff):
    access, _, log = make(staff)
    with pytest.raises(AccessDenied) as info:
        access.login("poll_worker", EM)  # the other role's PIN
    assert info.value.reason == "wrong_pin" and "4 attempt(s) left" in str(info.value)
    assert access.session is None
    assert [(r.type, r.data) for r in log] == [("pin_rejected", {"role": "poll_worker", "attempt": 1})]
    assert EM not in repr(log) and PW not in repr(log)


def test_lockout_after_five_wrong_pins_then_doubles(staff):
    access, clock, log = make(staff, max_attempts=5, lockout_seconds=60)
    for n in range(4):
        with pytest.raises(AccessDenied, match="attempt"):
            access.login("poll_worker", "000001")
    with pytest.raises(AccessDenied) as info:
        access.login("poll_worker", "000001")
    assert info.value.reason == "locked"
    assert log[-1].type == "role_locked" and log[-1].data == {"role": "poll_worker", "seconds": 60}
    with pytest.raises(AccessDenied) as info:  # even the right PIN, while locked
        access.login("poll_worker", PW)
    assert info.value.reason == "locked" and access.locked_for("poll_worker") == 60
    access.login("election_manager", EM)  # the other role is not locked
    clock.t += 60
    with pytest.raises(AccessDenied) as info:  # one more wrong PIN after the lock: twice as long
        access.login("poll_worker", "000002")
    assert info.value.reason == "locked" and log[-1].data["seconds"] == 120
    clock.t += 119
    with pytest.raises(AccessDenied, match="locked"):
        access.login("poll_worker", PW)
    clock.t += 1
    with pytest.raises(AccessDenied) as info:
        access.login("poll_worker", "000003")
    assert log[-1].data["seconds"] == 240
    clock.t += 240
    access.login("poll_worker", PW)  # a right PIN resets the count and the lockout
    for n in range(4):
        with pytest.raises(AccessDenied) as info:
            access.login("poll_worker", "000004")
        assert info.value.reason == "wrong_pin"


def test_lockout_survives_a_restart(staff):
    access, clock, log = make(staff)
    for n in range(5):
        with pytest.raises(AccessDenied):
            access.login("poll_worker", "000001")
    clock.t += 10
    rebooted = StationAccess(staff, clock)
    rebooted.restore(log)
    assert rebooted.locked_for("poll_worker") == 50
    with pytest.raises(AccessDenied, match="locked"):
        rebooted.login("poll_worker", PW)
    partial, _, log2 = make(staff)
    for n in range(3):
        with pytest.raises(AccessDenied):
            partial.login("election_manager", "000001")
    again = StationAccess(staff, clock)
    again.restore(log2)
    with pytest.raises(AccessDenied) as info:
        again.login("election_manager", "000001")
    assert "1 attempt(s) left" in str(info.value)


def test_session_ends_after_idle_time(staff):
    access, clock, log = make(staff, idle_seconds=300)
    access.login("poll_worker", PW)
    clock.t += 299
    access.require("pause_polls")  # an action keeps the session alive
    clock.t += 299
    access.require("resume_polls")
    clock.t += 300
    with pytest.raises(AccessDenied) as info:
        access.require("close_polls")
    assert info.value.reason == "idle"
    assert log[-1].type == "session_ended" and log[-1].data == {"role": "poll_worker", "reason": "idle"}
    assert access.current_role() is None


def test_session_ends_after_overall_limit(staff):
    access, clock, log = make(staff, idle_seconds=300, session_seconds=1000)
    access.login("poll_worker", PW)
    for _ in range(4):
        clock.t += 250
        if clock.t - 1000.0 < 1000:
            access.require("pause_polls")
    with pytest.raises(AccessDenied):
        access.require("pause_polls")
    assert log[-1].data["reason"] == "expired"


def test_simulation_access_acts_without_pins():
    from sim.unit.access import StandingAccess
    access = StandingAccess.for_roles(Clock())
    assert access.require("open_polls") == "poll_worker"
    assert access.require("reopen_polls") == "election_manager"
    only_pw = StandingAccess.for_roles(Clock(), roles=["poll_worker"])
    with pytest.raises(AccessDenied):
        only_pw.require("reopen_polls")


def test_the_firmware_has_no_pin_less_access():
    """No standing session exists in device/: a fresh StationAccess refuses every action."""
    import device.station.roles as roles
    assert not hasattr(StationAccess, "for_simulation")
    access = StationAccess({}, Clock())
    for action in POLICY:
        with pytest.raises(AccessDenied):
            access.require(action)
    assert "standing" not in open(roles.__file__).read()


def test_the_documented_policy_is_the_policy():
    from pathlib import Path
    from device.station.roles import policy_table
    doc = (Path(__file__).resolve().parent.parent / "docs" / "election-packages.md").read_text()
    assert policy_table() in doc, "update the roles table in docs/election-packages.md"


def test_unknown_role_and_role_without_pin(staff):
    access, _, _ = make({"poll_worker": staff["poll_worker"]})
    with pytest.raises(AccessDenied) as info:
        access.login("voter", PW)
    assert info.value.reason == "unknown_role" and "'voter'" in str(info.value)
    with pytest.raises(AccessDenied) as info:
        access.login("election_manager", EM)
    assert info.value.reason == "no_pin" and "election manager" in str(info.value)
    assert info.value.operator_message.code == "role_has_no_pin"


def test_lockout_message_counts_down(staff):
    access, clock, _ = make(staff)
    for _ in range(5):
        with pytest.raises(AccessDenied):
            access.login("poll_worker", "000001")
    clock.t += 10.5
    with pytest.raises(AccessDenied) as info:
        access.login("poll_worker", PW)
    assert "The poll worker is locked" in str(info.value) and "in 50 s" in str(info.value)
    assert access.locked_for("poll_worker") == 49.5 and access.locked_for("election_manager") == 0


def test_session_end_reasons(staff):
    access, _, log = make(staff)
    access.login("poll_worker", PW)
    assert access.current_role() == "poll_worker"
    access.login("election_manager", EM)
    access.logout()
    assert access.current_role() is None
    assert [r.data.get("reason") for r in log if r.type == "session_ended"] == ["new_login", "logout"]


def test_pin_errors_say_why():
    for pin, words in (("12345", "exactly 6 digits"), ("777777", "repeat one digit"), ("987654", "run of digits")):
        with pytest.raises(PinError, match=words):
            check_pin_strength(pin)
