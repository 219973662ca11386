"""Shared by the console tests: a simulated unit (twins on ptys) with its console, and key helpers."""
from __future__ import annotations

import datetime as dt
import time
from pathlib import Path

from device.console.app import OperatorConsole
from device.console.widgets import ConfirmDialog, PinDialog
from device.unit.config import load_config
from device.unit.runtime import Unit
from sim.unit.simulated_unit import SIM_PINS, start_simulated_unit

PW, EM = SIM_PINS["poll_worker"], SIM_PINS["election_manager"]
# The console tests' terminal: the smallest the console is laid out for (the journal pane is hidden,
# still updated). They read the screens' words, not their layout (the snapshots pin that, at 80x24,
# 120x40 and 150x48), and a day drawn at 150x48 cost about a third more CPU.
SIZE = (80, 24)


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
                      clock=None, election: str | None = None):
    sim = start_simulated_unit(state, seed=seed, voters=voters, capacity=capacity,
                               **({"election": election} if election else {}))
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


async def screen_says(pilot, words: str, patience: float = PATIENCE) -> str:
    """The screen's text once it holds ``words``, or as it is when the patience runs out: a screen
    the console has just switched to is filled in after its first refresh, which on a loaded
    machine can come after ``until`` saw the view that the screen shows."""
    deadline = time.monotonic() + patience
    while words not in (text := screen_text(pilot.app)) and time.monotonic() < deadline:
        await pilot.pause()
    return text


# --- a unit set up as its operators do it, through the real command line ---------------------
def ballotbox(*args: str, stdin: str | None = None, check: bool = True):
    """Run the real ``ballotbox`` command (a subprocess); its CompletedProcess."""
    import subprocess
    import sys
    proc = subprocess.run([sys.executable, "-m", "device.cli.main", *args], input=stdin,
                          capture_output=True, text=True, timeout=120)
    if check:
        assert proc.returncode == 0, (args, proc.stdout, proc.stderr)
    return proc


def cli_provisioned_unit(tmp: Path, *, seed: int = 5, voters: int = 12, language: str | None = None):
    """The README's operator path on a simulated world: ``election keygen``, ``device provision``,
    ``election package`` (the world's roll, this unit's key), ``device load --pin-stdin``; then a
    ``unit.toml`` naming the world's ptys. Returns (simulated world, path of unit.toml)."""
    import json
    sim = start_simulated_unit(tmp / "world", seed=seed, voters=voters)
    unit_dir = tmp / "unit"
    unit_dir.mkdir()
    station = sim.world.station
    ballotbox("election", "keygen", "--out", str(unit_dir / "keys"))
    provisioned = json.loads(ballotbox("device", "provision", "--store", str(unit_dir / "unit.db"),
                                       "--authority", str(unit_dir / "keys" / "authority.pub"),
                                       "--json").stdout)
    (unit_dir / "units.json").write_text(json.dumps({station: [provisioned["unit_public_key"]]}))
    (unit_dir / "roll.csv").write_text(sim.roll.to_csv())
    (unit_dir / "pins.csv").write_text("station_id,role,pin\n" + "".join(f"{station},{role},{pin}\n" for role, pin in SIM_PINS.items()))
    ballotbox("election", "package", "--election", "demo",
              "--roll", str(unit_dir / "roll.csv"), "--key", str(unit_dir / "keys" / "authority.key"),
              "--units", str(unit_dir / "units.json"), "--staff", str(unit_dir / "pins.csv"),
              "--mode", "simulation", "--out", str(unit_dir / "demo.bbpkg"))
    ballotbox("device", "load", "--store", str(unit_dir / "unit.db"), "--package",
              str(unit_dir / "demo.bbpkg"), "--pin-stdin", stdin=EM + "\n")
    world_config = load_config(sim.config_path)
    peripherals = "\n".join(f'{kind} = "{url}"' for kind, url in world_config.peripherals.items())
    extra = f'language = "{language}"\n' if language else ""
    config = unit_dir / "unit.toml"
    config.write_text(f'[unit]\nstore = "unit.db"\nauthority = "keys/authority.pub"\n'
                      f'package = "demo.bbpkg"\nstation = "{station}"\nexport_dir = "export"\n{extra}'
                      f'\n[peripherals]\n{peripherals}\n', encoding="utf-8")
    return sim, config


def send_results_to(config: Path, url: str) -> None:
    """Name the central tally in ``unit.toml`` (its ``[central]`` table)."""
    with config.open("a", encoding="utf-8") as fh:
        fh.write(f'\n[central]\nurl = "{url}"\n')


def console_of(sim, config: Path, *, clock=None) -> OperatorConsole:
    """The console of ``device run --config``: the unit from its config, the world's camera."""
    unit = Unit(load_config(config), devices=sim.devices, **({"clock": clock} if clock else {}))
    return OperatorConsole(unit, world_panel=sim.panel)


def served_package(config: Path):
    """What a central tally serves for the package the operators built (``cli_provisioned_unit``):
    the authority's public results package, made from it with ``election public-package``."""
    from central.served import from_package
    from device.election.public_package import load_public_package
    unit_dir = config.parent
    public = unit_dir / "demo.public.json"
    if not public.exists():
        ballotbox("election", "public-package", "--package", str(unit_dir / "demo.bbpkg"),
                  "--key", str(unit_dir / "keys" / "authority.key"), "--out", str(public))
    authority = (unit_dir / "keys" / "authority.pub").read_text().strip()
    return from_package(load_public_package(public, authority))


async def open_vote_close(app, pilot, voters: int = 2) -> None:
    """From "election loaded": open the polls, ``voters`` voters vote, close the polls."""
    await app.until(lambda v: v.situation == "election_loaded")
    r = await act(pilot, "o", pin=PW)
    assert r.ok, r.text
    await app.until(lambda v: v.situation == "polls_open")
    for n in range(1, voters + 1):
        await pilot.press("1")
        await app.until(lambda v, n=n: v.checked_in == n)
        await pilot.press("3")
        await app.until(lambda v, n=n: v.cast == n and not v.busy)
    r = await act(pilot, "c", pin=PW, confirm=True)
    assert r.ok, r.text
    await app.until(lambda v: v.situation == "polls_closed")
