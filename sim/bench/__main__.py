"""``make bench``: run every benchmark module and print its figures (medians, p95, ratios).

Each module in ``BENCHMARKS`` has ``main(quick: bool) -> None`` that prints its own section.
``python -m sim.bench [--quick] [NAME ...]``.
"""
from __future__ import annotations

import argparse
import importlib

BENCHMARKS = ["controller", "interpreter", "peripherals", "store", "tape", "central", "national", "rla", "fingerprint"]


def main() -> int:
    parser = argparse.ArgumentParser(prog="python -m sim.bench", description=__doc__)
    parser.add_argument("names", nargs="*", choices=[[]] + BENCHMARKS, default=[],
                        help="benchmarks to run (default: all)")
    parser.add_argument("--quick", action="store_true", help="fewer repetitions")
    args = parser.parse_args()
    for name in args.names or BENCHMARKS:
        try:
            module = importlib.import_module(f"sim.bench.{name}")
        except ModuleNotFoundError as exc:
            if exc.name == f"sim.bench.{name}":
                print(f"## {name}: not built yet\n")
                continue
            raise
        module.main(quick=args.quick)
        print()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
