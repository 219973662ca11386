"""Exclusive locks that say which running service holds a public folder or a database.

``hold(path)`` takes an exclusive ``flock`` on an existing directory or file and
returns its open descriptor, kept for the holder's lifetime (the kernel drops the lock when
the process ends, however it ends: no stale lock file to clean up, nothing written into the
public folder). Another holder — another process, or another service in this one — gets
``Busy``.
"""
from __future__ import annotations

import fcntl
import os
from pathlib import Path


class Busy(RuntimeError):
    """Another running service holds this path."""


def hold(path: str | Path) -> int:
    fd = os.open(path, os.O_RDONLY | os.O_CLOEXEC)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        raise Busy(f"{path} is held by another running central service") from None
    return fd


def release(fd: int | None) -> None:
    if fd is not None:
        os.close(fd)
