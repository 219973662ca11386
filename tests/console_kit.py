"""Shared by the console tests: a simulated unit (twins on ptys) with its console, and key helpers."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from device.console.app import OperatorConsole
from device.console.widgets import ConfirmDialog, PinDialog
from device.unit.config import load_config
from device.unit.runtime import Unit
from sim.simulated_unit import SIM_PINS, start_simulated_unit

PW, EM = SIM_PINS["poll_worker"], SIM_PINS["election_manager"]
SIZE = (150, 48)


class StepClock:
    """A clock the test moves: the journal pane and slips read the same on every run
    (snapshots), and a lockout ends when the test says so (no sleeping)."""

    def __init__(self) -> None:
        self.now = dt.datetime(2026, 11, 3, 8, 0, tzinfo=dt.timezone.utc).timestamp()

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def simulated_console(state: Path, *, seed: int = 7, voters: int = 30, capacity: int = 500,
                      clock=None):
    sim = start_simulated_unit(state, seed=seed, voters=voters, capacity=capacity)
    unit = Unit(load_config(sim.config_path), devices=sim.devices, **({"clock": clock} if clock else {}))
    return sim, OperatorConsole(unit, world_panel=sim.panel)


# How long a helper waits for the unit (its drivers talk to the twins over ptys, in threads):
# a deadline in seconds, not a number of event-loop turns, which run out early on a loaded machine.
PATIENCE = 30.0


async def shown(pilot, kind: type, patience: float = PATIENCE) -> None:
    deadline = time.monotonic() + patience
    while time.monotonic() < deadline:
        if isinstance(pilot.app.screen, kind):
            return
        await pilot.pause()
    raise AssertionError(f"{kind.__name__} was not shown")


async def act(pilot, key: str, pin: str | None = None, confirm: bool | None = None):
    """Press an action key, type the PIN, answer the confirmation; return the action's result."""
    app = pilot.app
    before = len(app.notices)
    await pilot.press(key)
    if pin is not None:
        await shown(pilot, PinDialog)
        await pilot.press(*pin, "enter")
    if confirm is not None:
        await shown(pilot, ConfirmDialog)
        await pilot.press("y" if confirm else "n")
    deadline = time.monotonic() + PATIENCE
    while len(app.notices) <= before and time.monotonic() < deadline:
        await pilot.pause()
    assert len(app.notices) > before, f"no result for {key!r}"
    await pilot.pause()
    return app.notices[-1]


def screen_text(app) -> str:
    """Everything the current screen says (heading, message, details, notice, status line)."""
    screen = app.screen
    parts = []
    for wid in ("#status", "#heading", "#message", "#detail", "#notice"):
        for w in screen.query(wid):
            parts.append(str(w.render()))
    return "\n".join(parts)
