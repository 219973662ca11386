"""The simulator: peripheral twins, synthetic voters and ballots, station days, benchmarks.

``ELECTIONS`` is the folder of the simulator's test elections (``dense-34``), registered in the
``ballotbox.elections`` entry-point group so ``--election NAME`` finds them after the device's
bundled ones.
"""
from pathlib import Path

ELECTIONS = Path(__file__).resolve().parent / "elections"
