"""Which packages a build holds (everything else is in pyproject.toml).

- ``pip install -e ".[dev,sim,central]"`` / ``pip wheel .``: every package — the firmware
  (``device/``, ``hardware/``), the simulator (``sim/``) and the central tally (``central/``).
- ``BALLOTBOX_BUILD=unit pip wheel --no-deps .``: the firmware a polling-station unit runs,
  ``device/`` and ``hardware/`` only; its ``ballotbox`` has no ``sim`` or ``central`` commands
  (``tests/test_firmware_wheel.py`` builds it and installs it in a fresh virtual environment).
"""
import os

from setuptools import find_packages, setup

BUILDS = {
    "all": ["device", "device.*", "hardware", "hardware.*", "sim", "sim.*", "central", "central.*"],
    "unit": ["device", "device.*", "hardware", "hardware.*"],
}

build = os.environ.get("BALLOTBOX_BUILD", "all")
if build not in BUILDS:
    raise SystemExit(f"BALLOTBOX_BUILD must be one of {', '.join(BUILDS)} (got {build!r})")
setup(packages=find_packages(include=BUILDS[build]))
