"""The firmware a unit runs ships without the simulator and the central tally.

The unit's wheel (``BALLOTBOX_BUILD=unit``, ``setup.py``) is built from a copy of the sources
and installed in a fresh virtual environment: ``ballotbox device ...`` works there and
``ballotbox sim`` does not exist. The fast test lends the fresh environment the development
environment's third-party packages (a path, not the editable install: ``sim/`` stays out of
reach); the slow one lets pip resolve the wheel's own dependencies from the package index.
"""
from __future__ import annotations

import ast
import os
import shutil
import subprocess
import sys
import sysconfig
import tomllib
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
SIM_AND_CENTRAL = ("sim", "central")


def test_device_and_hardware_never_import_sim_or_central():
    for package in ("device", "hardware"):
        for path in (ROOT / package).rglob("*.py"):
            tree = ast.parse(path.read_text(encoding="utf-8"))
            for node in ast.walk(tree):
                names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                    [node.module or ""] if isinstance(node, ast.ImportFrom) and not node.level else []
                for name in names:
                    assert name.split(".")[0] not in SIM_AND_CENTRAL, \
                        f"{path.relative_to(ROOT)} imports {name}"


def _run(args, **kw):
    return subprocess.run(args, capture_output=True, text=True, timeout=600, **kw)


@pytest.fixture(scope="module")
def unit_wheel(tmp_path_factory) -> Path:
    tmp = tmp_path_factory.mktemp("unit-wheel")
    src = tmp / "src"
    ignore = shutil.ignore_patterns("__pycache__", "*.pyc")
    for folder in ("device", "hardware"):
        shutil.copytree(ROOT / folder, src / folder, ignore=ignore)
    for name in ("pyproject.toml", "setup.py", "README.md"):
        shutil.copy(ROOT / name, src / name)
    proc = _run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-q", "-w", str(tmp / "dist"),
                 str(src)], env={**os.environ, "BALLOTBOX_BUILD": "unit"})
    assert proc.returncode == 0, proc.stderr
    wheel, = (tmp / "dist").glob("*.whl")
    return wheel


def _extras() -> dict[str, list[str]]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return project["optional-dependencies"]


def test_the_unit_wheel_holds_no_simulator_and_needs_none_of_its_packages(unit_wheel):
    with zipfile.ZipFile(unit_wheel) as whl:
        names = whl.namelist()
        metadata = next(whl.read(n).decode() for n in names if n.endswith(".dist-info/METADATA"))
    tops = {n.split("/")[0] for n in names if not n.split("/")[0].endswith(".dist-info")}
    assert tops == {"device", "hardware"}
    required = [line.split(":", 1)[1].strip() for line in metadata.splitlines()
                if line.startswith("Requires-Dist:") and "extra ==" not in line]
    extra_only = {req.split("[")[0].split(">")[0].split("=")[0].split("<")[0].strip().lower()
                  for group in SIM_AND_CENTRAL for req in _extras()[group]}
    assert extra_only and not extra_only & {r.split("[")[0].split(">")[0].split("<")[0].split("=")[0]
                                            .strip().lower() for r in required}


def _fresh_venv(tmp: Path, with_pip: bool) -> Path:
    args = [sys.executable, "-m", "venv", str(tmp / "venv")]
    proc = _run(args if with_pip else [*args, "--without-pip"])
    assert proc.returncode == 0, proc.stderr
    return tmp / "venv" / "bin"


def _check_the_unit(bin_dir: Path, cwd: Path) -> None:
    """What the unit's installation offers: the device commands, no simulator."""
    python, ballotbox = str(bin_dir / "python"), str(bin_dir / "ballotbox")
    assert _run([python, "-c", "import sim"], cwd=cwd).returncode == 1
    assert _run([python, "-c", "import central"], cwd=cwd).returncode == 1
    proc = _run([ballotbox, "device", "--help"], cwd=cwd)
    assert proc.returncode == 0 and "export" in proc.stdout and "send" in proc.stdout, proc.stderr
    proc = _run([ballotbox, "device", "export", "--help"], cwd=cwd)
    assert proc.returncode == 0 and "--pin-stdin" in proc.stdout
    groups = _run([ballotbox, "--help"], cwd=cwd).stdout
    assert "device" in groups and "audit" in groups
    assert "\n    sim " not in groups and "\n    central " not in groups
    for group in SIM_AND_CENTRAL:
        proc = _run([ballotbox, group, "--help"], cwd=cwd)
        assert proc.returncode == 2 and f"invalid choice: '{group}'" in proc.stderr
        assert "Traceback" not in proc.stderr
    proc = _run([ballotbox, "device", "run", "--sim", "--headless", "--state", str(cwd / "s")], cwd=cwd)
    assert proc.returncode == 2 and "Traceback" not in proc.stderr
    assert "no simulated world is installed" in proc.stderr


def test_the_unit_wheel_in_a_fresh_venv_has_device_commands_and_no_sim(unit_wheel, tmp_path):
    bin_dir = _fresh_venv(tmp_path, with_pip=False)
    python = str(bin_dir / "python")
    proc = _run([sys.executable, "-m", "pip", "--python", python, "install", "--no-deps", "-q",
                 str(unit_wheel)])
    assert proc.returncode == 0, proc.stderr
    site = _run([python, "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"]).stdout
    # The development environment's third-party packages, as a plain path: its editable install
    # of this project (a .pth hook there) is not run, so sim/ and central/ stay unimportable.
    Path(site.strip(), "dev_dependencies.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    _check_the_unit(bin_dir, tmp_path)


@pytest.mark.slow
def test_the_unit_wheel_installs_with_its_own_dependencies(unit_wheel, tmp_path):
    bin_dir = _fresh_venv(tmp_path, with_pip=True)
    proc = _run([str(bin_dir / "python"), "-m", "pip", "install", "-q", str(unit_wheel)])
    assert proc.returncode == 0, proc.stderr
    for module in ("dask", "matplotlib", "starlette", "uvicorn"):  # (rich comes with textual)
        assert _run([str(bin_dir / "python"), "-c", f"import {module}"]).returncode == 1, module
    _check_the_unit(bin_dir, tmp_path)
