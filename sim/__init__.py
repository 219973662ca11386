"""The simulator: peripheral twins, synthetic voters and ballots, station days, benchmarks.

One folder per QA path: ``paper/`` (marks, logical and image ballots, scan distortions, tape
photos), ``day/`` (a station's day: voters, logical and full fidelity, in-memory twins, power
cuts), ``unit/`` (the simulated unit on twins, its world panel, simulated PINs), ``twins/``
(peripherals speaking the real bytes), ``national/`` (whole elections on a pool or Dask),
``accuracy/`` (accuracy campaigns), ``results/`` (packages and uploads to a central tally),
``audit/`` (RLA drills), ``bench/`` (``python -m sim.bench``).

``ELECTIONS`` is the folder of the simulator's test elections (``dense-34``), registered in the
``ballotbox.elections`` entry-point group so ``--election NAME`` finds them after the device's
bundled ones.
"""
from pathlib import Path

ELECTIONS = Path(__file__).resolve().parent / "elections"
