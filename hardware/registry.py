"""Open any peripheral by kind and URL: ``open_peripheral("scanner", "serial:///dev/ttyUSB0")``.

Kinds: the rows of ``hardware/peripherals.py`` (``scanner``, ``id_reader``, ``camera``,
``printer``, and any plug-in kind); which schemes reach a kind is in its row. URLs::

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
from typing import TYPE_CHECKING, Any, Callable
from urllib.parse import parse_qsl, urlencode, urlsplit

from hardware.interfaces import Camera, PeripheralDisconnected
from hardware.peripherals import (BYTE_SCHEMES, FRAME_SCHEMES, Link, LinkOptionError,
                                  peripheral_kinds)

if TYPE_CHECKING:
    from hardware.port_wrappers import SerialPort

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


def _number(value: str, key: str) -> float:
    try:
        return float(value)
    except ValueError:
        raise RegistryError(f"option {key}={value!r} is not a number") from None


def _port_factory(scheme: str, base: str, options: dict[str, str]) -> Callable[[], Any]:
    import serial

    if scheme == "serial":
        path = urlsplit(base).path
        baud = int(_number(options.pop("baud", "115200"), "baud"))

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


def _wrap(port: SerialPort, wrappers: list[str], options: dict[str, str]) -> SerialPort:
    from hardware.port_wrappers import FaultyPort, LineNoise, SpyPort

    for w in reversed(wrappers):  # the leftmost wrapper is outermost
        if w == "fault":
            rng = random.Random(int(_number(options.pop("seed", "0"), "seed")))
            noise = {k: _number(options.pop(k, "0"), k) for k in ("corrupt", "drop", "dup")}
            port = FaultyPort(port, LineNoise(rng, **noise),
                              LineNoise(rng, corrupt=noise["corrupt"]))
        else:
            path = options.pop("spy_log", "")
            port = SpyPort(port, open(path, "a", buffering=1) if path else sys.stderr)
    return port


def open_peripheral(kind: str, url: str, **extra: Any) -> Any:
    """The driver for ``kind`` (a row of ``hardware.peripherals``) at ``url``; ``extra`` goes to a
    ``sim://`` backend."""
    kinds = peripheral_kinds()
    row = kinds.get(kind)
    if row is None:
        raise RegistryError(f"unknown peripheral kind {kind!r} (known: {', '.join(kinds)})")
    wrappers, scheme, options, base = _split(url)
    if scheme not in BYTE_SCHEMES + FRAME_SCHEMES:
        backend = _backend(scheme)
        wrapper_options = {k: options.pop(k) for w in wrappers for k in WRAPPER_OPTIONS[w] if k in options}
        inner = base + ("?" + urlencode(options) if options else "")
        return backend(kind, inner, wrap=lambda port: _wrap(port, wrappers, dict(wrapper_options)),
                       **extra)
    if scheme not in row.schemes:
        raise RegistryError(f"a {kind} is not reached over {scheme}:// (use "
                            f"{', '.join(s + '://' for s in row.schemes)} or sim://)")
    link_options = {k: options.pop(k) for k in row.options if k in options}
    if scheme in FRAME_SCHEMES:
        link = Link(scheme, camera=_open_camera(scheme, base, options), options=link_options)
    else:
        factory = _port_factory(scheme, base, options)

        def reopen() -> Any:
            return _wrap(factory(), wrappers, dict(options))
        link = Link(scheme, port=reopen(), reopen=reopen, options=link_options)
    try:
        return row.factory(link)
    except LinkOptionError as exc:
        raise RegistryError(str(exc)) from None


def _open_camera(scheme: str, base: str, options: dict[str, str]) -> Camera:
    """``opencv://`` (``gray=1``, ``loop=1``) or a network camera's ``http(s)://`` snapshot URL
    (``gray=1`` is ours; any other query option belongs to the camera's own URL)."""
    from hardware.camera import HttpCamera, OpenCVCamera

    gray = options.pop("gray", "0") == "1"
    if scheme != "opencv":
        return HttpCamera(base + ("?" + urlencode(options) if options else ""), gray=gray)
    parts = urlsplit(base)
    source: int | str = int(parts.netloc) if parts.netloc.isdigit() else parts.path
    if not source and source != 0:
        raise RegistryError(f"{base!r} names no device index or file")
    return OpenCVCamera(source, gray=gray, loop=options.get("loop") == "1")


def _backend(scheme: str) -> Callable[..., Any]:
    for ep in entry_points(group="ballotbox.backends"):
        if ep.name == scheme:
            try:
                return ep.load()
            except ModuleNotFoundError:  # registered, not installed (the unit's wheel: no sim/)
                break
    raise RegistryError(f"no backend for scheme {scheme!r} (serial://, socket://, opencv://, "
                        "or one registered in the ballotbox.backends entry points)")
