"""The console's look, pinned as SVG snapshots (pytest-textual-snapshot) for its main screens.

Each runs a simulated unit (twins on ptys) on a stepped clock, so the journal pane and the
status line read the same on every run. ``--snapshot-update`` accepts a deliberate change.
With ``BALLOTBOX_SCREENSHOTS=1`` the screens are also written to ``docs/console/`` (committed),
so an ordinary test run leaves the work tree clean.
"""
from __future__ import annotations

import os
from pathlib import Path

from tests.console_kit import EM, PW, SIZE, StepClock, act, simulated_console

DOCS = Path(__file__).resolve().parent.parent / "docs" / "console"


def _snap(snap_compare, tmp_path, name, steps):
    sim, app = simulated_console(tmp_path, seed=5, voters=12, clock=StepClock())

    async def run_before(pilot):
        await app.until(lambda v: v.situation == "unconfigured")
        await steps(app, pilot)
        await pilot.pause()
        if os.environ.get("BALLOTBOX_SCREENSHOTS") == "1":
            DOCS.mkdir(parents=True, exist_ok=True)
            app.save_screenshot(f"{name}.svg", str(DOCS))

    try:
        assert snap_compare(app, run_before=run_before, terminal_size=SIZE)
    finally:
        sim.close()


async def _open(app, pilot):
    await act(pilot, "l", pin=EM)
    await app.until(lambda v: v.situation == "election_loaded")
    await act(pilot, "o", pin=PW)
    await app.until(lambda v: v.situation == "polls_open")


async def _one_voter(app, pilot, key="3"):
    await _open(app, pilot)
    await pilot.press("1")
    await app.until(lambda v: v.checked_in == 1)
    await pilot.press(key)


def test_unconfigured(snap_compare, tmp_path):
    async def nothing(app, pilot):
        pass
    _snap(snap_compare, tmp_path, "unconfigured", nothing)


def test_needs_review(snap_compare, tmp_path):
    async def overvote(app, pilot):
        await _one_voter(app, pilot, "4")
        await app.until(lambda v: v.situation == "needs_review")
    _snap(snap_compare, tmp_path, "needs-review", overvote)


def test_polls_open_after_a_ballot(snap_compare, tmp_path):
    async def cast(app, pilot):
        await _one_voter(app, pilot, "3")
        await app.until(lambda v: v.cast == 1 and not v.busy)
    _snap(snap_compare, tmp_path, "polls-open", cast)
