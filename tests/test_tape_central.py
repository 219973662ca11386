"""End to end: a unit closes its polls, its outbox delivers to the real central tally, and a
photographed tape is checked against what the central tally publishes."""
from __future__ import annotations

import json

import cv2
import httpx
import numpy as np

from device.cli.main import main
from device.election.definition import load_election
from device.results.tape_codes import encode_tape
from device.store.outbox import Outbox
from device.store.sqlite import SqliteStore
from hardware.printer_escpos import slip_bytes
from sim.results.results_feed import unit_signer
from sim.paper.tape_photo import load_gray, photos_of
from sim.twins.printer import PrinterTwin
from tests.central_kit import running_service, served_for
from tests.station_kit import Kit

SEED = 5


def test_unit_outbox_to_central_and_the_tape_matches(tmp_path, capsys, monkeypatch):
    import io
    from sim.unit.access import SIMULATION_PINS, mark_simulation_store
    monkeypatch.setattr("sys.stdin", io.StringIO((SIMULATION_PINS["poll_worker"] + "\n") * 2))
    signer = unit_signer(SEED, "north-1")
    kit = Kit(store=SqliteStore(tmp_path / "unit.db"), signer=signer, mode="test")
    mark_simulation_store(kit.store)
    kit.ctl.open()
    for voter in kit.voters[:4]:
        kit.checkin(voter)
        kit.insert()
    kit.ctl.close()
    signed = kit.ctl.signed_results
    kit.store.close()
    tape = kit.periph.world.printed_slips()[-1]
    twin = PrinterTwin(tmp_path / "printed")
    twin.receive(slip_bytes(tape))
    assert twin.slips[-1].qr_codes == encode_tape(signed)
    photos = []
    for k, img in enumerate(photos_of(load_gray(twin.slips[-1].png_path), np.random.default_rng(1))):
        photos.append(str(tmp_path / f"tape-{k}.jpg"))
        cv2.imwrite(photos[-1], img)
    key = ["--key", signer.public_key_hex()]

    (tmp_path / "central").mkdir()
    with running_service(served_for(kit.election, SEED), tmp_path / "central") as (url, _):
        assert main(["audit", "tape", *photos, *key, "--central", url]) == 1  # not sent yet
        assert "central: not published" in capsys.readouterr().out
        assert main(["device", "send", "--store", str(tmp_path / "unit.db"), "--central", url,
                     "--json", "--pin-stdin"]) == 0
        assert json.loads(capsys.readouterr().out)["delivered"] == 1
        assert httpx.get(f"{url}/api/stations/north-1.json").json() == signed
        # Sent again (as after a power cut that lost the answer): a duplicate, still delivered.
        with SqliteStore(tmp_path / "again.db") as again:
            mark_simulation_store(again)
        with Outbox(tmp_path / "again.db") as box:
            box.put(signed, 0.0)
        assert main(["device", "send", "--store", str(tmp_path / "again.db"), "--central", url,
                     "--pin-stdin"]) == 0
        assert "delivered (HTTP 200 duplicate)" in capsys.readouterr().out
        assert main(["audit", "tape", *photos, *key, "--central", url, "--json"]) == 0
        report = json.loads(capsys.readouterr().out)
        assert report["ok"] and report["central"] == "same" and report["message"] == signed["message"]


def test_qa_flow_sim_package_sim_station_audit_tape_and_send(tmp_path, capsys, monkeypatch):
    """The commands QA runs: a simulation package, a station day on a unit store, its printed
    tape checked against the package, and its outbox sent to a central tally of that seed."""
    pkg = tmp_path / "sim.bbpkg"
    assert main(["sim", "package", "--election", "demo", "--seed", "9", "--out", str(pkg)]) == 0
    authority = pkg.parent / (pkg.name + ".authority.pub")
    assert main(["sim", "station", "--election", "demo", "--seed", "9", "--voters", "20",
                 "--fidelity", "full", "--store", str(tmp_path / "unit.db"),
                 "--out", str(tmp_path / "day"), "--json"]) == 0
    capsys.readouterr()
    (png,) = (tmp_path / "day").rglob("*-results.png")
    assert main(["audit", "tape", str(png), "--package", str(pkg), "--authority", str(authority),
                 "--json"]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["ok"] and report["mode"] == "test" and report["station"] == "north-1"
    (tmp_path / "central").mkdir()
    with running_service(served_for(load_election("demo"), 9), tmp_path / "central") as (url, _):
        import io
        from sim.unit.access import SIMULATION_PINS
        monkeypatch.setattr("sys.stdin", io.StringIO(SIMULATION_PINS["poll_worker"] + "\n"))
        assert main(["device", "send", "--store", str(tmp_path / "unit.db"), "--central", url,
                     "--pin-stdin"]) == 0
        assert main(["audit", "tape", str(png), "--package", str(pkg), "--authority", str(authority),
                     "--central", url]) == 0
        assert "central: same" in capsys.readouterr().out
