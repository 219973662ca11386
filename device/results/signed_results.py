"""The results a unit signs at polls close: the message, its Ed25519 signature, and the check.

A *results message* (format ``ballotbox-results/1``) is a JSON object::

    {"format": "ballotbox-results/1", "election_hash": str, "station": str, "unit_id": str,
     "unit_public_key": hex, "mode": "live" | "test", "phase": "polls_close", "sequence": int,
     "ballots_cast": int,
     "tally": {contest_id: {"votes": {choice_id: int}, "undervotes": int, "overvotes": int,
                            "blank": int, "invalid": int, "ballots_counted": int}},
     "reconciliation": {...StationController.reconciliation()...},
     "journal_head": {"seq": int, "hash": hex}}

It carries the station's figures only (no seat allocation: that is the central tally's job
once every station of a district has reported). The *signed* form is
``{"message": message, "signature": hex}`` where the signature is the unit key's Ed25519
signature over ``canonical_bytes(message)`` (``device.store.canonical_json``), so the message
may be re-serialised in any JSON layout and still verify.

The unit signs it (``sign_results``), prints it on the results tape as QR codes
(``device.results.tape_codes``), keeps it in its outbox (``device.store.outbox``) and sends it
to the central tally, which checks it with ``verify_signed_results`` — as does
``ballotbox audit tape`` from a photograph of the tape.
"""
from __future__ import annotations

import re
from typing import Any, Mapping, Protocol

from device.election.definition import Election
from device.results.nist import device_id
from device.results.tally import Results
from device.store.canonical_json import canonical_bytes
from device.store.signing import SignatureError, verify

FORMAT = "ballotbox-results/1"
MODES = ("live", "test")
PHASES = ("polls_close",)
# The figures of one contest in a message, in the order a person reads them.
TALLY_FIELDS = ("votes", "undervotes", "overvotes", "blank", "invalid", "ballots_counted")
# Every field of a message and the JSON type it must have (one source of truth for the shape).
MESSAGE_FIELDS: dict[str, type | tuple[type, ...]] = {
    "format": str, "election_hash": str, "station": str, "unit_id": str, "unit_public_key": str,
    "mode": str, "phase": str, "sequence": int, "ballots_cast": int, "tally": dict,
    "reconciliation": dict, "journal_head": dict,
}
_HEX = re.compile(r"^[0-9a-f]+$")


def _type_name(kind: type | tuple[type, ...]) -> str:
    return kind.__name__ if isinstance(kind, type) else " or ".join(k.__name__ for k in kind)


def mode_for_package(package_mode: str) -> str:
    """The results mode of a unit loaded with a package of ``package_mode``: only a live
    package's results are live; a test or simulation package's are ``test``."""
    return "live" if package_mode == "live" else "test"


class ResultsSignatureError(ValueError):
    """A signed results message is malformed, or its signature does not verify."""


def unit_id_for(station_id: str, public_key_hex: str) -> str:
    """The unit's identifier as every export names it (station and key fingerprint)."""
    return device_id(station_id, public_key_hex)


def tally_figures(results: Results) -> dict[str, dict[str, Any]]:
    """Per contest, the station's figures (``TALLY_FIELDS``) from ``Results.to_json``."""
    contests = results.to_json()["contests"]  # checks every contest's invariant
    return {cid: {k: entry[k] for k in TALLY_FIELDS} for cid, entry in contests.items()}


def build_results_message(election: Election, station_id: str, results: Results,
                          reconciliation: Mapping[str, Any], journal_head: tuple[int, str] | Mapping,
                          *, unit_id: str | None = None, public_key_hex: str, mode: str,
                          sequence: int) -> dict[str, Any]:
    """The results message of ``station_id`` (see the module docstring); not yet signed."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}")
    if station_id not in election.stations:
        raise ValueError(f"unknown station {station_id!r}")
    if isinstance(journal_head, Mapping):
        head_seq, head_hash = journal_head["seq"], journal_head["hash"]
    else:
        head_seq, head_hash = journal_head
    return {
        "format": FORMAT, "election_hash": election.hash, "station": station_id,
        "unit_id": unit_id or unit_id_for(station_id, public_key_hex),
        "unit_public_key": public_key_hex, "mode": mode, "phase": "polls_close",
        "sequence": int(sequence), "ballots_cast": results.ballots_cast,
        "tally": tally_figures(results), "reconciliation": dict(reconciliation),
        "journal_head": {"seq": int(head_seq), "hash": head_hash},
    }


class Signer(Protocol):
    """A unit's signing key as the results, the checkpoints and the export use it
    (``device.store.signing.UnitSigner``)."""

    def sign(self, data: bytes) -> bytes: ...

    def public_key_hex(self) -> str: ...


def sign_results(message: dict[str, Any], signer: Signer) -> dict[str, Any]:
    """``{"message", "signature"}``: ``signer`` (a ``UnitSigner``) signs the canonical bytes."""
    if message.get("unit_public_key") != signer.public_key_hex():
        raise ValueError("the message names another unit key than the signer's")
    check_message_shape(message)
    return {"message": message, "signature": signer.sign(canonical_bytes(message)).hex()}


def _fail(reason: str) -> None:
    raise ResultsSignatureError(reason)


def _is_count(value: Any) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and value >= 0


def check_message_shape(message: Any) -> None:
    """Raise ``ResultsSignatureError`` naming the first field that is missing or mistyped."""
    if not isinstance(message, dict):
        _fail("the results message is not a JSON object")
    for name, kind in MESSAGE_FIELDS.items():
        if name not in message:
            _fail(f"the results message has no {name!r}")
        value = message[name]
        if not isinstance(value, kind) or (kind is int and not _is_count(value)):
            _fail(f"the results message's {name!r} is not a {'count' if kind is int else _type_name(kind)}")
    extra = sorted(set(message) - set(MESSAGE_FIELDS))
    if extra:
        _fail(f"the results message has unknown fields: {', '.join(extra)}")
    if message["format"] != FORMAT:
        _fail(f"unknown results format {message['format']!r} (expected {FORMAT})")
    if message["mode"] not in MODES:
        _fail(f"unknown mode {message['mode']!r}")
    if message["phase"] not in PHASES:
        _fail(f"unknown phase {message['phase']!r}")
    if not _HEX.match(message["unit_public_key"]) or len(message["unit_public_key"]) != 64:
        _fail("the unit public key is not 64 hex digits")
    head = message["journal_head"]
    if not (_is_count(head.get("seq")) and isinstance(head.get("hash"), str)
            and _HEX.match(head["hash"]) and len(head["hash"]) == 64 and len(head) == 2):
        _fail("the journal head is not {seq, hash}")
    for cid, figures in message["tally"].items():
        if not isinstance(figures, dict) or set(figures) != set(TALLY_FIELDS):
            _fail(f"contest {cid!r}: the figures are not {', '.join(TALLY_FIELDS)}")
        votes = figures["votes"]
        if not isinstance(votes, dict) or not all(_is_count(n) for n in votes.values()):
            _fail(f"contest {cid!r}: votes are not counts per choice")
        if not all(_is_count(figures[k]) for k in TALLY_FIELDS[1:]):
            _fail(f"contest {cid!r}: a figure is not a count")


def verify_signed_results(signed: Any, public_key_hex: str) -> dict[str, Any]:
    """The message of ``signed`` once its shape and its signature under the key are checked.

    Raises ``ResultsSignatureError`` with the reason: malformed, signed by another key than
    ``public_key_hex``, or a signature that does not match the message (an altered figure).
    """
    if not isinstance(signed, dict) or set(signed) != {"message", "signature"}:
        _fail("not a signed results message (expected an object with 'message' and 'signature')")
    signature = signed["signature"]
    if not isinstance(signature, str) or not _HEX.match(signature) or len(signature) != 128:
        _fail("the signature is not 128 hex digits (an Ed25519 signature)")
    message = signed["message"]
    check_message_shape(message)
    expected = public_key_hex.strip().lower()
    if message["unit_public_key"] != expected:
        _fail(f"signed by unit key {message['unit_public_key'][:16]}..., "
              f"not the expected {expected[:16]}...")
    try:
        good = verify(expected, signature, canonical_bytes(message))
    except SignatureError as exc:
        _fail(str(exc))
    if not good:
        _fail("the signature does not match the message (a figure was altered, "
              "or it was not signed by this unit)")
    return message
