"""How a national run cuts its stations into batches (``runner.make_batches``): every station
once, the heaviest batches first, and the run's last batches small, so that no worker idles long
while the other finishes a whole batch (the tail of the whole-country run)."""
from __future__ import annotations

import pytest

from sim.national.generator import national_election
from sim.national.runner import MAX_BATCH, TAIL_BATCHES_PER_WORKER, TAIL_PIECES, make_batches


@pytest.fixture(scope="module")
def cambodia():
    return national_election("cambodia-2022-national")


@pytest.mark.parametrize("workers", [2, 3])
def test_the_whole_country_ends_with_small_batches(cambodia, workers):
    batches = make_batches(cambodia, cambodia.station_ids, workers)
    stations = [s for b in batches for s in b]
    assert sorted(stations) == sorted(cambodia.station_ids)  # every station once
    sizes = [len(b) for b in batches]
    assert max(sizes) <= MAX_BATCH
    tail = TAIL_BATCHES_PER_WORKER * workers * TAIL_PIECES
    # the last batches: each at most an eighth of a full batch (the old cut left ~300 stations each)
    assert all(n <= -(-MAX_BATCH // TAIL_PIECES) for n in sizes[-tail:])
    assert sum(sizes[-tail:]) >= TAIL_BATCHES_PER_WORKER * workers * (MAX_BATCH // 2)
    weight = [sum(cambodia.registered[s] for s in b) for b in batches]
    head = len(batches) - tail
    assert weight[:head] == sorted(weight[:head], reverse=True)  # heaviest first
    assert weight[head:] == sorted(weight[head:], reverse=True)
    assert min(weight[:head]) > max(weight[head:])


def test_a_small_run_is_not_cut_further(cambodia):
    ids = cambodia.station_ids[:10]
    assert [s for b in make_batches(cambodia, ids, 2) for s in b] == ids


def test_the_bench_reports_the_runs_tail():
    from sim.bench.national import describe_tail

    (line,) = describe_tail(10.0, [12.5, 40.0, 70.0, 71.25], 72.0, 4)
    assert "first batch back 2.5 s" in line and "tail 1.25 s" in line and "pool's stop 0.75 s" in line
    assert describe_tail(0.0, [], 1.0, 0) == ["tail: no batch came back"]
