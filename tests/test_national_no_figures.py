"""``sim national --no-figures``: the same run's files, byte for byte, and a QA page that says
where each figure would be and where its numbers are, with no ``figures/`` folder."""
from __future__ import annotations

import re

from device.cli.main import main

RUN = ["sim", "national", "--election", "kyrgyzstan-2017-national", "--seed", "5", "--stations", "2",
       "--workers", "1"]
NOT_DRAWN = "<i>(figure not drawn: --no-figures; its numbers are in national.json)</i>"


def _without_times(page: str) -> str:
    return re.sub(r"[\d.]+ s on ", "T s on ", page)  # the run's wall time


def test_no_figures_writes_the_same_files_and_says_where_the_figures_were(tmp_path, capsys):
    drawn, plain = tmp_path / "drawn", tmp_path / "plain"
    assert main([*RUN, "--out", str(drawn)]) == 0
    assert main([*RUN, "--out", str(plain), "--no-figures"]) == 0
    capsys.readouterr()
    for name in ("national.json", "nist/election_results.json", "stations.jsonl"):
        assert (plain / name).read_bytes() == (drawn / name).read_bytes(), name
    assert not (plain / "figures").exists()
    assert len(list((drawn / "figures").glob("*.png"))) == 4
    page, drawn_page = (plain / "report.html").read_text(), (drawn / "report.html").read_text()
    assert page.count(NOT_DRAWN) == 4 and "<img" not in page
    # the pages differ only where the figures are
    assert _without_times(re.sub(r'<img src="figures/[a-z_]+\.png" alt="[^"]*">', NOT_DRAWN, drawn_page)) == \
        _without_times(page)
