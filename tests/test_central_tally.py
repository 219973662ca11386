"""The central tally's figures: national, district (seats provisional, then final) and station
pages equal the sums of the accepted messages; HTML and JSON twins agree; the national NIST
file is valid; a restart rebuilds the same totals; central/ never imports sim/."""
from __future__ import annotations

import ast
import re
from pathlib import Path

import httpx
import jsonschema
import pytest

from central.app import CentralService
from central.store import SqliteCentralStore
from device.election.definition import load_election
from device.results.seats import allocate_seats, lot_seed_for
from sim.results.results_feed import synthetic_signed
from tests.central_kit import published, running_service, served_for
from tests.nist_schemas import nist_schema

SEED = 5
ROOT = Path(__file__).resolve().parents[1]


def test_central_never_imports_sim():
    for path in (ROOT / "central").rglob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            names = [a.name for a in node.names] if isinstance(node, ast.Import) else \
                [node.module or ""] if isinstance(node, ast.ImportFrom) else []
            for name in names:
                assert name.split(".")[0] != "sim", f"{path.relative_to(ROOT)} imports {name}"


def html_number(html: str, element_id: str) -> int:
    m = re.search(rf'id="{element_id}">([\d,]+)<', html)
    return int(m.group(1).replace(",", ""))


@pytest.fixture(scope="module")
def run(tmp_path_factory):
    election = load_election("cambodia-2022")
    tmp = tmp_path_factory.mktemp("tally")
    served = served_for(election, SEED)
    messages = {sid: synthetic_signed(election, SEED, sid) for sid in election.stations}
    with running_service(served, tmp) as (url, svc):
        first = "teuk-laak-1-1"
        assert httpx.post(url + "/api/results", json=messages[first]).status_code == 201
        partial = published(url, lambda d: d["stations_reporting"] == 1, "districts/teuk-laak-1.json")
        for sid, signed in messages.items():
            if sid != first:
                assert httpx.post(url + "/api/results", json=signed).status_code == 201
        n = len(election.stations)
        national = published(url, lambda d: d["stations_reporting"] == n)
        pages = {"index.html": httpx.get(url + "/index.html").text,
                 "district": httpx.get(url + "/districts/teuk-laak-1.json").json(),
                 "district.html": httpx.get(url + "/districts/teuk-laak-1.html").text,
                 "station": httpx.get(url + "/stations/chbar-mon-2.json").json(),
                 "station.html": httpx.get(url + "/stations/chbar-mon-2.html").text,
                 "station.csv": httpx.get(url + "/stations/chbar-mon-2.csv").text,
                 "nist": published(url, lambda d: d["Status"] == "unofficial-complete", "nist/results.json")}
    yield election, served, messages, partial, national, pages, tmp


def test_national_figures_are_the_sums_of_the_accepted_messages(run):
    election, served, messages, _, national, pages, _ = run
    cast = sum(m["message"]["ballots_cast"] for m in messages.values())
    assert national["ballots_cast"] == cast
    assert national["status"] == "unofficial-complete" and national["reporting_pct"] == 100.0
    votes = national["contests"]["council"]["votes"]
    for party in votes:
        assert votes[party] == sum(m["message"]["tally"]["council"]["votes"][party] for m in messages.values())
    registered = sum(served.registered.values())
    assert national["turnout_pct"] == round(100 * cast / registered, 2)
    assert html_number(pages["index.html"], "ballots-cast") == cast  # the HTML page and its JSON twin


def test_district_seats_are_provisional_until_every_station_reports(run):
    election, _, messages, partial, _, pages, _ = run
    assert partial["status"] == "unofficial-partial"
    assert partial["contests"]["council"]["seats_status"] == "provisional"
    district = pages["district"]
    assert district["status"] == "unofficial-complete"
    council = district["contests"]["council"]
    assert council["seats_status"] == "final"
    contest = election.contests["council"]
    expected = allocate_seats(council["votes"], contest.seats["teuk-laak-1"], contest.method,
                              contest.threshold, lot_seed_for(election.hash, "teuk-laak-1", "council"))
    assert council["seats"] == expected.seats
    assert sum(council["seats"].values()) == contest.seats["teuk-laak-1"]
    assert "provisional" not in pages["district.html"].split("<main")[1].split("Stations")[0].lower()


def test_station_page_shows_the_tape_figures_and_the_signed_message(run):
    _, _, messages, _, _, pages, _ = run
    signed = messages["chbar-mon-2"]
    station = pages["station"]
    assert station["units"][0]["signed"] == signed
    fig = signed["message"]["tally"]["council"]
    for key in ("undervotes", "overvotes", "blank", "invalid", "ballots_counted"):
        assert station["contests"]["council"][key] == fig[key]
        assert f'data-figure="{key}">{fig[key]:,}<' in pages["station.html"]
    assert html_number(pages["station.html"], "ballots-cast") == signed["message"]["ballots_cast"]
    rows = dict((line.split(",")[1], int(line.split(",")[-1])) for line in pages["station.csv"].splitlines()[1:]
                if line.startswith("council,"))
    assert {k: rows[k] for k in fig["votes"]} == fig["votes"]


def test_national_file_is_valid_nist_1500_100(run):
    nist = run[5]["nist"]
    schema = nist_schema("NIST_V2_election_results_reporting.json")
    jsonschema.validate(nist, schema)
    assert nist["Status"] == "unofficial-complete"
    seats = {c["@id"]: sum(vc["Count"] for sel in c["ContestSelection"] for vc in sel["VoteCounts"]
                           if vc["Type"] == "seats") for c in nist["Election"][0]["Contest"]}
    assert seats == {f"council--{d}": n for d, n in run[0].contests["council"].seats.items()}  # a council each


def test_a_restart_rebuilds_the_same_totals(run):
    _, served, _, _, national, _, tmp = run
    service = CentralService(served, SqliteCentralStore(tmp / "central.db"), tmp / "public2")
    try:
        again = service.tally.national_doc()
        assert again["contests"] == national["contests"]
        assert again["ballots_cast"] == national["ballots_cast"]
    finally:
        service.close()
