"""The console's building blocks: status line, journal pane, PIN and confirmation dialogs, and
the base of a simulated world's panel (``WorldPanelWidget``: what the console asks of it).

Every string an operator reads is translated by the console's own ``Translator`` (device/i18n.py),
given to each widget, so that a poll worker can switch the console's language live. The dialogs are
``ModalScreen``s that return their answer with ``dismiss``: the PIN (or None when cancelled),
True/False for a confirmation.
"""
from __future__ import annotations

from rich.markup import escape
from textual.app import ComposeResult
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Input, Label, Static

from device.i18n import Translator
from device.station.roles import role_name
from device.unit.view import JournalLine, UnitView, polls_words


class WorldPanelWidget(Static):
    """A simulated world's panel on every screen (``device run --sim``; the simulator's is
    ``sim/unit/world_panel.py``): the console shows it each view, hands it the world keys and
    tells it of an operator action before the unit runs it. ``device/`` declares it, ``sim/``
    fills it in."""

    def show(self, view: UnitView) -> None:
        raise NotImplementedError

    def press_world_key(self, key: str) -> None:
        raise NotImplementedError

    def before_operator_action(self, action: str) -> None:
        """The poll worker's hands before the action (nothing, unless the world says)."""


class StatusLine(Static):
    """Station, election (hash prefix), polls state and the day's counts, in large type."""

    DEFAULT_CSS = """
    StatusLine { height: auto; max-height: 5; padding: 0 1; background: $primary-darken-2; color: $text; }
    """

    def show(self, view: UnitView, tr: Translator) -> None:
        _ = tr._
        polls = view.polls if view.configured else "setup"
        top = [_("Polls {polls}").format(polls=tr.words(polls_words(polls)))]
        if view.station:  # fields the unit does not know yet (before a load) are not shown empty
            top.insert(0, _("Station {station} ({name})").format(station=view.station, name=view.station_name)
                       if view.station_name else view.station)
        election = [part for part in (view.election_title, view.election_hash and
                                      _("hash {prefix}").format(prefix=view.hash_prefix)) if part]
        if view.test_mode:
            top.append(_("TEST MODE: {n} test ballots").format(n=view.test_ballots))
        counts = _("Checked in {checked_in}  ·  Ballots cast {cast}  ·  Invalid compartment {invalid}  ·  "
                   "Returned {returned}  ·  Authorised, not cast {unused}  ·  Box {box}/{capacity}").format(
            checked_in=view.checked_in, cast=view.cast, invalid=view.invalid_compartment,
            returned=view.returned, unused=view.authorised_unused, box=view.box_sheets,
            capacity=view.box_capacity)
        if view.by_commission:  # the fingerprint step's law: counted, never naming the voter
            counts += "  ·  " + _("Identified by the commission {n}").format(n=view.by_commission)
        lines = ["  ·  ".join(top), "  ·  ".join(election), counts if view.configured else ""]
        self.update("\n".join(f"[b]{escape(line)}[/b]" for line in lines if line))


class JournalPane(Static):
    """The latest journal events: time, what happened, and only fields that name no voter."""

    DEFAULT_CSS = """
    JournalPane { width: 44; height: 1fr; border: round $secondary; padding: 0 1; }
    """

    def show(self, view: UnitView, tr: Translator) -> None:
        lines = [f"{j.seq:>5} {j.at} {tr._(j.summary)}" + _detail(j, tr) for j in view.journal[-14:]]
        self.border_title = tr._("Journal")
        self.update("\n".join(lines) or tr._("(empty)"))


def _detail(line: JournalLine, tr: Translator) -> str:
    """Who acted (the role's name) and a swapped box's sheets, in the console's language."""
    said = [tr._(role_name(str(v))) if k == "role" else
            tr.ngettext("{n} sheet", "{n} sheets", int(v)).format(n=v) for k, v in line.fields]
    return f" ({', '.join(said)})" if said else ""


class PinDialog(ModalScreen[str | None]):
    """Asks for the PIN of the role an action needs."""

    DEFAULT_CSS = """
    PinDialog { align: center middle; }
    PinDialog > Vertical { width: 56; max-width: 100%; height: auto; border: thick $warning; padding: 1 2;
                           background: $surface; }
    PinDialog Label { width: 100%; }
    PinDialog Input { margin: 1 0; }
    PinDialog Horizontal { height: auto; }
    """
    def __init__(self, prompt: str, tr: Translator):
        super().__init__()
        self.prompt, self.tr = prompt, tr
        self._bindings.bind("escape", "cancel", tr._("Cancel"))

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.prompt, id="pin-prompt")
            yield Input(password=True, restrict=r"[0-9]*", max_length=12, id="pin")
            with Horizontal():
                yield Button(self.tr._("OK"), variant="primary", id="pin-ok")
                yield Button(self.tr._("Cancel"), id="pin-cancel")

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
    ConfirmDialog > Vertical { width: 64; max-width: 100%; height: auto; border: thick $error; padding: 1 2;
                               background: $surface; }
    ConfirmDialog Label { width: 100%; margin-bottom: 1; }
    ConfirmDialog Horizontal { height: auto; }
    """
    def __init__(self, question: str, tr: Translator):
        super().__init__()
        self.question, self.tr = question, tr
        self._bindings.bind("y", "answer(True)", tr._("Yes"))
        self._bindings.bind("n,escape", "answer(False)", tr._("No"))

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Label(self.question, id="confirm-question")
            with Horizontal():
                yield Button(self.tr._("Yes (Y)"), variant="error", id="confirm-yes")
                yield Button(self.tr._("No (N)"), id="confirm-no")

    def on_button_pressed(self, event: Button.Pressed) -> None:
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)
