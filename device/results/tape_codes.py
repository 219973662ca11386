"""The results tape's QR codes: a signed results message split into chained, phone-readable codes.

A signed message (``device.results.signed_results``) is too long for one code a phone reads
easily off a thermal roll, so the tape prints it as ``n`` codes, as Brazil's *boletim de urna*
does. Each code's text is::

    BBT1|<i>|<n>|<prev>|<signature or empty>|<chunk>

- ``i`` of ``n`` (1-based) says where the code stands; a reader may scan them in any order;
- ``prev`` is the first 32 hex digits of the SHA-256 of code ``i-1``'s whole text (for code 1,
  of ``GENESIS``), so a code from another tape, or a reordered one, breaks the chain at a
  named place;
- the signature field is empty except in the last code, which carries the unit's Ed25519
  signature (128 hex digits);
- the chunks, joined in order, are the message's canonical JSON (plain text: any QR app shows
  it, and it verifies as it reads). ``decode_tape`` takes no other text: JSON with a repeated
  key (``"ballots_cast":999,"ballots_cast":12``: a phone shows 999, a parser keeps 12) or
  with other spacing or key order is refused, so what a person reads is what was signed.

The chain only says the codes belong together; the signature (checked by
``verify_signed_results`` against a key obtained independently) says the figures are the
unit's. The slip printer draws them (``hardware/slip_raster.py``, segno, error level M). Each
code's text is at most ``PAYLOAD_BYTES`` (UTF-8), what the largest code an 80 mm roll holds at 1
mm per module carries (version 11); the message is spread evenly over the fewest such codes, so
each is as small as it can be (the demo tape: 6 codes of 238 bytes). Decoding takes codes of any
size: tapes printed before (4 codes of up to 371 characters) still read.
"""
from __future__ import annotations

import hashlib
import json
from typing import Any, Iterable

from device.results.tape_parity import (PARITY_CODES, PARITY_PREFIX, ParityError, check_parity, covered,
                                        parity_codes, read_parity, rebuild)
from device.store.canonical_json import canonical_json
from hardware.slip_raster import QR_ERROR  # noqa: F401  (the level the printer prints codes at)

PREFIX = "BBT1"
GENESIS = "ballotbox-tape"
PAYLOAD_BYTES = 251  # per code: QR_MAX_VERSION (11) at error level M (hardware.slip_raster)
PREV_HEX = 32


class TapeCodeError(ValueError):
    """The codes read off a tape do not make one whole signed message."""


class MissingCodesError(TapeCodeError):
    """Too few of the tape's codes were read: ``missing`` (numbered as printed, the parity
    codes after the data codes) of ``total``, any ``enough`` of which make the message."""

    def __init__(self, text: str, missing: list[int], total: int, enough: int):
        super().__init__(text)
        self.missing, self.total, self.enough = missing, total, enough


def _digest(text: str) -> str:
    return hashlib.sha256(text.encode("utf-8")).hexdigest()[:PREV_HEX]


GENESIS_LINK = _digest(GENESIS)  # code 1's ``prev``


def _overhead(i: int, n: int, signature: str) -> int:
    """Characters of code ``i`` of ``n`` that are not message text."""
    return len("|".join((PREFIX, str(i), str(n), GENESIS_LINK, signature, "")))


def split_text(text: str, signature: str, max_payload: int) -> list[str]:
    """The message text cut into the chunks of the fewest codes whose payloads fit
    ``max_payload`` bytes (UTF-8, as the QR code stores them), spread evenly over them (the last
    code also carries the signature), so that every code is as small as it can be."""
    data = text.encode("utf-8")
    for n in range(1, len(data) + 2):
        room = [max_payload - _overhead(i, n, signature if i == n else "") for i in range(1, n + 1)]
        if min(room) <= 0 or sum(room) < len(data):
            continue
        target = -(-(len(data) + sum(max_payload - r for r in room)) // n)  # bytes per payload
        chunks, start = [], 0
        for r in room[:-1]:
            end = min(len(data), start + max(0, min(r, target - (max_payload - r))))
            while start < end < len(data) and data[end] & 0xC0 == 0x80:  # not inside a character
                end -= 1
            chunks.append(data[start:end].decode("utf-8"))
            start = end
        if len(data) - start <= room[-1]:
            return chunks + [data[start:].decode("utf-8")]
    raise ValueError(f"codes of {max_payload} bytes cannot carry this tape")


def encode_tape(signed: dict[str, Any], max_payload: int = PAYLOAD_BYTES,
                parity: int = PARITY_CODES) -> list[str]:
    """The QR payloads of a signed results message, in print order: the data codes, then
    ``parity`` parity codes (``device.results.tape_parity``)."""
    chunks = split_text(canonical_json(signed["message"]), signed["signature"], max_payload)
    n = len(chunks)
    prev = GENESIS_LINK
    payloads = []
    for i, chunk in enumerate(chunks, 1):
        sig = signed["signature"] if i == n else ""
        payload = "|".join((PREFIX, str(i), str(n), prev, sig, chunk))
        payloads.append(payload)
        prev = _digest(payload)
    return payloads + parity_codes(payloads, parity)


def is_tape_code(text: str) -> bool:
    """True if ``text`` looks like a results-tape code (data or parity): the checks decide."""
    return text.startswith((PREFIX + "|", PARITY_PREFIX + ":"))


def _parse(payload: str) -> tuple[int, int, str, str, str]:
    parts = payload.split("|", 5)
    if len(parts) != 6 or parts[0] != PREFIX:
        raise TapeCodeError(f"not a results-tape code: {payload[:30]!r}")
    try:
        i, n = int(parts[1]), int(parts[2])
    except ValueError:
        raise TapeCodeError(f"a code has no index/count: {payload[:30]!r}") from None
    if not 1 <= i <= n:
        raise TapeCodeError(f"a code says it is {i} of {n}")
    return i, n, parts[3], parts[4], parts[5]


def decode_tape(payloads: Iterable[str]) -> dict[str, Any]:
    """The signed message ``{"message", "signature"}`` from the codes, in any order.

    The same code read twice (two photos overlap) counts once. Data codes missing are rebuilt
    from the parity codes read, if enough were (``tape_parity``). Two different codes with the
    same index, too many missing codes, a broken chain, a signature outside the last code, a
    text that is not the canonical JSON of an object, or a parity code that is not the one the
    data codes give raise ``TapeCodeError`` with the reason.
    """
    payloads = list(dict.fromkeys(payloads))
    parity_texts = [p for p in payloads if p.startswith(PARITY_PREFIX + ":")]
    by_index: dict[int, tuple[str, tuple]] = {}
    counts = set()
    for payload in payloads:
        if payload in parity_texts:
            continue
        parsed = _parse(payload)
        counts.add(parsed[1])
        seen = by_index.get(parsed[0])
        if seen is not None and seen[0] != payload:
            raise TapeCodeError(f"two different codes claim to be {parsed[0]} of {parsed[1]} "
                                f"(codes from two tapes?)")
        by_index[parsed[0]] = (payload, parsed)
    try:
        parity, m, k = read_parity(parity_texts)
    except ParityError as exc:
        raise TapeCodeError(str(exc)) from None
    if not by_index and not parity:
        raise TapeCodeError("no results-tape code was read")
    if k is not None:
        counts.add(k)
    if len(counts) != 1:
        raise TapeCodeError(f"codes disagree on how many there are: {sorted(counts)}")
    n = counts.pop()
    missing = [i for i in range(1, n + 1) if i not in by_index]
    if missing:
        lost = missing + [n + j for j in range(1, (m or 0) + 1) if j not in parity]
        if len(lost) > (m or 0):
            total = n + (m or 0)
            raise MissingCodesError(f"missing code(s) {', '.join(map(str, lost))} of {total}"
                                    + (f" (any {n} of the {total} are enough)" if m else ""),
                                    lost, total, n)
        try:
            blocks = rebuild({i: covered(by_index[i][0]) for i in by_index}, parity, n, m or 0)
        except ParityError as exc:
            raise TapeCodeError(str(exc)) from None
        _rebuilt(by_index, blocks, n)
    prev = GENESIS_LINK
    for i in range(1, n + 1):
        payload, (_, _, link, sig, _) = by_index[i]
        if link != prev:
            raise TapeCodeError(f"the chain is broken at code {i} of {n} "
                                f"(it does not follow {'the header' if i == 1 else f'code {i - 1}'})")
        if bool(sig) != (i == n):
            raise TapeCodeError(f"code {i} of {n}: the signature belongs in the last code only")
        prev = _digest(payload)
    try:
        check_parity([by_index[i][0] for i in range(1, n + 1)], parity_texts)
    except ParityError as exc:
        raise TapeCodeError(str(exc)) from None
    text = "".join(by_index[i][1][4] for i in range(1, n + 1))
    try:
        message = json.loads(text)
    except ValueError:
        message = None
    if not isinstance(message, dict):
        raise TapeCodeError("the codes' text is not a JSON results message")
    if canonical_json(message) != text:  # a repeated key: a phone shows one figure, json another
        raise TapeCodeError("the codes' text is not the canonical JSON of the message it carries "
                            "(a repeated key, reordered keys or extra spaces): not as a unit prints it")
    return {"message": message, "signature": by_index[n][1][3]}


def _rebuilt(by_index: dict[int, tuple[str, tuple]], blocks: dict[int, bytes], n: int) -> None:
    """Adds to ``by_index`` the data codes rebuilt from parity (``blocks``: their covered
    bytes), each linked to the code before it as the printer linked it."""
    prev = GENESIS_LINK
    for i in range(1, n + 1):
        if i not in by_index:
            try:
                covered_text = blocks[i].decode("utf-8")
            except UnicodeDecodeError:
                raise TapeCodeError(f"code {i} of {n} rebuilt from the parity codes is not text "
                                    f"(parity codes of another tape?)") from None
            by_index[i] = (payload := "|".join((PREFIX, str(i), str(n), prev, covered_text)), _parse(payload))
        prev = _digest(by_index[i][0])
