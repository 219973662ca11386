"""MACRO batch comparison: error bounds, sample sizes and the measured risk, as Arlo computes them.

MACRO, the *maximum across-contest relative overstatement* (P. B. Stark, "Efficient post-election
audits of multiple contests: 2009 California tests", CELS 2009, SSRN 1443314; "Risk-limiting
post-election audits: P-values from common probability inequalities", IEEE TIFS 4, 2009), with
batches drawn with probability proportional to an error bound (PPEB: Aslam, Popa and Rivest,
"On auditing elections when precincts have different sizes", EVT 2008). The arithmetic is the
one of VotingWorks' Arlo (``server/audit_math/macro.py``: ``compute_max_error``,
``compute_error``, ``compute_U``, ``get_sample_sizes``, ``compute_risk``), with one assertion
list in place of Arlo's winner/loser pairs so that D'Hondt seats use the same code:

- ``u_p = max_a u_pa`` per batch, ``U = sum_p u_p``;
- a hand count gives ``e_p = max(0, max_a e_pa)`` (understatements count as 0, as in Arlo);
- each draw (with replacement, multiplicity counts) multiplies the p-value by
  ``(1 - 1/U) / (1 - e_p / u_p)``; the audit may stop once it is at most the risk limit;
- the sample that would stop with no error is ``ceil(ln(alpha / risk) / ln(1 - 1/U)) + 1``
  draws (Arlo adds one draw "to allow for small discrepancies");
- a batch whose taint ``e_p / u_p`` reaches 1, a tie (``U`` infinite), or a sample as large as
  the number of batches means a full hand count.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

from device.audit.rla.assertions import Assertion
from device.audit.rla.results import Batch

INF = float("inf")


@dataclass(frozen=True)
class BatchCheck:
    """A hand count of one sampled batch against its reported votes."""

    batch: str
    draws: int  # how many times the batch was drawn (each draw multiplies the risk)
    error_votes: int  # the overstatement in votes of margin of the worst assertion (>0: against the winner)
    assertion: str | None  # that assertion
    e_p: float
    u_p: float

    @property
    def taint(self) -> float:
        if self.u_p <= 0:
            return 0.0
        if math.isinf(self.e_p):
            return 1.0
        return 0.0 if math.isinf(self.u_p) else self.e_p / self.u_p

    def to_json(self) -> dict:
        return {"batch": self.batch, "draws": self.draws, "error_votes": self.error_votes,
                "assertion": self.assertion, "e_p": self.e_p, "u_p": self.u_p, "taint": self.taint}


def error_bounds(batches: dict[str, Batch], assertions: list[Assertion]) -> dict[str, float]:
    """``u_p`` of every batch: the largest relative overstatement any assertion allows."""
    by_district: dict[str | None, list[Assertion]] = {}
    for a in assertions:
        by_district.setdefault(a.district, []).append(a)
    everywhere = by_district.get(None, [])
    out = {}
    for bid, b in batches.items():
        relevant = everywhere + by_district.get(b.district, [])
        out[bid] = max((a.max_overstatement(b) for a in relevant), default=0.0)
    return out


def total_bound(bounds: dict[str, float]) -> float:
    return math.fsum(bounds.values())


def sample_size(risk_limit: float, bounds: dict[str, float], risk: float = 1.0) -> int:
    """Draws expected to bring ``risk`` down to ``risk_limit`` if no error is found (Arlo's
    ``get_sample_sizes``); the number of batches when that is a full hand count."""
    if not 0 < risk_limit < 1:
        raise ValueError("the risk limit must be between 0 and 1")
    U = total_bound(bounds)
    n_batches = sum(1 for u in bounds.values() if u > 0)
    if risk <= risk_limit:
        return 0
    if math.isinf(U) or U <= 1:
        return n_batches
    n = math.ceil((math.log(risk_limit) - math.log(risk)) / math.log(1 - 1 / U)) + 1
    return min(n, n_batches)


def check_batch(batch: Batch, counted: dict[str, int], draws: int, assertions: list[Assertion],
                u_p: float) -> BatchCheck:
    worst: tuple[float, int, str | None] = (0.0, 0, None)
    for a in assertions:
        if not a.applies_to(batch):
            continue
        votes, rel = a.overstatement(batch, counted)
        if votes > 0 and rel > worst[0]:
            worst = (rel, votes, a.id)
    return BatchCheck(batch.id, draws, worst[1], worst[2], worst[0], u_p)


def measured_risk(checks: list[BatchCheck], U: float) -> float:
    """The MACRO p-value of the draws so far (``compute_risk``): 1.0 means "cannot stop"."""
    if math.isinf(U):
        return 1.0
    log_p = 0.0
    for c in checks:
        if c.u_p <= 0 or c.draws == 0:
            continue
        if math.isinf(c.e_p) or c.taint >= 1:
            return 1.0
        log_p += c.draws * (math.log(1 - 1 / U) - math.log(1 - c.taint))
    return min(1.0, math.exp(log_p))
