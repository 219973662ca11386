"""Voter pseudonyms: how the journal says "this voter checked in" without saying who.

A check-in record carries ``HMAC-SHA-256(key, voter_id)`` (first 128 bits, hex), never the
voter id, document number or name. The key is a per-election secret:

- the **election authority** generates it and ships it to each unit inside the signed election
  package (which is confidential anyway: it holds the voter roll);
- the **unit** uses it to recognise a voter who comes back (``already voted``) across restarts,
  and keeps it out of every export, report and printed slip;
- an **auditor or observer** with the exported journal sees equal pseudonyms for the same voter
  — enough to check that no voter was authorised twice — and cannot tell who any of them is;
- the authority keeps **one key per election**: every re-issued package of the election carries
  the same key (``AuthorityKey.pseudonym_key``), so "already voted" survives a reload, and a
  unit refuses a re-issue with another key once voters checked in;
- only the **authority** (holding the key and the roll) can map a pseudonym back to a voter,
  e.g. to investigate a complaint; publishing the key would de-pseudonymise every journal.
"""
from __future__ import annotations

import hashlib
import hmac
from typing import Any

MIN_KEY_BYTES = 16
_KEY_ID_LABEL = b"ballotbox pseudonym key id/1"


def key_id(key: bytes) -> str:
    """A public fingerprint of a pseudonym key (64 bits, hex): journaled with each loaded
    package so an auditor sees whether every package of one journal used the same key. It is
    an HMAC under the key, so it gives away neither the key nor any voter's pseudonym."""
    return hmac.new(bytes(key), _KEY_ID_LABEL, hashlib.sha256).hexdigest()[:16]


def _keyed_hmac(key: bytes) -> Any:
    """HMAC-SHA-256 keyed with ``key``: OpenSSL's own HMAC object where Python has one (its
    ``copy``, ``update`` and ``hexdigest`` run no Python code, unlike ``hmac.HMAC``'s; a
    pseudonym is made for every voter at the desk), else ``hmac``'s."""
    try:
        from _hashlib import hmac_new
    except ImportError:  # a Python built without OpenSSL
        return hmac.new(key, digestmod=hashlib.sha256)
    return hmac_new(key, digestmod="sha256")


class VoterPseudonyms:
    """``of(voter_id)`` -> the voter's pseudonym under one election's key."""

    def __init__(self, key: bytes):
        if not isinstance(key, (bytes, bytearray)) or len(key) < MIN_KEY_BYTES:
            raise ValueError(f"a pseudonym key must be at least {MIN_KEY_BYTES} bytes")
        self._key = bytes(key)
        self._keyed = _keyed_hmac(self._key)  # copied per voter: the key is set up once

    def of(self, voter_id: str) -> str:
        mac = self._keyed.copy()
        mac.update(voter_id.encode("utf-8"))
        return mac.hexdigest()[:32]

    def __repr__(self) -> str:  # never print the key
        return "VoterPseudonyms(<key withheld>)"
