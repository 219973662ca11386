"""The unit's own thread (``device/unit/runtime.py``) survives a full disk and heals.

Before: a PIN action after the store failed raised out of the unit's thread; its future never
resolved and the console hung. Here a real simulated unit (twins on ptys, SQLite store with its
mirror) runs its thread; the store's page limit is set to its size (real SQLITE_FULL), and PIN
actions are submitted until one meets the full disk: every future resolves, the refusal names
the fault, the screen's view shows it, and once space returns the next action succeeds.
"""
from __future__ import annotations

import threading
import time

from device.unit.config import load_config
from device.unit.runtime import Unit
from sim.unit.simulated_unit import start_simulated_unit
from tests.console_kit import EM, PATIENCE, PW

ROOM = 100_000


def _ready(unit: Unit) -> None:
    deadline, tick = time.monotonic() + PATIENCE, threading.Event()
    while unit.controller is None and time.monotonic() < deadline:
        tick.wait(0.05)  # the unit's thread opens its peripherals over ptys
    assert unit.controller is not None


def test_the_unit_thread_survives_a_full_disk_and_heals(tmp_path):
    sim = start_simulated_unit(tmp_path, seed=3, voters=4)
    unit = Unit(load_config(sim.config_path), devices=sim.devices)
    unit.start()
    try:
        def act(action: str, pin: str):
            return unit.submit(action, pin).result(timeout=PATIENCE)  # resolves: the thread lives

        assert act("load_election", EM).ok
        _ready(unit)
        assert act("open", PW).ok
        conn = unit.store.inner._conn
        conn.execute(f"PRAGMA main.max_page_count = {conn.execute('PRAGMA main.page_count').fetchone()[0]}")
        results = []
        for _ in range(60):
            results.append(act("pause", PW))
            if not results[-1].ok:
                break
            results.append(act("resume", PW))
            if not results[-1].ok:
                break
        refused = results[-1]
        assert not refused.ok and "cannot record" in refused.text and "full" in refused.text
        assert unit._thread.is_alive() and unit.controller.store_fault is not None
        again = act("pause", PW)  # still full: refused with the same fault, the thread lives on
        assert not again.ok and "cannot record" in again.text
        unit._publish()
        assert unit.view.message is not None and unit.view.message.code == "store_write_failed"
        conn.execute(f"PRAGMA main.max_page_count = {ROOM}")
        healed = act("resume" if unit.controller.polls == "polls_paused" else "pause", PW)
        assert healed.ok, healed.text
        assert unit.controller.store_fault is None
        assert "store_recovered" in [r.type for r in unit.store.events()]
    finally:
        unit.stop()
        sim.close()
