"""Results still in the outbox after ``device unload`` can be sent (issue 19, operator brief §5).

A unit with no central tally configured closes its polls (the signed results wait in its
outbox), is exported and unloaded; ``device unload`` says the results are not sent yet and how
to send them, and ``device send`` then delivers them to a central tally the test runs, with the
PIN of the unloaded package's poll worker. Before the fix, the unload left no staff to log in:
"no election package is loaded: the poll worker has no PIN on this unit", and the results
could never leave the unit.
"""
from __future__ import annotations

import asyncio

import httpx

from tests.central_kit import running_service
from tests.console_kit import (EM, PW, SIZE, act, ballotbox, cli_provisioned_unit, console_of,
                               open_vote_close, served_package)


def test_results_left_in_the_outbox_are_sent_after_the_unload(tmp_path):
    sim, config = cli_provisioned_unit(tmp_path)
    store = str(config.parent / "unit.db")
    app = console_of(sim, config)

    async def day() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await open_vote_close(app, pilot, voters=1)
            assert app.view.upload is None  # no central tally named in unit.toml
            assert (await act(pilot, "e", pin=EM)).ok

    try:
        asyncio.run(day())
    finally:
        sim.close()
    unloaded = ballotbox("device", "unload", "--store", store, "--pin-stdin", stdin=EM + "\n")
    assert "1 signed result(s) not yet sent" in unloaded.stdout and "device send" in unloaded.stdout
    wrong = ballotbox("device", "send", "--store", store, "--central", "http://127.0.0.1:9",
                      "--wait", "0", "--pin-stdin", stdin="999999\n", check=False)
    assert wrong.returncode == 1 and "Wrong PIN" in wrong.stdout, wrong  # the staff still checked
    with running_service(served_package(config), tmp_path) as (url, _service):
        sent = ballotbox("device", "send", "--store", store, "--central", url, "--wait", "0",
                         "--pin-stdin", stdin=PW + "\n", check=False)
        assert sent.returncode == 0 and "1 delivered, 0 refused, 0 pending" in sent.stdout, sent
        assert httpx.get(f"{url}/api/status").json()["decisions"].get("accepted") == 1
