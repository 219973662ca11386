"""``ballotbox device provision | load | unload``: set up a unit and give it an election.

- ``device provision --store unit.db --authority PUB [--unit-key FILE]``: write the trust anchor
  and the unit's key into the store (once); prints the unit's public key for the authority's
  unit registry. ``--unit-key FILE`` keeps the unit key in a file (mode 0600, created when
  absent), so a new store for the next election keeps the registered key.
- ``device load --store unit.db --package PKG [--station ID]``: verify and load a package;
  asks for the election manager's PIN (``--pin-stdin`` reads it from standard input).
- ``device unload --store unit.db``: unload it (election manager): only before the polls ever
  opened, or once they are closed and exported; refused otherwise (``polls_open``,
  ``not_exported``), so a package cannot be swapped mid-day. Signed results still in the outbox
  stay there: ``device send`` delivers them afterwards, with a PIN of the unloaded package's staff.
Exit status: 0 done, 1 refused (the reason is named), 2 bad input. ``--json`` on each.
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from device.cli.main import UserError
from device.cli.unit_store import add_mirror_option, open_unit_store
from device.cli.pin import add_pin_options, read_pin, refused
from device.i18n import N_, _
from device.station.roles import ELECTION_MANAGER


def register(subparsers) -> None:
    p = subparsers.add_parser("provision", help="give a unit its trust anchor and unit key (once)",
                              description="Write the election authority's public key (the unit's "
                                          "trust anchor) and the unit's Ed25519 key into its store.")
    p.add_argument("--store", required=True, metavar="unit.db", help="the unit's SQLite store")
    add_mirror_option(p)
    p.add_argument("--authority", required=True, metavar="PUB", help="authority.pub or its hex")
    p.add_argument("--unit-key", metavar="FILE", help="unit private key file (0600; created if absent)")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.set_defaults(func=run_provision)
    for name, text in (("load", "verify and load a signed election package"),
                       ("unload", "unload the election package (election manager)")):
        c = subparsers.add_parser(name, help=text, description=text + "; asks the election "
                                  "manager's PIN. Exit 1 naming the reason when refused." + (
                                      "" if name == "load" else " Allowed only before the polls "
                                      "ever opened, or once they are closed and exported."))
        c.add_argument("--store", required=True, metavar="unit.db", help="the unit's SQLite store")
        add_mirror_option(c)
        if name == "load":
            c.add_argument("--package", required=True, metavar="PKG", help="the election package")
            c.add_argument("--station", metavar="ID", help="station to serve (default: the one this "
                                                          "unit is registered for)")
        add_pin_options(c, (ELECTION_MANAGER,))
        c.add_argument("--json", action="store_true", help="print one JSON object")
        c.set_defaults(func=run_load if name == "load" else run_unload)


def _open_store(args: argparse.Namespace, must_exist: bool = True):
    if not must_exist:
        _folder_exists(args.store, N_("no such folder {folder} for the unit store {path} (create it first)"))
    return open_unit_store(args.store, args.mirror, must_exist=must_exist)


def _folder_exists(path: str, missing: str) -> None:
    """``missing``: the message (a msgid with ``{folder}`` and ``{path}``) when the folder is not there."""
    folder = Path(path).parent
    if not folder.is_dir():
        raise UserError(_(missing).format(folder=folder, path=path), translated=True)


def _unit_key(path: str | None):
    from device.election.authority import (AuthorityKeyError, private_key_text, read_private_key_bytes,
                                           write_secret_file)
    from device.store.signing import UnitSigner
    if path is None:
        return None
    _folder_exists(path, N_("no such folder {folder} for the unit key file {path} (create it first)"))
    p = Path(path)
    try:
        if p.exists():
            return UnitSigner.from_private_bytes(read_private_key_bytes(p, "unit private key"))
        key = UnitSigner.generate()
        write_secret_file(p, private_key_text(key.private_bytes().hex()))
        return key
    except (AuthorityKeyError, OSError) as exc:
        raise UserError(str(exc)) from None


def run_provision(args: argparse.Namespace) -> int:
    from device.election.authority import AuthorityKeyError, read_public_key
    from device.station.provisioning import ProvisioningError, provision_unit
    try:
        anchor = read_public_key(args.authority)
    except AuthorityKeyError as exc:
        raise UserError(str(exc)) from None
    key = _unit_key(args.unit_key)
    store = _open_store(args, must_exist=False)
    try:
        unit = provision_unit(store, anchor, key)
    except ProvisioningError as exc:
        raise UserError(str(exc)) from None
    finally:
        store.close()
    out = {"store": args.store, "authority": anchor, "unit_public_key": unit}
    print(json.dumps(out, indent=1) if args.json else
          f"{args.store}: provisioned; trusts authority {anchor[:16]}...\n"
          f"unit public key (for the authority's unit registry): {unit}")
    return 0


def _pin(args: argparse.Namespace) -> str:
    return read_pin(args, ELECTION_MANAGER)


def _on_unit_store(args: argparse.Namespace, action):
    """Run ``action(store)`` on the unit's store and close it. A request that cannot be made is a
    ``UserError`` (exit 2); a package or PIN the unit refuses is printed and gives ``None``."""
    from device.election.package import PackageError
    from device.station.provisioning import ProvisioningError, UnloadRefused
    from device.station.roles import AccessDenied
    store = _open_store(args)
    try:
        return action(store)
    except (PackageError, AccessDenied, UnloadRefused) as exc:
        refused(args, exc)
        return None
    except ProvisioningError as exc:
        raise UserError(str(exc)) from None
    finally:
        store.close()


def run_load(args: argparse.Namespace) -> int:
    from device.station.provisioning import load_into_unit
    loaded = _on_unit_store(args, lambda store: load_into_unit(
        store, args.package, clock=time.time, pin=_pin(args), station_id=args.station))
    if loaded is None:
        return 1
    out = {"ok": True, "sha256": loaded.sha256, "election_id": loaded.election.id,
           "station": loaded.station_id, "mode": loaded.package.mode, "voters": len(loaded.roll)}
    print(json.dumps(out, indent=1) if args.json else
          f"loaded election {out['election_id']} for station {out['station']} ({out['voters']} "
          f"voters, mode {out['mode']}); package sha256 {out['sha256']}")
    return 0


def run_unload(args: argparse.Namespace) -> int:
    from device.station.provisioning import unload_from_unit
    sha = _on_unit_store(args, lambda store: unload_from_unit(store, clock=time.time, pin=_pin(args)))
    if sha is None:
        return 1
    from device.store.outbox import Outbox
    with Outbox(args.store) as outbox:
        waiting = len(outbox.items("pending")) + len(outbox.items("refused"))
    print(json.dumps({"ok": True, "unloaded": sha, "results_not_sent": waiting}) if args.json else
          f"unloaded package {sha}")
    if waiting and not args.json:
        print(f"{waiting} signed result(s) not yet sent to the central tally: the unloaded package's "
              f"staff may still send them ('ballotbox device send --store {args.store} --central URL')")
    return 0
