"""Adding station results up as the election authority does, and checking them against intent.

``NationalTally.add`` takes each ``StationResult`` as it arrives (any order: sums commute) and
adds its device tally and its intent tally into the district, province and nation;
``NationalTally.document`` then allocates seats in every complete district (all its stations
counted) with ``device.results`` (the same ``Results``/``aggregate`` rules and seat methods as
the unit's results), and compares the device's totals with the voters' intent at every
level. The document is plain JSON with sorted keys and no timings: the same seed gives the
same bytes whatever ran the stations.
"""
from __future__ import annotations

from typing import Iterable

from device.results.tally import ContestTally, Results, aggregate
from sim.national.generator import NationalElection

FORMAT = "ballotbox-national-run/1"


def _tallies(results: Results) -> dict:
    results.check()
    return {cid: t.to_json() for cid, t in sorted(results.contests.items())}


def _difference(device: dict, intent: dict) -> dict:
    """Device minus intent: ballots, and per contest every figure, vote and seat that differs."""
    contests = {}
    for cid, d in device["contests"].items():
        i = intent["contests"].get(cid, {})
        diff = {k: d[k] - i.get(k, 0) for k in ("ballots_counted", "undervotes", "overvotes", "blank", "invalid")
                if d[k] != i.get(k, 0)}
        for key in ("votes", "seats"):
            mine, theirs = d.get(key) or {}, i.get(key) or {}
            delta = {c: mine.get(c, 0) - theirs.get(c, 0) for c in sorted(set(mine) | set(theirs))
                     if mine.get(c, 0) != theirs.get(c, 0)}
            if delta:
                diff[key] = delta
        if diff:
            contests[cid] = diff
    return {"ballots": device["ballots_cast"] - intent["ballots_cast"], "contests": contests}


class NationalTally:
    def __init__(self, national: NationalElection, seed: int, faults: str, station_ids: Iterable[str]):
        self.national, self.seed, self.faults = national, seed, faults
        self.election = national.election
        self.expected = set(station_ids)
        self.stations: dict[str, dict] = {}  # station id -> StationResult (without timing)
        self.seconds: dict[str, float] = {}
        self.ballots = 0  # cast in the stations added so far (read after every batch: kept, not summed)

    def add(self, result: dict) -> None:
        sid = result["station"]
        if sid not in self.expected or sid in self.stations:
            raise ValueError(f"station {sid} reported twice or not asked for")
        self.seconds[sid] = result.get("seconds", 0.0)
        self.stations[sid] = {k: v for k, v in result.items() if k != "seconds"}
        self.ballots += result.get("ballots_cast", 0)

    @property
    def done(self) -> int:
        return len(self.stations)

    def _station_results(self, key: str) -> list[Results]:
        out = []
        for sid in sorted(self.stations):
            r = self.stations[sid]
            if "error" in r:
                continue
            cast = r["ballots_cast"] if key == "contests" else r["ballots_intended"]
            out.append(Results.from_json(self.election, f"station:{sid}", r["district"], r[key], cast))
        return out

    def document(self) -> dict:
        national = self.national
        ok = {sid: r for sid, r in self.stations.items() if "error" not in r}
        complete = {d for d, sts in national.stations_of.items() if all(s in ok for s in sts)}
        levels = {}
        for key in ("contests", "intent"):
            agg = aggregate(self.election, self._station_results(key))
            for contest in self.election.contests.values():  # zeros, even before any station is in
                agg["national"].contests.setdefault(contest.id, ContestTally.empty(contest))
            for name, res in agg.items():
                if name.startswith("district:") and res.district not in complete:
                    res.district = None  # seats only once every station of the district is in
            provinces: dict[str, Results] = {}
            for name, res in agg.items():
                if name.startswith("district:"):
                    p = national.province_of[name.split(":", 1)[1]]
                    provinces.setdefault(p, Results(self.election, f"province:{p}", None)).merge(res)
            levels[key] = (agg, provinces)
        (dev, dev_prov), (intent, intent_prov) = levels["contests"], levels["intent"]

        districts, district_diffs = {}, []
        for name in sorted(k for k in dev if k.startswith("district:")):
            d = name.split(":", 1)[1]
            doc = dev[name].to_json()
            wanted = intent[name].to_json()
            doc.update(province=national.province_of[d], complete=d in complete,
                       matches_intent=doc == wanted)
            districts[d] = doc
            if not doc["matches_intent"]:
                district_diffs.append({"district": d, "province": national.province_of[d],
                                       "complete": d in complete, **_difference(doc, wanted)})
        provinces = {}
        for p in sorted(dev_prov):
            doc = dev_prov[p].to_json()
            doc.update(seats=self._seats(districts, p), complete=all(d in complete for d in national.provinces[p].districts),
                       matches_intent=_tallies(dev_prov[p]) == _tallies(intent_prov[p]))
            provinces[p] = doc
        nation = dev["national"].to_json()
        nation.update(seats=self._seats(districts, None),
                      matches_intent=nation == intent["national"].to_json())

        station_ok = sum(1 for r in ok.values() if r["matches_intent"] and r["paper_matches_records"])
        checks = {
            "stations": {"run": len(self.stations), "match": station_ok, "errors":
                         sorted(f"{sid}: {r['error']}" for sid, r in self.stations.items() if "error" in r)},
            "districts": {"run": len(districts), "complete": len(complete),
                          "match": sum(1 for x in districts.values() if x["matches_intent"])},
            "provinces": {"run": len(provinces), "match": sum(1 for x in provinces.values() if x["matches_intent"])},
            "national": nation["matches_intent"],
            "ballots_lost": sum(r["lost"] for r in ok.values()),
            "ballots_double_counted": sum(r["double_counted"] for r in ok.values()),
            "paper_mismatches": sum(1 for r in ok.values() if not r["paper_matches_records"]),
            "mismatches": {"stations": self._station_mismatches(ok), "districts": district_diffs,
                           "provinces": sorted(p for p, x in provinces.items() if not x["matches_intent"])},
        }
        matches = (station_ok == len(self.stations) and checks["districts"]["match"] == len(districts)
                   and checks["provinces"]["match"] == len(provinces) and nation["matches_intent"]
                   and checks["ballots_lost"] == 0 and checks["ballots_double_counted"] == 0)
        all_stations = len(self.expected) == len(national.registered)
        return {
            "format": FORMAT, "election": national.name, "election_id": self.election.id,
            "election_hash": self.election.hash, "seed": self.seed, "faults": self.faults,
            "selection": {"stations": len(self.stations), "of_stations": len(national.registered),
                          "districts_complete": len(complete), "of_districts": len(national.stations_of),
                          "whole_country": all_stations and len(self.stations) == len(self.expected)},
            "registered": sum(national.registered[s] for s in self.stations),
            "national": nation, "provinces": provinces, "districts": districts,
            "published": self._published(nation, len(ok) == len(national.registered)),
            "fault_summary": self._fault_summary(ok),
            **self._fingerprint_summary(ok),
            "checks": checks, "matches_intent": matches,
        }

    @staticmethod
    def _fingerprint_summary(ok: dict) -> dict:
        """The ID desk's fingerprint step over the stations (``--biometric``), or nothing."""
        steps = [r["fingerprint"] for r in ok.values() if "fingerprint" in r]
        if not steps:
            return {}
        voters = sum(s["voters"] for s in steps)
        by_commission: dict[str, int] = {}
        for s in steps:
            for reason, n in s["identified_by_commission"].items():
                by_commission[reason] = by_commission.get(reason, 0) + n
        seconds = sum(s["seconds_per_voter"] * s["voters"] for s in steps)
        return {"fingerprint": {"stations": len(steps), "voters": voters,
                                "presses": sum(s["presses"] for s in steps),
                                "seconds_per_voter": round(seconds / voters, 2) if voters else 0.0,
                                "identified_by_commission": dict(sorted(by_commission.items()))}}

    def _station_mismatches(self, ok: dict) -> list[dict]:
        """Every station whose device tally or paper differs from intent, and by how much."""
        out = []
        for sid in sorted(ok):
            r = ok[sid]
            if r["matches_intent"] and r["paper_matches_records"]:
                continue
            device = {"ballots_cast": r["ballots_cast"], "contests": r["contests"]}
            wanted = {"ballots_cast": r["ballots_intended"], "contests": r["intent"]}
            out.append({"station": sid, "district": r["district"],
                        "province": self.national.province_of[r["district"]],
                        "paper_matches_records": r["paper_matches_records"], **_difference(device, wanted)})
        return out

    def _seats(self, districts: dict, province: str | None) -> dict[str, int] | None:
        contest = self.national.contest_id
        if self.election.contests[contest].kind != "party-list":
            return None
        total: dict[str, int] = {}
        for d, doc in districts.items():
            if province is not None and doc["province"] != province:
                continue
            for party, n in (doc["contests"][contest].get("seats") or {}).items():
                total[party] = total.get(party, 0) + n
        return dict(sorted(total.items()))

    def _published(self, nation: dict, whole: bool) -> dict:
        """The simulated national figures beside the published ones. Only a run of the whole
        country is compared (differences, seats that would change hands); a partial run shows
        both side by side, marked not comparable. Votes the spec filled in are estimates."""
        national = self.national
        votes = nation["contests"][national.contest_id]["votes"]
        estimated, note = national.estimated_votes
        out: dict = {"comparable": whole, "votes": {}}
        if not whole:
            out["why_not_comparable"] = ("only part of the country ran: the published figures are the "
                                         "whole country's, so no difference is computed")
        if estimated:
            out["estimates"] = {"choices": sorted(estimated), "note": note}
        for c, pub in national.published_votes.items():
            sim = votes.get(c, 0)
            row = {"published": pub, "simulated": sim, "estimated": c in estimated}
            if whole:
                row.update(difference=sim - pub, relative=round((sim - pub) / pub, 6) if pub else None)
            out["votes"][c] = row
        if national.published_seats is not None:
            seats = nation.get("seats") or {}
            out["seats"] = {}
            for p in sorted(set(seats) | set(national.published_seats)):
                row = {"published": national.published_seats.get(p, 0), "simulated": seats.get(p, 0)}
                if whole:
                    row["difference"] = row["simulated"] - row["published"]
                out["seats"][p] = row
            if whole:
                out["seats_off"] = sum(abs(x["difference"]) for x in out["seats"].values()) // 2
        return out

    @staticmethod
    def _fault_summary(ok: dict) -> dict:
        injected: dict[str, int] = {}
        totals = {"reboots": 0, "jams": 0, "double_feeds": 0}
        cleared: dict[str, int] = {}
        power_on: dict[str, int] = {}
        fidelity: dict[str, int] = {}
        for r in ok.values():
            fidelity[r["fidelity"]] = fidelity.get(r["fidelity"], 0) + 1
            f = r["faults"]
            for kind in f["injected"]:
                injected[kind] = injected.get(kind, 0) + 1
            totals["reboots"] += f["reboots"]
            totals["jams"] += f.get("jams", 0)
            totals["double_feeds"] += f.get("double_feeds", 0)
            for k, n in f.get("cleared", {}).items():
                cleared[k] = cleared.get(k, 0) + n
            for k, n in f.get("power_on_paper", {}).items():
                power_on[k] = power_on.get(k, 0) + n
        return {"stations_by_fault": dict(sorted(injected.items())), **totals,
                "cleared": dict(sorted(cleared.items())), "power_on_paper": dict(sorted(power_on.items())),
                "stations_by_fidelity": dict(sorted(fidelity.items()))}
