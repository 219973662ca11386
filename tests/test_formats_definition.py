"""Typed fields of the election definition for what was read from ``election.raw``: the province
of each district and the voters registered at each station; one decoder of a results document
(``Results.from_json``, the pair of ``to_json``) for the central tally and the national run."""
from __future__ import annotations

import copy
import random
import re
from pathlib import Path

import pytest

from device.election.definition import ElectionError, load_election, parse_election, province_id
from device.results.tally import Results
from sim.national.generator import national_election
from sim.results.results_feed import synthetic_results

ROOT = Path(__file__).resolve().parents[1]


def test_provinces_and_registered_voters_are_typed_fields():
    national = national_election("kyrgyzstan-2017-national")
    e = national.election
    assert e.registered() == national.registered
    for pid, province in national.provinces.items():
        mine = e.provinces[province_id(province.name)]
        assert mine.name == province.name and mine.districts == province.districts, pid
    for d, pid in national.province_of.items():
        assert e.districts[d].province == national.provinces[pid].name
    demo = load_election("demo")
    assert demo.provinces == {} and demo.registered() == {}
    assert province_id("Banteay Meanchey") == "banteay-meanchey" and province_id("Ош шаары") == "ош-шаары"


@pytest.mark.parametrize("where, value, words", [
    ("districts", 7, "$.districts[0].province: must be a non-empty string"),
    ("districts", " ", "$.districts[0].province: must be a non-empty string"),
    ("stations", -1, "$.stations[0].registered: must be a whole number >= 0"),
    ("stations", True, "$.stations[0].registered: must be a whole number >= 0"),
    ("stations", "300", "$.stations[0].registered: must be a whole number >= 0"),
])
def test_a_bad_province_or_registered_count_names_its_field(where, value, words):
    doc = copy.deepcopy(load_election("demo").raw)
    doc[where][0]["province" if where == "districts" else "registered"] = value
    with pytest.raises(ElectionError) as err:
        parse_election(doc)
    assert str(err.value).startswith(words)


def test_results_decode_what_they_encode():
    e = load_election("cambodia-2022")
    sid = next(iter(e.stations))
    results = synthetic_results(e, sid, random.Random(4), 300)
    doc = results.to_json()
    again = Results.from_json(e, results.scope, results.district, doc["contests"], doc["ballots_cast"])
    assert again.to_json() == doc and again.contests == results.contests


def test_no_module_reads_provinces_or_registered_counts_from_the_raw_document():
    raw_read = re.compile(r"\.raw(\.get\(|\[)\s*[\"'](districts|stations)[\"']")
    found = [f"{path.relative_to(ROOT)}:{n}" for folder in ("device", "central", "sim")
             for path in sorted((ROOT / folder).rglob("*.py"))
             for n, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1) if raw_read.search(line)]
    assert found == []
    assert raw_read.search('for d in election.raw.get("districts", []):')  # the check can fail
