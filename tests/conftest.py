"""Shared test options: ``--runslow`` runs the long campaigns marked ``slow``; under CI
(``CI`` set) Hypothesis draws the same examples every run, so a red CI always reproduces.

The tests' temporary folders (``tmp_path``, and ``tempfile`` in the subprocesses they start) are
on a RAM disk when the machine has one with room (Linux ``/dev/shm``) and ``TMPDIR`` is not set:
the unit's stores call fsync on every commit, on two media (``synchronous=FULL``), and a day of
the console or the power-loss sweep makes thousands of them, each a few milliseconds of waiting
on a disk. The same files, the same SQLite code and the same fsync calls run on the RAM disk; no
test can tell a flushed page from a cached one (a SIGKILL keeps the page cache; nothing here cuts
the machine's power), so nothing that a test proves depends on it."""
import os
import shutil
import tempfile

import pytest
from hypothesis import settings

settings.register_profile("ci", derandomize=True, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")

RAM_DISK, RAM_DISK_ROOM = "/dev/shm", 2 * 1024**3  # a whole run keeps about 300 MB there at most


def _use_the_ram_disk() -> None:
    if os.environ.get("TMPDIR") or not os.path.isdir(RAM_DISK) or not os.access(RAM_DISK, os.W_OK):
        return
    if shutil.disk_usage(RAM_DISK).free < RAM_DISK_ROOM:
        return
    os.environ["TMPDIR"] = RAM_DISK  # inherited by xdist's workers and every subprocess
    tempfile.tempdir = None  # tempfile.gettempdir() reads TMPDIR again


def pytest_addoption(parser):
    parser.addoption("--runslow", action="store_true", default=False, help="run slow campaigns")


def pytest_configure(config):
    if not hasattr(config, "workerinput"):  # the controller (or a run without xdist)
        _use_the_ram_disk()


def pytest_collection_modifyitems(config, items):
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow campaign: run with --runslow (make test-slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
