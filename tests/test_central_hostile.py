"""Hostile clients against the central tally over real HTTP on loopback (issue 18, section 1):
slow clients are cut off while a normal upload still answers, a refusal flood stays small on
disk and on the page, every answer carries the security headers, a client that disconnects
mid-body is one log line, and two units at one station cannot report more ballots than voters.

Attackers connect from 127.0.0.2 (any 127/8 address is loopback), the normal client from
127.0.0.1, so the per-address caps are exercised as on a real network."""
from __future__ import annotations

import copy
import logging
import re
import socket
import threading
import time
from dataclasses import replace

import httpx
import pytest

from central.guard import DEFAULT_LIMITS
from device.election.definition import load_election
from device.results.signed_results import sign_results
from sim.results.results_feed import synthetic_signed, unit_signer
from tests.central_kit import published, running_service, served_for

SEED = 31
ATTACKER = "127.0.0.2"


@pytest.fixture(scope="module")
def election():
    return load_election("cambodia-2022")


def attacker_socket(port: int) -> socket.socket:
    s = socket.socket()
    s.bind((ATTACKER, 0))
    s.connect(("127.0.0.1", port))
    return s


def closed_by_server(sock: socket.socket, deadline: float) -> bool:
    """Whether the server closes ``sock`` before ``deadline`` (whatever it answers first)."""
    while True:
        left = deadline - time.monotonic()
        if left <= 0:
            return False
        sock.settimeout(left)
        try:
            if not sock.recv(65536):
                return True
        except ConnectionResetError:
            return True
        except TimeoutError:
            return False


def test_slow_clients_are_cut_off_while_a_normal_upload_answers(election, tmp_path):
    limits = replace(DEFAULT_LIMITS, header_deadline_s=1.0, body_deadline_s=1.0,
                     max_connections_per_address=40)
    served = served_for(election, SEED)
    with running_service(served, tmp_path, limits=limits) as (url, svc):
        port = int(url.rsplit(":", 1)[1])
        slow = []
        for i in range(50):  # half stop inside the headers, half inside the body
            s = attacker_socket(port)
            if i % 2:
                s.sendall(b"POST /api/results HTTP/1.1\r\nHost: central\r\nContent-Ty")
            else:
                s.sendall(b"POST /api/results HTTP/1.1\r\nHost: central\r\nContent-Type: application/json"
                          b"\r\nContent-Length: 200000\r\n\r\n{\"message\": ")
            slow.append(s)
        # past 40 connections from one address, the server closes a new one at once
        refused_at_once = [s for s in slow if closed_by_server(s, time.monotonic() + 0.01)]
        assert len(refused_at_once) >= 10
        signed = synthetic_signed(election, SEED, "teuk-laak-1-1")
        t0 = time.monotonic()
        with httpx.Client(timeout=5) as client:
            assert client.post(url + "/api/results", json=signed).status_code == 201
            assert client.get(url + "/api/status").json()["decisions"]["accepted"] == 1
        answered = time.monotonic() - t0
        deadline = time.monotonic() + 6  # the deadlines are 1 s: every slow client is gone by then
        still_open = [i for i, s in enumerate(slow) if s not in refused_at_once and not closed_by_server(s, deadline)]
        for s in slow:
            s.close()
        assert still_open == [], f"{len(still_open)} slow connections still open"
        assert answered < 5, f"the normal client waited {answered:.1f} s"


def test_a_refusal_flood_stays_small_on_disk_and_on_the_page(election, tmp_path):
    """1,000 refused uploads of 250 KB (an unknown station padded to the size limit)."""
    served = served_for(election, SEED)
    base = synthetic_signed(election, SEED, "teuk-laak-1-1")
    padding = "P" * (250 * 1024 - len(str(base)))
    evil = copy.deepcopy(base)
    evil["message"]["station"] = padding
    with running_service(served, tmp_path) as (url, svc):
        db = svc.store.path
        size0 = sum(p.stat().st_size for p in db.parent.glob(db.name + "*"))
        answers: dict[int, int] = {}
        with httpx.Client(timeout=10, transport=httpx.HTTPTransport(local_address=ATTACKER)) as client:
            for _ in range(1000):
                r = client.post(url + "/api/results", json=evil)
                answers[r.status_code] = answers.get(r.status_code, 0) + 1
                assert len(r.content) < 2000  # the padding is never echoed back
        assert httpx.post(url + "/api/results", json=base).status_code == 201  # another address
        grown = sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) - size0
        stored = DEFAULT_LIMITS.refusals_per_window
        assert answers == {403: stored, 429: 1000 - stored}
        doc = published(url, lambda d: d.get("total") == stored, "refusals.json")
        assert doc["by_code"] == {"unknown_station": stored}
        page = httpx.get(url + "/refusals.html").content
        raw = httpx.get(url + "/refusals.json").content
    assert grown < 5 * 1024 * 1024, f"the database grew by {grown:,} bytes"
    assert len(page) < 200 * 1024 and len(raw) < 200 * 1024
    assert "P" * 1000 not in page.decode() and "P" * 1000 not in raw.decode()


@pytest.fixture(scope="module")
def service(election, tmp_path_factory):
    with running_service(served_for(election, SEED), tmp_path_factory.mktemp("hostile")) as (url, svc):
        yield url, svc


@pytest.mark.parametrize("method,path", [("GET", "/index.html"), ("GET", "/index.json"),
                                         ("GET", "/api/status"), ("GET", "/no-such-page"),
                                         ("POST", "/api/results")])
def test_every_answer_carries_the_security_headers(service, method, path):
    url, _ = service
    r = httpx.request(method, url + path, content=b"{}" if method == "POST" else None)
    csp = r.headers["content-security-policy"]
    assert "frame-ancestors 'none'" in csp and "script-src 'self'" in csp and "unsafe-inline" not in csp
    assert r.headers["x-content-type-options"] == "nosniff"
    assert r.headers["referrer-policy"] == "no-referrer" and r.headers["x-frame-options"] == "DENY"


def test_pages_have_no_inline_script(service, election):
    url, svc = service
    assert httpx.post(url + "/api/results", json=synthetic_signed(election, SEED, "prey-veng-1")).status_code == 201
    published(url, lambda d: d["stations_reporting"] >= 1)
    for page in svc.publisher.dir.rglob("*.html"):
        for tag in re.findall(r"<script[^>]*>", page.read_text(encoding="utf-8")):
            assert "src=" in tag or 'type="application/json"' in tag, f"{page.name}: {tag}"


def test_a_client_that_disconnects_mid_body_is_one_log_line(service, caplog):
    url, _ = service
    port = int(url.rsplit(":", 1)[1])
    caplog.set_level(logging.WARNING)
    with attacker_socket(port) as s:
        s.sendall(b"POST /api/results HTTP/1.1\r\nHost: central\r\nContent-Type: application/json\r\n"
                  b"Content-Length: 5000\r\n\r\n{\"message\"")
    pause, deadline = threading.Event(), time.monotonic() + 10
    while not any("disconnected" in r.getMessage() for r in caplog.records) and time.monotonic() < deadline:
        pause.wait(0.02)
    lines = [r for r in caplog.records if "disconnected" in r.getMessage()]
    assert len(lines) == 1 and "\n" not in lines[0].getMessage() and ATTACKER in lines[0].getMessage()
    assert not any(r.exc_info for r in caplog.records), "a traceback was logged"


def test_two_units_at_one_station_cannot_report_more_ballots_than_voters(election, tmp_path):
    sid = "chbar-mon-2"
    served = served_for(election, SEED)
    first = synthetic_signed(election, SEED, sid)
    second_unit = unit_signer(SEED, sid + ":second-unit")
    served.keys[second_unit.public_key_hex()] = sid
    served.registered[sid] = first["message"]["ballots_cast"] + 5  # e.g. 60 cast of 65 registered
    second = sign_results({**copy.deepcopy(first["message"]), "unit_id": "second-unit",
                           "unit_public_key": second_unit.public_key_hex()}, second_unit)
    with running_service(served, tmp_path) as (url, svc):
        assert httpx.post(url + "/api/results", json=first).status_code == 201
        r = httpx.post(url + "/api/results", json=second)
        assert r.status_code == 409 and r.json()["decision"] == "conflict"
        assert "registered" in r.json()["reason"]
        assert svc.tally.stations[sid].ballots_cast == first["message"]["ballots_cast"]
        doc = published(url, lambda d: d.get("conflicts"), f"stations/{sid}.json")
        assert [c["signed"] for c in doc["conflicts"]] == [second]
        assert doc["turnout_pct"] <= 100
        assert 'id="conflict-flag"' in httpx.get(f"{url}/stations/{sid}.html").text
        again = httpx.post(url + "/api/results", json=second)  # the same one again: still held aside
        assert again.status_code == 409 and len(svc.ingest.conflicts) == 1


def test_the_refusal_limit_slides_with_the_clock_and_forgets_quiet_addresses():
    from central.guard import RefusalLimiter
    now = [0.0]
    limiter = RefusalLimiter(DEFAULT_LIMITS, lambda: now[0])
    for _ in range(DEFAULT_LIMITS.refusals_per_window):
        limiter.record(ATTACKER)
    assert limiter.blocked(ATTACKER) and not limiter.blocked("127.0.0.1")
    now[0] = DEFAULT_LIMITS.refusal_window_s + 1
    assert not limiter.blocked(ATTACKER)
    for i in range(RefusalLimiter.MAX_ADDRESSES + 1):  # one refusal from each of many addresses
        limiter.record(f"10.0.{i // 256}.{i % 256}")
    now[0] += DEFAULT_LIMITS.refusal_window_s + 1
    limiter.record("10.9.9.9")
    assert limiter.remembered() == 1
