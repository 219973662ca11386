"""Operator PINs on the command line: the one way ``device load | unload | export | send`` ask.

API::

    add_pin_options(parser, roles)      # --pin-stdin, and --role when more than one role may act
    read_pin(args, role) -> str         # standard input (--pin-stdin) or the terminal (getpass)
    refused(args, exc) -> 1             # print a refusal (plain or JSON): exit status 1
    unit_login(store, args, action, clock) -> StationAccess   # logged in, ``action`` permitted
    store_clock(store) -> clock         # the wall clock, never before the journal's last record

``--pin-stdin`` reads one line (``echo 135790 | ballotbox device export ... --pin-stdin``).
Without it the PIN is asked on the terminal without echo; with no terminal either, the command
stops with exit 2 (it never waits for a PIN no one can type). An empty PIN is bad input (exit
2, nothing journaled); a wrong one is a refusal (exit 1) journaled as ``pin_rejected`` and
counted towards the role's lockout, which survives restarts (``device/station/roles.py``).

Whose PINs: the staff of the election package loaded into the unit
(``device/station/provisioning.py``). A store that was never provisioned with an authority's
key is not a unit's: a simulator's store keeps its simulated staff's PIN hashes under
``STORE_STAFF_META`` (``sim/unit/access.py``). A provisioned unit never reads them.
"""
from __future__ import annotations

import argparse
import getpass
import json
import sys
import time
from typing import Any, Callable

from device.cli.main import UserError
from device.i18n import N_, _
from device.station.roles import POLICY, AccessDenied, StationAccess, role_label

STORE_STAFF_META = "staff"  # role -> PIN hash (JSON) of a store that holds no package
REFUSED = N_("refused ({reason}): {message}")


def add_pin_options(parser: argparse.ArgumentParser, roles: tuple[str, ...]) -> None:
    parser.add_argument("--pin-stdin", action="store_true",
                        help="read the PIN from the first line of standard input")
    if len(roles) > 1:
        parser.add_argument("--role", choices=roles, default=roles[0],
                            help=f"whose PIN is given (default {roles[0]})")


def read_pin(args: argparse.Namespace, role: str) -> str:
    if args.pin_stdin:
        pin = sys.stdin.readline().strip()
    elif sys.stdin.isatty():
        pin = getpass.getpass(_("{role} PIN: ").format(role=role_label(role).capitalize())).strip()
    else:
        raise UserError(_("the {role}'s PIN is needed: give it on standard input with --pin-stdin").format(
            role=role_label(role)), translated=True)
    if not pin:
        raise UserError(_("no PIN given: the {role}'s PIN is needed").format(role=role_label(role)),
                        translated=True)
    return pin


def refused(args: argparse.Namespace, exc: Exception) -> int:
    """Print a refusal: its text, after "refused (reason):" unless the text names the reason. An
    ``AccessDenied`` says it in the chosen language (an operator message), so the prefix is too."""
    reason = getattr(exc, "reason", "refused")
    prefix = _(REFUSED) if isinstance(exc, AccessDenied) else REFUSED
    print(json.dumps({"ok": False, "reason": reason, "message": str(exc)}) if args.json else
          prefix.format(reason=reason, message=exc) if reason not in str(exc) else str(exc))
    return 1


def store_clock(store: Any) -> Callable[[], float]:
    last_at = max((r.at for r in store.events()), default=0.0)
    return lambda: max(time.time(), last_at)


def _staff(store: Any, action: str) -> tuple[dict[str, str], str]:
    """(role -> PIN hash, where from: a msgid) for the unit in ``store``: its loaded package's staff; to
    send the results still in the outbox after an unload, the staff of the package unloaded."""
    from device.election.package import PackageError
    from device.station.provisioning import ProvisioningError, current_package, trust_anchor
    try:
        loaded = current_package(store)
        anchor = trust_anchor(store)
    except (PackageError, ProvisioningError) as exc:
        raise UserError(str(exc)) from None
    if loaded is not None:
        return loaded.package.staff(loaded.station_id), N_("the loaded election package")
    if anchor is not None and action == "send_results":
        staff = _unloaded_staff(store, anchor)
        if staff is not None:
            return staff, N_("the unloaded election package")
    if anchor is None:
        raw = store.read_meta(STORE_STAFF_META)
        if raw is not None:
            return json.loads(raw), N_("the simulated staff")
    return {}, N_("no election package is loaded")


def _unloaded_staff(store: Any, anchor: str) -> dict[str, str] | None:
    """The staff of the package last unloaded (kept in the store, verified again), if any."""
    from device.election.package import PackageError, load_package_bytes
    from device.station.provisioning import PACKAGE_META
    events = [r for r in store.events() if r.type in ("package_loaded", "package_unloaded")]
    if not events or events[-1].type != "package_unloaded":
        return None
    loaded = next(r.data for r in reversed(events) if r.type == "package_loaded")
    raw = store.read_meta(PACKAGE_META + loaded["sha256"])
    try:
        pkg = load_package_bytes(raw, anchor, "the unloaded package") if raw is not None else None
    except PackageError as exc:
        raise UserError(f"the unloaded package kept in the store: {exc}") from None
    return pkg.staff(loaded["station"]) if pkg is not None and pkg.sha256 == loaded["sha256"] else None


def unit_login(store: Any, args: argparse.Namespace, action: str,
               clock: Callable[[], float]) -> StationAccess:
    """Log the role of ``args`` (``--role``, else the action's only role) into the unit's access
    with its PIN and check it may take ``action``: ``AccessDenied`` otherwise (journaled)."""
    from device.station.provisioning import station_access
    role = getattr(args, "role", None) or POLICY[action][0]
    staff, source = _staff(store, action)
    if role not in staff:
        raise AccessDenied("no_pin", _no_pin_message(role, source))
    access = station_access(store, staff, clock)
    access.login(role, read_pin(args, role))
    access.require(action)
    return access


def _no_pin_message(role: str, source: str):
    from device.station.events import OperatorMessage
    return OperatorMessage("role_has_no_pin", "error", _("{source}: the {role} has no PIN on this unit, so "
                                                         "it cannot act").format(source=_(source), role=role_label(role)))
