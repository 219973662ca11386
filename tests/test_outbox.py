"""The unit's outbox: kept in the unit store, sent over real HTTP with backoff, decided once."""
from __future__ import annotations

import json
import random
import subprocess
import sys

import httpx
import pytest
from starlette.applications import Starlette
from starlette.responses import JSONResponse
from starlette.routing import Route

from device.cli.main import main
from device.election.definition import load_election
from device.results.signed_results import build_results_message, sign_results
from device.results.tape_codes import decode_tape
from device.store.outbox import RESULTS_PATH, Backoff, Outbox, OutboxSender
from device.store.signing import UnitSigner
from device.store.sqlite import SqliteStore
from tests.local_http import serve
from tests.station_kit import Kit
from tests.test_signed_results import RECONCILIATION, station_results

UNIT = UnitSigner.generate(random.Random(21))


def signed_message(sequence=1):
    e = load_election("demo")
    m = build_results_message(e, "north-1", station_results(e), RECONCILIATION, (9, "ef" * 32),
                              public_key_hex=UNIT.public_key_hex(), mode="test", sequence=sequence)
    return sign_results(m, UNIT)


class Central:
    """A stand-in central tally over real HTTP: answers from a script, records what it got."""

    def __init__(self, answers):
        self.answers, self.received = list(answers), []

    async def post(self, request):
        self.received.append(await request.json())
        status, code = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        return JSONResponse({"decision": code, "code": code, "reason": code}, status_code=status)

    def app(self):
        return Starlette(routes=[Route(RESULTS_PATH, self.post, methods=["POST"])])


class Clock:
    def __init__(self, t=1000.0):
        self.t = t

    def __call__(self):
        return self.t

    def sleep(self, seconds):
        self.t += seconds


@pytest.fixture
def store_path(tmp_path):
    from sim.unit.access import mark_simulation_store
    path = tmp_path / "unit.db"
    with SqliteStore(path) as store:
        mark_simulation_store(store)  # the simulated staff may send from it
    return path


def test_put_is_kept_once_and_survives_reopening(store_path):
    with Outbox(store_path) as box:
        first = box.put(signed_message(), 5.0)
        assert box.put(signed_message(), 6.0) == first  # the same message again: one row
        box.put(signed_message(sequence=2), 7.0)
    with Outbox(store_path) as box:
        items = box.items()
        assert [i.state for i in items] == ["pending", "pending"] and items[0].message == signed_message()
        assert box.due(5.0)[0].id == first and box.next_due() == 5.0
    SqliteStore(store_path).close()  # the unit store still opens (its chain and tables untouched)


def test_the_unit_store_waits_for_the_outbox_writer(store_path):
    """A sender in another process writes the same file: the unit's writes wait, they do not fail."""
    with SqliteStore(store_path) as store:
        assert store._conn.execute("PRAGMA busy_timeout").fetchone()[0] >= 1000


def test_a_power_cut_right_after_put_loses_nothing(store_path):
    """A process that puts a message and dies at once (no close, no flush): it is there."""
    code = ("import json, os, sys; from device.store.outbox import Outbox; "
            "box = Outbox(sys.argv[1]); box.put(json.loads(sys.argv[2]), 1.0); os._exit(9)")
    proc = subprocess.run([sys.executable, "-c", code, str(store_path), json.dumps(signed_message())],
                          capture_output=True, text=True)
    assert proc.returncode == 9, proc.stderr
    with Outbox(store_path) as box:
        assert [i.message for i in box.items("pending")] == [signed_message()]


def test_retries_with_backoff_until_accepted(store_path):
    central = Central([(503, "unavailable"), (500, "oops"), (201, "accepted")])
    clock = Clock()
    with serve(central.app()) as url, httpx.Client() as client, Outbox(store_path) as box:
        box.put(signed_message(), clock())
        sender = OutboxSender(box, url, client=client, clock=clock, backoff=Backoff(base=5, jitter=0))
        first = sender.send_due()
        assert [a.state for a in first] == ["pending"] and box.next_due() == 1005.0
        assert sender.send_due() == []  # not due yet: nothing sent
        attempts = sender.run(until=clock() + 3600, sleep=clock.sleep)
        assert [(a.state, a.status) for a in attempts] == [("pending", "500"), ("delivered", "201")]
        assert clock() == 1000.0 + 5 + 10  # waited 5 s, then 10 s: nothing slept for real
        assert central.received == [signed_message()] * 3
    with Outbox(store_path) as box:  # the decision is durable
        (item,) = box.items()
        assert (item.state, item.attempts, item.last_status) == ("delivered", 3, "201")


def test_no_network_keeps_it_pending_and_spaced_out(store_path):
    clock = Clock()
    with httpx.Client() as client, Outbox(store_path) as box:
        box.put(signed_message(), clock())
        # A port nothing listens on: connection refused, as with the network down.
        sender = OutboxSender(box, "http://127.0.0.1:9", client=client, clock=clock,
                              backoff=Backoff(base=5, cap=60, jitter=0))
        attempts = sender.run(until=clock() + 200, sleep=clock.sleep)
        assert {a.status for a in attempts} == {"network"} and len(attempts) == 7  # at 0,5,15,35,75,135,195
        (item,) = box.items()
        assert item.state == "pending" and item.next_attempt_at > 1200


@pytest.mark.parametrize("answer, state", [
    ((200, "duplicate"), "delivered"),
    ((409, "duplicate"), "refused"),  # not the central tally's answer to a duplicate (200)
    ((409, "conflict"), "refused"),
    ((409, "older_sequence"), "refused"),
    ((403, "bad_signature"), "refused"),
    ((429, "slow_down"), "pending"),
])
def test_each_answer_is_decided_once(store_path, answer, state):
    central = Central([answer])
    clock = Clock()
    with serve(central.app()) as url, httpx.Client() as client, Outbox(store_path) as box:
        box.put(signed_message(), clock())
        sender = OutboxSender(box, url, client=client, clock=clock)
        assert [a.state for a in sender.send_due()] == [state]
        assert sender.send_due() == []  # decided (or backing off): not posted again now
        assert len(central.received) == 1


def test_send_cli(store_path, capsys, monkeypatch):
    import io
    from sim.unit.access import SIMULATION_PINS
    monkeypatch.setattr("sys.stdin", io.StringIO((SIMULATION_PINS["poll_worker"] + "\n") * 2))
    with Outbox(store_path) as box:
        box.put(signed_message(), 1.0)
    with serve(Central([(201, "accepted")]).app()) as url:
        assert main(["device", "send", "--store", str(store_path), "--central", url, "--json",
                     "--pin-stdin"]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert summary["delivered"] == 1 and summary["messages"][0]["station"] == "north-1"
    with Outbox(store_path) as box:
        box.put(signed_message(sequence=2), 2.0)
    with serve(Central([(409, "conflict")]).app()) as url:
        assert main(["device", "send", "--store", str(store_path), "--central", url, "--wait", "0",
                     "--pin-stdin"]) == 1
        out = capsys.readouterr().out
        assert "1 delivered, 1 refused, 0 pending" in out and "conflict" in out
    for args in (["--store", str(store_path.parent / "none.db"), "--central", "http://x"],
                 ["--store", str(store_path), "--central", "ftp://x"]):
        assert main(["device", "send", *args]) == 2
        assert len(capsys.readouterr().err.strip().splitlines()) == 1


def test_polls_close_signs_prints_and_keeps_the_results(tmp_path):
    store = SqliteStore(tmp_path / "unit.db")
    kit = Kit(store=store, signer=UNIT)
    kit.ctl.open()
    for voter in kit.voters[:3]:
        assert kit.checkin(voter).authorised
        assert kit.insert().status == "cast"
    results = kit.ctl.close()
    signed = kit.ctl.signed_results
    m = signed["message"]
    assert m["sequence"] == 1 and m["ballots_cast"] == results.ballots_cast == 3
    assert m["journal_head"]["seq"] < store.head[0]  # the close records follow the signed head
    tape = kit.periph.world.printed_slips()[-1]
    assert tape.kind == "results" and decode_tape(tape.qr_codes) == signed
    assert "Sequence\t1" in tape.lines  # a row: label, tab, figure
    # Every figure a person reads on the tape is the signed message's (its machine twin).
    printed = [line.split() for line in tape.lines]
    for cid, figures in m["tally"].items():
        for choice in kit.election.contests[cid].choices:
            row = choice.name.split() + [str(figures["votes"][choice.id])]
            assert row in printed, (cid, choice.id)
    store.close()
    with Outbox(tmp_path / "unit.db") as box:  # after a power cut the message waits to be sent
        assert [i.message for i in box.items("pending")] == [signed]


class PowerCut(BaseException):
    pass


class CutWhenResultsPrint:
    """A printer wrapper: the power goes as the results tape starts printing."""

    def __init__(self, printer):
        self.printer = printer

    def print_slip(self, slip, *args, **kw):
        if slip.kind == "results":
            raise PowerCut
        return self.printer.print_slip(slip, *args, **kw)


def test_a_close_resumed_after_a_power_cut_signs_the_same_message_once(tmp_path):
    kit = Kit(store=SqliteStore(tmp_path / "unit.db"), signer=UNIT)
    kit.ctl.open()
    for voter in kit.voters[:2]:
        kit.checkin(voter)
        kit.insert()
    kit.ctl.printer = CutWhenResultsPrint(kit.ctl.printer)
    with pytest.raises(PowerCut):
        kit.ctl.close()
    before = kit.ctl.signed_results
    kit.store = SqliteStore(tmp_path / "unit.db")  # the unit restarts on what was committed
    kit.now[0] += 60
    kit.boot()  # the boot finishes the close: tape printed, same message
    assert kit.ctl.signed_results == before and kit.periph.world.printed_slips()[-1].kind == "results"
    with Outbox(tmp_path / "unit.db") as box:
        assert [i.message for i in box.items()] == [before]


def test_a_results_tape_reprinted_after_a_reboot_carries_the_same_signed_message(tmp_path):
    kit = Kit(store=SqliteStore(tmp_path / "unit.db"), signer=UNIT)
    kit.ctl.open()
    for voter in kit.voters[:3]:
        kit.checkin(voter)
        kit.insert()
    kit.ctl.close()
    first = kit.periph.world.printed_slips()[-1].qr_codes
    kit.store.close()
    kit.store = SqliteStore(tmp_path / "unit.db")
    kit.now[0] += 3600
    kit.boot()
    kit.ctl.reprint("results")
    assert kit.periph.world.printed_slips()[-1].qr_codes == first
    with Outbox(tmp_path / "unit.db") as box:
        assert len(box.items()) == 1
