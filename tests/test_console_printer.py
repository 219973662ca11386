"""The printer's paper sensor is probed like the scanner's (issue 19 §1): "Printer problem" shows
as soon as the paper runs out, not at the next slip, and goes when a roll is loaded."""
from __future__ import annotations

import asyncio

from tests.console_kit import EM, SIZE, act, screen_text, simulated_console

AT_ONCE = 5.0  # seconds: the unit reads the sensor every second


def test_paper_out_shows_at_once_and_clears_when_loaded(tmp_path):
    sim, app = simulated_console(tmp_path, seed=4, voters=5)

    async def day():
        async with app.run_test(size=SIZE) as pilot:
            await app.until(lambda v: v.situation == "unconfigured")
            await act(pilot, "l", pin=EM)
            await app.until(lambda v: v.situation == "election_loaded")
            await pilot.press("8")  # the paper runs out: nothing is being printed
            await app.until(lambda v: v.situation == "printer_out", timeout=AT_ONCE)
            await pilot.pause()
            text = screen_text(app)
            assert "Printer problem" in text and "out of paper" in text
            await pilot.press("8")  # a new roll
            await app.until(lambda v: v.situation == "election_loaded", timeout=AT_ONCE)

    try:
        asyncio.run(day())
    finally:
        sim.close()
