"""Seat allocation for party-list contests: D'Hondt, Sainte-Laguë and largest remainder (Hare).

``allocate_seats(votes, seats, method, threshold, lot_seed)`` returns a ``SeatAllocation``:
seats per party, and every tie that had to be broken, with the lot drawn. Ties are broken by
a seeded lot (``random.Random(lot_seed)``) and recorded, so anyone can redraw them: the lot
seed is derived from the election hash and the district by ``lot_seed_for``.

Highest-averages methods are computed by ranking all quotients ``votes / divisor(k)`` (the
definition); exactly (integers over a common denominator), so no floating-point tie is ever
invented or missed.
A threshold is a share of the valid votes a party must reach (``>=``) to get any seat.
"""
from __future__ import annotations

import hashlib
import math
import random
from dataclasses import dataclass, field
from fractions import Fraction

METHODS = ("dhondt", "sainte-lague", "largest-remainder")
# Other names a method is known by: largest remainder here always uses the Hare quota.
METHOD_ALIASES = {"hare": "largest-remainder"}


class SeatAllocationError(ValueError):
    pass


@dataclass(frozen=True)
class Tie:
    """Parties tied for the last ``seats_at_stake`` seat(s); ``winners`` got them by lot."""

    contenders: tuple[str, ...]
    seats_at_stake: int
    winners: tuple[str, ...]

    def to_json(self) -> dict:
        return {"contenders": list(self.contenders), "seats_at_stake": self.seats_at_stake,
                "winners": list(self.winners)}


@dataclass(frozen=True)
class SeatAllocation:
    method: str
    total_seats: int
    seats: dict[str, int]
    eligible: tuple[str, ...]
    ties: tuple[Tie, ...] = field(default=())
    lot_seed: int | None = None

    def to_json(self) -> dict:
        return {"method": self.method, "total_seats": self.total_seats, "seats": dict(self.seats),
                "eligible": list(self.eligible), "ties": [t.to_json() for t in self.ties],
                "lot_seed": self.lot_seed}


def lot_seed_for(election_hash: str, district: str, contest: str) -> int:
    digest = hashlib.sha256(f"{election_hash}|{district}|{contest}|lot".encode()).digest()
    return int.from_bytes(digest[:8], "big")


def _divisor(method: str, k: int) -> int:
    return k + 1 if method == "dhondt" else 2 * k + 1


def allocate_seats(votes: dict[str, int], seats: int, method: str = "dhondt",
                   threshold: float = 0.0, lot_seed: int = 0) -> SeatAllocation:
    method = METHOD_ALIASES.get(method, method)
    if method not in METHODS:
        raise SeatAllocationError(f"unknown method {method!r} (use one of {', '.join(METHODS)})")
    if seats < 1:
        raise SeatAllocationError(f"seats must be >= 1 (got {seats})")
    for party, v in votes.items():
        if not isinstance(v, int) or isinstance(v, bool) or v < 0:
            raise SeatAllocationError(f"votes for {party!r} must be a whole number >= 0 (got {v!r})")
    if not 0 <= threshold < 1:
        raise SeatAllocationError("threshold must be a fraction in [0, 1)")
    total = sum(votes.values())
    if total == 0:
        raise SeatAllocationError("no valid votes: seats cannot be allocated")
    eligible = [p for p in votes if votes[p] > 0 and Fraction(votes[p], total) >= Fraction(threshold).limit_denominator(10**9)]
    if not eligible:
        raise SeatAllocationError("no party reaches the threshold")
    rng = random.Random(lot_seed)
    if method == "largest-remainder":
        result, ties = _largest_remainder({p: votes[p] for p in eligible}, seats, rng)
    else:
        result, ties = _highest_averages({p: votes[p] for p in eligible}, seats, method, rng)
    full = {p: result.get(p, 0) for p in votes}
    return SeatAllocation(method, seats, full, tuple(eligible), tuple(ties), lot_seed)


def _award_by_rank(keys: dict, order: list, n: int, rng: random.Random) -> tuple[list, list[Tie]]:
    """The first ``n`` of ``order`` (sorted by key, descending); a tie at the cut goes to lot."""
    if n <= 0:
        return [], []
    cut = keys[order[n - 1]]
    above = [p for p in order if keys[p] > cut]
    at = sorted(p for p in order if keys[p] == cut)
    need = n - len(above)
    if len(at) == need:
        return above + at, []
    winners = sorted(rng.sample(at, need))
    return above + winners, [Tie(tuple(at), need, tuple(winners))]


def _highest_averages(votes: dict[str, int], seats: int, method: str,
                      rng: random.Random) -> tuple[dict[str, int], list[Tie]]:
    # v / divisor scaled by the divisors' least common multiple: exact integers, the same order
    # and the same ties as the fractions, without Fraction's cost (the central tally allocates
    # the seats of 1,652 communes again and again while results arrive).
    scale = math.lcm(*(_divisor(method, k) for k in range(seats)))
    quotients = {(party, k): v * (scale // _divisor(method, k))
                 for party, v in votes.items() for k in range(seats)}
    order = sorted(quotients, key=quotients.__getitem__, reverse=True)
    won, ties = _award_by_rank(quotients, order, seats, rng)
    result: dict[str, int] = {}
    for party, _k in won:
        result[party] = result.get(party, 0) + 1
    # A tie between quotients of the same party cannot change its seat count: report ties by party.
    # these ties are between quotients, keyed (party, k): the party is the first of each key
    party_ties = [Tie(tuple(sorted({key[0] for key in t.contenders})), t.seats_at_stake,
                      tuple(key[0] for key in t.winners)) for t in ties]
    return result, [t for t in party_ties if len(t.contenders) > 1]


def _largest_remainder(votes: dict[str, int], seats: int,
                       rng: random.Random) -> tuple[dict[str, int], list[Tie]]:
    total = sum(votes.values())
    quota = Fraction(total, seats)  # Hare quota
    base = {p: int(Fraction(v) // quota) for p, v in votes.items()}
    remainders = {p: Fraction(v) - base[p] * quota for p, v in votes.items()}
    left = seats - sum(base.values())
    order = sorted(votes, key=lambda p: remainders[p], reverse=True)
    won, ties = _award_by_rank(remainders, order, left, rng)
    for p in won:
        base[p] += 1
    return base, ties
