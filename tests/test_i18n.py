"""Languages: complete catalogs, translated operator messages, election languages, locale formats."""
from __future__ import annotations

import copy
import re
import datetime as dt

import pytest

from device import i18n
from device.election.definition import ElectionError, load_election, parse_election
from device.i18n_check import extracted, placeholders, problems
from device.station.events import catalog, message


@pytest.fixture
def unit_language():
    """Switch the unit's language inside a test; English again afterwards."""
    yield i18n.set_language
    i18n.set_language("en")


def test_every_message_is_translated_in_every_shipped_language():
    assert problems() == []


def test_extraction_covers_the_event_catalog_slips_ballots_and_cli():
    found = extracted()
    assert {m["text"] for m in catalog()["messages"].values()} <= found
    assert {"RESULTS", "ZERO REPORT", "Ballots cast", "Vote for {n}", "{prog}: error: {message}"} <= found


def test_a_new_unmarked_translation_is_reported(tmp_path):
    (tmp_path / "babel.cfg").write_text("[python: **.py]\n")
    (tmp_path / "new.py").write_text('from device.i18n import _\nprint(_("A brand new operator message"))\n')
    assert any("untranslated: 'A brand new operator message'" in p for p in problems(tmp_path)) and \
        len([p for p in problems(tmp_path) if "brand new" in p]) == 3  # km, ky, ru


def test_placeholders_are_the_format_fields():
    assert placeholders("Too many marks in: {contests}. {n:>3}") == {"contests", "n"}
    assert placeholders("no fields") == set()


@pytest.mark.parametrize("lang, word", [("ru", "Неисправность"), ("ky", "бузулушу"), ("km", "បញ្ហា")])
def test_operator_message_in_the_units_language_keeps_its_fields(unit_language, lang, word):
    unit_language(lang)
    text = message("fault", detail="scanner motor").text
    assert word in text and "scanner motor" in text
    unit_language("en")
    assert message("fault", detail="x").text.startswith("Ballot box fault: x.")


def test_unknown_language_is_refused():
    with pytest.raises(ValueError, match="unknown language 'fr'"):
        i18n.set_language("fr")


def test_cli_speaks_the_operators_language(tmp_path, capsys):
    from device.cli.main import main
    try:
        assert main(["--lang", "ru", "device", "export", "--store", str(tmp_path / "none.db"),
                     "--out", str(tmp_path / "x")]) == 2
    finally:
        i18n.set_language("en")
    assert capsys.readouterr().err.startswith("ballotbox: ошибка: нет такого файла")


def test_lang_is_accepted_after_the_command_too(tmp_path, capsys):
    from device.cli.main import main
    try:
        assert main(["device", "export", "--store", str(tmp_path / "none.db"), "--out", str(tmp_path / "x"),
                     "--lang", "ru"]) == 2
        assert capsys.readouterr().err.startswith("ballotbox: ошибка: нет такого файла")
        assert main(["--lang", "ky", "device", "export", "--store", str(tmp_path / "none.db"), "--out",
                     str(tmp_path / "x"), "--lang", "ru"]) == 2  # the later one wins
        assert "ошибка" in capsys.readouterr().err
    finally:
        i18n.set_language("en")


# --- the election's languages ---------------------------------------------------------------

def test_bundled_elections_declare_their_languages_and_native_names():
    kh, kg, demo = load_election("cambodia-2022"), load_election("kyrgyzstan-2017"), load_election("demo")
    assert kh.ballot_languages == ("km",) and kh.digits == "khmer"
    assert kh.contests["council"].choices[0].name_in("km") == "គណបក្សប្រជាជនកម្ពុជា"
    assert kg.ballot_languages == ("ky", "ru")
    babanov = next(c for c in kg.contests["president"].choices if c.id == "babanov")
    assert (babanov.name_in("ky"), babanov.name_in("ru")) == ("Өмүрбек Бабанов", "Омурбек Бабанов")
    assert demo.ballot_languages == ("en",) and demo.report_languages == ("en",)
    assert kg.report_language("ru") == "ru" and kg.report_language("km") == "ky"


@pytest.mark.parametrize("change, path", [
    (lambda d: d.__setitem__("languages", ["km"]), "$.languages"),
    (lambda d: d["languages"].__setitem__("ballot", ["fr"]), "$.languages.ballot[0]"),
    (lambda d: d["languages"].__setitem__("digits", "roman"), "$.languages.digits"),
    (lambda d: d["languages"].__setitem__("reports", []), "$.languages.reports"),
    (lambda d: d["languages"].__setitem__("font", "x"), "$.languages.font"),
    (lambda d: d["parties"][0]["names"].__setitem__("ru", "x"), "$.parties[0].names.ru"),
    (lambda d: d["parties"][0]["names"].__setitem__("km", " "), "$.parties[0].names.km"),
    (lambda d: d["contests"][0].__setitem__("titles", "x"), "$.contests[0].titles"),
])
def test_bad_languages_name_their_path(change, path):
    doc = copy.deepcopy(load_election("cambodia-2022").raw)
    change(doc)
    with pytest.raises(ElectionError) as err:
        parse_election(doc)
    assert err.value.path == path


# --- numbers and dates ----------------------------------------------------------------------

def test_numbers_and_dates_follow_each_locale():
    at = dt.datetime(2022, 6, 5, 17, 30, tzinfo=dt.timezone.utc).timestamp()
    assert i18n.translator("en").number(1234567) == "1,234,567"
    assert i18n.translator("ru").number(1234567) == "1\xa0234\xa0567"
    assert i18n.translator("km", "khmer").number(1234567) == "១,២៣៤,៥៦៧"
    assert i18n.translator("km").number(12) == "12"  # Latin digits unless the election asks
    assert i18n.translator("ru", "khmer").number(12) == "12"  # Khmer digits are for Khmer forms
    assert i18n.translator("ru").datetime(at).startswith("5 июн. 2022")
    assert "២០២២" in i18n.translator("km", "khmer").datetime(at)
    assert i18n.translator("ky").date("2017-10-15") == "2017-ж., 15-октябрь"


def test_role_names_in_operator_messages_follow_the_language(unit_language):
    from device.station.roles import POLL_WORKER, role_label, role_name
    unit_language("ky")
    text = message("pin_wrong", role=role_label(POLL_WORKER), left=2).text
    assert text.startswith("комиссия мүчөсү ролунун PIN-коду туура эмес") and "2 аракет" in text
    assert role_name(POLL_WORKER) == "poll worker"  # the documents' tables stay English


def test_a_unit_config_sets_the_language_and_without_one_the_command_line_does(tmp_path):
    from device.unit.config import load_config

    path = tmp_path / "unit.toml"
    peripherals = ('[peripherals]\nscanner = "sim://scanner"\nid_reader = "sim://id_reader"\n'
                   'printer = "sim://printer"\ncamera = "sim://camera"\n')
    unit = '[unit]\nstore = "unit.db"\nauthority = "' + "ab" * 32 + '"\n'
    path.write_text(unit + 'language = "km"\n' + peripherals)
    assert load_config(path).language == "km"
    path.write_text(unit + peripherals)
    assert load_config(path).language is None  # device run keeps the --lang it was started with


# --- the console, live: a key switches its language; slips keep the unit's ------------------
ENGLISH_WORD = re.compile(r"[A-Za-z]{2,}")
NOT_WORDS = {"PIN", "ID", "UTC", "English"}  # codes, a time zone, a language's own name


def _shown(app) -> str:
    """Every word on the console (the simulated world's panel too): texts, buttons, border
    titles and the footer's key labels."""
    from textual.widgets import Button, Label, Static
    out = []
    for w in app.screen.query("*"):
        if isinstance(w, Button):
            out.append(str(w.label))
        elif isinstance(w, (Static, Label)):
            out.append(str(w.render()))
        if getattr(w, "border_title", None):
            out.append(str(w.border_title))
    out += [b.binding.description for b in app.active_bindings.values() if b.binding.show]
    return "\n".join(out)


def english_words(app, data_words=()) -> set[str]:
    """English words on the console, but for the election's own data (its titles and names)."""
    text = _shown(app)
    v = app.view
    for data in (v.station_name, v.election_title, v.station, v.election_hash[:12], *data_words):
        if data:
            text = text.replace(data, " ")
    text = re.sub(r"\b[\w-]+-V\d+\b", " ", text)  # a voter id from the roll: data
    return set(ENGLISH_WORD.findall(text)) - NOT_WORDS


def test_console_switches_language_live_and_no_english_is_left(tmp_path):
    """Each situation visited is read in km, ky and ru (the key cycles en -> km -> ky -> ru ->
    en): not one English word; the unit's slips stay in the unit's language meanwhile."""
    import asyncio

    from tests.console_kit import EM, PW, SIZE, act, simulated_console

    sim, app = simulated_console(tmp_path, seed=3, voters=6)
    contests = [c.title for c in sim.world.election.contests.values()]
    seen: dict[tuple[str, str], set[str]] = {}

    async def every_language(pilot) -> None:
        assert app.tr.lang == "en"
        for lang in ("km", "ky", "ru", "en"):
            await pilot.press("g")
            await pilot.pause()
            assert app.tr.lang == lang
            if lang != "en":
                seen[(app.view.situation, lang)] = english_words(app, contests)

    async def day() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await app.until(lambda v: v.situation == "unconfigured")
            await every_language(pilot)
            await act(pilot, "l", pin=EM)
            await app.until(lambda v: v.situation == "election_loaded")
            await every_language(pilot)
            await pilot.press("g")  # the console in Khmer while the polls open and the zero report prints
            r = await act(pilot, "o", pin=PW)
            assert r.ok and app.tr.lang == "km"
            assert i18n.language() == "en"  # the unit's language, which its slips are printed in
            await app.until(lambda v: v.situation == "polls_open")
            for _ in range(3):
                await pilot.press("g")
            await pilot.press("1")
            await app.until(lambda v: v.checked_in == 1)
            await every_language(pilot)
            await pilot.press("4")
            await app.until(lambda v: v.situation == "needs_review")
            await every_language(pilot)
            await act(pilot, "k")
            await app.until(lambda v: v.cast == 1 and v.situation == "polls_open")
            await act(pilot, "c", pin=PW, confirm=True)
            await app.until(lambda v: v.situation == "polls_closed")
            await every_language(pilot)

    try:
        asyncio.run(day())
    finally:
        sim.close()
    assert {s for s, _lang in seen} == {"unconfigured", "election_loaded", "polls_open", "needs_review",
                                        "polls_closed"}
    assert {k: v for k, v in seen.items() if v} == {}
