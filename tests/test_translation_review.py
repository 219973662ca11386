"""The machine-drafted translations are marked for native review, and the docs give their count."""
from __future__ import annotations

import re
from pathlib import Path

from babel.messages.pofile import read_po

ROOT = Path(__file__).resolve().parent.parent
MARK = "MACHINE-DRAFTED: needs review by a native speaker"


def test_machine_drafted_strings_are_marked_and_counted_in_the_readme():
    counts = {}
    for lang in ("km", "ky", "ru"):
        with open(ROOT / "device" / "locales" / lang / "LC_MESSAGES" / "ballotbox.po", "rb") as fh:
            catalog = read_po(fh)
        counts[lang] = sum(1 for m in catalog if m.id and MARK in m.user_comments)
    assert len(set(counts.values())) == 1 and counts["km"] >= 95, counts
    said = re.search(r"(\d+) strings per language were machine-drafted", (ROOT / "README.md").read_text())
    assert said and int(said.group(1)) == counts["km"]
