"""The operator's day, end to end (issue 19's "done when"): the command line, then the console.

``device provision``, ``election package``, ``device load --pin-stdin`` as the README says, then
``device run --config unit.toml``: the console shows what the store holds, however the package
got there (before the fix it said "No election loaded" and refused to load it again), and the
day goes on from it on the console's keys to a central tally the test runs.
"""
from __future__ import annotations

import asyncio

from tests.central_kit import running_service
from tests.console_kit import (EM, PW, act, ballotbox, cli_provisioned_unit, console_of, screen_text,
                               send_results_to, served_package)


def test_the_operators_day_from_the_cli_to_the_central_tally_and_unload(tmp_path):
    """Issue 19's "done when": provision and load through the CLI, run the console, switch to
    Khmer and back, open, vote, printer out of paper and refilled, close, results sent to a
    central tally the test started, export and unload, all on the console's keys."""

    sim, config = cli_provisioned_unit(tmp_path)
    with running_service(served_package(config), tmp_path) as (url, _service):
        send_results_to(config, url)
        app = console_of(sim, config)

        async def day() -> None:
            async with app.run_test(size=(120, 40)) as pilot:
                await app.until(lambda v: v.situation == "election_loaded")
                await pilot.press("g")
                await pilot.pause()
                assert app.tr.lang == "km" and "បោះឆ្នោត" in screen_text(app)
                for _ in range(3):
                    await pilot.press("g")
                await pilot.pause()
                assert app.tr.lang == "en" and "Election loaded" in screen_text(app)
                r = await act(pilot, "o", pin=PW)
                assert r.ok, r.text
                for n in (1, 2):
                    await pilot.press("1")
                    await app.until(lambda v, n=n: v.checked_in == n)
                    await pilot.press("3")
                    await app.until(lambda v, n=n: v.cast == n and not v.busy)
                await pilot.press("8")  # the printer's paper runs out
                await app.until(lambda v: v.situation == "printer_out", timeout=5)
                assert "out of paper" in screen_text(app)
                await pilot.press("8")  # a new roll
                await app.until(lambda v: v.situation == "polls_open", timeout=5)
                r = await act(pilot, "c", pin=PW, confirm=True)
                assert r.ok and "2 ballots cast" in r.text, r.text
                await app.until(lambda v: v.upload is not None and v.upload.state == "sent")
                assert "Results sent to the central tally" in screen_text(app)
                r = await act(pilot, "e", pin=EM)
                assert r.ok and "Exported to" in r.text, r.text
                r = await act(pilot, "l", pin=EM, confirm=True)  # unload, on the console's key
                assert r.ok and "unloaded" in r.text, r.text
                await app.until(lambda v: v.situation == "unconfigured")

        try:
            asyncio.run(day())
        finally:
            sim.close()
    # The store says so to the command line too: no package is loaded any more.
    again = ballotbox("device", "unload", "--store", str(config.parent / "unit.db"), "--pin-stdin",
                      stdin=EM + "\n", check=False)
    assert again.returncode != 0 and "no election package is loaded" in again.stderr, again
