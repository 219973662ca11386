"""``quick_init`` changes how a frozen dataclass is built, nothing else (issue 23 §3)."""
from __future__ import annotations

import dataclasses
import pickle

import pytest

from device.election.identity import IdentityDocument
from device.election.voter_roll import Voter
from device.quick_init import quick_init
from device.station.ballot_box import BallotOutcome, BallotStatus
from device.station.events import OperatorMessage
from device.station.id_desk import CheckInOutcome, CheckInResult
from device.store.cast_vote_record import CastVoteRecord

MESSAGE = OperatorMessage("cast", "info", "Ballot cast")
SAMPLES = [
    (CastVoteRecord, ("ab12", "style-1", {"c": (("x",), "valid")}), {"image_sha256": "ff"}),
    (OperatorMessage, ("busy", "warning", "Busy: polls"), {"fields": (("state", "polls"),)}),
    (CheckInResult, (CheckInOutcome.AUTHORISED, MESSAGE), {"voter_id": "V1"}),
    (BallotOutcome, (BallotStatus.CAST, MESSAGE), {"reason": "r"}),
    (IdentityDocument, ("AB123", "voter-card"), {"fields": {"name": "x"}}),
    (Voter, ("V1", "AB123", "S1"), {}),
]


def plain_twin(cls: type) -> type:
    """The same fields as a frozen dataclass with the generated ``__init__``."""
    return dataclasses.make_dataclass(cls.__name__, [(f.name, f.type, f) for f in dataclasses.fields(cls)],
                                      frozen=True)


@pytest.mark.parametrize("cls, args, extra", SAMPLES, ids=lambda v: getattr(v, "__name__", ""))
def test_built_as_the_generated_init_builds(cls, args, extra):
    twin = plain_twin(cls)
    for kwargs in ({}, extra):
        quick, plain = cls(*args, **kwargs), twin(*args, **kwargs)
        assert dataclasses.asdict(quick) == dataclasses.asdict(plain)
        assert quick == cls(*args, **kwargs) and repr(quick).split("(", 1)[1] == repr(plain).split("(", 1)[1]
        assert pickle.loads(pickle.dumps(quick)) == quick
        first = dataclasses.fields(cls)[0].name
        assert dataclasses.replace(quick, **{first: args[0]}) == quick
        with pytest.raises(dataclasses.FrozenInstanceError):
            setattr(quick, first, args[0])
    names = [f.name for f in dataclasses.fields(cls)]
    assert cls(**dict(zip(names, args)), **extra) == cls(*args, **extra)  # by keyword too
    with pytest.raises(TypeError):
        cls(*args[:-1]) if len(args) > 1 else cls()  # a required field missing
    with pytest.raises(TypeError):
        cls(*args, unknown=1)


def test_default_factories_give_each_instance_its_own():
    a, b = IdentityDocument("A1", "voter-card"), IdentityDocument("A2", "voter-card")
    assert a.fields == {} and a.fields is not b.fields


def test_refused_where_the_dataclass_init_does_more():
    @dataclasses.dataclass
    class NotFrozen:
        x: int

    @dataclasses.dataclass(frozen=True)
    class PostInit:
        x: int

        def __post_init__(self) -> None:
            pass

    @dataclasses.dataclass(frozen=True)
    class Hidden:
        x: int = dataclasses.field(default=0, init=False)

    for cls in (NotFrozen, PostInit, Hidden, int):
        with pytest.raises(TypeError):
            quick_init(cls)
