"""The audit's arithmetic: Arlo's MACRO figures, the D'Hondt assertions, the SHA-256 sample."""
from __future__ import annotations

import hashlib
import itertools

from hypothesis import given, settings, strategies as st

from device.audit.rla import macro
from device.audit.rla.assertions import plurality_assertions, seat_assertions
from device.audit.rla.results import Batch
from device.audit.rla.sampling import draw
from device.results.seats import allocate_seats

SEED = "12345678901234567890"


def _arlo_batches(contest: str) -> dict[str, Batch]:
    """Arlo's ``test_macro.py`` fixture: 200 batches of 400 ballots and 200 'AV' of 200, each
    contest in some of them (winner/loser 200/180 and 100/90 for A, ...)."""
    spec = {"A": (range(200), (200, 180)), "B": (range(100), (200, 160)),
            "C": (itertools.chain(range(30), range(100, 130)), (200, 140))}
    rows, (w, lo) = spec[contest]
    out = {}
    for i in rows:
        out[f"Batch {i}"] = Batch(f"Batch {i}", "d", 400, {"winner": w, "loser": lo})
        out[f"Batch {i} AV"] = Batch(f"Batch {i} AV", "d", 200, {"winner": w // 2, "loser": lo // 2})
    return out


def _totals(batches: dict[str, Batch]) -> dict[str, int]:
    return {c: sum(b.votes[c] for b in batches.values()) for c in ("winner", "loser")}


def test_error_bounds_and_sample_sizes_are_arlos():
    # Arlo test_macro.py: u_p 0.07/0.035 (A), 0.0733 (B), 0.0852 (C); first round at a 25 %
    # risk limit 30, 16, 11; after 4 clean draws 26, 12, 7.
    expected_up = {"A": 0.07, "B": 0.0733, "C": 0.0852}
    first, second = {"A": 30, "B": 16, "C": 11}, {"A": 26, "B": 12, "C": 7}
    for contest in "ABC":
        batches = _arlo_batches(contest)
        assertions = plurality_assertions(_totals(batches), 1)
        bounds = macro.error_bounds(batches, assertions)
        assert abs(bounds["Batch 0"] - expected_up[contest]) < 0.0005
        assert abs(bounds["Batch 0 AV"] - expected_up[contest] / 2) < 0.0005
        assert macro.sample_size(0.25, bounds) == first[contest]
        clean = [macro.check_batch(batches[f"Batch {i}"], batches[f"Batch {i}"].votes, 1, assertions,
                                   bounds[f"Batch {i}"]) for i in range(4)]
        risk = macro.measured_risk(clean, macro.total_bound(bounds))
        assert macro.sample_size(0.25, bounds, risk) == second[contest]


def test_an_error_as_large_as_the_bound_means_a_full_count():
    # Arlo test_worst_case: a batch whose paper is all for the loser -> risk 1, cannot stop
    batches = {f"B{i}": Batch(f"B{i}", "d", 500, {"winner": 500, "loser": 0}) for i in (1, 2)}
    assertions = plurality_assertions(_totals(batches), 1)
    bounds = macro.error_bounds(batches, assertions)
    worst = macro.check_batch(batches["B1"], {"winner": 0, "loser": 500}, 1, assertions, bounds["B1"])
    assert worst.taint == 1.0 and worst.error_votes == 1000
    assert macro.measured_risk([worst], macro.total_bound(bounds)) == 1.0


def test_understatements_do_not_lower_the_risk_below_clean_draws():
    batches = _arlo_batches("A")
    assertions = plurality_assertions(_totals(batches), 1)
    bounds = macro.error_bounds(batches, assertions)
    U = macro.total_bound(bounds)
    clean = macro.check_batch(batches["Batch 1"], {"winner": 200, "loser": 180}, 1, assertions, bounds["Batch 1"])
    better = macro.check_batch(batches["Batch 1"], {"winner": 210, "loser": 170}, 1, assertions, bounds["Batch 1"])
    worse = macro.check_batch(batches["Batch 1"], {"winner": 190, "loser": 190}, 1, assertions, bounds["Batch 1"])
    assert macro.measured_risk([better], U) == macro.measured_risk([clean], U) < macro.measured_risk([worse], U)
    assert worse.error_votes == 20


@settings(max_examples=150, deadline=None)
@given(st.lists(st.integers(0, 400), min_size=2, max_size=5), st.integers(1, 8), st.sampled_from(["dhondt", "sainte-lague"]))
def test_seat_assertions_hold_exactly_for_the_reported_allocation(votes, seats, method):
    """Every assertion of the true allocation has a positive margin unless a tie decided a
    seat; every other allocation of the same seats breaks at least one of its own assertions."""
    parties = {f"P{i}": v for i, v in enumerate(votes)}
    if sum(votes) == 0:
        return
    alloc = allocate_seats(parties, seats, method)
    margins = [a.margin for a in seat_assertions("d", parties, alloc.seats, method)]
    if not alloc.ties:
        assert all(m > 0 for m in margins)
    names = sorted(parties)
    for split in itertools.product(range(seats + 1), repeat=len(names)):
        if sum(split) != seats or dict(zip(names, split)) == alloc.seats:
            continue
        other = seat_assertions("d", parties, dict(zip(names, split)), method)
        assert any(a.margin <= 0 for a in other), (parties, split, alloc.seats)


def test_draws_are_sha256_of_the_seed_and_reproducible():
    bounds = {"s1": 1.0, "s2": 3.0, "s3": 0.0, "s4": 4.0}
    draws = draw(SEED, bounds, 1, 50)
    assert draws == draw(SEED, bounds, 1, 50)
    assert draw(SEED, bounds, 21, 30) == draws[20:]  # a later round continues the stream
    assert all(d.batch != "s3" for d in draws)  # a bound of 0: never drawn
    for k, d in enumerate(draws[:5], 1):  # recomputed with hashlib alone
        u = int.from_bytes(hashlib.sha256(f"{SEED},".encode() + b"\0" * (k - 1)).digest(), "big") / 2 ** 256
        assert abs(d.ticket - u) < 1e-12
        expected = "s1" if u * 8 < 1 else "s2" if u * 8 < 4 else "s4"
        assert d.batch == expected
    share = sum(1 for d in draw(SEED, bounds, 1, 2000) if d.batch == "s4") / 2000
    assert 0.45 < share < 0.55  # proportional to the bound (4 of 8)


def test_a_seat_decided_by_lot_means_a_full_count_and_strict_json(tmp_path):
    import json

    from device.audit.rla.audit import evaluate_audit, load_audit, start_audit
    from device.audit.rla.csv_files import write_hand_count
    from device.audit.rla.results import DistrictSeats, ReportedContest

    batches = {f"s{i}": Batch(f"s{i}", "d", 120, {"A": 50, "B": 50, "C": 10}) for i in range(6)}
    reported = ReportedContest("council", "party-list", 1, ["A", "B", "C"], batches,
                               {"d": DistrictSeats("d", 3, "dhondt", {"A": 2, "B": 1, "C": 0})})
    state = start_audit(reported, "seats", 0.05, SEED, tmp_path / "audit")
    assert state.rounds[0]["full_hand_count"] and len(state.rounds[0]["stations"]) == 6
    for sid, b in batches.items():
        write_hand_count(tmp_path / "audit" / "hand-counts" / f"{sid}.csv", b.votes)
    # the paper shows the same tie: the lot that gave A the third seat stands
    assert evaluate_audit(load_audit(tmp_path / "audit"))["decision"] == "confirmed_by_full_count"
    # one box holds one more vote for B than reported: B wins the third seat outright
    write_hand_count(tmp_path / "audit" / "hand-counts" / "s0.csv", {"A": 49, "B": 51, "C": 10})
    result = evaluate_audit(load_audit(tmp_path / "audit"))
    assert result["decision"] == "outcome_wrong" and result["assertions_failing"] == ["d: A's seat 2 beats B's seat 2"]
    doc = json.loads((tmp_path / "audit" / "audit.json").read_text(),
                     parse_constant=lambda c: (_ for _ in ()).throw(ValueError(c)))
    assert doc["U"] is None and all(u is None for u in doc["bounds"].values())
