"""One table of operator actions (issue 19 §2): the console offers only what the controller accepts.

The table (``device/unit/staff.py``) gives each action's key, label, role, when it is possible
and the unit method it calls; the docs' table is generated from it. Along a whole day on the
console's keys (a simulated unit on ptys), at every step the keys offered (footer and buttons)
are exactly the expected ones, each offered key pressed is accepted by the controller, a key not
offered does nothing, and the unit's words leave with their situation.
"""
from __future__ import annotations

import asyncio
import itertools
from pathlib import Path

from device.station.roles import POLICY
from device.unit.runtime import Unit
from device.unit.staff import OPERATOR_ACTIONS, actions_markdown, offered_actions
from device.console.screens import SCREENS
from device.unit.view import UnitView, situation_of
from tests.console_kit import EM, PW, SIZE, act, screen_text, simulated_console

DOCS = Path(__file__).resolve().parent.parent / "docs" / "console" / "actions.md"


def test_the_docs_table_is_generated_from_the_actions_table():
    assert DOCS.read_text(encoding="utf-8") == actions_markdown()
    for action in OPERATOR_ACTIONS.values():
        assert f"| `{action.key}` | {action.label} |" in actions_markdown()


def test_every_action_names_a_policy_and_a_method_of_the_unit():
    for action in OPERATOR_ACTIONS.values():
        assert action.policy is None or action.policy in POLICY, action
        assert callable(getattr(Unit, f"_do_{action.calls}", None)), action
        assert action.key == action.key.lower() and len(action.key) == 1


FLOWING = ("testing", "polls_open")  # the ballot box leaves "inactive" only there (the machine)


def _views():
    """Every combination of what the table's conditions read, as the unit could show it."""
    for polls, ballot, cast, full, unloadable in itertools.product(
            ("setup", "election_loaded", "testing", "polls_open", "polls_paused", "polls_closed"),
            ("inactive", "waiting_for_ballot", "scanning", "deciding", "jammed", "error"), (0, 3),
            (False, True), (False, True)):
        if (ballot != "inactive") != (polls in FLOWING):
            continue
        review = "overvote" if ballot == "deciding" else None
        view = UnitView(configured=polls != "setup", polls=polls, ballot=ballot, cast=cast,
                        review_reason=review, box_capacity=5, box_sheets=5 if full else 0,
                        unloadable=unloadable)
        yield UnitView(**{**view.__dict__, "situation": situation_of(view)})


def test_no_two_actions_possible_together_share_a_key():
    seen_situations = set()
    for view in _views():
        keys = [a.key for a in offered_actions(view)]
        assert len(keys) == len(set(keys)), (view, keys)
        seen_situations.add(view.situation)
    assert {"unconfigured", "election_loaded", "test_mode", "polls_open", "polls_closed",
            "polls_paused", "jammed", "fault", "needs_review", "box_full"} <= seen_situations <= set(SCREENS)


def test_nothing_is_offered_after_the_polls_closed_that_only_open_polls_allow():
    closed = UnitView(configured=True, polls="polls_closed", ballot="inactive", cast=4)
    names = {a.name for a in offered_actions(closed)}
    assert not names & {"pause", "close", "open", "reprint_zero", "resume", "test_mode"}
    after_a_ballot = UnitView(configured=True, polls="polls_open", ballot="waiting_for_ballot", cast=1)
    assert "reprint_zero" not in {a.name for a in offered_actions(after_a_ballot)}


def _offered(app) -> set[str]:
    """The action keys the footer shows now, checked against the screen's buttons."""
    keys = {key for key, active in app.active_bindings.items()
            if active.enabled and active.binding.action.startswith("operator(")}
    buttons = {b.id[3:] for b in app.screen.query("#actions Button") if b.display}
    assert {OPERATOR_ACTIONS[name].key for name in buttons} == keys, (keys, buttons)
    return buttons


async def _offers(app, pilot, expected: set[str]) -> None:
    """Wait until the screen offers exactly ``expected`` (the view reaches the screen after the
    unit publishes it)."""
    deadline = asyncio.get_running_loop().time() + 30
    while _offered(app) != expected and asyncio.get_running_loop().time() < deadline:
        await pilot.pause()
    assert _offered(app) == expected


async def _refused_key_does_nothing(app, pilot, key: str) -> None:
    before = len(app.notices)
    await pilot.press(key)
    await pilot.pause()
    assert len(app.notices) == before and not app.screen.is_modal


def test_every_offered_key_is_accepted_along_a_day_and_words_leave_with_their_situation(tmp_path):
    sim, app = simulated_console(tmp_path, seed=3, voters=10)

    async def day() -> None:
        async with app.run_test(size=SIZE) as pilot:
            await app.until(lambda v: v.situation == "unconfigured")
            await _offers(app, pilot, {"load_election"})
            assert (await act(pilot, "l", pin=EM)).ok
            await app.until(lambda v: v.situation == "election_loaded")
            await _offers(app, pilot, {"unload", "test_mode", "open", "export"})
            await _refused_key_does_nothing(app, pilot, "c")

            assert (await act(pilot, "t", pin=EM)).ok
            await app.until(lambda v: v.situation == "test_mode")
            await _offers(app, pilot, {"end_test"})
            assert "Test mode: insert test ballots" in screen_text(app)
            assert (await act(pilot, "x", pin=EM)).ok
            await app.until(lambda v: v.situation == "election_loaded")
            assert "Test mode: insert test ballots" not in screen_text(app)

            assert (await act(pilot, "e", pin=EM)).ok
            r = await act(pilot, "l", pin=EM, confirm=True)  # unload before the polls ever opened
            assert r.ok, r.text
            await app.until(lambda v: v.situation == "unconfigured")
            await _offers(app, pilot, {"load_election"})
            assert (await act(pilot, "l", pin=EM)).ok  # and load it again
            await app.until(lambda v: v.situation == "election_loaded")

            await pilot.press("2")  # a card shown before the polls open
            await app.until(lambda v: v.desk_message is not None)
            assert (await act(pilot, "o", pin=PW)).ok
            await app.until(lambda v: v.situation == "polls_open")
            assert app.view.desk_message is None and "Polls are not open" not in screen_text(app)
            await _offers(app, pilot, {"pause", "close", "reprint_zero"})
            assert (await act(pilot, "z", pin=PW)).ok
            assert (await act(pilot, "p", pin=PW)).ok
            await app.until(lambda v: v.situation == "polls_paused")
            await _offers(app, pilot, {"resume", "close"})
            assert (await act(pilot, "u", pin=PW)).ok
            await app.until(lambda v: v.situation == "polls_open")

            await pilot.press("1")
            await app.until(lambda v: v.checked_in == 1)
            await pilot.press("3")
            await app.until(lambda v: v.cast == 1 and not v.busy)
            assert "Your ballot was counted" in screen_text(app)
            await _offers(app, pilot, {"pause", "close"})
            await _refused_key_does_nothing(app, pilot, "z")

            assert (await act(pilot, "c", pin=PW, confirm=True)).ok
            await app.until(lambda v: v.situation == "polls_closed")
            assert "Your ballot was counted" not in screen_text(app)
            await _offers(app, pilot, {"reopen", "reprint_results", "export"})
            await _refused_key_does_nothing(app, pilot, "p")
            assert (await act(pilot, "r", pin=PW)).ok
            r = await act(pilot, "a", pin=EM, confirm=True)
            assert r.ok, r.text
            await app.until(lambda v: v.situation == "polls_paused")
            assert (await act(pilot, "c", pin=PW, confirm=True)).ok
            await app.until(lambda v: v.situation == "polls_closed")
            assert (await act(pilot, "e", pin=EM)).ok
            await _offers(app, pilot, {"reopen", "reprint_results", "export", "unload"})
            r = await act(pilot, "l", pin=EM, confirm=True)
            assert r.ok and "unloaded" in r.text, r.text
            await app.until(lambda v: v.situation == "unconfigured")

    try:
        asyncio.run(day())
    finally:
        sim.close()
