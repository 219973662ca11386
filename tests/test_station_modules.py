"""The station stays in parts (issue #20 §1): no module of ``device/station/`` over 400 lines,
each opening with a docstring that says what it is for."""
from __future__ import annotations

import ast
from pathlib import Path

import pytest

STATION = Path(__file__).resolve().parent.parent / "device" / "station"
MODULES = sorted(STATION.glob("*.py"))


@pytest.mark.parametrize("path", MODULES, ids=[p.name for p in MODULES])
def test_a_station_module_is_small_and_says_what_it_is(path):
    text = path.read_text(encoding="utf-8")
    assert len(text.splitlines()) <= 400, f"{path.name}: split it along the design"
    assert ast.get_docstring(ast.parse(text)), f"{path.name}: open with a docstring"
