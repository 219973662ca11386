"""The unit's languages: gettext catalogs (managed with Babel) for every string an operator reads.

``_("text")`` translates a string into the active language; ``set_language("km")`` switches
(a unit's language comes from its config, and a poll worker may switch it). ``N_("text")`` only
marks a string for extraction (it is translated later, where it is shown). Catalogs live in
``device/locales/<lang>/LC_MESSAGES/ballotbox.po`` (committed) and ``.mo`` (compiled by
``make install``; ``make messages`` extracts and updates them). A language without a compiled
catalog falls back to English, the source language.

The operator console keeps its own ``Translator`` (a poll worker switches its language with a
key, live) and translates what the unit hands it — message templates and their fields — where
it shows them. Printed forms use a ``Translator`` for one explicit language (``translator("ky")``), so a slip
is printed in the election's report language whatever thread prints it. It also formats
numbers and dates in the locale's conventions (Babel, CLDR data) and, for Khmer forms, with
Khmer digits when the election asks for them (``digits: "khmer"``, as the NEC prints them).
"""
from __future__ import annotations

import datetime as dt
import gettext
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel import Locale
from babel.dates import format_datetime as _babel_datetime
from babel.numbers import format_decimal

DOMAIN = "ballotbox"
LOCALE_DIR = Path(__file__).resolve().parent / "locales"
LANGUAGES = ("en", "km", "ky", "ru")
LANGUAGE_NAMES = {"en": "English", "km": "ខ្មែរ", "ky": "Кыргызча", "ru": "Русский"}
BABEL_LOCALES = {"en": "en", "km": "km_KH", "ky": "ky_KG", "ru": "ru_RU"}
DIGIT_SYSTEMS = ("latin", "khmer")
_KHMER_DIGITS = str.maketrans("0123456789", "០១២៣៤៥៦៧៨៩")

_active: gettext.NullTranslations = gettext.NullTranslations()
_active_language = "en"


def _check(lang: str) -> str:
    if lang not in LANGUAGES:
        raise ValueError(f"unknown language {lang!r}: one of {', '.join(LANGUAGES)}")
    return lang


@lru_cache(maxsize=None)
def catalog(lang: str) -> gettext.NullTranslations:
    """The compiled catalog of ``lang`` (English: the identity)."""
    return gettext.translation(DOMAIN, LOCALE_DIR, languages=[_check(lang)], fallback=True)


def set_language(lang: str) -> None:
    """Make ``lang`` the language of every later ``_()`` call."""
    global _active, _active_language
    _active = catalog(lang)
    _active_language = lang


def language() -> str:
    return _active_language


def _(text: str) -> str:
    return _active.gettext(text)


def ngettext(singular: str, plural: str, n: int) -> str:
    return _active.ngettext(singular, plural, n)


def N_(text: str) -> str:
    """Mark ``text`` for extraction only; translate it where it is shown."""
    return text


@dataclass(frozen=True)
class Words:
    """What the unit says, not yet translated: an English template (a catalog msgid) with its
    ``{fields}``, and for a count the plural template (``n`` among the fields). The console
    translates it in its own language (``Translator.words``); ``text()`` is the unit's language.
    Templates are marked where they are written: ``Words.of(N_("..."), ...)`` or
    ``Words.ngettext("...", "...", n)`` (``ngettext`` is a keyword ``make messages`` extracts)."""

    template: str
    fields: tuple[tuple[str, object], ...] = ()
    plural: str | None = None

    @classmethod
    def of(cls, template: str, **fields: object) -> Words:
        return cls(template, tuple(sorted(fields.items())))

    @classmethod
    def ngettext(cls, singular: str, plural: str, n: int, **fields: object) -> Words:
        return cls(singular, tuple(sorted({**fields, "n": n}.items())), plural)

    def text(self) -> str:
        return _render(self, _active)


def _render(words: Words, cat: gettext.NullTranslations) -> str:
    fields = {k: _render(v, cat) if isinstance(v, Words) else v for k, v in words.fields}
    if words.plural is not None:
        return cat.ngettext(words.template, words.plural, int(fields["n"])).format(**fields)  # type: ignore[call-overload]
    return cat.gettext(words.template).format(**fields)


@lru_cache(maxsize=None)
def _babel_locale(lang: str) -> Locale:
    return Locale.parse(BABEL_LOCALES[lang])


@lru_cache(maxsize=8192)
def _integer(value: int, lang: str) -> str:
    return format_decimal(value, locale=_babel_locale(lang))


def khmer_digits(text: str) -> str:
    return text.translate(_KHMER_DIGITS)


@dataclass(frozen=True)
class Translator:
    """Text, numbers and dates of one language, for a printed form."""

    lang: str
    digits: str = "latin"

    def _(self, text: str) -> str:
        return catalog(self.lang).gettext(text)

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        """The form of ``n`` in this language (Russian and Kyrgyz plurals differ from English)."""
        return catalog(self.lang).ngettext(singular, plural, n)

    def words(self, words: Words) -> str:
        """What the unit said, in this language."""
        return _render(words, catalog(self.lang))

    def _digits(self, text: str) -> str:
        return khmer_digits(text) if self.digits == "khmer" else text

    def number(self, value: int | float) -> str:
        if type(value) is int:  # counts on every report: the same few values again and again
            return self._digits(_integer(value, self.lang))
        return self._digits(format_decimal(value, locale=_babel_locale(self.lang)))

    def datetime(self, at: float) -> str:
        """A UTC instant (seconds since the epoch) in the locale's medium date-time format."""
        when = dt.datetime.fromtimestamp(at, dt.timezone.utc)
        text = _babel_datetime(when, "medium", tzinfo=dt.timezone.utc, locale=_babel_locale(self.lang))
        return self._digits(text) + " UTC"

    def date(self, iso: str) -> str:
        """An ISO date (``2022-06-05``) in the locale's long date format."""
        from babel.dates import format_date
        return self._digits(format_date(dt.date.fromisoformat(iso), "long",
                                        locale=_babel_locale(self.lang)))


def translator(lang: str, digits: str = "latin") -> Translator:
    if digits not in DIGIT_SYSTEMS:
        raise ValueError(f"unknown digits {digits!r}: one of {', '.join(DIGIT_SYSTEMS)}")
    return Translator(_check(lang), digits if lang == "km" else "latin")
