"""``ballotbox central serve`` refuses bad input with one line and exit 2, before serving; the
confidential election package is refused with the reason (a results server holds the public one)."""
from __future__ import annotations

import pytest

from device.cli.main import main as ballotbox


@pytest.fixture(scope="module")
def package(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("pkg")
    pkg = tmp / "sim.pkg"
    assert ballotbox(["sim", "package", "--election", "demo", "--seed", "9", "--out", str(pkg)]) == 0
    return tmp / "sim.pkg.public.json", (tmp / "sim.pkg.authority.pub").read_text().strip()


@pytest.mark.parametrize("change,message", [
    ({"--authority": "zz"}, "64 hex digits"),
    ({"--authority": "ab" * 32}, "authority"),
    ({"--listen": "localhost"}, "HOST:PORT"),
    ({"--db": "postgresql://nobody@127.0.0.1:1/central"}, "--public: say where the results site goes"),
    ({"--db": "postgresql://nobody@127.0.0.1:1/central", "--public": "PUBLICDIR"}, "PostgreSQL at 127.0.0.1:1/central"),
    ({"--db": "mysql://db/central"}, "no mysql store"),
    ({"--db": "GARBAGE"}, "not a usable"),
    ({"--mode": "live"}, "refuses a simulation package"),
    ({"--package": "missing.pkg"}, "missing.pkg"),
    ({"--package": "CONFIDENTIAL"}, "confidential election package (voter rolls, PIN hashes"),
])
def test_bad_input_is_one_line_and_exit_2(package, tmp_path, capsys, change, message):
    pkg, authority = package
    garbage = tmp_path / "garbage.db"
    garbage.write_bytes(b"this is not a database" * 100)
    args = {"--package": str(pkg), "--authority": authority, "--db": str(tmp_path / "c.db"),
            "--listen": "127.0.0.1:9"}
    confidential = pkg.with_name("sim.pkg")
    args.update({k: {"GARBAGE": str(garbage), "CONFIDENTIAL": str(confidential),
                                    "PUBLICDIR": str(tmp_path / "pub")}.get(v, v)
                 for k, v in change.items()})
    argv = ["central", "serve"] + [x for kv in args.items() for x in kv]
    assert ballotbox(argv) == 2
    err = capsys.readouterr().err.strip()
    assert len(err.splitlines()) == 1 and message in err and "Traceback" not in err
