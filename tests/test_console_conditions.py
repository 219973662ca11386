"""The unit's physical conditions on the console: a lost scanner, a full ballot box, a printer
without paper, and what the operator does about each (twins on ptys, keys and PINs).
"""
from __future__ import annotations

import asyncio

from tests.console_kit import EM, PW, SIZE, StepClock, act, screen_text, simulated_console


async def _open(app, pilot):
    await act(pilot, "l", pin=EM)
    await app.until(lambda v: v.situation == "election_loaded")
    await act(pilot, "o", pin=PW)
    await app.until(lambda v: v.situation == "polls_open")


async def _vote(app, pilot, n):
    await pilot.press("1")
    await app.until(lambda v: v.checked_in == n)
    await pilot.press("3")
    await app.until(lambda v: v.cast == n and not v.busy)


def test_lost_scanner_full_box_and_printer_paper(tmp_path):
    sim, app = simulated_console(tmp_path, seed=9, voters=12, capacity=2, clock=StepClock())
    world = sim.world

    async def day():
        async with app.run_test(size=SIZE) as pilot:
            await app.until(lambda v: v.situation == "unconfigured")
            await _open(app, pilot)

            await pilot.press("9")  # the scanner's cable is pulled
            view = await app.until(lambda v: v.situation == "peripheral_lost")
            assert view.lost[0][0] == "scanner"
            await pilot.pause()
            assert "A peripheral is disconnected" in screen_text(app) and "Scanner:" in screen_text(app)
            await pilot.press("9")  # plugged back: the unit recovers by itself
            await app.until(lambda v: v.situation == "polls_open")

            await _vote(app, pilot, 1)
            await _vote(app, pilot, 2)  # the box holds 2: it is full
            await app.until(lambda v: v.situation == "box_full")
            await pilot.pause()
            assert "Ballot box full" in screen_text(app)
            await pilot.press("1")
            await app.until(lambda v: v.checked_in == 3)
            await pilot.press("3")  # the sheet waits at the entry while the box is full
            await pilot.pause()
            assert app.view.cast == 2 and world.scanner.entry is not None
            r = await act(pilot, "s", pin=PW)
            assert r.ok and "2 sheets" in r.text and app.view.box_swaps == 1
            await app.until(lambda v: v.cast == 3 and not v.busy)  # now it is scanned and cast
            assert len(world.state.sealed) == 2 and len(world.scanner.box) == 1

            await pilot.press("8")  # the printer runs out of paper
            r = await act(pilot, "p", pin=PW)
            assert "out of paper" in r.text
            await app.until(lambda v: v.situation == "printer_out")
            await pilot.pause()
            assert "Printer problem" in screen_text(app)
            await pilot.press("8")  # paper loaded again
            r = await act(pilot, "c", pin=PW, confirm=True)
            assert r.ok and "out of paper" not in r.text
            await app.until(lambda v: v.situation == "polls_closed")

    try:
        asyncio.run(day())
    finally:
        sim.close()
    # the paused slip came out partly (the printer said paper end); the results tape in full
    assert [s.kind for s in world.printed_slips()] == ["zero_report", "polls_paused", "results"]
