"""Canonical JSON: the one encoding behind every hash, signature and exported line.

Sorted keys, no insignificant whitespace, UTF-8 characters as they are (no ``\\u`` escapes),
no NaN or infinity. The election hash, the journal's record hashes, the store's rows and the
export's JSON lines all use it, so a record hashes the same wherever it is read back.
"""
from __future__ import annotations

import json
from typing import Any


def canonical_json(obj: Any) -> str:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False, allow_nan=False)


def canonical_bytes(obj: Any) -> bytes:
    return canonical_json(obj).encode("utf-8")
