"""Running totals of the accepted results: per station, district (commune), province, nation.

``CentralTally.add(message)`` merges one accepted station result into its station, district,
province (when the election's districts name one: ``"province"`` in the definition) and the
nation, in O(choices), and marks them dirty for the publisher. The documents (``station_doc``,
``district_doc``, ``national_doc``) are what the public JSON files hold and the pages show.

Rules:
- a station's figures are the sum of its units' accepted results (a replacement unit's
  ballots add to the first unit's); a station is *reporting* once one unit's result is in;
- seats of a party-list contest are allocated per district (``device.results.seats`` through
  ``Results.outcome``, the lot seeded from the election hash) as soon as one of its stations
  reports, marked ``provisional`` until all of them have, ``final`` after; the nation's seats
  are the sum of the districts', final and provisional apart;
- turnout = ballots cast / voters registered at the *reporting* stations (None when the
  package carries no registered counts);
- the national document summarises by province (each with its own document listing its
  districts) when the election names provinces, else lists the districts;
- status ``unofficial-complete`` once every station of the scope reports, else
  ``unofficial-partial`` (NIST SP 1500-100 ``ResultsStatus`` values).
"""
from __future__ import annotations

from collections import defaultdict
from typing import Any

from device.election.definition import Election
from device.results.tally import ContestTally, Results
from central.served import ServedElection

COMPLETE, PARTIAL = "unofficial-complete", "unofficial-partial"


def station_results(election: Election, message: dict[str, Any]) -> Results:
    """A ``Results`` holding the figures of one (checked) message."""
    station = election.stations[message["station"]]
    return Results.from_json(election, f"station:{station.id}", station.district, message["tally"],
                             message["ballots_cast"])


def provinces_of(election: Election) -> dict[str, str]:
    """District id -> province name, for elections whose districts name a province."""
    return {d.id: d.province for d in election.districts.values() if d.province is not None}


def _pct(part: int, whole: int) -> float | None:
    return round(100.0 * part / whole, 2) if whole else None


class CentralTally:
    def __init__(self, served: ServedElection):
        self.served = served
        e = self.election = served.election
        self.district_stations: dict[str, list[str]] = defaultdict(list)
        for s in e.stations.values():
            self.district_stations[s.district].append(s.id)
        self.province_of = provinces_of(e)
        self.units: dict[str, dict[str, dict]] = defaultdict(dict)  # station -> unit key -> slot
        self.stations: dict[str, Results] = {}
        self.districts: dict[str, Results] = {d: self._empty(f"district:{d}", d, self.district_stations[d])
                                              for d in e.districts}
        self.provinces: dict[str, Results] = {p: Results(e, f"province:{p}", None)
                                              for p in sorted(set(self.province_of.values()))}
        self.nation = Results(e, "national", None)
        # per scope ("national", "district:ID", "province:NAME"): stations and voters, all and
        # reporting, kept as running counts (the nation has 23,602 stations: no rescans)
        reg = served.registered
        self.total_stations: dict[str, int] = defaultdict(int)
        self.total_registered: dict[str, int] = defaultdict(int)
        self.reporting_stations: dict[str, int] = defaultdict(int)
        self.reporting_registered: dict[str, int] = defaultdict(int)
        for s in e.stations.values():
            for key in self._scopes(s.id):
                self.total_stations[key] += 1
                self.total_registered[key] += reg.get(s.id, 0)
        self.dirty_stations: set[str] = set()
        self.dirty_districts: set[str] = set()
        self._district_outcomes: dict[str, dict] = {}

    def _empty(self, scope: str, district: str | None, stations: list[str]) -> Results:
        r = Results(self.election, scope, district)
        for sid in stations:
            for c in self.election.contests_at_station(sid):
                r.contests.setdefault(c.id, ContestTally.empty(c))
        return r

    # --- adding results ---------------------------------------------------------------------

    def add(self, slot: dict[str, Any]) -> None:
        """Merge an accepted result (a slot: station, unit_key, sequence, signed, at)."""
        message = slot["signed"]["message"]
        sid = message["station"]
        r = station_results(self.election, message)
        district = self.election.stations[sid].district
        if sid not in self.stations:
            self.stations[sid] = self._empty(f"station:{sid}", district, [sid])
            for key in self._scopes(sid):
                self.reporting_stations[key] += 1
                self.reporting_registered[key] += self.served.registered.get(sid, 0)
        self.units[sid][slot["unit_key"]] = slot
        self.stations[sid].merge(r)
        self.districts[district].merge(r)
        if district in self.province_of:
            self.provinces[self.province_of[district]].merge(r)
        self.nation.merge(r)
        self.dirty_stations.add(sid)
        self.dirty_districts.add(district)
        self._district_outcomes.pop(district, None)

    def units_slots(self):
        """Every accepted slot, station by station."""
        for units in self.units.values():
            yield from units.values()

    def take_dirty(self) -> tuple[set[str], set[str]]:
        stations, districts = self.dirty_stations, self.dirty_districts
        self.dirty_stations, self.dirty_districts = set(), set()
        return stations, districts

    # --- figures ----------------------------------------------------------------------------

    def _scopes(self, sid: str) -> list[str]:
        district = self.election.stations[sid].district
        keys = ["national", f"district:{district}"]
        if district in self.province_of:
            keys.append(f"province:{self.province_of[district]}")
        return keys

    def _scope_figures(self, results: Results, key: str) -> dict[str, Any]:
        n_rep, n_all = self.reporting_stations[key], self.total_stations[key]
        known = bool(self.served.registered)
        rep_reg = self.reporting_registered[key] if known else None
        return {"stations_total": n_all, "stations_reporting": n_rep,
                "reporting_pct": _pct(n_rep, n_all),
                "status": COMPLETE if n_rep == n_all else PARTIAL,
                "ballots_cast": results.ballots_cast,
                "registered": self.total_registered[key] if known else None,
                "registered_reporting": rep_reg,
                "turnout_pct": _pct(results.ballots_cast, rep_reg) if rep_reg else None}

    def _contests(self, results: Results, outcomes: bool = True) -> dict[str, Any]:
        out = {}
        for cid, t in results.contests.items():
            c = self.election.contests[cid]
            entry = {"title": c.title, "kind": c.kind, "vote_for": c.vote_for, **t.to_json(),
                     "valid_votes": t.valid_votes,
                     "choices": [{"id": ch.id, "name": ch.name, "party": ch.party,
                                  "votes": t.votes.get(ch.id, 0)} for ch in c.choices]}
            if outcomes and t.ballots_counted:
                verdict = results.outcome(cid)
                if verdict:
                    entry.update(verdict)
            out[cid] = entry
        return out

    def district_outcome(self, district: str) -> dict[str, Any]:
        """The district's contests with seats (cached until the district changes)."""
        cached = self._district_outcomes.get(district)
        if cached is None:
            cached = self._contests(self.districts[district])
            self._district_outcomes[district] = cached
        return cached

    def station_doc(self, sid: str) -> dict[str, Any]:
        st = self.election.stations[sid]
        units = [{"unit_id": slot["signed"]["message"]["unit_id"], "unit_public_key": key,
                  "sequence": slot["sequence"], "accepted_at": slot["at"], "digest": slot["digest"],
                  "signed": slot["signed"]} for key, slot in sorted(self.units.get(sid, {}).items())]
        results = self.stations.get(sid) or self._empty(f"station:{sid}", st.district, [sid])
        reg = self.served.registered_at(sid)
        return {"kind": "station", "id": sid, "name": st.name, "district": st.district,
                "district_name": self.election.districts[st.district].name,
                "reported": sid in self.stations, "registered": reg,
                "ballots_cast": results.ballots_cast,
                "turnout_pct": _pct(results.ballots_cast, reg) if reg and sid in self.stations else None,
                "contests": self._contests(results, outcomes=False), "units": units}

    def district_doc(self, district: str) -> dict[str, Any]:
        fig = self._scope_figures(self.districts[district], f"district:{district}")
        if fig["stations_reporting"]:
            status = "final" if fig["status"] == COMPLETE else "provisional"
            contests = {cid: (dict(c, seats_status=status) if c.get("seats") is not None else c)
                        for cid, c in self.district_outcome(district).items()}
        else:
            contests = self._contests(self.districts[district], outcomes=False)
        return {"kind": "district", "id": district, "name": self.election.districts[district].name,
                "province": self.province_of.get(district), **fig, "contests": contests,
                "stations": [{"id": s, "name": self.election.stations[s].name,
                              "reported": s in self.stations,
                              "ballots_cast": self.stations[s].ballots_cast if s in self.stations else None}
                             for s in self.district_stations[district]]}

    def national_seats(self) -> dict[str, dict[str, dict[str, int]]]:
        """contest -> {"final": {party: seats}, "provisional": {...}} summed over districts."""
        out: dict[str, dict[str, dict[str, int]]] = {}
        for d in self.election.districts:
            key = f"district:{d}"
            if not self.reporting_stations[key]:
                continue
            complete = self.reporting_stations[key] == self.total_stations[key]
            for cid, c in self.district_outcome(d).items():
                if not c.get("seats"):
                    continue
                bucket = out.setdefault(cid, {"final": {}, "provisional": {}})
                target = bucket["final" if complete else "provisional"]
                for party, n in c["seats"].items():
                    if n:
                        target[party] = target.get(party, 0) + n
        return out

    def national_doc(self) -> dict[str, Any]:
        e = self.election
        fig = self._scope_figures(self.nation, "national")
        contests = self._contests(self.nation)
        for cid, seats in self.national_seats().items():
            if cid in contests:
                contests[cid]["seats_final"] = dict(sorted(seats["final"].items()))
                contests[cid]["seats_provisional"] = dict(sorted(seats["provisional"].items()))
        provinces = [{"name": p, **self._scope_figures(res, f"province:{p}")}
                     for p, res in self.provinces.items()]
        doc = {"kind": "national", "id": e.id, "name": e.title, "date": e.date, **fig,
               "contests": contests, "provinces": provinces}
        if not provinces:  # a small election: its districts are listed on the national page
            doc["districts"] = self._district_rows(list(e.districts))
        return doc

    def _district_rows(self, districts: list[str]) -> list[dict[str, Any]]:
        rows = []
        for d in districts:
            key = f"district:{d}"
            n, total = self.reporting_stations[key], self.total_stations[key]
            rows.append({"id": d, "name": self.election.districts[d].name, "province": self.province_of.get(d),
                         "stations_total": total, "stations_reporting": n,
                         "status": COMPLETE if n == total else PARTIAL,
                         "ballots_cast": self.districts[d].ballots_cast})
        return rows

    def province_doc(self, province: str) -> dict[str, Any]:
        """A province: its figures and votes, and its districts (the drill-down of the nation)."""
        fig = self._scope_figures(self.provinces[province], f"province:{province}")
        districts = [d for d in self.election.districts if self.province_of.get(d) == province]
        return {"kind": "province", "id": province, "name": province, **fig,
                "contests": self._contests(self.provinces[province], outcomes=False),
                "districts": self._district_rows(districts)}
