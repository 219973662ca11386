"""Benchmark: the results tape — how many QR codes, how long a tape, how often phone photos read.

For each bundled election: the signed results message of its first station, the number of
codes on the tape (data and parity codes: any ``k`` of the ``k + m`` give the message) and
their QR versions. Then the demo tape, printed through the ESC/POS
driver's bytes and the printer twin: its length, dots per QR module on 80 and 58 mm rolls, and,
photographed at each level of ``sim.paper.tape_photo`` (as many overlapping photos as the tape's
length needs at the level's framing) over seeds 0..49: the share of tapes read in full (the
signed message whole, the parity codes making up for codes not read), of tapes with every code
read, the share of codes read, misreads (a tape read in full whose signature fails: must be 0), codes
read that are not on the tape (must be 0) and the time to read and check one tape (median).
Each level's line says its pixels per mm of tape and per QR module of the printed layout, and
the module contrast its focus blur leaves (``module_contrast``: the ``unreadable`` control keeps
almost none; that level must read nothing wrongly).
"""
from __future__ import annotations

import random
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import segno

from device.audit.tape import read_codes
from device.election.definition import load_election
from device.results.signed_results import (ResultsSignatureError, build_results_message,
                                           sign_results, verify_signed_results)
from device.results.tally import tally_station
from device.results.tape_codes import TapeCodeError, decode_tape, encode_tape
from device.results.tape_parity import PARITY_PREFIX
from device.station.reports import results_slip
from device.store.signing import UnitSigner
from hardware.printer_escpos import slip_bytes
from hardware.slip_raster import DOTS_PER_MM, PAPERS, QR_ERROR, qr_dots
from sim.paper.tape_photo import FRAME_MARGIN, FRAME_MM, LEVELS, load_gray, module_contrast, photos_of, sections
from sim.twins.printer import PrinterTwin

RECONCILIATION = {"checked_in": 412, "cast": 409, "cast_invalid_compartment": 3,
                  "dropped_confirmed": 409, "authorised_unused": 3, "returned": 17,
                  "rejected_by_reason": {"unreadable": 4}, "refused_by_reason": {"not_on_roll": 2}}


def signed_for(election_name: str, signer: UnitSigner):
    election = load_election(election_name)
    station = next(iter(election.stations))
    results = tally_station(election, station, [])
    message = build_results_message(election, station, results, RECONCILIATION, (1234, "ab" * 32),
                                    public_key_hex=signer.public_key_hex(), mode="live", sequence=1)
    return election, station, results, sign_results(message, signer)


def printed_tape(slip, paper_mm: int = 80) -> np.ndarray:
    """The slip as the printer twin prints it from the ESC/POS driver's bytes (one pixel a dot)."""
    with tempfile.TemporaryDirectory() as tmp:
        twin = PrinterTwin(Path(tmp))
        twin.receive(slip_bytes(slip, paper_mm=paper_mm))
        return load_gray(twin.slips[-1].png_path)


def main(quick: bool = False) -> None:
    signer = UnitSigner.generate(random.Random(1))
    print("## tape: results-tape QR codes and phone photos")
    for name in ("demo", "cambodia-2022", "kyrgyzstan-2017"):
        *_, signed = signed_for(name, signer)
        codes = encode_tape(signed)
        versions = [segno.make_qr(c, error=QR_ERROR).version for c in codes]
        parity = sum(c.startswith(PARITY_PREFIX) for c in codes)
        print(f"{name:16s} {len(codes)} codes ({len(codes) - parity} data, {parity} parity: any "
              f"{len(codes) - parity} make the message), QR versions {versions}, "
              f"{sum(len(c.encode()) for c in codes)} bytes")
    election, station, results, signed = signed_for("demo", signer)
    slip = results_slip(election, election.stations[station], results, RECONCILIATION, 0, signed)
    tape = printed_tape(slip)
    qrs = [segno.make_qr(c, error=QR_ERROR) for c in slip.qr_codes]
    section = int(FRAME_MM / FRAME_MARGIN * DOTS_PER_MM)
    photos = len(sections(tape.shape[0], section))
    print(f"demo tape: {tape.shape[0] / DOTS_PER_MM:.0f} mm long on an 80 mm roll "
          f"({printed_tape(slip, 58).shape[0] / DOTS_PER_MM:.0f} mm on 58 mm), "
          f"{qr_dots(qrs, PAPERS[80])} dots per module ({qr_dots(qrs, PAPERS[58])} on 58 mm); "
          f"{photos} photos of {section / DOTS_PER_MM:.0f} mm at the bench's framing")
    dots = qr_dots(qrs, PAPERS[80])
    seeds = 10 if quick else 50
    for level in LEVELS:
        full = every = codes_read = misread = strangers = 0
        times = []
        for seed in range(seeds):
            shots = photos_of(tape, np.random.default_rng(seed), level=level)
            t0 = time.perf_counter()
            got: set[str] = set()
            for photo in shots:
                got |= set(read_codes(photo))
            try:
                verify_signed_results(decode_tape(got), signer.public_key_hex())
                full += 1
            except TapeCodeError:
                pass
            except ResultsSignatureError:
                misread += 1
            times.append(time.perf_counter() - t0)
            codes_read += len(got & set(slip.qr_codes))
            every += set(slip.qr_codes) <= got
            strangers += len(got - set(slip.qr_codes))
        lv = LEVELS[level]
        low, high = lv.pixels_per_module(dots)
        worst, best = module_contrast(level, dots)
        print(f"photos '{level}' ({lv.px_per_mm[0]:.1f}-{lv.px_per_mm[1]:.1f} px per mm, "
              f"{low:.1f}-{high:.1f} px per module): {full}/{seeds} tapes read in full "
              f"({every}/{seeds} with every code read), "
              f"{codes_read}/{seeds * len(slip.qr_codes)} codes, {misread} misread, {strangers} codes "
              f"read that are not on the tape, median {statistics.median(times) * 1000:.0f} ms per "
              f"tape ({photos} photos); module contrast left after blur {worst:.0%}-{best:.0%}")


def codes_part(tape: np.ndarray) -> np.ndarray:
    """The tape from a little above its first QR code to its end (what a photo of the codes shows)."""
    import zxingcpp

    tops = [min(p.y for p in (r.position.top_left, r.position.top_right)) for r in zxingcpp.read_barcodes(tape)]
    return tape[max(0, min(tops) - 40):]
