"""The ``sim://`` backend of ``hardware.registry``: real drivers over in-memory twins.

Registered as entry point ``sim`` in the ``ballotbox.backends`` group, so the registry finds
it without importing ``sim`` by name. ``sim://<twin>?profile=<name|file>&seed=<n>&<fault>=<v>``
opens the real driver for the kind asked (its row's factory in ``hardware/peripherals.py``:
``SerialScannerTransport``, ``SerialIdReader``, ``EscPosPrinter``) over a ``MemoryPort`` wired to
the twin named in ``TWINS``: the same bytes as over a pty, no
threads. Any field of the profile's faults can be overridden in the query (``jam_rate=0.01``).
The twin is reachable as ``driver.twin``. ``sim://camera`` needs ``scanner=<ScannerTwin>``;
``sim://printer?out_dir=DIR`` renders slips to DIR.
"""
from __future__ import annotations

import random
from dataclasses import dataclass, fields
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from hardware.peripherals import Link, peripheral_kinds
from hardware.registry import RegistryError
from sim.twins.camera import VirtualCamera
from sim.twins.doc_reader import DocReaderTwin
from sim.twins.endpoints import MemoryPort
from sim.twins.fingerprint import FingerprintTwin
from sim.twins.fingerprint_profile import load_fingerprint_profile
from sim.twins.printer import PrinterTwin
from sim.twins.profile import Faults, Profile, ProfileError, load_profile
from sim.twins.scanner import ScannerTwin

FAULT_NAMES = frozenset(f.name for f in fields(Faults))


@dataclass(frozen=True)
class TwinRow:
    """The twin behind ``sim://<name>`` for one kind of ``hardware/peripherals.py``: ``make(profile,
    rng, options, advance)`` builds the wire twin the kind's real driver talks to."""

    name: str
    make: Callable[[Profile, random.Random, dict[str, str], Any], Any]


TWINS: dict[str, TwinRow] = {
    "scanner": TwinRow("scanner", lambda profile, rng, options, advance: ScannerTwin(profile, rng, advance)),
    "id_reader": TwinRow("doc_reader", lambda profile, rng, options, advance: DocReaderTwin(profile.faults, rng)),
    "printer": TwinRow("printer", lambda profile, rng, options, advance: PrinterTwin(options.pop("out_dir", None))),
    "fingerprint": TwinRow("fingerprint", lambda profile, rng, options, advance: FingerprintTwin(
        load_fingerprint_profile(options.pop("fingerprint_profile", None)), rng, advance)),
}
CAMERA = "camera"  # not a wire twin: frames of the scanner twin's sheet (needs scanner=)


def serial_driver(kind: str, port: Any, ack_timeout: float) -> Any:
    """The real driver of ``kind`` over a pyserial-like port: its row's factory."""
    return peripheral_kinds()[kind].factory(Link("serial", port=port, options={"ack_timeout": str(ack_timeout)}))


def open_sim(kind: str, url: str, wrap: Callable[[Any], Any] = lambda p: p,
             scanner: ScannerTwin | None = None, advance=None, **_: Any) -> Any:
    parts = urlsplit(url)
    twin_name = parts.netloc or parts.path.strip("/")
    row = TWINS.get(kind)
    expected = CAMERA if kind == CAMERA else row.name if row else None
    if expected is None:
        raise RegistryError(f"sim:// has no twin of a {kind}")
    if twin_name not in (kind, expected):
        raise RegistryError(f"sim://{twin_name} is not a {kind} twin (use sim://{expected})")
    options = dict(parse_qsl(parts.query))
    try:
        profile = load_profile(options.pop("profile", None))
        overrides = {k: float(options.pop(k)) for k in list(options) if k in FAULT_NAMES}
        profile = profile.with_faults(**overrides) if overrides else profile
    except (ProfileError, ValueError, TypeError) as exc:
        raise RegistryError(f"{url}: {exc}") from None
    rng = random.Random(int(options.pop("seed", 0)))
    if row is None:
        if scanner is None:
            raise RegistryError("sim://camera shows the sheet of a scanner twin: pass scanner=")
        return VirtualCamera(scanner, rng, profile.faults.dropped_camera_frame_rate)
    twin = row.make(profile, rng, options, advance)
    driver = serial_driver(kind, wrap(MemoryPort(twin)), ack_timeout=0.01)
    if options:
        raise RegistryError(f"{url}: unknown option(s) {', '.join(sorted(options))}")
    driver.twin = twin
    return driver
