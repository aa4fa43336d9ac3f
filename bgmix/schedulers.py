"""Where the videos of a batch run: local worker processes, or a Dask cluster.

A scheduler runs ``job(*args)`` for each task ``(index, args)`` and hands
each result to ``record(index, row)``, or ``failed(index, exc)``'s row when
the worker itself failed (killed, out of memory). It returns the signal
that stopped it, or None.

Local workers are ``spawn``-ed processes (Numba and ``fork`` do not mix).
On SIGINT or SIGTERM (:mod:`bgmix.signals`) the videos in progress finish
their current frame, close their outputs and return "interrupted"; queued
ones never start (:func:`worker_should_stop` is what a job checks). Dask
tasks cannot be asked to stop: they are cancelled.
"""

from __future__ import annotations

import multiprocessing
import signal
from collections.abc import Callable, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from typing import Any

from bgmix.errors import StopRequested
from bgmix.signals import handle_signals

__all__ = ["SCHEDULERS", "run_dask", "run_pool", "worker_should_stop"]

Task = tuple[int, tuple[Any, ...]]
Record = Callable[[int, dict[str, Any]], None]
Failed = Callable[[int, BaseException], dict[str, Any]]

_worker_stop: Any = None  # set in each worker process by _init_worker
_worker_signal = {"signum": None}


def _init_worker(stop_event: Any) -> None:
    """In each pool process: remember the pool's stop event; a signal sent to
    the worker itself (Ctrl-C reaches the whole process group) stops it too."""
    global _worker_stop
    _worker_stop = stop_event

    def request_stop(signum: int, frame: Any) -> None:
        _worker_signal["signum"] = signum

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)


def worker_should_stop() -> bool:
    """In a worker: whether the batch was stopped (its job should finish now)."""
    if _worker_signal["signum"] is not None:
        return True
    return _worker_stop is not None and _worker_stop.is_set()


def run_pool(job: Callable[..., dict[str, Any]], tasks: Sequence[Task], jobs: int,
             record: Record, failed: Failed, dask_address: str | None = None) -> int | None:
    """Run the tasks on ``jobs`` spawned worker processes."""
    context = multiprocessing.get_context("spawn")
    stop_event = context.Event()
    signum: int | None = None
    executor = ProcessPoolExecutor(max_workers=min(jobs, len(tasks)), mp_context=context,
                                   initializer=_init_worker, initargs=(stop_event,))
    pending: dict[Future[dict[str, Any]], int] = {}

    def collect(finished: set[Future[dict[str, Any]]]) -> None:
        for future in finished:
            index = pending.pop(future)
            try:
                row = future.result()
            except BaseException as exc:  # a worker that died (killed, out of memory)
                row = failed(index, exc)
            record(index, row)

    with handle_signals() as signals:
        try:
            for index, args in tasks:
                pending[executor.submit(job, *args)] = index
            while pending:
                collect(wait(pending, return_when=FIRST_COMPLETED)[0])
        except StopRequested as stop:
            signum = stop.signum
        finally:
            if signals.signum is not None:
                signum = signals.signum
            if signum is not None:
                # Videos in progress finish their current frame, close their
                # outputs and return "interrupted"; queued ones never start.
                stop_event.set()
                for future in list(pending):
                    if future.cancel():
                        pending.pop(future)
                while pending:
                    collect(wait(pending, return_when=FIRST_COMPLETED)[0])
            executor.shutdown(wait=True, cancel_futures=True)
    return signum


def run_dask(job: Callable[..., dict[str, Any]], tasks: Sequence[Task], jobs: int,
             record: Record, failed: Failed, dask_address: str | None = None) -> int | None:
    """Run the tasks on a Dask cluster: ``dask_address``, or a local one of ``jobs`` workers."""
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise RuntimeError("--scheduler dask needs dask.distributed: pip install "
                           "'dask[distributed]'") from exc
    signum: int | None = None
    cluster = None
    with handle_signals() as signals:
        try:
            if dask_address is None:
                cluster = LocalCluster(n_workers=min(jobs, len(tasks)), threads_per_worker=1,
                                       processes=True, dashboard_address=None)
                client = Client(cluster)
            else:
                client = Client(dask_address)
            try:
                futures = {}
                for index, args in tasks:
                    futures[client.submit(job, *args, pure=False)] = index
                for future in as_completed(list(futures)):
                    index = futures[future]
                    try:
                        row = future.result()
                    except Exception as exc:
                        row = failed(index, exc)
                    record(index, row)
            except StopRequested as stop:
                # Dask tasks cannot be asked to stop: cancelled ones lose their
                # progress (no done.json), and run again next time.
                signum = stop.signum
                client.cancel(list(futures))
            finally:
                client.close()
        finally:
            if signals.signum is not None:
                signum = signals.signum
            if cluster is not None:
                cluster.close()
    return signum


SCHEDULERS = {"process": run_pool, "dask": run_dask}
"""Scheduler name -> function."""
