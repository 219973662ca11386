"""What an auditor's check finds: ``Fault`` (kind, where, detail), the ``AuditReport`` of one
check, and reading an export folder's files without trusting them.

Kinds for integrity are ``altered``, ``deleted``, ``reordered``, ``inserted``, ``truncated``,
``forged signature`` and ``missing``; for replay ``disallowed transition``, ``count mismatch``,
``double check-in``, ``unsigned close`` and ``tally mismatch``. The first fault names the first
bad record.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device.store.chain import Fault  # noqa: F401  (one Fault for the store and the auditor)



@dataclass
class AuditReport:
    check: str
    directory: str
    faults: list[Fault] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.faults

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "directory": self.directory, "ok": self.ok,
                "first_fault": self.faults[0].to_json() if self.faults else None,
                "faults": [f.to_json() for f in self.faults], **self.facts}


class ExportReadError(ValueError):
    """The folder is not an export at all (no manifest): bad input, not a fault."""


# --- reading -------------------------------------------------------------------------------

def read_export_file(directory: Path, name: str) -> bytes | None:
    try:
        return (directory / name).read_bytes()
    except FileNotFoundError:
        return None


def load_json(raw: bytes | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def open_export(directory: Path) -> dict:
    """The export's manifest, or ``ExportReadError`` saying why ``directory`` is not an export
    (the same words for every check)."""
    from device.results import exports

    if not directory.is_dir():
        raise ExportReadError(f"{directory} is not a folder (give the folder `ballotbox device export` wrote)")
    manifest = load_json(read_export_file(directory, exports.MANIFEST))
    if not isinstance(manifest, dict):
        raise ExportReadError(f"{directory} holds no readable {exports.MANIFEST}: not a unit export")
    return manifest
