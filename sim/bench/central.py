"""Benchmark: the central tally ingesting a whole country (section "central" of ``make bench``).

All 23,602 stations of the generated Cambodian commune election (``cambodia-2022-national``:
1,652 communes in 25 provinces, 5 to 11 seats each) sign their results with their simulated
unit keys; a simulation package registers those keys (the service holds its public results
package); ``ballotbox central
serve`` runs as its own process on a loopback port; concurrent httpx clients (asyncio) upload
every station once. Reported: uploads per second, p50/p99 latency, decisions (0 lost: every
station accepted and counted), the time until the published national file shows every
station, and how many station/district files and versions were regenerated. Target: the
whole country ingested in under 60 s on the 2-core machine. Only loopback traffic. The same
run twice, side by side: into SQLite (the embedded default) through one ingest process, and
into a PostgreSQL server the bench starts in a temporary folder (Debian's binaries; skipped,
saying so, without them) through two ``central serve`` processes on one database, each client
process sending to one of them; the elected one publishes.

The figures of each station are drawn directly (counts that satisfy the tally invariant),
not from simulated station days: the bench measures the central tally, not the units.
"""
from __future__ import annotations

import asyncio
import contextlib
import hashlib
import json
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import httpx

from device.election.definition import Election
from device.election.package import build_package, load_package
from device.election.public_package import build_public_package
from device.election.voter_roll import VoterRoll
from device.results.tally import ContestTally, Results
from sim.results.package_cli import simulation_authority
from sim.results.results_feed import signed_results_for, unit_signer

CONCURRENCY = 64  # connections in all
CLIENT_PROCESSES = 2
SEED = 2022
LOG = Path(tempfile.gettempdir()) / "ballotbox-bench-central.log"  # the service's stderr


def cambodia_election() -> Election:
    """The generated Cambodian commune election: 23,602 stations, 1,652 communes, provinces and
    registered voters in the definition (``sim.national.generator``)."""
    from sim.national.generator import national_election

    return national_election("cambodia-2022-national").election


def drawn_results(election: Election, sid: str, rng: random.Random, registered: int) -> Results:
    """A station's figures drawn directly, consistent with the tally invariant."""
    station = election.stations[sid]
    r = Results(election, f"station:{sid}", station.district)
    cast = int(registered * rng.uniform(0.7, 0.9))
    invalid = int(cast * 0.02)
    r.ballots_cast = cast
    for c in election.contests_at_station(sid):
        t = ContestTally.empty(c)
        t.invalid, t.ballots_counted = invalid, cast - invalid
        t.blank = int(t.ballots_counted * 0.01)
        t.undervotes = t.blank * c.vote_for
        weights = [rng.random() ** 3 for _ in c.choices]
        left = (t.ballots_counted - t.blank) * c.vote_for
        total = sum(weights)
        for ch, w in zip(c.choices, weights):
            t.votes[ch.id] = int(left * w / total)
        t.votes[c.choices[0].id] += left - sum(t.votes.values())
        r.contests[c.id] = t
    r.check()
    return r


def process_cpu_seconds(pid: int) -> float:
    """User + system CPU time of a process (Linux /proc)."""
    import os
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_service(pkg: Path, pub: Path, db: str, public: Path, log: Path) -> tuple[subprocess.Popen, str]:
    port = free_port()
    with open(log, "wb") as err:
        proc = subprocess.Popen([sys.executable, "-m", "device.cli.main", "central", "serve", "--package",
                                 str(pkg), "--authority", str(pub), "--db", str(db), "--public", str(public),
                                 "--listen", f"127.0.0.1:{port}"], stderr=err)
    url, pause, deadline = f"http://127.0.0.1:{port}", threading.Event(), time.monotonic() + 300
    while True:
        try:
            httpx.get(url + "/api/status").raise_for_status()
            return proc, url
        except httpx.HTTPError:
            if proc.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("central serve did not start: " + log.read_text()[-2000:]) from None
            pause.wait(0.1)


async def upload_all(url: str, bodies: list[bytes], concurrency: int) -> tuple[list[float], dict[str, int]]:
    """Post every body once over ``concurrency`` keep-alive connections (httpx, asyncio)."""
    latencies: list[float] = []
    codes: dict[str, int] = {}
    queue = list(reversed(bodies))
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=120) as client:
        async def worker():
            while queue:
                body = queue.pop()
                t0 = time.perf_counter()
                try:
                    r = await client.post("/api/results", content=body,
                                          headers={"content-type": "application/json"})
                    code = r.json().get("code", str(r.status_code))
                except httpx.TransportError:  # a unit's outbox sends again; so does the bench
                    code = "retried"
                    queue.append(body)
                latencies.append(time.perf_counter() - t0)
                codes[code] = codes.get(code, 0) + 1
        await asyncio.gather(*(worker() for _ in range(concurrency)))
    return latencies, codes


def client_process(args: tuple[str, list[bytes], int]) -> tuple[list[float], dict[str, int], float]:
    """One client process: its share of the stations; returns latencies, answers and CPU time."""
    url, bodies, concurrency = args
    latencies, codes = asyncio.run(upload_all(url, bodies, concurrency))
    return latencies, codes, time.process_time()


def upload_from_processes(urls: list[str], bodies: list[bytes]) -> tuple[list[float], dict[str, int], float]:
    """Spread the uploads over ``CLIENT_PROCESSES`` processes (one Python client cannot keep up),
    client process i sending to ``urls[i % len(urls)]``."""
    import multiprocessing

    shares = [(urls[i % len(urls)], bodies[i::CLIENT_PROCESSES], CONCURRENCY // CLIENT_PROCESSES)
              for i in range(CLIENT_PROCESSES)]
    with multiprocessing.get_context("spawn").Pool(CLIENT_PROCESSES) as pool:
        results = pool.map(client_process, shares)
    latencies = [x for r in results for x in r[0]]
    codes: dict[str, int] = {}
    for r in results:
        for k, v in r[1].items():
            codes[k] = codes.get(k, 0) + v
    return latencies, codes, sum(r[2] for r in results)


def ingest_run(pkg: Path, pub: Path, db: str, public: Path, bodies: list[bytes], n: int,
               processes: int = 1) -> dict:
    """Start ``processes`` ``central serve`` on ``db``, upload every body, wait until all is
    published (the figures of the process that publishes; CPU of them all)."""
    t1 = time.perf_counter()
    started = [start_service(pkg, pub, db, public, LOG.with_suffix(f".{i}.log")) for i in range(processes)]
    startup = time.perf_counter() - t1
    try:
        urls = [url for _, url in started]
        t2 = time.perf_counter()
        latencies, codes, client_cpu = upload_from_processes(urls, bodies)
        ingest = time.perf_counter() - t2
        pause, deadline = threading.Event(), time.monotonic() + 300
        while True:
            version = httpx.get(urls[0] + "/version.json").json()
            if version["stations_reporting"] >= n or time.monotonic() > deadline:
                break
            pause.wait(0.05)
        published = time.perf_counter() - t2
        statuses = [httpx.get(url + "/api/status").json() for url in urls]
        status = next((st for st in statuses if st.get("publishing")), statuses[0])
        service_cpu = sum(process_cpu_seconds(proc.pid) for proc, _ in started)
        national = httpx.get(urls[0] + "/index.json").json()
    finally:
        for proc, _ in started:
            proc.terminate()
        for proc, _ in started:
            proc.wait(60)
    lat = sorted(latencies)
    return {"startup": startup, "ingest": ingest, "published": published, "codes": codes,
            "p50": statistics.median(lat), "p99": lat[int(0.99 * (len(lat) - 1))],
            "accepted": codes.get("accepted", 0), "status": status, "national": national,
            "service_cpu": service_cpu, "client_cpu": client_cpu, "processes": processes,
            "publishers": sum(1 for st in statuses if st.get("publishing")),
            "files": sum(1 for _ in (public / "stations").glob("*.json"))}


def bench_package(election: Election, signers: dict, tmp: Path) -> tuple[Path, Path]:
    """The public results package registering ``signers``' keys, and the authority key file."""
    authority = simulation_authority(SEED)
    confidential = build_package(election, VoterRoll([]), authority, tmp / "bench.pkg", mode="simulation",
                                 units={sid: [s.public_key_hex()] for sid, s in signers.items()},
                                 pseudonym_key=hashlib.sha256(b"bench").digest())
    pkg = build_public_package(load_package(confidential, authority.public_key_hex()), authority,
                               tmp / "bench.public.json")
    pub = tmp / "authority.pub"
    pub.write_text(authority.public_key_hex())
    return pkg, pub


def signed_bodies(election: Election, ids: list[str], signers: dict) -> list[bytes]:
    """Each station's drawn figures signed by its unit, as upload bodies."""
    registered = election.registered()
    bodies = []
    for sid in ids:
        rng = random.Random(f"{SEED}:{sid}")
        signed = signed_results_for(election, sid, signers[sid], drawn_results(election, sid, rng, registered[sid]))
        bodies.append(json.dumps(signed).encode())
    return bodies


def main(quick: bool) -> None:
    print("## central (the central tally ingesting every station of the Cambodian election)")
    t0 = time.perf_counter()
    election = cambodia_election()
    ids = list(election.stations)
    n = 3_000 if quick else len(ids)
    signers = {sid: unit_signer(SEED, sid) for sid in ids}
    bodies = signed_bodies(election, ids[:n], signers)
    prep = time.perf_counter() - t0
    runs: dict[str, dict] = {}
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        pkg, pub = bench_package(election, signers, tmp)
        runs["SQLite"] = ingest_run(pkg, pub, str(tmp / "central.db"), tmp / "public-sqlite", bodies, n)
        if postgres_bin() is None:
            print("PostgreSQL: skipped (no server binaries under /usr/lib/postgresql: make install)")
        else:
            with postgres_server() as db:
                runs["PostgreSQL"] = ingest_run(pkg, pub, db, tmp / "public-postgresql", bodies, n, processes=2)
    print(f"stations: {n:,} of {len(ids):,} ({len(election.districts):,} communes); "
          f"{CONCURRENCY} concurrent connections from {CLIENT_PROCESSES} client processes on loopback "
          f"(httpx async); messages signed in {prep:.1f} s")
    for name, r in runs.items():
        st = r["status"]
        print(f"{name}: {r['processes']} ingest process(es), {r['publishers']} publishing; "
              f"started in {r['startup']:.1f} s; ingest {r['ingest']:.1f} s, "
              f"{n / r['ingest']:,.0f} uploads/s; latency p50 {r['p50'] * 1e3:.1f} ms, "
              f"p99 {r['p99'] * 1e3:.1f} ms; decisions {r['codes']}")
        print(f"{name}: lost {n - r['accepted']} (accepted {r['accepted']:,}, counted by the service "
              f"{st['stations_reporting']:,}, published {r['national']['stations_reporting']:,}); "
              f"all published {r['published']:.1f} s after the first upload (target < 60 s); "
              f"{st['regenerated']['stations']:,} station and {st['regenerated']['districts']:,} district "
              f"pages in {st['regenerated']['versions']:,} versions; {r['files']:,} station files")
        print(f"{name}: CPU of the service process(es) {r['service_cpu']:.1f} s (start-up included), "
              f"clients {r['client_cpu']:.1f} s; where the publishing process's time went (s): {st['timing']}")
    print(f"load average {Path('/proc/loadavg').read_text().split()[0]} on this machine")


def postgres_bin() -> Path | None:
    """The newest Debian PostgreSQL server binaries (``/usr/lib/postgresql/<version>/bin``)."""
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/pg_ctl"),
                   key=lambda p: int(p.parent.parent.name) if p.parent.parent.name.isdigit() else 0)
    return found[-1].parent if found else None


@contextlib.contextmanager
def postgres_server():
    """A real PostgreSQL server in a temporary folder on a free loopback port (for the bench and
    the tests); yield its URL; stop it and remove the folder. As root, the server runs as the
    ``postgres`` user (it refuses root) through ``runuser``; the folder is made under the
    system's temporary folder, which that user can reach. ``RuntimeError`` without binaries."""
    import os
    import pwd
    import shutil

    bindir = postgres_bin()
    if bindir is None:
        raise RuntimeError("PostgreSQL server binaries not found under /usr/lib/postgresql "
                           "(make install adds Debian's postgresql package)")
    tmp = Path(tempfile.mkdtemp(prefix="ballotbox-pg-"))
    as_user: list[str] = []
    if os.geteuid() == 0:
        as_user = ["runuser", "-u", "postgres", "--"]
        pw = pwd.getpwnam("postgres")
        os.chown(tmp, pw.pw_uid, pw.pw_gid)
    data, port = tmp / "data", free_port()

    def run(*argv: str) -> None:
        subprocess.run([*as_user, *argv], check=True, capture_output=True, timeout=120)

    try:
        run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "postgres", "-E", "UTF8", "--no-sync")
        run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(tmp / "server.log"), "-w", "-o",
            f"-k {tmp} -p {port} -c listen_addresses=127.0.0.1", "start")
        try:
            yield f"postgresql://postgres@127.0.0.1:{port}/postgres"
        finally:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate", "stop")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
