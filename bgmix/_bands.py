"""Running a band kernel on several threads.

The update kernels (:mod:`bgmix.kernels.update`) are serial Numba functions
that release the GIL and take ``(first_band, band_step)``: they process the
bands ``first_band, first_band + band_step, ...`` of a frame. This module
calls one on ``n`` threads, the calling thread included, each with its own
``first_band``, and waits for all of them.

Why not Numba's ``parallel=True``: a parallel kernel's compile optimises the
row code once more inside the parallel wrapper, which made a cold first
``apply`` take 14-16 s instead of 9-10 s (``scripts/bench.py`` measures it);
and threads of our own are safe to call from any user thread, with no
threading layer to pick. The cost is one hand-off per frame and thread
(tens of microseconds), which ``scripts/bench.py`` includes.
"""

from __future__ import annotations

import os
import queue
import threading
from typing import Any, Callable

import numba

_lock = threading.Lock()
_jobs: queue.SimpleQueue = queue.SimpleQueue()
_n_workers = 0


def resolve_threads(n_threads: int | None) -> int:
    """``n_threads``, or ``numba.get_num_threads()`` (read at each call) when None.

    Examples
    --------
    >>> resolve_threads(3)
    3
    >>> resolve_threads(None) == numba.get_num_threads()
    True
    """
    return numba.get_num_threads() if n_threads is None else int(n_threads)


def _serve(jobs: queue.SimpleQueue) -> None:
    while True:
        kernel, args, done = jobs.get()
        try:
            kernel(*args)
        except BaseException as exc:  # noqa: BLE001  (handed to the caller, raised there)
            done.put(exc)
        else:
            done.put(None)


def _ensure_workers(n: int) -> None:
    """At least ``n`` band threads, started once and kept (they wait on a queue).

    A C ``SimpleQueue`` per hand-off instead of a ``ThreadPoolExecutor``'s
    futures: the pool's Python-level bookkeeping cost about 30 us a frame at
    2 threads, a tenth of a small frame's kernel.
    """
    global _n_workers
    with _lock:
        while _n_workers < n:
            threading.Thread(target=_serve, args=(_jobs,), daemon=True,
                             name=f"bgmix-band-{_n_workers + 1}").start()
            _n_workers += 1


def _after_fork_in_child() -> None:
    # The parent's band threads do not exist in a forked child.
    global _jobs, _n_workers, _lock
    _lock = threading.Lock()
    _jobs = queue.SimpleQueue()
    _n_workers = 0


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork_in_child)


def run_bands(kernel: Callable[..., Any], args: tuple, n_threads: int) -> None:
    """Call ``kernel(*args, i, n_threads)`` for ``i`` in ``range(n_threads)``, concurrently.

    The calling thread runs ``i = 0``; an exception from any part is raised
    here once every part has finished (the frame's outputs are then not
    complete).

    Examples
    --------
    >>> import numpy as np
    >>> seen = []
    >>> run_bands(lambda out, first, step: out.append((first, step)), (seen,), 3)
    >>> sorted(seen)
    [(0, 3), (1, 3), (2, 3)]
    """
    if n_threads <= 1:
        kernel(*args, 0, 1)
        return
    _ensure_workers(n_threads - 1)
    done: queue.SimpleQueue = queue.SimpleQueue()
    for i in range(1, n_threads):
        _jobs.put((kernel, (*args, i, n_threads), done))
    error: BaseException | None = None
    try:
        kernel(*args, 0, n_threads)
    except BaseException as exc:  # noqa: BLE001  (re-raised below, after the others)
        error = exc
    for _ in range(1, n_threads):
        exc = done.get()
        if exc is not None and error is None:
            error = exc
    if error is not None:
        raise error


class numba_threads:
    """Run a parallel kernel with ``n`` Numba threads, restoring the caller's count.

    Every call of a ``parallel=True`` kernel goes through this context manager.
    Numba's thread count is per calling thread (``set_num_threads`` in one
    thread leaves the others' counts alone), so several threads may each drive
    their own model. Whether their kernels may also *run* at the same time
    depends on Numba's threading layer, which Numba picks on the first
    parallel call in the priority order ``tbb``, ``omp``, ``workqueue``
    (``NUMBA_THREADING_LAYER`` overrides it): ``tbb`` and ``omp`` (GNU
    OpenMP, from the system's ``libgomp``) accept concurrent launches from
    several threads; ``workqueue``, the fallback where neither loads (e.g. a
    slim container without ``libgomp1``), aborts the whole process when two
    threads launch at once. Under ``workqueue`` the kernels are therefore
    serialised by one process-wide lock: threads take turns, each kernel
    still using all its threads. bgmix does not force a layer: requiring
    ``tbb``/``omp`` would make it fail where they are missing.
    """

    # Re-entrant, so code that nests numba_threads blocks on one thread cannot deadlock.
    _workqueue_lock = threading.RLock()

    def __init__(self, n: int | None) -> None:
        self.n = n
        self.previous = 0
        self.locked = False

    def __enter__(self) -> None:
        # get_num_threads() also starts Numba's threading layer, so the layer
        # is known from here on.
        self.previous = numba.get_num_threads()
        if numba.threading_layer() == "workqueue":
            self._workqueue_lock.acquire()
            self.locked = True
        if self.n is not None and self.previous != self.n:
            numba.set_num_threads(self.n)

    def __exit__(self, *exc: object) -> None:
        if self.n is not None and self.previous != self.n:
            numba.set_num_threads(self.previous)
        if self.locked:
            self.locked = False
            self._workqueue_lock.release()
