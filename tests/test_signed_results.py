"""The signed results message: built from a station's tally, signed by the unit key, verified."""
from __future__ import annotations

import copy
import json
import random

import pytest

from device.ballots.records import BLANK, INVALID, OVERVOTE, UNDERVOTE, VALID, CastVoteRecord
from device.election.definition import load_election
from device.results.signed_results import (FORMAT, TALLY_FIELDS, ResultsSignatureError,
                                           build_results_message, sign_results,
                                           verify_signed_results)
from device.results.tally import tally_station
from device.store.signing import UnitSigner

RECONCILIATION = {"checked_in": 3, "cast": 3, "cast_invalid_compartment": 1, "dropped_confirmed": 3,
                  "authorised_unused": 0, "returned": 1, "rejected_by_reason": {"unreadable": 1},
                  "refused_by_reason": {"not_on_roll": 2}}


def station_results(election):
    cvrs = [
        CastVoteRecord("a" * 32, "north-ballot", {"council": (("GRN",), VALID), "mayor": (("m-amara",), VALID),
                                                  "parks": (("p-dara",), UNDERVOTE)}),
        CastVoteRecord("b" * 32, "north-ballot", {"council": ((), BLANK), "parks": ((), BLANK),
                                                  "mayor": (("m-amara", "m-bolat"), OVERVOTE)}),
        CastVoteRecord("c" * 32, "north-ballot", {"council": ((), INVALID), "mayor": ((), INVALID),
                                                  "parks": ((), INVALID)}),
    ]
    return tally_station(election, "north-1", cvrs)


@pytest.fixture(scope="module")
def signed_and_key():
    election = load_election("demo")
    signer = UnitSigner.generate(random.Random(5))
    message = build_results_message(election, "north-1", station_results(election), RECONCILIATION,
                                    (41, "ab" * 32), public_key_hex=signer.public_key_hex(),
                                    mode="test", sequence=1)
    return sign_results(message, signer), signer.public_key_hex()


def test_message_carries_the_station_figures_and_verifies(signed_and_key):
    signed, key = signed_and_key
    m = verify_signed_results(json.loads(json.dumps(signed, indent=2)), key)  # any JSON layout
    assert m["format"] == FORMAT and m["station"] == "north-1" and m["mode"] == "test"
    assert m["ballots_cast"] == 3 and m["journal_head"] == {"seq": 41, "hash": "ab" * 32}
    assert m["unit_id"].startswith("unit-north-1-") and m["unit_public_key"] == key
    council = m["tally"]["council"]
    assert set(council) == set(TALLY_FIELDS) and council["votes"]["GRN"] == 1
    assert (council["blank"], council["invalid"], council["ballots_counted"]) == (1, 1, 2)
    assert m["tally"]["mayor"]["overvotes"] == 1 and "seats" not in council
    assert m["reconciliation"] == RECONCILIATION


@pytest.mark.parametrize("alter", [
    lambda m: m["tally"]["council"]["votes"].__setitem__("GRN", 2),
    lambda m: m["tally"]["mayor"].__setitem__("invalid", 0),
    lambda m: m.__setitem__("ballots_cast", 4),
    lambda m: m["reconciliation"].__setitem__("checked_in", 4),
    lambda m: m.__setitem__("sequence", 2),
    lambda m: m.__setitem__("mode", "live"),
])
def test_an_altered_figure_is_caught(signed_and_key, alter):
    signed, key = signed_and_key
    forged = copy.deepcopy(signed)
    alter(forged["message"])
    with pytest.raises(ResultsSignatureError, match="does not match"):
        verify_signed_results(forged, key)


def test_wrong_key_is_named(signed_and_key):
    signed, _ = signed_and_key
    other = UnitSigner.generate(random.Random(6))
    with pytest.raises(ResultsSignatureError, match="not the expected"):
        verify_signed_results(signed, other.public_key_hex())
    # The same message re-signed by another key that claims to be the unit: refused too.
    forged = {"message": signed["message"], "signature": other.sign(b"x").hex()}
    with pytest.raises(ResultsSignatureError, match="does not match"):
        verify_signed_results(forged, signed["message"]["unit_public_key"])


@pytest.mark.parametrize("mangle, reason", [
    (lambda s: s["message"], "not a signed results message"),
    (lambda s: {**s, "extra": 1}, "not a signed results message"),
    (lambda s: {**s, "signature": "zz"}, "128 hex digits"),
    (lambda s: {**s, "message": {k: v for k, v in s["message"].items() if k != "tally"}}, "no 'tally'"),
    (lambda s: {**s, "message": {**s["message"], "format": "other/2"}}, "unknown results format"),
    (lambda s: {**s, "message": {**s["message"], "sequence": -1}}, "'sequence' is not a count"),
    (lambda s: {**s, "message": {**s["message"], "ballots_cast": True}}, "not a count"),
    (lambda s: {**s, "message": {**s["message"], "journal_head": {"seq": 1}}}, "journal head"),
    (lambda s: {**s, "message": {**s["message"], "tally": {"x": {"votes": {}}}}}, "contest 'x'"),
    (lambda s: {**s, "message": {**s["message"], "extra": 1}}, "unknown fields: extra"),
    (lambda s: [s], "not a signed results message"),
])
def test_malformed_input_gets_a_clear_reason(signed_and_key, mangle, reason):
    signed, key = signed_and_key
    with pytest.raises(ResultsSignatureError, match=reason):
        verify_signed_results(mangle(copy.deepcopy(signed)), key)


def test_signer_must_be_the_unit_named_in_the_message(signed_and_key):
    signed, _ = signed_and_key
    with pytest.raises(ValueError, match="another unit key"):
        sign_results(signed["message"], UnitSigner.generate(random.Random(7)))


def test_only_a_live_package_gives_live_results():
    from device.results.signed_results import mode_for_package
    assert [mode_for_package(m) for m in ("live", "test", "simulation")] == ["live", "test", "test"]


# --- the export carries them; replay checks them against the cast vote records -------------

def test_export_carries_the_signed_results_and_replay_checks_them(tmp_path):
    from device.audit.replay import replay_export
    from device.results.exports import SIGNED_RESULTS
    from tests.unit_exports import exported_day

    export = exported_day(tmp_path, voters=40)
    path = export / SIGNED_RESULTS
    (signed,) = json.loads(path.read_text())
    assert signed["message"]["station"] == "north-1" and replay_export(export).ok
    unit = UnitSigner.generate(random.Random("5:key"))  # the seeded unit key of exported_day
    assert signed["message"]["unit_public_key"] == unit.public_key_hex()

    def replay_with(doc):
        path.write_text(json.dumps([doc]))
        return [f for f in replay_export(export).faults if f.where.startswith(SIGNED_RESULTS)]

    lied = copy.deepcopy(signed["message"])
    choice = next(iter(lied["tally"]["council"]["votes"]))
    lied["tally"]["council"]["votes"][choice] += 1
    faults = replay_with({"message": lied, "signature": signed["signature"]})
    assert [f.kind for f in faults] == ["forged signature"]
    faults = replay_with(sign_results(lied, unit))  # the unit itself signed a wrong figure
    assert [f.kind for f in faults] == ["tally mismatch"] and choice in faults[0].where
    elsewhere = copy.deepcopy(signed["message"])
    elsewhere["journal_head"]["hash"] = "0" * 64
    faults = replay_with(sign_results(elsewhere, unit))
    assert [f.kind for f in faults] == ["altered"] and "not in this journal" in faults[0].detail
