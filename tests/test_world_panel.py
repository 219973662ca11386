"""The simulated world's panel beside the console (issue 19 §5): it counts the voters one by one,
forgets a sheet the voter took back, keeps a voter waiting while the polls are not open (and
says so), and shows the cover as it is."""
from __future__ import annotations

import asyncio

from tests.console_kit import EM, PW, SIZE, act, simulated_console


def _panel_text(app) -> str:
    return "\n".join(str(p.render()) for p in app.screen.query(".world-panel"))


async def _until_panel(app, pilot, text: str) -> str:
    for _ in range(200):
        shown = _panel_text(app)
        if text in shown:
            return shown
        await pilot.pause(0.05)
    raise AssertionError(f"{text!r} not in the panel:\n{_panel_text(app)}")


def test_the_world_panel_shows_what_is_there(tmp_path):
    sim, app = simulated_console(tmp_path, seed=8, voters=6)
    world = sim.world
    total = len(world.voters)

    async def day():
        async with app.run_test(size=SIZE) as pilot:
            await app.until(lambda v: v.situation == "unconfigured")
            await _until_panel(app, pilot, f"next voter: 1 of {total}")
            await pilot.press("1")  # a card while the polls are not open: the voter waits
            await _until_panel(app, pilot, "The polls are not open: the voter waits.")
            assert world.state.next_voter == 0
            await act(pilot, "l", pin=EM)
            await app.until(lambda v: v.situation == "election_loaded")
            await act(pilot, "o", pin=PW)
            await app.until(lambda v: v.situation == "polls_open")
            await pilot.press("1")
            await app.until(lambda v: v.checked_in == 1)
            await _until_panel(app, pilot, f"next voter: 2 of {total}")
            await pilot.press("4")  # overvoted: handed back once the voter takes it back
            await app.until(lambda v: v.situation == "needs_review")
            await act(pilot, "t")
            await _until_panel(app, pilot, "handed back: sheet")
            await pilot.press("3")  # the voter took the sheet, corrected it on a new one
            await app.until(lambda v: v.cast == 1 and not v.busy)
            shown = await _until_panel(app, pilot, "handed back: -")
            assert "cover: closed" in shown
            world.set_cover(True)  # a poll worker opens the cover
            await _until_panel(app, pilot, "cover: OPEN")
            world.set_cover(False)
            await _until_panel(app, pilot, "cover: closed")

    try:
        asyncio.run(day())
    finally:
        sim.close()
