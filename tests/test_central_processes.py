"""Several ``ballotbox central serve`` processes ingesting into one PostgreSQL database (a real
server the suite starts in a temporary folder): the same stations sent to both at once are
accepted once each, the other answer a duplicate or a conflict as the decision table says;
``kill -9`` of the publishing process mid-load loses nothing and counts nothing twice (the
client sends again what got no answer); exactly one process writes the site, and after the
kill the other takes over. Real subprocesses on loopback, bounded by deadlines, no sleeps."""
from __future__ import annotations

import contextlib
import json
import os
import random
import signal
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import psycopg
import pytest

from central.store import open_central_store
from sim.bench.central import bench_package, signed_bodies, start_service
from sim.results.results_feed import signed_results_for, unit_signer
from tests.central_kit import postgres_server

SEED = 2022  # the bench's: its drawn figures and unit keys
STATIONS = 240
_databases = iter(range(1000))


@pytest.fixture(scope="module")
def world(tmp_path_factory):
    """The generated Kyrgyz election, its first stations' unit keys, the public package."""
    from sim.national.generator import national_election

    election = national_election("kyrgyzstan-2017-national").election
    ids = list(election.stations)[:STATIONS]
    signers = {sid: unit_signer(SEED, sid) for sid in ids}
    pkg, pub = bench_package(election, signers, tmp_path_factory.mktemp("pkg"))
    return {"election": election, "ids": ids, "signers": signers, "pkg": pkg, "pub": pub}


@pytest.fixture(scope="module")
def postgres():
    with postgres_server() as url:
        yield url


@pytest.fixture
def db(postgres):
    name = f"ingest_{next(_databases)}"
    with psycopg.connect(postgres, autocommit=True) as conn:
        conn.execute(f"CREATE DATABASE {name}")
    return postgres.rsplit("/", 1)[0] + "/" + name


@contextlib.contextmanager
def services(world, db: str, tmp: Path, count: int = 2):
    """``count`` real ``central serve`` processes on ``db`` sharing one public folder."""
    started = []
    try:
        for i in range(count):
            started.append(start_service(world["pkg"], world["pub"], db, tmp / "public", tmp / f"serve{i}.log"))
        yield started
    finally:
        for proc, _ in started:
            if proc.poll() is None:
                proc.terminate()
        for proc, _ in started:
            proc.wait(60)


def until(what: str, probe, seconds: float = 60):
    """``probe()``'s value once truthy; fails after ``seconds``."""
    pause, deadline = threading.Event(), time.monotonic() + seconds
    while True:
        value = probe()
        if value:
            return value
        assert time.monotonic() < deadline, f"gave up waiting: {what}"
        pause.wait(0.05)


def status(url: str) -> dict:
    return httpx.get(url + "/api/status", timeout=30).json()


def one_publisher(urls: list[str]) -> int:
    """The index of the one process that publishes (waits for the election)."""
    def publishers():
        found = [i for i, url in enumerate(urls) if status(url)["publishing"]]
        return found if len(found) == 1 else None
    return until("exactly one publisher", publishers)[0]


def site_shows(url: str, **expected) -> dict:
    """The published national document once its fields have the ``expected`` values."""
    def probe():
        doc = httpx.get(url + "/index.json", timeout=30).json()
        return doc if all(doc[k] == v for k, v in expected.items()) else None
    return until(f"the site shows {expected}", probe)


def post(client: httpx.Client, url: str, body: bytes) -> str:
    answer = client.post(url + "/api/results", content=body, headers={"content-type": "application/json"})
    return answer.json()["code"]


def stored(db: str) -> tuple[dict[str, tuple[int, str]], list]:
    """station -> (sequence, canonical signed) of every accepted slot, and the journal (the chain
    verified by opening the store alone: the services are stopped)."""
    store = open_central_store(db, alone=True)
    try:
        return ({s["station"]: (s["sequence"], json.dumps(s["signed"], sort_keys=True)) for s in store.slots()},
                list(store.journal()))
    finally:
        store.close()


def test_two_processes_racing_on_the_same_stations_accept_each_once(world, db, tmp_path):
    election, ids, signers = world["election"], world["ids"][:60], world["signers"]
    first = dict(zip(ids, signed_bodies(election, ids, signers)))
    newer = {sid: json.dumps(signed_results_for(election, sid, signers[sid],
                                                _results_of(election, first[sid]), sequence=2)).encode()
             for sid in ids}
    with services(world, db, tmp_path) as started:
        urls = [url for _, url in started]
        jobs = [(sid, kind, urls[k], body) for i, sid in enumerate(ids)
                for kind, k, body in (("first", 0, first[sid]), ("first", 1, first[sid]),
                                      ("newer", i % 2, newer[sid]))]
        random.Random(SEED).shuffle(jobs)
        with httpx.Client(timeout=60) as client, ThreadPoolExecutor(12) as pool:
            codes = list(pool.map(lambda job: post(client, job[2], job[3]), jobs))
        answers: dict[str, list[tuple[str, str]]] = {}
        for (sid, kind, _, _), code in zip(jobs, codes):
            answers.setdefault(sid, []).append((kind, code))
        held = {}
        for sid, got in answers.items():
            accepted = [kind for kind, code in got if code == "accepted"]
            assert len(accepted) == 1, (sid, got)  # exactly one acceptance across both processes
            held[sid] = 1 if accepted == ["first"] else 2
            rest = sorted(code for kind, code in got if code != "accepted")
            assert rest == (["conflict", "duplicate"] if held[sid] == 1 else ["older_sequence", "older_sequence"])
        publisher = one_publisher(urls)
        conflicts = sum(1 for s in held.values() if s == 1)
        site_shows(urls[0], stations_reporting=len(ids), conflicts=conflicts)
        other = status(urls[1 - publisher])
        assert not other["publishing"] and other["regenerated"]["versions"] == 0  # it never wrote the site
        until("the other process follows every decision",
              lambda: status(urls[1 - publisher])["stations_reporting"] == len(ids))
    slots, journal = stored(db)
    assert {sid: seq for sid, (seq, _) in slots.items()} == held
    assert sum(1 for r in journal if r.type == "result_accepted") == len(ids)


def _results_of(election, body: bytes):
    """The Results of a signed body (to sign the same figures again with another sequence)."""
    from central.tally import station_results
    return station_results(election, json.loads(body)["message"])


def test_kill_9_of_the_publisher_mid_load_loses_nothing_and_the_other_takes_over(world, db, tmp_path):
    election, ids = world["election"], world["ids"]
    bodies = dict(zip(ids, signed_bodies(election, ids, world["signers"])))
    with services(world, db, tmp_path) as started:
        urls = [url for _, url in started]
        publisher = one_publisher(urls)
        victim, survivor = started[publisher][0], urls[1 - publisher]
        killed, answered, lock = threading.Event(), [0], threading.Lock()

        def send(job):
            sid, target = job
            try:
                code = post(client, target, bodies[sid])
            except httpx.TransportError:  # no answer: the client sends it again, to the other
                return sid, "retried", post(client, survivor, bodies[sid])
            with lock:
                answered[0] += target != survivor
                if answered[0] == STATIONS // 6 and not killed.is_set():
                    os.kill(victim.pid, signal.SIGKILL)  # mid-load, uploads in flight
                    killed.set()
            return sid, "first", code

        jobs = [(sid, urls[i % 2]) for i, sid in enumerate(ids)]
        with httpx.Client(timeout=60) as client, ThreadPoolExecutor(8) as pool:
            results = list(pool.map(send, jobs))
        assert killed.is_set() and victim.wait(30) == -signal.SIGKILL
        retried = [code for _, how, code in results if how == "retried"]
        print(f"retried after the kill: {len(retried)}, of which already committed (duplicate): "
              f"{retried.count('duplicate')}")
        assert retried  # the kill came mid-load: some uploads got no answer
        for sid, how, code in results:
            assert code in (("accepted", "duplicate") if how == "retried" else ("accepted",)), (sid, how, code)
        until("the survivor publishes", lambda: status(survivor)["publishing"])
        site = site_shows(survivor, stations_reporting=len(ids))
    expected = {sid: json.loads(body) for sid, body in bodies.items()}
    assert site["ballots_cast"] == sum(b["message"]["ballots_cast"] for b in expected.values())
    slots, journal = stored(db)
    assert slots == {sid: (1, json.dumps(b, sort_keys=True)) for sid, b in expected.items()}  # nothing lost
    accepted = [r.data["station"] for r in journal if r.type == "result_accepted"]
    assert sorted(accepted) == sorted(ids)  # nothing counted twice
