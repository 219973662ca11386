"""``ballotbox device run``: from the command line to a running unit with its console.

``launch(args)`` reads the config (or, with ``--sim``, starts the simulated world found through
the ``ballotbox.simulated_world`` entry point — device/ never imports sim/ — which writes a config
naming its ptys), opens the store and the election, and runs the operator console until it is
quit. Every problem before the console starts is a ``LaunchError`` with a one-line message (the
CLI prints it and exits 2); an operator never sees a traceback.
"""
from __future__ import annotations

import argparse
from importlib.metadata import entry_points
from typing import Any

from device.election.definition import ElectionError
from device.i18n import N_, Words, set_language
from device.store.sqlite import StoreOpenError
from device.unit.config import ConfigError, load_config
from device.unit.view import polls_words

SIM_GROUP = "ballotbox.simulated_world"


class LaunchError(RuntimeError):
    pass


def simulated_world_factory():
    for ep in entry_points(group=SIM_GROUP):
        if ep.name == "default":
            try:
                return ep.load()
            except ModuleNotFoundError:  # the unit's wheel: no sim/ installed
                break
    raise LaunchError("no simulated world is installed (entry point group "
                      f"{SIM_GROUP}); install ballotbox with its simulator")


def launch(args: argparse.Namespace) -> int:
    from device.console.app import OperatorConsole
    from device.unit.runtime import Unit

    sim: Any = None
    try:
        if args.sim:
            if args.voters < 1 or args.capacity < 1:
                raise LaunchError("--voters and --capacity must be at least 1")
            sim = simulated_world_factory()(args.state, seed=args.seed, voters=args.voters,
                                             capacity=args.capacity,
                                             election=getattr(args, "election", "demo"))
            config_path = sim.config_path
        else:
            if args.autoplay is not None:
                raise LaunchError("--autoplay plays a simulated day: use it with --sim")
            config_path = args.config
        config = load_config(config_path)
        if config.language:  # else the language the command was started in (--lang)
            set_language(config.language)
        unit = Unit(config, devices=sim.devices if sim else None)
    except (ConfigError, StoreOpenError, ElectionError) as exc:
        if sim is not None:
            sim.close()
        raise LaunchError(str(exc)) from None
    console = OperatorConsole(unit, world_panel=sim.panel if sim else None)
    auto = sim.autopilot(args.autoplay, args.seed) if (sim and args.autoplay is not None) else None
    try:
        console.run(headless=args.headless, auto_pilot=auto)
    finally:
        if sim is not None:
            sim.close()
    print(day_summary(console.view).text())
    return 0


def day_summary(view) -> Words:
    """The line ``device run`` prints when the console is quit, in the unit's language."""
    return Words.of(N_("Station {station}: polls {polls}, {checked_in} checked in, {cast}."),
                    station=view.station or "-", polls=polls_words(view.polls), checked_in=view.checked_in,
                    cast=Words.ngettext("{n} ballot cast", "{n} ballots cast", view.cast))
