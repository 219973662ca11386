"""One tally invariant (issue 20 §3, one place per rule): ``sum(votes) + undervotes + overvotes ==
ballots_counted x vote_for`` is stated once (``ContestTally.invariant_fault``). The unit refuses to
sign a broken tally with it and the central tally refuses a signed upload of one with it: the same
broken figures fail through both paths, with the same words."""
from __future__ import annotations

import copy

import orjson
import pytest

from central.checks import check_upload
from device.election.definition import load_election
from device.results.signed_results import build_results_message, sign_results
from device.results.tally import Results, TallyInvariantError
from sim.results.results_feed import synthetic_signed, unit_signer
from tests.central_kit import served_for

SEED, STATION = 5, "north-1"


def break_undervotes(fig: dict) -> None:
    fig["undervotes"] += 1


def break_votes(fig: dict) -> None:
    fig["votes"][next(iter(fig["votes"]))] += 2


def break_overvotes(fig: dict) -> None:
    fig["overvotes"] += fig["ballots_counted"] + 1


def both_paths(tally: dict) -> tuple[str | None, str | None]:
    """(the unit's refusal, the central tally's) of a station whose contests are ``tally``."""
    election = load_election("demo")
    signed = synthetic_signed(election, SEED, STATION)
    signer = unit_signer(SEED, STATION)
    message = signed["message"]
    results = Results.from_json(election, f"station:{STATION}", election.stations[STATION].district, tally,
                                message["ballots_cast"])
    try:
        build_results_message(election, STATION, results, message["reconciliation"], message["journal_head"],
                              public_key_hex=signer.public_key_hex(), mode=message["mode"], sequence=1)
        unit = None
    except TallyInvariantError as exc:
        unit = str(exc)
    upload = check_upload(orjson.dumps(sign_results(dict(message, tally=tally), signer)),
                          served_for(election, SEED))
    central = None if upload.verdict is None else upload.verdict.reason
    if upload.verdict is not None:
        assert upload.verdict.code == "failed_sanity"
    return unit, central


def test_a_sound_tally_passes_both_paths():
    assert both_paths(synthetic_signed(load_election("demo"), SEED, STATION)["message"]["tally"]) == (None, None)


@pytest.mark.parametrize("breaking", [break_undervotes, break_votes, break_overvotes])
def test_a_broken_tally_fails_through_both_paths_alike(breaking):
    tally = copy.deepcopy(synthetic_signed(load_election("demo"), SEED, STATION)["message"]["tally"])
    breaking(tally["mayor"])
    unit, central = both_paths(tally)
    assert unit is not None and unit == central
    assert unit.startswith("contest mayor: votes + undervotes + overvotes = ")
