"""Election definition: the versioned JSON format, its validation and its canonical hash.

An election file (format ``ballotbox-election/1``) names the districts and polling stations,
the parties, the contests (``plurality``, ``party-list``, ``majority-runoff``), the ballot
styles (which contests appear at which stations) and the voting policy (what happens to an
overvoted, blank or unreadable ballot). ``load_election`` accepts a name (the bundled ``demo``,
``cambodia-2022``, ``kyrgyzstan-2017``, and every name of the one lookup, ``names.py``) or a path; every error
names the JSON path of the bad field and is raised as ``ElectionError`` — never a bare traceback
for bad input;
``validate_election`` gives all of them (``ballotbox election validate``).

The canonical hash is the SHA-256 of the canonical JSON bytes (sorted keys, no insignificant
whitespace, UTF-8), so it is stable across key order and formatting. Ballots print a prefix of
it in their QR code, so a ballot from another election is refused.

Languages: an optional ``languages`` object says which languages the ballots print
(``ballot``, a list: names in each, joined) and which the unit's reports may print
(``reports``: the unit's own language when listed, else the first), and whether printed forms
use Khmer digits (``digits``: ``latin`` or ``khmer``). Names in other languages sit beside the
default ones: ``names`` (``{"km": "..."}``) next to a ``name``, ``titles`` next to a ``title``.
Without ``languages`` everything is English with Latin digits.

A district may name its ``province`` (``Election.provinces``, ids by ``province_id``), a station
its voters ``registered`` (``Election.registered()``): read them there, never from ``raw`` (kept
for the definition's own bytes: hash, canonical form). Field checks: ``fields.py``.
"""
from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from typing import Any

from device.election.fields import (DEFAULT_LANGUAGES, ElectionError, ErrorList, Names, id_list, in_language,
                                    languages_of, optional, other_names, reference, required)
from device.election.names import (BUNDLED, bundled_path, load_election,  # noqa: F401
                                   named_elections)  # the lookup of names lives in names.py
from device.store.canonical_json import canonical_bytes

FORMAT = "ballotbox-election/1"
CONTEST_KINDS = ("plurality", "party-list", "majority-runoff")
SEAT_METHODS = ("dhondt", "sainte-lague", "largest-remainder")
POLICY_ACTIONS = {
    "overvote": ("return", "accept-invalid"),
    "blank": ("return", "accept-invalid"),
    "unreadable": ("reject", "accept-invalid"),
}
DEFAULT_POLICY = {"overvote": "return", "blank": "return", "unreadable": "reject"}
HASH_PREFIX_LEN = 16  # hex characters of the election hash printed on ballots

@dataclass(frozen=True)
class Choice:
    id: str
    name: str
    party: str | None = None
    names: Names = ()

    def name_in(self, lang: str) -> str:
        return in_language(self.name, self.names, lang)


@dataclass(frozen=True)
class Contest:
    id: str
    kind: str
    title: str
    choices: tuple[Choice, ...]
    vote_for: int = 1
    method: str | None = None  # party-list only
    threshold: float = 0.0  # party-list only: share of valid votes needed for a seat
    seats: dict[str, int] = field(default_factory=dict)  # party-list: district id -> seats
    titles: Names = ()

    def title_in(self, lang: str) -> str:
        return in_language(self.title, self.titles, lang)

    def choice_ids(self) -> list[str]:
        return [c.id for c in self.choices]


@dataclass(frozen=True)
class District:
    id: str
    name: str
    names: Names = ()
    province: str | None = None  # the name of its province, when the election names provinces

    def name_in(self, lang: str) -> str:
        return in_language(self.name, self.names, lang)


@dataclass(frozen=True)
class Station:
    id: str
    name: str
    district: str
    ballot_style: str
    names: Names = ()
    registered: int | None = None  # voters registered, when the definition gives them

    def name_in(self, lang: str) -> str:
        return in_language(self.name, self.names, lang)


@dataclass(frozen=True)
class Party:
    id: str
    name: str
    names: Names = ()


@dataclass(frozen=True)
class Province:
    """A province (region) named by the election's districts; ``id`` is made from its name."""

    id: str
    name: str
    districts: tuple[str, ...]


def province_id(name: str) -> str:
    """The id of the province called ``name``: lower case, every other character than a letter
    or digit a hyphen (``Banteay Meanchey`` -> ``banteay-meanchey``)."""
    return "".join(ch if ch.isalnum() else "-" for ch in name.lower())


@dataclass(frozen=True)
class BallotStyle:
    id: str
    contests: tuple[str, ...]


@dataclass(frozen=True)
class Election:
    """A validated election definition. Build one with ``parse_election`` or ``load_election``."""

    id: str
    title: str
    date: str
    districts: dict[str, District]
    stations: dict[str, Station]
    parties: dict[str, Party]
    contests: dict[str, Contest]
    ballot_styles: dict[str, BallotStyle]
    policy: dict[str, str]
    raw: dict[str, Any] = field(repr=False, compare=False)
    hash: str = ""
    ballot_languages: tuple[str, ...] = DEFAULT_LANGUAGES["ballot"]
    report_languages: tuple[str, ...] = DEFAULT_LANGUAGES["reports"]
    digits: str = "latin"
    titles: Names = ()
    provinces: dict[str, Province] = field(default_factory=dict)  # id -> province, by name

    def title_in(self, lang: str) -> str:
        return in_language(self.title, self.titles, lang)

    def registered(self) -> dict[str, int]:
        """Station id -> voters registered, for the stations whose definition gives them."""
        return {s.id: s.registered for s in self.stations.values() if s.registered is not None}

    def report_language(self, unit_language: str) -> str:
        """The language a unit speaking ``unit_language`` prints its reports in."""
        return unit_language if unit_language in self.report_languages else self.report_languages[0]

    @property
    def hash_prefix(self) -> str:
        return self.hash[:HASH_PREFIX_LEN]

    def contests_for_style(self, style_id: str) -> list[Contest]:
        return [self.contests[c] for c in self.ballot_styles[style_id].contests]

    def contests_at_station(self, station_id: str) -> list[Contest]:
        return self.contests_for_style(self.stations[station_id].ballot_style)

    def canonical_bytes(self) -> bytes:
        return canonical_bytes(self.raw)


def election_hash(document: dict[str, Any]) -> str:
    return hashlib.sha256(canonical_bytes(document)).hexdigest()


def parse_election(document: Any) -> Election:
    """Validate a decoded election document and build an ``Election``; raise its first error."""
    election, errors = _build(document)
    if errors or election is None:
        raise errors[0]
    return election


def validate_election(document: Any) -> list[ElectionError]:
    """Every error of an election document (each with its JSON path); [] when it is valid.

    Each array item and each field of a contest is checked on its own, so one error does not
    hide another (for a district, party, ballot style or station, the first error of the item
    is given). A reference to an item that is itself invalid is not reported again."""
    return _build(document)[1]


def _build(document: Any) -> tuple[Election | None, list[ElectionError]]:
    if not isinstance(document, dict):
        return None, [ElectionError("$", "an election must be a JSON object")]
    errors = ErrorList()
    fmt = document.get("format")
    if fmt != FORMAT:
        errors.found.append(ElectionError("$.format", f"must be {FORMAT!r} (got {fmt!r})"))
    eid, title, date = (errors.item(required, document, key, "$") for key in ("id", "title", "date"))
    langs = errors.item(languages_of, document) or dict(DEFAULT_LANGUAGES)
    known = tuple(dict.fromkeys(langs["ballot"] + langs["reports"]))
    titles = errors.item(other_names, document, "titles", "$", known) or ()

    def named(cls, listing: str, *more: tuple[str, type]) -> dict:
        """Items with an id, a name, other names and the optional fields ``more`` (key, type)."""
        good = id_list(document.get(listing), f"$.{listing}", errors)
        found = {o["id"]: errors.item(lambda o, p: cls(o["id"], required(o, "name", p),
                                                       other_names(o, "names", p, known),
                                                       *(optional(o, k, p, t) for k, t in more)), o, p)
                 for p, o in good}
        return found

    districts = named(District, "districts", ("province", str))
    parties = named(Party, "parties") if "parties" in document else {}
    contest_items = id_list(document.get("contests"), "$.contests", errors)
    contests: dict[str, Contest | None] = {
        o["id"]: _parse_contest(o, p, districts, parties, errors, known) for p, o in contest_items}

    def style(o: dict, p: str) -> BallotStyle:
        refs = required(o, "contests", p, list)
        if not refs:
            raise ElectionError(f"{p}.contests", "must list at least one contest")
        if len(set(map(str, refs))) != len(refs):
            raise ElectionError(f"{p}.contests", "lists a contest twice")
        return BallotStyle(o["id"], tuple(
            reference(c, contests, f"{p}.contests[{j}]", "contest") for j, c in enumerate(refs)))

    styles = {o["id"]: errors.item(style, o, p)
              for p, o in id_list(document.get("ballot_styles"), "$.ballot_styles", errors)}

    def station(o: dict, p: str) -> Station:
        st = Station(o["id"], required(o, "name", p),
                     reference(o.get("district"), districts, f"{p}.district", "district"),
                     reference(o.get("ballot_style"), styles, f"{p}.ballot_style", "ballot style"),
                     other_names(o, "names", p, known), optional(o, "registered", p, int))
        for cid in (styles[st.ballot_style].contests if styles[st.ballot_style] else ()):
            c = contests[cid]
            if c is not None and c.kind == "party-list" and st.district not in c.seats:
                raise ElectionError(f"{p}.ballot_style",
                                    f"contest {cid!r} has no seats for district {st.district!r}")
        return st

    stations = {o["id"]: errors.item(station, o, p)
                for p, o in id_list(document.get("stations"), "$.stations", errors)}
    policy = dict(DEFAULT_POLICY)
    raw_policy = document.get("policy", {})
    if not isinstance(raw_policy, dict):
        errors.found.append(ElectionError("$.policy", "must be an object"))
        raw_policy = {}
    for key, action in raw_policy.items():
        if key not in POLICY_ACTIONS:
            errors.found.append(ElectionError(f"$.policy.{key}", f"unknown policy key (expected one of "
                                                                 f"{', '.join(POLICY_ACTIONS)})"))
        elif action not in POLICY_ACTIONS[key]:
            errors.found.append(ElectionError(
                f"$.policy.{key}", f"must be one of {', '.join(POLICY_ACTIONS[key])} (got {action!r})"))
        else:
            policy[key] = action
    if errors.found:
        return None, errors.found
    parsed = {cid: c for cid, c in contests.items() if c is not None}  # a None is an error found
    return Election(eid, title, date, districts, stations, parties, parsed, styles, policy,
                    raw=document, hash=election_hash(document), ballot_languages=langs["ballot"],
                    report_languages=langs["reports"], digits=langs["digits"], titles=titles,
                    provinces=provinces_of(districts)), []


def provinces_of(districts: dict[str, District]) -> dict[str, Province]:
    """The provinces the districts name, by name (each with its districts in election order)."""
    members: dict[str, list[str]] = {}
    for d in districts.values():
        if d.province is not None:
            members.setdefault(d.province, []).append(d.id)
    return {province_id(name): Province(province_id(name), name, tuple(ds))
            for name, ds in sorted(members.items())}


def _parse_contest(o: dict, p: str, districts: dict, parties: dict, errors: ErrorList,
                   known: tuple[str, ...]) -> Contest | None:
    """The contest at ``p``, every error of it added to ``errors`` (None when there is one)."""
    before = len(errors.found)

    def fail(path: str, text: str) -> None:
        errors.found.append(ElectionError(path, text))

    kind = errors.item(required, o, "kind", p)
    if kind is not None and kind not in CONTEST_KINDS:
        fail(f"{p}.kind", f"must be one of {', '.join(CONTEST_KINDS)} (got {kind!r})")
        kind = None
    title = errors.item(required, o, "title", p)
    titles = errors.item(other_names, o, "titles", p, known) or ()

    def choice(co: dict, cp: str) -> Choice:
        party = co.get("party")
        if party is not None:
            reference(party, parties, f"{cp}.party", "party")
        return Choice(co["id"], required(co, "name", cp), party, other_names(co, "names", cp, known))

    listed = id_list(o.get("choices"), f"{p}.choices", errors)
    choices = [c for c in (errors.item(choice, co, cp) for cp, co in listed) if c is not None]
    vote_for = o.get("vote_for", 1)
    if isinstance(vote_for, bool) or not isinstance(vote_for, int) or vote_for < 1:
        fail(f"{p}.vote_for", f"must be a whole number >= 1 (got {vote_for!r})")
    elif listed and vote_for > len(listed):
        fail(f"{p}.vote_for", f"vote_for {vote_for} exceeds the {len(listed)} choices")
    elif kind in ("party-list", "majority-runoff") and vote_for != 1:
        fail(f"{p}.vote_for", f"a {kind} contest is vote_for 1")
    method, threshold, seats = None, 0.0, {}
    if kind == "party-list":
        method = o.get("method", "dhondt")
        if method not in SEAT_METHODS:
            fail(f"{p}.method", f"must be one of {', '.join(SEAT_METHODS)} (got {method!r})")
        threshold = o.get("threshold", 0.0)
        if isinstance(threshold, bool) or not isinstance(threshold, (int, float)) \
                or not 0 <= threshold < 1:
            fail(f"{p}.threshold", "must be a fraction in [0, 1)")
        raw_seats = errors.item(required, o, "seats", p, dict)
        if raw_seats == {}:
            fail(f"{p}.seats", "must give seats for at least one district")
        for d, n in (raw_seats or {}).items():
            if d not in districts:
                fail(f"{p}.seats.{d}", f"unknown district {d!r}")
            if isinstance(n, bool) or not isinstance(n, int) or n < 1:
                fail(f"{p}.seats.{d}", f"seats must be a whole number >= 1 (got {n!r})")
        seats = dict(raw_seats or {})
    elif kind is not None:
        for key in ("method", "threshold", "seats"):
            if key in o:
                fail(f"{p}.{key}", f"only a party-list contest has {key!r}")
    if len(errors.found) > before:
        return None
    return Contest(o["id"], kind, title, tuple(choices), vote_for, method, float(threshold), seats,
                   titles)
