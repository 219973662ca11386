"""``ballotbox sim peripherals``: the peripheral twins on loopback TCP ports, to poke at by hand.

Starts the scanner controller, document reader and printer twins, each on its own port
(``--listen HOST:PORT`` is the scanner; the reader and printer take the next two ports), prints
how to reach them, and runs until Ctrl-C. A sheet can be put at the scanner entry and a
document presented by typing on stdin (``sheet NAME``, ``mrz LINE1/LINE2[/LINE3]``,
``card PAYLOAD``). Slips the printer receives are written to ``--out`` as text and PNG.
"""
from __future__ import annotations

import random
import sys


def register(subparsers) -> None:
    p = subparsers.add_parser(
        "peripherals", help="serve the peripheral twins on loopback TCP for manual testing",
        description=__doc__)
    p.add_argument("--listen", default="127.0.0.1:7000",
                   help="HOST:PORT of the scanner twin; reader and printer use PORT+1, PORT+2")
    p.add_argument("--profile", help="behaviour profile: a bundled name (clean, noisy) or a JSON file")
    p.add_argument("--seed", type=int, default=1, help="seed of the twins' faults (default 1)")
    p.add_argument("--out", default="printed-slips", help="directory for printed slips")
    p.set_defaults(func=run)


def run(args) -> int:
    from device.cli.main import UserError
    from sim.full_fidelity import TwinWorld, build_twins
    from sim.twins.endpoints import TcpEndpoint
    from sim.twins.profile import ProfileError, load_profile

    host, _, port_text = args.listen.rpartition(":")
    if not host or not port_text.isdigit():
        raise UserError(f"--listen must be HOST:PORT, got {args.listen!r}")
    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        raise UserError(str(exc)) from None
    scanner, reader, printer = build_twins(profile, random.Random(args.seed), None, args.out)
    world = TwinWorld(scanner, reader, printer)
    endpoints = []
    try:
        for offset, twin in enumerate((scanner, reader, printer)):
            endpoints.append(TcpEndpoint(twin, host, int(port_text) + offset))
    except OSError as exc:
        for e in endpoints:
            e.close()
        raise UserError(f"cannot listen on {host}:{int(port_text) + len(endpoints)}: {exc}") from None
    s, r, p = (e.url for e in endpoints)
    print(f"scanner twin   {s}   open_peripheral('scanner', '{s}')  (framed link, docs/protocol.md)")
    print(f"document reader {r}  open_peripheral('id_reader', '{r}')")
    print(f"printer        {p}   open_peripheral('printer', '{p}'); slips -> {args.out}/")
    print("stdin: 'sheet NAME' | 'mrz L1/L2[/L3]' | 'card PAYLOAD' | 'jam' ; Ctrl-C stops", flush=True)
    try:
        for line in sys.stdin:
            verb, _, rest = line.strip().partition(" ")
            if verb == "sheet":
                world.insert_sheet(rest or "sheet")
            elif verb == "mrz":
                world.present_document("mrz", rest.replace("/", "\n"))
            elif verb == "card":
                world.present_document("barcode", rest)
            elif verb == "jam":
                world.operator_removes_jammed_sheet()
            elif verb:
                print(f"unknown input {verb!r}", file=sys.stderr)
    except KeyboardInterrupt:
        pass
    finally:
        for e in endpoints:
            e.close()
    print(f"stopped; {len(printer.slips)} slip(s) printed, {len(scanner.box)} sheet(s) in the box")
    return 0
