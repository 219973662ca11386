"""The "simulated world" panel beside the operator console, and a robot that plays a whole day.

``WorldPanel`` shows what is physically at the unit (the next voter, the sheet at the entry,
in the path, handed back, in the operator's hand; the sheets in the box; the cover; the
printer's paper) and acts on the twins when a digit key is pressed (``WORLD_KEYS``). It also
does what a poll worker's hands do around the console's keys: a sheet taken out of a jam goes
into the box or back to the voter as the unit said; a full box is swapped just before "Box
swapped" is pressed; the test deck leaves the box after test mode.

``autoplay(pilot, world, voters=N, seed=S)`` is a Textual auto-pilot: the election manager, the
poll worker and the voters, pressing keys and PINs on the console from whatever state it finds
(so it carries on after a power cut): load, open, N voters (some overvote first, then correct
or cast anyway), close. ``device run --sim --autoplay N`` runs it, headless with ``--headless``.
"""
from __future__ import annotations

import asyncio
import random


from device.console.widgets import ConfirmDialog, PinDialog, WorldPanelWidget
from device.i18n import N_
from device.election.identity import barcode_payload
from device.station.roles import ELECTION_MANAGER, POLL_WORKER
from device.unit.view import UnitView
from sim.unit.simulated_unit import SIM_PINS, SimulatedWorld

WORLD_KEYS = {
    "1": N_("next voter shows their card"),
    "2": N_("a stranger shows a card (not on the roll)"),
    "3": N_("voter inserts the ballot as marked (in test mode: the next test-deck ballot)"),
    "4": N_("voter inserts an overvoted ballot"),
    "5": N_("voter inserts a blank ballot"),
    "6": N_("jam the transport on the next sheet"),
    "7": N_("poll worker opens the cover and takes the jammed sheet out"),
    "8": N_("pull / reload the printer's paper"),
    "9": N_("unplug / plug the scanner's cable"),
    "0": N_("voter takes the returned sheet and inserts it again"),
}
# The voter at the ID desk presses a finger on the sensor (an election with the fingerprint step):
# key -> (the finger the twin gets, what it is). The twin reads one press, then the finger lifts.
FINGER_KEYS = {
    "v": ("genuine", N_("the voter presses their own finger")),
    "b": ("impostor", N_("the voter presses another person's finger")),
    "n": ("none", N_("the voter lifts the finger (no press)")),
}
REFRESH_S = 0.5  # the panel also redraws on its own: hands move things the unit does not see


class WorldPanel(WorldPanelWidget):
    DEFAULT_CSS = """
    WorldPanel { height: auto; border: round $accent; padding: 0 1; margin-top: 1; }
    """

    def __init__(self, world: SimulatedWorld) -> None:
        super().__init__(classes="world-panel")
        self.world = world
        self.note = ""  # what the last key did not do, and why

    def on_mount(self) -> None:
        self.show(self.app.view)
        self.set_interval(REFRESH_S, self._draw)

    def press_world_key(self, key: str) -> None:
        w = self.world
        self.note = ""
        if key == "1":
            self.note = self._next_voter_comes()
        elif key == "2":
            w.present_card(barcode_payload("XNOTONROLL"))
        elif key == "3" and self.app.view.polls == "testing":
            w.insert_ballot("test")  # the test deck
        elif key in "345":
            w.insert_ballot({"3": "clean", "4": "overvoted", "5": "blank"}[key])
        elif key == "6":
            w.jam_next_sheet()
        elif key == "7":
            w.remove_jammed_sheet()
        elif key == "8":
            w.set_paper(loaded=w.printer.paper_out)
        elif key == "9":
            w.set_scanner_cable(plugged=w.scanner.unplugged)
        elif key == "0":
            reinsert(w)
        elif key in FINGER_KEYS and not w.place_finger(FINGER_KEYS[key][0]):
            self.note = self.app.tr._("This unit has no fingerprint sensor.")
        self.show(self.app.view)

    def _next_voter_comes(self) -> str:
        """The next voter shows their card, if the ID desk is open; else what happened instead."""
        tr = self.app.tr
        if self.app.view.polls != "polls_open":
            return tr._("The polls are not open: the voter waits.")
        return "" if self.world.present_voter_card() is not None else tr._("No voter is left.")

    def before_operator_action(self, action: str) -> None:
        """The poll worker's hands before the key: a full box is swapped, then confirmed."""
        if action == "swap_box":
            self.world.swap_box()

    def show(self, view: UnitView) -> None:
        """Refresh, and do what the console told the poll worker's hands to do."""
        follow_instructions(self.world, view)
        self._draw()

    def _draw(self) -> None:
        """What is physically at the unit now, in the console's language."""
        w, sc, tr = self.world, self.world.scanner, self.app.tr
        self.border_title = tr._("Simulated world (keys 0-9)")
        sheet = tr._("sheet")

        def here(thing) -> str:
            return sheet if thing else "-"
        n = w.state.next_voter
        voter = (tr._("{n} of {total}").format(n=n + 1, total=len(w.voters)) if n < len(w.voters)
                 else tr._("(none left)"))
        lines = [
            tr._("next voter: {voter}   entry: {entry}   path: {path}   handed back: {back}   "
                 "in operator's hand: {hand}").format(voter=voter, entry=here(sc.entry), path=here(sc.path),
                                                      back=here(sc.returned), hand=here(w.in_hand)),
            tr._("box: {box}   invalid compartment: {invalid}   sealed boxes: {sealed}   cover: {cover}   "
                 "printer paper: {paper}   scanner cable: {cable}").format(
                box=len(sc.box), invalid=len(sc.invalid_compartment),
                sealed=tr.ngettext("{n} sheet", "{n} sheets", len(w.state.sealed)).format(n=len(w.state.sealed)),
                cover=tr._("OPEN") if sc.cover_open else tr._("closed"),
                paper=tr._("OUT") if w.printer.paper_out else tr._("ok"),
                cable=tr._("UNPLUGGED") if sc.unplugged else tr._("plugged")),
            "  ".join(f"[b]{k}[/b] {tr._(v)}" for k, v in WORLD_KEYS.items()),
        ]
        if w.finger is not None:
            lines.append("  ".join(f"[b]{k}[/b] {tr._(v)}" for k, (_, v) in FINGER_KEYS.items()))
        if self.note:
            lines.insert(0, f"[b]{self.note}[/b]")
        self.update("\n".join(lines))


def reinsert(world: SimulatedWorld) -> None:
    sheet = world.scanner.take_returned()
    if sheet is not None:
        world.scanner.insert(sheet)
        world.save()


def follow_instructions(world: SimulatedWorld, view: UnitView) -> None:
    """The poll worker's hands: place a removed sheet where the unit said; take the test deck
    out of the box once test mode is over."""
    if world.in_hand is not None and view.message is not None and view.ballot != "jammed":
        if view.message.code == "placed_in_box":
            world.place_removed_sheet(into_box=True)
        elif view.message.code == "returned_to_voter":
            world.place_removed_sheet(into_box=False)
    if view.polls in ("election_loaded", "polls_open"):
        world.remove_test_deck()


async def dialog_shown(pilot, kind: type, tries: int = 200) -> None:
    """Let the app run until a dialog of ``kind`` is on top (keys pressed before would go
    to the screen below)."""
    for _ in range(tries):
        if isinstance(pilot.app.screen, kind):
            return
        await pilot.pause()
    raise RuntimeError(f"{kind.__name__} did not appear")


async def autoplay(pilot, world: SimulatedWorld, *, voters: int | None = None, seed: int = 0,
                   overvote_rate: float = 0.2) -> None:
    app = pilot.app
    target = len(world.voters) if voters is None else min(voters, len(world.voters))

    async def pin(role: str) -> None:
        await dialog_shown(pilot, PinDialog)
        await pilot.press(*SIM_PINS[role], "enter")

    async def settle(after: int, timeout: float = 10.0) -> None:
        try:
            await app.until(lambda v: v.seq > after and not v.busy, timeout)
        except asyncio.TimeoutError:
            pass

    while True:
        view = await app.until(lambda v: v.situation != "starting" and not v.busy, 60)
        s, seq = view.situation, view.seq
        rng = random.Random(f"{seed}:{world.state.next_voter}")
        if s == "unconfigured":
            await pilot.press("l")
            await pin(ELECTION_MANAGER)
        elif s == "election_loaded":
            await pilot.press("o")
            await pin(POLL_WORKER)
        elif s == "needs_review":
            await pilot.press("t" if rng.random() < 0.5 else "k")
        elif s == "jammed":
            world.remove_jammed_sheet()
            await pilot.press("j")
            await pin(POLL_WORKER)
        elif view.identity_wait == "commission":  # the fingerprint step sent the voter to it
            await pilot.press("i")
            await pin(POLL_WORKER)
        elif view.identity_wait == "finger":  # the voter presses their own finger
            world.place_finger("genuine")
        elif s == "polls_closed":
            app.exit(view)
            return
        elif s in ("polls_open", "polls_paused"):
            returned = world.scanner.returned
            if returned is not None:
                info = world.state.sheets[returned.serial]
                if info.how == "clean":
                    reinsert(world)
                else:
                    world.take_back()
                    world.insert_ballot("clean")
            elif view.authorised_unused > 0 and world.scanner.entry is None and world.scanner.path is None:
                world.insert_ballot("overvoted" if rng.random() < overvote_rate else "clean")
            elif world.state.next_voter < target and view.authorised_unused == 0:
                world.present_voter_card()
            else:
                await pilot.press("c")
                await pin(POLL_WORKER)
                await dialog_shown(pilot, ConfirmDialog)
                await pilot.press("y")
        await settle(seq)
