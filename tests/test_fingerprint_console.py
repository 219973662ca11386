"""The fingerprint step on the unit and its console (issue 21): ``device run --sim`` for the
Kyrgyz election opens the sensor's twin on a pty, the unit thread asks the real driver for the
voter's press, the console says "place your finger" / "try again" / "not matched", and the
commission's identification is a poll worker's action of the table, counted in the view."""
from __future__ import annotations

import asyncio

from device.store.sqlite import SqliteStore
from device.unit.config import load_config
from device.unit.staff import OPERATOR_ACTIONS
from sim.day.enrolment import is_enrolled
from sim.unit.simulated_unit import SIM_MIRROR
from tests.console_kit import EM, PW, SIZE, act, ballotbox, screen_text, simulated_console

SEED = 4
UNENROLLED_RATE = 0.03  # sim/scenarios/kyrgyzstan-2017.json


async def _press(app, pilot, key: str) -> None:
    """The simulated voter presses (panel key); wait until the desk answered that press."""
    before = app.view.desk_message
    await pilot.press(key)
    await app.until(lambda v: v.desk_message != before)


def test_a_voter_matched_by_finger_and_one_identified_by_the_commission(tmp_path):
    sim, app = simulated_console(tmp_path, seed=SEED, voters=8, election="kyrgyzstan-2017")
    assert "fingerprint" in load_config(sim.config_path).peripherals
    first, second = sim.world.voters[0], sim.world.voters[1]
    for voter in (first, second):  # the seed is chosen so both have an enrolled template
        assert is_enrolled(SEED, voter.voter_id, UNENROLLED_RATE)

    async def day():
        async with app.run_test(size=SIZE) as pilot:
            await app.until(lambda v: v.situation == "unconfigured")
            await act(pilot, "l", pin=EM)
            await app.until(lambda v: v.situation == "election_loaded")
            await act(pilot, "o", pin=PW)
            await app.until(lambda v: v.situation == "polls_open")

            await pilot.press("1")  # the first voter's document: the desk asks for the finger
            view = await app.until(lambda v: v.identity_wait == "finger")
            assert view.desk_message.code == "place_finger" and view.checked_in == 0
            assert "Place your finger on the fingerprint sensor." in screen_text(app)
            assert "identify_by_commission" not in app.screen.offered  # nobody waits for it
            for _ in range(3):  # the voter's own finger (a press may be unreadable: again)
                await _press(app, pilot, "v")
                if app.view.checked_in == 1:
                    break
            view = await app.until(lambda v: v.checked_in == 1 and v.identity_wait == "")
            assert view.by_commission == 0
            await pilot.press("3")
            await app.until(lambda v: v.cast == 1 and not v.busy)

            await pilot.press("1")  # the second voter presses another person's finger
            await app.until(lambda v: v.identity_wait == "finger")
            await _press(app, pilot, "b")
            assert app.view.desk_message.code == "finger_try_again"
            assert "The fingerprint did not match." in screen_text(app)
            while app.view.identity_wait == "finger":
                await _press(app, pilot, "b")
            view = await app.until(lambda v: v.identity_wait == "commission")
            assert view.desk_message.code == "finger_not_matched" and view.checked_in == 1
            assert "Not matched: the commission decides" in screen_text(app)
            result = await act(pilot, OPERATOR_ACTIONS["identify_by_commission"].key, pin=PW)
            assert result.ok, result.text
            view = await app.until(lambda v: v.checked_in == 2 and v.by_commission == 1)
            assert view.identity_wait == "" and view.authorised_unused == 1
            assert "Identified by the commission 1" in screen_text(app)

    try:
        asyncio.run(day())
    finally:
        sim.close()
    store = SqliteStore(tmp_path / "unit.db", mirror=tmp_path / SIM_MIRROR)
    try:
        by_commission = [r.data for r in store.events() if r.data.get("identified_by") == "commission"]
    finally:
        store.close()
    assert len(by_commission) == 1 and by_commission[0]["reason"] == "no_match"
    assert second.voter_id not in str(by_commission[0])  # a keyed pseudonym, never the voter


def test_the_commission_action_is_refused_when_nobody_waits(tmp_path):
    sim, app = simulated_console(tmp_path, seed=SEED, voters=4, election="kyrgyzstan-2017")

    async def day():
        async with app.run_test(size=SIZE) as pilot:
            await app.until(lambda v: v.situation == "unconfigured")
            await act(pilot, "l", pin=EM)
            await act(pilot, "o", pin=PW)
            await app.until(lambda v: v.situation == "polls_open")
            # Submitted past the console (which does not offer it): the unit refuses it.
            result = await asyncio.wrap_future(app.unit.submit("identify_by_commission", PW))
            assert not result.ok
            assert app.view.checked_in == 0 and app.view.by_commission == 0

    try:
        asyncio.run(day())
    finally:
        sim.close()


def test_device_run_sim_plays_a_kyrgyz_day_through_the_sensor(tmp_path):
    """The operator's command: the robot presses the voters' fingers (and calls the commission
    when the sensor leaves it the decision); the templates are opened and wiped in the journal."""
    state = tmp_path / "unit"
    proc = ballotbox("device", "run", "--sim", "--election", "kyrgyzstan-2017", "--state", str(state),
                     "--voters", "6", "--seed", str(SEED), "--autoplay", "2", "--headless")
    assert "2 checked in, 2 ballots cast" in proc.stdout, proc.stdout
    store = SqliteStore(state / "unit.db", mirror=state / SIM_MIRROR)
    try:
        kinds = [r.type for r in store.events()]
    finally:
        store.close()
    assert kinds.count("templates_opened") == 1 and kinds.count("templates_wiped") == 1


def test_device_run_sim_names_an_unknown_election_in_one_line(tmp_path):
    proc = ballotbox("device", "run", "--sim", "--election", "nowhere", "--state", str(tmp_path / "u"),
                     check=False)
    assert proc.returncode == 2
    assert proc.stderr.strip().count("\n") == 0 and "no election file or named election 'nowhere'" in proc.stderr
    assert not (tmp_path / "u").exists()  # refused before the unit's state folder was made
