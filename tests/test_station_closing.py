"""Closing the polls in stages, each journaled once, resumed after a power cut (issue #20 §1).

The power cut is real as far as the file goes: the store commits a stage's record, the database
file is copied as it is on disk at that moment, and the unit boots again on the copy (what was
not committed is lost, as it would be). The stages — ``close_polls``, the ``polls_close``
checkpoint, the signed results in the outbox, ``results_printed`` — must each happen exactly
once however many times the power goes during the close.
"""
from __future__ import annotations

import random
import shutil
from pathlib import Path

import pytest

from device.audit.replay import replay_export
from device.audit.verify import verify_export
from device.station.closing import CLOSE_STAGES, CloseStage
from device.store.outbox import Outbox
from device.store.signing import provision
from device.store.sqlite import SqliteStore
from tests.station_kit import Kit


class PowerCut(BaseException):
    """The power went: nothing after this point runs (not an error the unit could catch)."""


class CuttingStore(SqliteStore):
    """A SqliteStore whose power goes right after it commits a record of type ``cut_after``:
    the file is copied to ``snapshot`` as it is on disk, then ``PowerCut`` is raised."""

    def __init__(self, path: Path, cut_after: str | None, snapshot: Path):
        super().__init__(path, durability="simulation")
        self.cut_after, self.snapshot = cut_after, snapshot

    def append_event(self, type_, data, at, *, durable=True):
        rec = super().append_event(type_, data, at, durable=durable)
        if type_ == self.cut_after and durable:
            shutil.copyfile(self.path, self.snapshot)
            raise PowerCut(type_)
        return rec


def stage_records(store) -> list[str]:
    names = []
    for r in store.events():
        key = (r.type, r.data.get("reason")) if r.type == "checkpoint" else r.type
        if CLOSE_STAGES.get(key) is not None:
            names.append(r.type)
    return names


def day_until_close(tmp_path: Path, cut_after: str | None) -> tuple[Kit, CuttingStore]:
    db = tmp_path / "boot0.db"
    store = CuttingStore(db, None, tmp_path / "cut.db")
    signer = provision(store, random.Random(7))
    kit = Kit(store=store, signer=signer, voters=6)
    kit.ctl.open()
    for voter in kit.voters[:4]:
        assert kit.checkin(voter).authorised
        assert kit.insert().status == "cast"
    store.cut_after = cut_after
    return kit, store


def reboot(kit: Kit, tmp_path: Path, n: int, cut_after: str | None) -> None:
    """Boot on the file as the last cut left it (renamed, as a new medium would be)."""
    kit.store.close()
    db = tmp_path / f"boot{n}.db"
    shutil.copyfile(tmp_path / "cut.db", db)
    kit.store = CuttingStore(db, cut_after, tmp_path / "cut.db")
    kit.signer = provision(kit.store, random.Random(7))  # the unit's key, read back
    try:
        kit.boot()
    except PowerCut:  # the boot resumed the close and the power went again
        reboot(kit, tmp_path, n + 1, None)


@pytest.mark.parametrize("cut_after", ["close_polls", "checkpoint", "results_printed"])
def test_a_close_cut_by_a_power_loss_resumes_without_repeating_a_stage(tmp_path, cut_after):
    kit, _ = day_until_close(tmp_path, cut_after)
    with pytest.raises(PowerCut):
        kit.ctl.close()
    tapes_before = [s for s in kit.periph.printer.slips if s.kind == "results"]
    reboot(kit, tmp_path, 1, None)
    ctl = kit.ctl
    assert stage_records(kit.store) == ["close_polls", "checkpoint", "results_printed"]
    assert ctl._close_stage is CloseStage.PRINTED and ctl.polls == "polls_closed"
    tapes = [s for s in kit.periph.printer.slips if s.kind == "results"]
    assert len(tapes) == 1, f"the results tape printed {len(tapes)} times"
    assert len(tapes_before) == (1 if cut_after == "results_printed" else 0)
    with Outbox(kit.store.path) as outbox:  # the outbox is in the store's file: the cut kept it
        kept = outbox.items()
    assert len(kept) == 1 and kept[0].message["message"]["ballots_cast"] == 4


def test_a_power_cut_at_every_stage_in_turn_still_closes_once(tmp_path):
    kit, _ = day_until_close(tmp_path, "close_polls")
    with pytest.raises(PowerCut):
        kit.ctl.close()
    reboot(kit, tmp_path, 1, "checkpoint")  # the boot resumes the close and is cut again
    assert kit.store.path.name == "boot2.db"  # booted at last, on the second cut's file
    stages = stage_records(kit.store)
    assert stages == ["close_polls", "checkpoint", "results_printed"], stages
    assert len([s for s in kit.periph.printer.slips if s.kind == "results"]) == 1
    export = tmp_path / "export"
    kit.ctl.access = kit.access()
    kit.ctl.export(export)
    assert verify_export(export).faults == [] and replay_export(export).faults == []


def test_a_reopened_close_goes_through_every_stage_again(tmp_path):
    kit, store = day_until_close(tmp_path, None)
    kit.ctl.close()
    kit.ctl.reopen()
    kit.ctl.resume()
    kit.ctl.close()
    assert stage_records(store) == ["close_polls", "checkpoint", "results_printed"] * 2
    assert kit.ctl.signed_results["message"]["sequence"] == 2
