"""The ``sim://`` backend of ``hardware.registry``: real drivers over in-memory twins.

Registered as entry point ``sim`` in the ``ballotbox.backends`` group, so the registry finds
it without importing ``sim`` by name. ``sim://<twin>?profile=<name|file>&seed=<n>&<fault>=<v>``
opens the real driver for the kind asked (``SerialScannerTransport``, ``SerialIdReader``,
``EscPosPrinter``) over a ``MemoryPort`` wired to the twin: the same bytes as over a pty, no
threads. Any field of the profile's faults can be overridden in the query (``jam_rate=0.01``).
The twin is reachable as ``driver.twin``. ``sim://camera`` needs ``scanner=<ScannerTwin>``;
``sim://printer?out_dir=DIR`` renders slips to DIR.
"""
from __future__ import annotations

import random
from dataclasses import fields
from typing import Any, Callable
from urllib.parse import parse_qsl, urlsplit

from hardware.id_reader_serial import SerialIdReader
from hardware.printer_escpos import EscPosPrinter
from hardware.registry import RegistryError
from hardware.scanner_serial import SerialScannerTransport
from sim.twins.camera import VirtualCamera
from sim.twins.doc_reader import DocReaderTwin
from sim.twins.endpoints import MemoryPort
from sim.twins.printer import PrinterTwin
from sim.twins.profile import Faults, ProfileError, load_profile
from sim.twins.scanner import ScannerTwin

TWINS = {"scanner": "scanner", "id_reader": "doc_reader", "printer": "printer", "camera": "camera"}
FAULT_NAMES = frozenset(f.name for f in fields(Faults))


def serial_driver(kind: str, port: Any, ack_timeout: float) -> Any:
    """The real driver of ``kind`` (scanner, id_reader, printer) over a pyserial-like port."""
    if kind == "scanner":
        return SerialScannerTransport(port, ack_timeout=ack_timeout)
    return SerialIdReader(port) if kind == "id_reader" else EscPosPrinter(port)


def open_sim(kind: str, url: str, wrap: Callable[[Any], Any] = lambda p: p,
             scanner: ScannerTwin | None = None, advance=None, **_: Any) -> Any:
    parts = urlsplit(url)
    twin_name = parts.netloc or parts.path.strip("/")
    if twin_name not in (kind, TWINS[kind]):
        raise RegistryError(f"sim://{twin_name} is not a {kind} twin (use sim://{TWINS[kind]})")
    options = dict(parse_qsl(parts.query))
    try:
        profile = load_profile(options.pop("profile", None))
        overrides = {k: float(options.pop(k)) for k in list(options) if k in FAULT_NAMES}
        profile = profile.with_faults(**overrides) if overrides else profile
    except (ProfileError, ValueError, TypeError) as exc:
        raise RegistryError(f"{url}: {exc}") from None
    rng = random.Random(int(options.pop("seed", 0)))
    if kind == "camera":
        if scanner is None:
            raise RegistryError("sim://camera shows the sheet of a scanner twin: pass scanner=")
        return VirtualCamera(scanner, rng, profile.faults.dropped_camera_frame_rate)
    if kind == "scanner":
        twin = ScannerTwin(profile, rng, advance)
    elif kind == "id_reader":
        twin = DocReaderTwin(profile.faults, rng)
    else:
        twin = PrinterTwin(options.pop("out_dir", None))
    driver = serial_driver(kind, wrap(MemoryPort(twin)), ack_timeout=0.01)
    if options:
        raise RegistryError(f"{url}: unknown option(s) {', '.join(sorted(options))}")
    driver.twin = twin
    return driver
