"""The auditor's checks of an exported unit (``device/exports.py``): verify and replay.

``verify_export(dir, expected_key=None)`` checks integrity: the manifest's signature, every
file's SHA-256, the journal's hash chain and sequence, every checkpoint's signature and the
head it seals, and each cast vote record against the signed list. ``replay_export(dir)`` checks
meaning: it runs the journal back through the station's state machine
(``device/station_machine.build_machines``), reports any transition the machine would not
allow, checks that no voter was authorised twice and that cast events equal cast vote records,
recomputes the tally from the records and compares it with the signed results.

Each finding is a ``Fault(kind, where, detail)``; kinds for integrity are ``altered``,
``deleted``, ``reordered``, ``inserted``, ``truncated`` and ``forged signature`` (plus
``missing`` for an absent file), for replay ``disallowed transition``, ``count mismatch``,
``double check-in`` and ``tally mismatch``. The first fault names the first bad record.

Which key is the unit's: ``expected_key`` when the auditor has it from an independent source
(the provisioning register, the printed results tape) — the only defence against an attacker
who rewrites and re-signs everything with a key of their own; otherwise the key in the
journal's first checkpoint, which every later signature must match.
"""
from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from device import exports
from device.signing import SignatureError, check_checkpoint, verify
from device.store import GENESIS_HASH, record_hash

_FIELDS = {"seq": int, "type": str, "data": dict, "prev_hash": str, "hash": str}


@dataclass(frozen=True)
class Fault:
    kind: str
    where: str
    detail: str

    def to_json(self) -> dict[str, str]:
        return {"kind": self.kind, "where": self.where, "detail": self.detail}

    def __str__(self) -> str:
        return f"{self.kind}: {self.where}: {self.detail}"


@dataclass
class AuditReport:
    check: str
    directory: str
    faults: list[Fault] = field(default_factory=list)
    facts: dict[str, Any] = field(default_factory=dict)

    @property
    def ok(self) -> bool:
        return not self.faults

    def to_json(self) -> dict[str, Any]:
        return {"check": self.check, "directory": self.directory, "ok": self.ok,
                "first_fault": self.faults[0].to_json() if self.faults else None,
                "faults": [f.to_json() for f in self.faults], **self.facts}


class ExportReadError(ValueError):
    """The folder is not an export at all (no manifest): bad input, not a fault."""


# --- reading -------------------------------------------------------------------------------

def _read(directory: Path, name: str) -> bytes | None:
    try:
        return (directory / name).read_bytes()
    except FileNotFoundError:
        return None


def _load_json(raw: bytes | None) -> Any:
    if raw is None:
        return None
    try:
        return json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None


def parse_journal(raw: bytes) -> tuple[list[dict | None], bool]:
    """Records of ``journal.jsonl`` (None for a line that is not a complete record) and whether
    the file ends with a line end."""
    lines = raw.split(b"\n")
    complete = raw.endswith(b"\n") or not raw
    if complete:
        lines = lines[:-1]
    out: list[dict | None] = []
    for line in lines:
        try:
            obj = json.loads(line.decode("utf-8"))
        except (UnicodeDecodeError, json.JSONDecodeError):
            out.append(None)
            continue
        ok = isinstance(obj, dict) and all(isinstance(obj.get(k), t) and not isinstance(obj.get(k), bool)
                                           for k, t in _FIELDS.items()) \
            and isinstance(obj.get("at"), (int, float)) and not isinstance(obj.get("at"), bool)
        out.append(obj if ok else None)
    return out, complete


def _own_hash(r: dict, seq: int | None = None) -> str:
    try:
        return record_hash(r["seq"] if seq is None else seq, r["type"], r["at"], r["data"], r["prev_hash"])
    except (TypeError, ValueError):
        return ""


# --- the journal's chain -------------------------------------------------------------------

def chain_fault(records: list[dict | None], complete: bool) -> Fault | None:
    """The first break in the journal's chain, classified, or None."""
    for i, r in enumerate(records):
        if r is None:
            prev = next((x["seq"] for x in reversed(records[:i]) if x), 0)
            if i == len(records) - 1 and not complete:
                return Fault("truncated", f"journal record seq {prev + 1}",
                             f"the journal ends in the middle of line {i + 1}")
            return Fault("altered", f"journal line {i + 1} (after seq {prev})", "not a complete record")
    seqs = [r["seq"] for r in records]
    n = len(seqs)
    if seqs != list(range(1, n + 1)):
        if sorted(seqs) == list(range(1, n + 1)):
            p = next(i for i, s in enumerate(seqs) if s != i + 1)
            return Fault("reordered", f"journal record seq {seqs[p]}",
                         f"found at position {p + 1}, where seq {p + 1} belongs")
        seen: dict[int, int] = {}
        for i, s in enumerate(seqs):
            if s in seen:
                forged = _forged_of(records, seen[s], i)
                return Fault("inserted", f"journal record seq {s} (line {forged + 1})",
                             f"a second record with seq {s}; it does not fit the chain")
            seen[s] = i
        missing = next(s for s in range(1, max(seqs) + 1) if s not in seen)
        return Fault("deleted", f"journal record seq {missing}", "missing from the sequence")
    prev_hash = GENESIS_HASH
    for i, r in enumerate(records):
        if _own_hash(r) != r["hash"]:
            for d in (1, 2, 3):
                if _own_hash(r, r["seq"] - d) == r["hash"]:
                    return Fault("inserted", f"journal record seq {r['seq'] - d}",
                                 f"{d} record(s) inserted before it and the rest renumbered")
                if _own_hash(r, r["seq"] + d) == r["hash"]:
                    return Fault("deleted", f"journal record seq {r['seq']}",
                                 f"{d} record(s) deleted here and the rest renumbered")
            return Fault("altered", f"journal record seq {r['seq']}", "its hash does not match its content")
        if r["prev_hash"] != prev_hash:
            before = records[i - 2]["hash"] if i >= 2 else GENESIS_HASH
            if i >= 1 and r["prev_hash"] == before:
                return Fault("inserted", f"journal record seq {r['seq'] - 1}",
                             "the next record links past it to the one before")
            return Fault("altered", f"journal record seq {r['seq'] - 1}",
                         "rewritten and rehashed: the next record's prev_hash no longer matches it")
        prev_hash = r["hash"]
    return None


def _forged_of(records: list[dict], a: int, b: int) -> int:
    """Of two records with the same seq, the index of the one that does not fit the chain."""
    def fits(i: int) -> bool:
        r = records[i]
        prev = GENESIS_HASH if r["seq"] == 1 else next(
            (x["hash"] for x in records if x["seq"] == r["seq"] - 1), None)
        return _own_hash(r) == r["hash"] and r["prev_hash"] == prev and \
            any(x["prev_hash"] == r["hash"] for x in records)
    return b if fits(a) or not fits(b) else a


# --- verify --------------------------------------------------------------------------------

def verify_export(directory: str | Path, expected_key: str | None = None) -> AuditReport:
    d = Path(directory)
    if not d.is_dir():
        raise ExportReadError(f"{d} is not a folder")
    report = AuditReport("verify", str(d))
    faults = report.faults
    manifest_raw = _read(d, exports.MANIFEST)
    manifest = _load_json(manifest_raw)
    if manifest is None:
        raise ExportReadError(f"{d} holds no readable {exports.MANIFEST}: not a unit export")
    signatures = _load_json(_read(d, exports.SIGNATURES)) or {}
    journal_raw = _read(d, exports.JOURNAL)
    records, complete = parse_journal(journal_raw or b"")
    good = [r for r in records if r is not None]

    # the unit's key
    first_cp = next((r for r in good if r["type"] == "checkpoint"), None)
    key = expected_key or (first_cp["data"].get("public_key") if first_cp else None) or manifest.get("public_key")
    report.facts["public_key"] = key
    try:
        if not verify(key, str(signatures.get("manifest", {}).get("signature", "")),
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
        last = good[-1] if good else {"seq": 0, "hash": GENESIS_HASH}
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
        raw = _read(d, name)
        if raw is None:
            faults.append(Fault("deleted", name, "a signed file is missing"))
        elif exports.sha256_hex(raw) != digest:
            faults.append(Fault("altered", name, "its SHA-256 differs from the signed manifest"))
    for name in (exports.JOURNAL, exports.CVRS):
        raw = _read(d, name)
        if raw is not None and exports.sha256_hex(raw) != manifest.get("files", {}).get(name) \
                and not faults:
            faults.append(Fault("altered", name, "its SHA-256 differs from the signed manifest"))
    report.facts.update(journal_records=len(records),
                        cast_vote_records=manifest.get("cast_vote_records", {}).get("count"))
    return report


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
    raw = _read(d, exports.CVRS)
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


# --- replay --------------------------------------------------------------------------------

class _ReplayModel:
    """What the journal's transitions drive during replay: the three region states."""

    polls = voter = ballot = ""


def _cross_region_fault(model: _ReplayModel, trigger: str) -> str | None:
    """Rules that span regions (the voter and ballot flows live inside polls_open)."""
    if trigger in ("start_checkin", "start_scanning") and model.polls != "polls_open":
        return f"{trigger} while polls are {model.polls}"
    if trigger in ("pause_polls", "close_polls") and (model.voter, model.ballot) != ("inactive", "inactive"):
        return f"{trigger} with the ID desk {model.voter} and the ballot box {model.ballot}"
    return None


def replay_export(directory: str | Path) -> AuditReport:
    from transitions import MachineError

    from device.ballot import CastVoteRecord
    from device.election import ElectionError, parse_election
    from device.events import catalog
    from device.station_machine import build_machines, region_of_trigger
    from device.tally import TallyInvariantError, tally_station

    d = Path(directory)
    manifest = _load_json(_read(d, exports.MANIFEST))
    if manifest is None:
        raise ExportReadError(f"{d} holds no readable {exports.MANIFEST}: not a unit export")
    report = AuditReport("replay", str(d))
    faults = report.faults
    try:
        election = parse_election(_load_json(_read(d, exports.ELECTION)))
    except ElectionError as exc:
        raise ExportReadError(f"{d / exports.ELECTION}: {exc}") from None
    if election.hash != manifest.get("election", {}).get("hash"):
        faults.append(Fault("altered", exports.ELECTION, "its hash is not the signed election hash"))
    station = manifest.get("station")
    if station not in election.stations:
        raise ExportReadError(f"the manifest names station {station!r}, not in the election")

    records, _ = parse_journal(_read(d, exports.JOURNAL) or b"")
    model = _ReplayModel()
    build_machines(model)
    regions, known = region_of_trigger(), catalog()["events"]
    checked_in: dict[str, int] = {}
    cast = dropped = 0
    for r in (x for x in records if x is not None):
        where, t = f"journal record seq {r['seq']}", r["type"]
        if t not in known:
            faults.append(Fault("disallowed transition", where, f"unknown event type {t!r}"))
            continue
        if t not in regions:
            continue
        problem = _cross_region_fault(model, t)
        if problem is None:
            state = getattr(model, regions[t])
            try:
                getattr(model, t)()
            except MachineError:
                problem = f"{t} is not allowed from {regions[t]} state {state!r}"
        if problem:
            faults.append(Fault("disallowed transition", where, problem))
        if t == "authorise":
            voter = r["data"].get("voter_id")
            if voter in checked_in:
                faults.append(Fault("double check-in", where,
                                    f"voter {voter} already authorised at seq {checked_in[voter]}"))
            checked_in.setdefault(voter, r["seq"])
        cast += t == "ballot_cast"
        dropped += t == "ballot_dropped" or r["data"].get("resolution") == "placed_in_box"

    cvrs = []
    for n, line in enumerate((_read(d, exports.CVRS) or b"").decode("utf-8", "replace").splitlines(), 1):
        try:
            cvrs.append(CastVoteRecord.from_json(json.loads(line)))
        except (ValueError, KeyError, TypeError, AttributeError):
            faults.append(Fault("altered", f"cast vote record line {n}", "not a readable record"))
    if cast != len(cvrs):
        faults.append(Fault("count mismatch", exports.CVRS,
                            f"{cast} ballot_cast events but {len(cvrs)} cast vote records"))
    if dropped != cast and model.polls == "polls_closed":
        faults.append(Fault("count mismatch", "journal",
                            f"{cast} ballots cast but {dropped} confirmed in the box"))
    try:
        recomputed = tally_station(election, station, cvrs).to_json()
    except (TallyInvariantError, KeyError, ValueError) as exc:
        faults.append(Fault("tally mismatch", exports.CVRS, f"the records cannot be tallied: {exc}"))
        recomputed = None
    results_raw = _read(d, exports.RESULTS)
    signed = _load_json(results_raw)
    if results_raw is None or exports.sha256_hex(results_raw) != manifest.get("files", {}).get(exports.RESULTS):
        faults.append(Fault("altered", exports.RESULTS, "not the results the unit signed"))
    if recomputed is not None and signed is not None:
        faults.extend(_tally_differences(signed, recomputed))
    report.facts.update(final_state={"polls": model.polls, "voter": model.voter, "ballot": model.ballot},
                        ballots_cast_events=cast, cast_vote_records=len(cvrs), voters_checked_in=len(checked_in),
                        ballots_confirmed_in_box=dropped)
    return report


def _tally_differences(signed: dict, recomputed: dict) -> list[Fault]:
    out = []
    if signed.get("ballots_cast") != recomputed["ballots_cast"]:
        out.append(Fault("tally mismatch", "results ballots_cast",
                         f"signed {signed.get('ballots_cast')}, recomputed {recomputed['ballots_cast']}"))
    for cid, mine in recomputed["contests"].items():
        theirs = signed.get("contests", {}).get(cid, {})
        for choice, n in mine["votes"].items():
            if theirs.get("votes", {}).get(choice) != n:
                out.append(Fault("tally mismatch", f"contest {cid} choice {choice}",
                                 f"signed {theirs.get('votes', {}).get(choice)}, recomputed {n}"))
        for key in ("undervotes", "overvotes", "blank", "invalid", "ballots_counted"):
            if theirs.get(key) != mine[key]:
                out.append(Fault("tally mismatch", f"contest {cid} {key}",
                                 f"signed {theirs.get(key)}, recomputed {mine[key]}"))
    return out
