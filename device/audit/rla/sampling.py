"""The sample: stations drawn with replacement, proportional to their error bound, from a public seed.

Draw ``k`` (``k = 1, 2, ...``) takes the ``k``-th number of the SHA-256 generator of
``cryptorandom`` (``SHA256(seed).random()``: the SHA-256 digest of the bytes ``"<seed>,"``
followed by ``k - 1`` zero bytes, read as a fraction in [0, 1); the package's tests match
Rivest's and Stark's implementations) and picks the first
station, in the order of their ids, whose cumulative share of ``U`` passes it: probability
proportional to the error bound ``u_p`` (PPEB; Aslam, Popa and Rivest, EVT 2008), as MACRO
needs. The fraction is the draw's *ticket number*, printed beside the station so anyone can
recompute the sample with any SHA-256 implementation. A later round continues the same stream
(draws ``n + 1, n + 2, ...``), so rounds never redraw what an earlier round drew.

Arlo draws its PPEB sample with numpy's generator seeded from SHA-256 of the seed; the method
is the same (weighted draws with replacement), the stream is not, so Arlo given the same seed
draws other stations. The seed is at least 20 decimal digits rolled with dice in public.
"""
from __future__ import annotations

import bisect
import itertools
from dataclasses import dataclass

from cryptorandom.cryptorandom import SHA256

SEED_DIGITS = 20


class SeedError(ValueError):
    pass


@dataclass(frozen=True)
class Draw:
    index: int  # 1-based, over all rounds
    ticket: float  # the SHA-256 fraction that picked the station
    batch: str

    def to_json(self) -> dict:
        return {"draw": self.index, "ticket": f"{self.ticket:.18f}", "station": self.batch}


def check_seed(seed: str) -> str:
    seed = seed.strip()
    if not seed.isdigit() or not seed.isascii() or len(seed) < SEED_DIGITS:
        raise SeedError(f"the seed must be at least {SEED_DIGITS} decimal digits rolled in public "
                        f"(got {len(seed)} character(s))")
    return seed


def draw(seed: str, bounds: dict[str, float], first: int, count: int) -> list[Draw]:
    """Draws ``first .. first + count - 1`` (1-based) of the stream of ``seed``."""
    seed = check_seed(seed)
    ids = sorted(b for b, u in bounds.items() if u > 0)
    cumulative = list(itertools.accumulate(bounds[b] for b in ids))
    if not ids:
        return []
    total = cumulative[-1]
    prng = SHA256(seed)
    if first > 1:
        prng.jumpahead(first - 1)
    out = []
    for k in range(first, first + count):
        ticket = float(prng.random())
        i = min(bisect.bisect_right(cumulative, ticket * total), len(ids) - 1)
        out.append(Draw(k, ticket, ids[i]))
    return out
