"""Are the catalogs complete? Every marked string translated in every shipped language.

``problems()`` extracts the marked strings from the sources exactly as ``make messages`` does
(``babel.cfg``: Python sources and the event catalog's operator messages) and checks each
shipped language's ``.po`` file: the string is there, translated, not fuzzy, with the same
``{placeholders}``; the header says the catalog awaits a native speaker's review; and the
compiled ``.mo`` (what the unit reads) gives the same text. ``python -m device.i18n_check``
prints the problems (exit 1 if any); the test suite runs the same check.
"""
from __future__ import annotations

import sys
from pathlib import Path

from babel.messages.extract import DEFAULT_KEYWORDS, extract_from_dir
from babel.messages.frontend import parse_mapping_cfg
from babel.messages.pofile import read_po

from device.i18n import DOMAIN, LANGUAGES, LOCALE_DIR, catalog
from device.i18n_extract import placeholders

ROOT = Path(__file__).resolve().parents[1]
REVIEW_MARK = "NEEDS REVIEW by a native"
TRANSLATED = tuple(lang for lang in LANGUAGES if lang != "en")  # English is the source


def extracted(root: Path = ROOT) -> set[str]:
    """The msgids ``pybabel extract -F babel.cfg -k N_`` finds under ``root``."""
    with open(root / "babel.cfg", encoding="utf-8") as fh:
        method_map, options_map = parse_mapping_cfg(fh)
    keywords = dict(DEFAULT_KEYWORDS, N_=None)
    return {message for _, _, message, _, _ in
            extract_from_dir(str(root), method_map, options_map, keywords=keywords)
            if isinstance(message, str) and message}


def po_path(lang: str) -> Path:
    return LOCALE_DIR / lang / "LC_MESSAGES" / f"{DOMAIN}.po"


def problems(root: Path = ROOT) -> list[str]:
    wanted = extracted(root)
    found: list[str] = []
    for lang in TRANSLATED:
        path = po_path(lang)
        if not path.exists():
            found.append(f"{lang}: no catalog {path} (run make messages)")
            continue
        with open(path, "rb") as fh:
            po = read_po(fh, locale=lang)
        if REVIEW_MARK not in (po.header_comment or ""):
            found.append(f"{lang}: header does not say '{REVIEW_MARK} ... speaker'")
        compiled = catalog(lang)
        for msgid in sorted(wanted):
            entry = po.get(msgid)
            text = entry.string if entry is not None else None
            if entry is None or not isinstance(text, str) or not text:  # a plural form is no translation
                found.append(f"{lang}: untranslated: {msgid!r}")
                continue
            if entry.fuzzy:
                found.append(f"{lang}: fuzzy: {msgid!r}")
            if placeholders(msgid) != placeholders(text):
                found.append(f"{lang}: placeholders differ in {msgid!r}: "
                             f"{sorted(placeholders(text))} vs {sorted(placeholders(msgid))}")
            if compiled.gettext(msgid) != text:
                found.append(f"{lang}: compiled catalog is stale for {msgid!r} (run make install)")
    return found


def main() -> int:
    found = problems()
    for line in found:
        print(line)
    print(f"{len(extracted())} messages, {len(TRANSLATED)} languages: "
          + ("all translated" if not found else f"{len(found)} problem(s)"))
    return 1 if found else 0


if __name__ == "__main__":
    sys.exit(main())
