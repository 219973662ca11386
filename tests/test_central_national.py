"""QA end to end: ``sim package`` and ``sim national --central`` (same seed) fill a real central
tally with what the real controllers signed; the figures on the public documents are the run's."""
from __future__ import annotations

import json

import httpx

from central.served import from_package
from device.cli.main import main as ballotbox
from device.election.public_package import load_public_package
from tests.central_kit import published, running_service

ELECTION, SEED, STATIONS = "kyrgyzstan-2017-national", 4, 6


def test_sim_national_uploads_every_station_to_the_central_tally(tmp_path, capsys):
    pkg = tmp_path / "sim.pkg"
    assert ballotbox(["sim", "package", "--election", ELECTION, "--seed", str(SEED), "--out", str(pkg)]) == 0
    authority = (tmp_path / "sim.pkg.authority.pub").read_text().strip()
    package = load_public_package(f"{pkg}.public.json", authority)
    assert package.mode == "simulation"
    assert ballotbox(["central", "serve", "--package", str(package.path), "--authority", authority,
                      "--db", str(tmp_path / "live.db"), "--mode", "live"]) == 2  # live refuses it
    capsys.readouterr()
    served = from_package(package)
    assert served.mode == "test" and served.registered  # registered counts from the definition
    with running_service(served, tmp_path) as (url, svc):
        code = ballotbox(["sim", "national", "--election", ELECTION, "--seed", str(SEED), "--stations",
                          str(STATIONS), "--workers", "1", "--central", url, "--json"])
        run = json.loads(capsys.readouterr().out)
        assert code == 0, run.get("central")
        assert run["central"]["delivered"] == STATIONS and not run["central"]["undelivered"]
        national = published(url, lambda d: d["stations_reporting"] == STATIONS)
        assert national["ballots_cast"] == run["national"]["ballots_cast"]
        contest = next(iter(national["contests"]))
        assert national["contests"][contest]["votes"] == run["national"]["contests"][contest]["votes"]
        assert national["provinces"] and national["turnout_pct"] is not None
        station = next(iter(package.election.stations))
        signed = httpx.get(f"{url}/api/stations/{station}.json").json()
        assert signed["message"]["station"] == station and signed["message"]["mode"] == "test"
        # the same run again: every upload is a duplicate, nothing is counted twice
        assert ballotbox(["sim", "national", "--election", ELECTION, "--seed", str(SEED), "--stations",
                          str(STATIONS), "--workers", "1", "--central", url, "--json"]) == 0
        again = json.loads(capsys.readouterr().out)["central"]
        assert again["answers"] == {"duplicate": STATIONS}
        assert svc.tally.nation.ballots_cast == run["national"]["ballots_cast"]
