"""The central store contract, one suite for both implementations: SQLite (the embedded default)
and PostgreSQL, against a real server the suite starts in a temporary folder (skipped, saying
why, where Debian's postgresql binaries are missing). Batches commit whole or not at all, the
journal is the unit's hash chain and tampering is refused on open, several services share a
PostgreSQL store (the authority's accept waits for them), and the service over real HTTP on a PostgreSQL store restarts to the same site."""
from __future__ import annotations

import copy
import itertools

import httpx
import pytest

from central import locks
from central.store import Entry, SqliteCentralStore, open_central_store
from device.cli.main import main
from device.election.definition import load_election
from device.results.signed_results import sign_results
from device.store.journal import StoreWriteError
from device.store.sqlite import JournalIntegrityError
from sim.results.results_feed import synthetic_signed, unit_signer
from tests.central_kit import postgres_server, published, running_service, served_for

SEED = 13
_names = itertools.count()


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def store_url(request, tmp_path):
    """A fresh, empty store of each kind (PostgreSQL: a new database on the suite's server)."""
    if request.param == "sqlite":
        return str(tmp_path / "central.db")
    import psycopg
    server = request.getfixturevalue("postgres")
    name = f"central_{next(_names)}"
    with psycopg.connect(server, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return server.rsplit("/", 1)[0] + "/" + name


def slot(station, sequence=1, digest="d1"):
    return {"station": station, "unit_key": "k" * 64, "phase": "polls_close", "sequence": sequence,
            "digest": digest, "signed": {"message": {"station": station}, "signature": "00"}}


def batch(at=100.0):
    accepted = slot("s1")
    held = dict(slot("s1", 2, "d2"), reason="differs")
    refused = {"code": "bad_signature", "reason": "no", "station": "s9", "unit_key": None, "digest": None}
    return [Entry("result_accepted", {k: v for k, v in accepted.items() if k != "signed"}, at, slot=accepted),
            Entry("result_conflict", {"station": "s1", "reason": "differs"}, at, conflict=held),
            Entry("upload_refused", refused, at, refusal=refused)]


def test_batches_commit_whole_and_read_back_the_same(store_url):
    store = open_central_store(store_url)
    store.commit(batch())
    with pytest.raises(StoreWriteError):  # the second row breaks a NOT NULL: nothing of it is kept
        store.commit([Entry("result_accepted", {"station": "s2"}, 101.0, slot=slot("s2")),
                      Entry("result_accepted", {"station": None}, 101.0, slot=slot(None))])
    store.commit(batch(102.0)[2:])
    store.close()
    again = open_central_store(store_url)
    try:
        assert [s["station"] for s in again.slots()] == ["s1"]
        assert [c["digest"] for c in again.conflicts()] == ["d2"]
        assert again.refusal_counts() == {"bad_signature": 2} and len(again.refusals(1)) == 1
        journal = list(again.journal())
        assert [r.seq for r in journal] == [1, 2, 3, 4]  # the failed batch left no gap
        assert all(b.prev_hash == a.hash for a, b in zip(journal, journal[1:]))
        done = again.accept_held("s1", 2, None, "recount", 103.0)
        assert done["replaced_digest"] == "d1"
        assert [s["digest"] for s in again.slots()] == ["d2"]
        assert [c["digest"] for c in again.conflicts()] == ["d1"]
    finally:
        again.close()


def test_a_tampered_journal_is_refused_on_open(store_url):
    store = open_central_store(store_url)
    store.commit(batch())
    store.close()
    sql = "UPDATE journal SET data = replace(data, 'differs', 'agrees') WHERE seq = 2"
    if store_url.startswith("postgresql://"):
        import psycopg
        with psycopg.connect(store_url, autocommit=True) as conn:
            conn.execute(sql)
    else:
        raw = SqliteCentralStore(store_url)
        raw._conn.execute(sql)
        raw.close()
    with pytest.raises(JournalIntegrityError, match="altered"):
        open_central_store(store_url)


def test_services_share_a_postgresql_store_and_accept_waits_for_them(postgres):
    """Several services open one database; the authority's accept only with none running, and
    no service starts while it runs. (A SQLite file is held by one service:
    test_central_restart.py.)"""
    first, second = open_central_store(postgres), open_central_store(postgres)
    with pytest.raises(locks.Busy, match="running central service"):
        open_central_store(postgres, alone=True)
    first.close()
    second.close()
    authority = open_central_store(postgres, alone=True)
    with pytest.raises(locks.Busy, match="central accept"):
        open_central_store(postgres)
    authority.close()


def test_the_service_on_postgresql_over_http(postgres, tmp_path, capsys):
    import psycopg
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute("CREATE DATABASE central_http")
    url_db = postgres.rsplit("/", 1)[0] + "/central_http"
    election = load_election("demo")
    served = served_for(election, SEED)
    sid = next(iter(election.stations))
    first = synthetic_signed(election, SEED, sid)
    newer = sign_results({**copy.deepcopy(first["message"]), "sequence": 2}, unit_signer(SEED, sid))
    with running_service(served, tmp_path, store=open_central_store(url_db)) as (url, _):
        for s in election.stations:
            assert httpx.post(url + "/api/results", json=synthetic_signed(election, SEED, s)).status_code == 201
        assert httpx.post(url + "/api/results", json=first).status_code == 200
        assert httpx.post(url + "/api/results", json=newer).status_code == 409
        published(url, lambda d: d["conflicts"] == 1)
    before = {p: p.read_bytes() for p in (tmp_path / "public").rglob("*") if p.is_file()}
    assert main(["central", "accept", sid, "--sequence", "2", "--reason", "recount", "--db", url_db]) == 0
    capsys.readouterr()
    with running_service(served, tmp_path, store=open_central_store(url_db)) as (url, svc):
        assert httpx.get(f"{url}/api/stations/{sid}.json").json() == newer
        assert len(svc.tally.stations) == len(election.stations)
    after = {p: p.read_bytes() for p in (tmp_path / "public").rglob("*") if p.is_file()}
    changed = {p.name for p in before if before[p] != after[p]}
    others = {f"{s}.html" for s in election.stations if s != sid}
    assert f"{sid}.html" in changed and not changed & others  # only what the decision touched


def test_a_second_acceptance_of_one_slot_is_refused_by_the_database(store_url):
    """The unique constraint stands behind the decisions: a second ``result_accepted`` for a
    slot fails its whole transaction (nothing of that batch is kept, the chain is unbroken)."""
    store = open_central_store(store_url)
    try:
        store.commit([Entry("result_accepted", {"station": "s1"}, 100.0, slot=slot("s1"))])
        with pytest.raises(StoreWriteError):
            store.commit([Entry("upload_refused", {"code": "bad_signature"}, 101.0,
                                refusal={"code": "bad_signature", "reason": "no"}),
                          Entry("result_accepted", {"station": "s1"}, 101.0, slot=slot("s1", 2, "d2"))])
        assert [(s["station"], s["digest"]) for s in store.slots()] == [("s1", "d1")]
        assert store.refusal_counts() == {} and [r.seq for r in store.journal()] == [1]
    finally:
        store.close()
