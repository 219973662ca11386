"""The journal's hash chain, checked record by record: one walker for the store and the auditor.

``parse_journal`` reads ``journal.jsonl`` without trusting it; ``chain_fault`` finds and
classifies the first break (altered, deleted, reordered, inserted, truncated) as a ``Fault``
naming the record. ``SqliteStore`` runs the same walker over its table when it opens, and
``audit verify`` over an exported journal.
"""
from __future__ import annotations

import json
import re
from dataclasses import dataclass, field
from typing import Any

from device.store.journal import GENESIS_HASH, record_hash

_HEX64 = re.compile(r"^[0-9a-f]{64}$")

@dataclass(frozen=True)
class Fault:
    """One finding: its kind, where it is (a record, a file) and what is wrong."""

    kind: str
    where: str
    detail: str
    seq: int | None = field(default=None, compare=False)  # the journal record, where known

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "where": self.where, "detail": self.detail}

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}: {self.detail}"


_FIELDS = {"seq": int, "type": str, "data": dict, "prev_hash": str, "hash": str}


def parse_journal(raw: bytes) -> tuple[list[dict[str, Any] | None], bool]:
    """Records of ``journal.jsonl`` (None for a line that is not a complete record) and whether
    the file ends with a line end."""
    lines = raw.split(b"\n")
    complete = raw.endswith(b"\n") or not raw
    if complete:
        lines = lines[:-1]
    out: list[dict[str, Any] | None] = []
    for line in lines:
        try:
            obj = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            out.append(None)
            continue
        ok = isinstance(obj, dict) and all(isinstance(obj.get(k), t) and not isinstance(obj.get(k), bool)
                                           for k, t in _FIELDS.items()) \
            and isinstance(obj.get("at"), (int, float)) and not isinstance(obj.get("at"), bool)
        out.append(obj if ok else None)
    return out, complete


def _own_hash(r: dict[str, Any], seq: int | None = None) -> str:
    try:
        return record_hash(r["seq"] if seq is None else seq, r["type"], r["at"], r["data"], r["prev_hash"])
    except (TypeError, ValueError):
        return ""


def torn_reason(row: tuple[Any, ...]) -> str | None:
    """Why a raw journal row is incomplete (torn), or None when it is a complete record."""
    seq, type_, at, data, prev_hash, hash_ = row
    if type_ is None or at is None or data is None or prev_hash is None or hash_ is None:
        return "a field is missing"
    if not isinstance(type_, str) or not type_:
        return "the type is empty"
    if not isinstance(at, (int, float)):
        return "the time is not a number"
    if not (isinstance(prev_hash, str) and _HEX64.match(prev_hash)):
        return "prev_hash is not 64 hex digits"
    if not (isinstance(hash_, str) and _HEX64.match(hash_)):
        return "hash is not 64 hex digits"
    try:
        decoded = json.loads(data)
    except (TypeError, ValueError):
        return "data is not complete JSON"
    if not isinstance(decoded, dict):
        return "data is not a JSON object"
    return None


def row_record(row: tuple[Any, ...]) -> dict[str, Any] | None:
    """A journal row as the chain walker's dict, or None when it is torn."""
    if torn_reason(row) is not None:
        return None
    return {"seq": row[0], "type": row[1], "at": row[2], "data": json.loads(row[3]),
            "prev_hash": row[4], "hash": row[5]}


# --- the journal's chain -------------------------------------------------------------------

def chain_fault(records: list[dict[str, Any] | None], complete: bool) -> Fault | None:
    """The first break in the journal's chain, classified, or None."""
    for i, r in enumerate(records):
        if r is None:
            prev = next((x["seq"] for x in reversed(records[:i]) if x), 0)
            if i == len(records) - 1 and not complete:
                return Fault("truncated", f"journal record seq {prev + 1}",
                             f"the journal ends in the middle of line {i + 1}", seq=prev + 1)
            return Fault("altered", f"journal line {i + 1} (after seq {prev})", "not a complete record",
                         seq=prev + 1)
    whole: list[dict[str, Any]] = [r for r in records if r is not None]  # a None returned above
    seqs = [r["seq"] for r in whole]
    n = len(seqs)
    if seqs != list(range(1, n + 1)):
        if sorted(seqs) == list(range(1, n + 1)):
            p = next(i for i, s in enumerate(seqs) if s != i + 1)
            return Fault("reordered", f"journal record seq {seqs[p]}",
                         f"found at position {p + 1}, where seq {p + 1} belongs", seq=seqs[p])
        seen: dict[int, int] = {}
        for i, s in enumerate(seqs):
            if s in seen:
                forged = _forged_of(whole, seen[s], i)
                return Fault("inserted", f"journal record seq {s} (line {forged + 1})",
                             f"a second record with seq {s}; it does not fit the chain", seq=s)
            seen[s] = i
        missing = next(s for s in range(1, max(seqs) + 1) if s not in seen)
        return Fault("deleted", f"journal record seq {missing}", "missing from the sequence", seq=missing)
    prev_hash = GENESIS_HASH
    for i, r in enumerate(whole):
        if _own_hash(r) != r["hash"]:
            for d in (1, 2, 3):
                if _own_hash(r, r["seq"] - d) == r["hash"]:
                    return Fault("inserted", f"journal record seq {r['seq'] - d}",
                                 f"{d} record(s) inserted before it and the rest renumbered", seq=r['seq'] - d)
                if _own_hash(r, r["seq"] + d) == r["hash"]:
                    return Fault("deleted", f"journal record seq {r['seq']}",
                                 f"{d} record(s) deleted here and the rest renumbered", seq=r['seq'])
            return Fault("altered", f"journal record seq {r['seq']}", "its hash does not match its content", seq=r['seq'])
        if r["prev_hash"] != prev_hash:
            before = whole[i - 2]["hash"] if i >= 2 else GENESIS_HASH
            if i >= 1 and r["prev_hash"] == before:
                return Fault("inserted", f"journal record seq {r['seq'] - 1}",
                             "the next record links past it to the one before", seq=r['seq'] - 1)
            return Fault("altered", f"journal record seq {r['seq'] - 1}",
                         "rewritten and rehashed: the next record's prev_hash no longer matches it", seq=r['seq'] - 1)
        prev_hash = r["hash"]
    return None


def _forged_of(records: list[dict[str, Any]], a: int, b: int) -> int:
    """Of two records with the same seq, the index of the one that does not fit the chain."""
    def fits(i: int) -> bool:
        r = records[i]
        prev = GENESIS_HASH if r["seq"] == 1 else next(
            (x["hash"] for x in records if x["seq"] == r["seq"] - 1), None)
        return _own_hash(r) == r["hash"] and r["prev_hash"] == prev and \
            any(x["prev_hash"] == r["hash"] for x in records)
    return b if fits(a) or not fits(b) else a
