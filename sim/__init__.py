"""The simulator: peripheral twins, synthetic voters and ballots, station days, benchmarks.

One folder per QA path: ``paper/`` (marks, logical and image ballots, scan distortions, tape
photos), ``day/`` (a station's day: voters, logical and full fidelity, in-memory twins, power
cuts), ``unit/`` (the simulated unit on twins, its world panel, simulated PINs), ``twins/``
(peripherals speaking the real bytes), ``national/`` (whole elections on a pool or Dask),
``accuracy/`` (accuracy campaigns), ``results/`` (packages and uploads to a central tally),
``audit/`` (RLA drills), ``bench/`` (``python -m sim.bench``).

``ELECTIONS`` is what the simulator adds to the one lookup of ``--election NAME``
(``device/election/names.py``), through the ``ballotbox.elections`` entry-point group, after the
device's bundled elections: the folder of its test elections (``dense-34``) and its national
specs (``cambodia-2022-national``: a spec generates an election).
"""
from pathlib import Path

from sim.national.spec_source import NATIONAL_SPECS

ELECTIONS = (Path(__file__).resolve().parent / "elections", NATIONAL_SPECS)
