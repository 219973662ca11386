"""The unit's languages: gettext catalogs (managed with Babel) for every string an operator reads.

``_("text")`` translates a string into the active language; ``set_language("km")`` switches
(a unit's language comes from its config, and a poll worker may switch it). Catalogs live in
``device/locales/<lang>/LC_MESSAGES/ballotbox.mo``; a language without a compiled catalog falls
back to English, the source language.
"""
from __future__ import annotations

import gettext
from pathlib import Path

DOMAIN = "ballotbox"
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("en", "km", "ky", "ru")

_active: gettext.NullTranslations = gettext.NullTranslations()
_active_language = "en"


def set_language(lang: str) -> None:
    """Make ``lang`` the language of every later ``_()`` call."""
    global _active, _active_language
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: one of {', '.join(LANGUAGES)}")
    _active = gettext.translation(DOMAIN, LOCALE_DIR, languages=[lang], fallback=True)
    _active_language = lang


def language() -> str:
    return _active_language


def _(text: str) -> str:
    return _active.gettext(text)
