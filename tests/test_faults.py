"""Fault injection through the real controller at full fidelity (real drivers, wire twins).

No ballot is lost, counted twice or accepted without a confirmed drop: after every fault the
sheets physically in the box and the invalid compartment equal the cast vote records; every
fault ends in a named state with an operator message; the station recovers once it clears.
"""
from __future__ import annotations

import random

import pytest

from device.store.journal import MemoryStore
from hardware.scanner_serial import Command
from sim.day.full_fidelity import build_full_peripherals
from sim.day.station import run_station_day
from sim.day.voters import load_scenario
from device.election.definition import load_election
from tests.station_kit import Kit

FLOW_COMMANDS = [Command.FEED, Command.ACCEPT, Command.DIVERT, Command.RETURN]


def full_kit(transport="memory", **faults) -> Kit:
    kit = Kit(voters=30, policy={"overvote": "accept-invalid", "blank": "return",
                                 "unreadable": "accept-invalid"})
    kit.periph.close()
    kit.periph = build_full_peripherals(kit.election, kit.paper, random.Random(3), None,
                                        profile={"faults": faults}, transport=transport,
                                        ack_timeout=0.01)
    kit.store = MemoryStore()
    kit.boot()
    kit.ctl.open()
    return kit


def physical_matches_records(kit: Kit) -> bool:
    w = kit.periph.world
    return w.sheets_in_box + w.sheets_in_invalid_compartment == len(kit.store.cast_vote_records())


def _cut_cable(twin, command: Command, when: str) -> None:
    """Unplug the scanner when ``command`` arrives: before it runs, or after (answer lost)."""
    execute = twin._execute

    def hooked(cmd):
        if cmd is not command:
            return execute(cmd)
        twin._execute = execute  # once
        twin.disconnect()
        return execute(cmd) if when == "after" else bytes(2)
    twin._execute = hooked


def _sheet_for(kit: Kit, command: Command):
    """A sheet whose handling reaches ``command``: an overvote is diverted (accept-invalid
    policy), a ballot of another election is returned, a good ballot is fed and accepted."""
    style = kit.election.stations[kit.station].ballot_style
    marks, kind = kit.marks(), "ballot"
    if command is Command.DIVERT:
        contest = kit.election.contests_for_style(style)[0]
        marks[contest.id] = tuple(contest.choice_ids()[:contest.vote_for + 1])
    elif command is Command.RETURN:
        kind = "wrong_election"
    return kit.paper.make_sheet(style, marks, kit.rng, kind)


@pytest.mark.parametrize("transport", ["memory", "pty"])
@pytest.mark.parametrize("when", ["before", "after"])
@pytest.mark.parametrize("command", FLOW_COMMANDS, ids=lambda c: c.name.lower())
def test_disconnect_and_reconnect_in_every_ballot_flow_state(transport, when, command):
    kit = full_kit(transport)
    try:
        sheet = _sheet_for(kit, command)
        twin = kit.periph.extras["twins"]["scanner"]
        assert kit.checkin(kit.voters[0]).authorised
        _cut_cable(twin, command, when)
        kit.periph.world.insert_sheet(sheet)
        outcome = kit.ctl.handle_paper()
        assert outcome.status == "error" and kit.ctl.ballot == "error"
        assert outcome.message.severity == "error" and "fault" in outcome.message.text.lower()
        # the technician reconnects, takes out whatever is in the path, and clears the fault
        twin.reconnect()
        kit.periph.world.operator_removes_jammed_sheet()
        cleared = kit.ctl.clear_fault()
        assert cleared.status in ("placed_in_box", "returned_to_voter")
        kit.periph.world.operator_places_sheet(into_box=cleared.status == "placed_in_box")
        kit.periph.world.take_returned_sheet()
        assert kit.ctl.ballot == "waiting_for_ballot"
        assert physical_matches_records(kit)
        # recovery: the next voter's ballot is cast normally
        assert kit.checkin(kit.voters[1]).authorised
        assert kit.insert().status == "cast"
        assert physical_matches_records(kit)
    finally:
        kit.periph.close()


def test_tcp_disconnect_is_seen_and_the_driver_reconnects():
    kit = full_kit("tcp")
    try:
        endpoint = kit.periph.extras["endpoints"][0]
        assert kit.checkin(kit.voters[0]).authorised
        endpoint.drop_client()  # the cable is pulled while the box waits for a ballot
        outcome = kit.insert()
        assert outcome.status == "error" and "Disconnected" in outcome.message.text
        kit.periph.world.operator_removes_jammed_sheet()
        kit.ctl.clear_fault()  # the driver reopened the socket: reset goes through
        kit.periph.world.operator_places_sheet(into_box=False)
        assert kit.ctl.ballot == "waiting_for_ballot"
        assert kit.insert().status == "cast" and physical_matches_records(kit)
    finally:
        kit.periph.close()


def test_noisy_line_jams_and_double_feeds_lose_and_double_count_nothing():
    """A station day on a line with 1e-3 byte corruption, dropped/duplicated frames, slow
    answers, short disconnects, and mechanical jams and double feeds."""
    election = load_election("demo")
    profile = {"faults": {"byte_corruption_rate": 1e-3, "dropped_frame_rate": 0.01,
                          "duplicated_frame_rate": 0.01, "slow_response_rate": 0.02,
                          "slow_response_polls": 2, "disconnect_rate": 0.01, "disconnect_frames": 2,
                          "jam_rate": 0.03, "double_feed_rate": 0.02}}
    scenario = load_scenario(None, election, "demo")
    day = run_station_day(election, registered=40, seed=11, scenario=scenario, fidelity="full",
                          profile=profile)
    report = day.report()
    assert report["paper_matches_records"] and report["matches_ground_truth"], report
    twin = day.peripherals.extras["twins"]["scanner"]
    assert twin.tx_faults.corrupted_bytes + twin.rx_faults.corrupted_bytes > 0
    assert any(n.get("event") in ("jammed", "error") for n in day.notices)
