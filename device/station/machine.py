"""The station's state machine, declared as data: three regions of one machine.

``polls`` is the polls lifecycle; ``voter`` (the ID desk) and ``ballot`` (the ballot box) are
the two flows that run side by side inside ``polls_open`` — a voter can check in while the
previous voter's ballot is being scanned. Each region is one ``transitions.Machine`` bound to
the same controller object (``model_attribute`` = the region name), which is the flat, fast
form of a hierarchical machine with parallel children: the voter and ballot regions leave
``inactive`` only when the polls region enters ``polls_open`` and return to it when polls are
paused or closed. (HierarchicalMachine costs ~3x per trigger; a national simulation runs
tens of millions of triggers.) The machines are ``LeanMachine``s
(``device/station/lean_machine.py``): ``transitions``' ``Machine`` with a short path that skips
the per-trigger work these tables never use (~1 µs per trigger instead of ~6). The controller
fires its triggers through ``journaled_triggers.py``, which takes the same short path with the
journal record in one call and leaves the rest (an invalid trigger) to these machines.

Every trigger is also a journal event type (see ``device/event_catalog.toml``), so the journal
is the sequence of transitions and ``replay`` can run it back through these same tables.
``build_machines`` is used by the controller and by the auditor's replay; ``mermaid_diagram``
draws the committed diagram in ``docs/state-diagram.md`` from the same tables.
"""
from __future__ import annotations

import logging
from typing import Any, Callable

from transitions import Machine

from device.station.lean_machine import LeanMachine

# Three machines share one model; each would bind the generic ``trigger``/``may_trigger``
# helpers and warns that the first one already did. Those warnings say nothing useful here.
logging.getLogger("transitions.core").setLevel(logging.ERROR)

MECHANICAL = ["scanning", "accepting", "rejecting"]

REGIONS: dict[str, dict[str, Any]] = {
    "polls": {
        "initial": "setup",
        "states": ["setup", "election_loaded", "testing", "polls_open", "polls_paused", "polls_closed"],
        "transitions": [
            {"trigger": "load_election", "source": "setup", "dest": "election_loaded"},
            # Pre-election testing (logic and accuracy): only test ballots, a separate tally;
            # leaving test mode resets that tally to zero (device/station/test_mode.py).
            {"trigger": "start_test", "source": "election_loaded", "dest": "testing"},
            {"trigger": "end_test", "source": "testing", "dest": "election_loaded"},
            {"trigger": "open_polls", "source": "election_loaded", "dest": "polls_open"},
            {"trigger": "pause_polls", "source": "polls_open", "dest": "polls_paused"},
            {"trigger": "resume_polls", "source": "polls_paused", "dest": "polls_open"},
            {"trigger": "close_polls", "source": ["polls_open", "polls_paused"], "dest": "polls_closed"},
            # Only the election manager reopens (VVSG 2.0); the ballots stay, the polls are paused.
            {"trigger": "reopen_polls", "source": "polls_closed", "dest": "polls_paused"},
        ],
    },
    # The ID desk: one transition per voter. ``authorised`` and ``refused`` say how the last
    # check-in ended; the desk is ready for the next document in either (and in waiting_for_id).
    "voter": {
        "initial": "inactive",
        "states": ["inactive", "waiting_for_id", "authorised", "refused"],
        "transitions": [
            {"trigger": "start_checkin", "source": "inactive", "dest": "waiting_for_id"},
            {"trigger": "stop_checkin", "source": ["waiting_for_id", "authorised", "refused"],
             "dest": "inactive"},
            {"trigger": "authorise", "source": ["waiting_for_id", "authorised", "refused"],
             "dest": "authorised"},
            {"trigger": "refuse", "source": ["waiting_for_id", "authorised", "refused"],
             "dest": "refused"},
        ],
    },
    # The ballot box. ``deciding`` is one state for a ballot that will be cast at once and for one
    # that waits for the voter's choice (overvote, blank): the journal must not tell them apart,
    # so the review reason lives only on the screen (``StationController.review_reason``).
    "ballot": {
        "initial": "inactive",
        "states": ["inactive", "waiting_for_ballot", "scanning", "deciding", "rejecting",
                   "accepting", "jammed", "error"],
        "transitions": [
            {"trigger": "start_scanning", "source": "inactive", "dest": "waiting_for_ballot"},
            {"trigger": "stop_scanning", "source": "waiting_for_ballot", "dest": "inactive"},
            {"trigger": "paper_detected", "source": "waiting_for_ballot", "dest": "scanning"},
            {"trigger": "ballot_read", "source": "scanning", "dest": "deciding"},
            {"trigger": "ballot_rejected", "source": "scanning", "dest": "rejecting"},
            {"trigger": "voter_took_back", "source": "deciding", "dest": "rejecting"},
            {"trigger": "ballot_cast", "source": "deciding", "dest": "accepting"},
            {"trigger": "test_ballot_counted", "source": "deciding", "dest": "waiting_for_ballot"},
            {"trigger": "ballot_dropped", "source": "accepting", "dest": "waiting_for_ballot"},
            {"trigger": "ballot_returned", "source": "rejecting", "dest": "waiting_for_ballot"},
            {"trigger": "jam", "source": MECHANICAL, "dest": "jammed"},
            {"trigger": "fault", "source": MECHANICAL + ["deciding"], "dest": "error"},
            {"trigger": "jam_cleared", "source": "jammed", "dest": "waiting_for_ballot"},
            {"trigger": "fault_cleared", "source": "error", "dest": "waiting_for_ballot"},
            # A poll worker seals the full box and puts an empty one in, no sheet in the path.
            {"trigger": "ballot_box_swapped", "source": ["inactive", "waiting_for_ballot"], "dest": "="},
        ],
    },
}

# Rules that span regions, declared once: trigger -> {region: states it may fire from}. The
# voter and ballot flows live inside polls_open; the polls pause or close only when both desks
# are idle. The controller checks them before it journals a transition; the auditor's replay
# checks them on every record.
CROSS_REGION: dict[str, dict[str, tuple[str, ...]]] = {
    **{t: {"polls": ("polls_open",)} for t in ("start_checkin", "authorise", "refuse", "ballot_cast")},
    # the ballot box also runs in test mode (test ballots only, counted apart)
    **{t: {"polls": ("polls_open", "testing")} for t in ("start_scanning", "paper_detected")},
    "test_ballot_counted": {"polls": ("testing",)},
    "pause_polls": {"voter": ("inactive",), "ballot": ("inactive",)},
    "close_polls": {"voter": ("inactive",), "ballot": ("inactive",)},
    "end_test": {"ballot": ("inactive",)},
}

# Journal events that are not transitions (declared in the catalog too).
NON_TRANSITION_EVENTS = (
    "unit_started", "open_polls_refused", "zero_report_printed", "results_printed",
    "checkpoint", "journal_truncated", "export_written", "power_on_paper_resolved",
    # operator roles (device/station/roles.py) and election packages (provisioning.py)
    "session_started", "session_ended", "pin_rejected", "role_locked",
    "package_loaded", "package_refused", "package_unloaded", "report_reprinted", "test_report_printed",
    "printer_fault",
    # the ID desk's fingerprint source (device/station/fingerprint_identity.py)
    "templates_opened", "templates_wiped",
)


def cross_region_violation(model: Any, trigger: str) -> str | None:
    """Why ``trigger`` may not fire given the other regions' states (``CROSS_REGION``), or None."""
    rule = CROSS_REGION.get(trigger)
    if rule is None:
        return None
    for region, allowed in rule.items():
        state = getattr(model, region)
        if state not in allowed:
            return cross_region_problem(trigger, region, state)
    return None


def cross_region_problem(trigger: str, region: str, state: str) -> str:
    """What a broken rule across regions says (the controller's refusal, the replay's finding)."""
    return f"{trigger} while the {region} region is {state}"


def region_of_trigger() -> dict[str, str]:
    return {t["trigger"]: region for region, spec in REGIONS.items() for t in spec["transitions"]}


def all_triggers() -> list[str]:
    return list(region_of_trigger())


Trigger = Callable[..., bool]


class Triggers:
    """The trigger methods ``build_machines`` binds on a model, named for the type checker only:
    annotations without values, so the class adds no attribute and ``transitions`` still binds
    each (a test checks the names against ``all_triggers()``)."""

    load_election: Trigger
    start_test: Trigger
    end_test: Trigger
    open_polls: Trigger
    pause_polls: Trigger
    resume_polls: Trigger
    close_polls: Trigger
    reopen_polls: Trigger
    start_checkin: Trigger
    stop_checkin: Trigger
    authorise: Trigger
    refuse: Trigger
    start_scanning: Trigger
    stop_scanning: Trigger
    paper_detected: Trigger
    ballot_read: Trigger
    ballot_rejected: Trigger
    voter_took_back: Trigger
    ballot_cast: Trigger
    test_ballot_counted: Trigger
    ballot_dropped: Trigger
    ballot_returned: Trigger
    jam: Trigger
    fault: Trigger
    jam_cleared: Trigger
    fault_cleared: Trigger
    ballot_box_swapped: Trigger


def build_machines(model: Any, *, after_state_change: str | None = None) -> dict[str, Machine]:
    """Bind one ``Machine`` per region to ``model``; state attribute = region name."""
    machines: dict[str, Machine] = {}
    for region, spec in REGIONS.items():
        machines[region] = LeanMachine(
            model=model, states=spec["states"], transitions=spec["transitions"],
            initial=spec["initial"], model_attribute=region, auto_transitions=False,
            send_event=True, after_state_change=after_state_change)
    return machines


def mermaid_diagram() -> str:
    """The state diagram as Markdown with one mermaid block per region, from the tables."""
    from transitions.extensions import GraphMachine

    class _Model:  # each region drawn on its own throwaway model
        pass

    parts = ["# Station state machine", "",
             "Generated from `device/station/machine.py` by `ballotbox device diagram`; "
             "a test fails when this file and the machine disagree.", "",
             "The voter and ballot regions run in parallel inside `polls_open`: they leave "
             "`inactive` when polls open or resume and return to it when polls pause or close.", ""]
    for region, spec in REGIONS.items():
        m = GraphMachine(model=_Model(), states=spec["states"], transitions=spec["transitions"],
                         initial=spec["initial"], auto_transitions=False, graph_engine="mermaid",
                         title=f"{region} region")
        parts += [f"## {region}", "", "```mermaid", m.get_graph().draw(None).strip(), "```", ""]
    parts += ["## Rules across regions", "", "| trigger | may fire only when |", "|---|---|"]
    for trigger, rule in CROSS_REGION.items():
        parts.append(f"| `{trigger}` | " + "; ".join(f"{r} is {' or '.join(s)}" for r, s in rule.items()) + " |")
    parts.append("")
    return "\n".join(parts)
