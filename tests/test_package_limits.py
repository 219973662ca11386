"""What a package file cannot do to a unit: change identity by its wrapping, exhaust its memory,
or lie about a member the authority signed. And the file's mode.

A zip bomb here is a real package whose roll member is replaced by a stream that inflates to
1 GiB of zeros (about 1 MB compressed), with the zip's headers claiming the honest size and CRC:
the old reader trusted the headers and inflated the whole member in one piece (a 1 GiB peak).
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
import subprocess
import sys
import zipfile
import zlib

import pytest

from device.election.package import MANIFEST, PackageError, load_package
from device.election.package_format import LIMITS
from tests.package_kit import make_package
from tests.test_packages import rewrite

GIB = 1 << 30


def _identity(path) -> str:
    with zipfile.ZipFile(path) as zf:
        return hashlib.sha256(zf.read(MANIFEST)).hexdigest()


def test_identity_is_the_signed_manifest_not_the_file_bytes(tmp_path):
    path, authority, _ = make_package(tmp_path)
    key = authority.public_key_hex()
    pkg = load_package(path, key)
    assert pkg.sha256 == _identity(path)
    junk = tmp_path / "junk.bbpkg"  # bytes in front of the zip (zip readers skip them)
    junk.write_bytes(b"\x7fELF junk in front " * 1000 + path.read_bytes())
    commented = tmp_path / "comment.bbpkg"
    with zipfile.ZipFile(path) as zf, zipfile.ZipFile(commented, "w") as out:
        for info in zf.infolist():
            out.writestr(info, zf.read(info))
        out.comment = b"a comment changes the file's bytes, not the package"
    for wrapped in (junk, commented):
        assert hashlib.sha256(wrapped.read_bytes()).digest() != hashlib.sha256(path.read_bytes()).digest()
        assert load_package(wrapped, key).sha256 == pkg.sha256


def test_election_package_writes_the_package_owner_only(tmp_path, monkeypatch, capsys):
    from tests.package_kit import cli
    monkeypatch.chdir(tmp_path)
    os.umask(0o022)
    assert cli(monkeypatch, capsys, "election", "keygen", "--out", "keys")[0] == 0
    (tmp_path / "roll.csv").write_text("voter_id,document_number,station_id\nV1,D1,north-1\n")
    code, out = cli(monkeypatch, capsys, "election", "package", "--election", "demo", "--roll",
                    "roll.csv", "--key", "keys/authority.key", "--out", "demo.bbpkg", "--mode",
                    "simulation")
    assert code == 0, out
    assert stat.S_IMODE(os.stat(tmp_path / "demo.bbpkg").st_mode) == 0o600


# --- zip bombs ----------------------------------------------------------------------------

class _InflatesToOneGiB:
    """Stands in for zipfile's compressor: whatever is written, the member's deflate stream is
    1 GiB of zeros (1,024 copies of one fully flushed 1 MiB block, about 1 MB in all), while
    the headers keep the size and CRC of the bytes written (the honest member)."""

    def __init__(self):
        c = zlib.compressobj(9, zlib.DEFLATED, -15)
        block = c.compress(bytes(1 << 20)) + c.flush(zlib.Z_FULL_FLUSH)
        self.stream = block * (GIB >> 20) + zlib.compressobj(9, zlib.DEFLATED, -15).flush()

    def compress(self, data: bytes) -> bytes:
        return b""

    def flush(self) -> bytes:
        return self.stream


def _bomb(tmp, signed: bool):
    """A real package whose rolls/north-1.csv inflates to 1 GiB, its headers lying; without
    manifest.sig unless ``signed``."""
    path, authority, _ = make_package(tmp, name=f"source-{signed}.bbpkg")
    out = tmp / f"bomb-{'signed' if signed else 'unsigned'}.bbpkg"
    with zipfile.ZipFile(path) as src, zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for info in src.infolist():
            data = src.read(info)
            if info.filename == "manifest.sig" and not signed:
                continue
            if info.filename != "rolls/north-1.csv":
                zf.writestr(info, data)
                continue
            with zf.open(info, "w") as fh:
                fh._compressor = _InflatesToOneGiB()
                fh.write(data)
    return out, authority.public_key_hex()


@pytest.fixture(scope="module")
def bomb(tmp_path_factory):
    return _bomb(tmp_path_factory.mktemp("bomb"), signed=True)


_MEASURE = """
import json, resource, sys, tracemalloc
from device.election.package import PackageError, load_package
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
tracemalloc.start()
try:
    load_package(sys.argv[1], sys.argv[2])
    reason = None
except PackageError as exc:
    reason = exc.reason
peak = tracemalloc.get_traced_memory()[1]
grown = (resource.getrusage(resource.RUSAGE_SELF).ru_maxrss - before) * 1024
print(json.dumps({"reason": reason, "traced_peak": peak, "rss_growth": grown}))
"""


def _load_measured(path, key) -> dict:
    """Load in a fresh interpreter: the refusal, tracemalloc's peak and the growth of the
    resident set (ru_maxrss) during the load."""
    proc = subprocess.run([sys.executable, "-c", _MEASURE, str(path), key], capture_output=True,
                          text=True, timeout=300)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def test_a_zip_bomb_is_refused_with_little_memory(bomb):
    path, key = bomb
    assert path.stat().st_size < 2 << 20  # about 1 MB on disk
    seen = _load_measured(path, key)
    assert seen["reason"] in ("altered", "malformed"), seen
    assert seen["traced_peak"] < 100 << 20 and seen["rss_growth"] < 100 << 20, seen


def test_an_unsigned_bomb_is_refused_before_any_member_is_read(tmp_path):
    path, key = _bomb(tmp_path, signed=False)
    seen = _load_measured(path, key)
    assert seen["reason"] == "unsigned", seen
    assert seen["traced_peak"] < 100 << 20 and seen["rss_growth"] < 100 << 20, seen


def test_a_signed_member_longer_than_signed_is_cut_at_its_size(tmp_path):
    """Honest headers, a member grown past its signed size: refused at the size + one piece."""
    path, authority, _ = make_package(tmp_path)
    grown = rewrite(path, tmp_path / "grown.bbpkg",
                    lambda m: m.update({"staff.json": m["staff.json"] + b" " * (8 << 20)}))
    with pytest.raises(PackageError) as info:
        load_package(grown, authority.public_key_hex())
    assert info.value.reason == "altered" and "staff.json" in str(info.value)


def test_a_manifest_declaring_more_than_a_unit_reads_is_refused(tmp_path, monkeypatch):
    path, authority, _ = make_package(tmp_path)
    monkeypatch.setitem(LIMITS, "package_bytes", 10_000)  # a unit with a smaller cap
    with pytest.raises(PackageError) as info:
        load_package(path, authority.public_key_hex())
    assert info.value.reason == "too_large"
