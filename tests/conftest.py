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


# The files that take longest (wall seconds of each file in a run of ``make test``'s pytest, from
# the --durations of its tests; a stale list only balances the workers less well). ``make test``
# sends whole files to xdist's workers (``--dist loadfile``: a module's fixture, a national run, a
# PostgreSQL server, a browser, is made once) in collection order, so these go first and the last
# files to run are short ones. Refreshed 2026-12-05 (the console tests at 80x24, cached asserts).
LONGEST_FIRST = (
    "test_console_snapshots.py", "test_accuracy.py", "test_console_day.py", "test_operator_actions.py",
    "test_national_oracles.py", "test_rla_cli.py", "test_fingerprint_console.py", "test_console_power_loss.py",
    "test_i18n.py", "test_results_tape.py", "test_accuracy_campaign.py", "test_operator_day.py",
    "test_national.py", "test_station_sim.py", "test_first_hour.py", "test_firmware_wheel.py",
    "test_secrecy.py", "test_central_browser.py", "test_central_processes.py", "test_power_loss.py",
    "test_roles_cli.py", "test_slips_i18n.py", "test_unit_sends_results.py", "test_peripheral_contract.py",
    "test_send_after_unload.py", "test_console_conditions.py",
    "test_tape_central.py", "test_fingerprint_flow_day.py", "test_tape_photos_misread.py",
)


def pytest_collection_modifyitems(config, items):
    rank = {name: i for i, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(item.path.name, len(rank)))  # stable: a file keeps its order
    if config.getoption("--runslow"):
        return
    skip = pytest.mark.skip(reason="slow campaign: run with --runslow (make test-slow)")
    for item in items:
        if "slow" in item.keywords:
            item.add_marker(skip)
