"""Messages that blame the right thing (issue 19 §5): a mix-up of files is said as such.

``audit verify EXPORT --package PKG`` with the package of another election used to report the
export as "altered" and its signature as "forged"; it now says "this export is of election X,
the package is of Y" (exit 2, bad input), and keeps "altered"/"forged" for real tampering.
"""
from __future__ import annotations

import json

from device.cli.main import main
from device.election.definition import bundled_path, parse_election
from tests.package_kit import make_package
from tests.unit_exports import exported_day


def _another_election():
    document = json.loads(bundled_path("demo").read_text(encoding="utf-8"))
    document["id"], document["title"] = "demo-other", "Another municipal election"
    return parse_election(document)


def test_verify_with_the_package_of_another_election_says_so_not_altered(tmp_path, capsys):
    export = exported_day(tmp_path / "day", voters=20)
    package, authority, _unit = make_package(tmp_path, election=_another_election(), name="other.bbpkg")
    (tmp_path / "authority.pub").write_text(authority.public_key_hex() + "\n")
    code = main(["audit", "verify", str(export), "--package", str(package),
                 "--authority", str(tmp_path / "authority.pub")])
    said = capsys.readouterr()
    assert code == 2, said
    assert "this export is of election 'demo-2026'" in said.err and "the package is of 'demo-other'" in said.err
    assert "altered" not in said.out + said.err and "forged" not in said.out + said.err


def _ran(capsys, *argv: str) -> tuple[int, str]:
    code = main(list(argv))
    said = capsys.readouterr()
    return code, said.out + said.err


def test_a_missing_input_file_is_exit_2_and_no_such_file_in_every_command(tmp_path, capsys):
    gone = str(tmp_path / "nothere")
    commands = [
        ("audit", "tape", gone + ".jpg"),  # no key given either: the photo is named first
        ("audit", "verify", gone),
        ("audit", "replay", gone),
        ("election", "verify", gone + ".bbpkg", "--authority", gone + ".pub"),
        ("device", "export", "--store", gone + ".db", "--out", str(tmp_path / "out")),
        ("device", "send", "--store", gone + ".db", "--central", "http://127.0.0.1:9"),
        ("device", "unload", "--store", gone + ".db", "--pin-stdin"),
        ("device", "run", "--config", gone + ".toml", "--headless"),
        ("device", "provision", "--store", str(tmp_path / "unit.db"), "--authority", gone + ".pub"),
    ]
    for argv in commands:
        code, said = _ran(capsys, *argv)
        assert code == 2 and "no such file" in said and said.count("\n") == 1, (argv, said)
    code, said = _ran(capsys, "audit", "tape", gone + ".jpg")
    assert "nothere.jpg" in said and "--key" not in said


def test_no_error_line_mixes_two_languages(tmp_path, capsys):
    code, said = _ran(capsys, "--lang", "ru", "device", "send", "--store", str(tmp_path / "x.db"),
                      "--central", "http://127.0.0.1:9")
    assert code == 2 and said.startswith("ballotbox: ошибка: ") and "no such file" not in said, said
    code, said = _ran(capsys, "--lang", "ru", "audit", "verify", str(tmp_path), "--authority", "k.pub")
    # once English only ("ballotbox: error: --authority goes with --package"), now translated too
    assert code == 2 and said.startswith("ballotbox: ошибка: --authority ") and "goes with" not in said, said
