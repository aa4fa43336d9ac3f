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

import os

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
