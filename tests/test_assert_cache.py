"""``tests/assert_cache.py`` (run by ``make test`` before the workers start) writes the same
rewritten bytecode that pytest writes itself, where pytest reads it, and leaves a file that is up
to date alone; a test's failure still explains itself with the cached file."""
from __future__ import annotations

import os
import subprocess
import sys

from tests import assert_cache

MODULE = "def test_sum():\n    total = sum([1, 2])\n    assert total == 4\n"


def _pytest(folder, *, write_bytecode: bool) -> subprocess.CompletedProcess:
    env = {k: v for k, v in os.environ.items() if k != "PYTHONDONTWRITEBYTECODE"}
    if not write_bytecode:
        env["PYTHONDONTWRITEBYTECODE"] = "1"
    return subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist",
                           "--rootdir", str(folder), str(folder / "test_sample.py")],
                          capture_output=True, text=True, cwd=folder, env=env, timeout=120)


def test_the_cache_is_the_file_pytest_writes_and_reads(tmp_path):
    (tmp_path / "test_sample.py").write_text(MODULE)
    cache = tmp_path / "__pycache__"
    _pytest(tmp_path, write_bytecode=True)
    (pyc,) = cache.glob("test_sample.*pytest*.pyc")
    by_pytest = pyc.read_bytes()
    pyc.unlink()

    assert assert_cache._rewrite(str(tmp_path / "test_sample.py")) is True
    assert pyc.read_bytes() == by_pytest
    assert assert_cache._rewrite(str(tmp_path / "test_sample.py")) is False  # up to date: left alone

    proc = _pytest(tmp_path, write_bytecode=False)  # reads the cache, writes nothing
    assert proc.returncode == 1
    assert "assert 3 == 4" in proc.stdout  # the rewritten assert explains the failure
    assert sorted(p.name for p in cache.iterdir()) == [pyc.name]
