"""``audit tape``: read a results tape's QR codes from photos, check them, compare with central.

``read_codes(image)`` finds the tape's codes in one photo or scan with two decoders, pyzbar
(zbar) and zxing-cpp, on the image and enhanced copies of it, and rectifies each code located
but not read (``device.audit.qr_reader``; measured by ``python -m sim.bench tape``).
``audit_tape`` then

1. joins the codes into the signed message (``device.results.tape_codes.decode_tape``: the
   index/count and the hash chain), naming a missing code or a broken chain;
2. checks the unit key the message names is one the election package registers for that
   station (or the ``--key`` given), and the signature under it (``verify_signed_results``);
3. checks the figures agree with each other (ballots cast, per-contest counts, reconciliation);
4. optionally fetches the central tally's published result for the station
   (``<central>/api/stations/<station>.json``) and says whether it is the same signed message.

Outcome: ``TapeAudit.ok`` is False on any fault (exit 1); photos that cannot be opened, or in
which the tape's codes are not all found, are bad input (``TapeInputError``, exit 2): nothing
was verified, so nothing is said to be wrong — photograph the tape again.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Callable, Sequence

import numpy as np

from device.audit.findings import Fault
from device.results.signed_results import ResultsSignatureError, verify_signed_results
from device.results.tape_codes import MissingCodesError, TapeCodeError, decode_tape, is_tape_code
from device.store.canonical_json import canonical_bytes

if TYPE_CHECKING:
    from device.audit.qr_reader import PhotoReading

STATION_PATH = "/api/stations/{station}.json"


class TapeInputError(ValueError):
    """The photos cannot be read, or do not show the whole tape: bad input, not a fault."""


@dataclass
class TapeAudit:
    photos: list[str]
    codes_read: int = 0
    faults: list[Fault] = field(default_factory=list)
    message: dict[str, Any] | None = None
    central: str | None = None  # "same", "different", "not published" or None (not asked)

    @property
    def ok(self) -> bool:
        return not self.faults

    def fault(self, kind: str, where: str, detail: str) -> None:
        self.faults.append(Fault(kind, where, detail))

    def to_json(self) -> dict[str, Any]:
        m = self.message or {}
        return {"check": "tape", "photos": self.photos, "ok": self.ok, "codes_read": self.codes_read,
                "station": m.get("station"), "unit_id": m.get("unit_id"),
                "unit_public_key": m.get("unit_public_key"), "mode": m.get("mode"),
                "sequence": m.get("sequence"), "ballots_cast": m.get("ballots_cast"),
                "central": self.central,
                "first_fault": self.faults[0].to_json() if self.faults else None,
                "faults": [f.to_json() for f in self.faults], "message": self.message}


# --- reading the codes ------------------------------------------------------------------------

def read_photo(image: np.ndarray | str | Path) -> PhotoReading:
    """The results-tape payloads found in one image (grayscale array or file path), and how
    many codes were located in it but could not be read (``device.audit.qr_reader``: pyzbar,
    zxing-cpp, a perspective correction and a module sampler per code). A text is kept only if
    it looks like a tape code; the chain and signature checks below decide."""
    from device.audit.qr_reader import read_tape_photo

    gray = load_image(image) if isinstance(image, (str, Path)) else image
    return read_tape_photo(gray, is_tape_code)


def read_codes(image: np.ndarray | str | Path) -> list[str]:
    """The results-tape payloads found in one image (``read_photo``)."""
    return read_photo(image).texts


def _listed(numbers: Sequence[int]) -> str:
    words = [str(k) for k in numbers]
    return words[0] if len(words) == 1 else ", ".join(words[:-1]) + " and " + words[-1]


def unread_tape_error(error: TapeCodeError, unread: int) -> TapeInputError:
    """What to tell the person when the photos do not give the whole tape, in one plain line:
    which codes are missing (``error``, from ``decode_tape``) and, when codes were located but
    could not be read, that the photo is too far or blurred (``unread``: such codes located in
    the photos)."""
    if not isinstance(error, MissingCodesError):
        why = "the photos are too far or blurred" if unread else "the photos show none of the tape's codes, or are too far or blurred"
        return TapeInputError(f"no code of the results tape could be read: {why}; photograph the "
                              f"codes closer, a part of the tape at a time, and try again")
    plural = len(error.missing) > 1
    label = f"code{'s' if plural else ''} {_listed(error.missing)} of {error.total}"
    if error.enough < error.total:
        label += f" (any {error.enough} of the {error.total} are enough)"
    if unread:
        return TapeInputError(f"{label} could not be read: the photo is too far or blurred; "
                              f"photograph that part of the tape closer and try again")
    return TapeInputError(f"{label} {'are' if plural else 'is'} not in the photos: photograph "
                          f"the whole tape (every code) and try again")


def load_image(path: str | Path) -> np.ndarray:
    import cv2

    p = Path(path)
    if not p.is_file():
        raise TapeInputError(f"no such photo: {p}")
    img = cv2.imread(str(p), cv2.IMREAD_GRAYSCALE)
    if img is None:
        raise TapeInputError(f"not an image file: {p}")
    return img


# --- the checks ----------------------------------------------------------------------------

def figure_faults(message: dict[str, Any]) -> list[Fault]:
    """Figures on the tape that disagree with each other (checked after the signature)."""
    faults = []
    cast = message["ballots_cast"]
    rec = message["reconciliation"]
    if isinstance(rec.get("cast"), int) and rec["cast"] != cast:
        faults.append(Fault("figures disagree", "reconciliation",
                            f"ballots cast {cast}, reconciliation says {rec['cast']}"))
    for cid, t in message["tally"].items():
        if t["ballots_counted"] + t["invalid"] != cast:
            faults.append(Fault("figures disagree", f"contest {cid}",
                                f"{t['ballots_counted']} counted + {t['invalid']} invalid "
                                f"!= {cast} ballots cast"))
    return faults


def audit_tape(photos: Sequence[str | Path], *, unit_keys: Callable[[str], Sequence[str]],
               election_hash: str | None = None, package_mode: str | None = None,
               central: str | None = None,
               fetch: Callable[[str], Any] | None = None) -> TapeAudit:
    """Read and check a results tape from ``photos``.

    ``unit_keys(station)`` gives the public keys (hex) registered for a station;
    ``election_hash``, when known (from the package), must be the message's, and a live
    package takes only a live tape (a test tape is not a result); ``central`` is the
    central tally's base URL and ``fetch(url)`` returns its parsed JSON, or None for 404.
    """
    audit = TapeAudit([str(p) for p in photos])
    codes: dict[str, None] = {}
    unread = 0
    for photo in photos:
        reading = read_photo(photo)
        unread += reading.unread_codes
        for code in reading.texts:
            codes.setdefault(code)
    audit.codes_read = len(codes)
    try:
        signed = decode_tape(codes)
    except TapeCodeError as exc:
        text = str(exc)
        if isinstance(exc, MissingCodesError) or text.startswith("no results-tape code"):
            raise unread_tape_error(exc, unread) from None
        audit.fault("codes", "tape", text)
        return audit
    message = signed["message"]
    audit.message = message
    station = str(message.get("station"))
    try:
        keys = [k.lower() for k in unit_keys(station)]
    except ValueError as exc:  # the package has no such station
        audit.fault("unknown station", f"station {station}", str(exc))
        return audit
    claimed = str(message.get("unit_public_key", "")).lower()
    if claimed not in keys:
        audit.fault("unknown unit key", f"station {station}",
                    f"the tape is signed by {claimed[:16]}..., which is not a key registered "
                    f"for this station")
        return audit
    try:
        verify_signed_results(signed, claimed)
    except ResultsSignatureError as exc:
        audit.fault("forged signature", f"station {station}", str(exc))
        return audit
    if election_hash is not None and message["election_hash"] != election_hash:
        audit.fault("wrong election", f"station {station}",
                    f"the tape is for election {message['election_hash'][:16]}..., "
                    f"the package is {election_hash[:16]}...")
    if package_mode == "live" and message["mode"] != "live":
        audit.fault("wrong mode", f"station {station}",
                    f"a {message['mode']} tape: not a result of this live election")
    audit.faults += figure_faults(message)
    if central is not None and fetch is not None:
        compare_with_central(audit, signed, central, fetch)
    return audit


def published_signed(doc: Any, unit_public_key: str) -> dict[str, Any] | None:
    """The signed message of the tape's unit inside the central tally's station JSON: the
    signed message itself, or ``{"results": [...]}`` when several units of the station report."""
    if isinstance(doc, dict) and isinstance(doc.get("results"), list):
        mine = [d for d in doc["results"] if isinstance(d, dict) and isinstance(d.get("message"), dict)
                and d["message"].get("unit_public_key") == unit_public_key]
        return published_signed(mine[0], unit_public_key) if mine else None
    if isinstance(doc, dict) and isinstance(doc.get("message"), dict) and "signature" in doc:
        return {"message": doc["message"], "signature": doc["signature"]}
    return None


def compare_with_central(audit: TapeAudit, signed: dict[str, Any], central: str,
                         fetch: Callable[[str], Any]) -> None:
    station = signed["message"]["station"]
    url = central.rstrip("/") + STATION_PATH.format(station=station)
    doc = fetch(url)
    published = (published_signed(doc, signed["message"]["unit_public_key"])
                 if doc is not None else None)
    if published is None:
        audit.central = "not published"
        audit.fault("not published", url, "the central tally publishes no accepted result of "
                                          f"this unit for station {station}")
    elif (canonical_bytes(published["message"]) == canonical_bytes(signed["message"])
          and published["signature"] == signed["signature"]):
        audit.central = "same"
    else:
        audit.central = "different"
        diff = differing_fields(signed["message"], published["message"])
        audit.fault("central differs", url, "the published result is not the tape's: "
                                            + (", ".join(diff[:8]) or "signature"))


def differing_fields(a: Any, b: Any, where: str = "") -> list[str]:
    """Dotted paths where two JSON values differ (for a readable mismatch)."""
    if isinstance(a, dict) and isinstance(b, dict):
        out = []
        for k in sorted(set(a) | set(b)):
            out += differing_fields(a.get(k), b.get(k), f"{where}.{k}" if where else str(k))
        return out
    return [] if a == b else [where or "(whole)"]
