"""Write pytest's cache of the test modules' rewritten asserts once, before ``make test`` starts
its workers: ``python tests/assert_cache.py``.

pytest compiles each test module (``test_*.py``, ``conftest.py``) from an assert-rewritten syntax
tree, and keeps the result beside the module's bytecode (``__pycache__/*-pytest-X.Y.pyc``), but
only where Python may write bytecode. Where ``PYTHONDONTWRITEBYTECODE`` is set (this machine,
many CI images; ``make`` unsets it for its recipes) every xdist worker rewrote all ~130 test
modules again on each run: about 2.5 CPU-s per worker, 10 of the suite's CPU-seconds with four
workers. Where it may write them, the four workers start at once, and a module none has written
yet is rewritten by each that imports it meanwhile. This writes the same files,
with pytest's own rewriter and writer, in a process per core; pytest reads them as it reads
those it wrote itself (it checks each against its source's size and time, so an edited test is
rewritten as before). A file already up to date is left alone. If this pytest has no such
rewriter (its internals moved), nothing is written and the workers rewrite as they did.
"""
from __future__ import annotations

import sys
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path
from types import SimpleNamespace

TESTS = Path(__file__).resolve().parent


def _rewrite(source: str) -> bool:
    from _pytest.assertion.rewrite import PYC_TAIL, _read_pyc, _rewrite_test, _write_pyc, get_cache_dir

    path = Path(source)
    pyc = get_cache_dir(path) / (path.name[:-3] + PYC_TAIL)
    if _read_pyc(path, pyc) is not None:
        return False
    pyc.parent.mkdir(exist_ok=True)
    stat, code = _rewrite_test(path, None)  # no config: pytest's defaults (no assertion-pass hook)
    return _write_pyc(SimpleNamespace(trace=lambda _message: None), code, stat, pyc)


def main() -> int:
    try:
        import _pytest.assertion.rewrite as rewrite
        for name in ("PYC_TAIL", "_read_pyc", "_rewrite_test", "_write_pyc", "get_cache_dir"):
            getattr(rewrite, name)
    except (ImportError, AttributeError) as exc:
        print(f"assert_cache: not written ({exc}); pytest rewrites the test modules itself", file=sys.stderr)
        return 0
    sources = sorted(str(p) for p in [*TESTS.rglob("test_*.py"), *TESTS.rglob("conftest.py")])
    with ProcessPoolExecutor() as pool:
        list(pool.map(_rewrite, sources, chunksize=8))
    return 0


if __name__ == "__main__":
    sys.exit(main())
