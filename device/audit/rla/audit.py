"""One risk-limiting audit, round by round, kept in a folder an audit board can carry.

``start_audit`` freezes the reported results (``reported.json``), works out the assertions and
error bounds, draws round 1 and writes its sample list and blank hand-count sheets.
``evaluate_audit`` reads the hand counts of every station drawn so far, measures the risk and
decides (``DECISIONS``): stop, escalate (the next round is drawn at once), full hand count, or
— after a full hand count — whether the paper confirms the reported outcome. ``audit.json``
holds the parameters, the rounds and every evaluation; nothing in the folder names a voter.
"""
from __future__ import annotations

import hashlib
import json
import math
from dataclasses import asdict, dataclass
from pathlib import Path

from device.audit.rla import csv_files, macro
from device.audit.rla.assertions import Assertion, contest_assertions
from device.audit.rla.results import Batch, DistrictSeats, ReportedContest
from device.audit.rla.sampling import Draw, check_seed, draw

FORMAT = "ballotbox-rla/1"


@dataclass(frozen=True)
class Decision:
    code: str
    exit_status: int
    meaning: str


# Every way an evaluation ends, once (the CLI's exit status comes from here).
DECISIONS = {d.code: d for d in (
    Decision("stop", 0, "the risk is at most the risk limit: the reported outcome stands, the audit stops"),
    Decision("confirmed_by_full_count", 0, "every station was counted by hand and the paper gives the reported outcome"),
    Decision("escalate", 1, "the risk is above the limit: the next round is drawn; count its stations"),
    Decision("full_hand_count", 3, "a sample cannot confirm the outcome: count every remaining station by hand"),
    Decision("outcome_wrong", 4, "the full hand count gives another outcome: the hand count is the result"),
)}


class AuditStateError(ValueError):
    pass


def json_safe(obj):
    """``obj`` with every infinite bound (a tie: no sample can confirm it) written as null,
    so the audit's JSON files are strict JSON; ``load_audit`` reads a null bound back as inf."""
    if isinstance(obj, float) and math.isinf(obj):
        return None
    if isinstance(obj, dict):
        return {k: json_safe(v) for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [json_safe(v) for v in obj]
    return obj


def _reported_doc(reported: ReportedContest) -> dict:
    return {"contest": reported.contest, "kind": reported.kind, "vote_for": reported.vote_for,
            "choices": reported.choices, "names": reported.names,
            "districts": {d: asdict(s) for d, s in reported.districts.items()},
            "batches": {b.id: [b.district, b.ballots, [b.votes[c] for c in reported.choices]]
                        for b in reported.batches.values()}}


def reported_from_doc(doc: dict) -> ReportedContest:
    choices = doc["choices"]
    batches = {sid: Batch(sid, d, n, dict(zip(choices, votes))) for sid, (d, n, votes) in doc["batches"].items()}
    return ReportedContest(doc["contest"], doc["kind"], doc["vote_for"], choices, batches,
                           {d: DistrictSeats(**s) for d, s in doc["districts"].items()}, doc.get("names", {}))


@dataclass
class AuditState:
    folder: Path
    reported: ReportedContest
    scope: str
    risk_limit: float
    seed: str
    assertions: list[Assertion]
    bounds: dict[str, float]
    rounds: list[dict]  # {"round", "first_draw", "draws", "full_hand_count"}
    evaluations: list[dict]
    reported_sha256: str

    @property
    def U(self) -> float:
        return macro.total_bound(self.bounds)

    def all_draws(self) -> list[Draw]:
        out: list[Draw] = []
        for r in self.rounds:
            if r["full_hand_count"]:
                out += [Draw(0, 0.0, sid) for sid in r["stations"]]
            else:
                out += draw(self.seed, self.bounds, r["first_draw"], r["draws"])
        return out

    def sampled(self) -> dict[str, int]:
        """Station -> draws that picked it (a station of a full hand count: 1, it weighs nothing)."""
        counts: dict[str, int] = {}
        for d in self.all_draws():
            counts[d.batch] = counts.get(d.batch, 0) + (1 if d.index else 0)
        return counts

    def auditable(self) -> list[str]:
        return sorted(b for b, u in self.bounds.items() if u > 0)

    def save(self) -> None:
        doc = {"format": FORMAT, "contest": self.reported.contest, "scope": self.scope,
               "risk_limit": self.risk_limit, "seed": self.seed, "reported_sha256": self.reported_sha256,
               "U": self.U, "assertions": [a.to_json() for a in self.assertions],
               "bounds": self.bounds, "rounds": self.rounds, "evaluations": self.evaluations}
        (self.folder / "audit.json").write_text(json.dumps(json_safe(doc), indent=1, ensure_ascii=False,
                                                           allow_nan=False), encoding="utf-8")


def _digest(doc: dict) -> str:
    return hashlib.sha256(json.dumps(doc, sort_keys=True, separators=(",", ":")).encode()).hexdigest()


def start_audit(reported: ReportedContest, scope: str, risk_limit: float, seed: str, folder: Path) -> AuditState:
    """Freeze the reported results, draw round 1, write its sample list and hand-count sheets."""
    seed = check_seed(seed)
    if not 0 < risk_limit < 1:
        raise AuditStateError("the risk limit must be a percentage between 0 and 100 (exclusive)")
    if (folder / "audit.json").exists():
        raise AuditStateError(f"{folder} already holds an audit (audit.json): use another folder")
    assertions = contest_assertions(reported, scope)
    bounds = macro.error_bounds(reported.batches, assertions)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "hand-counts").mkdir(exist_ok=True)
    doc = _reported_doc(reported)
    (folder / "reported.json").write_text(json.dumps(doc, ensure_ascii=False), encoding="utf-8")
    state = AuditState(folder, reported, scope, risk_limit, seed, assertions, bounds, [], [], _digest(doc))
    _next_round(state, macro.sample_size(risk_limit, bounds))
    return state


def load_audit(folder: Path) -> AuditState:
    try:
        doc = json.loads((folder / "audit.json").read_text(encoding="utf-8"))
        rep = json.loads((folder / "reported.json").read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise AuditStateError(f"{folder}: not an audit folder ({Path(exc.filename).name} missing; "
                              f"start one with 'ballotbox audit rla sample')") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise AuditStateError(f"{folder}: audit files unreadable ({exc})") from None
    if doc.get("format") != FORMAT:
        raise AuditStateError(f"{folder}/audit.json: not a {FORMAT} document")
    if _digest(rep) != doc["reported_sha256"]:
        raise AuditStateError(f"{folder}/reported.json changed since the audit started")
    reported = reported_from_doc(rep)
    return AuditState(folder, reported, doc["scope"], doc["risk_limit"], doc["seed"],
                      contest_assertions(reported, doc["scope"]),
                      {b: math.inf if u is None else u for b, u in doc["bounds"].items()}, doc["rounds"],
                      doc["evaluations"], doc["reported_sha256"])


def _next_round(state: AuditState, n: int) -> dict:
    """Draw ``n`` more (or, when that reaches every station, all the stations not yet counted)."""
    done = set(state.sampled())
    auditable = state.auditable()
    drawn = sum(r["draws"] for r in state.rounds)
    number = len(state.rounds) + 1
    full = drawn + n >= len(auditable) or n >= len(auditable)
    if full:
        stations = [s for s in auditable if s not in done]
        rnd = {"round": number, "first_draw": drawn + 1, "draws": 0, "full_hand_count": True, "stations": stations}
        rows = [(number, s, state.reported.batches[s].district, state.reported.batches[s].ballots, "", 0, "no")
                for s in stations]
    else:
        rnd = {"round": number, "first_draw": drawn + 1, "draws": n, "full_hand_count": False}
        new = draw(state.seed, state.bounds, drawn + 1, n)
        rows = csv_files.sample_rows(number, new, state.reported, done)
    state.rounds.append(rnd)
    csv_files.write_sample(state.folder / f"sample-round-{number}.csv", rows)
    template = csv_files.hand_count_template(state.reported)
    for row in rows:
        sheet = state.folder / "hand-counts" / f"{row[1]}.csv"
        if not sheet.exists():
            sheet.write_text(template, encoding="utf-8")
    state.save()
    return rnd


def evaluate_audit(state: AuditState) -> dict:
    """Measure the risk from every hand count so far and decide; draws the next round if needed.

    Raises ``csv_files.HandCountError`` when a sampled station's sheet is missing or not filled in."""
    evaluated = len(state.rounds)
    sampled = state.sampled()
    counts = {sid: csv_files.read_hand_count(state.folder / "hand-counts" / f"{sid}.csv", state.reported.choices)
              for sid in sorted(sampled)}
    checks = [macro.check_batch(state.reported.batches[sid], counts[sid], sampled[sid], state.assertions,
                                state.bounds[sid]) for sid in sorted(sampled)]
    U = state.U
    every = set(state.auditable()) <= set(counts)
    risk = macro.measured_risk(checks, U)
    wrong: list[str] = []
    if every:
        wrong = _assertions_failing(state, counts)
        code = "outcome_wrong" if wrong else "confirmed_by_full_count"
    elif risk <= state.risk_limit:
        code = "stop"
    else:
        n = macro.sample_size(state.risk_limit, state.bounds, risk)
        rnd = _next_round(state, n if risk < 1.0 else len(state.auditable()))
        code = "full_hand_count" if rnd["full_hand_count"] else "escalate"
    decision = DECISIONS[code]
    result = {"round": evaluated,
              "risk": 0.0 if every and not wrong else risk, "risk_limit": state.risk_limit, "U": U,
              "decision": code, "meaning": decision.meaning, "exit_status": decision.exit_status,
              "stations_counted": len(counts), "draws": sum(sampled.values()),
              "discrepancies": [c.to_json() for c in checks if c.error_votes],
              "checks": [c.to_json() for c in checks], "assertions_failing": wrong,
              "next_round": state.rounds[-1] if code in ("escalate", "full_hand_count") else None}
    entry = {k: result[k] for k in ("round", "risk", "decision", "stations_counted", "draws")}
    if state.evaluations and state.evaluations[-1]["round"] == evaluated:
        state.evaluations[-1] = entry  # the same round evaluated again (a sheet corrected): replaced
    else:
        state.evaluations.append(entry)
    state.save()
    return result


def _assertions_failing(state: AuditState, counts: dict[str, dict[str, int]]) -> list[str]:
    """After a full hand count: the assertions the paper contradicts. A counted margin below 0
    fails; a counted tie fails unless the reported margin was a tie too (a seat decided by lot,
    which the paper confirms: the lot stands)."""
    failing = []
    for a in state.assertions:
        margin = sum(a.batch_margin(counts[b.id]) for b in state.reported.batches.values()
                     if a.applies_to(b) and b.id in counts)
        if margin < 0 or (margin == 0 and a.margin > 0):
            failing.append(a.id)
    return failing
