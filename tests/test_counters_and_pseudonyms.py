"""The station's counters (one rule for the unit and the auditor) and voter pseudonyms, exactly."""
from collections import Counter

import pytest

from device.election.pseudonym import MIN_KEY_BYTES, VoterPseudonyms
from device.station.counters import Counters


def test_counters_follow_every_event_exactly():
    c = Counters()
    events = [
        ("authorise", {"voter": "p1"}), ("authorise", {"voter": "p2"}), ("authorise", {"voter": "p3"}),
        ("refuse", {"reason": "not_on_roll"}), ("refuse", {"reason": "not_on_roll"}),
        ("refuse", {"reason": "already_voted", "voter": "p1"}),
        ("ballot_rejected", {"reason": "wrong_style"}), ("ballot_returned", {}),
        ("ballot_rejected", {"reason": "wrong_style"}), ("ballot_returned", {}),
        ("ballot_rejected", {"reason": "no_authorisation"}), ("ballot_returned", {}),
        ("ballot_cast", {}), ("ballot_dropped", {}),
        ("ballot_cast", {}), ("jam", {"kind": "jam"}), ("jam_cleared", {"resolution": "placed_in_box"}),
        ("ballot_cast", {}),
    ]
    for trigger, data in events:
        c.apply(trigger, data)
    assert c.checked_in == {"p1", "p2", "p3"}
    assert (c.outstanding, c.cast, c.dropped, c.returned) == (0, 3, 2, 3)
    assert c.refused == Counter({"not_on_roll": 2, "already_voted": 1})
    assert c.rejected == Counter({"wrong_style": 2, "no_authorisation": 1})
    assert c.drop_pending is True  # the third cast is recorded, its drop not yet confirmed
    c.apply("fault_cleared", {"resolution": "returned_to_voter"})
    assert c.drop_pending is True and c.dropped == 2  # a sheet given back is not a drop
    c.apply("fault_cleared", {"resolution": "placed_in_box"})
    assert c.drop_pending is False and c.dropped == 3
    for _ in range(2):
        c.apply("reopen_polls", {"role": "election_manager"})
    assert c.reopened == 2


def test_pseudonyms_need_a_key_of_16_bytes_or_more():
    VoterPseudonyms(b"k" * MIN_KEY_BYTES)  # exactly the minimum is enough
    for bad in (b"k" * (MIN_KEY_BYTES - 1), "k" * 32, None):
        with pytest.raises((ValueError, TypeError), match="at least 16 bytes"):
            VoterPseudonyms(bad)


def test_a_pseudonym_is_the_hmac_of_the_voter_id_and_hides_the_key():
    import hashlib
    import hmac

    p = VoterPseudonyms(b"election-key-0123456789")
    expected = hmac.new(b"election-key-0123456789", "Айгүл-V1".encode("utf-8"), hashlib.sha256).hexdigest()
    assert p.of("Айгүл-V1") == expected[:32]
    assert p.of("V1") != p.of("V2") and len(p.of("V1")) == 32
    assert "election-key" not in repr(p)
