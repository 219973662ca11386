"""``audit verify``: the integrity of an exported unit (``device/results/exports.py``).

It checks the manifest's signature, every file's SHA-256, the journal's hash chain and
sequence, every checkpoint's signature and the head it seals, and each cast vote record against
the signed list.

Which key is the unit's: with ``package`` (a verified ``ElectionPackage``), a key the
package's registry lists for the export's station — so an export rewritten and re-signed with
another key is caught with nothing but the authority's public key; else ``expected_key`` when
the auditor has it from another independent source (the printed results tape); otherwise the
key in the journal's first checkpoint, which every later signature must match (this last one
only detects edits by someone without a key).
"""
from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from device.store.chain import chain_fault, parse_journal
from device.audit.findings import AuditReport, Fault, load_json, open_export, read_export_file
from device.results import exports
from device.store.journal import GENESIS_HASH
from device.store.signing import SignatureError, check_checkpoint, verify


class PackageMismatch(ValueError):
    """The election package given is of another election than the export (bad input)."""


def verify_export(directory: str | Path, expected_key: str | None = None,
                  package: Any = None) -> AuditReport:
    d = Path(directory)
    manifest = open_export(d)
    manifest_raw = read_export_file(d, exports.MANIFEST) or b""  # open_export found it
    report = AuditReport("verify", str(d))
    faults = report.faults
    signatures_raw = read_export_file(d, exports.SIGNATURES)
    signatures = load_json(signatures_raw)
    if signatures_raw is None:
        faults.append(Fault("deleted", exports.SIGNATURES,
                            f"the signatures file is missing: {exports.MANIFEST} cannot be checked"))
    elif not isinstance(signatures, dict):
        faults.append(Fault("altered", exports.SIGNATURES, "not a readable signatures file"))
    signatures = signatures if isinstance(signatures, dict) else {}
    journal_raw = read_export_file(d, exports.JOURNAL)
    records, complete = parse_journal(journal_raw or b"")
    good = [r for r in records if r is not None]

    if package is not None:
        expected_key = _registered_key(package, manifest, faults)
    # the unit's key
    first_cp = next((r for r in good if r["type"] == "checkpoint"), None)
    key = expected_key or (first_cp["data"].get("public_key") if first_cp else None) or manifest.get("public_key")
    report.facts["public_key"] = key
    try:
        if signatures_raw is None:
            pass  # reported above, by name
        elif not isinstance(key, str):
            raise SignatureError("no unit public key")
        elif not verify(key, str(signatures.get("manifest", {}).get("signature", "")),
                      exports.manifest_message(manifest_raw)):
            faults.append(Fault("forged signature", exports.MANIFEST,
                                f"not signed by the unit key {key[:16]}..."))
    except (SignatureError, AttributeError, TypeError):
        faults.append(Fault("forged signature", exports.MANIFEST, "no valid unit public key"))
    if manifest.get("public_key") != key:
        faults.append(Fault("forged signature", exports.MANIFEST,
                            f"names key {str(manifest.get('public_key'))[:16]}..., "
                            f"the unit's is {str(key)[:16]}..."))

    # the journal
    if journal_raw is None:
        faults.append(Fault("deleted", exports.JOURNAL, "the journal file is missing"))
    else:
        fault = chain_fault(records, complete)
        if fault:
            faults.append(fault)
        faults.extend(_checkpoint_faults(good, key))
        head = manifest.get("journal", {})
        last: dict[str, Any] = good[-1] if good else {"seq": 0, "hash": GENESIS_HASH}
        if last["seq"] < head.get("head_seq", 0) and not any(f.kind == "truncated" for f in faults):
            faults.append(Fault("truncated", f"journal record seq {last['seq'] + 1}",
                                f"the journal ends at seq {last['seq']}; the signed manifest says "
                                f"{head.get('head_seq')}"))
        elif last["seq"] > head.get("head_seq", 0):
            faults.append(Fault("inserted", f"journal record seq {head.get('head_seq', 0) + 1}",
                                f"{last['seq'] - head.get('head_seq', 0)} record(s) beyond the signed head"))
        elif last["seq"] == head.get("head_seq") and last["hash"] != head.get("head_hash"):
            faults.append(Fault("altered", f"journal record seq {last['seq']}",
                                "the head differs from the one the manifest seals"))
    faults.extend(_cvr_faults(d, manifest))
    for name, digest in sorted(manifest.get("files", {}).items()):
        if name in (exports.JOURNAL, exports.CVRS):
            continue  # located record by record above
        raw = read_export_file(d, name)
        if raw is None:
            faults.append(Fault("deleted", name, "a signed file is missing"))
        elif exports.sha256_hex(raw) != digest:
            faults.append(Fault("altered", name, "its SHA-256 differs from the signed manifest"))
    for name in (exports.JOURNAL, exports.CVRS):
        raw = read_export_file(d, name)
        if raw is not None and exports.sha256_hex(raw) != manifest.get("files", {}).get(name) \
                and not faults:
            faults.append(Fault("altered", name, "its SHA-256 differs from the signed manifest"))
    report.facts.update(journal_records=len(records),
                        cast_vote_records=manifest.get("cast_vote_records", {}).get("count"))
    return report


def _registered_key(package: Any, manifest: dict, faults: list[Fault]) -> str | None:
    """The unit key the package registers for the export's station (a fault when none fits)."""
    station, claimed = manifest.get("station"), str(manifest.get("public_key"))
    election = manifest.get("election", {})
    if election.get("hash") != package.election.hash:  # the auditor's mix-up, not a tampered export
        raise PackageMismatch(f"this export is of election {election.get('id')!r} "
                              f"({str(election.get('hash'))[:16]}...), the package is of "
                              f"{package.election.id!r} ({package.election.hash[:16]}...): give the "
                              f"package of the export's election")
    keys = package.registry.get(station, ())
    if claimed in keys:
        return claimed
    faults.append(Fault("forged signature", exports.MANIFEST,
                        f"the export's unit key {claimed[:16]}... is not registered for station "
                        f"{station!r} in the election package ({len(keys)} key(s) are)"))
    return keys[0] if keys else claimed


def _checkpoint_faults(records: list[dict], key: str | None) -> list[Fault]:
    by_seq = {r["seq"]: r for r in records}
    out = []
    for r in records:
        if r["type"] != "checkpoint":
            continue
        data = r["data"]
        where = f"journal record seq {r['seq']} (checkpoint {data.get('reason')})"
        if data.get("public_key") != key or not check_checkpoint(data, key or ""):
            out.append(Fault("forged signature", where, "its signature is not the unit key's"))
            continue
        sealed = by_seq.get(data.get("head_seq"))
        if data.get("head_seq") != r["seq"] - 1 or sealed is None or sealed["hash"] != data.get("head_hash"):
            out.append(Fault("altered", where,
                             f"the record it seals (seq {data.get('head_seq')}) is not the one signed"))
    return out


def _cvr_faults(d: Path, manifest: dict) -> list[Fault]:
    raw = read_export_file(d, exports.CVRS)
    if raw is None:
        return [Fault("deleted", exports.CVRS, "the cast vote records file is missing")]
    signed = {i: h for i, h in manifest.get("cast_vote_records", {}).get("sha256", [])}
    out, ids = [], []
    for n, line in enumerate(raw.decode("utf-8", "replace").splitlines(), start=1):
        try:
            cid = json.loads(line)["id"]
        except (ValueError, KeyError, TypeError):
            out.append(Fault("altered", f"cast vote record line {n}", "not a readable record"))
            continue
        ids.append(cid)
        if cid not in signed:
            out.append(Fault("inserted", f"cast vote record {cid}", "not among the signed records"))
        elif exports.sha256_hex(line.encode()) != signed[cid]:
            out.append(Fault("altered", f"cast vote record {cid}", "differs from the signed record"))
    in_order = sorted(ids)
    if ids != in_order:
        p = next(i for i, (a, b) in enumerate(zip(ids, in_order)) if a != b)
        out.append(Fault("reordered", f"cast vote record line {p + 1}", "records are not in id order"))
    for cid in sorted(set(signed) - set(ids)):
        out.append(Fault("deleted", f"cast vote record {cid}", "a signed record is missing"))
    return out
