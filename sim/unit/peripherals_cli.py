"""``ballotbox sim peripherals``: the peripheral twins on loopback ports, to poke at by hand.

Starts the scanner controller, document reader and printer twins, each on its own TCP port
(``--listen HOST:PORT`` is the scanner; the reader and printer take the next two ports), and
the camera twin — showing the sheet in the scanner's path — as a network camera on the port
after (``GET /frame.png``), then the fingerprint sensor's twin. It prints how to reach each, then takes the simulated world's
actions as lines on stdin (``VERBS``), answering each with one line; it runs until Ctrl-C, also
after stdin is closed. Slips the printer receives are written to ``--out`` as text and PNG.
"""
from __future__ import annotations

import argparse
import random
import signal
import sys
import threading
from pathlib import Path

# verb -> (argument, what it does); the --help text and the prompt are made from this table
VERBS = {
    "sheet": ("NAME|FILE", "put a sheet at the scanner entry: a ballot style of --election, "
                           "rendered and marked by a random voter, or an image file"),
    "mrz": ("L1/L2[/L3]", "hold an ID document with this machine-readable zone to the reader"),
    "card": ("PAYLOAD", "hold a voter card with this barcode payload to the reader"),
    "jam": ("", "the sheet at the entry or in the path jams (the transport reports JAM)"),
    "clear": ("", "an operator opens the cover and takes the jammed sheet out (the host then "
                  "sends RESET)"),
    "take": ("", "the voter takes back the sheet the scanner returned"),
    "status": ("", "what is where: entry, path, box, invalid compartment, slips printed"),
    "finger": ("NAME", "the finger on the fingerprint sensor: genuine (the enrolled voter's), "
                       "impostor (another person's), wet, dry, partial (the voter's, pressed "
                       "badly) or none"),
    "sensor": ("FAULT", "the fingerprint sensor's line: checksum (its next answer corrupted), "
                        "garbage (noise before its next answer), silent, wake, power-cut"),
}
SENSOR_FAULTS = {"checksum": "corrupt_next_answer", "silent": "go_silent", "wake": "wake",
                 "power-cut": "power_cut"}


def _verbs_help() -> str:
    import textwrap

    return "stdin verbs (one per line):\n" + "\n".join(
        textwrap.fill(text, 78, initial_indent=f"  {verb + ' ' + arg if arg else verb:<17} ",
                      subsequent_indent=" " * 20) for verb, (arg, text) in VERBS.items())


DESCRIPTION = """\
Run the unit's peripherals as simulated twins on loopback ports, so that a unit (or you, by
hand) can talk to them with no hardware: the ballot box's scanner, the ID document reader and
the slip printer each listen on a TCP port, and the camera that looks at the scanner's path is
a network camera (GET /frame.png) on the next port; the ID desk's fingerprint sensor takes the
port after. The command prints each one's URL, ready
for the [peripherals] table of a unit.toml, e.g.

    scanner = "socket://127.0.0.1:7000"
    id_reader = "socket://127.0.0.1:7001"
    printer = "socket://127.0.0.1:7002"
    camera = "http://127.0.0.1:7003/frame.png"
    fingerprint = "socket://127.0.0.1:7004"

Then type what happens in front of the unit, one line at a time (the verbs below): a voter
shows a card, inserts a marked ballot, the paper jams... Each line gets a one-line answer.
It runs until Ctrl-C, also after the input ends. Slips the printer receives are written to
--out as text and PNG.

A voter card's payload is the card's prefix and the voter's document number from the roll,
e.g. "card BBV1:{example}" for document number {example}."""


def register(subparsers) -> None:
    from device.election.identity import BARCODE_PREFIX

    p = subparsers.add_parser(
        "peripherals", help="serve the peripheral twins on loopback TCP for manual testing",
        description=DESCRIPTION.replace("BBV1:", BARCODE_PREFIX).format(example="KH0000001"),
        epilog=_verbs_help(), formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--listen", default="127.0.0.1:7000",
                   help="HOST:PORT of the scanner twin; reader, printer, camera and fingerprint "
                        "sensor use PORT+1, PORT+2, PORT+3, PORT+4")
    p.add_argument("--election", default="demo",
                   help="election whose ballot styles 'sheet NAME' renders (default demo)")
    p.add_argument("--profile", help="behaviour profile: a bundled name (clean, noisy) or a JSON file")
    p.add_argument("--seed", type=int, default=1, help="seed of the twins' faults and the voters' marks")
    p.add_argument("--out", default="printed-slips",
                   help="folder for the slips the printer twin prints (default printed-slips)")
    p.set_defaults(func=run)


class ListenSession:
    """The stdin verbs acting on the twins; ``handle(line)`` returns the line to print."""

    def __init__(self, world, election, seed: int, fingerprint=None) -> None:
        from sim.paper.image_paper import ImagePaper

        self.world, self.election, self.fingerprint = world, election, fingerprint
        self.paper = ImagePaper(election, distortion="clean")
        self.rng = random.Random(f"{seed}:marks")

    def handle(self, line: str) -> str:
        verb, _, rest = line.strip().partition(" ")
        rest = rest.strip()
        if verb not in VERBS:
            return f"unknown verb {verb!r}; verbs: {', '.join(VERBS)}"
        return getattr(self, f"_{verb}")(rest)

    def _sheet(self, name: str) -> str:
        import cv2

        if name in self.election.ballot_styles:
            marks = {c.id: tuple(sorted(self.rng.sample(c.choice_ids(), c.vote_for)))
                     for c in self.election.contests_for_style(name)}
            self.world.insert_sheet(self.paper.make_sheet(name, marks, self.rng))
            marked = "; ".join(f"{cid} {', '.join(sel)}" for cid, sel in marks.items())
            return f"ok: ballot {name} at the scanner entry, marked {marked}"
        if name and Path(name).is_file():
            frame = cv2.imread(name, cv2.IMREAD_GRAYSCALE)
            if frame is None:
                return f"error: {name} is not an image"
            self.world.insert_sheet(frame)
            return f"ok: {name} at the scanner entry"
        styles = ", ".join(sorted(self.election.ballot_styles))
        return f"error: {name!r} is neither a ballot style ({styles}) nor an image file"

    def _mrz(self, lines: str) -> str:
        self.world.present_document("mrz", lines.replace("/", "\n"))
        return "ok: document at the reader"

    def _card(self, payload: str) -> str:
        self.world.present_document("barcode", payload)
        return "ok: card at the reader"

    def _jam(self, _: str) -> str:
        if not self.world.scanner.jam_sheet():
            return "error: no sheet at the entry or in the path to jam"
        return "ok: the sheet is jammed in the scan path"

    def _clear(self, _: str) -> str:
        self.world.operator_removes_jammed_sheet()
        sheet, self.world.in_hand = self.world.in_hand, None
        return "ok: jammed sheet taken out" if sheet else "ok: the path was empty"

    def _take(self, _: str) -> str:
        return "ok: sheet taken back" if self.world.take_returned_sheet() is not None \
            else "error: no returned sheet"

    def _finger(self, name: str) -> str:
        try:
            self.fingerprint.place(name)
        except ValueError as exc:
            return f"error: {exc}"
        return f"ok: finger {name} on the fingerprint sensor"

    def _sensor(self, fault: str) -> str:
        if fault == "garbage":
            self.fingerprint.inject_garbage(bytes(self.rng.randrange(256) for _ in range(64)))
        elif fault in SENSOR_FAULTS:
            getattr(self.fingerprint, SENSOR_FAULTS[fault])()
        else:
            return f"error: unknown sensor fault {fault!r} (garbage, {', '.join(SENSOR_FAULTS)})"
        return f"ok: fingerprint sensor {fault}"

    def _status(self, _: str) -> str:
        s = self.world.scanner
        with s.lock:
            return (f"entry {'sheet' if s.entry else 'empty'}, path "
                    f"{'sheet' if s.path else 'empty'}{' (JAMMED)' if s.jammed else ''}, "
                    f"box {len(s.box)}, invalid compartment {len(s.invalid_compartment)}, "
                    f"slips printed {len(self.world.printer.slips)}")


def run(args) -> int:
    from device.cli.main import UserError
    from device.election.definition import load_election
    from device.i18n import _
    from sim.day.full_fidelity import TwinWorld, build_twins
    from sim.twins.camera import CameraHttpEndpoint, VirtualCamera
    from sim.twins.endpoints import TcpEndpoint
    from sim.twins.profile import ProfileError, load_profile

    host, _colon, port_text = args.listen.rpartition(":")
    if not host or not port_text.isdigit():
        raise UserError(_("--listen must be HOST:PORT, got {listen}").format(listen=repr(args.listen)),
                        translated=True)
    try:
        profile = load_profile(args.profile)
    except ProfileError as exc:
        raise UserError(str(exc)) from None
    election = load_election(args.election)
    rng = random.Random(args.seed)
    scanner, reader, printer = build_twins(profile, rng, None, args.out)
    world = TwinWorld(scanner, reader, printer)
    camera = VirtualCamera(scanner, random.Random(rng.getrandbits(64)),
                           profile.faults.dropped_camera_frame_rate)
    from sim.twins.fingerprint import FingerprintTwin
    fingerprint = FingerprintTwin(rng=random.Random(f"{args.seed}:fingerprint"))
    session = ListenSession(world, election, args.seed, fingerprint)
    endpoints = []
    base = int(port_text)
    try:
        for offset, twin in enumerate((scanner, reader, printer)):
            endpoints.append(TcpEndpoint(twin, host, base + offset))
        endpoints.append(CameraHttpEndpoint(camera, host, base + 3))
        endpoints.append(TcpEndpoint(fingerprint, host, base + 4))
    except OSError as exc:
        for e in endpoints:
            e.close()
        raise UserError(f"cannot listen on {host}:{base + len(endpoints)}: {exc}") from None
    s, r, p, c, f = (e.url for e in endpoints)
    print(f"scanner twin    {s}   open_peripheral('scanner', '{s}')  (framed link, docs/protocol.md)")
    print(f"document reader {r}   open_peripheral('id_reader', '{r}')")
    print(f"printer         {p}   open_peripheral('printer', '{p}'); slips -> {args.out}/")
    print(f"camera          {c}   open_peripheral('camera', '{c}')")
    print(f"fingerprint     {f}   open_peripheral('fingerprint', '{f}')  (docs/protocol.md)")
    stop = threading.Event()
    previous = signal.signal(signal.SIGTERM, lambda *_: stop.set())
    # Ctrl-C stops the twins even when they were started where SIGINT is ignored (a shell's
    # background job, a parent that ignores it: the disposition is inherited across exec).
    previous_int = signal.signal(signal.SIGINT, signal.default_int_handler)
    try:  # "Ctrl-C stops" is printed once it is true (a test sends SIGINT as soon as it reads it)
        print(f"stdin verbs: {' | '.join(VERBS)} (see --help); Ctrl-C stops", flush=True)
        for line in sys.stdin:
            if line.strip():
                print(session.handle(line), flush=True)
        print("stdin closed; the twins keep running until Ctrl-C", flush=True)
        while not stop.wait(3600):
            pass
    except KeyboardInterrupt:
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
        signal.signal(signal.SIGINT, previous_int)
        for e in endpoints:
            e.close()
    print(f"stopped; {len(printer.slips)} slip(s) printed, {len(scanner.box)} sheet(s) in the box")
    return 0
