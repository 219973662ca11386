"""Start, restart and failure never mislead the public (issue 18, section 3): a service that
cannot bind or whose public folder is held touches nothing; a restart rebuilds the site byte for
byte without rewriting a file; the authority accepts a reopened station's newer result
explicitly, journaled with its reason."""
from __future__ import annotations

import copy
import socket

import httpx
import pytest

from central.store import SqliteCentralStore
from device.cli.main import main
from device.election.definition import load_election
from device.results.signed_results import sign_results
from sim.results.results_feed import synthetic_signed, unit_signer
from tests.central_kit import published, running_service, served_for

SEED = 9  # the seed of the package below: its unit keys are the kit's


@pytest.fixture(scope="module")
def election():
    return load_election("demo")


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pkg")
    assert main(["sim", "package", "--election", "demo", "--seed", str(SEED), "--out", str(tmp / "sim.pkg")]) == 0
    return str(tmp / "sim.pkg.public.json"), (tmp / "sim.pkg.authority.pub").read_text().strip()


def site(folder) -> dict[str, tuple[bytes, int]]:
    return {str(p.relative_to(folder)): (p.read_bytes(), p.stat().st_mtime_ns)
            for p in sorted(folder.rglob("*")) if p.is_file()}


def serve(package, tmp, port, public=None, db="other.db"):
    pub, authority = package
    return main(["central", "serve", "--package", pub, "--authority", authority, "--db", str(tmp / db),
                 "--public", str(public or tmp / "public"), "--listen", f"127.0.0.1:{port}"])


def fill(url, election):
    for sid in election.stations:
        assert httpx.post(url + "/api/results", json=synthetic_signed(election, SEED, sid)).status_code == 201
    published(url, lambda d: d["stations_reporting"] == len(election.stations))


def test_a_service_that_cannot_bind_touches_nothing(election, package, tmp_path, capsys):
    with running_service(served_for(election, SEED), tmp_path) as (url, _):
        fill(url, election)
        before = site(tmp_path / "public")
        port = int(url.rsplit(":", 1)[1])
        assert serve(package, tmp_path, port) == 3  # the port is the running service's
        assert "cannot listen" in capsys.readouterr().err
        assert site(tmp_path / "public") == before and not (tmp_path / "other.db").exists()


def test_a_second_service_on_a_held_public_folder_touches_nothing(election, package, tmp_path, capsys):
    with running_service(served_for(election, SEED), tmp_path) as (url, _):
        fill(url, election)
        before = site(tmp_path / "public")
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            free = s.getsockname()[1]
        assert serve(package, tmp_path, free) == 4
        assert "held by another running central service" in capsys.readouterr().err
        assert serve(package, tmp_path, free, public=tmp_path / "other-public", db="central.db") == 4
        assert site(tmp_path / "public") == before and not (tmp_path / "other.db").exists()
        assert not (tmp_path / "other-public").exists()


def test_exit_statuses_are_in_the_help(capsys):
    with pytest.raises(SystemExit):
        main(["central", "serve", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    assert "Exit status: 0 stopped" in text and "(143 or 130 in a shell)" in text
    assert "3 the address cannot be bound" in text
    assert "4 the public folder or the SQLite file is held" in text
    assert "Exactly one of them publishes the site" in text


def test_a_restart_rebuilds_the_site_byte_for_byte(election, tmp_path):
    served = served_for(election, SEED)
    sid = next(iter(election.stations))
    with running_service(served, tmp_path) as (url, _):
        fill(url, election)
        first = synthetic_signed(election, SEED, sid)
        assert httpx.post(url + "/api/results", json=sign_results(
            {**first["message"], "sequence": 2}, unit_signer(SEED, sid))).status_code == 409
        assert httpx.post(url + "/api/results", content=b'{"message": {}, "signature": ""}').status_code == 400
        bad = copy.deepcopy(first)
        bad["message"]["station"] = "nowhere"
        assert httpx.post(url + "/api/results", json=bad).status_code == 403
    before = site(tmp_path / "public")
    assert any(name.startswith("stations/") for name in before)
    with running_service(served, tmp_path) as (url, svc):
        assert httpx.get(url + "/api/status").json()["stations_reporting"] == len(election.stations)
    assert site(tmp_path / "public") == before  # same bytes, and no file rewritten (same times)


def test_the_authority_accepts_a_reopened_stations_newer_result(election, tmp_path, capsys):
    served = served_for(election, SEED)
    sid = next(iter(election.stations))
    signer = unit_signer(SEED, sid)
    first = synthetic_signed(election, SEED, sid)
    tally = copy.deepcopy(first["message"]["tally"])
    contest = next(iter(tally))
    a, b = list(tally[contest]["votes"])[:2]
    tally[contest]["votes"][a] -= 1
    tally[contest]["votes"][b] += 1
    newer = sign_results({**copy.deepcopy(first["message"]), "tally": tally, "sequence": 2}, signer)
    db = str(tmp_path / "central.db")
    with running_service(served, tmp_path) as (url, _):
        assert httpx.post(url + "/api/results", json=first).status_code == 201
        assert httpx.post(url + "/api/results", json=newer).status_code == 409  # held as a conflict
        assert main(["central", "accept", sid, "--sequence", "2", "--reason", "x", "--db", db]) == 4
    assert main(["central", "accept", sid, "--sequence", "7", "--reason", "recount", "--db", db]) == 2
    assert main(["central", "accept", sid, "--sequence", "2", "--reason", "recount ordered by the commission",
                 "--db", db]) == 0
    capsys.readouterr()
    with running_service(served, tmp_path) as (url, svc):
        assert svc.tally.stations[sid].contests[contest].votes[b] == first["message"]["tally"][contest]["votes"][b] + 1
        assert httpx.get(f"{url}/api/stations/{sid}.json").json() == newer
        listed = published(url, lambda d: d["conflicts"], "conflicts.json")["conflicts"]
        assert [c["sequence"] for c in listed] == [1] and "recount ordered" in listed[0]["reason"]
        assert httpx.post(url + "/api/results", json=newer).status_code == 200  # now the duplicate
    store = SqliteCentralStore(db)
    decision = [r for r in store.journal() if r.type == "result_accepted_by_authority"]
    store.close()
    assert len(decision) == 1 and decision[0].data["reason"] == "recount ordered by the commission"
    assert decision[0].data["sequence"] == 2 and decision[0].data["replaced_digest"]
