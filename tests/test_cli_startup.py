"""A command loads only its own group's modules (``device.cli.main.build_parser``): an operator's
``device export`` does not import the simulator, OpenCV or the central tally's web stack. Every
test of the real CLI in a subprocess pays the start-up, so a fast start keeps ``make test`` short.
Checked in a fresh interpreter (a subprocess), where nothing was imported before."""
from __future__ import annotations

import json
import subprocess
import sys

import pytest

from device.cli.main import GROUPS, build_parser

HEAVY = ("sim", "central", "cv2", "textual", "matplotlib", "dask", "numpy", "starlette", "uvicorn")


def _imported_after(argv: list[str]) -> set[str]:
    code = ("import json, sys; from device.cli.main import build_parser; "
            f"build_parser({argv!r}); print(json.dumps(sorted({{m.split('.')[0] for m in sys.modules}})))")
    proc = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return set(json.loads(proc.stdout))


@pytest.mark.parametrize("argv", [["device", "export", "--store", "u.db"], ["--lang", "km", "audit", "verify"],
                                  ["election", "keygen"], ["tally", "seats"]])
def test_a_unit_or_audit_command_imports_no_simulator_and_no_heavy_library(argv):
    assert _imported_after(argv) & set(HEAVY) == set()


def test_without_a_group_or_with_help_first_every_group_is_loaded():
    assert {"sim", "central"} <= _imported_after(["-h", "device"])
    assert {"sim", "central"} <= _imported_after(["--lang", "ru"])


@pytest.mark.parametrize("argv", [[], ["nosuch"], ["--help"], ["device", "nosuch"], ["sim", "--help"]])
def test_the_groups_offered_are_the_same_whatever_is_loaded(argv):
    """The top-level parser names every group (the help and an unknown group's error list
    them), and a named group with no command named, or an unknown one, has all of its commands
    (its help and the unknown command's error list them)."""
    full = build_parser()
    choices = full._subparsers._group_actions[0].choices
    assert list(choices) == list(GROUPS)
    named = build_parser(argv)._subparsers._group_actions[0].choices
    if argv[:1] in (["device"], ["sim"]):
        assert list(named) == argv[:1]
        assert list(named[argv[0]]._subparsers._group_actions[0].choices) == \
            list(choices[argv[0]]._subparsers._group_actions[0].choices)
    else:
        assert list(named) == list(GROUPS)


@pytest.mark.parametrize("argv", [["sim", "package", "--election", "demo"], ["device", "export"],
                                  ["sim", "--lang", "km", "national"]])
def test_a_command_with_its_own_entry_point_loads_only_that_command(argv):
    """``sim package`` builds the parser of ``sim package`` alone: the other sim commands'
    modules (OpenCV for ``sim accuracy``) are not imported; its parser is the same as in the
    whole CLI."""
    group, command = argv[0], [w for w in argv[1:] if not w.startswith("-") and w != "km"][0]
    named = build_parser(argv)._subparsers._group_actions[0].choices
    commands = named[group]._subparsers._group_actions[0].choices
    assert list(commands) == [command]
    whole = build_parser()._subparsers._group_actions[0].choices[group]._subparsers._group_actions[0]
    assert commands[command].format_help() == whole.choices[command].format_help()


def test_a_sim_command_that_needs_no_opencv_does_not_import_it():
    assert "cv2" not in _imported_after(["sim", "package", "--election", "demo"])
    assert "cv2" in _imported_after(["sim", "accuracy"])  # the command that reads scans does
