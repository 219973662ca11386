"""Test helpers (not tests) for the store: a folder where fsync costs nothing."""
from __future__ import annotations

import os
import tempfile
from pathlib import Path

import pytest


@pytest.fixture
def fast_dir(tmp_path):
    """A folder on tmpfs when there is one (the same files and SQLite code; hundreds of fsyncs
    cost nothing there), else the test's own temporary folder."""
    shm = Path("/dev/shm")
    if not (shm.is_dir() and os.access(shm, os.W_OK)):
        yield tmp_path
        return
    with tempfile.TemporaryDirectory(dir=shm) as folder:
        yield Path(folder)
