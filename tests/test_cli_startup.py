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


@pytest.mark.parametrize("argv", [[], ["nosuch"], ["--help"], ["device", "export"]])
def test_the_groups_offered_are_the_same_whatever_is_loaded(argv):
    """The top-level parser names every group (the help and an unknown group's error list
    them), and a named group has all of its commands."""
    full = build_parser()
    choices = full._subparsers._group_actions[0].choices
    assert list(choices) == list(GROUPS)
    named = build_parser(argv)._subparsers._group_actions[0].choices
    if argv[:1] == ["device"]:
        assert list(named) == ["device"]
        assert list(named["device"]._subparsers._group_actions[0].choices) == \
            list(choices["device"]._subparsers._group_actions[0].choices)
    else:
        assert list(named) == list(GROUPS)
