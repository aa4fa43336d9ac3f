"""Compilation settings shared by every kernel.

This is the one place that decides Numba's floating-point flags. The kernels
are bound by memory traffic and per-pixel branches, not by arithmetic, so the
fast-math flags buy little; they would, however, let LLVM fuse multiply-adds
and reassociate sums, which changes the last bit of a distance and so, now and
then, flips a pixel whose distance sits exactly on a threshold. Exact
agreement with the reference implementation and with OpenCV is worth more, so
fast math stays off. ``nnan``/``ninf`` must never be enabled: the model relies
on comparisons with ``inf`` (no background component) being honoured.
"""

from __future__ import annotations

import hashlib
import os
import pickle

from numba import njit
from numba.core.caching import FunctionCache
from numba.core.dispatcher import Dispatcher

# Numba's omp layer (GNU OpenMP, where TBB is absent) keeps idle workers spinning
# after each parallel kernel, taking the core that bgmix's decoder and writer threads
# need between frames (scripts/bench_e2e.py, road clip, 2 cores: 0.38x -> 0.92x of the
# OpenCV loop). libgomp reads this once, when Numba loads it at the first parallel
# call; a value the user set wins.
os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

FASTMATH: bool | set[str] = False
"""Value passed as ``fastmath=`` to every ``numba.njit`` in ``bgmix.kernels``."""

JIT_OPTIONS: dict[str, object] = {
    "cache": True, "fastmath": FASTMATH, "nogil": True, "error_model": "numpy",
}
"""Options of the serial helpers; parallel kernels add ``parallel=True``."""


def _closure_fingerprint(func) -> tuple:
    """What a compiled closure depends on, identically in every process.

    Numba's cache keys a closure on the pickle of its cells; a cell holding
    another compiled function pickles with a per-process id, so a kernel
    built by a factory (:mod:`bgmix.kernels.update`) missed the cache in
    every new process and was compiled again (10 s per run). Compiled
    functions are described here by their code and, recursively, their own
    cells; every other cell (the factory's ints and bools) by its pickle.
    """
    parts: list[object] = [func.__code__.co_code, func.__code__.co_consts.__repr__()]
    for cell in func.__closure__ or ():
        value = cell.cell_contents
        if isinstance(value, Dispatcher):
            parts.append((value.py_func.__qualname__, _closure_fingerprint(value.py_func)))
        else:
            parts.append(pickle.dumps(value))
    return tuple(parts)


class _ClosureCache(FunctionCache):
    def _index_key(self, sig, codegen):
        digest = hashlib.sha256(repr(_closure_fingerprint(self._py_func)).encode()).hexdigest()
        return (sig, codegen.magic_tuple(), (digest,))


def closure_jit(signature=None, *, parallel: bool = False, inline: str = "never"):
    """``numba.njit`` with :data:`JIT_OPTIONS` for a function built by a kernel factory.

    Cached on disk like the module-level kernels (``cache=True``), keyed so
    that a fresh process finds it (see :func:`_closure_fingerprint`).
    """
    options = {**JIT_OPTIONS, "cache": False}

    def decorate(func):
        dispatcher = njit(parallel=parallel, inline=inline, **options)(func)
        dispatcher._cache = _ClosureCache(func)
        if signature is not None:
            # One compiled version for every call: without it, each literal
            # field offset passed in would compile a specialisation.
            dispatcher.compile(signature)
            dispatcher.disable_compile()
        return dispatcher

    return decorate
