"""``ballotbox election ...``: the election authority's jobs (``device/election/package.py``).

- ``election keygen --out DIR``: the authority's Ed25519 key pair (``authority.key`` mode 0600,
  ``authority.pub``); an existing key is never overwritten.
- ``election validate FILE``: every error of an election definition with its JSON path; exit 2
  when there is any.
- ``election package --election FILE --roll CSV --key KEY --out PKG [--units REGISTRY.json]
  [--staff PINS.csv]``: the signed package. ``REGISTRY.json`` maps each station id to the public
  keys (hex) of the units allowed to serve it; ``PINS.csv`` has the columns
  ``station_id,role,pin`` (roles ``election_manager``, ``poll_worker``). PINs not given are
  generated and written once to ``PKG.pins.csv`` (mode 0600) for the authority to hand out;
  the package holds only their Argon2id hashes. The package is written mode 0600. Its serial is
  the last one issued for the election + 1 (``authority.issued.json`` beside the key;
  ``--serial N`` sets a higher one); ``--manager-pin-length`` (6 to 12, default 6) sets the
  election manager's PIN length (the poll worker's stays 6).
- ``election verify PKG --authority PUB``: what a unit checks; exit 1 with the reason when the
  package would be refused.
- ``election public-package --package PKG --key KEY --out PUBLIC.json``: the public results
  package for ``central serve`` (``device/cli/election_public.py``).
Every command takes ``--json``.
"""
from __future__ import annotations

import argparse
import csv
import json
from pathlib import Path

from device.cli.main import UserError, no_such_file
from device.election.names import election_help
from device.i18n import _


def register(subparsers) -> None:
    k = subparsers.add_parser("keygen", help="create the authority's Ed25519 key pair",
                              description="Write authority.key (mode 0600) and authority.pub into "
                                          "DIR. Refuses to overwrite an existing key.")
    k.add_argument("--out", required=True, metavar="DIR", help="folder for the key files")
    k.add_argument("--json", action="store_true", help="print one JSON object")
    k.set_defaults(func=run_keygen)

    v = subparsers.add_parser("validate", help="list every error of an election definition",
                              description="Check an election definition (ballotbox-election/1) and "
                                          "list every error with its JSON path; exit 2 if any.")
    v.add_argument("file", metavar="FILE", help=election_help())
    v.add_argument("--json", action="store_true", help="print one JSON object")
    v.set_defaults(func=run_validate)

    p = subparsers.add_parser(
        "package", help="build a signed election package (one zip file)",
        description="Build the election package a unit loads: election, voter rolls per station, "
                    "ballot layouts, unit registry, staff PIN hashes, languages, a voter-pseudonym "
                    "key and a manifest of SHA-256 hashes signed by the authority. Every re-issue "
                    "of one election carries the same voter-pseudonym key and the next serial; a "
                    "unit refuses a package with a lower serial than one it loaded.")
    p.add_argument("--election", required=True, metavar="FILE", help="election JSON (or bundled name)")
    p.add_argument("--roll", required=True, action="append", metavar="CSV",
                   help="voter roll voter_id,document_number,station_id (repeatable: one per station)")
    p.add_argument("--key", required=True, metavar="AUTHORITY_KEY", help="authority.key from 'keygen'")
    p.add_argument("--out", required=True, metavar="PKG", help="package file to write (not overwritten)")
    p.add_argument("--units", metavar="REGISTRY.json",
                   help='station id -> unit public keys, e.g. {"north-1": ["<hex>"]}')
    p.add_argument("--staff", metavar="PINS.csv",
                   help="station_id,role,pin per line; PINs not given are generated into PKG.pins.csv")
    p.add_argument("--languages", default="en", metavar="TAGS", help="comma-separated (default en)")
    p.add_argument("--mode", choices=("live", "test", "simulation"), default="live",
                   help="live (default), test (pre-election testing only) or simulation")
    p.add_argument("--serial", type=int, metavar="N",
                   help="this issue's serial (default: the last issued for the election + 1, "
                        "from authority.issued.json beside the key); never lower or equal")
    p.add_argument("--manager-pin-length", type=int, default=6, metavar="DIGITS",
                   help="digits of the election manager's PIN, 6 to 12 (default 6; the poll "
                        "worker's PIN is always 6)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_package)

    c = subparsers.add_parser("verify", help="check a package as a unit would",
                              description="Verify an election package's signature and hashes "
                                          "against the authority's public key; exit 1 naming the "
                                          "reason when a unit would refuse it.")
    c.add_argument("package", metavar="PKG")
    c.add_argument("--authority", required=True, metavar="PUBKEY", help="authority.pub or its hex")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(func=run_verify)

    from device.cli.election_public import register as register_public
    register_public(subparsers)  # election public-package: what a results server holds


def _print(args, obj: dict, text: str) -> None:
    print(json.dumps(obj, indent=1, ensure_ascii=False) if args.json else text)


def run_keygen(args: argparse.Namespace) -> int:
    from device.election.authority import AuthorityKeyError, generate_authority_keys, read_public_key
    try:
        private, public = generate_authority_keys(args.out)
    except AuthorityKeyError as exc:
        raise UserError(str(exc)) from None
    key = read_public_key(public)
    _print(args, {"private_key_file": str(private), "public_key_file": str(public), "public_key": key},
           f"wrote {private} (mode 0600: keep it offline) and {public}\npublic key: {key}")
    return 0


def run_validate(args: argparse.Namespace) -> int:
    from device.election.definition import validate_election
    from device.election.names import election_document

    path, document = election_document(args.file)  # a name of the one lookup, or a file
    errors = validate_election(document)
    listing = [{"path": e.path, "message": e.message} for e in errors]
    if args.json:
        print(json.dumps({"file": str(path), "valid": not errors, "errors": listing}, indent=1))
    elif errors:
        print(f"{path}: {len(errors)} error(s)")
        for e in listing:
            print(f"  {e['path']}: {e['message']}")
    else:
        print(f"{path}: valid")
    return 2 if errors else 0


def _read_units(path: str | None) -> dict[str, list[str]]:
    if path is None:
        return {}
    try:
        units = json.loads(Path(path).read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"cannot read unit registry {path}: {exc}") from None
    if not isinstance(units, dict):
        raise UserError(_("{path}: the unit registry must map station ids to lists of public keys").format(
            path=path), translated=True)
    return units


def _read_staff(path: str | None) -> dict[str, dict[str, str]]:
    if path is None:
        return {}
    try:
        rows = list(csv.reader(Path(path).read_text(encoding="utf-8").splitlines()))
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read staff PINs {path}: {exc}") from None
    if not rows or [h.strip() for h in rows[0]] != ["station_id", "role", "pin"]:
        raise UserError(_("{path}: line 1 must be station_id,role,pin").format(path=path), translated=True)
    staff: dict[str, dict[str, str]] = {}
    for n, row in enumerate(rows[1:], start=2):
        if not row:
            continue
        if len(row) != 3:
            raise UserError(_("{path}: line {n}: expected station_id,role,pin").format(path=path, n=n),
                            translated=True)
        sid, role, pin = (x.strip() for x in row)
        if role in staff.get(sid, {}):
            raise UserError(_("{path}: line {n}: a second PIN for {role} at {station}").format(
                path=path, n=n, role=role, station=sid), translated=True)
        staff.setdefault(sid, {})[role] = pin
    return staff


def run_package(args: argparse.Namespace) -> int:
    from device.election.authority import AuthorityKeyError, IssueLog, read_authority_key, write_secret_file
    from device.election.definition import load_election
    from device.election.package import MANAGER_PIN_LENGTHS, PackageBuildError, build_package, pin_lengths
    from device.election.voter_roll import VoterRoll, VoterRollError
    from device.station.roles import ROLES, generate_pin

    election = load_election(args.election)
    try:
        rolls = [VoterRoll.from_csv(p, election) for p in args.roll]
    except VoterRollError as exc:
        raise UserError(f"voter roll: {exc}") from None
    if args.manager_pin_length not in MANAGER_PIN_LENGTHS:
        raise UserError(_("--manager-pin-length must be {low} to {high} (got {given})").format(
            low=MANAGER_PIN_LENGTHS[0], high=MANAGER_PIN_LENGTHS[-1], given=args.manager_pin_length),
            translated=True)
    lengths = pin_lengths(args.manager_pin_length)
    try:
        authority = read_authority_key(args.key)
        issued = IssueLog.beside(args.key)
        serial = issued.next_serial(election.hash, args.serial)
    except AuthorityKeyError as exc:
        raise UserError(str(exc)) from None
    out = Path(args.out)
    pins_file = out.with_name(out.name + ".pins.csv")
    staff = _read_staff(args.staff)
    generated = [(sid, role, generate_pin(length=lengths[role])) for sid in sorted(election.stations) for role in ROLES
                 if role not in staff.get(sid, {})]
    if generated and pins_file.exists():
        raise UserError(_("{pins_file} already exists: refusing to overwrite the PINs handed out").format(
            pins_file=pins_file), translated=True)
    for sid, role, pin in generated:
        staff.setdefault(sid, {})[role] = pin
    languages = [x.strip() for x in args.languages.split(",") if x.strip()]
    try:
        build_package(election, rolls, authority, out, units=_read_units(args.units), staff_pins=staff,
                      languages=languages, mode=args.mode, serial=serial,
                      manager_pin_length=args.manager_pin_length,
                      pin_cost="simulation" if args.mode == "simulation" else "device")
    except PackageBuildError as exc:
        raise UserError(str(exc)) from None
    from device.election.package import load_package
    summary = load_package(out, authority.public_key_hex()).summary()
    try:
        issued.record(election.hash, election.id, serial, summary["sha256"])
    except AuthorityKeyError as exc:
        out.unlink()
        raise UserError(str(exc)) from None
    if generated:
        lines = ["station_id,role,pin"] + [",".join(g) for g in generated]
        write_secret_file(pins_file, "\n".join(lines) + "\n")
    summary.update(package=str(out), generated_pins_file=str(pins_file) if generated else None)
    unregistered = [s for s, info in summary["stations"].items() if not info["units"]]
    text = [f"wrote {out} (serial {serial}, identity sha256 {summary['sha256']})",
            f"election {summary['election_id']} ({summary['election_hash'][:16]}), mode {args.mode}, "
            f"{len(summary['stations'])} station(s)"]
    if generated:
        text.append(f"{len(generated)} generated PIN(s) in {pins_file} (mode 0600): hand them out "
                    f"sealed, then delete the file")
    if unregistered:
        text.append(f"warning: no unit is registered for {', '.join(unregistered)}")
    _print(args, summary, "\n".join(text))
    return 0


def run_verify(args: argparse.Namespace) -> int:
    from device.election.authority import AuthorityKeyError, read_public_key
    from device.election.package import PackageError, load_package
    if not Path(args.package).is_file():  # a missing input is bad input (exit 2), not a refusal
        raise no_such_file(args.package)
    try:
        anchor = read_public_key(args.authority)
    except AuthorityKeyError as exc:
        raise UserError(str(exc)) from None
    try:
        summary = load_package(args.package, anchor).summary()
    except PackageError as exc:
        _print(args, {"ok": False, "package": args.package, "reason": exc.reason, "message": str(exc)},
               str(exc))
        return 1
    _print(args, {"ok": True, "package": args.package, **summary},
           f"{args.package}: OK, signed by {anchor[:16]}...; election {summary['election_id']}, "
           f"mode {summary['mode']}, sha256 {summary['sha256']}")
    return 0
