"""The console's look, pinned as SVG snapshots (pytest-textual-snapshot) for its main screens.

Each runs a simulated unit (twins on ptys) on a stepped clock, so the journal pane and the
status line read the same on every run. ``--snapshot-update`` accepts a deliberate change.
With ``BALLOTBOX_SCREENSHOTS=1`` the screens are also written to ``docs/console/`` (committed),
so an ordinary test run leaves the work tree clean.
"""
from __future__ import annotations

import os
from pathlib import Path

import pytest

from device.console.widgets import ConfirmDialog, PinDialog
from tests.console_kit import EM, PW, StepClock, act, shown, simulated_console

DOCS = Path(__file__).resolve().parent.parent / "docs" / "console"
SIZE = (150, 48)  # the screens of docs/console/ (the other console tests run at 80x24)


def _snap(snap_compare, tmp_path, name, steps, size=SIZE):
    sim, app = simulated_console(tmp_path, seed=5, voters=12, clock=StepClock())

    async def run_before(pilot):
        await app.until(lambda v: v.situation == "unconfigured")
        await steps(app, pilot)
        await pilot.pause()
        if os.environ.get("BALLOTBOX_SCREENSHOTS") == "1":
            DOCS.mkdir(parents=True, exist_ok=True)
            app.save_screenshot(f"{name}.svg", str(DOCS))

    try:
        assert snap_compare(app, run_before=run_before, terminal_size=size)
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


# --- the smallest and a common terminal, and the console in each language (issue 19) --------
@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_polls_open_fits(snap_compare, tmp_path, size):
    async def one(app, pilot):
        await _one_voter(app, pilot, "3")
        await app.until(lambda v: v.cast == 1 and not v.busy)
    _snap(snap_compare, tmp_path, f"polls-open-{size[0]}x{size[1]}", one, size)


@pytest.mark.parametrize("size", [(80, 24), (120, 40)], ids=["80x24", "120x40"])
def test_close_dialog_fits(snap_compare, tmp_path, size):
    async def asked(app, pilot):
        await _open(app, pilot)
        await pilot.press("c")
        await shown(pilot, PinDialog)
        await pilot.press(*PW, "enter")
        await shown(pilot, ConfirmDialog)
    _snap(snap_compare, tmp_path, f"close-dialog-{size[0]}x{size[1]}", asked, size)


@pytest.mark.parametrize("lang", ["km", "ky", "ru"])
def test_polls_open_in_each_language(snap_compare, tmp_path, lang):
    async def switched(app, pilot):
        await _one_voter(app, pilot, "3")
        await app.until(lambda v: v.cast == 1 and not v.busy)
        while app.tr.lang != lang:  # G cycles the console's languages
            await pilot.press("g")
    _snap(snap_compare, tmp_path, f"polls-open-{lang}", switched, (120, 40))
