"""Voter roll CSV: loads, and every malformed file gets one clear error naming the line."""
import pytest

from device.election.definition import load_election
from device.election.voter_roll import VoterRoll, VoterRollError

HEADER = "voter_id,document_number,station_id\n"


def test_roll_round_trips_and_looks_up_by_document(tmp_path):
    e = load_election("demo")
    path = tmp_path / "roll.csv"
    path.write_text(HEADER + "V1,AB123,north-1\nV2,CD456,south-1\n", encoding="utf-8")
    roll = VoterRoll.from_csv(path, e)
    assert roll.lookup("CD456").station_id == "south-1" and roll.lookup("ZZ") is None
    assert VoterRoll.from_csv_text(roll.to_csv(), e).sha256() == roll.sha256()


@pytest.mark.parametrize("text, words", [
    ("", "empty"),
    ("id,doc,station\nV1,A,north-1\n", "line 1: header"),
    (HEADER + "V1,A,north-1\nV2,A,north-1\n", "line 3: document number 'A' appears twice"),
    (HEADER + "V1,A,north-1\nV1,B,north-1\n", "line 3: voter id 'V1' appears twice"),
    (HEADER + "V1,A,mars-1\n", "line 2: unknown station 'mars-1'"),
    (HEADER + "V1,A\n", "line 2: expected 3 non-empty fields"),
])
def test_malformed_rolls_name_the_line(text, words):
    with pytest.raises(VoterRollError, match=words):
        VoterRoll.from_csv_text(text, load_election("demo"))


def test_unreadable_roll_file(tmp_path):
    (tmp_path / "bad.csv").write_bytes(b"\xff\xfe\x00")
    with pytest.raises(VoterRollError, match="cannot read voter roll"):
        VoterRoll.from_csv(tmp_path / "bad.csv")
    with pytest.raises(VoterRollError, match="cannot read voter roll"):
        VoterRoll.from_csv(tmp_path / "missing.csv")
