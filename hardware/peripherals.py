"""The table of peripheral kinds: every place that lists, opens, checks or names a kind reads it.

One row per kind (``PeripheralKind``): its name in ``unit.toml`` and in ``open_peripheral``, the
abstract class every driver of it subclasses, the URL schemes its drivers are reached by, the
factory that builds the driver once the registry has opened the link, how its health is probed,
and its name on the operator's console (marked with ``N_`` for the catalogs, translated where
shown). Adding a kind is one row here plus its driver.

A plug-in adds a row without editing this file, through the ``ballotbox.peripherals`` entry-point
group (as python-can's ``BACKENDS`` does): the entry point's name is the kind, its object a
``PeripheralKind``::

    [project.entry-points."ballotbox.peripherals"]
    fingerprint = "acme_sensor.kind:FINGERPRINT"

A registered plug-in whose module is not installed (the unit's wheel without ``sim/``) is
skipped, like a ``ballotbox.backends`` entry. Health: every kind's base class has
``Peripheral.probe()``; the unit probes a lost peripheral once a second, and a kind with
``probe_while_healthy`` (the printer's paper sensor) every second even when it answers; such a
kind is listed as lost after ``misses_before_lost`` probes in a row go unanswered (one late
answer on a busy unit is not a lost printer), and found again at its first answer.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from importlib.metadata import entry_points
from typing import Any, Callable

from hardware.fingerprint import FingerprintDevice
from hardware.interfaces import Camera, IdReader, Peripheral, Printer, ScannerTransport

BYTE_SCHEMES = ("serial", "socket")  # the registry opens a byte port; the factory gets Link.port
FRAME_SCHEMES = ("opencv", "http", "https")  # the registry opens a camera; the factory gets Link.camera
ENTRY_POINT_GROUP = "ballotbox.peripherals"


def N_(text: str) -> str:
    """Mark ``text`` for the catalogs (``make messages`` extracts ``N_`` in hardware/ too)."""
    return text


class LinkOptionError(ValueError):
    """A driver option in the URL's query that is not usable (the registry reports it)."""


@dataclass
class Link:
    """What the registry opened for a driver: a byte port (with a way to reopen it after the cable
    came back) or a camera, and the driver's own options from the URL's query."""

    scheme: str
    port: Any = None
    reopen: Callable[[], Any] | None = None
    camera: Camera | None = None
    options: dict[str, str] = field(default_factory=dict)

    def number(self, key: str, default: float) -> float:
        value = self.options.get(key, default)
        try:
            return float(value)
        except ValueError:
            raise LinkOptionError(f"option {key}={value!r} is not a number") from None


@dataclass(frozen=True)
class PeripheralKind:
    """One kind of peripheral, declared once."""

    name: str
    base: type[Peripheral]
    console_name: str  # N_("..."): translated where it is shown
    schemes: tuple[str, ...]  # of BYTE_SCHEMES + FRAME_SCHEMES; a backend (sim://) opens every kind
    factory: Callable[[Link], Peripheral]
    options: tuple[str, ...] = ()  # query options its driver takes (taken out before the port opens)
    probe_timeout_s: float = 1.0
    probe_while_healthy: bool = False  # probed every second even when it answers
    misses_before_lost: int = 1  # unanswered probes in a row before a healthy kind is lost
    required: bool = True  # unit.toml must name it


def _scanner(link: Link) -> Peripheral:
    from hardware.scanner_serial import SerialScannerTransport
    return SerialScannerTransport(link.port, reopen=link.reopen, ack_timeout=link.number("ack_timeout", 0.05),
                                  retries=int(link.number("retries", 4)))


def _id_reader(link: Link) -> Peripheral:
    if link.camera is not None:
        from hardware.camera import CameraIdReader
        return CameraIdReader(link.camera)
    from hardware.id_reader_serial import SerialIdReader
    return SerialIdReader(link.port)


def _printer(link: Link) -> Peripheral:
    from hardware.printer_escpos import EscPosPrinter
    from hardware.slip_raster import PAPERS
    paper = int(link.number("paper", 80))
    if paper not in PAPERS:
        raise LinkOptionError(f"option paper={link.options['paper']!r}: a roll is "
                              f"{' or '.join(map(str, PAPERS))} mm wide")
    return EscPosPrinter(link.port, paper_mm=paper)


def _fingerprint(link: Link) -> Peripheral:
    from hardware.fingerprint_serial import FingerprintSensor
    return FingerprintSensor(link.port, password=int(link.number("password", 0)),
                             timeout=link.number("timeout", 2.0))


def _camera(link: Link) -> Peripheral:
    assert link.camera is not None  # the registry opens a camera for a FRAME_SCHEMES url
    return link.camera


BUILT_IN: tuple[PeripheralKind, ...] = (
    PeripheralKind("scanner", ScannerTransport, N_("Scanner"), BYTE_SCHEMES, _scanner,
                   options=("ack_timeout", "retries")),
    PeripheralKind("id_reader", IdReader, N_("ID reader"), BYTE_SCHEMES + FRAME_SCHEMES, _id_reader),
    PeripheralKind("printer", Printer, N_("Printer"), BYTE_SCHEMES, _printer, options=("paper",),
                   probe_timeout_s=0.5, probe_while_healthy=True, misses_before_lost=3),
    PeripheralKind("camera", Camera, N_("Camera"), FRAME_SCHEMES, _camera),
    PeripheralKind("fingerprint", FingerprintDevice, N_("Fingerprint sensor"), BYTE_SCHEMES,
                   _fingerprint, options=("password", "timeout"), required=False),
)


def peripheral_kinds() -> dict[str, PeripheralKind]:
    """Every kind, built-in first, then those of the ``ballotbox.peripherals`` entry points
    (read again at each call, so a plug-in installed at run time is seen)."""
    kinds = {k.name: k for k in BUILT_IN}
    for ep in entry_points(group=ENTRY_POINT_GROUP):
        if ep.name in kinds:
            continue  # a plug-in does not replace a built-in kind
        try:
            row = ep.load()
        except ModuleNotFoundError:  # registered, not installed
            continue
        if isinstance(row, PeripheralKind) and row.name == ep.name:
            kinds[row.name] = row
    return kinds


def required_kinds() -> tuple[str, ...]:
    return tuple(name for name, row in peripheral_kinds().items() if row.required)


def console_name(kind: str) -> str:
    """The kind's untranslated console name (the caller translates it); the kind itself if unknown."""
    for row in BUILT_IN:
        if row.name == kind:
            return row.console_name
    plug_in = peripheral_kinds().get(kind)
    return plug_in.console_name if plug_in else kind


def backend_schemes() -> tuple[str, ...]:
    """The URL schemes of the ``ballotbox.backends`` entry points (``sim``): they open every kind."""
    return tuple(sorted({ep.name for ep in entry_points(group="ballotbox.backends")}))
