"""One election, three NIST SP 1500-100 reports: the units' (one per station), the central
tally's (national) and the national simulation's. Fed the same station figures, they name every
reporting unit, party, candidate and selection alike and give the same counts where they
overlap; each validates against the official schema. Before one builder, the central tally and
the simulation gave a province two different ids (``ru-province-бишкек`` / ``-bishkek``)."""
from __future__ import annotations

import re
from collections import defaultdict

import jsonschema
import pytest

from central.nist_national import national_results
from central.served import ServedElection
from central.tally import CentralTally
from device.results.nist_results import election_results
from device.results.tally import Results
from sim.national.executors import InlineExecutor
from sim.national.generator import national_election
from sim.national.outputs import national_nist
from sim.national.runner import run_national
from sim.results.results_feed import signed_results_for, unit_signer
from tests.nist_schemas import nist_schema

AT = 1_800_000_000.0


def three_reports(name: str, stations: int) -> dict:
    """The simulation's report of a seeded run, the central tally's of the run's stations (each
    sent as its unit signs it) and each station unit's own report."""
    national = national_election(name)
    e = national.election
    run = run_national(national, 3, InlineExecutor(), stations=stations)
    results = {sid: Results.from_json(e, f"station:{sid}", r["district"], r["contests"], r["ballots_cast"])
               for sid, r in run.tally.stations.items()}
    signers = {sid: unit_signer(3, sid) for sid in results}
    served = ServedElection(e, {s.public_key_hex(): sid for sid, s in signers.items()}, "test", "0" * 64,
                            "simulation", e.registered())
    tally = CentralTally(served)
    for sid, r in sorted(results.items()):
        signed = signed_results_for(e, sid, signers[sid], r)
        tally.add({"signed": signed, "unit_key": signers[sid].public_key_hex(), "sequence": 1, "at": AT,
                   "digest": sid})
    central = national_results(e, tally.national_doc(), {d: tally.district_doc(d) for d in e.districts}, AT,
                               served.package_mode)
    units = {sid: election_results(e, sid, signers[sid].public_key_hex(), r.to_json(), AT)
             for sid, r in results.items()}
    return {"sim": national_nist(national, run), "central": central, "units": units,
            "election": e, "run": run}


@pytest.fixture(scope="module", params=["kyrgyzstan-2017-national", "cambodia-2022-national"])
def reports(request):
    return three_reports(request.param, 6)


def gp_units(report: dict) -> dict[str, dict]:
    return {u["@id"]: u for u in report["GpUnit"]}


def counts(report: dict) -> dict[tuple[str, str, str, str], int]:
    """(unit, contest, choice, kind) -> count; a selection's choice read from its id, so a
    contest split per district (``council--D``) counts as its contest."""
    out = {}
    for contest in report["Election"][0]["Contest"]:
        for sel in contest["ContestSelection"]:
            cid, choice = sel["@id"].split("--")[:2]
            for vc in sel["VoteCounts"]:
                key = (vc["GpUnitId"], cid, choice, vc["Type"])
                assert key not in out, f"{key} counted twice"
                out[key] = vc["Count"]
    return out


def schema_validator() -> jsonschema.Draft4Validator:
    return jsonschema.Draft4Validator(nist_schema("NIST_V2_election_results_reporting.json"),
                                      format_checker=jsonschema.FormatChecker())


def cut_to(doc: dict, kept: set[str]) -> dict:
    """The national report with only the reporting units ``kept`` (the nation, the provinces and
    the districts of the run) and what is counted in them: every kind of object it holds is
    still there, once per district that ran instead of once per district of the country."""
    election = doc["Election"][0]
    contests = []
    for c in election["Contest"]:
        if c["ElectionDistrictId"] in kept:
            sels = [dict(s, VoteCounts=[v for v in s["VoteCounts"] if v["GpUnitId"] in kept])
                    for s in c["ContestSelection"]]
            contests.append(dict(c, ContestSelection=sels,
                                 OtherCounts=[o for o in c["OtherCounts"] if o["GpUnitId"] in kept]))
    return dict(doc, GpUnit=[u for u in doc["GpUnit"] if u["@id"] in kept],
                Election=[dict(election, Contest=contests,
                               BallotCounts=[b for b in election["BallotCounts"] if b["GpUnitId"] in kept])])


def test_every_report_validates_against_the_official_schema(reports):
    """The national reports cut to the districts that ran: validating the 1,646 other Cambodian
    councils, objects of the same kinds, took 25 s more (the whole reports: the slow test below)."""
    validator = schema_validator()
    kept = {u["@id"] for u in reports["central"]["GpUnit"] if not u["@id"].startswith("ru-district-")}
    kept |= {f"ru-district-{r['district']}" for r in reports["run"].tally.stations.values()}
    for doc in [cut_to(reports["sim"], kept), cut_to(reports["central"], kept), *reports["units"].values()]:
        assert len(doc["Election"][0]["Contest"]) >= 1
        assert [e.message[:200] for e in validator.iter_errors(doc)] == []


@pytest.mark.slow
def test_the_whole_national_reports_validate_against_the_official_schema(reports):
    validator = schema_validator()
    for doc in (reports["sim"], reports["central"]):
        assert [e.message[:200] for e in validator.iter_errors(doc)] == []


def test_the_reports_name_every_reporting_unit_alike(reports):
    e = reports["election"]
    sim, central = gp_units(reports["sim"]), gp_units(reports["central"])
    provinces = {i for i in sim if i.startswith("ru-province-")}
    assert provinces and provinces <= set(central), "a province has another id in the central report"
    assert {i for i in central if i.startswith("ru-province-")} == {f"ru-province-{p}" for p in e.provinces}
    for unit in set(sim) & set(central):
        assert sim[unit]["Name"] == central[unit]["Name"], unit
        assert set(sim[unit].get("ComposingGpUnitIds", [])) <= set(central[unit].get("ComposingGpUnitIds", [])), unit
    for report in reports["units"].values():
        mine = gp_units(report)
        district = next(u for u in mine.values() if u.get("OtherType") == "district")
        assert district["@id"] in sim and district["Name"] == sim[district["@id"]]["Name"]
        assert district["@id"] in central


def test_the_reports_name_parties_candidates_and_selections_alike(reports):
    docs = [reports["sim"], reports["central"], *reports["units"].values()]
    parties = [{p["@id"]: p["Name"] for p in d["Party"]} for d in docs]
    assert all(p == parties[0] for p in parties)
    candidates: dict[str, dict] = {}
    for d in docs:
        for cand in d["Election"][0]["Candidate"]:
            assert candidates.setdefault(cand["@id"], cand) == cand, cand["@id"]
    selections: dict[tuple[str, str], dict] = {}
    for d in docs:
        for contest in d["Election"][0]["Contest"]:
            for sel in contest["ContestSelection"]:
                same = {k: v for k, v in sel.items() if k not in ("@id", "VoteCounts")}
                key = tuple(sel["@id"].split("--")[:2])
                assert selections.setdefault(key, same) == same, key


def test_the_reports_give_the_same_counts(reports):
    run = reports["run"]
    sim, central = counts(reports["sim"]), counts(reports["central"])
    shared = set(sim) & set(central)
    assert {k for k in sim if k[3] == "total"} <= shared  # every district's votes are in both
    assert all(sim[k] == central[k] for k in shared)
    by_district: dict[tuple[str, str, str], int] = defaultdict(int)
    for sid, report in reports["units"].items():
        district = f"ru-district-{run.tally.stations[sid]['district']}"
        for (unit, cid, choice, kind), n in counts(report).items():
            assert unit == f"ru-{sid}" and kind == "total"
            by_district[(district, cid, choice)] += n
    ran = {f"ru-district-{r['district']}" for r in run.tally.stations.values()}
    assert by_district == {k[:3]: n for k, n in central.items() if k[0] in ran and k[3] == "total"}
    ballots = {r: {b["GpUnitId"]: b["BallotsCast"] for b in reports[r]["Election"][0]["BallotCounts"]}
               for r in ("sim", "central")}
    assert all(ballots["central"][u] == n for u, n in ballots["sim"].items())


ISSUED = ("GeneratedDate", "Issuer", "IssuerAbbreviation")  # who issued the report, and when


def test_the_simulation_and_the_central_tally_give_one_report(reports):
    """Not just alike: the simulation's report of a run is the central tally's report of the same
    stations, but for who issued it and when (one shape, from one builder)."""
    sim, central = ({k: v for k, v in reports[r].items() if k not in ISSUED} for r in ("sim", "central"))
    assert sim == central


# xsd:ID is an NCName: XML 1.0 (5th edition) name characters, no colon. Cyrillic and Khmer are
# name characters, so Kyrgyz province ids (``ru-province-ысык-көл-облусу``) are valid ids.
_START = ("A-Z_a-z\u00c0-\u00d6\u00d8-\u00f6\u00f8-\u02ff\u0370-\u037d\u037f-\u1fff\u200c-\u200d"
          "\u2070-\u218f\u2c00-\u2fef\u3001-\ud7ff\uf900-\ufdcf\ufdf0-\ufffd\U00010000-\U000effff")
NCNAME = re.compile(f"[{_START}][{_START}\\-.0-9\u00b7\u0300-\u036f\u203f-\u2040]*")


def ids_in(doc) -> list[str]:
    if isinstance(doc, dict):
        return [v for k, v in doc.items() if k == "@id"] + [i for v in doc.values() for i in ids_in(v)]
    return [i for v in doc for i in ids_in(v)] if isinstance(doc, list) else []


def id_references_in(doc) -> list[str]:
    """The values of every ``...Id``/``...Ids`` field (xsd:IDREF): each must name an ``@id``."""
    if isinstance(doc, dict):
        refs = [v for k, v in doc.items() if k.endswith("Id") and k != "@id" and isinstance(v, str)]
        refs += [r for k, v in doc.items() if k.endswith("Ids") for r in v]
        return refs + [r for v in doc.values() for r in id_references_in(v)]
    return [r for v in doc for r in id_references_in(v)] if isinstance(doc, list) else []


def test_every_id_is_an_ncname_and_every_reference_resolves(reports):
    assert NCNAME.fullmatch("ru-province-ысык-көл-облусу") and not NCNAME.fullmatch("1st") \
        and not NCNAME.fullmatch("a:b") and not NCNAME.fullmatch("a b")
    for doc in [reports["sim"], reports["central"], *reports["units"].values()]:
        ids = ids_in(doc)
        assert len(ids) == len(set(ids)), "an @id is given twice"
        assert [i for i in ids if not NCNAME.fullmatch(i)] == []
        refs = set(id_references_in(doc)) - {doc.get("VendorApplicationId")}
        assert refs <= set(ids), sorted(refs - set(ids))[:5]
