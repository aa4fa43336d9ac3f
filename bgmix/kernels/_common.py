"""Per-pixel helpers shared by the mixture kernels.

State is component-planar: component ``k`` of pixel ``(y, x)`` is
``weights[k, y, x]``, ``variances[k, y, x]`` and ``means[k, c, y, x]``. The
helpers work on one pixel or one row and are inlined into the callers.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit

from bgmix.kernels._config import JIT_OPTIONS

FLT_EPSILON = np.float32(1.1920929e-07)


@njit(**JIT_OPTIONS)
def load_row(frame, y, scale, row):
    """De-interleave row ``y`` of an (H, W, C) frame into ``row`` (C, W), as float32.

    Reading the frame once per row into channel planes lets the per-pixel
    sweeps load each channel with unit stride, which the compiler vectorises.
    """
    for c in range(frame.shape[2]):
        for x in range(frame.shape[1]):
            row[c, x] = np.float32(frame[y, x, c]) * scale


@njit(inline="always", **JIT_OPTIONS)
def swap_components(weights, variances, means, i, j, y, x):
    """Exchange components ``i`` and ``j`` of pixel ``(y, x)``.

    ``variances`` holds one value per component (``variances[k, y, x]``).
    """
    w = weights[i, y, x]
    weights[i, y, x] = weights[j, y, x]
    weights[j, y, x] = w
    v = variances[i, y, x]
    variances[i, y, x] = variances[j, y, x]
    variances[j, y, x] = v
    for c in range(means.shape[1]):
        m = means[i, c, y, x]
        means[i, c, y, x] = means[j, c, y, x]
        means[j, c, y, x] = m


@njit(inline="always", **JIT_OPTIONS)
def is_shadow_spherical(row, y, x, weights, variances, means, n_modes,
                        var_threshold, background_ratio, tau):
    """OpenCV MOG2's shadow test against the pixel's background components.

    A pixel is a shadow of background component ``k`` when its brightness
    ratio ``b = <x, mu_k> / <mu_k, mu_k>`` lies in ``[tau, 1]`` and its colour
    distortion ``|b mu_k - x|^2`` is below ``var_threshold * var_k * b^2``
    (Prati et al., PAMI 2003). Components are visited in weight order until
    their cumulative weight exceeds ``background_ratio``.
    """
    n_channels = means.shape[1]
    total = np.float32(0.0)
    for k in range(n_modes):
        numerator = np.float32(0.0)
        denominator = np.float32(0.0)
        for c in range(n_channels):
            mu = means[k, c, y, x]
            numerator += row[c, x] * mu
            denominator += mu * mu
        if denominator == 0:
            return False
        if numerator <= denominator and numerator >= tau * denominator:
            b = numerator / denominator
            dist2 = np.float32(0.0)
            for c in range(n_channels):
                d = b * means[k, c, y, x] - row[c, x]
                dist2 += d * d
            if dist2 < var_threshold * variances[k, y, x] * b * b:
                return True
        total += weights[k, y, x]
        if total > background_ratio:
            return False
    return False


@njit(inline="always", **JIT_OPTIONS)
def foreground_probability(min_distance2, var_threshold, is_background):
    """Posterior probability that a pixel is foreground.

    ``p = 1 / (1 + exp(-(D2 - var_threshold) / 2))`` where ``D2`` is the
    smallest squared Mahalanobis distance to a background component
    (``inf`` when the pixel has none, giving ``p = 1``). This is the
    posterior of "foreground" when the background likelihood is the Gaussian
    ``exp(-D2 / 2)`` and the foreground likelihood is a flat density whose
    level puts the decision boundary at ``D2 = var_threshold``: ``p = 0.5``
    there. The hard decision breaks ties from rounding, so ``p >= 0.5``
    exactly when the pixel is not background.
    """
    if min_distance2 == np.inf:
        p = np.float32(1.0)
    else:
        # In float64 whatever the argument types, so every caller rounds alike.
        log_odds = 0.5 * (np.float64(min_distance2) - np.float64(var_threshold))
        p = np.float32(1.0 / (1.0 + math.exp(-log_odds)))
    if is_background:
        if p >= np.float32(0.5):
            p = np.float32(0.49999997)
    elif p < np.float32(0.5):
        p = np.float32(0.5)
    return p
