"""The stateless checks of one upload, in order: form, registry, signature, election, mode, sanity.

``check_upload(body, served)`` returns an ``Upload``: the decoded signed message and, when a
check failed, the ``Verdict`` (``central.decisions``). What depends on earlier uploads (the
slot, the sequence) is decided by the single writer (``central.ingest``).

Sanity checks (a validly signed message can still be wrong: a unit fault, a bad build):
the contests are exactly those on the station's ballot style and the choices exactly the
contest's; per contest the tally invariant, ``sum(votes) + undervotes + overvotes ==
ballots_counted * vote_for``, checked by the unit's own rule (``ContestTally.invariant_fault``
in ``device.results.tally``), ``blank <= ballots_counted`` and
``ballots_counted + invalid == ballots_cast``; ``ballots_cast`` is at most the voters
registered at the station (when the package says) and equals the reconciliation's ``cast``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass
from typing import Any

import orjson

from device.results.signed_results import (ResultsSignatureError, check_message_shape,
                                           verify_signed_results)
from device.results.tally import ContestTally
from device.store.canonical_json import canonical_bytes
from central.decisions import Verdict, clip
from central.served import ServedElection

MAX_BODY_BYTES = 256 * 1024


@dataclass
class Upload:
    signed: dict[str, Any] | None
    verdict: Verdict | None = None  # None: every stateless check passed
    digest: str = ""  # SHA-256 of the canonical message: the identity of a result

    @property
    def message(self) -> dict[str, Any]:
        assert self.signed is not None  # read only once every stateless check passed
        message: dict[str, Any] = self.signed["message"]
        return message


def message_digest(message: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(message)).hexdigest()


def parse_body(body: bytes) -> tuple[dict | None, Verdict | None]:
    """The signed message's JSON, or a ``malformed``/``oversized`` verdict."""
    if len(body) > MAX_BODY_BYTES:
        return None, Verdict("oversized", f"the body has {len(body)} bytes; the limit is {MAX_BODY_BYTES}")
    try:
        signed = orjson.loads(body)
    except orjson.JSONDecodeError as exc:
        return None, Verdict("malformed", f"the body is not JSON ({exc})")
    if not isinstance(signed, dict) or set(signed) != {"message", "signature"}:
        return None, Verdict("malformed", "expected an object with 'message' and 'signature'")
    try:
        check_message_shape(signed["message"])
    except ResultsSignatureError as exc:
        return None, Verdict("malformed", str(exc))
    return signed, None


def sanity_fault(message: dict[str, Any], served: ServedElection) -> str | None:
    """Why the figures of a message are inconsistent, or None."""
    election = served.election
    station = message["station"]
    cast = message["ballots_cast"]
    expected = {c.id: c for c in election.contests_at_station(station)}
    if set(message["tally"]) != set(expected):
        return f"the contests are {sorted(message['tally'])}, the ballot has {sorted(expected)}"
    for cid, fig in message["tally"].items():
        contest = expected[cid]
        if set(fig["votes"]) != set(contest.choice_ids()):
            return f"contest {cid}: the choices are not the contest's"
        fault = ContestTally.from_json(contest, fig).invariant_fault()
        if fault is not None:
            return fault
        if fig["blank"] > fig["ballots_counted"]:
            return f"contest {cid}: more blank ballots than ballots counted"
        if fig["ballots_counted"] + fig["invalid"] != cast:
            return (f"contest {cid}: ballots counted {fig['ballots_counted']} + invalid "
                    f"{fig['invalid']} is not the {cast} ballots cast")
    registered = served.registered_at(station)
    if registered is not None and cast > registered:
        return f"{cast} ballots cast but only {registered} voters registered"
    rec_cast = message["reconciliation"].get("cast")
    if rec_cast is not None and rec_cast != cast:
        return f"the reconciliation says {rec_cast} cast, the tally {cast}"
    if message["journal_head"]["seq"] < cast:
        return "the journal is shorter than the ballots it says were cast"
    return None


def check_upload(body: bytes, served: ServedElection) -> Upload:
    """Every check that does not depend on earlier uploads."""
    signed, verdict = parse_body(body)
    if verdict is not None:
        return Upload(None, verdict)
    assert signed is not None  # parse_body gives a body or a verdict
    message = signed["message"]
    up = Upload(signed, None, message_digest(message))
    station, key = message["station"], message["unit_public_key"]
    if station not in served.election.stations:
        up.verdict = Verdict("unknown_station", f"no station {clip(station, 40)!r} in {served.election.id}")
        return up
    registered_for = served.keys.get(key)
    if registered_for is None:
        up.verdict = Verdict("unknown_unit", f"unit key {key[:16]}... is not in the registry")
        return up
    if registered_for != station:
        up.verdict = Verdict("wrong_station", f"unit key {key[:16]}... is registered for "
                                              f"{registered_for}, not {station}")
        return up
    try:
        verify_signed_results(signed, key)
    except ResultsSignatureError as exc:
        up.verdict = Verdict("bad_signature", str(exc))
        return up
    if message["election_hash"] != served.election.hash:
        up.verdict = Verdict("wrong_election", f"election hash {message['election_hash'][:16]}... "
                                               f"is not {served.election.hash[:16]}...")
        return up
    if message["mode"] != served.mode:
        up.verdict = Verdict("wrong_mode", f"{message['mode']} results sent to a {served.mode} service")
        return up
    fault = sanity_fault(message, served)
    if fault:
        up.verdict = Verdict("failed_sanity", fault)
    return up
