"""The peripheral table (``hardware/peripherals.py``) is the one list of kinds.

A plug-in kind registered through the ``ballotbox.peripherals`` entry points (a real installed
distribution: a ``*.dist-info`` with ``entry_points.txt`` in a folder on ``sys.path``) appears in
the table, in ``unit.toml`` validation (also through the real ``ballotbox`` CLI), on the console
and in ``open_peripheral``; and none of the places that used to list the kinds spells them out.
"""
from __future__ import annotations

import ast
import importlib
import os
import subprocess
import sys
from pathlib import Path

import pytest

from device.unit.config import ConfigError, load_config
from hardware.interfaces import Peripheral, PeripheralDisconnected
from hardware.peripherals import BUILT_IN, console_name, peripheral_kinds, required_kinds
from hardware.registry import RegistryError, open_peripheral

ROOT = Path(__file__).resolve().parent.parent
PLUGIN = '''
"""A palm vein reader kind from outside the project (a test plug-in)."""
from hardware.interfaces import Peripheral, PeripheralDisconnected
from hardware.peripherals import N_, PeripheralKind


class PalmVeinReader(Peripheral):
    def __init__(self, port):
        self.port = port

    def probe(self, timeout=1.0):
        if self.port is None:
            raise PeripheralDisconnected("no sensor")
        return None

    def close(self):
        self.port.close()


def open_sensor(link):
    return PalmVeinReader(link.port)


PALM_VEIN = PeripheralKind("palm_vein", PalmVeinReader, N_("Palm vein reader"),
                             ("serial", "socket"), open_sensor, required=False)
'''
UNIT = """[unit]
store = "unit.db"
[peripherals]
scanner = "sim://scanner"
id_reader = "sim://doc_reader"
printer = "sim://printer"
camera = "sim://camera"
"""


def _install_plugin(where: Path) -> Path:
    """A distribution ``acme-sensor`` installed into ``where`` as pip would lay it out."""
    (where / "acme_sensor").mkdir(parents=True)
    (where / "acme_sensor" / "__init__.py").write_text(PLUGIN, encoding="utf-8")
    info = where / "acme_sensor-1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-sensor\nVersion: 1.0\n")
    (info / "entry_points.txt").write_text('[ballotbox.peripherals]\npalm_vein = acme_sensor:PALM_VEIN\n')
    return where


@pytest.fixture
def plugin(tmp_path, monkeypatch):
    site = _install_plugin(tmp_path / "site")
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    yield site
    sys.modules.pop("acme_sensor", None)


def test_the_built_in_kinds_each_subclass_peripheral_and_all_but_the_fingerprint_are_required():
    assert [k.name for k in BUILT_IN] == ["scanner", "id_reader", "printer", "camera", "fingerprint"]
    assert all(issubclass(k.base, Peripheral) for k in BUILT_IN)
    assert required_kinds() == ("scanner", "id_reader", "printer", "camera")
    assert console_name("id_reader") == "ID reader"


def test_a_plugin_kind_appears_in_the_table_and_on_the_console(plugin):
    row = peripheral_kinds()["palm_vein"]
    assert row.base.__name__ == "PalmVeinReader" and issubclass(row.base, Peripheral)
    assert list(peripheral_kinds())[:len(BUILT_IN)] == [k.name for k in BUILT_IN]  # built-ins first, unchanged
    assert console_name("palm_vein") == "Palm vein reader"
    assert "palm_vein" not in required_kinds()


def test_without_the_plugin_the_kind_is_unknown(tmp_path):
    config = tmp_path / "unit.toml"
    config.write_text(UNIT + 'palm_vein = "socket://127.0.0.1:7009"\n')
    with pytest.raises(ConfigError, match=r"unknown peripheral\(s\) palm_vein"):
        load_config(config)


def test_unit_toml_validates_a_plugin_kind_by_its_row(plugin, tmp_path):
    config = tmp_path / "unit.toml"
    config.write_text(UNIT)
    assert "palm_vein" not in load_config(config).peripherals  # optional: may be absent
    config.write_text(UNIT + 'palm_vein = "socket://127.0.0.1:7009"\n')
    assert load_config(config).peripherals["palm_vein"] == "socket://127.0.0.1:7009"
    config.write_text(UNIT + 'palm_vein = "opencv://0"\n')
    with pytest.raises(ConfigError, match=r"palm_vein = 'opencv://0' is not a peripheral URL for a palm_vein"):
        load_config(config)


def test_the_cli_refuses_a_bad_plugin_url_in_one_line(plugin, tmp_path):
    """The real ``ballotbox`` in a subprocess, the plug-in found on its PYTHONPATH."""
    config = tmp_path / "unit.toml"
    config.write_text(UNIT + 'palm_vein = "http://10.0.0.9/frame.png"\n')
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(plugin), str(ROOT)])}
    proc = subprocess.run([sys.executable, "-m", "device.cli.main", "device", "run", "--config", str(config),
                           "--headless"], capture_output=True, text=True, env=env, timeout=120)
    assert proc.returncode == 2, proc.stderr
    assert "palm_vein = 'http://10.0.0.9/frame.png' is not a peripheral URL for a palm_vein" in proc.stderr
    assert proc.stderr.count("\n") == 1 and "Traceback" not in proc.stderr


def test_open_peripheral_builds_the_plugins_driver_over_a_real_pty(plugin):
    main_fd, sub_fd = os.openpty()
    try:
        sensor = open_peripheral("palm_vein", f"serial://{os.ttyname(sub_fd)}")
        assert type(sensor).__name__ == "PalmVeinReader" and sensor.probe() is None
        sensor.close()
        with pytest.raises(RegistryError, match=r"a palm_vein is not reached over opencv://"):
            open_peripheral("palm_vein", "opencv://0")
    finally:
        os.close(main_fd)
        os.close(sub_fd)


def test_a_plugin_that_is_registered_but_not_installed_is_skipped(tmp_path, monkeypatch):
    site = _install_plugin(tmp_path / "site")
    (site / "acme_sensor" / "__init__.py").unlink()
    (site / "acme_sensor").rmdir()
    monkeypatch.syspath_prepend(str(site))
    importlib.invalidate_caches()
    assert "palm_vein" not in peripheral_kinds()


def test_a_lost_peripheral_is_reported_by_its_probe():
    class Gone(Peripheral):
        def probe(self, timeout: float = 1.0) -> None:
            raise PeripheralDisconnected("unplugged")
    with pytest.raises(PeripheralDisconnected):
        Gone().probe()


# The places that used to write the list of kinds (issue 20 §2) and choose drivers by kind.
READERS = ("hardware/registry.py", "device/unit/config.py", "device/unit/runtime.py",
           "sim/twins/backends.py", "sim/simulated_unit.py", "device/console/screens.py")


@pytest.mark.parametrize("path", READERS)
def test_no_other_module_lists_the_kinds_or_picks_a_driver_by_kind(path):
    names = {k.name for k in BUILT_IN}
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Tuple, ast.List, ast.Set, ast.Dict)):
            if isinstance(node, ast.Dict) and path == "sim/twins/backends.py":
                continue  # its twin table, keyed by kind: checked against the table below
            items = node.keys if isinstance(node, ast.Dict) else node.elts
            listed = {n.value for n in items if isinstance(n, ast.Constant) and n.value in names}
            assert len(listed) < 3, f"{path}:{node.lineno} lists the peripheral kinds {sorted(listed)}"
        if isinstance(node, ast.Compare) and isinstance(node.left, ast.Name) and node.left.id == "kind":
            consts = [c.value for c in node.comparators if isinstance(c, ast.Constant)]
            assert not set(consts) & names, f"{path}:{node.lineno} chooses by kind: {ast.unparse(node)}"


def test_the_sim_twins_are_keyed_by_the_kinds_reached_over_a_byte_port():
    from sim.twins.backends import TWINS
    assert set(TWINS) == {k.name for k in BUILT_IN if "serial" in k.schemes}
