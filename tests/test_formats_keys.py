"""One reading of an authority key and one mode rule for every program: the central tally's
``--authority`` reads a key as ``device provision`` and ``election verify`` do (so a private key
file given by mistake is refused, not taken for a public key), and a served package's results
mode is the unit's (``mode_for_package``)."""
from __future__ import annotations

import pytest

from central.cli import authority_key
from device.cli.main import UserError
from device.election.authority import generate_authority_keys
from device.results.signed_results import mode_for_package


def test_central_reads_the_authority_key_as_the_unit_does(tmp_path):
    private, public = generate_authority_keys(tmp_path / "keys")
    hex_key = public.read_text(encoding="ascii").split()[-1].lower()
    assert authority_key(str(public)) == authority_key(hex_key.upper()) == hex_key
    with pytest.raises(UserError, match="PRIVATE key") as err:
        authority_key(str(private))
    assert private.read_text(encoding="ascii").split()[-1] not in str(err.value)  # never quoted
    with pytest.raises(UserError, match="64 hex digits"):
        authority_key("zz")


def test_a_served_package_gets_the_units_results_mode(tmp_path):
    from central.served import from_package
    from device.cli.main import main
    from device.election.public_package import load_public_package

    pkg = tmp_path / "sim.pkg"
    assert main(["sim", "package", "--election", "demo", "--seed", "9", "--out", str(pkg)]) == 0
    public = load_public_package(tmp_path / "sim.pkg.public.json",
                                 authority_key(str(tmp_path / "sim.pkg.authority.pub")))
    assert public.mode == "simulation"
    assert from_package(public).mode == mode_for_package(public.mode) == "test"
