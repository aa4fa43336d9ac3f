"""Compilation settings shared by every kernel.

This is the one place that decides Numba's floating-point flags. The kernels
are bound by memory traffic and per-pixel branches, not by arithmetic, so the
fast-math flags buy little; they would, however, let LLVM fuse multiply-adds
and reassociate sums, which changes the last bit of a distance and so, now and
then, flips a pixel whose distance sits exactly on a threshold. Exact
agreement with the reference implementation and with OpenCV is worth more, so
fast math stays off. ``nnan``/``ninf`` must never be enabled: the model relies
on comparisons with ``inf`` (no background component) being honoured.

It is also the one place that compiles: module-level kernels through
:func:`kernel_jit`, factory-built ones through :func:`closure_jit`, both
cached on disk under a key that includes a digest of the whole kernels
package (:func:`kernels_digest`), so that a changed helper in one file
never leaves a stale compiled caller in another.
"""

from __future__ import annotations

import functools
import hashlib
import os
import pickle
from pathlib import Path

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


KERNELS_DIR = Path(__file__).resolve().parent


def kernels_digest(directory: Path | None = None) -> str:
    """SHA-256 of every ``.py`` file of ``bgmix/kernels`` (names and bytes).

    Part of every kernel's cache key. Numba invalidates a cached function
    when *its own* file changes, not when a helper it calls from another
    file does: after an update that changed only ``_common.py`` (a
    ``git pull`` on an editable install), the update kernel would load its
    old machine code and compute the old arithmetic, silently. With the
    package's digest in the key, any change to any kernel file compiles
    every kernel again. Read once per process (``directory`` None).
    """
    return _package_digest() if directory is None else _digest(directory)


@functools.lru_cache(maxsize=1)
def _package_digest() -> str:
    return _digest(KERNELS_DIR)


def _digest(directory: Path) -> str:
    hasher = hashlib.sha256()
    for path in sorted(directory.glob("*.py")):
        hasher.update(path.name.encode())
        hasher.update(path.read_bytes())
    return hasher.hexdigest()


class _KernelCache(FunctionCache):
    """Numba's cache of a module-level kernel, keyed also on :func:`kernels_digest`."""

    def _index_key(self, sig, codegen):
        key = super()._index_key(sig, codegen)
        return (*key[:-1], (*key[-1], kernels_digest()))


def kernel_jit(**options):
    """``numba.njit`` with :data:`JIT_OPTIONS` (and ``options``, e.g.
    ``parallel=True``, ``inline="always"``), cached on disk keyed on the
    whole kernels package (:func:`kernels_digest`). Every module-level
    function of ``bgmix.kernels`` is compiled through it.
    """
    def decorate(func):
        dispatcher = njit(**JIT_OPTIONS, **options)(func)
        dispatcher._cache = _KernelCache(func)
        return dispatcher

    return decorate


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
        return (sig, codegen.magic_tuple(), (digest, kernels_digest()))


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
