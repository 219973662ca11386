"""Kyrgyz province ids are Cyrillic (``ru-province-ысык-көл-облусу``; issue 20): valid NIST ids
(``tests/test_formats_nist.py`` checks every ``@id`` is an NCName), and the central tally's pages
reach every province by its name, spaces and all (``Ош шаары``), over real HTTP."""
from __future__ import annotations

import re
from urllib.parse import unquote

import httpx

from sim.national.generator import national_election
from sim.results.results_feed import synthetic_signed
from tests.central_kit import published, running_service, served_for

SEED = 23


def test_every_province_page_and_twin_is_reached_by_its_link(tmp_path):
    election = national_election("kyrgyzstan-2017-national").election
    first = {}
    for sid, station in election.stations.items():  # one station in every province reports
        first.setdefault(election.districts[station.district].province, sid)
    with running_service(served_for(election, SEED), tmp_path) as (url, _):
        for sid in first.values():
            assert httpx.post(url + "/api/results", json=synthetic_signed(election, SEED, sid)).status_code == 201
        nat = published(url, lambda d: d["stations_reporting"] == len(first))
        links = re.findall(r"href='(provinces/[^']+)\.html'", httpx.get(url + "/index.html").text)
        assert sorted(unquote(link.split("/", 1)[1]) for link in links) == sorted(p["name"] for p in nat["provinces"])
        assert any(" " in unquote(link) for link in links) and all(link.isascii() for link in links)
        for link in links:
            page, twin = httpx.get(f"{url}/{link}.html"), httpx.get(f"{url}/{link}.json")
            name = unquote(link.split("/", 1)[1])
            assert page.status_code == 200 and name in page.text
            assert twin.status_code == 200 and twin.json()["name"] == name and twin.json()["stations_reporting"] == 1
