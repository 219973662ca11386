"""Synthetic voters from a scenario: who comes, what they mean to vote, and how they misbehave.

A scenario (JSON, format ``ballotbox-scenario/1``, bundled ones in ``sim/scenarios/``) gives the
turnout, vote shares per contest (optionally per district), the shares of blank and overvoted
ballots, and the rates of people who try to vote twice, come to the wrong station, are not on
the roll, bring an unreadable document, or feed a sheet without checking in. ``plan_station_day``
turns it, with a seeded ``random.Random``, into the station's voter roll and the ordered list of
``Visitor``s; the same seed gives the same day.
"""
from __future__ import annotations

import bisect
import itertools
import json
import random
import string
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path

from device.election.definition import Election
from device.election.identity import barcode_payload
from device.election.voter_roll import Voter, VoterRoll, VoterRollError
from sim.day.fingerprint_day import FingerprintScenario, FingerprintScenarioError, parse_fingerprint

FORMAT = "ballotbox-scenario/1"
DEFAULTS = {"turnout": 0.75, "blank_rate": 0.01, "overvote_rate": 0.01, "undervote_rate": 0.05,
            "repeat_voter_rate": 0.01, "wrong_station_rate": 0.01, "not_on_roll_rate": 0.005,
            "bad_document_rate": 0.005, "stuffing_attempt_rate": 0.002,
            "wrong_election_sheet_rate": 0.002, "corrects_after_return": 0.7,
            "jam_rate": 0.0, "double_feed_rate": 0.0}


class ScenarioError(ValueError):
    pass


@dataclass(frozen=True)
class Scenario:
    name: str
    rates: dict[str, float]
    shares: dict[str, dict[str, float]]  # contest -> choice -> weight
    district_shares: dict[str, dict[str, dict[str, float]]] = field(default_factory=dict)
    fingerprint: FingerprintScenario | None = None  # the ID desk's fingerprint step (sim/day/fingerprint_day.py)
    # (election hash, district, contest) -> (choices, cumulative weights): the draw of one mark
    _draws: dict = field(default_factory=dict, compare=False, repr=False)
    _drawers: dict = field(default_factory=dict, compare=False, repr=False)  # (hash, station) -> _MarkDrawer

    def __post_init__(self) -> None:
        # each rate as a plain attribute, resolved once: a visit reads several per voter, and a
        # lookup through __getattr__ (after the normal lookup fails) costs ~1 us each
        for name, default in DEFAULTS.items():
            object.__setattr__(self, name, self.rates.get(name, default))

    def __getattr__(self, name: str) -> float:
        if name in DEFAULTS:
            return self.rates.get(name, DEFAULTS[name])
        raise AttributeError(name)

    def weights(self, election: Election, district: str, contest_id: str) -> dict[str, float]:
        table = self.district_shares.get(district, {}).get(contest_id) or self.shares.get(contest_id)
        choices = election.contests[contest_id].choice_ids()
        if not table:
            return {c: 1.0 for c in choices}
        return {c: float(table.get(c, 0.0)) for c in choices}

    def draw_table(self, election: Election, district: str, contest_id: str) -> tuple[list[str], list[float]]:
        """The choices and cumulative weights ``_weighted_sample`` draws one mark from (cached:
        ``random.choices`` with these ``cum_weights`` draws exactly as with the weights)."""
        key = (election.hash, district, contest_id)
        table = self._draws.get(key)
        if table is None:
            weights = self.weights(election, district, contest_id)
            ws = list(weights.values())
            if sum(ws) <= 0:
                ws = [1.0] * len(ws)
            table = self._draws[key] = (list(weights), list(itertools.accumulate(ws)))
        return table


def parse_scenario(doc: object, election: Election, name: str = "scenario") -> Scenario:
    if not isinstance(doc, dict) or doc.get("format") != FORMAT:
        raise ScenarioError(f"{name}: $.format must be {FORMAT!r}")
    rates = {}
    for key in DEFAULTS:
        if key in doc:
            v = doc[key]
            if isinstance(v, bool) or not isinstance(v, (int, float)) or not 0 <= v <= 1:
                raise ScenarioError(f"{name}: $.{key} must be a number in [0, 1] (got {v!r})")
            rates[key] = float(v)
    shares = doc.get("shares", {})
    district_shares = doc.get("district_shares", {})
    for path, table in [("$.shares", shares)] + [(f"$.district_shares.{d}", t) for d, t in district_shares.items()]:
        if path.startswith("$.district_shares.") and path.rsplit(".", 1)[1] not in election.districts:
            raise ScenarioError(f"{name}: {path}: unknown district")
        for cid, weights in table.items():
            if cid not in election.contests:
                raise ScenarioError(f"{name}: {path}.{cid}: unknown contest")
            for choice, w in weights.items():
                if choice not in election.contests[cid].choice_ids():
                    raise ScenarioError(f"{name}: {path}.{cid}.{choice}: unknown choice")
                if isinstance(w, bool) or not isinstance(w, (int, float)) or w < 0:
                    raise ScenarioError(f"{name}: {path}.{cid}.{choice}: weight must be >= 0")
    try:
        fingerprint = parse_fingerprint(doc.get("fingerprint"), name)
    except FingerprintScenarioError as exc:
        raise ScenarioError(str(exc)) from None
    return Scenario(name, rates, shares, district_shares, fingerprint)


def load_scenario(name_or_path: str | None, election: Election, election_name: str) -> Scenario:
    """A scenario file, a bundled scenario name, or (None) the one bundled with the election."""
    if name_or_path is None:
        bundled = Path(str(resources.files("sim") / "scenarios" / f"{election_name}.json"))
        if not bundled.exists():
            return Scenario("uniform", {}, {})
        path = bundled
    else:
        path = Path(name_or_path)
        if not path.exists():
            path = Path(str(resources.files("sim") / "scenarios" / f"{name_or_path}.json"))
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        bundled = sorted(p.stem for p in Path(str(resources.files("sim") / "scenarios")).glob("*.json"))
        raise ScenarioError(f"no scenario file or bundled scenario {name_or_path!r} "
                            f"(bundled: {', '.join(bundled)})") from None
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise ScenarioError(f"{path}: not valid JSON ({exc})") from None
    return parse_scenario(doc, election, str(path.name))


@dataclass(slots=True)  # (made and read once or twice a ballot)
class Visitor:
    """Someone who comes to the station. ``kind``: voter, repeat, wrong_station, stranger,
    bad_document, stuffer (feeds a sheet without checking in)."""

    kind: str
    document: tuple[str, str] | None  # (record kind, payload)
    marks: dict[str, tuple[str, ...]] = field(default_factory=dict)
    voter_id: str | None = None
    sheet_kind: str = "ballot"
    corrects: bool = True  # takes a returned ballot back and fixes it


_DOCUMENT_CHARS = string.ascii_uppercase + string.digits


def _document_numbers(rng: random.Random, count: int) -> list[str]:
    """``count`` document numbers of 9 characters, drawn exactly as ``count`` calls of
    ``"".join(rng.choices(_DOCUMENT_CHARS, k=9))`` draw them (``choices`` picks
    ``population[floor(random() * n)]``), without its per-call cost: a station draws one per
    registered voter. Many at once come from ``_random_floats`` (~8x faster)."""
    n = 9 * count
    if n < _BULK_DRAWS:
        draw, chars, k = rng.random, _DOCUMENT_CHARS, float(len(_DOCUMENT_CHARS))
        text = "".join([chars[int(draw() * k)] for _ in range(n)])
    else:
        import numpy as np

        picks = (_random_floats(rng, n) * float(len(_DOCUMENT_CHARS))).astype(np.intp)
        text = _document_codes()[picks].tobytes().decode("ascii")
    return [text[i:i + 9] for i in range(0, n, 9)]


_BULK_DRAWS = 64  # fewer draws than this: one call each


@lru_cache(maxsize=1)
def _document_codes():
    import numpy as np

    return np.frombuffer(_DOCUMENT_CHARS.encode("ascii"), dtype=np.uint8)


def _random_floats(rng: random.Random, n: int):
    """``n`` calls of ``rng.random()`` at once, as a numpy array, and ``rng`` left where the
    ``n`` calls leave it. ``random()`` makes a double from the next two 32-bit words of its
    Mersenne Twister (``genrand_res53``: (a >> 5, b >> 6) -> (a * 2**26 + b) / 2**53), and
    ``getrandbits(64 * n)`` hands the next ``2 * n`` words over, the first the least
    significant: the same words, the same arithmetic. ``tests/test_national_speed.py`` checks
    the draws and the generator's next state against ``rng.random()``'s."""
    import numpy as np

    words = np.frombuffer(rng.getrandbits(64 * n).to_bytes(8 * n, "little"), dtype="<u4")
    return ((words[0::2] >> 5) * 67108864.0 + (words[1::2] >> 6)) * (1.0 / 9007199254740992.0)


def _document_number(rng: random.Random) -> str:
    return _document_numbers(rng, 1)[0]


_STATION_INDEX: dict[str, tuple[tuple[str, ...], dict[str, int]]] = {}


def _other_station(election: Election, station_id: str, i: int) -> str:
    """``[s for s in election.stations if s != station_id][i]``, without building the list."""
    index = _STATION_INDEX.get(election.hash)
    if index is None:
        ids = tuple(election.stations)
        index = _STATION_INDEX[election.hash] = (ids, {s: n for n, s in enumerate(ids)})
    ids, position = index
    return ids[i] if i < position[station_id] else ids[i + 1]


class _MarkDrawer:
    """``choose_marks`` for one station under one scenario, its lookups made once: the station's
    contests, their draw tables and the scenario's rates (a station day draws the marks of every
    visitor; cached per scenario, election and station)."""

    __slots__ = ("election", "district", "scenario", "contests", "blank", "overvote", "undervote")

    def __init__(self, election: Election, station_id: str, scenario: Scenario):
        self.election, self.scenario = election, scenario
        self.district = district = election.stations[station_id].district
        self.blank, self.overvote, self.undervote = \
            scenario.blank_rate, scenario.overvote_rate, scenario.undervote_rate
        # (id, vote_for, can be overvoted, the draw table of one mark)
        self.contests = tuple((c.id, c.vote_for, c.vote_for < len(c.choices),
                               scenario.draw_table(election, district, c.id))
                              for c in election.contests_at_station(station_id))

    def marks(self, rng: random.Random, allow_spoil: bool = True) -> dict[str, tuple[str, ...]]:
        draw = rng.random
        if allow_spoil and draw() < self.blank:
            return {cid: () for cid, _, _, _ in self.contests}
        marks = {}
        for cid, vote_for, can_overvote, (names, cum) in self.contests:
            if allow_spoil and draw() < self.overvote and can_overvote:
                k = vote_for + 1
            elif vote_for > 1 and draw() < self.undervote:
                k = rng.randint(0, vote_for - 1)
            else:
                k = vote_for
            if k == 1:  # the common case: rng.choices(names, cum_weights=cum)[0], inlined (same draw)
                marks[cid] = (names[bisect.bisect(cum, draw() * (cum[-1] + 0.0), 0, len(cum) - 1)],)
            else:
                marks[cid] = _weighted_sample(self.scenario.weights(self.election, self.district, cid), k, rng)
        return marks


def _mark_drawer(election: Election, station_id: str, scenario: Scenario) -> _MarkDrawer:
    key = (election.hash, station_id)
    drawer = scenario._drawers.get(key)
    if drawer is None:
        if len(scenario._drawers) >= 4096:  # a national run's workers meet each station once
            scenario._drawers.clear()
        drawer = scenario._drawers[key] = _MarkDrawer(election, station_id, scenario)
    return drawer


def choose_marks(election: Election, station_id: str, scenario: Scenario, rng: random.Random,
                 allow_spoil: bool = True) -> dict[str, tuple[str, ...]]:
    return _mark_drawer(election, station_id, scenario).marks(rng, allow_spoil)


def _weighted_sample(weights: dict[str, float], k: int, rng: random.Random) -> tuple[str, ...]:
    pool = {c: w for c, w in weights.items()}
    if sum(pool.values()) <= 0:
        pool = {c: 1.0 for c in pool}
    chosen: list[str] = []
    for _ in range(k):
        names = [c for c in pool if c not in chosen]
        ws = [pool[c] for c in names]
        if sum(ws) <= 0:
            ws = [1.0] * len(names)
        chosen.append(rng.choices(names, ws)[0])
    return tuple(sorted(chosen))


_VOTER_SUFFIXES: list[str] = []


def _voter_suffixes(count: int) -> list[str]:
    """``[f"-V{i:06d}" for i in range(count)]``, made once per process (every station's roll
    numbers its voters from 0: formatting each number again cost ~0.3 us a voter)."""
    if len(_VOTER_SUFFIXES) < count:
        _VOTER_SUFFIXES.extend(f"-V{i:06d}" for i in range(len(_VOTER_SUFFIXES), count))
    return _VOTER_SUFFIXES[:count]


def plan_station_day(election: Election, station_id: str, registered: int, scenario: Scenario,
                     rng: random.Random) -> tuple[VoterRoll, list[Visitor]]:
    """The roll (this station's voters plus some of a neighbour's) and the day's visitors."""
    if registered < 1:
        raise ScenarioError("a station needs at least one registered voter")
    suffixes = _voter_suffixes(registered)  # the voter ids f"{station_id}-V{i:06d}", by concatenation
    voters = list(map(Voter, map(station_id.__add__, suffixes), _document_numbers(rng, registered),
                      itertools.repeat(station_id, registered)))
    n_others = len(election.stations) - 1
    neighbours = []
    if n_others:
        n_other = max(5, registered // 20)
        picks = [_other_station(election, station_id, i % n_others) for i in range(n_other)]
        neighbours = [Voter(f"{other}-W{i:06d}", number, other)
                      for i, (other, number) in enumerate(zip(picks, _document_numbers(rng, n_other)))]
    try:  # the roll refuses a document number drawn twice (ids and stations are right by construction)
        roll = VoterRoll(voters + neighbours, election)
    except VoterRollError as exc:
        raise ScenarioError(f"document-number collision; use another seed ({exc})") from None

    visitors: list[Visitor] = []
    draw = rng.random
    turnout, corrects, wrong_sheet = scenario.turnout, scenario.corrects_after_return, \
        scenario.wrong_election_sheet_rate
    marks = _mark_drawer(election, station_id, scenario).marks
    for v in voters:
        if draw() >= turnout:
            continue
        chosen = marks(rng)
        takes_back = draw() < corrects  # (drawn before the sheet's kind, as always)
        visitors.append(Visitor("voter", ("barcode", barcode_payload(v.document_number)), chosen, v.voter_id,
                                "wrong_election" if draw() < wrong_sheet else "ballot", takes_back))
    extra: list[Visitor] = []
    n = len(visitors)
    for _ in range(_count(n, scenario.repeat_voter_rate, rng)):
        first = visitors[rng.randrange(n)] if n else None
        if first:
            extra.append(Visitor("repeat", first.document, voter_id=first.voter_id))
    for _ in range(_count(n, scenario.wrong_station_rate, rng)):
        if neighbours:
            w = rng.choice(neighbours)
            extra.append(Visitor("wrong_station", ("barcode", barcode_payload(w.document_number)),
                                 voter_id=w.voter_id))
    for _ in range(_count(n, scenario.not_on_roll_rate, rng)):
        extra.append(Visitor("stranger", ("barcode", barcode_payload("X" + _document_number(rng)))))
    for _ in range(_count(n, scenario.bad_document_rate, rng)):
        extra.append(Visitor("bad_document", ("barcode", "BBX1|" + "?" * 9)))
    for _ in range(_count(n, scenario.stuffing_attempt_rate, rng)):
        extra.append(Visitor("stuffer", None, choose_marks(election, station_id, scenario, rng, False)))
    for e in extra:  # they arrive at random points of the day; a repeat voter after the first visit
        first = 0
        if e.kind == "repeat":
            first = next(i for i, v in enumerate(visitors) if v.voter_id == e.voter_id) + 1
        visitors.insert(rng.randint(first, len(visitors)), e)
    return roll, visitors


def _count(n: int, rate: float, rng: random.Random) -> int:
    expected = n * rate
    whole = int(expected)
    return whole + (1 if rng.random() < expected - whole else 0)
