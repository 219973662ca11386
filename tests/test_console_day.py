"""A whole polling day driven through the operator console (Textual Pilot) against the twins on ptys.

Keys and PINs only, as the staff would: load the signed election package (a wrong PIN first),
test mode with a test deck, test report and reset, open (zero report), a refused
check-in, 13 voters (one overvote taken back and corrected, one overvote cast anyway, a jam
cleared), pause and resume, wrong PINs until the poll worker's role locks, close with the
election manager's PIN, results tape. At each step the screen is read; at the end the tally
equals what the voters meant and the sheets in the boxes equal the cast records.
"""
from __future__ import annotations

import asyncio

from tests.console_kit import EM, PW, SIZE, StepClock, act, screen_says, simulated_console

# Voters 4, 7, 10 and 12 are the special ones (below); one plain voter after the last of them.
# (It was 20: the seven more plain voters proved nothing the others do not, at 0.4 CPU-s each.)
VOTERS = 13


async def _voter(app, pilot, n_checked: int, how: str = "3", wait_cast: bool = True) -> None:
    await pilot.press("1")  # the next voter shows their card
    await app.until(lambda v: v.checked_in == n_checked)
    assert "checked in. One ballot authorised" in await screen_says(pilot, "checked in. One ballot authorised")
    cast = app.view.cast
    await pilot.press(how)
    if how == "3" and wait_cast:
        await app.until(lambda v: v.cast == cast + 1 and not v.busy)
        assert "Your ballot was counted" in await screen_says(pilot, "Your ballot was counted")


def test_a_whole_day_on_keys_and_pins(tmp_path):
    clock = StepClock()
    sim, app = simulated_console(tmp_path, seed=11, voters=30, clock=clock)
    world = sim.world

    async def day() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await app.until(lambda v: v.situation == "unconfigured")
            assert "No election loaded" in await screen_says(pilot, "No election loaded")
            r = await act(pilot, "l", pin="999999")  # a wrong PIN does nothing
            assert not r.ok and "Wrong PIN" in r.text
            r = await act(pilot, "l", pin=EM)
            assert r.ok
            await app.until(lambda v: v.situation == "election_loaded")
            assert "Election loaded" in await screen_says(pilot, "Election loaded")

            r = await act(pilot, "t", pin=EM)  # logic and accuracy test with a test deck
            assert r.ok, r.text
            await app.until(lambda v: v.situation == "test_mode")
            for n in range(1, 4):
                await pilot.press("3")
                await app.until(lambda v, n=n: v.test_ballots == n and not v.busy)
            assert "TEST MODE: 3 test ballots" in await screen_says(pilot, "TEST MODE: 3 test ballots")
            r = await act(pilot, "x", pin=EM)
            assert r.ok and "3 test ballots" in r.text
            await app.until(lambda v: v.situation == "election_loaded")
            assert [s.kind for s in world.printed_slips()] == ["test_report"]
            assert app.view.cast == 0

            r = await act(pilot, "o", pin=PW)
            assert r.ok, r.text
            await app.until(lambda v: v.situation == "polls_open")
            assert [s.kind for s in world.printed_slips()] == ["test_report", "zero_report"]
            assert "Polls OPEN" in await screen_says(pilot, "Polls OPEN")

            await pilot.press("2")  # a stranger's card
            await app.until(lambda v: v.desk_message is not None and v.desk_message.code == "not_on_roll")
            assert "Not on the voter roll" in await screen_says(pilot, "Not on the voter roll")

            for i in range(1, VOTERS + 1):
                if i == 4:  # overvotes, takes the ballot back, corrects it
                    await _voter(app, pilot, i, "4")
                    await app.until(lambda v: v.situation == "needs_review")
                    assert "Too many marks" in await screen_says(pilot, "Too many marks")
                    r = await act(pilot, "t")
                    assert "Ballot returned" in r.text
                    await app.until(lambda v: v.situation == "polls_open")
                    assert world.take_back()
                    cast = app.view.cast
                    await pilot.press("3")
                    await app.until(lambda v, cast=cast: v.cast == cast + 1 and not v.busy)
                elif i == 7:  # overvotes and casts it anyway
                    await _voter(app, pilot, i, "4")
                    await app.until(lambda v: v.situation == "needs_review")
                    cast = app.view.cast
                    r = await act(pilot, "k")
                    assert r.ok
                    await app.until(lambda v, cast=cast: v.cast == cast + 1)
                elif i == 10:  # the transport jams; the poll worker clears it
                    await pilot.press("6")
                    await _voter(app, pilot, i, "3", wait_cast=False)
                    await app.until(lambda v: v.situation == "jammed")
                    assert "Paper jam" in await screen_says(pilot, "Paper jam")
                    # The poll worker opens the cover (the unit shows it), takes the sheet out
                    # and closes the cover ("7"); the jam screen is back once the unit has seen
                    # the cover close. (Pressing "j" while the cover-open screen shows does nothing.)
                    world.scanner.open_cover()
                    await app.until(lambda v: v.cover_open)
                    await pilot.press("7")
                    await app.until(lambda v: not v.cover_open and v.situation == "jammed")
                    r = await act(pilot, "j", pin=PW)
                    assert "Give the sheet back to the voter" in r.text
                    await app.until(lambda v: v.situation == "polls_open")
                    cast = app.view.cast
                    await pilot.press("0")  # the voter inserts it again
                    await app.until(lambda v, cast=cast: v.cast == cast + 1 and not v.busy)
                else:
                    await _voter(app, pilot, i)
                if i == 12:
                    r = await act(pilot, "p", pin=PW)
                    await app.until(lambda v: v.situation == "polls_paused")
                    assert "Polls PAUSED" in await screen_says(pilot, "Polls PAUSED")
                    await act(pilot, "u", pin=PW)
                    await app.until(lambda v: v.situation == "polls_open")
            assert app.view.cast == VOTERS and app.view.checked_in == VOTERS and app.view.returned == 1

            for n in range(5):  # someone guesses the poll worker's PIN
                r = await act(pilot, "p", pin="000000")
                assert not r.ok
            assert "locked" in r.text
            r = await act(pilot, "p", pin=PW)  # even the right PIN now waits out the lockout
            assert not r.ok and "locked" in r.text
            assert app.view.situation == "polls_open"

            r = await act(pilot, "c", pin=EM, confirm=True)  # not the manager's job
            assert not r.ok and app.view.situation == "polls_open"
            clock.advance(61)  # the lockout ends
            r = await act(pilot, "c", pin=PW, confirm=False)  # asked, and said no
            assert app.view.situation == "polls_open"
            r = await act(pilot, "c", pin=PW, confirm=True)
            assert r.ok, r.text
            await app.until(lambda v: v.situation == "polls_closed")
            assert "Polls CLOSED" in await screen_says(pilot, "Polls CLOSED")
            r = await act(pilot, "r", pin=PW)  # the results tape again
            assert r.ok, r.text
            r = await act(pilot, "e", pin=PW)  # exporting is the election manager's job
            assert not r.ok
            r = await act(pilot, "e", pin=EM)
            assert r.ok and "Exported to" in r.text, r.text

    try:
        asyncio.run(day())
        slips = [s.kind for s in world.printed_slips()]
        assert slips.count("results") == 2 and "polls_paused" in slips
    finally:
        sim.close()
    from device.store.sqlite import SqliteStore
    from device.results.tally import tally_station
    from sim.unit.simulated_unit import SIM_MIRROR
    store = SqliteStore(tmp_path / "unit.db", mirror=tmp_path / SIM_MIRROR)
    cvrs = store.cast_vote_records()
    store.close()
    assert len(cvrs) == VOTERS == len(world.sheets_counted())
    exported = list((tmp_path / "export").iterdir())
    assert len(exported) == 1 and (exported[0] / "manifest.json").exists()
    assert tally_station(world.election, world.station, cvrs).to_json() == world.intended_results().to_json()
