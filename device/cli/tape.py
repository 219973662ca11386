"""``ballotbox audit tape PHOTO [PHOTO...]``: check a photographed results tape (anyone may).

Reads the QR codes off photos or scans of a unit's printed results tape, joins them (index,
count and hash chain), checks the signature against the unit key the election package
registers for the station (``--package PKG``, signed by ``--authority``) or a key given with
``--key``, and with ``--central URL`` says whether the central tally published the same result.
Exit status: 0 when the tape verifies (and matches central), 1 on any mismatch, 2 when the
photos cannot be read or do not show every code (nothing verified: photograph it again).
"""
from __future__ import annotations

import argparse
import json
from pathlib import Path
from typing import Any

from device.cli.main import UserError, no_such_file
from device.i18n import N_, _


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "tape", help="verify a photographed results tape (QR codes, chain, signature, central)",
        description="Read the QR codes of a unit's results tape from photos or scans, verify "
                    "their chain and the unit's signature, and optionally compare with the "
                    "central tally's published result. Exit 1 on any mismatch, 2 on bad input.")
    p.add_argument("photos", nargs="+", metavar="PHOTO", help="photos or scans of the tape "
                                                              "(any order; overlaps are fine)")
    p.add_argument("--package", metavar="PKG", help="the signed election package: its registry "
                                                    "says which unit keys belong to the station")
    p.add_argument("--authority", metavar="PUB", help="the election authority's public key (hex) "
                                                      "that signs the package")
    p.add_argument("--key", metavar="HEX", action="append", default=[],
                   help="a unit public key to accept instead of a package (repeatable)")
    p.add_argument("--central", metavar="URL", help="the central tally's base URL: compare the "
                                                    "tape with its published station result")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_tape)


def _key_source(args: argparse.Namespace):
    """(unit_keys(station) -> keys, election hash, package mode) from --package or from --key."""
    from device.store.signing import SignatureError, public_key_from_hex

    if args.package:
        from device.election.authority import AuthorityKeyError, read_public_key
        from device.election.package import load_package

        if not args.authority:
            raise UserError(_("--package needs --authority PUB (the key that signs the package)"),
                            translated=True)
        try:
            package = load_package(args.package, read_public_key(args.authority))
        except (OSError, ValueError, AuthorityKeyError) as exc:
            raise UserError(f"cannot use package {args.package}: {exc}") from None
        return package.unit_keys, package.election.hash, package.mode
    if not args.key:
        raise UserError(_("say which unit keys to trust: --package PKG (with --authority) or --key HEX"),
                        translated=True)
    try:
        for key in args.key:
            public_key_from_hex(key)
    except SignatureError as exc:
        raise UserError(f"--key: {exc}") from None
    keys = [k.strip().lower() for k in args.key]
    return (lambda station: keys), None, None


def fetch_json(url: str, timeout: float = 10.0) -> Any:
    """GET ``url`` as JSON; None when the server says 404; UserError when it cannot be asked."""
    import httpx

    try:
        response = httpx.get(url, timeout=timeout, follow_redirects=True)
    except httpx.HTTPError as exc:
        raise UserError(f"cannot reach the central tally at {url}: {exc}") from None
    if response.status_code == 404:
        return None
    if response.status_code != 200:
        raise UserError(_("the central tally answered {status} for {url}").format(
            status=response.status_code, url=url), translated=True)
    try:
        return response.json()
    except ValueError:
        raise UserError(_("the central tally's answer at {url} is not JSON").format(url=url),
                        translated=True) from None


def _show(audit, as_json: bool) -> None:
    if as_json:
        print(json.dumps(audit.to_json(), indent=1, ensure_ascii=False))
        return
    m = audit.message or {}
    if audit.ok:
        print(f"tape: OK — station {m['station']}, unit {m['unit_id']}, {m['mode']}, "
              f"sequence {m['sequence']}, {audit.codes_read} codes read")
    else:
        print(f"tape: FAILED — {len(audit.faults)} fault(s); first: {audit.faults[0]}")
        for fault in audit.faults[1:20]:
            print(f"  {fault}")
    if m and audit.ok:
        print(f"  ballots cast: {m['ballots_cast']}")
        for cid, t in m["tally"].items():
            votes = ", ".join(f"{c} {n}" for c, n in t["votes"].items())
            print(f"  {cid}: {votes}; undervotes {t['undervotes']}, overvotes {t['overvotes']}, "
                  f"blank {t['blank']}, invalid {t['invalid']}")
        print(f"  journal head: #{m['journal_head']['seq']} {m['journal_head']['hash'][:16]}...")
    if audit.central is not None:
        print(f"  central: {audit.central}")


def run_tape(args: argparse.Namespace) -> int:
    from device.audit.tape import TapeInputError, audit_tape

    try:
        for photo in args.photos:  # the photo first: a key problem can wait for a tape to check
            if not Path(photo).exists():
                raise no_such_file(photo, N_("a photo or scan of the results tape"))
        unit_keys, election_hash, package_mode = _key_source(args)
        audit = audit_tape(args.photos, unit_keys=unit_keys, election_hash=election_hash,
                           package_mode=package_mode, central=args.central, fetch=fetch_json)
    except (TapeInputError, UserError) as exc:
        if args.json:
            print(json.dumps({"check": "tape", "ok": False, "error": str(exc)}, ensure_ascii=False))
            return 2
        raise UserError(str(exc), translated=getattr(exc, "translated", False)) from None
    _show(audit, args.json)
    return 0 if audit.ok else 1
