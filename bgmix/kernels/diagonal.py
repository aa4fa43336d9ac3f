"""One variance per channel per component ("diag").

State is component-planar as in :mod:`bgmix.kernels.spherical`, with one
variance plane per channel: component ``k`` of pixel ``(y, x)`` has weight
``weights[k, y, x]``, mean ``means[k, c, y, x]`` and variances
``variances[k, c, y, x]``.

The model is the spherical kernel's (Zivkovic's adaptive mixture, OpenCV
MOG2's operations: learning rate, Dirichlet pruning, renormalisation, sorting,
shadow test) with the distance replaced by the squared Mahalanobis distance
``D2 = sum_c d_c^2 / var_c`` (``d = mu - x``): a sample is background when
``D2 < var_threshold`` for a component among the heaviest that make up
``background_ratio``, and updates the first component with
``D2 < var_threshold_gen``, whose variances follow
``var_c <- var_c + k (d_c^2 - var_c)`` clamped to ``[var_min, var_max]``
(``k = alpha / weight``, ``d`` taken before the mean moves). A new component
has ``var_c = var_init``.

Note the scale of the thresholds: the spherical kernel (as OpenCV) divides the
*summed* squared distance by one variance that estimates that sum, so on
3-channel frames its ``D2`` averages about 1 for background samples, while
this ``D2`` (a chi-square with 3 degrees of freedom for Gaussian noise)
averages about 3. The same ``var_threshold`` is therefore stricter here.
On 1-channel frames both kernels compute the same model (``d^2 / var``); they
may differ only where a distance sits exactly on a threshold, because the
spherical kernel compares ``d^2 < T var`` and this one ``d^2 / var < T``.

As in the spherical kernel each row is processed in two steps: a branch-free
sweep that the compiler vectorises settles the common pixels
(:func:`~bgmix.kernels._common.build_settle`), and the general per-pixel update
runs for the rest. Both compute the same float32 operations in the same order.

The general update also serves the tied kernel on 1-channel frames (one
variance per pixel shared by its components): with ``tied`` the variance
array is ``(1, 1, H, W)`` and every component reads plane 0.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from bgmix.kernels._common import (
    add_component,
    build_settle,
    clamp_variance,
    foreground_probability,
    inverse_total,
    is_shadow_diag,
    swap_components_planar,
)
from bgmix.kernels._config import JIT_OPTIONS


SETTLE_GRAY = build_settle(1, full=False)
SETTLE_RGB = build_settle(3, full=False)


@njit(parallel=True, **JIT_OPTIONS)
def update_diag(frame, scale, weights, variances, means, n_modes, mask,
                probability, known_foreground, alpha, prune, var_threshold,
                background_ratio, var_threshold_gen, var_init, var_min,
                var_max, tau, detect_shadows, shadow_value,
                use_known_foreground, want_probability):
    """Classify one frame and update the "diag" mixture in place, in one pass.

    Arguments as :func:`bgmix.kernels.spherical.update_spherical`, except
    ``variances``: (K, C, H, W) float32, one variance per channel.
    """
    known_step = 1 if use_known_foreground else 0
    for y in prange(frame.shape[0]):
        distance2 = np.empty(frame.shape[1], np.float32)
        if frame.shape[2] == 3:
            row = SETTLE_RGB(
                y, frame, scale, weights, variances, means, n_modes, mask,
                known_foreground, y * known_step, distance2, alpha, prune,
                var_threshold, var_threshold_gen, var_min, var_max, np.float32(1.0),  # no max_corr
            )
        else:
            row = SETTLE_GRAY(
                y, frame, scale, weights, variances, means, n_modes, mask,
                known_foreground, y * known_step, distance2, alpha, prune,
                var_threshold, var_threshold_gen, var_min, var_max, np.float32(1.0),  # no max_corr
            )
        if want_probability:
            for x in range(frame.shape[1]):
                if mask[y, x] == 0:
                    probability[y, x] = foreground_probability(distance2[x], var_threshold, True)
        for x in range(frame.shape[1]):
            if mask[y, x] != 0:
                update_pixel(
                    y, x, row, distance2[x], weights, variances, means, n_modes, mask,
                    probability, known_foreground, alpha, prune,
                    var_threshold, background_ratio, var_threshold_gen,
                    var_init, var_min, var_max, tau, detect_shadows,
                    shadow_value, use_known_foreground, want_probability, False,
                )


# No NRT (a Numba flag): the general update allocates nothing, and without it
# Numba does not incref/decref the eight array arguments at every call, 16
# atomic operations per unsettled pixel (the whole frame ran 15-25% faster).
@njit(_nrt=False, **JIT_OPTIONS)
def update_pixel(y, x, row, distance0, weights, variances, means, n_modes, mask,
                 probability, known_foreground, alpha, prune, var_threshold,
                 background_ratio, var_threshold_gen, var_init, var_min,
                 var_max, tau, detect_shadows, shadow_value,
                 use_known_foreground, want_probability, tied):
    """The general update of pixel ``(y, x)`` with per-channel variances.

    The spherical kernel's ``_update_pixel`` with the per-channel metric.
    ``distance0`` is ``D2`` to component 0, already computed by the first
    sweep.
    With ``tied``, ``variances`` is (1, C, H, W): one set of variances per
    pixel, shared by every component, updated by the matched component and
    left alone when a component is created.
    """
    n_channels = row.shape[0]
    cov_step = 0 if tied else 1
    zero = np.float32(0.0)
    one = np.float32(1.0)
    a = alpha
    p = prune
    if use_known_foreground and known_foreground[y, x] != 0:
        a = zero
        p = zero
    a1 = one - a
    nm = np.int64(n_modes[y, x])
    background = False
    fits = False
    total = zero
    min_d2 = np.inf

    mode = 0
    while mode < nm:
        weight = a1 * weights[mode, y, x] + p
        swap_count = 0
        if not fits:
            j = mode * cov_step
            if mode == 0:
                dist2 = distance0  # computed by the first sweep, from this state
            else:
                dist2 = zero
                for c in range(n_channels):
                    d = means[mode, c, y, x] - row[c, x]
                    dist2 += d * d / variances[j, c, y, x]
            if total < background_ratio:
                if dist2 < var_threshold:
                    background = True
                if want_probability:
                    min_d2 = min(min_d2, dist2)
            if dist2 < var_threshold_gen:
                fits = True
                weight += a
                if a > zero:
                    k = a / weight
                    for c in range(n_channels):
                        d = means[mode, c, y, x] - row[c, x]
                        means[mode, c, y, x] -= k * d
                        var = variances[j, c, y, x]
                        variances[j, c, y, x] = clamp_variance(var + k * (d * d - var), var_min, var_max)
                for i in range(mode, 0, -1):
                    if weight < weights[i - 1, y, x]:
                        break
                    swap_count += 1
                    swap_components_planar(weights, variances, means, i, i - 1, y, x, not tied)
        if weight < -p:
            weight = zero
            nm -= 1
        weights[mode - swap_count, y, x] = weight
        total += weight
        mode += 1

    inv_total = inverse_total(total)
    for m in range(nm):
        weights[m, y, x] *= inv_total

    if not fits and a > zero:
        nm = add_component(row, y, x, weights, variances, means, nm, a, a1, var_init,
                           not tied, not tied)

    n_modes[y, x] = np.uint8(nm)
    if background:
        mask[y, x] = 0
    elif detect_shadows and is_shadow_diag(
        row, y, x, weights, variances, means, nm, cov_step, var_threshold,
        background_ratio, tau,
    ):
        mask[y, x] = shadow_value
    else:
        mask[y, x] = 255
    if want_probability:
        probability[y, x] = foreground_probability(min_d2, var_threshold, background)
