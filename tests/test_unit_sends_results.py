"""The unit sends its own results (issue 19 §1): a background sender when ``[central] url`` is set.

A real central tally (its ASGI app under uvicorn on loopback, serving the package the operators
built with the CLI) takes the signed results the unit posts when its polls close; the console
says "sent" (``tests/test_console_cli_unit.py``), or "refused" with the central tally's reason. ``device send --retry-refused``
sends a refused message again once the URL is fixed; ``--now`` ignores the backoff, and the
command says when the next try is due. The upload decisions are declared once, for both ends.
"""
from __future__ import annotations

import asyncio
import json

import httpx

from device.store.outbox import Outbox
from device.store.sqlite import SqliteStore
from sim.unit.access import SIMULATION_PINS, mark_simulation_store
from tests.central_kit import running_service
from tests.console_kit import (PW, SIZE, ballotbox, cli_provisioned_unit, console_of, open_vote_close,
                               screen_text, send_results_to, served_package)


def test_a_refused_upload_is_shown_and_sent_again_once_the_url_is_fixed(tmp_path):
    sim, config = cli_provisioned_unit(tmp_path)
    store = config.parent / "unit.db"
    with running_service(served_package(config), tmp_path) as (url, _service):
        send_results_to(config, url + "/wrong-path")  # a typo in the URL: the server says 404/405
        app = console_of(sim, config)

        async def day() -> None:
            async with app.run_test(size=SIZE) as pilot:
                await open_vote_close(app, pilot, voters=1)
                await app.until(lambda v: v.upload is not None and v.upload.state == "refused")
                text = screen_text(app)
                assert "Results refused by the central tally: HTTP 40" in text, text
                assert "--retry-refused" in text

        try:
            asyncio.run(day())
        finally:
            sim.close()
        again = ballotbox("device", "send", "--store", str(store), "--central", url, "--wait", "0",
                          "--pin-stdin", stdin=PW, check=False)
        assert again.returncode == 1 and "0 delivered, 1 refused" in again.stdout  # not retried
        fixed = ballotbox("device", "send", "--store", str(store), "--central", url, "--wait", "0",
                          "--retry-refused", "--pin-stdin", stdin=PW)
        assert "1 delivered, 0 refused, 0 pending" in fixed.stdout
        assert httpx.get(f"{url}/api/status").json()["decisions"].get("accepted") == 1


def test_send_says_when_it_tries_next_and_now_ignores_the_backoff(tmp_path):
    from tests.test_outbox import signed_message

    store = tmp_path / "unit.db"
    with SqliteStore(store, durability="simulation") as unit:  # a simulator's store: simulated PINs
        mark_simulation_store(unit)
    with Outbox(store) as box:
        box.put(signed_message(), 1.0)
    pin = ("--pin-stdin",)
    down = ballotbox("device", "send", "--store", str(store), "--central", "http://127.0.0.1:9",
                     "--wait", "0", *pin, stdin=SIMULATION_PINS["poll_worker"], check=False)
    assert down.returncode == 1 and "next try at" in down.stdout, down.stdout
    with Outbox(store) as box:
        (item,) = box.items()
        assert item.attempts == 1 and item.next_attempt_at > 1000
    waits = ballotbox("device", "send", "--store", str(store), "--central", "http://127.0.0.1:9",
                      "--wait", "0", "--json", *pin, stdin=SIMULATION_PINS["poll_worker"], check=False)
    assert json.loads(waits.stdout)["messages"][0]["attempts"] == 1  # backing off: not tried
    now = ballotbox("device", "send", "--store", str(store), "--central", "http://127.0.0.1:9",
                    "--wait", "0", "--now", *pin, stdin=SIMULATION_PINS["poll_worker"], check=False)
    assert now.returncode == 1 and "next try at" in now.stdout
    with Outbox(store) as box:
        assert box.items()[0].attempts == 2


def test_upload_decisions_are_declared_once_for_both_ends():
    from central import decisions as central_decisions
    from device.results import upload_decisions
    from device.store.outbox import classify

    assert central_decisions.DECISIONS is upload_decisions.DECISIONS

    class Answer:  # what central/app.py sends for a verdict: its JSON, with the table's status
        def __init__(self, d):
            self.status_code, self.text = d.status, d.meaning
            self._body = central_decisions.Verdict(d.code, d.meaning).to_json()

        def json(self):
            return self._body

    states = {code: classify(Answer(d))[0] for code, d in upload_decisions.DECISIONS.items()}
    assert states["accepted"] == states["duplicate"] == "delivered"
    assert states["unavailable"] == "pending"
    assert {c for c, s in states.items() if s == "refused"} == {
        c for c, d in upload_decisions.DECISIONS.items() if d.outcome in ("conflict", "refused", "rejected")
        and not upload_decisions.retry_later(d.status)}
