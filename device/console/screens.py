"""One screen per situation a poll worker can find the unit in, each with its CSS beside it.

``SituationScreen`` lays out what every screen shows — the status line, the situation's heading
and message (from the event catalog, coloured by severity), the actions as buttons and keys,
the result of the last action, the journal pane, and the simulated world's panel when the unit
is simulated. The actions come from the one table (``device/unit/staff.py``): every screen binds
them all and shows, as keys in the footer and as buttons, only those possible in the view shown
(``offered_actions``). A subclass names its ``situation`` and its look. ``SCREENS`` maps a situation (``device/unit/view.py``) to its screen class.
"""
from __future__ import annotations

import datetime as dt
from typing import Protocol, runtime_checkable

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import Screen
from textual.widgets import Button, Footer, Static

from device.console.widgets import JournalPane, StatusLine, WorldPanelWidget
from device.i18n import Translator
from device.unit.staff import OPERATOR_ACTIONS, offered_actions
from device.unit.view import UnitView, words_of
from hardware.peripherals import console_name

WORLD_KEYS = "1234567890vbn"  # the simulated world panel's keys (sim/unit/world_panel.py)


def headings(tr: Translator) -> dict[str, str]:
    """The heading of each situation, in the console's language."""
    _ = tr._
    return {
        "starting": _("Starting the unit…"),
        "peripheral_lost": _("A peripheral is disconnected"),
        "unconfigured": _("No election loaded"),
        "election_loaded": _("Election loaded — polls not open"),
        "test_mode": _("Test mode — test ballots only"),
        "polls_open": _("Polls open"),
        "needs_review": _("The voter must choose"),
        "jammed": _("Paper jam"),
        "fault": _("Ballot box fault"),
        "cover_open": _("Ballot box cover open"),
        "printer_out": _("Printer problem"),
        "polls_paused": _("Polls paused"),
        "polls_closed": _("Polls closed"),
        "box_full": _("Ballot box full"),
    }


@runtime_checkable
class HostsWorldPanel(Protocol):
    """The app a screen runs in, as the screen asks it for the world's panel (``OperatorConsole``)."""

    def world_panel(self) -> WorldPanelWidget | None: ...


class SituationScreen(Screen):
    situation = "starting"
    DEFAULT_CSS = """
    SituationScreen { layout: vertical; }
    SituationScreen #body { height: 1fr; }
    SituationScreen #main { width: 1fr; padding: 0 1; }
    SituationScreen #heading { text-style: bold; height: 3; content-align: left middle;
                               padding: 0 1; background: $boost; }
    SituationScreen #message { min-height: 3; padding: 1 1; }
    SituationScreen #message.-error { background: $error 30%; }
    SituationScreen #message.-warning { background: $warning 25%; }
    SituationScreen #message.-info { background: $success 15%; }
    SituationScreen #detail { height: auto; padding: 0 1; }
    SituationScreen #actions { height: auto; margin: 1 0; }
    SituationScreen #actions Button { margin-right: 1; }
    SituationScreen #notice { height: auto; padding: 0 1; color: $text-muted; }
    SituationScreen.-narrow #journal { display: none; }
    SituationScreen.-short #heading { height: 1; }
    SituationScreen.-short #message { min-height: 1; padding: 0 1; }
    SituationScreen.-short #actions { margin: 0; }
    SituationScreen.-short #actions Button { height: 1; border: none; min-width: 0; }
    SituationScreen.-narrow #actions { layout: grid; grid-size: 2; grid-gutter: 0 1; }
    SituationScreen.-narrow #actions Button { width: 100%; margin-right: 0; }
    """
    # 80x24, the smallest terminal the console is laid out for: no journal pane (it is in the
    # export), one-line heading and buttons; from 100 columns and 30 rows, everything.
    HORIZONTAL_BREAKPOINTS = [(0, "-narrow"), (100, "-wide")]
    VERTICAL_BREAKPOINTS = [(0, "-short"), (30, "-tall")]

    def __init__(self, tr: Translator) -> None:
        super().__init__(name=self.situation)
        self.tr = tr
        self.offered: tuple[str, ...] = ()  # the actions possible in the view shown
        for action in OPERATOR_ACTIONS.values():  # labels in the console's language, per screen
            self._bindings.bind(action.key, f"operator('{action.name}')", tr._(action.label))

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Only the actions possible now have a key in the footer (and a key that works)."""
        if action == "operator":
            return parameters[0] in self.offered
        return True

    async def action_operator(self, action: str) -> None:
        if action in self.offered:
            await self.app.run_action(f"operator('{action}')")

    def __init_subclass__(cls, **kwargs) -> None:
        cls.BINDINGS = [Binding(k, f"app.world_key('{k}')", show=False) for k in WORLD_KEYS]
        super().__init_subclass__(**kwargs)

    def compose(self) -> ComposeResult:
        yield StatusLine(id="status")
        with Horizontal(id="body"):
            with Vertical(id="main"):
                yield Static(headings(self.tr)[self.situation], id="heading")
                yield Static("", id="message")
                yield Static("", id="detail")
                with Horizontal(id="actions"):
                    for action in OPERATOR_ACTIONS.values():
                        button = Button(f"{self.tr._(action.label)} ({action.key})", id=f"do-{action.name}")
                        button.display = False  # shown while possible (``show``)
                        yield button
                yield Static("", id="notice")
                world = self.app.world_panel() if isinstance(self.app, HostsWorldPanel) else None
                if world is not None:
                    yield world
            yield JournalPane(id="journal")
        yield Footer()

    def on_mount(self) -> None:
        # A view shown while the screen was still being built found no widgets: once laid out,
        # the screen shows the view the console holds now (never an older one).
        self.call_after_refresh(self._show_latest)

    def _show_latest(self) -> None:
        view = getattr(self.app, "view", None)
        if isinstance(view, UnitView):
            self.show(view)

    async def on_button_pressed(self, event: Button.Pressed) -> None:
        if event.button.id and event.button.id.startswith("do-"):
            event.stop()
            await self.action_operator(event.button.id[3:])

    # --- refreshed by the app with every new view --------------------------------------------
    def show(self, view: UnitView) -> None:
        if not self.is_mounted or not self.query(StatusLine):
            return  # not composed yet, or already replaced by another situation's screen
        self.query_one(StatusLine).show(view, self.tr)
        self.query_one(JournalPane).show(view, self.tr)
        text, severity = self.message_of(view)
        msg = self.query_one("#message", Static)
        msg.update(text)
        msg.set_classes(f"-{severity}")
        self.query_one("#detail", Static).update(self.detail_of(view))
        offered = tuple(a.name for a in offered_actions(view))
        if offered != self.offered:
            self.offered = offered
            for button in self.query("#actions Button"):
                button.display = (button.id or "")[3:] in offered
            self.refresh_bindings()
        for panel in self.query(WorldPanelWidget):
            panel.show(view)

    def show_notice(self, text: str) -> None:
        for notice in self.query("#notice").results(Static):
            notice.update(text)

    def message_of(self, view: UnitView) -> tuple[str, str]:
        """The latest word of the unit (catalog text and severity), else the screen's own."""
        if view.message is not None:
            return self.tr.words(words_of(view.message)), view.message.severity
        return self.idle_text(), "info"

    def idle_text(self) -> str:
        return ""

    def detail_of(self, view: UnitView) -> str:
        return ""


class StartingScreen(SituationScreen):
    situation = "starting"

    def message_of(self, view):
        return self.tr._("Replaying the journal and connecting the peripherals."), "info"


class PeripheralLostScreen(SituationScreen):
    situation = "peripheral_lost"
    DEFAULT_CSS = "PeripheralLostScreen #heading { background: $error; }"
    def message_of(self, view):
        lines = [self.tr._("{name}: {detail}").format(name=self.tr._(console_name(k)), detail=d) for k, d in view.lost]
        lines.append(self.tr._("Check the cable and power. The unit reconnects by itself; nothing is lost."))
        return "\n".join(lines), "error"


class UnconfiguredScreen(SituationScreen):
    situation = "unconfigured"

    def message_of(self, view):
        return self.tr._("The election manager loads the signed election package (PIN needed)."), "info"


class ElectionLoadedScreen(SituationScreen):
    situation = "election_loaded"

    def idle_text(self):
        return self.tr._("Opening the polls prints the zero report. Every total must be zero.")


class TestModeScreen(SituationScreen):
    situation = "test_mode"
    DEFAULT_CSS = "TestModeScreen #heading { background: $warning; color: $text; }"

    def idle_text(self):
        return self.tr._("Test ballots only; they are counted in a separate test tally.")


class PollsOpenScreen(SituationScreen):
    """Two desks side by side: the ID desk (waiting / authorised / refused) and the ballot box
    (waiting / scanning / accepted / returned)."""

    situation = "polls_open"
    DEFAULT_CSS = "PollsOpenScreen #heading { background: $success 40%; }"

    def message_of(self, view):
        if view.busy == "scanning":
            return self.tr._("Scanning the ballot…"), "info"
        return super().message_of(view)

    def idle_text(self):
        return self.tr._("Waiting for a ballot.")

    def detail_of(self, view):
        desk = (self.tr.words(words_of(view.desk_message)) if view.desk_message
                else self.tr._("Waiting for a voter's card."))
        box = self.tr._("Scanning") if view.busy else self.tr._("Waiting for a ballot")
        return self.tr._("ID desk: {desk}\nBallot box: {box}").format(desk=desk, box=box)


class NeedsReviewScreen(SituationScreen):
    situation = "needs_review"
    DEFAULT_CSS = "NeedsReviewScreen #heading { background: $warning; color: $text; }"

    def detail_of(self, view):
        return self.tr._("The voter decides: take the ballot back to correct it, or cast it as it is. "
                 "A poll worker may press the key the voter asks for.")


class JammedScreen(SituationScreen):
    situation = "jammed"
    DEFAULT_CSS = "JammedScreen #heading { background: $error; }"


class FaultScreen(SituationScreen):
    situation = "fault"
    DEFAULT_CSS = "FaultScreen #heading { background: $error; }"

    def message_of(self, view):
        if view.internal_error:
            return self.tr._("The unit's program stopped ({detail}). Nothing recorded is lost: restart the "
                     "unit.").format(detail=view.internal_error), "error"
        return super().message_of(view)


class CoverOpenScreen(SituationScreen):
    situation = "cover_open"
    DEFAULT_CSS = "CoverOpenScreen #heading { background: $warning; color: $text; }"

    def message_of(self, view):
        return self.tr._("The ballot box cover is open. Close it to continue; no ballot is scanned meanwhile."), \
            "warning"


class PrinterOutScreen(SituationScreen):
    situation = "printer_out"
    DEFAULT_CSS = "PrinterOutScreen #heading { background: $warning; color: $text; }"

    def message_of(self, view):
        return (self.tr.words(view.printer_problem) if view.printer_problem else ""), "warning"

    def detail_of(self, view):
        return self.tr._("Load paper, then print the report again.")


class PollsPausedScreen(SituationScreen):
    situation = "polls_paused"
    DEFAULT_CSS = "PollsPausedScreen #heading { background: $warning 50%; }"

    def message_of(self, view):
        return self.tr._("Polls are paused: no voter is checked in and no ballot is scanned."), "info"


def upload_text(view: UnitView, tr: Translator) -> str:
    """Where the signed results stand with the central tally, in the operator's words."""
    up = view.upload
    if up is None:
        return ""
    if up.state == "sent":
        return tr._("Results sent to the central tally.")
    if up.state == "refused":
        return tr._("Results refused by the central tally: {reason}. Fix the cause, then run "
                 "'ballotbox device send --retry-refused'.").format(reason=up.detail)
    when = dt.datetime.fromtimestamp(up.next_at or 0, dt.timezone.utc).strftime("%H:%M:%S")
    if not up.attempts:
        return tr._("Results waiting to be sent: first try at {time} UTC.").format(time=when)
    return tr._("Results waiting: next try at {time} UTC (last answer: {detail}).").format(
        time=when, detail=up.detail)


class PollsClosedScreen(SituationScreen):
    situation = "polls_closed"
    DEFAULT_CSS = "PollsClosedScreen #heading { background: $primary; }"

    def idle_text(self):
        return self.tr._("Voting is complete. The results tape was printed.")

    def detail_of(self, view):
        return upload_text(view, self.tr)


class BoxFullScreen(SituationScreen):
    situation = "box_full"
    DEFAULT_CSS = "BoxFullScreen #heading { background: $error 70%; }"

    def message_of(self, view):
        return self.tr._("The ballot box holds {n} sheets, its capacity. Seal it, put an empty box in, "
                 "then press s.").format(n=view.box_sheets), "error"


SCREENS: dict[str, type[SituationScreen]] = {
    cls.situation: cls for cls in (
        StartingScreen, PeripheralLostScreen, UnconfiguredScreen, ElectionLoadedScreen,
        TestModeScreen, PollsOpenScreen, NeedsReviewScreen, JammedScreen, FaultScreen,
        CoverOpenScreen, PrinterOutScreen, PollsPausedScreen, PollsClosedScreen, BoxFullScreen)
}
