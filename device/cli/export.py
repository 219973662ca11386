"""``ballotbox device export --store DB --out DIR [--pin-stdin]``: the unit's records for auditors.

The election manager's job: the command asks the election manager's PIN (``--pin-stdin`` reads
it from standard input, ``device/cli/pin.py``), the unit's access checks the role may
``export`` (``device/station/roles.py``) and the role is journaled with ``export_written``. A
missing or wrong PIN writes nothing but the refusal in the journal.

Opens the unit's SQLite database, appends a signed ``export`` checkpoint to its journal and
writes the export folder described in ``device/results/exports.py`` (journal, cast vote records,
results, public key, signatures, NIST SP 1500-100/101/103 files, Arlo ballot manifest).
The election definition is found among the bundled ones by the hash the unit loaded, or given
with ``--election``. Exit status: 0 exported, 1 refused (wrong PIN, role locked, no PIN for the
role), 2 bad input (no store, no key, no PIN given, wrong election, folder already used).
"""
from __future__ import annotations

import argparse
import json
import sys

from device.cli.main import UserError
from device.cli.pin import add_pin_options, refused, store_clock, unit_login
from device.cli.unit_store import add_mirror_option, open_unit_store
from device.i18n import _
from device.station.roles import POLICY, AccessDenied


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "export", help="export the unit's journal, records, results and signatures for auditors",
        description="Write the unit's export folder: journal (JSON lines), cast vote records, "
                    "results, public key, signatures, NIST common-data-format files and the "
                    "Arlo ballot manifest. Appends a signed 'export' checkpoint to the journal.")
    p.add_argument("--store", required=True, metavar="DB", help="the unit's SQLite database")
    add_mirror_option(p)
    p.add_argument("--out", required=True, metavar="DIR", help="folder to write (must not hold an export)")
    p.add_argument("--election", help="election name or JSON file (default: the bundled election "
                                      "whose hash the unit loaded)")
    p.add_argument("--json", action="store_true", help="print a JSON summary")
    add_pin_options(p, POLICY["export"])
    p.set_defaults(func=run_export)


def _election_for(store, records, name: str | None):
    """(election, station or None): --election, else the election and station of the package
    loaded into the unit, else the named election whose hash the unit's journal names."""
    from device.election.definition import load_election, named_elections
    from device.election.package import PackageError
    from device.station.provisioning import ProvisioningError, current_package
    if name:
        return load_election(name), None
    try:
        loaded = current_package(store)
    except (PackageError, ProvisioningError):
        loaded = None
    if loaded is not None:
        return loaded.election, loaded.station_id
    wanted = next((r.data.get("election_hash") for r in records
                   if r.type in ("load_election", "package_loaded")), None)
    if wanted is None:
        raise UserError(_("the unit never loaded an election; give --election"), translated=True)
    for name in named_elections():
        election = load_election(name)
        if election.hash == wanted:
            return election, None
    raise UserError(_("no named election has hash {hash}...; give --election FILE").format(hash=wanted[:16]),
                    translated=True)


def _polls_still_open(records) -> bool:
    last = next((r.type for r in reversed(records) if r.type in ("open_polls", "reopen_polls", "close_polls")),
                None)
    return last in ("open_polls", "reopen_polls")


def run_export(args: argparse.Namespace) -> int:
    from device.results.exports import ExportError, export_unit
    from device.store.signing import KEY_META, provision
    from device.store.journal import StoreWriteError

    store = open_unit_store(args.store, args.mirror)
    try:
        if store.read_meta(KEY_META) is None:
            raise UserError(_("{store} holds no unit key: the unit was never provisioned").format(store=args.store),
                            translated=True)
        records = list(store.events())
        election, station = _election_for(store, records, args.election)
        if _polls_still_open(records):  # said before exporting: an audit would find no signed close
            print(_("the polls are still open: this export has no signed close (an audit replay "
                    "will say so); close the polls for the final export"), file=sys.stderr)
        clock = store_clock(store)  # journal times never go back
        access = unit_login(store, args, "export", clock)
        summary = export_unit(store, election, args.out, provision(store), station_id=station,
                              at=clock(), role=access.require("export"))
        access.logout()
    except AccessDenied as exc:
        return refused(args, exc)
    except (ExportError, StoreWriteError) as exc:
        raise UserError(str(exc)) from None
    finally:
        store.close()
    if args.json:
        print(json.dumps(summary, indent=1))
    else:
        print(_("exported {journal} journal records and {cvrs} cast vote records of station "
                "{station} to {out}").format(journal=summary["journal_records"],
                                            cvrs=summary["cast_vote_records"],
                                            station=summary["station"], out=summary["out"]))
        print(_("unit public key: {key}").format(key=summary["public_key"]))
    return 0
