"""Golden export: one seeded station day, exported, must give byte-identical files forever.

Issue #20 splits ``StationController`` into parts "with no behaviour change: every export
byte-identical for the same seed". This test plays one station day with a fixed seed and a
simulated clock — logical fidelity, the bundled ``demo`` election (three contests), pre-election
test mode, returned and corrected ballots, jams and double feeds cleared by the operator, a
pause, a power cut with a voter checked in and (where overvotes are returned) the ballot waiting
for the voter's choice (the unit boots again on the database file as it was on disk at the cut), the close, a reprint of the results tape — exports
it, and compares the SHA-256 of every exported file, of the journal head, of the signed results
message, of every printed slip and of the day's report with the values below, generated on the
code before the split. A change of any byte fails with the name of what changed.

If a change of output is *intended* (a new field, a fixed bug), regenerate the values with
``GOLDEN_PRINT=1 .venv/bin/python -m pytest -q -s tests/test_export_golden.py`` and say why in
the commit message.
"""
from __future__ import annotations

import dataclasses
import hashlib
import json
import os
import random
import shutil
from pathlib import Path

import pytest

from device.election.definition import Election, load_election, parse_election
from device.results.exports import export_unit, json_doc
from device.store.signing import provision
from device.store.sqlite import SqliteStore
from hardware.interfaces import ScannerEventKind
from sim.unit.access import mark_simulation_store
from sim.day.station import StationDay, build_station_day, operator_clears, visit
from sim.day.voters import load_scenario

SEED = 2026
VOTERS = 80
ELECTION = "demo"
# More of every refusal and rejection than a usual day, so that each path shows in the export.
RATES = {"jam_rate": 0.05, "double_feed_rate": 0.02, "repeat_voter_rate": 0.05,
         "wrong_station_rate": 0.05, "not_on_roll_rate": 0.03, "bad_document_rate": 0.03,
         "stuffing_attempt_rate": 0.04, "wrong_election_sheet_rate": 0.04, "overvote_rate": 0.08,
         "blank_rate": 0.05}
# The bundled policy (overvotes and blank ballots returned to the voter) and its opposite (cast
# into the invalid compartment).
POLICIES = {"return": None,
            "accept-invalid": {"overvote": "accept-invalid", "blank": "accept-invalid",
                               "unreadable": "accept-invalid"}}

# name -> its SHA-256 under each policy (accept-invalid, return); generated on the code before the split (eb5840b)
GOLDEN: dict[str, tuple[str, str]] = {
    "export/ballot_manifest.csv": (
        "f0b343c2e715779c089b57f1501cef95a2c50aa150e366cd03abd6272f5fb072",
        "80a859092a5ed4e4e7585935f24d13e9f47c70b0a78e65c6bc1c27037a9d51a8",
    ),
    "export/cast_vote_records.jsonl": (
        "fccd54e01221ef9c3f6fcd93fb3d7cdb5a24df4439f76b3346469a9835947077",
        "52e81e11889b2b9037138c92dfdc4c61de6dc262c07f1966a9290a4395a41e9b",
    ),
    "export/election.json": (
        "f91eff4e5020cabf93e1266c4e3d9a2a6e7325c4615bfa22285edb0ef9c961d2",
        "ef060cc3bd0731f9e408b027472b03aa662076193feb5cb8a1306214f5c921e4",
    ),
    "export/journal.jsonl": (
        "1d0b1128ec97542b87103ee9116da28ec62e4561ddada091cc4cdadc3cb3a337",
        "8a27604beb01606be71fe2488f3db0074d3b8fc4a668538f5d50e642e4583c4e",
    ),
    "export/manifest.json": (
        "1224a595eef858e92c9c54829f72592ed00b0d5fcdeb42c567b02d73ead523a9",
        "305b2cb582b654bb690b570869c00ee279e8330b96d8ae92d9109f62047a5a69",
    ),
    "export/nist/cast_vote_records.json": (
        "62d84c0a1e2dc2a09aac60bb338513b2bba307ca1f0cc25fc2de70ed2bfe9673",
        "8b74ba9fb8087d4ea93aaef088031daebb424861a3742823dff6f9c0ebfa9bb6",
    ),
    "export/nist/election_results.json": (
        "3e8e56cbbd2a893eb35e78dca4fd71fe5cf4fdf14999af21245dfff9e6f779cf",
        "804e09b2c552b3de048ec817b4fd0d2b3881a512c33c94d6642c49ce9b7ee6a5",
    ),
    "export/nist/event_log.json": (
        "195b3884c8ad6d4ef3f0c7012e2416d90b9ec8d15d1b1a41a4422c9589d16439",
        "b25f7ba0dd312701a7341a51b17ef3bcc586b48a6e0b7eb440935e4739d13d6f",
    ),
    "export/nist/event_log_documentation.json": (
        "1149d42728ef3e22ce235f9acfe85f1b57c325d12f04b0ce446f6ecb181ac98b",
        "1149d42728ef3e22ce235f9acfe85f1b57c325d12f04b0ce446f6ecb181ac98b",
    ),
    "export/public_key.pem": (
        "fb07cfb296cab988794f0475b64f58c6987ca282671fde9064a1890885a6b9c7",
        "fb07cfb296cab988794f0475b64f58c6987ca282671fde9064a1890885a6b9c7",
    ),
    "export/public_key.txt": (
        "d57a3c7d62653dd05d9f9bdef53da33e6c2f0eb3a05b65810f40fd23085d1369",
        "d57a3c7d62653dd05d9f9bdef53da33e6c2f0eb3a05b65810f40fd23085d1369",
    ),
    "export/results.json": (
        "684453e8b46c6ebb131099bbe749eacb7b2a6216a788a2d102819284b63b484f",
        "2234ff5774edd14d8546c63d4b2745117fce07bff2105e585d4307409407f3bb",
    ),
    "export/results_signed.json": (
        "c7e8cbd52a1e8a0bb97dd65bcbfae6afb12f498e9d157b8de3069af1b38e82f8",
        "e95ad07c5abcb5646cd4594aae67c7d9392fa6d07268d7705556d8c3c2e82f95",
    ),
    "export/signatures.json": (
        "dea8f0ad8818aeab93683c49e5c8b8f43fab35f29aa66a2f212148566f179f67",
        "e61f9a7127c05dd026e049f65ca9893deedb2cf01e79f62c8fead6c2f0711ae1",
    ),
    "journal_head": (
        "e86f42fe6d23ea43c88e07737a4b2d16fbc5b139b999f8336116f3410c17543e",
        "d0f257a304dce51f3589a7484dba0afa98d78637760ff7ce660a12fd77565f44",
    ),
    "signed_results": (
        "101b20e583142a251311afd70a8ddeca2da65f701e7de8c3fd28ec74547e3603",
        "b0e2663b9d82995c67afd8b038877517c3abab630b683cf9d2aa5418300a0735",
    ),
    "printed_slips": (  # the results tape's codes: 251-byte payloads and 2 parity codes (issue 22)
        "c2eb666acc3b2493132a4bb4ba0758e4c50f5a948e6a2af00120ae0914eafae6",
        "c7e4cb9b97ef4a5b389526a35e881aa4196dc539300504afd61960852edc9d69",
    ),
    "report": (
        "1adf0a12db7203fd095e3fd5e4c89b502b752eb2749e22c4174616f81f0207c0",
        "07451adcb70938ea7a69d8ce1b8db4f51474834c396cf60db5b2facd4cc7a305",
    ),
    "reconciliation": (
        "ee3994a4cc1d025252d1f570a17586332763d3a5b78b3b20c436f24e16fee941",
        "f73e6302434971f7cf2ed2eada3064404b26c0db4cf22801a90f433e157be7ea",
    ),
}


def _sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def _feed(day: StationDay):
    """The scanner reports the inserted sheet at its entry; the controller takes it."""
    while True:
        event = day.peripherals.scanner.poll_event(timeout=2.0)
        assert event is not None, "the scanner never reported the inserted sheet"
        if event.kind is ScannerEventKind.PAPER_AT_ENTRY:
            return day.controller.handle_paper()


def _election(policy: str) -> Election:
    election = load_election(ELECTION)
    if POLICIES[policy] is None:
        return election
    return parse_election({**election.raw, "policy": POLICIES[policy]})


def _boot(path: Path, election: Election, scenario, **reuse) -> tuple[SqliteStore, StationDay]:
    store = SqliteStore(path, durability="simulation")
    signer = provision(store, random.Random(f"{SEED}:key"))
    mark_simulation_store(store)
    day = build_station_day(election, registered=VOTERS, seed=SEED, scenario=scenario,
                            fidelity="logical", store=store, signer=signer, **reuse)
    return store, day


def _test_mode(day: StationDay) -> None:
    """The election manager's pre-election test: two test ballots, the report, leave."""
    ctl, paper, rng = day.controller, day.paper, day.rngs["paper"]
    style = day.election.stations[day.station_id].ballot_style
    ctl.enter_test_mode()
    for visitor in [v for v in day.visitors if v.kind == "voter"][:2]:
        day.peripherals.world.insert_sheet(paper.make_sheet(style, dict(visitor.marks), rng, "test_ballot"))
        assert _feed(day).status == "test_counted"
    ctl.leave_test_mode()


def _before_the_cut(day: StationDay, visitor, policy: str) -> None:
    """Check the visitor in; where overvotes go back to the voter, insert an overvoted sheet,
    which waits in the scanner for the voter's choice when the power goes."""
    ctl, world = day.controller, day.peripherals.world
    world.present_document(*visitor.document)
    assert ctl.present_id(day.peripherals.id_reader.read(timeout=2.0)).authorised
    if policy != "return":
        return
    style = day.election.stations[day.station_id].ballot_style
    contest = day.election.contests_for_style(style)[0]
    marks = {**visitor.marks, contest.id: tuple(contest.choice_ids()[:contest.vote_for + 1])}
    world.insert_sheet(day.paper.make_sheet(style, marks, day.rngs["paper"]))
    outcome = _feed(day)
    assert outcome.status == "needs_review", outcome


def play_golden_day(root: Path, policy: str) -> dict[str, str]:
    """Play, export and fingerprint the golden day under ``policy``: name -> SHA-256."""
    election = _election(policy)
    scenario = load_scenario(None, election, ELECTION)
    scenario = dataclasses.replace(scenario, rates={**scenario.rates, **RATES})
    root.mkdir(parents=True, exist_ok=True)
    store, day = _boot(root / "unit.db", election, scenario)
    printer = day.peripherals.printer
    _test_mode(day)
    day.controller.open()
    half = len(day.visitors) // 2
    for i, visitor in enumerate(day.visitors[:half]):
        day.clock.advance(day.rngs["clock"].expovariate(1 / 300))
        visit(day, visitor)
        if i == half // 2:
            day.controller.pause()
            day.clock.advance(900)
            day.controller.resume()
    cut = next(v for v in day.visitors[half:] if v.kind == "voter")
    _before_the_cut(day, cut, policy)
    # The power cut: the database file as it is on disk now (records not yet committed are lost).
    shutil.copyfile(root / "unit.db", root / "after-cut.db")
    store.close()  # the old process is gone; its file is no longer the unit's
    day.clock.advance(600)
    store, day = _boot(root / "after-cut.db", election, scenario, peripherals=day.peripherals,
                       rngs=day.rngs, clock=day.clock)
    ctl = day.controller
    if ctl.ballot in ("error", "jammed"):
        operator_clears(day)
    day.peripherals.world.take_returned_sheet()
    visit(day, dataclasses.replace(cut, document=None))  # checked in before the cut: votes now
    for visitor in day.visitors[day.visitors.index(cut) + 1:]:
        day.clock.advance(day.rngs["clock"].expovariate(1 / 300))
        visit(day, visitor)
    ctl.close()
    ctl.reprint("results")
    report = day.report()
    signer = provision(store, random.Random(f"{SEED}:key"))
    export_unit(store, election, root / "export", signer, at=day.clock() + 3600)
    seq, head_hash = store.head
    store.close()
    day.peripherals.close()

    hashes = {f"export/{p.relative_to(root / 'export').as_posix()}": _sha(p.read_bytes())
              for p in sorted((root / "export").rglob("*")) if p.is_file()}
    hashes["journal_head"] = _sha(f"{seq}:{head_hash}".encode())
    hashes["signed_results"] = _sha(json_doc(ctl.signed_results))
    hashes["printed_slips"] = _sha("".join(s.as_text() for s in printer.slips).encode())
    hashes["report"] = _sha(json.dumps(report, sort_keys=True).encode())
    hashes["reconciliation"] = _sha(json.dumps(ctl.reconciliation(), sort_keys=True).encode())
    return hashes


@pytest.mark.parametrize("policy", sorted(POLICIES))
def test_station_day_export_is_byte_identical_to_the_golden_values(tmp_path, policy):
    hashes = play_golden_day(tmp_path, policy)
    if os.environ.get("GOLDEN_PRINT"):
        print(f"{policy!r}:", json.dumps(hashes, indent=1))
    golden = {name: by_policy[sorted(POLICIES).index(policy)] for name, by_policy in GOLDEN.items()}
    changed = sorted(name for name in golden.keys() | hashes.keys() if golden.get(name) != hashes.get(name))
    assert not changed, f"the station day's output changed: {changed}"
