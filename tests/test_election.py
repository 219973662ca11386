"""Election definition: bundled files load, the hash is canonical, bad input names its path."""
import copy
import json

import pytest

from device.election.definition import BUNDLED, ElectionError, bundled_path, election_hash, load_election, parse_election


def demo_doc():
    return json.loads(bundled_path("demo").read_text(encoding="utf-8"))


@pytest.mark.parametrize("name", BUNDLED)
def test_bundled_elections_load(name):
    e = load_election(name)
    assert e.stations and e.contests and len(e.hash) == 64


def test_cambodia_and_kyrgyz_shapes():
    kh = load_election("cambodia-2022")
    council = kh.contests["council"]
    assert council.kind == "party-list" and council.method == "dhondt"
    assert len(council.choices) == 17
    assert all(5 <= s <= 11 for s in council.seats.values()) and len(council.seats) >= 3
    kg = load_election("kyrgyzstan-2017")
    assert kg.contests["president"].kind == "majority-runoff"
    assert len(kg.contests["president"].choices) == 11


def test_hash_is_stable_across_key_order_and_whitespace(tmp_path):
    doc = demo_doc()
    reordered = json.loads(json.dumps(doc), object_pairs_hook=lambda kv: dict(reversed(kv)))
    p = tmp_path / "e.json"
    p.write_text(json.dumps(reordered, indent=7), encoding="utf-8")
    assert load_election(p).hash == load_election("demo").hash == election_hash(doc)


def test_hash_changes_with_content():
    doc = demo_doc()
    doc["contests"][1]["choices"][0]["name"] = "Someone else"
    assert parse_election(doc).hash != load_election("demo").hash


def mutate(fn):
    doc = demo_doc()
    fn(doc)
    return doc


@pytest.mark.parametrize("change, path, words", [
    (lambda d: d["districts"].append(dict(d["districts"][0])), "$.districts[2].id", "duplicate id"),
    (lambda d: d["stations"][0].update(district="nowhere"), "$.stations[0].district", "unknown district"),
    (lambda d: d["stations"][0].update(ballot_style="x"), "$.stations[0].ballot_style", "unknown ballot style"),
    (lambda d: d["contests"][0]["seats"].update(north=0), "$.contests[0].seats.north", ">= 1"),
    (lambda d: d["contests"][2].update(vote_for=9), "$.contests[2].vote_for", "exceeds"),
    (lambda d: d["contests"][0].update(method="borda"), "$.contests[0].method", "must be one of"),
    (lambda d: d["contests"][1].update(kind="approval"), "$.contests[1].kind", "must be one of"),
    (lambda d: d["ballot_styles"][0]["contests"].append("nope"), "$.ballot_styles[0].contests[3]", "unknown contest"),
    (lambda d: d["contests"][1]["choices"][0].update(party="ZZZ"), "$.contests[1].choices[0].party", "unknown party"),
    (lambda d: d.update(policy={"overvote": "shred"}), "$.policy.overvote", "must be one of"),
    (lambda d: d.pop("title"), "$.title", "is required"),
    (lambda d: d.update(format="v0"), "$.format", "must be"),
    (lambda d: d["contests"][0].update(threshold=1.5), "$.contests[0].threshold", "fraction"),
    (lambda d: d["contests"][1].update(seats={"north": 3}), "$.contests[1].seats", "only a party-list"),
])
def test_validation_names_the_bad_field(change, path, words):
    with pytest.raises(ElectionError) as err:
        parse_election(mutate(change))
    assert err.value.path == path
    assert words in str(err.value)


@pytest.mark.parametrize("content, words", [
    (b"{not json", "not valid JSON"), (b"\xff\xfe\x00", "not UTF-8"), (b"[]", "JSON object"),
])
def test_bad_files_give_one_clear_error(tmp_path, content, words):
    p = tmp_path / "bad.json"
    p.write_bytes(content)
    with pytest.raises(ElectionError, match=words):
        load_election(p)


def test_missing_file_names_the_bundled_ones():
    with pytest.raises(ElectionError, match="bundled: cambodia-2022, demo, kyrgyzstan-2017"):
        load_election("/no/such/file.json")


def test_parse_does_not_mutate_input():
    doc = demo_doc()
    before = copy.deepcopy(doc)
    parse_election(doc)
    assert doc == before
