"""``ballotbox audit verify DIR`` and ``ballotbox audit replay DIR``: auditors' checks of an export.

``verify`` checks integrity (signatures, hash chain, sequence, files, cast vote records) and
names the first bad record with the kind of fault (altered, deleted, reordered, inserted,
truncated, forged signature); ``--package PKG --authority PUB`` takes the unit's key from the
signed election package's registry, so an export re-signed with another key is a fault. ``replay`` runs the journal back through the station's state
machine and recomputes the tally from the cast vote records (``device/audit/``).
Exit status: 0 when clean, 1 on any fault, 2 when DIR is not an export or ``--package`` is of
another election than the export (said as such: a mix-up of files is not tampering).
"""
from __future__ import annotations

import argparse
import json

from pathlib import Path

from device.cli.main import UserError, no_such_file
from device.i18n import N_, _


def register(subparsers) -> None:
    v = subparsers.add_parser(
        "verify", help="check an export's signatures, hash chain, sequence and records",
        description="Verify an exported unit folder (from 'ballotbox device export'). Names the "
                    "first bad record and the kind of fault; exit 1 on any fault.")
    v.add_argument("dir", metavar="DIR", help="the export folder")
    v.add_argument("--key", metavar="HEX", help="the unit's public key from an independent source "
                                                 "(provisioning register, results tape); without it "
                                                 "the key of the journal's first checkpoint is used")
    v.add_argument("--package", metavar="PKG", help="the election package: the unit key is taken from "
                                                     "its registry (needs --authority)")
    v.add_argument("--authority", metavar="PUBKEY", help="the authority's public key (authority.pub "
                                                         "or hex) that signed --package")
    v.add_argument("--json", action="store_true", help="print one JSON object")
    v.set_defaults(func=run_verify)
    r = subparsers.add_parser(
        "replay", help="replay the journal through the state machine and recompute the tally",
        description="Run an export's journal back through the station's state machine, report "
                    "any transition it would not allow, and compare the tally recomputed from the "
                    "cast vote records with the signed results; exit 1 on any fault.")
    r.add_argument("dir", metavar="DIR", help="the export folder")
    r.add_argument("--json", action="store_true", help="print one JSON object")
    r.set_defaults(func=run_replay)


def _show(report, as_json: bool) -> int:
    if as_json:
        print(json.dumps(report.to_json(), indent=1, ensure_ascii=False))
    elif report.ok:
        print(f"{report.check}: OK — {report.directory}")
        for key, value in report.facts.items():
            print(f"  {key}: {value}")
    else:
        print(f"{report.check}: FAILED — {len(report.faults)} fault(s); first: {report.faults[0]}")
        for fault in report.faults[:20]:
            print(f"  {fault}")
        if len(report.faults) > 20:
            print(f"  ... and {len(report.faults) - 20} more")
    return 0 if report.ok else 1


def run_verify(args: argparse.Namespace) -> int:
    from device.audit.findings import ExportReadError
    from device.audit.verify import PackageMismatch, verify_export
    from device.store.signing import SignatureError, public_key_from_hex
    _export_folder(args.dir)
    package = _package(args)
    try:
        if args.key:
            public_key_from_hex(args.key)
        report = verify_export(args.dir, args.key.strip().lower() if args.key else None, package)
    except (ExportReadError, SignatureError, PackageMismatch) as exc:
        raise UserError(str(exc)) from None
    return _show(report, args.json)


def _export_folder(path: str) -> None:
    if not Path(path).exists():
        raise no_such_file(path, N_("the folder 'ballotbox device export' wrote"))


def _package(args: argparse.Namespace):
    """The verified election package of ``--package`` (None without it)."""
    if args.package is None:
        if args.authority:
            raise UserError(_("--authority goes with --package"), translated=True)
        return None
    if not args.authority:
        raise UserError(_("--package needs --authority (the key that signed the package)"), translated=True)
    if args.key:
        raise UserError(_("give --key or --package, not both"), translated=True)
    from device.election.authority import AuthorityKeyError, read_public_key
    from device.election.package import PackageError, load_package
    try:
        return load_package(args.package, read_public_key(args.authority))
    except (AuthorityKeyError, PackageError) as exc:
        raise UserError(str(exc)) from None


def run_replay(args: argparse.Namespace) -> int:
    from device.audit.findings import ExportReadError
    from device.audit.replay import replay_export
    _export_folder(args.dir)
    try:
        report = replay_export(args.dir)
    except ExportReadError as exc:
        raise UserError(str(exc)) from None
    return _show(report, args.json)
