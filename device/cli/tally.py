"""``ballotbox tally seats``: allocate seats by hand, to check a published result.

Example (Teuk La'ak I, 11 seats):
    ballotbox tally seats --method dhondt --seats 11 --votes CPP=5378 CP=1610 --json
"""
from __future__ import annotations

import argparse
import json

from device.cli.main import UserError
from device.i18n import _
from device.results.seats import METHOD_ALIASES, METHODS, SeatAllocationError, allocate_seats


def register(subparsers) -> None:
    p = subparsers.add_parser("seats", help="allocate seats from vote counts (D'Hondt, Sainte-Laguë, "
                                            "largest remainder with the Hare quota)",
                              description="Allocate seats among parties from their vote counts. Ties "
                                          "at the last seat are broken by a seeded lot (--lot-seed), "
                                          "reported in the output.")
    p.add_argument("--method", choices=METHODS + tuple(METHOD_ALIASES), default="dhondt",
                   help="allocation method (default dhondt); largest-remainder uses the Hare quota "
                        "(votes / seats), and 'hare' is another name for it")
    p.add_argument("--seats", type=int, required=True, help="seats to allocate (>= 1)")
    p.add_argument("--votes", nargs="+", required=True, metavar="PARTY=VOTES",
                   help="votes per party, e.g. CPP=5378 CP=1610")
    p.add_argument("--threshold", type=float, default=0.0,
                   help="share of valid votes needed for any seat, e.g. 0.05 (default 0)")
    p.add_argument("--lot-seed", type=int, default=0, help="seed of the lot that breaks ties (default 0)")
    p.add_argument("--json", action="store_true", help="print the allocation as JSON")
    p.set_defaults(func=run_seats)


def parse_votes(items: list[str]) -> dict[str, int]:
    votes: dict[str, int] = {}
    for item in items:
        party, sep, count = item.partition("=")
        if not sep or not party:
            raise UserError(_("--votes {item}: expected PARTY=VOTES").format(item=repr(item)), translated=True)
        if party in votes:
            raise UserError(_("--votes: party {party} given twice").format(party=repr(party)), translated=True)
        try:
            n = int(count)
        except ValueError:
            raise UserError(_("--votes {item}: {count} is not a whole number").format(
                item=repr(item), count=repr(count)), translated=True) from None
        if n < 0:
            raise UserError(_("--votes {item}: votes cannot be negative").format(item=repr(item)),
                            translated=True)
        votes[party] = n
    return votes


def _seats(n: int, width: int = 0) -> str:
    return f"{n:>{width}} seat" + ("" if n == 1 else "s")


def run_seats(args: argparse.Namespace) -> int:
    votes = parse_votes(args.votes)
    try:
        alloc = allocate_seats(votes, args.seats, args.method, args.threshold, args.lot_seed)
    except SeatAllocationError as exc:
        raise UserError(str(exc)) from None
    if args.json:
        print(json.dumps(alloc.to_json(), indent=1))
        return 0
    total = sum(votes.values())
    print(f"{alloc.method}: {_seats(args.seats)}, {total} valid votes")
    for party, n in sorted(alloc.seats.items(), key=lambda kv: (-kv[1], -votes[kv[0]])):
        print(f"  {party:<20} {votes[party]:>12}  {_seats(n, width=3)}")
    for tie in alloc.ties:
        print(f"  tie for {_seats(tie.seats_at_stake)} among {', '.join(tie.contenders)}: "
              f"lot (seed {args.lot_seed}) gave {', '.join(tie.winners)}")
    return 0
