"""Power cuts during a day run on the console: ``device run --sim`` SIGKILLed at seeded points.

The robot of ``sim/unit/world_panel.py`` plays the day on the console's keys and PINs (headless).
The simulated world SIGKILLs the whole process right after its N-th motion (N seeded); after
each cut the unit is booted again in-process and its console must show the recovered state:
the counts the journal holds, and as many sheets in the boxes as cast records. Then the day is
finished; the tally equals what the voters meant.
"""
from __future__ import annotations

import asyncio
import os
import pickle
import random
import signal
import subprocess
import sys

from device.results.tally import tally_station
from device.store.sqlite import SqliteStore
from sim.unit.simulated_unit import SIM_MIRROR, start_simulated_unit
from tests.console_kit import SIZE, screen_text, simulated_console

SEED, VOTERS, PLAYED = 3, 12, 4


def _records(state):
    store = SqliteStore(state / "unit.db", mirror=state / SIM_MIRROR)
    try:
        return store.cast_vote_records()
    finally:
        store.close()


def _day(state, cut: int | None):
    cmd = [sys.executable, "-m", "device.cli.main", "device", "run", "--sim", "--state", str(state),
           "--voters", str(VOTERS), "--seed", str(SEED), "--autoplay", str(PLAYED), "--headless"]
    env = {**os.environ, "BALLOTBOX_SIM_POWER_CUT": str(cut or 0)}
    return subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)


def _recovered(state) -> None:
    """Boot the unit on the same disk and world; the console shows the journal's counts and the
    boxes hold one sheet per cast record."""
    sim, app = simulated_console(state, seed=SEED, voters=VOTERS)

    async def look():
        async with app.run_test(size=SIZE) as pilot:
            view = await app.until(lambda v: v.situation != "starting" and not v.busy)
            await pilot.pause()
            return view, screen_text(app)
    try:
        view, text = asyncio.run(look())
        counted = len(sim.world.sheets_counted())
    finally:
        sim.close()
    cvrs = _records(state)
    assert view.cast == len(cvrs) == counted
    assert f"Ballots cast {len(cvrs)}" in text
    assert view.situation in ("unconfigured", "election_loaded", "polls_open", "polls_closed")


def test_sigkill_mid_day_then_restart(tmp_path):
    rng = random.Random(2026)
    state = tmp_path / "unit"
    kills = 0
    while kills < 2:
        proc = _day(state, rng.randint(2, 4 * PLAYED))
        if proc.returncode != -signal.SIGKILL:
            break
        kills += 1
        _recovered(state)
    assert kills >= 2, "the seeded cuts should fall inside the day"
    proc = _day(state, None)
    assert proc.returncode == 0, proc.stderr[-2000:]
    assert "polls CLOSED" in proc.stdout
    with open(state / "world.pkl", "rb") as fh:
        world = pickle.load(fh)
    cvrs = _records(state)
    sheets = world.sealed + world.box + world.invalid
    # A voter whose check-in a cut lost before it was recorded walks away: at most one per cut.
    assert len(sheets) == len(cvrs) and PLAYED - kills <= len(cvrs) <= PLAYED
    sim = start_simulated_unit(state, seed=SEED, voters=VOTERS)
    try:
        intended = sim.world.intended_results()
        assert tally_station(sim.world.election, sim.world.station, cvrs).to_json() == intended.to_json()
    finally:
        sim.close()
