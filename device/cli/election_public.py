"""``ballotbox election public-package``: the public results package a results server holds.

    ballotbox election public-package --package PKG --key authority.key --out PUBLIC.json

Reads the confidential election package (checked against the authority's own public key) and
writes the public one (``device/election/public_package.py``): the election definition, the
unit-key registry, the voters registered per station and the mode, signed by the authority;
nothing about voters, PINs or the pseudonym key. ``ballotbox central serve`` takes only this.
Exit status: 0 written; 2 bad input (an unreadable key or package, an existing output file).
"""
from __future__ import annotations

import argparse

from device.cli.main import UserError


def register(subparsers) -> None:
    p = subparsers.add_parser("public-package", help="derive the public results package (for central serve)",
                              description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--package", required=True, metavar="PKG", help="the confidential election package")
    p.add_argument("--key", required=True, metavar="AUTHORITY_KEY", help="authority.key from 'keygen'")
    p.add_argument("--out", required=True, metavar="PUBLIC.json", help="file to write (not overwritten)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_public_package)


def run_public_package(args: argparse.Namespace) -> int:
    from device.cli.election import _print
    from device.election.authority import AuthorityKeyError, read_authority_key
    from device.election.package import PackageBuildError, PackageError, load_package
    from device.election.public_package import build_public_package, load_public_package, summary

    try:
        authority = read_authority_key(args.key)
    except AuthorityKeyError as exc:
        raise UserError(str(exc)) from None
    try:
        package = load_package(args.package, authority.public_key_hex())
        out = build_public_package(package, authority, args.out)
    except (PackageError, PackageBuildError) as exc:
        raise UserError(f"{args.package}: {exc}") from None
    info = summary(load_public_package(out, authority.public_key_hex()))
    _print(args, info, f"wrote {out} (sha256 {info['sha256']}): election {info['election_id']}, mode "
                       f"{info['mode']}, {info['stations']} station(s), {info['unit_keys']} unit key(s); "
                       f"no voter, PIN or pseudonym key in it")
    return 0
