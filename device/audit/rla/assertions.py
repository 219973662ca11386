"""Assertions: linear inequalities on vote totals that, if all true, imply the reported outcome.

Every assertion here has the form ``a_w * V_w - a_l * V_l > 0`` over the votes ``V`` of one
scope (the whole contest, or one district's council), so a batch contributes a *margin*
``m_p = a_w * v_wp - a_l * v_lp`` and the assertion's reported margin is ``M = sum_p m_p``.
Its batch-comparison error bound follows: a box of ``b_p`` sheets can at worst hold every
sheet for the loser and none for the winner, an actual margin of ``-a_l * b_p``, so the
*relative overstatement* of the batch is at most ``u_p = (m_p + a_l * b_p) / M`` (Stark,
"Efficient post-election audits of multiple contests: 2009 California tests", 2009; the
``max_error_for_candidate_pair`` of Arlo's ``server/audit_math/macro.py`` when ``a = 1``).

Kinds of contest and their assertions:

- plurality (``vote_for`` winners): every reported winner beats every reported loser
  (``a_w = a_l = 1``), as Arlo's per-contest MACRO does;
- majority-runoff: the pairs above, plus the majority test Arlo calls *subject to runoff*:
  with a majority, the winner beats all others together; without one, all others together
  beat the leader (so a runoff is needed) and the two in the runoff beat everyone else;
- party-list by D'Hondt or Sainte-Laguë, per district: for every party ``w`` that won
  ``s_w >= 1`` seats and every other party ``l`` with ``s_l`` seats, ``w``'s last quotient beats
  ``l``'s first unelected one: ``V_w / d(s_w) > V_l / d(s_l + 1)``, i.e.
  ``d(s_l + 1) * V_w - d(s_w) * V_l > 0`` with ``d(k) = k`` (D'Hondt) or ``2k - 1``
  (Sainte-Laguë). These hold exactly when the allocation is the reported one (Stark and Teague,
  "Verifiable European Elections: Risk-limiting Audits for D'Hondt and Its Relatives", USENIX
  JETS 3(1), 2014; Blom, Budurushi, Rivest, Stark, Stuckey, Teague, Vukcevic, "Assertion-based
  approaches to auditing complex elections, with application to party-list proportional
  elections", E-Vote-ID 2021). A threshold would need assertions of its own (not done: the
  results loader refuses a district where a threshold excluded a party with votes).

An assertion with ``M <= 0`` (a tie, or an allocation decided by lot) cannot be confirmed by a
sample: the audit becomes a full hand count of its scope.
"""
from __future__ import annotations

from dataclasses import dataclass

from device.audit.rla.results import Batch, ReportedContest

DIVISORS = {"dhondt": lambda k: k, "sainte-lague": lambda k: 2 * k - 1}


class OutcomeNotAuditable(ValueError):
    """The outcome cannot be expressed as assertions this module knows (one line)."""


@dataclass(frozen=True)
class Assertion:
    """``winner`` (a list: their votes added) beats ``loser`` (likewise) in ``district`` (None:
    the whole contest), with weights ``a_w`` and ``a_l``; ``margin`` is the reported ``M``."""

    id: str
    district: str | None
    winner: tuple[str, ...]
    loser: tuple[str, ...]
    a_w: int
    a_l: int
    margin: int

    def batch_margin(self, votes: dict[str, int]) -> int:
        return self.a_w * sum(votes[c] for c in self.winner) - self.a_l * sum(votes[c] for c in self.loser)

    def applies_to(self, batch: Batch) -> bool:
        return self.district is None or batch.district == self.district

    def max_overstatement(self, batch: Batch) -> float:
        """``u_p``: the most this batch's error can take off the margin, relative to ``M``."""
        if not self.applies_to(batch):
            return 0.0
        if self.margin <= 0:
            return float("inf")
        return (self.batch_margin(batch.votes) + self.a_l * batch.ballots) / self.margin

    def overstatement(self, batch: Batch, counted: dict[str, int]) -> tuple[int, float]:
        """(error in votes of margin, relative error ``e_p``) of a hand count of ``batch``."""
        if not self.applies_to(batch):
            return 0, 0.0
        error = self.batch_margin(batch.votes) - self.batch_margin(counted)
        if self.margin <= 0:
            return error, float("inf") if error else 0.0
        return error, error / self.margin

    def to_json(self) -> dict:
        return {"id": self.id, "district": self.district, "winner": list(self.winner),
                "loser": list(self.loser), "a_w": self.a_w, "a_l": self.a_l, "margin": self.margin}


def _make(district: str | None, winner: tuple[str, ...], loser: tuple[str, ...], a_w: int, a_l: int,
          totals: dict[str, int], label: str) -> Assertion:
    margin = a_w * sum(totals[c] for c in winner) - a_l * sum(totals[c] for c in loser)
    where = f"{district}: " if district else ""
    return Assertion(f"{where}{label}", district, winner, loser, a_w, a_l, margin)


def ranked(totals: dict[str, int]) -> list[str]:
    """Choices by reported votes, most first (ties by id, as the tally ranks them)."""
    return sorted(totals, key=lambda c: (-totals[c], c))


def plurality_assertions(totals: dict[str, int], vote_for: int) -> list[Assertion]:
    order = ranked(totals)
    winners, losers = order[:vote_for], order[vote_for:]
    return [_make(None, (w,), (lo,), 1, 1, totals, f"{w} beats {lo}") for w in winners for lo in losers]


def majority_assertions(totals: dict[str, int]) -> list[Assertion]:
    """Arlo's *subject to runoff* rule (``sampler_contest.py``, ``macro.py``)."""
    order = ranked(totals)
    leader, others = order[0], tuple(order[1:])
    if 2 * totals[leader] > sum(totals.values()):
        return (plurality_assertions(totals, 1)
                + [_make(None, (leader,), others, 1, 1, totals, f"{leader} has a majority")])
    runoff, out = order[:2], order[2:]
    return ([_make(None, (w,), (lo,), 1, 1, totals, f"{w} reaches the runoff over {lo}")
             for w in runoff for lo in out]
            + [_make(None, others, (leader,), 1, 1, totals, f"no majority for {leader}")])


def seat_assertions(district: str, totals: dict[str, int], seats: dict[str, int], method: str) -> list[Assertion]:
    """The pairwise D'Hondt/Sainte-Laguë assertions of one district (Blom et al. 2021, §4)."""
    d = DIVISORS.get(method)
    if d is None:
        raise OutcomeNotAuditable(f"seats by {method!r} cannot be audited yet (D'Hondt, Sainte-Laguë only)")
    out = []
    for w in sorted(seats):
        if seats[w] < 1:
            continue
        for lo in sorted(totals):
            if lo == w:
                continue
            s_l = seats.get(lo, 0)
            out.append(_make(district, (w,), (lo,), d(s_l + 1), d(seats[w]), totals,
                             f"{w}'s seat {seats[w]} beats {lo}'s seat {s_l + 1}"))
    return out


def contest_assertions(reported: ReportedContest, scope: str) -> list[Assertion]:
    """The assertions of ``scope``: ``"contest"`` (the votes of every reported station),
    ``"seats"`` (every complete district's council) or ``"district:ID"`` (one council)."""
    if scope == "contest":
        totals = reported.totals()
        if reported.kind == "majority-runoff":
            return majority_assertions(totals)
        return plurality_assertions(totals, reported.vote_for)
    if reported.kind != "party-list":
        raise OutcomeNotAuditable(f"contest {reported.contest!r} elects no seats: use --scope contest")
    if scope == "seats":
        districts = sorted(reported.districts)
    elif scope.startswith("district:"):
        districts = [scope.split(":", 1)[1]]
        if districts[0] not in reported.districts:
            raise OutcomeNotAuditable(f"district {districts[0]!r} has no final seat allocation in these results")
    else:
        raise OutcomeNotAuditable(f"unknown scope {scope!r} (contest, seats or district:ID)")
    if not districts:
        raise OutcomeNotAuditable("no district has a final seat allocation (every station reported)")
    out = []
    for dist in districts:
        ds = reported.districts[dist]
        out += seat_assertions(dist, reported.totals(dist), ds.seats, ds.method)
    return out
