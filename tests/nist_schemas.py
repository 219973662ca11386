"""NIST's JSON schemas of the election data formats (SP 1500-100 results, 1500-101 event logs,
1500-103 cast vote records), kept in the repository: ``tests/schemas/nist/``, copied from the
project's ``shared/schemas/nist`` with its ``MANIFEST.md`` (source commits and sha256). The tests
that validate exports read them here, so a fresh clone and CI validate too (they looked for the
shared folder beside the checkout, and were skipped without it)."""
from __future__ import annotations

import json
from pathlib import Path

NIST_SCHEMAS = Path(__file__).resolve().parent / "schemas" / "nist"


def nist_schema(name: str) -> dict:
    """The schema in ``tests/schemas/nist/NAME``, parsed."""
    return json.loads((NIST_SCHEMAS / name).read_text(encoding="utf-8"))
