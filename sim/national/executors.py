"""Where the batches of stations run: this process, a local process pool, or a Dask cluster.

Every executor has ``map(tasks, work=run_batch)``: it runs ``work`` (by default
``sim.national.station_run.run_batch``; the accuracy campaign passes its own batch of ballots,
``sim.accuracy.campaign.run_campaign_batch``) on each task (a batch of stations: consecutive stations
cut at district boundaries, ``runner.MAX_BATCH`` at most) and yields each batch's results as it completes, in whatever order; ``close(interrupted)`` stops the workers (pending work is
cancelled; after Ctrl-C the batches in flight are abandoned).
Batches, not single stations, are the unit of work: Dask costs ~2–4 ms per task here
(``shared/facts/engineering.md``).

- ``InlineExecutor``: in this process (``--workers 1``).
- ``PoolExecutor``: ``concurrent.futures.ProcessPoolExecutor`` with the ``forkserver`` start
  method (never ``fork``: OpenCV's thread pool deadlocks in forked children, and image-fidelity
  stations use OpenCV); workers ignore Ctrl-C, the parent handles it.
- ``DaskExecutor``: ``--scheduler tcp://HOST:8786`` connects to a running ``distributed``
  scheduler (its workers need this package installed, same version: each rebuilds the
  election from the spec and the run checks the election hash); ``--dask-local N`` starts a
  ``LocalCluster(N, threads_per_worker=1, processes=True, dashboard_address=None)``.
"""
from __future__ import annotations

import multiprocessing
import signal
from contextlib import contextmanager
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from typing import Any, Callable, Iterator

from sim.national.station_run import run_batch

Work = Callable[[Any], Any]  # a module-level function (pickled by reference to the workers)


def _warm_worker(election: str) -> None:
    from sim.national.station_run import worker_election

    worker_election(election)


class InlineExecutor:
    name = "inline"
    workers = 1

    def map(self, tasks: list, work: Work = run_batch) -> Iterator[Any]:
        for task in tasks:
            yield work(task)

    def close(self, interrupted: bool = False) -> None:
        pass


def _interrupt(signum, frame) -> None:
    raise KeyboardInterrupt


@contextmanager
def stop_means_interrupt() -> Iterator[None]:
    """While a command runs: a stop (SIGTERM, e.g. ``kill PID``) interrupts it as Ctrl-C does
    (what was done is kept and reported), and Ctrl-C works even when the command was started
    in the background by a shell that ignores it (``nohup ... &``). The handlers are restored
    afterwards."""
    old = signal.signal(signal.SIGTERM, _interrupt), signal.signal(signal.SIGINT, signal.default_int_handler)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, old[0])
        signal.signal(signal.SIGINT, old[1])


def _ignore_sigint() -> None:
    signal.signal(signal.SIGINT, signal.SIG_IGN)


class PoolExecutor:
    name = "process-pool"

    def __init__(self, workers: int):
        self.workers = workers
        self.pool = ProcessPoolExecutor(max_workers=workers, initializer=_ignore_sigint,
                                        mp_context=multiprocessing.get_context("forkserver"))

    def map(self, tasks: list, work: Work = run_batch) -> Iterator[Any]:
        pending = {self.pool.submit(work, t) for t in tasks}
        while pending:
            done, pending = wait(pending, return_when=FIRST_COMPLETED)
            for f in done:
                yield f.result()

    def close(self, interrupted: bool = False) -> None:
        if interrupted:  # Ctrl-C: do not wait for the batches in flight, stop our workers now
            for process in list(getattr(self.pool, "_processes", {}).values()):
                process.terminate()
        self.pool.shutdown(wait=True, cancel_futures=True)


class DaskExecutor:
    name = "dask"

    def __init__(self, scheduler: str | None = None, local_workers: int | None = None):
        from dask.distributed import Client, LocalCluster

        self.cluster = None
        if scheduler is None:
            self.cluster = LocalCluster(n_workers=local_workers, threads_per_worker=1, processes=True,
                                        dashboard_address=None)
            self.client = Client(self.cluster)
        else:
            self.client = Client(scheduler, timeout="10s")
        self.workers = len(self.client.scheduler_info().get("workers", {})) or (local_workers or 0)

    def warm(self, election: str) -> None:
        """Import the firmware and generate ``election`` on every worker now (benchmarks time
        the run, not the workers' start)."""
        self.client.run(_warm_worker, election)

    def map(self, tasks: list, work: Work = run_batch) -> Iterator[Any]:
        from dask.distributed import as_completed

        futures = self.client.map(work, tasks, pure=False)
        self._futures = futures
        for batch in as_completed(futures).batches():
            for f in batch:
                yield f.result()

    def close(self, interrupted: bool = False) -> None:
        futures = getattr(self, "_futures", None)
        if futures:
            self.client.cancel(futures)
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_executor(workers: int | None = None, scheduler: str | None = None, dask_local: int | None = None):
    if scheduler is not None:
        return DaskExecutor(scheduler=scheduler)
    if dask_local is not None:
        return DaskExecutor(local_workers=dask_local)
    if workers is None:
        workers = max(1, len(__import__("os").sched_getaffinity(0)))
    return InlineExecutor() if workers == 1 else PoolExecutor(workers)
