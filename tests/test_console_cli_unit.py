"""The operator's path through the command line, then the console (issue 19 §1).

``device provision``, ``election package``, ``device load --pin-stdin`` as the README says, then
``device run --config unit.toml``: the console shows what the store holds, however the package
got there, and the day goes on from it on the console's keys.
"""
from __future__ import annotations

import asyncio

from tests.console_kit import PW, SIZE, act, cli_provisioned_unit, console_of, screen_text


def test_a_package_loaded_by_the_cli_is_what_the_console_shows(tmp_path):
    sim, config = cli_provisioned_unit(tmp_path)
    app = console_of(sim, config)

    async def day() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await app.until(lambda v: v.situation == "election_loaded")
            assert "Election loaded" in screen_text(app)
            r = await act(pilot, "o", pin=PW)
            assert r.ok, r.text
            await app.until(lambda v: v.situation == "polls_open")
            await pilot.press("1")
            await app.until(lambda v: v.checked_in == 1)
            await pilot.press("3")
            await app.until(lambda v: v.cast == 1 and not v.busy)

    try:
        asyncio.run(day())
    finally:
        sim.close()
