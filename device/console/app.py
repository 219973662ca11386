"""The operator console: a Textual app showing the unit's situation and taking the operator's actions.

``OperatorConsole(unit)`` subscribes to the unit's views. The unit thread calls the subscriber;
it only posts a ``ViewChanged`` message (thread-safe), and the app, on its own thread, shows
the screen of the view's situation (``device/console/screens.py``) and refreshes it. An action
(key or button; the screen offers only those possible now) asks for the role's PIN when the
action needs one and for confirmation when it cannot be undone (closing the polls, reopening,
unloading), all read from the one table of actions (``device/unit/staff.py``), then is queued to the unit
thread with ``Unit.submit``; its result is shown under the actions. The console never calls
the controller itself.

Languages: the console keeps its own ``Translator`` (``self.tr``, the unit's language at start);
``g`` shows it in the next language at once — the screen is rebuilt, the footer's key labels
too. The unit hands the console untranslated ``Words`` and catalog messages with their fields,
so the console can say them in any language, while the unit's slips keep the unit's language.

``world_panel`` (optional) makes the simulated world's panel for each screen: ``device run
--sim`` passes the factory it got from the ``ballotbox.simulated_world`` entry point; digit keys
go to that panel (``press_world_key``).

Tests: ``await console.until(lambda view: ...)`` waits (without sleeping) for a view that
satisfies a condition; ``console.notices`` lists the results of actions in order.
"""
from __future__ import annotations

import asyncio
from typing import Callable

from textual.app import App, ScreenStackError
from textual.binding import Binding
from textual.message import Message
from textual.screen import ModalScreen

from device.console.screens import SCREENS, SituationScreen
from device.console.widgets import ConfirmDialog, PinDialog, WorldPanelWidget
from device.i18n import LANGUAGES, LANGUAGE_NAMES, N_, Words, language, translator
from device.station.roles import role_name
from device.unit.actions import ActionResult
from device.unit.runtime import Unit
from device.unit.staff import OPERATOR_ACTIONS
from device.unit.view import UnitView

LANGUAGE_KEY = "g"


class ViewChanged(Message):
    def __init__(self, view: UnitView) -> None:
        super().__init__()
        self.view = view


class OperatorConsole(App):
    TITLE = "ballotbox"
    CSS = "Screen { background: $surface; }"

    def __init__(self, unit: Unit, *, world_panel: Callable[[], WorldPanelWidget] | None = None,
                 start_unit: bool = True, lang: str | None = None) -> None:
        super().__init__()
        self.tr = translator(lang or language())  # the console's own: slips keep the unit's
        self._bind_language_key()
        self.unit = unit
        self._world_panel = world_panel
        self._start_unit = start_unit
        self.view: UnitView = unit.view
        self.shown_view: UnitView = unit.view
        self.notices: list[ActionResult] = []
        self._changed = asyncio.Condition()

    # --- the console's language: a key switches it, live ----------------------------------
    def _following_language(self) -> str:
        return LANGUAGES[(LANGUAGES.index(self.tr.lang) + 1) % len(LANGUAGES)]

    def _bind_language_key(self) -> None:
        """The key's label names the language it switches to, in the language shown now."""
        label = self.tr._("Language: {name}").format(name=LANGUAGE_NAMES[self._following_language()])
        self._bindings.key_to_bindings[LANGUAGE_KEY] = [Binding(LANGUAGE_KEY, "next_language", label)]

    async def action_next_language(self) -> None:
        """Show the console in the next language (the unit's slips keep the unit's language)."""
        self.tr = translator(self._following_language())
        self._bind_language_key()
        self.refresh_bindings()
        if self.screen_stack and not isinstance(self.screen, ModalScreen):
            await self._sync_screen(rebuild=True)

    # --- lifecycle ----------------------------------------------------------------------
    def on_mount(self) -> None:
        self.push_screen(SCREENS["starting"](self.tr))
        self.unit.subscribe(self._view_from_unit)
        if self._start_unit:
            self.unit.start()

    def _view_from_unit(self, view: UnitView) -> None:
        """Called on the unit thread: only posts the view to the app's own thread."""
        self.post_message(ViewChanged(view))

    def on_unmount(self) -> None:
        if self._start_unit:
            self.unit.stop()

    def world_panel(self) -> WorldPanelWidget | None:
        return self._world_panel() if self._world_panel else None

    # --- views from the unit thread ----------------------------------------------------------
    async def on_view_changed(self, message: ViewChanged) -> None:
        if message.view.seq <= self.view.seq and self.view.seq:
            return
        self.view = message.view
        await self._sync_screen()
        self.shown_view = message.view  # on screen now: what ``until`` waits for
        async with self._changed:
            self._changed.notify_all()

    def _base_screen(self) -> SituationScreen | None:
        for screen in reversed(self.screen_stack):
            if isinstance(screen, SituationScreen):
                return screen
        return None

    async def _sync_screen(self, rebuild: bool = False) -> None:
        if not self.screen_stack:
            return  # starting or closing
        if isinstance(self.screen, ModalScreen):
            base = self._base_screen()
            if base is not None:
                base.show(self.view)
            return  # switched when the dialog closes
        current = self._base_screen()
        if rebuild or current is None or current.situation != self.view.situation:
            try:
                await self.switch_screen(SCREENS[self.view.situation](self.tr))
            except ScreenStackError:  # the app is closing
                return
            current = self._base_screen()
            if current is None:  # the app closed while the new screen mounted
                return
            last = self.tr.words(self.notices[-1].words) if self.notices else ""
            current.call_after_refresh(current.show_notice, last)
        # Again once the screen is laid out, with the view current *then*: a view captured now
        # could be older than one shown meanwhile, and would put a stale word back on screen.
        current.call_after_refresh(self._show_current)
        current.show(self.view)

    def _show_current(self) -> None:
        screen = self._base_screen()
        if screen is not None:
            screen.show(self.view)

    async def until(self, predicate: Callable[[UnitView], bool], timeout: float = 60.0) -> UnitView:
        """Wait until the view on screen satisfies ``predicate`` (tests; no sleeping). The view
        on screen, not the latest received: that one may still be waiting for its screen."""
        async def wait() -> UnitView:
            async with self._changed:
                await self._changed.wait_for(lambda: predicate(self.shown_view))
                return self.shown_view
        try:
            return await asyncio.wait_for(wait(), timeout)
        except asyncio.TimeoutError:
            raise asyncio.TimeoutError(f"still {self.view}") from None

    # --- operator actions -----------------------------------------------------------------
    async def action_operator(self, action: str) -> None:
        self.run_worker(self._operate(action), group="operator", exclusive=True)

    async def _operate(self, action: str) -> None:
        declared = OPERATOR_ACTIONS[action]
        role = declared.role
        pin: str | None = ""
        if role is not None:
            locked = self.unit.access.locked_for(role) if self.unit.access else 0.0
            prompt = self.tr._("PIN of the {role}:").format(role=self.tr._(role_name(role)))
            if locked:
                prompt += "\n" + self.tr._("(locked for {s:.0f} s more)").format(s=locked)
            pin = await self.push_screen_wait(PinDialog(prompt, self.tr))
        if pin is None or (declared.confirm and not await self.push_screen_wait(
                ConfirmDialog(self.tr._(declared.confirm), self.tr))):
            result = ActionResult(False, Words.of(N_("Cancelled: nothing was done.")))
        else:
            screen = self._base_screen()
            for panel in screen.query(WorldPanelWidget) if screen else ():
                panel.before_operator_action(action)  # the simulated hands do the physical part
            result = await asyncio.wrap_future(self.unit.submit(action, pin))
        self.notices.append(result)
        await self._after_dialog()
        screen = self._base_screen()
        if screen is not None:
            screen.show_notice(self.tr.words(result.words))

    async def _after_dialog(self) -> None:
        if self.screen_stack and not isinstance(self.screen, ModalScreen):
            await self._sync_screen()

    # --- the simulated world ----------------------------------------------------------------
    def action_world_key(self, key: str) -> None:
        screen = self._base_screen()
        if screen is None:
            return
        for panel in screen.query(WorldPanelWidget):
            panel.press_world_key(key)
