"""Checks of ballot secrecy and voter privacy on real output, shared by the tests.

``journal_leaks(records)`` lists every journal record whose data says something about one
ballot's content or validity, or carries a voter id; ``bytes_leak_voters(blob, roll)`` lists
the roll's voter ids and document numbers found in some bytes (an export file, a raw database).
"""
from __future__ import annotations

import json
import re

# Words that describe a ballot's content or validity. A journal record of the voter or ballot
# flows must carry none of them, as a key or as a value.
BALLOT_CONTENT_WORDS = {"overvote", "blank", "undervote", "marginal", "invalid", "compartment",
                        "review", "needs_review", "valid", "selections", "contests", "status"}
# Totals at the close may name these counts (never per ballot).
CLOSE_TOTALS = {"results_printed"}
VOTER_KEYS = {"voter_id", "document_number", "document", "name", "mrz", "payload"}


def _words(obj) -> set[str]:
    text = json.dumps(obj, ensure_ascii=False).lower()
    return set(re.findall(r"[a-z_]+", text))


def journal_leaks(records) -> list[str]:
    """Records (JournalRecord or dicts) that carry ballot content or a voter's identity."""
    out = []
    for r in records:
        type_, data = (r["type"], r["data"]) if isinstance(r, dict) else (r.type, r.data)
        if type_ in CLOSE_TOTALS:
            continue
        bad = _words(data) & BALLOT_CONTENT_WORDS
        keys = set(data) & VOTER_KEYS
        if bad or keys:
            out.append(f"{type_} {data}: {sorted(bad | keys)}")
    return out


def bytes_leak_voters(blob: bytes, roll) -> list[str]:
    """Voter ids and document numbers of ``roll`` that appear in ``blob``."""
    found = []
    for v in roll.voters:
        for ident in (v.voter_id, v.document_number):
            if ident.encode() in blob:
                found.append(ident)
    return found


def bytes_leak_templates(blob: bytes, templates: dict[str, bytes]) -> list[str]:
    """Voter ids whose fingerprint template shows in ``blob``: any 16-byte piece of it, raw or
    as hex (either case) or base64 of the whole."""
    import base64
    found = []
    lower = blob.lower()
    for vid, template in templates.items():
        pieces = [template[i:i + 16] for i in range(0, len(template), 16)]
        if any(p in blob or p.hex().encode() in lower for p in pieces) \
                or base64.b64encode(template)[:24] in blob:
            found.append(vid)
    return found
