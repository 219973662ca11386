"""The fast (orjson) path of canonical_bytes gives exactly the bytes of the json definition."""
from __future__ import annotations

import json

import pytest
from hypothesis import given, settings, strategies as st

from device.store.canonical_json import canonical_bytes, canonical_json, canonical_record_bytes, orjson_safe

scalars = (st.none() | st.booleans() | st.text() | st.integers(min_value=-2**70, max_value=2**70)
           | st.floats(allow_nan=False, allow_infinity=False)
           | st.floats(min_value=1e-4, max_value=1e16, exclude_max=True))
values = st.recursive(scalars, lambda kids: st.lists(kids, max_size=4) | st.dictionaries(st.text(), kids, max_size=4),
                      max_leaves=20)


def reference(obj) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False,
                      allow_nan=False).encode("utf-8")


@settings(max_examples=400, deadline=None)
@given(values)
def test_fast_path_is_byte_identical_to_the_definition(obj):
    try:
        expected = reference(obj)
    except (ValueError, UnicodeEncodeError):  # e.g. lone surrogates: both paths refuse
        with pytest.raises((ValueError, UnicodeEncodeError)):
            canonical_bytes(obj)
        return
    assert canonical_bytes(obj) == expected == canonical_json(obj).encode("utf-8")


@pytest.mark.parametrize("obj", [
    1e-05, 0.00012, 1e16, 1e+22, 123456789012345.6, -0.0, 0.0, 1654412400.5, 2**64, -2**63 - 1,
    2**63, "Сооронбай Жээнбеков", "ខ្មែរ", "\u2028\u2029\x00\x1f", "😀", {"b": 1, "a": [1.5, "é"]},
    {"é": 1, "e": 2, "z": 3, "😀": 4, "\uffff": 5}, [True, False, None], (1, 2),
    [1, "ballot_cast", 1654412400.25, {"voter": "ab" * 16}, "0" * 64],
])
def test_edge_values_are_byte_identical(obj):
    assert canonical_bytes(obj) == reference(obj)


def test_the_usual_record_shapes_never_take_the_json_path(monkeypatch):
    """The speed of every journal write depends on it: the records the controller writes are
    encoded by orjson, not by the json definition (which is made to fail here)."""
    import device.store.canonical_json as cj

    def refuse(obj):
        raise AssertionError(f"json path taken for {obj!r}")

    monkeypatch.setattr(cj, "canonical_json", refuse)
    for data in ({}, {"voter": "ab" * 16}, {"reason": "not_on_roll", "voter": "cd" * 16, "station": "s-1"},
                 {"ballots_cast": 312, "fraction": 0.25, "ok": True, "none": None},
                 {"kind": "jam", "detail": "stuck", "nested": {"a": [1, 2.5, "x"]}}):
        for at in (1654412400.0, 1654412400.25, 1654412400, 0.0):
            fields = [7, "authorise", at, data, "e" * 64]
            assert canonical_record_bytes(*fields) == reference(fields)
    assert cj.canonical_bytes([1, "x", 2.5, {"a": "b"}, "c"]) == reference([1, "x", 2.5, {"a": "b"}, "c"])


def test_the_journal_record_shape_takes_the_fast_path():
    assert orjson_safe([12, "authorise", 1654412400.5, {"voter": "ff" * 16}, "0" * 64])
    assert not orjson_safe([1e-5]) and not orjson_safe([2**64]) and not orjson_safe({1: "x"})
    for bad in (float("nan"), float("inf")):
        with pytest.raises(ValueError):
            canonical_bytes({"x": bad})


record_numbers = (st.integers(min_value=-2**70, max_value=2**70) | st.floats(allow_nan=False, allow_infinity=False)
                  | st.booleans())


@settings(max_examples=400, deadline=None)
@given(seq=record_numbers, type_=st.text() | st.integers(), at=record_numbers, prev=st.text(),
       data=st.dictionaries(st.text() | st.integers(), values, max_size=4) | values)
def test_record_bytes_are_the_definition_of_the_record_list(seq, type_, at, prev, data):
    """``canonical_record_bytes`` (one call per journal record) = canonical bytes of the list."""
    fields = [seq, type_, at, data, prev]
    try:
        expected = reference(fields)
    except (ValueError, TypeError, UnicodeEncodeError):
        with pytest.raises((ValueError, TypeError, UnicodeEncodeError)):
            canonical_record_bytes(*fields)
        return
    assert canonical_record_bytes(*fields) == expected


@pytest.mark.parametrize("fields", [
    [1, "authorise", 1654412400.0, {"voter": "ab" * 16}, "0" * 64], [2, "ballot_cast", 60.0, {}, "f" * 64],
    [3, "jam", 1e-5, {"kind": "jam", "n": 2**64}, "a"], [4, "x", 1e16, {"f": 1e-7, "l": [1e20]}, "b"],
    [2**64, "x", 0, {"d": {"e": -0.0}}, "c"], [5, "x", 1.5, {"s": "\ud800"}, "d"], [6, "x", True, {}, "e"],
    [7, "x", 1.5, {"f": 1e-7}, "e"], [8, "x", 1.5, {"f": 1e16}, "e"], [9, "x", 1.5, {"l": [1e-7]}, "e"],
    [10, "x", 1.5, {"d": {"f": 1e22}}, "e"], [11, "x", 1.5, {1: "one"}, "e"], [12, "x", 1.5, {"b": False}, "e"],
    [13, "x", 1.5, {"a": "x", "b": None, "c": True, "d": 1e-7}, "e"], [14, "x", 1.5, [1e-7], "e"],
    [15, "x", 1.5, {"a": 2, "b": [3, {"c": 1e16}]}, "e"],
])
def test_record_bytes_edge_values(fields):
    try:
        expected = reference(fields)
    except (ValueError, UnicodeEncodeError):
        with pytest.raises((ValueError, UnicodeEncodeError)):
            canonical_record_bytes(*fields)
        return
    assert canonical_record_bytes(*fields) == expected
