"""The results tape's parity codes: any ``k`` of its ``k + m`` codes give the whole message.

A poor phone photo loses a code now and then (the far end of a tilted photo, a shadow); one
lost code used to mean photographing the tape again. After its ``k`` data codes
(``device.results.tape_codes``: plain JSON text, chained, the last one signed) the tape prints
``m`` parity codes, an erasure code over the data codes (Rizzo's Reed-Solomon erasure code over
GF(256), the ``zfec`` library, byte by byte across the codes): whichever ``m`` codes are
missing, data or parity, the others rebuild the missing data codes exactly.

A parity code's text is QR alphanumeric (``PARITY_PREFIX:<j>:<m>:<k>:<bytes in Base45, RFC
9285>``), 2 bytes in 3 characters at 5.5 bits each, so a parity code holds as many bytes as the
data codes it covers and is printed at the same size (version 11 at level M at most). The bytes
covered are each data code's text after its index, count and link (the signature field and the
chunk): the links are recomputed when a code is rebuilt.

A parity code is never trusted: a rebuilt code goes through every check a read one does (the
chain, the canonical JSON, then the signature), and once the data codes are whole, each parity
code read must be the one they give (``check_parity``), so a forged or foreign parity code is
refused by name even when it was not needed. That is what binds the parity codes to the signed
message, more tightly than a hash link would.
"""
from __future__ import annotations

from typing import Iterable

import base45
import zfec

PARITY_PREFIX = "BBP1"
PARITY_CODES = 2  # printed after the data codes: any two codes of the tape may be lost


class ParityError(ValueError):
    """Parity codes that are malformed, disagree with each other, or cannot rebuild the tape."""


def covered(payload: str) -> bytes:
    """The bytes of a data code that its parity covers: after ``BBT1|i|n|link|``."""
    return payload.split("|", 4)[4].encode("utf-8")


def _padded(blocks: list[bytes], width: int) -> list[bytes]:
    return [b.ljust(width, b"\0") for b in blocks]  # text never holds a NUL: the padding is known


def parity_codes(data_payloads: list[str], m: int = PARITY_CODES) -> list[str]:
    """The ``m`` parity codes' texts for the data codes' payloads (in print order)."""
    if m == 0:
        return []
    k = len(data_payloads)
    blocks = [covered(p) for p in data_payloads]
    parity = zfec.Encoder(k, k + m).encode(_padded(blocks, max(len(b) for b in blocks)), list(range(k, k + m)))
    return [f"{PARITY_PREFIX}:{t + 1}:{m}:{k}:{base45.b45encode(bytes(block)).decode('ascii')}"
            for t, block in enumerate(parity)]


def parse_parity(text: str) -> tuple[int, int, int, bytes]:
    """(j, m, k, bytes) of a parity code's text; ``ParityError`` if it is not one."""
    parts = text.split(":", 4)
    if len(parts) != 5 or parts[0] != PARITY_PREFIX:
        raise ParityError(f"not a parity code: {text[:30]!r}")
    try:
        j, m, k = int(parts[1]), int(parts[2]), int(parts[3])
        block = base45.b45decode(parts[4])
    except ValueError:
        raise ParityError(f"a parity code that cannot be read: {text[:30]!r}") from None
    if not (1 <= j <= m and 1 <= k and k + m <= 255):
        raise ParityError(f"a parity code says it is {j} of {m} over {k} codes")
    return j, m, k, bytes(block)


def rebuild(blocks: dict[int, bytes], parity: dict[int, bytes], k: int, m: int) -> dict[int, bytes]:
    """The covered bytes of every data code 1..k, from those read (``blocks``, by index) and
    the parity codes read (``parity``, by j); ``ParityError`` if too many are missing."""
    lost = [i for i in range(1, k + 1) if i not in blocks] + [k + j for j in range(1, m + 1) if j not in parity]
    if len(lost) > m:
        raise ParityError(f"{len(lost)} of the {k + m} codes are missing, the parity codes make up {m}")
    if not lost or all(i > k for i in lost):
        return dict(blocks)
    if len({len(b) for b in parity.values()}) > 1:
        raise ParityError("the parity codes read are not of one tape (different lengths)")
    width = len(next(iter(parity.values())))
    if any(len(b) > width for b in blocks.values()):
        raise ParityError("a code read is longer than the parity codes cover (codes of another tape?)")
    shares = [(i - 1, b.ljust(width, b"\0")) for i, b in sorted(blocks.items())]
    shares += [(k + j - 1, parity[j]) for j in sorted(parity)]
    shares = shares[:k]
    primary = zfec.Decoder(k, k + m).decode([b for _, b in shares], [num for num, _ in shares])
    rebuilt = dict(blocks)
    for i in lost:
        if i <= k:
            rebuilt[i] = bytes(primary[i - 1]).rstrip(b"\0")
    return rebuilt


def read_parity(texts: Iterable[str]) -> tuple[dict[int, bytes], int | None, int | None]:
    """The parity codes among ``texts``: their bytes by j, and the (m, k) they agree on."""
    found: dict[int, tuple[str, bytes]] = {}
    shapes: set[tuple[int, int]] = set()
    for text in texts:
        j, m, k, block = parse_parity(text)
        shapes.add((m, k))
        if j in found and found[j][0] != text:
            raise ParityError(f"two different parity codes claim to be {j} of {m} (codes from two tapes?)")
        found[j] = (text, block)
    if len(shapes) > 1:
        raise ParityError("the parity codes disagree on how many codes there are (codes from two tapes?)")
    blocks = {j: block for j, (_, block) in found.items()}
    if not shapes:
        return blocks, None, None
    shape_m, shape_k = shapes.pop()
    return blocks, shape_m, shape_k


def check_parity(data_payloads: list[str], texts: Iterable[str]) -> None:
    """Each parity code read must be the one the whole data codes give; else ``ParityError``
    naming it (a forged parity code, or one of another tape)."""
    texts = list(texts)
    if not texts:
        return
    m = parse_parity(texts[0])[1]
    expected = parity_codes(data_payloads, m)
    for text in texts:
        j = parse_parity(text)[0]
        if text != expected[j - 1]:
            raise ParityError(f"parity code {j} of {m} is not the one this tape's codes give "
                              f"(a forged code, or one of another tape)")
