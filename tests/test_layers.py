"""The layer rules, checked on every import statement of the code (read with ``ast``, not run).

``hardware`` drives peripherals and knows nothing of ours; the firmware (``device``) never
depends on the simulator or the central tally, and the central tally never on the simulator
(the unit's wheel holds only ``device`` and ``hardware``, see setup.py). Inside ``device``, a
lower layer never reaches up: the store keeps what it is given (no ballot logic), the election
package reader and the results exports know nothing of the station that uses them, and the unit
runs without the console that drives it. Imports inside functions count too.
"""
from __future__ import annotations

import ast
import functools
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
OURS = ("device", "hardware", "central", "sim", "tests")

# (importer, module it must never import): each a module or a package and everything below it.
FORBIDDEN = (
    ("hardware", "device"), ("hardware", "central"), ("hardware", "sim"), ("hardware", "tests"),
    ("device", "sim"), ("device", "central"), ("device", "tests"),
    ("central", "sim"), ("central", "tests"),
    ("device.store", "device.ballots"),
    ("device.election", "device.station"),
    ("device.results", "device.station"),
    ("device.unit", "device.console"),
)


def _within(module: str, package: str) -> bool:
    return module == package or module.startswith(package + ".")


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(ROOT).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imports_of(path: Path) -> set[str]:
    """Every module ``path`` imports (``from a import b`` counts as ``a`` and ``a.b``)."""
    name = _module_name(path)
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    found: set[str] = set()
    for node in ast.walk(ast.parse(path.read_bytes(), str(path))):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[:len(package.split(".")) - node.level + 1]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found |= {f"{base}.{alias.name}" for alias in node.names if alias.name != "*"}
    return {m for m in found if m.split(".")[0] in OURS}


@functools.cache  # the tree is read once per run; the rules below only read the graph
def import_graph() -> dict[str, set[str]]:
    return {_module_name(p): imports_of(p)
            for top in ("device", "hardware", "central") for p in sorted((ROOT / top).rglob("*.py"))}


def test_the_scanner_sees_imports_at_the_top_and_inside_functions():
    graph = import_graph()
    assert "device.store.canonical_json" in graph["device.store.journal"]
    assert "device.store.sqlite" in graph["device.store.copies"]  # imported inside a function


@pytest.mark.parametrize("importer, forbidden", FORBIDDEN, ids=[f"{a}-not-{b}" for a, b in FORBIDDEN])
def test_a_layer_never_imports_what_sits_above_it(importer, forbidden):
    graph = import_graph()
    assert any(_within(m, importer) for m in graph), f"no module {importer}: the rule is stale"
    wrong = sorted(f"{m} imports {i}" for m, imported in graph.items() if _within(m, importer)
                   for i in imported if _within(i, forbidden))
    assert not wrong, "\n".join(wrong)
