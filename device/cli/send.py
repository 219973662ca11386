"""``ballotbox device send --store unit.db --central URL [--role R] [--pin-stdin]``: deliver the outbox.

Sending is an operator's act (``send_results`` in ``device/station/roles.py``: the poll worker
or the election manager): the command asks the PIN of ``--role`` (default the poll worker;
``--pin-stdin`` reads it from standard input, ``device/cli/pin.py``) and the login is journaled
with the role before anything is sent. ``--status`` only reads the outbox and needs no PIN.

Posts every pending signed message in the unit store's outbox (``device/store/outbox.py``) to
the central tally and retries with backoff until each is decided or ``--wait`` seconds have
passed; what is still pending says when its next try is due (the backoff is kept in the store,
between runs; ``--now`` tries at once). A refused message is not sent again unless
``--retry-refused`` (after fixing the cause: the URL, the unit's registration).
``--status`` only lists the outbox. A unit whose ``unit.toml`` names the central tally sends by
itself while it runs (``device/unit/uploads.py``). Exit status: 0 when everything is delivered, 1 when
a message was refused or is still pending or the PIN was refused, 2 on bad input (no such
store, bad URL, no PIN given).
"""
from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from device.cli.main import UserError, no_such_file
from device.i18n import N_, _
from device.cli.pin import add_pin_options, refused, store_clock, unit_login
from device.cli.unit_store import add_mirror_option, open_unit_store
from device.station.roles import POLICY, AccessDenied


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "send", help="send the unit's signed results to the central tally (retrying)",
        description="Send the signed messages waiting in the unit store's outbox to the central "
                    "tally, retrying with backoff until each is accepted or refused.")
    p.add_argument("--store", required=True, metavar="DB", help="the unit store (SQLite file)")
    add_mirror_option(p)
    p.add_argument("--central", metavar="URL", help="the central tally's base URL (http://...)")
    p.add_argument("--wait", type=float, default=120.0, metavar="SECONDS",
                   help="keep retrying for up to this long (default 120; 0 = one attempt each)")
    p.add_argument("--now", action="store_true",
                   help="try every pending message at once, even if its next try is later")
    p.add_argument("--retry-refused", action="store_true",
                   help="send refused messages again (after fixing what was refused, e.g. the URL)")
    p.add_argument("--status", action="store_true", help="only list the outbox")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    add_pin_options(p, POLICY["send_results"])
    p.set_defaults(func=run_send)


def _outcome(outbox) -> tuple[int, dict]:
    items = outbox.items()
    counts = {s: sum(1 for i in items if i.state == s) for s in ("delivered", "refused", "pending")}
    code = 0 if counts["refused"] == counts["pending"] == 0 else 1
    return code, {"ok": code == 0, **counts, "messages": [i.to_json() for i in items]}


def _next_try(m: dict) -> str:
    if m["state"] == "refused":
        return "; not tried again unless --retry-refused"
    if m["state"] != "pending":
        return ""
    at = time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(m["next_attempt_at"]))
    wait = max(0, round(m["next_attempt_at"] - time.time()))
    return f"; next try at {at} (in {wait} s; --now tries at once)"


def _login(args: argparse.Namespace) -> int | None:
    """Log the operator in on the unit's store (journaled); the refusal's exit status, or None."""
    store = open_unit_store(args.store, args.mirror)
    try:
        unit_login(store, args, "send_results", store_clock(store)).logout()
    except AccessDenied as exc:
        return refused(args, exc)
    finally:
        store.close()
    return None


def run_send(args: argparse.Namespace) -> int:
    import httpx

    from device.store.journal import StoreWriteError
    from device.store.outbox import Outbox, OutboxSender

    try:
        if not Path(args.store).is_file():
            raise no_such_file(args.store, N_("the unit store"))
        if not args.status and not (args.central or "").startswith(("http://", "https://")):
            raise UserError(_("--central must be an http:// or https:// URL"), translated=True)
        if args.wait < 0:
            raise UserError(_("--wait must be 0 or more seconds"), translated=True)
        if not args.status:
            denied = _login(args)
            if denied is not None:
                return denied
        outbox = Outbox(args.store)
    except (UserError, StoreWriteError) as exc:
        if args.json:
            print(json.dumps({"ok": False, "error": str(exc)}, ensure_ascii=False))
            return 2
        raise UserError(str(exc), translated=getattr(exc, "translated", False)) from None
    with outbox:
        if not args.status:
            if args.retry_refused:
                outbox.retry_refused(time.time())
            with httpx.Client() as client:
                sender = OutboxSender(outbox, args.central, client=client, clock=time.time)
                for a in sender.run(time.time() + args.wait, time.sleep, ignore_backoff=args.now):
                    if not args.json:
                        print(f"message {a.item_id}: {a.state} ({a.detail})")
        code, summary = _outcome(outbox)
    if args.json:
        print(json.dumps(summary, indent=1, ensure_ascii=False))
    else:
        print(f"outbox: {summary['delivered']} delivered, {summary['refused']} refused, "
              f"{summary['pending']} pending")
        for m in summary["messages"]:
            if m["state"] != "delivered":
                why = f"after {m['attempts']} attempt(s): {m['last_detail']}" if m["attempts"] else "not sent yet"
                print(f"  message {m['id']} (station {m['station']}, sequence {m['sequence']}): "
                      f"{m['state']}, {why}{_next_try(m)}")
    return code
