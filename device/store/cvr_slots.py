"""Cast vote records in a fixed table of randomly chosen slots, as the urna's digital vote record.

Table ``cvr_slot(slot INTEGER PRIMARY KEY, body BLOB NOT NULL)``: every row holds exactly
``SLOT_BYTES`` bytes. An empty slot is all zeros; a used slot is the SHA-256 of the record's
canonical JSON (32 bytes), the JSON, and spaces up to ``SLOT_BYTES``. A cast writes its record
*in place* into a slot drawn at random among the free ones: the row keeps its size, so SQLite
overwrites the cell where it stands and the file's layout follows the slot numbers, never the
order of casting. Slots are allocated in blocks before they are needed (``blocks_to_add``).

The checksum lets the store tell a damaged record from a good one (``decode_slot``): a copy of
the store with a damaged record is repaired from the other medium (``device/store/copies.py``).
Pragmas shared by every connection to a unit store are here too (``UNIT_PRAGMAS``): a rollback
journal that is truncated at each commit (WAL frames would keep the slots' writes in cast
order) and ``secure_delete`` so that freed content is zeroed.
"""
from __future__ import annotations

import hashlib

SLOT_BYTES = 1024  # one record's room; four slots fill a 4 KiB page with no overflow page
FIRST_BLOCK = 1024  # slots allocated at the first cast: a station's day without growing
SUM_BYTES = 32
EMPTY = bytes(SLOT_BYTES)

SCHEMA = "CREATE TABLE IF NOT EXISTS {db}.cvr_slot (slot INTEGER PRIMARY KEY, body BLOB NOT NULL);"

# journal_mode must precede any write; synchronous is set by the store (durability).
UNIT_PRAGMAS = ("journal_mode=TRUNCATE", "secure_delete=ON")


class SlotError(ValueError):
    """A record that cannot be stored in a slot (too large) or a slot that is damaged."""


def encode_slot(json_bytes: bytes) -> bytes:
    """The slot's bytes for one record's canonical JSON."""
    room = SLOT_BYTES - SUM_BYTES
    if len(json_bytes) > room:
        raise SlotError(f"a cast vote record of {len(json_bytes)} bytes does not fit a slot of {room}")
    return hashlib.sha256(json_bytes).digest() + json_bytes.ljust(room, b" ")


def decode_slot(body: bytes) -> bytes | None:
    """The record's JSON bytes, or None for an empty slot; ``SlotError`` for a damaged one."""
    if not isinstance(body, bytes):
        raise SlotError(f"a {type(body).__name__} where a slot's bytes belong")
    if body == EMPTY:
        return None
    if len(body) != SLOT_BYTES:
        raise SlotError(f"{len(body)} bytes where a slot has {SLOT_BYTES}")
    payload = body[SUM_BYTES:].rstrip(b" ")
    if hashlib.sha256(payload).digest() != body[:SUM_BYTES]:
        raise SlotError("its checksum does not match its content")
    return payload


def blocks_to_add(total: int, free: int) -> int:
    """How many slots to add before a cast: none while at least half are free, else as many as
    there are (so a record always has at least half of the table to land in)."""
    if total == 0:
        return FIRST_BLOCK
    return total if free * 2 <= total else 0
