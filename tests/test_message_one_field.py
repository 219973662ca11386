"""``message`` fills a text with one plain ``{field}`` by concatenation (once per voter at the
ID desk, issue 23 §3): for every message of the catalog in every language, with values of
several kinds, it writes exactly what ``str.format`` writes, and refuses a missing field alike."""
from string import Formatter

import pytest

from device.i18n import LANGUAGES, language, set_language
from device.station.events import _one_field, _template, catalog, message

VALUES = ["KH-0101-0001-01-V000123", 7, 2.5, "", "{not a field}", "ខ្មែរ", None]


@pytest.fixture
def each_language():
    before = language()
    yield LANGUAGES
    set_language(before)


def test_every_message_with_one_field_is_what_format_writes(each_language):
    seen = 0
    for lang in each_language:
        set_language(lang)
        for name in catalog()["messages"]:
            _, text = _template(name, lang)
            fields = [f for _, f, _, _ in Formatter().parse(text) if f is not None]
            if len(fields) != 1:
                continue
            seen += _one_field(text) is not None
            for value in VALUES:
                assert message(name, **{fields[0]: value}).text == text.format(**{fields[0]: value}), (lang, name)
            with pytest.raises(KeyError):
                message(name, another=1)
    assert seen >= 8  # the fast path is the one taken, in each language


@pytest.mark.parametrize("text, split", [
    ("Voter {voter_id} checked in.", ("Voter ", "voter_id", " checked in.")),
    ("{x}", ("", "x", "")),
    ("a {{b}} {x}", None), ("{x!r} y", None), ("{x:>5}", None), ("{x.y}", None), ("{0}", None),
    ("{x} and {y}", None), ("no field", None)])
def test_only_a_plain_single_field_is_split(text, split):
    assert _one_field(text) == split
