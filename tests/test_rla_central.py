"""The audit reads what the central tally publishes: its public folder, served by the real service."""
from __future__ import annotations

import httpx

from device.audit.rla.results import load_reported
from device.cli.main import main
from device.election.definition import load_election
from sim.results.results_feed import synthetic_signed
from tests.central_kit import published, running_service, served_for

SEED = 5


def test_audit_rla_reads_the_central_public_folder(tmp_path, capsys):
    election = load_election("cambodia-2022")
    messages = {sid: synthetic_signed(election, SEED, sid) for sid in election.stations}
    with running_service(served_for(election, SEED), tmp_path) as (url, _svc):
        for signed in messages.values():
            assert httpx.post(url + "/api/results", json=signed).status_code == 201
        published(url, lambda d: d["stations_reporting"] == len(election.stations))
    public = tmp_path / "public"
    reported = load_reported(public, "council")
    assert reported.kind == "party-list" and set(reported.batches) == set(election.stations)
    for sid, signed in messages.items():
        message = signed["message"]
        assert reported.batches[sid].votes == message["tally"]["council"]["votes"]
        assert reported.batches[sid].ballots == message["ballots_cast"]
    assert set(reported.districts) == set(election.districts)
    for d, seats in reported.districts.items():
        assert sum(seats.seats.values()) == seats.total_seats == election.contests["council"].seats[d]
    status = main(["audit", "rla", "sample", str(public), "--contest", "council", "--scope", "seats",
                   "--seed", "27182818284590452353", "--out", str(tmp_path / "audit")])
    assert status in (0, 3)
    assert (tmp_path / "audit" / "sample-round-1.csv").read_text().startswith("Round,Station,District")
    capsys.readouterr()
