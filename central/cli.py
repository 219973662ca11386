"""``ballotbox central serve``: run the central tally for one signed election package.

    ballotbox central serve --package PKG --authority KEY --db central.db \\
        --listen 127.0.0.1:8080 [--mode live|test] [--public DIR]

The package is checked against the authority's public key before anything is served; a live
service refuses a test or simulation package. ``--db`` is a SQLite path (or ``sqlite:///...``;
see ``central/store.py`` for what PostgreSQL would take). ``--public`` is where the static
site is written (default: ``public/`` beside the database); any static web server can serve
that folder to the public while this service ingests.
"""
from __future__ import annotations

import argparse
import sys
from pathlib import Path

from device.cli.main import UserError


def register(subparsers) -> None:
    p = subparsers.add_parser("serve", help="ingest signed station results and publish the results site",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--package", required=True, help="the signed election package")
    p.add_argument("--authority", required=True,
                   help="the election authority's Ed25519 public key: hex, or a file holding it")
    p.add_argument("--db", required=True, help="the central store: a SQLite path or sqlite:///path")
    p.add_argument("--listen", default="127.0.0.1:8080", help="HOST:PORT (default 127.0.0.1:8080)")
    p.add_argument("--mode", choices=("live", "test"), default=None,
                   help="accept live or test results (default: live for a live package, else test)")
    p.add_argument("--public", default=None, help="folder of the static site (default: beside --db)")
    p.set_defaults(func=run_serve)


def authority_key(text: str) -> str:
    path = Path(text)
    if path.is_file():
        text = path.read_text(encoding="ascii", errors="replace")
    text = text.strip().lower()
    if len(text) != 64 or any(ch not in "0123456789abcdef" for ch in text):
        raise UserError("--authority: expected an Ed25519 public key as 64 hex digits (or a file holding one)")
    return text


def parse_listen(text: str) -> tuple[str, int]:
    host, sep, port = text.rpartition(":")
    if not sep or not port.isdigit() or not 0 < int(port) < 65536:
        raise UserError(f"--listen {text!r}: expected HOST:PORT, e.g. 127.0.0.1:8080")
    return host or "127.0.0.1", int(port)


def build_service(args: argparse.Namespace):
    from device.election.package import load_package  # the packages API
    from device.store.sqlite import JournalIntegrityError, StoreOpenError
    from central.app import CentralService
    from central.served import ServiceModeError, from_package
    from central.store import open_central_store

    try:
        package = load_package(args.package, authority_key(args.authority))
    except (OSError, ValueError) as exc:  # PackageError is a ValueError
        raise UserError(f"--package {args.package}: {exc}") from None
    try:
        served = from_package(package, args.mode)
    except ServiceModeError as exc:
        raise UserError(str(exc)) from None
    try:
        store = open_central_store(args.db)
    except (StoreOpenError, JournalIntegrityError) as exc:
        raise UserError(f"--db {args.db}: {exc}") from None
    public = Path(args.public) if args.public else Path(str(store.path)).parent / "public"
    return CentralService(served, store, public, render_process=True)


def run_serve(args: argparse.Namespace) -> int:
    import uvicorn

    host, port = parse_listen(args.listen)
    service = build_service(args)
    s = service.served
    print(f"central tally: {s.election.title} ({s.mode} mode, {len(s.election.stations)} stations, "
          f"{len(s.keys)} unit keys); results site in {service.publisher.dir}; "
          f"listening on http://{host}:{port}/", file=sys.stderr)
    uvicorn.run(service.app(), host=host, port=port, log_level="warning", access_log=False,
                timeout_keep_alive=30)
    return 0
