"""``ballotbox device run``: a configuration that cannot be used is one line and exit 2."""
from __future__ import annotations

import pytest

from device.cli.main import main

GOOD = """[unit]
store = "unit.db"
authority = "{auth}"
package = "demo.bbpkg"
[peripherals]
scanner = "serial:///dev/ttyUSB0"
id_reader = "serial:///dev/ttyUSB1"
printer = "socket://127.0.0.1:9100"
camera = "{camera}"
"""
KEY = "ab" * 32


@pytest.mark.parametrize("text, says", [
    (None, "no such file"),
    ("[unit\\n", "not valid TOML"),
    (GOOD.format(auth=KEY, camera="usb://0"), "camera = 'usb://0' is not a peripheral URL"),
    (GOOD.replace('store = "unit.db"\n', "").format(auth=KEY, camera="opencv://0"), "store is missing"),
    (GOOD.format(auth=KEY, camera="opencv://0").replace("[unit]", "[unit]\nballot_box_capacity = 0"),
     "ballot_box_capacity must be a positive whole number"),
    (GOOD.format(auth="not-a-key.pub", camera="opencv://0"), "not-a-key.pub"),
])
def test_bad_configuration_is_one_line_exit_2(tmp_path, capsys, text, says):
    config = tmp_path / "unit.toml"
    if text is not None:
        config.write_text(text.replace("\\n", "\n"), encoding="utf-8")
    code = main(["device", "run", "--config", str(config), "--headless"])
    err = capsys.readouterr().err
    assert code == 2
    assert says in err and err.count("\n") == 1 and "Traceback" not in err


def test_autoplay_needs_the_simulated_unit(tmp_path, capsys):
    assert main(["device", "run", "--config", str(tmp_path / "u.toml"), "--autoplay", "3"]) == 2
    assert "--autoplay" in capsys.readouterr().err


def test_a_unit_that_cannot_start_leaves_no_empty_store(tmp_path, capsys):
    config = tmp_path / "unit.toml"
    config.write_text(GOOD.format(auth="missing-authority.pub", camera="opencv://0"), encoding="utf-8")
    assert main(["device", "run", "--config", str(config), "--headless"]) == 2
    assert "missing-authority.pub" in capsys.readouterr().err
    assert sorted(p.name for p in tmp_path.iterdir()) == ["unit.toml"]
