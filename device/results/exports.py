"""Exporting a unit: everything an auditor needs, in one folder, sealed by the unit's key.

``export_unit(store, election, out_dir, signer)`` first appends a signed ``export`` checkpoint
to the unit's journal, then writes (all UTF-8, LF line ends):

- ``journal.jsonl`` — every journal record, one JSON object a line (seq, type, at, data,
  prev_hash, hash), ending with the export checkpoint;
- ``cast_vote_records.jsonl`` — the cast vote records, one a line, sorted by their random id
  (no time, no sequence: an order unrelated to casting);
- ``results.json`` — the station tally recomputed from those records (``device/results/tally.py``);
- ``results_signed.json`` — when the unit has closed its polls: the signed results messages it
  printed on its tape and keeps in its outbox (``device/results/signed_results.py``), oldest
  first (a reopened station has more than one);
- ``election.json`` — the election definition in canonical bytes (its SHA-256 is the
  election hash);
- ``public_key.txt`` / ``public_key.pem`` — the unit's Ed25519 public key;
- ``nist/event_log.json`` (SP 1500-101), ``nist/event_log_documentation.json``,
  ``nist/cast_vote_records.json`` (SP 1500-103), ``nist/election_results.json`` (SP 1500-100);
- ``ballot_manifest.csv`` — the Arlo ballot manifest;
- ``manifest.json`` — the SHA-256 of every file above, the journal head, and the SHA-256 of
  each cast vote record by id;
- ``signatures.json`` — the unit's signature of ``manifest.json`` and every checkpoint
  signature found in the journal.

After writing, an ``export_written`` event with the manifest's SHA-256 is journaled (it appears
in the next export). ``ballotbox audit verify`` / ``replay`` read this folder.
"""
from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any

from device.results import nist as nist_export
from device.store.canonical_json import canonical_json
from device.ballots.records import CastVoteRecord
from device.election.definition import Election
from device.store.signing import append_checkpoint
from device.store.journal import StationStore
from device.results.signed_results import Signer
from device.results.tally import tally_station

FORMAT = "ballotbox-export/1"
JOURNAL, CVRS, RESULTS, ELECTION = "journal.jsonl", "cast_vote_records.jsonl", "results.json", "election.json"
MANIFEST, SIGNATURES = "manifest.json", "signatures.json"
SIGNED_RESULTS = "results_signed.json"


class ExportError(ValueError):
    """The unit cannot be exported as asked (message names what is wrong)."""


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


json_line = canonical_json  # one record a line: the canonical encoding


def json_doc(obj: Any) -> bytes:
    return (json.dumps(obj, sort_keys=True, indent=1, ensure_ascii=False, allow_nan=False) + "\n").encode()


def cvr_line(cvr: CastVoteRecord) -> str:
    return json_line(cvr.to_json())


def manifest_message(manifest_bytes: bytes) -> bytes:
    """The bytes the unit signs for an export: a domain tag and the manifest's SHA-256."""
    return b"ballotbox-export-manifest/1|" + sha256_hex(manifest_bytes).encode("ascii")


def station_of(records) -> str | None:
    for r in records:
        if r.type == "load_election" and "station" in r.data:
            return r.data["station"]
    return None


def _signed_results(store: StationStore) -> list[dict[str, Any]]:
    """The signed results messages in the unit store's outbox (none for a store without a file)."""
    path = getattr(store, "path", None)
    if path is None:
        return []
    from device.store.outbox import Outbox
    with Outbox(path) as outbox:
        messages = [item.message for item in outbox.items()]
    return sorted(messages, key=lambda s: s["message"]["sequence"])


def export_unit(store: StationStore, election: Election, out_dir: str | Path, signer: Signer, *,
                station_id: str | None = None, at: float | None = None,
                role: str | None = None) -> dict[str, Any]:
    """Write the export folder (see the module docstring); return a summary. ``role``: the
    operator role that asked for it, journaled with ``export_written``."""
    out = Path(out_dir)
    if (out / MANIFEST).exists():
        raise ExportError(f"{out} already holds an export; choose an empty folder")
    records = list(store.events())
    if not records:
        raise ExportError("the unit's journal is empty: nothing to export")
    station_id = station_id or station_of(records)
    if station_id is None:
        raise ExportError("the journal has no load_election event naming the station; give station_id")
    if station_id not in election.stations:
        raise ExportError(f"station {station_id!r} is not in election {election.id!r}")
    loaded = [r.data.get("election_hash") for r in records if r.type == "load_election"]
    if loaded and loaded[-1] not in (None, election.hash):
        raise ExportError(f"the unit loaded election hash {loaded[-1][:16]}..., not {election.hash[:16]}...")
    at = records[-1].at if at is None else at
    append_checkpoint(store, signer, "export", at)
    records = list(store.events())
    cvrs = store.cast_vote_records()
    cvr_lines = [cvr_line(c) for c in cvrs]
    results = tally_station(election, station_id, cvrs).to_json()
    key = signer.public_key_hex()
    unit_id = nist_export.device_id(station_id, key)

    files: dict[str, bytes] = {
        JOURNAL: "".join(json_line(r.to_json()) + "\n" for r in records).encode(),
        CVRS: "".join(line + "\n" for line in cvr_lines).encode(),
        RESULTS: json_doc(results),
        ELECTION: election.canonical_bytes(),
        "public_key.txt": (key + "\n").encode(),
        "nist/event_log.json": json_doc(nist_export.event_log(election, station_id, key, records, at)),
        "nist/event_log_documentation.json": json_doc(nist_export.event_log_documentation(at)),
        "nist/cast_vote_records.json": json_doc(nist_export.cast_vote_records(election, station_id, key, cvrs, at)),
        "nist/election_results.json": json_doc(nist_export.election_results(election, station_id, key, results, at)),
        "ballot_manifest.csv": nist_export.ballot_manifest_csv(station_id, unit_id, cvrs).encode(),
    }
    signed_results = _signed_results(store)
    if signed_results:
        files[SIGNED_RESULTS] = json_doc(signed_results)
    pem = getattr(signer, "public_key_pem", None)
    if pem is not None:
        files["public_key.pem"] = pem().encode()
    head = records[-1]
    manifest = {
        "format": FORMAT, "station": station_id, "unit": unit_id,
        "election": {"id": election.id, "hash": election.hash},
        "public_key": key, "key_origin": getattr(signer, "origin", "device"), "generated_at": at,
        "journal": {"records": len(records), "head_seq": head.seq, "head_hash": head.hash},
        "cast_vote_records": {"count": len(cvrs),
                              "sha256": [[c.id, sha256_hex(line.encode())] for c, line in zip(cvrs, cvr_lines)]},
        "files": {name: sha256_hex(data) for name, data in sorted(files.items())},
    }
    manifest_bytes = json_doc(manifest)
    checkpoints = [{"seq": r.seq, **{k: r.data.get(k) for k in ("reason", "head_seq", "head_hash",
                                                                   "signature", "public_key")}}
                   for r in records if r.type == "checkpoint"]
    signatures = {"public_key": key,
                  "manifest": {"sha256": sha256_hex(manifest_bytes),
                               "signature": signer.sign(manifest_message(manifest_bytes)).hex()},
                  "checkpoints": checkpoints}
    files[MANIFEST] = manifest_bytes
    files[SIGNATURES] = json_doc(signatures)
    try:
        for name, data in files.items():
            path = out / name
            path.parent.mkdir(parents=True, exist_ok=True)
            path.write_bytes(data)
    except OSError as exc:
        raise ExportError(f"cannot write the export to {out}: {exc.strerror or exc}") from None
    store.append_event("export_written", {"manifest_sha256": sha256_hex(manifest_bytes),
                                          "journal_head_seq": head.seq,
                                          **({"role": role} if role else {})}, at)
    return {"out": str(out), "station": station_id, "journal_records": len(records),
            "cast_vote_records": len(cvrs), "manifest_sha256": sha256_hex(manifest_bytes),
            "public_key": key}
