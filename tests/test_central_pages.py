"""A page the public reads correctly (issue 18, section 5), over real HTTP: test results say so on
every page and JSON twin, statuses have human labels, no final seats before a district is
complete, the nation is summarised by province with a page per province, station pages sort
parties by votes. (The browser checks are in ``test_central_browser.py``.)"""
from __future__ import annotations

import re

import httpx
import pytest

from device.election.definition import load_election
from sim.results.results_feed import synthetic_signed
from tests.central_kit import published, running_service, served_for

SEED = 17
NOTICE = "TEST RESULTS — not an election"


@pytest.fixture(scope="module")
def election():
    return load_election("cambodia-2022")


def title(html: str) -> str:
    return re.search(r"<title>(.*?)</title>", html).group(1)


def test_test_results_are_marked_on_every_page_and_json_twin(election, tmp_path):
    sid = next(iter(election.stations))
    with running_service(served_for(election, SEED), tmp_path) as (url, svc):
        assert httpx.post(url + "/api/results", json=synthetic_signed(election, SEED, sid)).status_code == 201
        published(url, lambda d: d["stations_reporting"] == 1)
        files = sorted(p.relative_to(svc.publisher.dir) for p in svc.publisher.dir.rglob("*")
                       if p.suffix in (".html", ".json") and p.parent.name != "nist")
        assert len(files) > 10
        for rel in files:
            r = httpx.get(f"{url}/{rel}")
            if rel.suffix == ".html":
                assert title(r.text).startswith(NOTICE) and 'id="test-marking"' in r.text, rel
            else:
                assert r.json()["results"] == "test" and r.json()["notice"] == NOTICE, rel


def test_a_live_service_shows_no_test_marking(election, tmp_path):
    served = served_for(election, SEED, mode="live", package_mode="live")
    with running_service(served, tmp_path) as (url, _):
        assert NOTICE not in httpx.get(url + "/index.html").text
        assert httpx.get(url + "/index.json").json()["results"] == "live"


def test_labels_seats_and_station_order(election, tmp_path):
    sid = next(iter(election.stations))
    district = election.stations[sid].district
    with running_service(served_for(election, SEED), tmp_path) as (url, _):
        assert httpx.post(url + "/api/results", json=synthetic_signed(election, SEED, sid)).status_code == 201
        published(url, lambda d: d["stations_reporting"] == 1)
        index = httpx.get(url + "/index.html").text
        assert "<b>Unofficial, partial</b>" in index and ">unofficial-partial<" not in index
        assert "Seats (final)" not in index and "Seats (provisional)" in index  # nothing complete yet
        station = httpx.get(f"{url}/stations/{sid}.html").text
        council = station[station.index('id="contest-council"'):]
        votes = [int(v.replace(",", "")) for v in re.findall(r'class="votes">([\d,]+)<', council)]
        assert votes == sorted(votes, reverse=True) and len(votes) > 2
        for other in [s for s in election.stations if election.stations[s].district == district and s != sid]:
            assert httpx.post(url + "/api/results", json=synthetic_signed(election, SEED, other)).status_code == 201
        done = published(url, lambda d: any(x["seats_final"] for x in d["contests"].values() if "seats_final" in x))
        assert done["stations_reporting"] < done["stations_total"]
        assert "Seats (final)" in httpx.get(url + "/index.html").text


def test_the_nation_is_summarised_by_province(tmp_path):
    from sim.national.generator import national_election

    election = national_election("kyrgyzstan-2017-national").election
    sid = next(iter(election.stations))
    with running_service(served_for(election, SEED), tmp_path) as (url, _):
        assert httpx.post(url + "/api/results", json=synthetic_signed(election, SEED, sid)).status_code == 201
        nat = published(url, lambda d: d["stations_reporting"] == 1)
        assert "districts" not in nat and len(nat["provinces"]) > 1
        index = httpx.get(url + "/index.html").text
        assert 'id="districts"' not in index and len(index) < 60_000
        links = re.findall(r"href='(provinces/[^']+\.html)'", index)
        assert len(links) == len(nat["provinces"])
        province = next(p for p in nat["provinces"] if p["stations_reporting"])
        page = httpx.get(f"{url}/{links[[p['name'] for p in nat['provinces']].index(province['name'])]}")
        assert page.status_code == 200 and province["name"] in page.text
        twin = httpx.get(f"{url}/{links[0][:-5]}.json").json()
        assert twin["kind"] == "province" and twin["districts"]
        in_province = [d for d in election.districts
                       if election.raw["districts"][list(election.districts).index(d)]["province"] == province["name"]]
        assert len(re.findall(r"href='../districts/", page.text)) == len(in_province)
