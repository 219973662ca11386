"""Oracles seen to fail: a unit that miscounts makes the run say DOES NOT MATCH and name what
it affected (logical and full fidelity); the invariants catch broken aggregates fed to them
(a province counted twice, every province doubled, the device's tally compared with itself, a
council given a seat too many, a central tally that counts a province twice); an interrupted
run says so and is not compared with the whole country's published figures; estimated
published votes are labelled. The pages read here are read for their words, so these runs draw
no figures (``--no-figures``), except the interrupted run's page."""
from __future__ import annotations

import copy
import dataclasses
import json
from pathlib import Path

import pytest

from device.cli.main import main
from sim.national.aggregation import NationalTally
from sim.national.executors import InlineExecutor
from sim.national.generator import national_election
from sim.national.invariants import check_invariants, compare_with_central
from sim.national.outputs import write_outputs
from sim.national.runner import checked_document, run_national
from sim.national.station_run import fault_profiles, run_batch, run_station, station_faults

CAMBODIA = "cambodia-2022-national"
# The first 14 stations: the 13 of a complete district (its seats are allocated) and one of the
# next, incomplete one; the miscount profile moves a vote in 4 of them and drops a record in 2.
# (It was 40: the same kinds of fault and district, at three times the CPU.)
STATIONS = 14


@pytest.fixture(scope="module")
def cambodia():
    return national_election(CAMBODIA)


@pytest.fixture(scope="module")
def miscount_run(cambodia):
    return run_national(cambodia, 1, InlineExecutor(), stations=STATIONS, faults="miscount")


def _corrupted(national, station_ids, profile: str, seed: int = 1) -> dict[str, str]:
    """Which stations the profile corrupts and how, decided apart from the run."""
    out = {}
    for sid in station_ids:
        f = station_faults(fault_profiles()[profile], seed, sid)
        kind = "move_vote" if f["move_vote"] else "drop_record" if f["drop_record"] else None
        if kind:
            out[sid] = kind
    return out


def test_a_miscounting_unit_fails_the_run_and_is_named(cambodia, tmp_path, capsys):
    out = tmp_path / "run"
    assert main(["sim", "national", "--election", CAMBODIA, "--stations", str(STATIONS), "--workers", "1",
                 "--faults", "miscount", "--out", str(out), "--no-figures"]) == 1
    printed = capsys.readouterr().out
    doc = json.loads((out / "national.json").read_text())
    corrupted = _corrupted(cambodia, cambodia.station_ids[:STATIONS], "miscount")
    assert set(corrupted.values()) == {"move_vote", "drop_record"}  # both kinds in these 14
    assert doc["run"]["verdict"] == "DOES NOT MATCH INTENT" and not doc["matches_intent"]
    named = {x["station"]: x for x in doc["checks"]["mismatches"]["stations"]}
    assert set(named) == set(corrupted)  # exactly the corrupted stations, no other
    for sid, kind in corrupted.items():
        x = named[sid]
        votes = x["contests"]["council"]["votes"]
        if kind == "move_vote":  # one vote moved between two parties, ballots right
            assert x["ballots"] == 0 and sorted(votes.values()) == [-1, 1] and x["paper_matches_records"]
        else:  # one record dropped: one ballot fewer than the paper in the box
            assert x["ballots"] == -1 and list(votes.values()) in ([-1], []) and not x["paper_matches_records"]
        assert sid in printed
    districts = {x["district"] for x in doc["checks"]["mismatches"]["districts"]}
    assert districts == {cambodia.election.stations[s].district for s in corrupted}
    assert "seats that change hands" in printed and "districts affected" in printed
    assert doc["checks"]["ballots_lost"] == sum(k == "drop_record" for k in corrupted.values())
    report = (out / "report.html").read_text()
    assert "DOES NOT MATCH INTENT" in report and all(s in report for s in corrupted)


def test_a_miscount_that_moves_seats_names_the_seats(miscount_run, cambodia):
    """A unit that records every CPP vote of its station for CP: the council changes."""
    tally = NationalTally(cambodia, 1, "miscount", miscount_run.stations)
    victim = cambodia.station_ids[0]
    for sid, r in miscount_run.tally.stations.items():
        if sid == victim:
            r = copy.deepcopy(r)
            votes = r["contests"]["council"]["votes"]
            votes["CP"], votes["CPP"] = votes["CP"] + votes["CPP"], 0
            r["matches_intent"] = False
        tally.add(r)
    doc = checked_document(tally, interrupted=False)
    district = cambodia.election.stations[victim].district
    diff = next(x for x in doc["checks"]["mismatches"]["districts"] if x["district"] == district)
    seats = diff["contests"]["council"]["seats"]
    assert seats["CP"] > 0 and seats["CPP"] < 0 and sum(seats.values()) == 0
    assert doc["checks"]["invariants"]["violations"] == [] and not doc["matches_intent"]


@pytest.mark.parametrize("profile, fidelity", [("miscount-full", "full"), ("miscount-image", "image")])
def test_a_miscount_at_full_and_image_fidelity_is_caught_too(cambodia, profile, fidelity):
    """Full: the real drivers over ptys with the noisy profile; image: rendered, distorted sheets
    read by the real interpreter. Small stations (six voters each, the clean one four)."""
    first = cambodia.station_ids[:16]
    corrupted = _corrupted(cambodia, first, profile)
    move = next(s for s, k in corrupted.items() if k == "move_vote")
    drop = next(s for s, k in corrupted.items() if k == "drop_record")
    clean = next(s for s in first if s not in corrupted and
                 cambodia.election.stations[s].district == cambodia.election.stations[move].district)
    small = dataclasses.replace(cambodia, registered={**cambodia.registered, move: 6, drop: 6, clean: 4})
    results = [run_station(small, sid, 1, profile) for sid in (move, drop, clean)]
    assert {r["fidelity"] for r in results} == {fidelity}
    assert [r["matches_intent"] for r in results] == [False, False, True]
    tally = NationalTally(small, 1, profile, [move, drop, clean])
    for r in results:
        tally.add(r)
    doc = checked_document(tally, interrupted=False)
    assert doc["run"]["verdict"] == "DOES NOT MATCH INTENT"
    assert {x["station"] for x in doc["checks"]["mismatches"]["stations"]} == {move, drop}
    assert doc["checks"]["ballots_lost"] == 1 and doc["checks"]["invariants"]["violations"] == []


# --- invariants fed broken aggregates --------------------------------------------------------

def _add(target: dict, part: dict, times: int = 1) -> None:
    target["ballots_cast"] += times * part["ballots_cast"]
    for cid, t in part["contests"].items():
        mine = target["contests"][cid]
        for key in ("ballots_counted", "undervotes", "overvotes", "blank", "invalid"):
            mine[key] += times * t[key]
        for c, n in t["votes"].items():
            mine["votes"][c] += times * n


def _province_counted_twice(doc):
    _add(doc["national"], next(iter(doc["provinces"].values())))


def _every_province_doubled(doc):  # device and intent both doubled: they still "agree"
    for p in doc["provinces"].values():
        _add(p, copy.deepcopy(p))
    _add(doc["national"], copy.deepcopy(doc["national"]))


def _station_lost_from_its_district(doc):
    d = next(iter(doc["districts"].values()))
    d["ballots_cast"] -= 300


def _council_seat_too_many(doc):
    d = next(x for x in doc["districts"].values() if x["complete"])
    d["contests"]["council"]["seats"]["CPP"] += 1
    doc["national"]["seats"]["CPP"] += 1


def _seats_before_the_district_is_complete(doc):
    d = next(x for x in doc["districts"].values() if not x["complete"])
    d["contests"]["council"]["seats"] = {"CPP": 1}


def _device_compared_with_itself(doc):  # every verdict says "matches": device == device
    for level in ("districts", "provinces"):
        for x in doc[level].values():
            x["matches_intent"] = True
    doc["national"]["matches_intent"] = doc["matches_intent"] = True


@pytest.mark.parametrize("break_it, invariant", [
    (_province_counted_twice, "provinces_sum_to_nation"),
    (_every_province_doubled, "districts_sum_to_provinces"),
    (_station_lost_from_its_district, "stations_sum_to_districts"),
    (_council_seat_too_many, "seats_fill_councils"),
    (_seats_before_the_district_is_complete, "seats_fill_councils"),
    (_device_compared_with_itself, "verdicts_follow_intent"),
])
def test_invariants_catch_broken_aggregates(miscount_run, cambodia, break_it, invariant):
    stations = miscount_run.tally.stations
    assert miscount_run.document["checks"]["invariants"]["violations"] == []  # the real run holds
    broken = copy.deepcopy(miscount_run.document)
    break_it(broken)
    violations = check_invariants(cambodia, broken, stations)
    assert any(v.startswith(invariant) for v in violations), violations
    if break_it in (_province_counted_twice, _every_province_doubled):
        assert any(v.startswith("stations_sum_to_nation") for v in violations)


class DeviceComparedWithItself(NationalTally):
    """A wrong aggregation: the intent side is the device's own tally."""

    def _station_results(self, key):
        return super()._station_results("contests")


class EveryStationTwice(NationalTally):
    """A wrong aggregation: each station's results are added twice at every level."""

    def _station_results(self, key):
        once = super()._station_results(key)
        return once + once


@pytest.mark.parametrize("wrong", [DeviceComparedWithItself, EveryStationTwice])
def test_a_wrong_aggregation_cannot_say_matches(miscount_run, cambodia, wrong):
    tally = wrong(cambodia, 1, "miscount", miscount_run.stations)
    for r in miscount_run.tally.stations.values():
        tally.add(r)
    doc = checked_document(tally, interrupted=False)
    assert doc["checks"]["invariants"]["violations"] and not doc["matches_intent"]
    assert doc["run"]["verdict"] == "DOES NOT MATCH INTENT"


def test_the_central_comparison_catches_a_province_counted_twice(miscount_run, cambodia):
    doc = miscount_run.document
    names = {p: v.name for p, v in cambodia.provinces.items()}
    n = doc["national"]
    central = {"ballots_cast": n["ballots_cast"], "contests": copy.deepcopy(n["contests"]),
               "provinces": [{"name": names[p], "ballots_cast": x["ballots_cast"]} for p, x in doc["provinces"].items()],
               "districts": [{"id": d, "ballots_cast": x["ballots_cast"]} for d, x in doc["districts"].items()]}
    assert compare_with_central(doc, central, names) == []  # the same figures agree
    twice = copy.deepcopy(central)
    province = twice["provinces"][0]
    province["ballots_cast"] *= 2
    twice["ballots_cast"] += central["provinces"][0]["ballots_cast"]
    violations = compare_with_central(doc, twice, names)
    assert any("nation" in v for v in violations) and any(province["name"] in v for v in violations)
    itself = copy.deepcopy(central)  # one vote more at the central tally
    itself["contests"]["council"]["votes"]["CPP"] += 1
    assert compare_with_central(doc, itself, names)


# --- honest reports --------------------------------------------------------------------------

class StoppedAfterThreeStations(InlineExecutor):
    def map(self, tasks, work=run_batch):
        yield work({**tasks[0], "stations": tasks[0]["stations"][:3]})
        raise KeyboardInterrupt


def test_an_interrupted_whole_country_run_says_so_and_compares_nothing(cambodia, tmp_path):
    run = run_national(cambodia, 1, StoppedAfterThreeStations())  # the whole country was asked for
    assert run.interrupted and run.tally.done == 3
    write_outputs(cambodia, run, tmp_path)
    doc = json.loads((tmp_path / "national.json").read_text())
    assert list(doc)[0] == "run"  # at the top
    assert doc["run"]["status"] == "interrupted"
    assert doc["run"]["verdict"].startswith("INTERRUPTED after 3 of 23,602 stations")
    assert "MATCHES INTENT" not in doc["run"]["verdict"]
    pub = doc["published"]
    assert pub["comparable"] is False and "seats_off" not in pub
    assert all("difference" not in row for row in pub["votes"].values())
    assert all("difference" not in row for row in pub["seats"].values())
    report = (tmp_path / "report.html").read_text()
    status = report.split('id="status">', 1)[1].split("</p>", 1)[0]
    assert "INTERRUPTED after 3 of 23,602 stations" in status
    assert "MATCHES INTENT" not in report and "would change hands" not in report
    assert "Not comparable with the published figures" in report


def test_estimated_published_votes_are_labelled(cambodia, tmp_path):
    estimated, note = cambodia.estimated_votes
    assert len(estimated) == 8 and "113,448" in note
    assert sum(cambodia.published_votes[p] for p in estimated) == 113_448
    assert main(["sim", "national", "--election", CAMBODIA, "--stations", "3", "--workers", "1",
                 "--out", str(tmp_path), "--no-figures"]) == 0
    doc = json.loads((tmp_path / "national.json").read_text())
    votes = doc["published"]["votes"]
    assert {c for c, row in votes.items() if row["estimated"]} == estimated
    assert doc["published"]["estimates"]["choices"] == sorted(estimated)
    report = (tmp_path / "report.html").read_text()
    assert all(f"{c} (estimate)" in report for c in estimated) and "CPP (estimate)" not in report
    kyrgyz = national_election("kyrgyzstan-2017-national").estimated_votes[0]
    assert "jeenbekov" not in kyrgyz and len(kyrgyz) == 9


def test_a_spec_cannot_estimate_a_choice_it_does_not_have(tmp_path):
    from sim.national.generator import NationalSpecError, generate

    spec = json.loads((Path(__file__).resolve().parent.parent / "sim" / "national" / "specs"
                       / f"{CAMBODIA}.json").read_text())
    spec["estimated"]["votes"].append("NOBODY")
    with pytest.raises(NationalSpecError, match="estimated"):
        generate(spec)


def test_a_stopped_whole_country_run_says_so_in_its_files(tmp_path):
    """The real command in a subprocess, stopped (SIGTERM) once it has started on the stations."""
    import os
    import signal
    import subprocess
    import sys

    out = tmp_path / "run"
    proc = subprocess.Popen([sys.executable, "-m", "device.cli.main", "sim", "national", "--election", CAMBODIA,
                             "--workers", "1", "--out", str(out), "--no-figures"], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**os.environ, "COLUMNS": "200"})
    assert proc.stderr is not None
    header = proc.stderr.readline()  # printed as the run starts
    assert "23,602 of 23,602 stations" in header, header
    proc.send_signal(signal.SIGTERM)
    _, err = proc.communicate(timeout=120)
    assert proc.returncode == 1, err
    assert "interrupted after" in err and "Traceback" not in err
    doc = json.loads((out / "national.json").read_text())
    assert list(doc)[0] == "run" and doc["run"]["status"] == "interrupted"
    assert doc["run"]["verdict"].startswith("INTERRUPTED after") and "seats_off" not in doc["published"]
    report = (out / "report.html").read_text()
    assert "INTERRUPTED after" in report and "would change hands" not in report
