"""Simulated units' signed results for the central tally: keys per seed, messages, uploads.

- ``unit_signer(seed, station_id)``: the simulated unit key of a station for a seed (drawn from
  a seeded stream, so ``ballotbox sim package`` can register the very keys the simulated units
  sign with; marked ``simulation``: not secret);
- ``synthetic_results(election, station_id, rng, registered)``: a station's ``Results`` tallied
  by the real ``device.results.tally`` from random cast vote records (fast: for the load bench
  and tests that need many stations, not a station day);
- ``signed_results_for(...)``: the signed message a unit would send (the tape helper's
  ``device.results.signed_results``).
"""
from __future__ import annotations

import random
from typing import Any

from device.ballots.records import INVALID, CastVoteRecord, contest_status
from device.election.definition import Election
from device.results.signed_results import build_results_message, sign_results
from device.results.tally import Results, tally_station
from device.store.signing import UnitSigner


def unit_key_rng(seed: int, station_id: str) -> random.Random:
    """The stream a simulated unit's key is drawn from (``provision(store, unit_key_rng(...))``
    gives a store the same key as ``unit_signer``)."""
    return random.Random(f"{seed}:{station_id}:unit-key")


def unit_signer(seed: int, station_id: str) -> UnitSigner:
    return UnitSigner.generate(unit_key_rng(seed, station_id))


def registered_voters(seed: int, station_id: str, low: int = 300, high: int = 700) -> int:
    return random.Random(f"{seed}:{station_id}:registered").randint(low, high)


def synthetic_results(election: Election, station_id: str, rng: random.Random, registered: int,
                      turnout: float = 0.8, invalid_rate: float = 0.02) -> Results:
    contests = election.contests_at_station(station_id)
    style = election.stations[station_id].ballot_style
    cvrs = []
    for i in range(int(registered * turnout)):
        invalid = rng.random() < invalid_rate
        marks = {}
        for c in contests:
            if invalid:
                marks[c.id] = ((), INVALID)
                continue
            k = rng.choice(range(c.vote_for + 1)) if rng.random() < 0.05 else c.vote_for
            weights = [1.0 / (j + 1) for j in range(len(c.choices))]
            sel = set()
            while len(sel) < k:
                sel.add(rng.choices(c.choice_ids(), weights)[0])
            sel_t = tuple(sorted(sel))
            marks[c.id] = (sel_t, contest_status(len(sel_t), c.vote_for))
        cvrs.append(CastVoteRecord(f"{i:08x}", style, marks))
    return tally_station(election, station_id, cvrs)


def signed_results_for(election: Election, station_id: str, signer: UnitSigner, results: Results, *,
                       mode: str = "test", sequence: int = 1) -> dict[str, Any]:
    cast = results.ballots_cast
    reconciliation = {"checked_in": cast, "cast": cast, "cast_invalid_compartment": 0,
                      "dropped_confirmed": cast, "authorised_unused": 0, "returned": 0,
                      "rejected_by_reason": {}, "refused_by_reason": {}}
    head = (2 * cast + 6, f"{random.Random(station_id).getrandbits(256):064x}")
    message = build_results_message(election, station_id, results, reconciliation, head,
                                    public_key_hex=signer.public_key_hex(), mode=mode,
                                    sequence=sequence)
    return sign_results(message, signer)


def synthetic_signed(election: Election, seed: int, station_id: str, *, mode: str = "test",
                     sequence: int = 1) -> dict[str, Any]:
    """Everything at once: the station's seeded key, figures and signed message."""
    rng = random.Random(f"{seed}:{station_id}:votes")
    results = synthetic_results(election, station_id, rng, registered_voters(seed, station_id))
    return signed_results_for(election, station_id, unit_signer(seed, station_id), results,
                              mode=mode, sequence=sequence)
