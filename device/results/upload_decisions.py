"""Every decision the central tally takes on an upload, declared once: code, outcome, HTTP status.

Both ends read this one table: the central tally answers each upload with its decision's status
(``central/decisions.py`` adds the ``Verdict`` it journals), and the unit's outbox
(``device/store/outbox.py``) reads the answer back through ``unit_state``. It lives in
``device/`` because the unit may not import ``central/``.

Outcomes: ``accepted`` (a new result, added to the totals), ``duplicate`` (the same signed
message again: an idempotent success), ``conflict`` (a different, validly signed message for a
slot already filled: stored, listed publicly, never added to the totals), ``refused`` (a
validly formed upload that fails a check: journaled and listed publicly, nothing added) and
``rejected`` (a body that is not an upload at all — malformed, oversized: a 4xx, nothing
stored, nothing journaled).

What the unit does with an answer (``unit_state``): ``delivered`` when the central tally holds
the message (accepted, or a duplicate of one it holds); ``pending`` (try again later, with
backoff) when the answer says the service could not decide now (408, 429 and every 5xx); else
``refused``, since sending the same bytes again cannot help (the operator fixes the cause and
uses ``device send --retry-refused``).
"""
from __future__ import annotations

from dataclasses import dataclass

HELD = ("accepted", "duplicate")  # outcomes meaning "the central tally holds this message"


def retry_later(status: int) -> bool:
    """An HTTP status that means "not decided now": the unit tries again with backoff."""
    return status in (408, 429) or status >= 500


@dataclass(frozen=True)
class Decision:
    code: str
    outcome: str  # accepted | duplicate | conflict | refused | rejected
    status: int  # HTTP status of the answer
    meaning: str  # what the public list says

    @property
    def unit_state(self) -> str:
        """The outbox state of a message that got this answer: delivered | pending | refused."""
        if retry_later(self.status):
            return "pending"
        return "delivered" if self.outcome in HELD else "refused"


_TABLE = [
    Decision("accepted", "accepted", 201, "accepted and added to the totals"),
    Decision("duplicate", "duplicate", 200, "the same signed result again (already accepted)"),
    Decision("conflict", "conflict", 409,
             "a different signed result for a slot already filled: kept aside, not counted"),
    Decision("older_sequence", "refused", 409,
             "an older sequence number than the result already held for this unit"),
    Decision("bad_signature", "refused", 403, "the signature does not verify under the unit key"),
    Decision("unknown_unit", "refused", 403, "the unit key is not in the election package's registry"),
    Decision("wrong_station", "refused", 403, "the unit key is registered for another station"),
    Decision("unknown_station", "refused", 403, "no such station in the election"),
    Decision("wrong_election", "refused", 422, "the results are for another election"),
    Decision("wrong_mode", "refused", 422, "live/test mode differs from the service's"),
    Decision("failed_sanity", "refused", 422, "the figures are inconsistent"),
    Decision("malformed", "rejected", 400, "not a signed results message"),
    Decision("oversized", "rejected", 413, "the body is larger than the limit"),
    Decision("unsupported_media", "rejected", 415, "the body is not JSON"),
    Decision("too_slow", "rejected", 408, "the body did not arrive within the deadline"),
    Decision("too_many_refusals", "rejected", 429,
             "too many refused uploads from this address lately; nothing stored, retry later"),
    Decision("unavailable", "rejected", 503, "the store could not record the decision; retry"),
]
DECISIONS: dict[str, Decision] = {d.code: d for d in _TABLE}


def unit_state_of(status: int, code: str | None) -> str:
    """The outbox state for an answer (HTTP status, decision code if the body named one).

    A code of the table answered with its own status is read from the table; anything else
    (another server at that URL, a proxy's error page) by the same rule on the status alone."""
    decision = DECISIONS.get(code or "")
    if decision is not None and decision.status == status:
        return decision.unit_state
    if retry_later(status) or status < 200 or 300 <= status < 400:
        return "pending"
    return "delivered" if 200 <= status < 300 else "refused"
