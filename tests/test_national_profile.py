"""The national bench's profile: functions sorted into the categories the bench prints, and a
real profile of eight Cambodian station days that finds the controller and the simulation."""
from sim.bench.national_profile import OTHER, category, profile_stations
from sim.national.generator import national_election


def test_code_is_sorted_by_where_it_lives():
    assert category("/x/device/station/controller.py") == "controller logic"
    assert category("/x/site-packages/transitions/core.py") == "controller logic"
    assert category("/x/device/results/tally.py") == "tally/aggregation"
    assert category("/x/sim/national/aggregation.py") == "tally/aggregation"
    assert category("/x/sim/voters.py") == "simulated voters/paper"
    assert category("/usr/lib/python3.11/pickle.py") == "process start-up/pickling"
    assert category("/usr/lib/python3.11/random.py") == OTHER


def test_a_profile_of_eight_station_days():
    # the sampler ticks every ~4 ms of CPU (the kernel's clock): two station days take ~25 ms
    # now, and a category of 30 % of the CPU went unsampled about one run in eight
    ids = national_election("cambodia-2022-national").station_ids[:8]
    p = profile_stations(ids)
    assert p.ballots > 300 and p.cpu_seconds > 0 and p.profiled_seconds > p.cpu_seconds
    assert len(p.top) == 10 and all(seconds > 0 for _, _, seconds, _ in p.top)
    assert abs(sum(p.by_category.values()) - 1) < 1e-9
    assert p.by_category.get("controller logic", 0) > 0.2 and "simulated voters/paper" in p.by_category
