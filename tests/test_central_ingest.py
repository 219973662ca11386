"""The central tally over real HTTP (uvicorn on loopback): every attack refused, each with a test;
duplicates idempotent; conflicts stored and flagged, never counted; every decision journaled."""
from __future__ import annotations

import copy
import random

import httpx
import pytest

from central.served import ServedElection, ServiceModeError
from central.store import SqliteCentralStore
from device.election.definition import load_election
from device.results.signed_results import sign_results
from device.store.signing import UnitSigner
from device.store.sqlite import JournalIntegrityError
from sim.results.results_feed import synthetic_signed, unit_signer
from tests.central_kit import published, running_service, served_for

SEED = 11


@pytest.fixture(scope="module")
def election():
    return load_election("cambodia-2022")


@pytest.fixture(scope="module")
def service(election, tmp_path_factory):
    with running_service(served_for(election, SEED), tmp_path_factory.mktemp("central")) as (url, svc):
        yield url, svc


def post(url, body, **kw):
    return httpx.post(url + "/api/results", json=body, **kw) if not isinstance(body, bytes) \
        else httpx.post(url + "/api/results", content=body, **kw)


def resign(signed, signer, **changes):
    message = copy.deepcopy(signed["message"])
    message.update(changes)
    return sign_results(message, signer)


def counts(svc):
    return len(list(svc.store.journal())), len(list(svc.store.slots()))


def test_forged_signature_is_refused_and_listed(service, election):
    url, svc = service
    signed = synthetic_signed(election, SEED, "teuk-laak-1-1")
    forged = copy.deepcopy(signed)
    forged["message"]["tally"]["council"]["votes"]["CPP"] += 50  # one figure altered after signing
    forged["message"]["tally"]["council"]["ballots_counted"] += 50
    forged["message"]["ballots_cast"] += 50
    r = post(url, forged)
    assert r.status_code == 403 and r.json()["code"] == "bad_signature"
    assert "teuk-laak-1-1" not in {s["station"] for s in svc.store.slots()}
    refusals = published(url, lambda d: any(x["code"] == "bad_signature" for x in d["latest"]),
                         "refusals.json")
    assert any(x["code"] == "bad_signature" and x["station"] == "teuk-laak-1-1" for x in refusals["latest"])


def test_unknown_unit_key_is_refused(service, election):
    url, _ = service
    stranger = UnitSigner.generate(random.Random("not registered"))
    signed = synthetic_signed(election, SEED, "teuk-laak-1-2")
    r = post(url, resign(signed, stranger, unit_public_key=stranger.public_key_hex()))
    assert r.status_code == 403 and r.json()["code"] == "unknown_unit"


def test_key_registered_for_another_station_is_refused(service, election):
    url, _ = service
    other = unit_signer(SEED, "boeung-kak-2-1")  # a real unit, but of another station
    signed = synthetic_signed(election, SEED, "teuk-laak-1-2")
    r = post(url, resign(signed, other, unit_public_key=other.public_key_hex()))
    assert r.status_code == 403 and r.json()["code"] == "wrong_station"


def test_duplicate_is_idempotent(service, election):
    url, svc = service
    signed = synthetic_signed(election, SEED, "teuk-laak-1-2")
    assert post(url, signed).status_code == 201
    before = svc.tally.nation.ballots_cast
    again = post(url, signed)
    assert again.status_code == 200 and again.json()["decision"] == "duplicate"
    assert svc.tally.nation.ballots_cast == before
    assert sum(1 for s in svc.store.slots() if s["station"] == "teuk-laak-1-2") == 1


def test_conflicting_result_is_stored_flagged_and_not_counted(service, election):
    url, svc = service
    sid = "boeung-kak-2-1"
    signer = unit_signer(SEED, sid)
    first = synthetic_signed(election, SEED, sid)
    assert post(url, first).status_code == 201
    nation = svc.tally.nation.ballots_cast
    fig = copy.deepcopy(first["message"]["tally"])
    fig["council"]["votes"]["CPP"] -= 1
    fig["council"]["votes"]["CP"] += 1
    second = resign(first, signer, tally=fig, sequence=2)
    r = post(url, second)
    assert r.status_code == 409 and r.json()["decision"] == "conflict"
    assert svc.tally.nation.ballots_cast == nation
    assert svc.tally.stations[sid].contests["council"].votes["CPP"] == \
        first["message"]["tally"]["council"]["votes"]["CPP"]
    listed = published(url, lambda d: any(c["station"] == sid for c in d["conflicts"]), "conflicts.json")
    assert [c["signed"] for c in listed["conflicts"] if c["station"] == sid] == [second]
    assert "Conflicts (" in httpx.get(url + "/index.html").text
    page = published(url, lambda d: d.get("conflicts"), f"stations/{sid}.json")
    assert [c["signed"] for c in page["conflicts"]] == [second]
    assert 'id="conflict-flag"' in httpx.get(f"{url}/stations/{sid}.html").text
    api = httpx.get(f"{url}/api/stations/{sid}.json").json()
    assert api == first  # the accepted signed message, not the conflicting one


def test_replayed_older_sequence_is_refused(service, election):
    url, svc = service
    sid = "kampong-svay-1"
    signer = unit_signer(SEED, sid)
    base = synthetic_signed(election, SEED, sid)
    newer = resign(base, signer, sequence=5)
    assert post(url, newer).status_code == 201
    older = resign(base, signer, sequence=4, journal_head={"seq": 3000, "hash": "ab" * 32})
    r = post(url, older)
    assert r.status_code == 409 and r.json()["code"] == "older_sequence"
    assert [s["sequence"] for s in svc.store.slots() if s["station"] == sid] == [5]


def test_results_of_another_election_are_refused(service, election):
    url, _ = service
    sid = "prey-veng-1"
    signed = synthetic_signed(election, SEED, sid)
    r = post(url, resign(signed, unit_signer(SEED, sid), election_hash="e" * 64))
    assert r.status_code == 422 and r.json()["code"] == "wrong_election"


def test_inconsistent_figures_fail_the_sanity_checks(service, election):
    url, svc = service
    sid = "prey-veng-1"
    signer = unit_signer(SEED, sid)
    signed = synthetic_signed(election, SEED, sid)
    too_many = copy.deepcopy(signed["message"]["tally"])
    too_many["council"]["votes"]["CPP"] += 10_000
    too_many["council"]["ballots_counted"] += 10_000
    cast = signed["message"]["ballots_cast"] + 10_000
    rec = dict(signed["message"]["reconciliation"], cast=cast)
    r = post(url, resign(signed, signer, tally=too_many, ballots_cast=cast, reconciliation=rec))
    assert r.status_code == 422 and "registered" in r.json()["reason"]
    off = copy.deepcopy(signed["message"]["tally"])
    off["council"]["undervotes"] += 1
    r = post(url, resign(signed, signer, tally=off))
    assert r.status_code == 422 and "votes + undervotes + overvotes" in r.json()["reason"]
    assert sid not in svc.tally.stations


@pytest.mark.parametrize("body,status,code", [
    (b"{not json", 400, "malformed"),
    (b"[1, 2]", 400, "malformed"),
    (b'{"message": {"format": "ballotbox-results/1"}, "signature": "00"}', 400, "malformed"),
    (b'{"message": 1, "signature": "00", "extra": 2}', 400, "malformed"),
    (b"{" + b" " * 300_000 + b"}", 413, "oversized"),
])
def test_malformed_and_oversized_bodies_store_nothing(service, body, status, code):
    url, svc = service
    before = counts(svc)
    r = post(url, body)
    assert (r.status_code, r.json()["code"]) == (status, code)
    assert counts(svc) == before


def test_a_body_that_is_not_json_is_refused(service, election):
    url, svc = service
    before = counts(svc)
    r = httpx.post(url + "/api/results", content=b"station=1", headers={"content-type": "text/plain"})
    assert r.status_code == 415 and counts(svc) == before


def test_test_results_are_refused_by_a_live_service(election, tmp_path):
    live = served_for(election, SEED, mode="live", package_mode="live")
    with running_service(live, tmp_path) as (url, svc):
        r = post(url, synthetic_signed(election, SEED, "teuk-laak-1-1", mode="test"))
        assert r.status_code == 422 and r.json()["code"] == "wrong_mode"
        assert post(url, synthetic_signed(election, SEED, "teuk-laak-1-1", mode="live")).status_code == 201
    with pytest.raises(ServiceModeError, match="simulation"):
        ServedElection(election, {}, "live", None, "simulation")


def test_every_decision_is_journaled_on_the_unit_chain(service, election, tmp_path):
    url, svc = service
    sid = "chbar-mon-1"  # this test's own station: every kind of decision, whatever ran before
    signer = unit_signer(SEED, sid)
    signed = synthetic_signed(election, SEED, sid)
    assert post(url, signed).status_code == 201
    assert post(url, signed).status_code == 200
    assert post(url, resign(signed, signer, sequence=9)).status_code == 409
    forged = copy.deepcopy(signed)
    forged["message"]["sequence"] = 10
    assert post(url, forged).status_code == 403
    journal = list(svc.store.journal())
    types = {r.type for r in journal if r.data.get("station") == sid}
    assert {"result_accepted", "result_duplicate", "result_conflict", "upload_refused"} <= types
    path = svc.store.path
    copy_path = tmp_path / "copy.db"
    import sqlite3
    src = sqlite3.connect(str(path))
    dst = sqlite3.connect(str(copy_path))
    src.backup(dst)
    src.close()
    SqliteCentralStore(copy_path).close()  # the chain verifies when the store opens
    dst.execute("""UPDATE journal SET data = '{"station":"somewhere else"}' WHERE seq = 1""")
    dst.commit()
    dst.close()
    with pytest.raises(JournalIntegrityError):
        SqliteCentralStore(copy_path)
