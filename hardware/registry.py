"""Open any peripheral by kind and URL: ``open_peripheral("scanner", "serial:///dev/ttyUSB0")``.

Kinds: ``scanner``, ``id_reader``, ``camera``, ``printer``. URLs::

    serial:///dev/ttyUSB0?baud=115200     a serial port (pyserial)
    socket://127.0.0.1:7000               a raw TCP port (pyserial's socket:// handler)
    opencv://0 | opencv:///path/file.avi | opencv:///dir/img_%04d.png   cameras (and an
                                          id_reader that reads voter cards from the camera)
    http://HOST:PORT/frame.png            a network camera's snapshot URL (the same two kinds)
    sim://scanner?profile=noisy&seed=3&jam_rate=0.01   a simulated twin, in memory
    spy+<url>?spy_log=/tmp/traffic.log    record the traffic (hex, one line per read/write)
    fault+<url>?corrupt=0.001&drop=0.01&dup=0.01&seed=7   inject line faults on our side

Link options in the query: ``baud``, ``ack_timeout``, ``retries`` (scanner), ``paper`` (printer:
roll width in mm, 58 or 80). Wrapper options
are taken out of the query before the inner URL is opened. ``sim://`` is resolved through the
``ballotbox.backends`` entry-point group (name = scheme), loaded lazily, so ``hardware/`` and
``device/`` never import ``sim/`` by name. Bad URLs raise ``RegistryError`` (one line).
"""
from __future__ import annotations

import random
import sys
from importlib.metadata import entry_points
from typing import Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from hardware.interfaces import PeripheralDisconnected

KINDS = ("scanner", "id_reader", "camera", "printer")
WRAPPERS = ("spy", "fault")
WRAPPER_OPTIONS = {"spy": ("spy_log",), "fault": ("corrupt", "drop", "dup", "seed")}


class RegistryError(ValueError):
    """A URL or option the registry cannot use; the message names what is wrong."""


def _split(url: str) -> tuple[list[str], str, dict[str, str], str]:
    """-> (wrappers, scheme, query options, url without wrappers and query)."""
    parts = urlsplit(url)
    if not parts.scheme:
        raise RegistryError(f"{url!r} has no scheme (serial://, socket://, opencv://, sim://)")
    chain = parts.scheme.split("+")
    wrappers, scheme = chain[:-1], chain[-1]
    for w in wrappers:
        if w not in WRAPPERS:
            raise RegistryError(f"unknown wrapper {w!r} in {url!r} (known: spy, fault)")
    options = dict(parse_qsl(parts.query, keep_blank_values=True))
    base = f"{scheme}://{parts.netloc}{parts.path}"
    return wrappers, scheme, options, base


def _float(options: dict[str, str], key: str, default: float) -> float:
    value = options.pop(key, default)
    try:
        return float(value)
    except ValueError:
        raise RegistryError(f"option {key}={value!r} is not a number") from None


def _port_factory(scheme: str, base: str, options: dict[str, str]) -> Callable[[], Any]:
    import serial

    if scheme == "serial":
        path = urlsplit(base).path
        baud = int(_float(options, "baud", 115200))

        def make() -> Any:
            try:
                return serial.Serial(path, baudrate=baud, timeout=0, write_timeout=5)
            except (serial.SerialException, OSError) as exc:
                raise PeripheralDisconnected(f"cannot open {path}: {exc}") from None
        return make
    if scheme == "socket":
        def make() -> Any:
            try:
                return serial.serial_for_url(base, timeout=0, write_timeout=5)
            except (serial.SerialException, OSError, ValueError) as exc:
                raise PeripheralDisconnected(f"cannot connect to {base}: {exc}") from None
        return make
    raise RegistryError(f"scheme {scheme!r} is not a byte port (serial://, socket://)")


def _wrap(port: Any, wrappers: list[str], options: dict[str, str]) -> Any:
    from hardware.port_wrappers import FaultyPort, LineNoise, SpyPort

    for w in reversed(wrappers):  # the leftmost wrapper is outermost
        if w == "fault":
            rng = random.Random(int(_float(options, "seed", 0)))
            noise = dict(corrupt=_float(options, "corrupt", 0), drop=_float(options, "drop", 0),
                         dup=_float(options, "dup", 0))
            port = FaultyPort(port, LineNoise(rng, **noise),
                              LineNoise(rng, corrupt=noise["corrupt"]))
        else:
            path = options.pop("spy_log", "")
            port = SpyPort(port, open(path, "a", buffering=1) if path else sys.stderr)
    return port


def open_peripheral(kind: str, url: str, **extra: Any) -> Any:
    """The driver for ``kind`` at ``url``; ``extra`` goes to a ``sim://`` backend."""
    if kind not in KINDS:
        raise RegistryError(f"unknown peripheral kind {kind!r} (known: {', '.join(KINDS)})")
    wrappers, scheme, options, base = _split(url)
    if scheme == "opencv":
        return _open_camera(kind, base, options)
    if scheme in ("http", "https"):
        return _open_http_camera(kind, base, options)
    if scheme in ("serial", "socket"):
        link: dict[str, str] = {k: options.pop(k) for k in ("ack_timeout", "retries", "paper") if k in options}
        factory = _port_factory(scheme, base, options)

        def reopen() -> Any:
            return _wrap(factory(), wrappers, dict(options))
        port = reopen()
        return _driver(kind, port, reopen, link)
    backend = _backend(scheme)
    wrapper_options = {k: options.pop(k) for w in wrappers for k in WRAPPER_OPTIONS[w] if k in options}
    inner = base + ("?" + urlencode(options) if options else "")
    return backend(kind, inner, wrap=lambda port: _wrap(port, wrappers, dict(wrapper_options)),
                   **extra)


def _driver(kind: str, port: Any, reopen: Callable[[], Any], link: dict[str, str]) -> Any:
    if kind == "scanner":
        from hardware.scanner_serial import SerialScannerTransport
        return SerialScannerTransport(port, reopen=reopen, ack_timeout=_float(link, "ack_timeout", 0.05),
                                      retries=int(_float(link, "retries", 4)))
    if kind == "id_reader":
        from hardware.id_reader_serial import SerialIdReader
        return SerialIdReader(port)
    if kind == "printer":
        from hardware.printer_escpos import EscPosPrinter
        from hardware.slip_raster import PAPERS
        paper = int(_float(link, "paper", 80))
        if paper not in PAPERS:
            raise RegistryError(f"option paper={link['paper']!r}: a roll is "
                                f"{' or '.join(map(str, PAPERS))} mm wide")
        return EscPosPrinter(port, paper_mm=paper)
    raise RegistryError(f"a {kind} is not reached over a byte port; use opencv:// or sim://")


def _open_camera(kind: str, base: str, options: dict[str, str]) -> Any:
    from hardware.camera import CameraIdReader, OpenCVCamera

    if kind not in ("camera", "id_reader"):
        raise RegistryError(f"opencv:// opens a camera or a camera id_reader, not a {kind}")
    parts = urlsplit(base)
    source: int | str = int(parts.netloc) if parts.netloc.isdigit() else parts.path
    if not source and source != 0:
        raise RegistryError(f"{base!r} names no device index or file")
    camera = OpenCVCamera(source, gray=options.get("gray") == "1", loop=options.get("loop") == "1")
    return CameraIdReader(camera) if kind == "id_reader" else camera


def _open_http_camera(kind: str, base: str, options: dict[str, str]) -> Any:
    """``gray=1`` is ours; any other query option belongs to the camera's own URL."""
    from hardware.camera import CameraIdReader, HttpCamera

    if kind not in ("camera", "id_reader"):
        raise RegistryError(f"http:// opens a network camera or a camera id_reader, not a {kind}")
    gray = options.pop("gray", "0") == "1"
    camera = HttpCamera(base + ("?" + urlencode(options) if options else ""), gray=gray)
    return CameraIdReader(camera) if kind == "id_reader" else camera


def _backend(scheme: str) -> Callable[..., Any]:
    for ep in entry_points(group="ballotbox.backends"):
        if ep.name == scheme:
            try:
                return ep.load()
            except ModuleNotFoundError:  # registered, not installed (the unit's wheel: no sim/)
                break
    raise RegistryError(f"no backend for scheme {scheme!r} (serial://, socket://, opencv://, "
                        "or one registered in the ballotbox.backends entry points)")
