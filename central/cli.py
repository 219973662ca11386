"""``ballotbox central serve`` and ``ballotbox central accept``: run the central tally.

    ballotbox central serve --package PUBLIC.json --authority KEY --db central.db \\
        --listen 127.0.0.1:8080 [--mode live|test] [--public DIR]

``--package`` is the authority's *public results package* (``ballotbox election
public-package``; ``ballotbox sim package`` writes one beside its package as
``PKG.public.json``): the election, the unit-key registry, the voters registered per station
and the mode, signed. It is checked against the authority's public key before anything is
served; the confidential election package (voter rolls, PIN hashes, pseudonym key) is
refused, and a live service refuses a test or simulation package. ``--db`` is a SQLite path
(or ``sqlite:///...``, the embedded default) or a PostgreSQL server
(``postgresql://user@host:port/db``: ``central/store_pg.py``). ``--public`` is where the static site is written (default:
``public/`` beside the database); any static web server can serve that folder.

Start-up, in order, and nothing is written before the last step: check the package; bind the
address; take the public folder and the database (one running service holds each: a second
one is refused); publish the site from the store (files whose bytes did not change are not
rewritten); answer.

Several ingest processes, one PostgreSQL database: start ``central serve`` as often as needed
with the same --db postgresql://... and the same --public, each on its own --listen (put a
load balancer in front). Each decides its uploads inside the database's transaction, so the
same station sent to two processes at once is accepted once (the other answer: duplicate or
conflict), and each follows what the others accepted. Exactly one of them publishes the site:
the holder of the database's publisher lock (an advisory lock); the others stand by, and when
the publisher ends, however it ends, one of them takes over within a second and republishes
from the database. GET /api/status says "publishing": true on the publisher. On a SQLite file
one service ingests and publishes: a second one is refused (exit 4).

Exit status: 0 stopped by the server itself; on SIGTERM or Ctrl-C it publishes what it accepted
(the publisher) then ends with that signal's status (143 or 130 in a shell); 2 bad input
(package, authority key, --db, --listen, --mode); 3 the address cannot be bound (in use); 4 the
public folder or the SQLite file is held by another running central service, or the PostgreSQL
database by 'central accept'.

    ballotbox central accept STATION --sequence N --reason TEXT --db central.db [--unit KEY]

Policy for a station whose unit was reopened: its newer result (a higher sequence, another
digest) lands as a *conflict*, listed publicly and never counted, because the service cannot
tell a legitimate recount from a replayed or coerced one. The authority decides: ``accept``
(with the service stopped) makes the held result with that sequence the station's result, keeps
the one it replaces in the conflicts list, and journals the decision with its reason; the next
``serve`` publishes it. Exit status: 0 accepted; 2 bad input (no such held result); 4 the
database is held by a running service (on PostgreSQL: any of its ingest processes).
"""
from __future__ import annotations

import argparse
import contextlib
import socket
import sys
import time
from pathlib import Path

from device.cli.main import UserError
from device.i18n import _

EXIT_BIND, EXIT_BUSY = 3, 4


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="ingest signed station results and publish the results site",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--package", required=True,
                   help="the public results package (ballotbox election public-package)")
    p.add_argument("--authority", required=True,
                   help="the election authority's Ed25519 public key: hex, or a file holding it")
    p.add_argument("--db", required=True,
                   help="the central store: a SQLite path, sqlite:///path (one service), or "
                        "postgresql://user@host:port/db (several serve processes may share it)")
    p.add_argument("--listen", default="127.0.0.1:8080", help="HOST:PORT (default 127.0.0.1:8080)")
    p.add_argument("--mode", choices=("live", "test"), default=None,
                   help="accept live or test results (default: live for a live package, else test)")
    p.add_argument("--public", default=None, help="folder of the static site (default: beside --db; with "
                   "PostgreSQL, required and the same for every process: the elected publisher writes it)")
    p.set_defaults(func=run_serve)
    a = subparsers.add_parser("accept", help="accept a held result explicitly (the authority's decision)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    a.add_argument("station", metavar="STATION", help="the station id")
    a.add_argument("--sequence", required=True, type=int, help="the sequence number of the held result")
    a.add_argument("--reason", required=True, help="why the authority accepts it (journaled)")
    a.add_argument("--db", required=True, help="the central store, as for serve (the service must be stopped)")
    a.add_argument("--unit", default=None, help="the unit's public key, when several units have one held")
    a.set_defaults(func=run_accept)


def authority_key(text: str) -> str:
    """``--authority``: read as every command reads it (``authority.pub`` or its hex)."""
    from device.election.authority import AuthorityKeyError, read_public_key

    try:
        return read_public_key(text)
    except AuthorityKeyError as exc:
        raise UserError(f"--authority: {exc} (expected an Ed25519 public key as 64 hex digits, "
                        f"or a file holding one)") from None


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(_("--listen {listen}: expected HOST:PORT, e.g. 127.0.0.1:8080").format(listen=repr(text)),
                        translated=True)
    return host or "127.0.0.1", int(port)


def served_election(args: argparse.Namespace):
    """The checked package as a ``ServedElection`` (no side effect)."""
    from device.election.public_package import PublicPackageError, load_public_package
    from central.served import ServiceModeError, from_package

    try:
        package = load_public_package(args.package, authority_key(args.authority))
        return from_package(package, args.mode)
    except (PublicPackageError, ServiceModeError) as exc:
        raise UserError(f"--package {args.package}: {exc}") from None


def sqlite_path(url: str) -> Path:
    from central.store import store_path
    from device.store.sqlite import StoreOpenError
    try:
        return store_path(url)
    except StoreOpenError as exc:
        raise UserError(f"--db {url}: {exc}") from None


def open_store(url: str, alone: bool = False):
    """The store, held by this process; ``Busy`` when a running service holds it (a SQLite file
    by a lock on the file). PostgreSQL: every service holds a shared advisory lock, ``alone``
    (``central accept``) an exclusive one."""
    from central import locks
    from central.store import is_postgres, open_central_store
    from device.store.sqlite import JournalIntegrityError, StoreOpenError

    if is_postgres(url):
        try:
            return open_central_store(url, alone=alone)
        except (StoreOpenError, JournalIntegrityError) as exc:
            raise UserError(f"--db: {exc}") from None
    path = sqlite_path(url)
    held = locks.hold(path) if path.exists() else None
    try:
        store = open_central_store(url)
        if held is None:
            held = locks.hold(path)
    except (StoreOpenError, JournalIntegrityError) as exc:
        locks.release(held)
        raise UserError(f"--db {url}: {exc}") from None
    store.held_lock = held
    return store


def bind(host: str, port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
        sock.listen(2048)
    except OSError:
        sock.close()
        raise
    return sock


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    from central import locks
    from central.app import CentralService
    from central.guard import DEFAULT_LIMITS, uvicorn_config

    from central.store import is_postgres

    host, port = parse_listen(args.listen)
    served = served_election(args)
    if args.public is None and is_postgres(args.db):
        raise UserError(_("--public: say where the results site goes (the database is a server)"),
                        translated=True)
    public = Path(args.public) if args.public else sqlite_path(args.db).parent / "public"
    try:
        sock = bind(host, port)
    except OSError as exc:
        print(f"central serve: cannot listen on {host}:{port}: {exc.strerror or exc}; nothing was "
              f"written", file=sys.stderr)
        return EXIT_BIND
    shared = is_postgres(args.db)  # several processes ingest; the elected one takes the folder
    created = not public.exists()
    try:
        public.mkdir(parents=True, exist_ok=True)
        folder = None if shared else locks.hold(public)
        try:
            store = open_store(args.db)
        except BaseException:
            locks.release(folder)
            if created:
                with contextlib.suppress(OSError):  # (another service may have written in it)
                    public.rmdir()  # made empty a moment ago: nothing is left behind
            raise
    except locks.Busy as exc:
        sock.close()
        print(f"central serve: {exc}; nothing was written", file=sys.stderr)
        return EXIT_BUSY
    except BaseException:
        sock.close()
        raise
    service = CentralService(served, store, public, render_process=True, folder_lock=folder)
    print(f"central tally: {served.election.title} ({served.mode} mode, {len(served.election.stations)} "
          f"stations, {len(served.keys)} unit keys); results site in {public}; "
          f"listening on http://{host}:{port}/", file=sys.stderr)
    server = uvicorn.Server(uvicorn_config(service.app(), DEFAULT_LIMITS))
    server.run(sockets=[sock])
    return 0


def run_accept(args: argparse.Namespace) -> int:
    from central import locks
    from central.store import AcceptError

    if not args.reason.strip():
        raise UserError(_("--reason: say why the authority accepts this result"), translated=True)
    try:
        store = open_store(args.db, alone=True)
    except locks.Busy as exc:
        print(f"central accept: {exc}: stop it first", file=sys.stderr)
        return EXIT_BUSY
    try:
        done = store.accept_held(args.station, args.sequence, args.unit, args.reason.strip(), time.time())
    except AcceptError as exc:
        raise UserError(str(exc)) from None
    finally:
        store.close()
        locks.release(store.held_lock)
    print(f"accepted sequence {done['sequence']} of {args.station} (unit {done['unit_key'][:16]}...), "
          f"journal record {done['seq']}; the next 'central serve' publishes it")
    return 0
