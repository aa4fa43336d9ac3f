"""The per-covariance-type hooks of the update template.

Every covariance type runs the same per-pixel algorithm
(:mod:`bgmix.kernels.update`); what differs is how a sample is measured
against a component, how the component's covariance learns the sample, how
a new component's covariance starts, and the metric of the shadow test.
:func:`hooks` gives those four functions for a metric
(:data:`~bgmix.kernels.covariance.METRIC_SPHERICAL`, ``METRIC_DIAG`` or
``METRIC_FULL``); the template picks them when it is built, so a model
compiles only its own. Each takes ``three`` (3 channels, else 1) as a
constant of the caller and a component's covariance as six scalars
``c0..c5`` (spherical: ``c0`` the total variance; diag: one variance per
channel; full: the planes xx, xy, xz, yy, yz, zz); unused ones are ignored.
They are small and LLVM inlines them, so the branches on ``three`` vanish.

Adding a covariance type means a metric here (four functions and a line in
:func:`hooks`) and its declaration in :mod:`bgmix.kernels.covariance`.

The arithmetic is that of the reference (``tests/reference.py``) operation
for operation, in float32: the spherical hooks are OpenCV MOG2's.
"""

from __future__ import annotations

from typing import Callable, NamedTuple

import numpy as np

from bgmix.kernels._common import (
    clamp_covariance3,
    clamp_variance,
    mahalanobis3,
    update_covariance3,
    update_covariance3_unbound,
)
from bgmix.kernels._config import kernel_jit

SPHERICAL = 0
DIAG = 1
FULL = 2


class MetricHooks(NamedTuple):
    """The compiled hooks of one metric (see the module's docstring)."""

    distance: Callable
    """``(three, d0, d1, d2, c0..c5) -> (D, s)``: the sample is within ``T``
    of the component when ``D < T * s`` (``d = mu - x``)."""
    scaled_distance: Callable
    """``(D, s) -> D / s``: the squared Mahalanobis distance (foreground probability)."""
    learn: Callable
    """``(three, d0, d1, d2, D, c0..c5, gain, var_min, var_max, max_corr) -> c0..c5``:
    the covariance after learning the sample with ``gain = alpha / weight``,
    ``S + gain (d d^T - S)``, clamped."""
    initial: Callable
    """``(var_init) -> c0..c5``: a new component's covariance, ``var_init * I``."""
    learn_unbound: Callable
    """:attr:`learn`'s arguments ``-> (c0..c5, inside)``: where ``inside``,
    :attr:`learn`'s result; elsewhere :attr:`bound` of the ``c0..c5`` returned
    is. Cheap where the bounds rarely bind (the full covariance's correlations)."""
    bound: Callable
    """``(c0..c5, var_min, var_max, max_corr) -> c0..c5``: the bounds :attr:`learn` ends with."""


def n_planes(metric: int, n_channels: int) -> int:
    """Covariance scalars a component (or a tied pixel) holds under ``metric``."""
    return {SPHERICAL: 1, DIAG: n_channels, FULL: 6}[metric]


def hooks(metric: int) -> MetricHooks:
    """The hooks of ``metric``.

    Examples
    --------
    >>> import numpy as np
    >>> h = hooks(SPHERICAL)
    >>> f = np.float32
    >>> h.distance(True, f(1), f(2), f(2), f(4), f(0), f(0), f(0), f(0), f(0))
    (9.0, 4.0)
    """
    return {
        SPHERICAL: MetricHooks(spherical_distance, ratio, spherical_learn, isotropic_initial,
                               spherical_learn_unbound, no_bound),
        DIAG: MetricHooks(diag_distance, identity, diag_learn, isotropic_initial,
                          diag_learn_unbound, no_bound),
        FULL: MetricHooks(full_distance, identity, full_learn, full_initial,
                          full_learn_unbound, full_bound),
    }[metric]


@kernel_jit()
def spherical_distance(three, d0, d1, d2, c0, c1, c2, c3, c4, c5):
    """``D = |d|^2`` and ``s`` the variance: OpenCV's ``dist2 < Tb * var``."""
    dist2 = d0 * d0
    if three:
        dist2 += d1 * d1
        dist2 += d2 * d2
    return dist2, c0


@kernel_jit()
def diag_distance(three, d0, d1, d2, c0, c1, c2, c3, c4, c5):
    """``D`` the squared Mahalanobis distance, ``s = 1`` (``T * 1`` is ``T`` exactly)."""
    dist2 = d0 * d0 / c0
    if three:
        dist2 += d1 * d1 / c1
        dist2 += d2 * d2 / c2
    return dist2, np.float32(1.0)


@kernel_jit(inline="always")
def full_distance(three, d0, d1, d2, c0, c1, c2, c3, c4, c5):
    """``D`` the squared Mahalanobis distance under the full covariance, ``s = 1``."""
    return mahalanobis3(d0, d1, d2, c0, c1, c2, c3, c4, c5), np.float32(1.0)


@kernel_jit()
def ratio(dist2, scale):
    return dist2 / scale


@kernel_jit()
def identity(dist2, scale):
    return dist2


@kernel_jit()
def spherical_learn(three, d0, d1, d2, dist2, c0, c1, c2, c3, c4, c5, gain,
                    var_min, var_max, max_corr):
    """``var + gain (|d|^2 - var)``, clamped: OpenCV's."""
    return (clamp_variance(c0 + gain * (dist2 - c0), var_min, var_max),
            c1, c2, c3, c4, c5)


@kernel_jit()
def diag_learn(three, d0, d1, d2, dist2, c0, c1, c2, c3, c4, c5, gain,
               var_min, var_max, max_corr):
    n0 = clamp_variance(c0 + gain * (d0 * d0 - c0), var_min, var_max)
    n1 = c1
    n2 = c2
    if three:
        n1 = clamp_variance(c1 + gain * (d1 * d1 - c1), var_min, var_max)
        n2 = clamp_variance(c2 + gain * (d2 * d2 - c2), var_min, var_max)
    return n0, n1, n2, c3, c4, c5


@kernel_jit(inline="always")
def full_learn(three, d0, d1, d2, dist2, c0, c1, c2, c3, c4, c5, gain,
               var_min, var_max, max_corr):
    """Variances into ``[var_min, var_max]``, correlations within ``max_corr``."""
    return update_covariance3(c0, c1, c2, c3, c4, c5, d0, d1, d2, gain,
                              var_min, var_max, max_corr)


@kernel_jit(inline="always")
def full_learn_unbound(three, d0, d1, d2, dist2, c0, c1, c2, c3, c4, c5, gain,
                       var_min, var_max, max_corr):
    """:func:`full_learn` but the correlation clamp, and whether it would bind
    (:func:`~bgmix.kernels._common.update_covariance3_unbound`)."""
    return update_covariance3_unbound(c0, c1, c2, c3, c4, c5, d0, d1, d2, gain,
                                      var_min, var_max, max_corr)


@kernel_jit(inline="always")
def full_bound(c0, c1, c2, c3, c4, c5, var_min, var_max, max_corr):
    return clamp_covariance3(c0, c1, c2, c3, c4, c5, var_min, var_max, max_corr)


@kernel_jit()
def spherical_learn_unbound(three, d0, d1, d2, dist2, c0, c1, c2, c3, c4, c5, gain,
                            var_min, var_max, max_corr):
    n0, n1, n2, n3, n4, n5 = spherical_learn(three, d0, d1, d2, dist2, c0, c1, c2, c3, c4, c5,
                                             gain, var_min, var_max, max_corr)
    return n0, n1, n2, n3, n4, n5, True


@kernel_jit()
def diag_learn_unbound(three, d0, d1, d2, dist2, c0, c1, c2, c3, c4, c5, gain,
                       var_min, var_max, max_corr):
    n0, n1, n2, n3, n4, n5 = diag_learn(three, d0, d1, d2, dist2, c0, c1, c2, c3, c4, c5,
                                        gain, var_min, var_max, max_corr)
    return n0, n1, n2, n3, n4, n5, True


@kernel_jit()
def no_bound(c0, c1, c2, c3, c4, c5, var_min, var_max, max_corr):
    return c0, c1, c2, c3, c4, c5


@kernel_jit()
def isotropic_initial(var_init):
    """Spherical and diag: every variance ``var_init``."""
    zero = np.float32(0.0)
    return var_init, var_init, var_init, zero, zero, zero


@kernel_jit()
def full_initial(var_init):
    """The planes xx, xy, xz, yy, yz, zz of ``var_init * I``."""
    zero = np.float32(0.0)
    return var_init, zero, zero, var_init, zero, var_init
