"""The console's building blocks: status line, journal pane, PIN and confirmation dialogs.

Every string an operator reads goes through ``_()`` (device/i18n.py). The dialogs are
``ModalScreen``s that return their answer with ``dismiss``: the PIN (or None when cancelled),
True/False for a confirmation.
"""
from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from device.i18n import _
from device.unit.view import UnitView

POLLS_WORDS = {
    "setup": "NO ELECTION", "election_loaded": "NOT OPEN", "polls_open": "OPEN",
    "polls_paused": "PAUSED", "polls_closed": "CLOSED", "testing": "NOT OPEN (TEST MODE)", "": "…",
}


def polls_word(view: UnitView) -> str:
    return _(POLLS_WORDS.get(view.polls, view.polls))


class StatusLine(Static):
    """Station, election (hash prefix), polls state and the day's counts, in large type."""

    DEFAULT_CSS = """
    StatusLine { height: 4; padding: 0 1; background: $primary-darken-2; color: $text; }
    """

    def show(self, view: UnitView) -> None:
        top = _("Station {station} ({name})  ·  {election}  ·  hash {prefix}  ·  Polls {polls}").format(
            station=view.station, name=view.station_name, election=view.election_title,
            prefix=view.hash_prefix, polls=polls_word(view))
        counts = _("Checked in {checked_in}  ·  Ballots cast {cast}  ·  Invalid compartment {invalid}  ·  "
                   "Returned {returned}  ·  Authorised, not cast {unused}  ·  Box {box}/{capacity}").format(
            checked_in=view.checked_in, cast=view.cast, invalid=view.invalid_compartment,
            returned=view.returned, unused=view.authorised_unused, box=view.box_sheets,
            capacity=view.box_capacity)
        mode = _("  ·  TEST MODE: {n} test ballots").format(n=view.test_ballots) if view.test_mode else ""
        self.update(f"[b]{top}{mode}[/b]\n[b]{counts}[/b]")


class JournalPane(Static):
    """The latest journal events: time, what happened, and only fields that name no voter."""

    DEFAULT_CSS = """
    JournalPane { width: 44; height: 1fr; border: round $secondary; padding: 0 1; }
    """

    def show(self, view: UnitView) -> None:
        lines = [f"{j.seq:>5} {j.at} {_(j.summary)}" + (f" ({j.detail})" if j.detail else "")
                 for j in view.journal[-14:]]
        self.border_title = _("Journal")
        self.update("\n".join(lines) or _("(empty)"))


class PinDialog(ModalScreen[str | None]):
    """Asks for the PIN of the role an action needs."""

    DEFAULT_CSS = """
    PinDialog { align: center middle; }
    PinDialog > Vertical { width: 56; height: auto; border: thick $warning; padding: 1 2; background: $surface; }
    PinDialog Input { margin: 1 0; }
    """
    BINDINGS = [Binding("escape", "cancel", _("Cancel"))]

    def __init__(self, prompt: str):
        super().__init__()
        self.prompt = prompt

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.prompt, id="pin-prompt")
            yield Input(password=True, restrict=r"[0-9]*", max_length=12, id="pin")
            with Horizontal():
                yield Button(_("OK"), variant="primary", id="pin-ok")
                yield Button(_("Cancel"), id="pin-cancel")

    def on_input_submitted(self, event: Input.Submitted) -> None:
        self.dismiss(event.value)

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(self.query_one(Input).value if event.button.id == "pin-ok" else None)

    def action_cancel(self) -> None:
        self.dismiss(None)


class ConfirmDialog(ModalScreen[bool]):
    """Asks before an action that cannot be undone (closing the polls)."""

    DEFAULT_CSS = """
    ConfirmDialog { align: center middle; }
    ConfirmDialog > Vertical { width: 64; height: auto; border: thick $error; padding: 1 2; background: $surface; }
    """
    BINDINGS = [Binding("y", "answer(True)", _("Yes")), Binding("n,escape", "answer(False)", _("No"))]

    def __init__(self, question: str):
        super().__init__()
        self.question = question

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, id="confirm-question")
            with Horizontal():
                yield Button(_("Yes (Y)"), variant="error", id="confirm-yes")
                yield Button(_("No (N)"), id="confirm-no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
