"""Unit key provisioning, checkpoint signatures, and (below) the export files."""
from __future__ import annotations

import random

from device.signing import (UnitSigner, append_checkpoint, check_checkpoint, checkpoint_message,
                            provision, verify)
from device.sqlite_store import SqliteStore
from device.store import MemoryStore


def test_key_is_created_once_and_kept_with_the_store(tmp_path):
    path = tmp_path / "u.db"
    s = SqliteStore(path)
    k1 = provision(s)
    s.close()
    s2 = SqliteStore(path)
    k2 = provision(s2)
    assert k1.public_key_hex() == k2.public_key_hex() and k2.origin == "device"
    assert len(k1.public_key_hex()) == 64


def test_seeded_simulation_key_reproduces_and_is_marked(tmp_path):
    a = provision(SqliteStore(tmp_path / "a.db"), random.Random(3))
    b = provision(SqliteStore(tmp_path / "b.db"), random.Random(3))
    assert a.public_key_hex() == b.public_key_hex() and a.origin == "simulation"
    assert provision(SqliteStore(tmp_path / "a.db")).origin == "simulation"


def test_checkpoint_signs_the_head_and_verifies():
    store = MemoryStore()
    signer = UnitSigner.generate(random.Random(1))
    store.append_event("open_polls", {}, 1)
    head = list(store.events())[-1]
    rec = append_checkpoint(store, signer, "polls_open", 2)
    assert rec.data["head_seq"] == head.seq and rec.data["head_hash"] == head.hash
    assert check_checkpoint(rec.data, signer.public_key_hex())
    other = UnitSigner.generate(random.Random(2))
    assert not check_checkpoint(rec.data, other.public_key_hex())
    forged = dict(rec.data, head_seq=head.seq + 1)
    assert not check_checkpoint(forged, signer.public_key_hex())
    assert verify(signer.public_key_hex(), rec.data["signature"],
                  checkpoint_message("polls_open", head.seq, head.hash))
