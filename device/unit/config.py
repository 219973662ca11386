"""The unit's configuration file (``unit.toml``): where its store is, what it serves, its peripherals.

``load_config(path)`` reads and checks it; every problem is a ``ConfigError`` whose message
names the file, the key and what is wrong, in one line (the CLI prints it and exits 2).
Relative paths are taken relative to the config file's folder. Example::

    [unit]
    store = "unit.db"                  # the SQLite journal + cast vote records (+ unit key)
    authority = "authority.pub"        # the election authority's public key: the trust anchor,
                                       # written into a new store at first boot (provisioning)
    package = "/media/usb/election.bbpkg"   # the signed election package the manager loads
    station = "teuk-laak-1-1"          # optional: the station, when the unit serves several
    ballot_box_capacity = 500          # sheets the box holds before it must be swapped
    language = "en"                    # operator language (device/i18n.py); if absent: --lang
    export_dir = "export"              # where Export writes (a USB stick's mount point)

    [store]
    mirror = "/media/card/mirror.db"   # the second medium: every committed record is written
                                       # there in the same transaction (device/store/copies.py)

    [peripherals]                      # URLs of hardware/registry.py, one per kind of
                                       # hardware/peripherals.py (a plug-in kind may be optional)
    scanner = "serial:///dev/ttyUSB0"
    id_reader = "serial:///dev/ttyUSB1"
    printer = "serial:///dev/ttyUSB2"
    camera = "opencv://0"

    [central]                          # optional: the unit sends its signed results itself
    url = "https://results.example.org"     # the central tally (``device send`` does it by hand)

The staff's PINs (as Argon2 hashes) come in the election package, never in this file.
"""
from __future__ import annotations

import tomllib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal, overload

from device.i18n import LANGUAGES
from hardware.peripherals import backend_schemes, peripheral_kinds

DURABILITY = ("full", "simulation")


class ConfigError(ValueError):
    """A unit configuration that cannot be used; the message says where and why."""


@dataclass(frozen=True)
class UnitConfig:
    path: Path
    store: Path
    authority: str | None  # hex, or the path of authority.pub
    package: Path | None
    station: str | None
    peripherals: dict[str, str] = field(default_factory=dict)
    ballot_box_capacity: int = 500
    language: str | None = None  # None: the language the command was started in (--lang)
    export_dir: Path | None = None
    durability: str = "full"
    mirror: Path | None = None  # [store] mirror: the store's copy on a second medium
    central_url: str | None = None  # [central] url: where the unit's sender posts its results


def _table(doc: dict, name: str, where: str) -> dict:
    value = doc.get(name, {})
    if not isinstance(value, dict):
        raise ConfigError(f"{where}: [{name}] must be a table")
    return value


@overload
def _str(table: dict[str, Any], key: str, where: str, *, required: Literal[True] = True) -> str: ...
@overload
def _str(table: dict[str, Any], key: str, where: str, *, required: bool) -> str | None: ...
def _str(table: dict[str, Any], key: str, where: str, *, required: bool = True) -> str | None:
    value = table.get(key)
    if value is None:
        if required:
            raise ConfigError(f"{where}: {key} is missing")
        return None
    if not isinstance(value, str) or not value.strip():
        raise ConfigError(f"{where}: {key} must be a non-empty string, got {value!r}")
    return value.strip()


@overload
def _path(base: Path, text: str) -> Path: ...
@overload
def _path(base: Path, text: str | None) -> Path | None: ...
def _path(base: Path, text: str | None) -> Path | None:
    if text is None:
        return None
    p = Path(text).expanduser()
    return p if p.is_absolute() else base / p


def load_config(path: str | Path) -> UnitConfig:
    """Read and check ``unit.toml``; raises ``ConfigError`` with a one-line message."""
    path = Path(path)
    try:
        doc = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ConfigError(f"no such file: {path} (the unit configuration, unit.toml)") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise ConfigError(f"cannot read {path}: {exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path} is not valid TOML: {exc}") from None
    base = path.resolve().parent
    unit = _table(doc, "unit", str(path))
    where = f"{path} [unit]"
    capacity = unit.get("ballot_box_capacity", 500)
    if not isinstance(capacity, int) or isinstance(capacity, bool) or capacity < 1:
        raise ConfigError(f"{where}: ballot_box_capacity must be a positive whole number, got {capacity!r}")
    language = _str(unit, "language", where, required=False) or None
    if language is not None and language not in LANGUAGES:
        raise ConfigError(f"{where}: language {language!r} is not one of {', '.join(LANGUAGES)}")
    durability = _str(unit, "durability", where, required=False) or "full"
    if durability not in DURABILITY:
        raise ConfigError(f"{where}: durability must be one of {', '.join(DURABILITY)}")
    mirror = _path(base, _str(_table(doc, "store", str(path)), "mirror", f"{path} [store]", required=False))
    store = _path(base, _str(unit, "store", where))
    if mirror is not None and store is not None and mirror.resolve() == store.resolve():
        raise ConfigError(f"{path} [store]: mirror must be another file than the store (on a second medium)")
    peripherals = _peripherals(_table(doc, "peripherals", str(path)), f"{path} [peripherals]")
    central = _table(doc, "central", str(path))
    central_url = _str(central, "url", f"{path} [central]", required=False)
    if central_url is not None and not central_url.startswith(("http://", "https://")):
        raise ConfigError(f"{path} [central]: url = {central_url!r} must start with http:// or https://")
    authority = _str(unit, "authority", where, required=False)
    if authority is not None and not _is_hex_key(authority):
        authority = str(_path(base, authority))
    return UnitConfig(
        path=path, store=store, authority=authority,
        package=_path(base, _str(unit, "package", where, required=False)),
        station=_str(unit, "station", where, required=False), peripherals=peripherals,
        ballot_box_capacity=capacity, language=language,
        export_dir=_path(base, _str(unit, "export_dir", where, required=False)), durability=durability,
        mirror=mirror, central_url=central_url)


def _peripherals(table: dict[str, Any], where: str) -> dict[str, str]:
    """Each kind's URL, checked against its row of ``hardware/peripherals.py`` (wrappers ``spy+``,
    ``fault+`` aside, the scheme must reach that kind or be a backend's, ``sim``)."""
    kinds = peripheral_kinds()
    unknown = sorted(set(table) - set(kinds))
    if unknown:
        raise ConfigError(f"{where}: unknown peripheral(s) {', '.join(unknown)} (known: {', '.join(kinds)})")
    backends = backend_schemes()
    peripherals = {}
    for kind, row in kinds.items():
        url = _str(table, kind, where, required=row.required)
        if url is None:
            continue
        scheme = url.partition("://")[0].split("+")[-1] if "://" in url else ""
        schemes = row.schemes + backends
        if scheme not in schemes:
            raise ConfigError(f"{where}: {kind} = {url!r} is not a peripheral URL for a {kind} "
                              f"({', '.join(s + '://' for s in schemes)})")
        peripherals[kind] = url
    return peripherals


def _is_hex_key(text: str) -> bool:
    return len(text) == 64 and all(c in "0123456789abcdefABCDEF" for c in text)


def write_config(path: Path, *, store: str, authority: str, package: str, station: str | None,
                 peripherals: dict[str, str], ballot_box_capacity: int = 500,
                 export_dir: str | None = None, durability: str = "full", mirror: str | None = None) -> None:
    """Write a ``unit.toml`` (used by ``device run --sim`` to describe the simulated unit)."""
    def q(s: str) -> str:
        return '"' + s.replace("\\", "\\\\").replace('"', '\\"') + '"'
    lines = ["[unit]", f"store = {q(store)}", f"authority = {q(authority)}", f"package = {q(package)}"]
    if station:
        lines.append(f"station = {q(station)}")
    lines.append(f"ballot_box_capacity = {ballot_box_capacity}")
    lines.append(f"durability = {q(durability)}")
    if export_dir:
        lines.append(f"export_dir = {q(export_dir)}")
    if mirror:
        lines += ["", "[store]", f"mirror = {q(mirror)}"]
    lines += ["", "[peripherals]"] + [f"{k} = {q(v)}" for k, v in peripherals.items()]
    path.write_text("\n".join(lines) + "\n", encoding="utf-8")
