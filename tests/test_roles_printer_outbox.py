"""What the unit journals about paper is what is on paper; a failed outbox never stops the tape."""
from __future__ import annotations

import random
import sqlite3

import pytest

from device.station.controller import ControllerError
from device.store.outbox import Outbox
from device.store.signing import UnitSigner
from device.store.sqlite import SqliteStore
from tests.station_kit import Kit

SIGNER = UnitSigner.generate(random.Random(7))


def types(kit):
    return [r.type for r in kit.store.events()]


def test_no_paper_no_open_polls_and_a_retry_after_new_paper_opens(tmp_path):
    kit = Kit(store=SqliteStore(tmp_path / "unit.db"), signer=SIGNER)
    kit.periph.printer.paper_out = True
    with pytest.raises(ControllerError) as info:
        kit.ctl.open()
    assert "out of paper" in str(info.value)
    assert kit.ctl.polls == "election_loaded"
    assert "zero_report_printed" not in types(kit) and "open_polls" not in types(kit)
    fault = next(r for r in kit.store.events() if r.type == "printer_fault")
    assert fault.data["report"] == "zero_report" and "out of paper" in fault.data["detail"]
    assert kit.checkin(kit.voters[0]).outcome == "polls_not_open"
    kit.boot()  # a restart does not open them either
    assert kit.ctl.polls == "election_loaded"
    kit.periph.printer.paper_out = False  # the poll worker puts a new roll in
    kit.ctl.open()
    assert kit.ctl.polls == "polls_open"
    assert [s.kind for s in kit.periph.world.printed_slips()] == ["zero_report"]
    assert types(kit).index("zero_report_printed") < types(kit).index("open_polls")


def test_a_results_tape_not_printed_is_journaled_as_a_printer_fault_then_reprinted(tmp_path):
    kit = Kit(store=SqliteStore(tmp_path / "unit.db"), signer=SIGNER)
    kit.ctl.open()
    kit.checkin(kit.voters[0])
    assert kit.insert().status == "cast"
    kit.periph.printer.paper_out = True
    kit.ctl.close()
    assert "results_printed" not in types(kit)
    assert [r.data["report"] for r in kit.store.events() if r.type == "printer_fault"] == ["results"]
    assert kit.ctl.printer_fault is not None
    kit.periph.printer.paper_out = False
    kit.boot()  # the boot finishes the close: the tape prints now, and only now is it journaled
    assert types(kit).count("results_printed") == 1
    assert kit.periph.world.printed_slips()[-1].kind == "results"
    kit.ctl.reprint("results")  # a real reprint of a printed tape is a reprint
    assert types(kit).count("results_printed") == 1 and types(kit)[-1] == "report_reprinted"


def test_reprint_of_a_tape_that_never_printed_is_its_first_print(tmp_path):
    kit = Kit(store=SqliteStore(tmp_path / "unit.db"), signer=SIGNER)
    kit.ctl.open()
    kit.periph.printer.paper_out = True
    kit.ctl.close()
    kit.ctl.reprint("results")  # still no paper: a second fault, nothing printed
    assert "results_printed" not in types(kit) and "report_reprinted" not in types(kit)
    assert types(kit).count("printer_fault") == 2
    kit.periph.printer.paper_out = False
    kit.ctl.reprint("results")
    assert types(kit).count("results_printed") == 1 and "report_reprinted" not in types(kit)


def _fill_outbox(path):
    """The outbox refuses every write, as a full disk would (a real SQLite error)."""
    Outbox(path).close()
    with sqlite3.connect(path) as conn:
        conn.execute("CREATE TRIGGER outbox_full BEFORE INSERT ON outbox "
                     "BEGIN SELECT RAISE(ABORT, 'database or disk is full'); END")


def test_a_failed_outbox_write_still_prints_the_tape_and_tells_the_operator(tmp_path):
    path = tmp_path / "unit.db"
    kit = Kit(store=SqliteStore(path), signer=SIGNER)
    kit.ctl.open()
    kit.checkin(kit.voters[0])
    kit.insert()
    _fill_outbox(path)
    kit.ctl.close()
    tape = kit.periph.world.printed_slips()[-1]
    assert tape.kind == "results" and kit.ctl.signed_results is not None
    assert "results_printed" in types(kit)
    assert kit.ctl.outbox_fault.code == "store_write_failed"
    assert "disk is full" in kit.ctl.outbox_fault.text
    kit.boot()  # every boot after it: no TypeError either
    kit.ctl.reprint("results")
    assert kit.ctl.outbox_fault is not None and types(kit)[-1] == "report_reprinted"
    with Outbox(path) as box:
        assert box.items() == []
