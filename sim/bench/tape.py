"""Benchmark: the results tape — how many QR codes, and how often a phone photo of it reads.

For each bundled election: the signed results message of its first station, the number of
codes on the tape and their QR versions. Then the demo tape, printed through the ESC/POS
driver's bytes and the printer twin, photographed (``sim.paper.tape_photo``: two overlapping photos
per tape) at each level over many seeds: the share of tapes read in full, the share of codes
read, misreads (a tape read in full whose signature fails: must be 0) and the time to read
and check one tape (median). ``read_codes`` uses pyzbar and zxing-cpp with a perspective
correction per code (``device.audit.qr_reader``).

Then why the ``poor`` level fails: the contrast of a module pattern left after each level's blur
(``sim.paper.tape_photo.module_contrast``), and photos of the tape's codes at ``poor`` with one of its
factors at a time set to its ``ordinary`` value (the factors that bring reads back are the ones
that stop them).
"""
from __future__ import annotations

import dataclasses
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
from device.results.tape_codes import QR_ERROR, TapeCodeError, decode_tape, encode_tape
from device.station.reports import results_slip
from device.store.signing import UnitSigner
from hardware.printer_escpos import slip_bytes
from sim.paper.tape_photo import LEVELS, PhotoLevel, load_gray, module_contrast, photograph, photos_of
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


def main(quick: bool = False) -> None:
    signer = UnitSigner.generate(random.Random(1))
    print("## tape: results-tape QR codes and phone photos")
    for name in ("demo", "cambodia-2022", "kyrgyzstan-2017"):
        *_, signed = signed_for(name, signer)
        codes = encode_tape(signed)
        versions = [segno.make_qr(c, error=QR_ERROR).version for c in codes]
        print(f"{name:16s} {len(codes)} codes, QR versions {versions}, "
              f"{sum(map(len, codes))} characters")
    election, station, results, signed = signed_for("demo", signer)
    slip = results_slip(election, election.stations[station], results, RECONCILIATION, 0, signed)
    with tempfile.TemporaryDirectory() as tmp:
        twin = PrinterTwin(Path(tmp))
        twin.receive(slip_bytes(slip))
        tape = load_gray(twin.slips[-1].png_path)
    seeds = 10 if quick else 50
    for level in LEVELS:
        full = codes_read = misread = strangers = 0
        times = []
        for seed in range(seeds):
            photos = photos_of(tape, np.random.default_rng(seed), parts=2, level=level)
            t0 = time.perf_counter()
            got: set[str] = set()
            for photo in photos:
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
            strangers += len(got - set(slip.qr_codes))
        worst, best = module_contrast(level)
        print(f"photos '{level}': {full}/{seeds} tapes read in full, "
              f"{codes_read}/{seeds * len(slip.qr_codes)} codes, {misread} misread, {strangers} codes read "
              f"that are not on the tape, median {statistics.median(times) * 1000:.0f} ms per tape (2 photos); "
              f"module contrast left after blur {worst:.0%}-{best:.0%}")
    why_poor_fails(tape, set(slip.qr_codes), 3 if quick else 10)


def codes_part(tape: np.ndarray) -> np.ndarray:
    """The tape from a little above its first QR code to its end (what a photo of the codes shows)."""
    import zxingcpp

    tops = [min(p.y for p in (r.position.top_left, r.position.top_right)) for r in zxingcpp.read_barcodes(tape)]
    return tape[max(0, min(tops) - 40):]


# the poor level's factors, restored to the ordinary level's one after another (the photo's own
# resolution and focus first: the module contrast they leave is the suspected cause)
RESTORE_ORDER = ("pixels_per_module", "blur_px", "noise", "jpeg", "contrast_low", "contrast_high",
                 "lighting", "tilt", "rotate_deg")


def why_poor_fails(tape: np.ndarray, codes: set[str], seeds: int) -> None:
    """Photos of the codes at ``poor``: with one factor at a time at its ``ordinary`` value,
    then with the factors restored one after another (``RESTORE_ORDER``)."""
    part = codes_part(tape)
    poor, ordinary = LEVELS["poor"], LEVELS["ordinary"]

    def read_in_full(level: PhotoLevel) -> int:
        return sum(set(read_codes(photograph(part, np.random.default_rng(seed), level))) >= codes
                   for seed in range(seeds))

    alone = {f: read_in_full(dataclasses.replace(poor, **{f: getattr(ordinary, f)})) for f in RESTORE_ORDER}
    print(f"  why poor fails: photos of the codes read in full, of {seeds}: poor as it is {read_in_full(poor)}; "
          f"with one factor at the ordinary value: " + ", ".join(f"{f} {n}" for f, n in alone.items()))
    level, steps = poor, []
    for f in RESTORE_ORDER:
        level = dataclasses.replace(level, **{f: getattr(ordinary, f)})
        steps.append(f"+{f} {read_in_full(level)}")
    print("  why poor fails: factors restored to ordinary one after another: " + ", ".join(steps))
