"""Declared-once data stays in step with the code: event catalog, CLI entry points, diagram."""
import re
from importlib.metadata import entry_points
from pathlib import Path

from device.cli.main import build_parser, main
from device.station.events import catalog
from device.station.machine import NON_TRANSITION_EVENTS, Triggers, all_triggers, mermaid_diagram

ROOT = Path(__file__).resolve().parent.parent


def test_every_event_the_code_writes_is_in_the_catalog_with_a_unique_code():
    events = catalog()["events"]
    assert set(all_triggers()) | set(NON_TRANSITION_EVENTS) <= set(events)
    codes = [e["code"] for e in events.values()]
    assert len(codes) == len(set(codes))


def test_the_triggers_named_for_the_type_checker_are_the_machines_triggers():
    assert sorted(Triggers.__annotations__) == sorted(all_triggers())
    assert not any(hasattr(Triggers, t) for t in all_triggers())  # transitions binds them


def test_every_message_the_code_names_exists():
    names = set(catalog()["messages"])
    used = set()
    for path in (ROOT / "device").rglob("*.py"):
        used |= set(re.findall(r'message\("([a-z_]+)"', path.read_text()))
    from device.ballots.records import REJECTION_REASONS
    assert used <= names
    assert set(REJECTION_REASONS) <= names
    for reason in ("not_on_roll", "other_station", "already_voted", "invalid_document", "no_authorisation",
                   "wrong_style", "overvote", "blank", "jam", "double_feed"):
        assert reason in names


def test_every_cli_entry_point_loads():
    for ep in entry_points(group="ballotbox.commands"):
        assert callable(ep.load()), ep.name
    build_parser()


def test_committed_state_diagram_matches_the_machine():
    committed = (ROOT / "docs" / "state-diagram.md").read_text(encoding="utf-8")
    assert committed == mermaid_diagram() + "\n", "run 'ballotbox device diagram' and commit"


def test_tally_seats_cli(capsys):
    assert main(["tally", "seats", "--seats", "11", "--votes", "CPP=5378", "CP=1610", "--json"]) == 0
    assert '"CPP": 9' in capsys.readouterr().out
    assert main(["tally", "seats", "--seats", "3", "--votes", "A=1", "A=2"]) == 2
