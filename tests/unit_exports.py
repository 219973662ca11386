"""Test helpers (not tests): station days on a SqliteStore, exported, and journal rewriting."""
from __future__ import annotations

import hashlib
import json
import random
from pathlib import Path

from device.election.definition import load_election
from device.results.exports import export_unit, json_doc, json_line, manifest_message
from device.store.signing import checkpoint_data, provision
from device.store.sqlite import SqliteStore
from device.store.journal import GENESIS_HASH, record_hash
from sim.unit.access import mark_simulation_store
from sim.day.station import run_station_day
from sim.day.voters import load_scenario


def exported_day(root: Path, *, election: str = "demo", voters: int = 120, seed: int = 5) -> Path:
    """Run a logical station day on a SqliteStore at root/unit.db and export it to root/export."""
    return exported_station_day(root, election=election, voters=voters, seed=seed)[0]


def exported_station_day(root: Path, *, election: str = "demo", voters: int = 120, seed: int = 5,
                         fidelity: str = "logical", scenario=None):
    """A station day at ``fidelity`` on a SqliteStore at root/unit.db, exported to root/export:
    (the export folder, the played ``StationDay``, its report). The store is closed."""
    e = load_election(election)
    root.mkdir(parents=True, exist_ok=True)
    store = SqliteStore(root / "unit.db", durability="simulation")
    signer = provision(store, random.Random(f"{seed}:key"))
    mark_simulation_store(store)  # a simulator's store: `device export` asks the simulated PIN
    day = run_station_day(e, None, registered=voters, seed=seed, fidelity=fidelity,
                          scenario=scenario or load_scenario(None, e, election), store=store, signer=signer)
    report = day.report()
    export_unit(store, e, root / "export", signer)
    store.close()
    return root / "export", day, report


def read_records(path: Path) -> list[dict]:
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def write_records(path: Path, records: list[dict]) -> None:
    path.write_text("".join(json_line(r) + "\n" for r in records), encoding="utf-8")


def rechain(records: list[dict], start: int = 0) -> None:
    """Renumber and rehash records[start:] so the chain is consistent again (an attacker's work)."""
    for i in range(start, len(records)):
        r = records[i]
        r["seq"] = i + 1
        r["prev_hash"] = records[i - 1]["hash"] if i else GENESIS_HASH
        r["hash"] = record_hash(r["seq"], r["type"], r["at"], r["data"], r["prev_hash"])


def resign_manifest(export: Path, signer) -> None:
    """Rehash every file into the manifest and sign it with ``signer`` (an attacker's key)."""
    manifest = json.loads((export / "manifest.json").read_text())
    manifest["public_key"] = signer.public_key_hex()
    for name in list(manifest["files"]):
        manifest["files"][name] = hashlib.sha256((export / name).read_bytes()).hexdigest()
    raw = json_doc(manifest)
    (export / "manifest.json").write_bytes(raw)
    sigs = json.loads((export / "signatures.json").read_text())
    sigs["public_key"] = signer.public_key_hex()
    sigs["manifest"] = {"sha256": hashlib.sha256(raw).hexdigest(),
                        "signature": signer.sign(manifest_message(raw)).hex()}
    (export / "signatures.json").write_bytes(json_doc(sigs))


def forge_whole_export(export: Path, attacker) -> None:
    """Re-sign every checkpoint and the manifest with ``attacker``: consistent in itself."""
    recs = read_records(export / "journal.jsonl")
    for i, r in enumerate(recs):  # re-sign every checkpoint and rebuild the chain after it
        if r["type"] == "checkpoint":
            r["data"] = checkpoint_data(attacker, r["data"]["reason"], recs[i - 1]["seq"], recs[i - 1]["hash"])
            rechain(recs, i)
    write_records(export / "journal.jsonl", recs)
    resign_manifest(export, attacker)
    manifest = json.loads((export / "manifest.json").read_text())
    manifest["journal"].update(head_seq=recs[-1]["seq"], head_hash=recs[-1]["hash"])
    (export / "manifest.json").write_bytes(json_doc(manifest))
    resign_manifest(export, attacker)
