"""A full covariance per component ("full").

State is component-planar: component ``k`` of pixel ``(y, x)`` has weight
``weights[k, y, x]``, mean ``means[k, c, y, x]`` and, for 3-channel frames,
the upper triangle of its symmetric 3x3 covariance in six planes
``cov[k, 0:6, y, x] = (xx, xy, xz, yy, yz, zz)``.

The model is the spherical kernel's (learning rate, Dirichlet pruning,
renormalisation, sorting, shadow test, probability) with the squared
Mahalanobis distance ``D2 = d^T S^-1 d`` (``d = mu - x``, computed through an
LDL^T factorisation, :func:`~bgmix.kernels._common.mahalanobis3`). The matched
component's covariance follows ``S <- S + k (d d^T - S)`` with the difference
``d`` taken before the mean moves (as the spherical variance update), and is
then projected back onto the allowed covariances
(:func:`~bgmix.kernels._common.clamp_covariance3`): variances into
``[var_min, var_max]``, correlations (and the partial correlation of y and z
given x) into ``[-max_corr, max_corr]``, which keeps every covariance
positive definite. A new component has ``S = var_init * I``.

On 1-channel frames a 3x3 covariance reduces to one variance: ``cov`` is then
(K, 1, H, W) and the model is exactly the "diag" model, computed by
:mod:`bgmix.kernels.diagonal`.

Each row is processed in two steps, as in the spherical kernel: a
branch-free sweep that the compiler vectorises settles the pixels whose
sample matches their heaviest component
(:func:`~bgmix.kernels._common.build_settle`), and the general per-pixel update
runs for the rest, with the same float32 operations in the same order.

The sweep and the general update of this module also serve the tied kernel
on 3-channel frames (:mod:`bgmix.kernels.tied`): there ``cov`` is viewed as
(1, 6, H, W) and every component reads plane 0.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from bgmix.kernels import diagonal
from bgmix.kernels._common import (
    add_component,
    build_settle,
    foreground_probability,
    inverse_total,
    is_shadow_full,
    mahalanobis3,
    swap_components_planar,
    update_covariance3,
)
from bgmix.kernels._config import JIT_OPTIONS


SETTLE_RGB = build_settle(3, full=True)


@njit(parallel=True, **JIT_OPTIONS)
def update_full(frame, scale, weights, cov, means, n_modes, mask,
                probability, known_foreground, alpha, prune, var_threshold,
                background_ratio, var_threshold_gen, var_init, var_min,
                var_max, tau, detect_shadows, shadow_value,
                use_known_foreground, want_probability, max_corr):
    """Classify one frame and update the "full" mixture in place, in one pass.

    Arguments as :func:`bgmix.kernels.spherical.update_spherical`, except
    ``cov``: (K, 6, H, W) float32 for 3-channel frames (xx, xy, xz, yy, yz,
    zz), (K, 1, H, W) for 1-channel frames; and ``max_corr`` (float32 in
    (0, 1)), the bound on correlations (see
    :data:`bgmix.kernels._common.MAX_CORRELATION`).
    """
    known_step = 1 if use_known_foreground else 0
    for y in prange(frame.shape[0]):
        distance2 = np.empty(frame.shape[1], np.float32)
        if frame.shape[2] == 3:
            row = SETTLE_RGB(
                y, frame, scale, weights, cov, means, n_modes, mask,
                known_foreground, y * known_step, distance2, alpha, prune,
                var_threshold, var_threshold_gen, var_min, var_max, max_corr,
            )
        else:
            row = diagonal.SETTLE_GRAY(
                y, frame, scale, weights, cov, means, n_modes, mask,
                known_foreground, y * known_step, distance2, alpha, prune,
                var_threshold, var_threshold_gen, var_min, var_max, max_corr,
            )
        if want_probability:
            for x in range(frame.shape[1]):
                if mask[y, x] == 0:
                    probability[y, x] = foreground_probability(distance2[x], var_threshold, True)
        for x in range(frame.shape[1]):
            if mask[y, x] != 0:
                if frame.shape[2] == 3:
                    update_pixel(
                        y, x, row, distance2[x], weights, cov, means, n_modes, mask,
                        probability, known_foreground, alpha, prune,
                        var_threshold, background_ratio, var_threshold_gen,
                        var_init, var_min, var_max, max_corr, tau, detect_shadows,
                        shadow_value, use_known_foreground, want_probability, False,
                    )
                else:
                    diagonal.update_pixel(
                        y, x, row, distance2[x], weights, cov, means, n_modes, mask,
                        probability, known_foreground, alpha, prune,
                        var_threshold, background_ratio, var_threshold_gen,
                        var_init, var_min, var_max, tau, detect_shadows,
                        shadow_value, use_known_foreground, want_probability, False,
                    )


# No NRT (a Numba flag): the general update allocates nothing, and without it
# Numba does not incref/decref the eight array arguments at every call, 16
# atomic operations per unsettled pixel (the whole frame ran 15-25% faster).
@njit(_nrt=False, **JIT_OPTIONS)
def update_pixel(y, x, row, distance0, weights, cov, means, n_modes, mask,
                 probability, known_foreground, alpha, prune, var_threshold,
                 background_ratio, var_threshold_gen, var_init, var_min,
                 var_max, max_corr, tau, detect_shadows, shadow_value,
                 use_known_foreground, want_probability, tied):
    """The general update of pixel ``(y, x)`` with 3x3 covariances.

    The spherical kernel's ``_update_pixel`` with the full metric.
    ``distance0`` is ``D2`` to component 0, already computed by the first
    sweep. With ``tied``, ``cov`` is (1, 6, H, W): one covariance per pixel, shared by
    every component, updated by the matched component (with its ``k``) and
    left alone when a component is created.
    """
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
    x0 = row[0, x]
    x1 = row[1, x]
    x2 = row[2, x]

    mode = 0
    while mode < nm:
        weight = a1 * weights[mode, y, x] + p
        swap_count = 0
        if not fits:
            j = mode * cov_step
            d0 = means[mode, 0, y, x] - x0
            d1 = means[mode, 1, y, x] - x1
            d2 = means[mode, 2, y, x] - x2
            sxx = cov[j, 0, y, x]
            sxy = cov[j, 1, y, x]
            sxz = cov[j, 2, y, x]
            syy = cov[j, 3, y, x]
            syz = cov[j, 4, y, x]
            szz = cov[j, 5, y, x]
            if mode == 0:
                dist2 = distance0  # computed by the first sweep, from this state
            else:
                dist2 = mahalanobis3(d0, d1, d2, sxx, sxy, sxz, syy, syz, szz)
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
                    means[mode, 0, y, x] -= k * d0
                    means[mode, 1, y, x] -= k * d1
                    means[mode, 2, y, x] -= k * d2
                    nxx, nxy, nxz, nyy, nyz, nzz = update_covariance3(
                        sxx, sxy, sxz, syy, syz, szz, d0, d1, d2, k, var_min, var_max, max_corr)
                    cov[j, 0, y, x] = nxx
                    cov[j, 1, y, x] = nxy
                    cov[j, 2, y, x] = nxz
                    cov[j, 3, y, x] = nyy
                    cov[j, 4, y, x] = nyz
                    cov[j, 5, y, x] = nzz
                for i in range(mode, 0, -1):
                    if weight < weights[i - 1, y, x]:
                        break
                    swap_count += 1
                    swap_components_planar(weights, cov, means, i, i - 1, y, x, not tied)
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
        nm = add_component(row, y, x, weights, cov, means, nm, a, a1, var_init,
                           not tied, not tied)

    n_modes[y, x] = np.uint8(nm)
    if background:
        mask[y, x] = 0
    elif detect_shadows and is_shadow_full(
        row, y, x, weights, cov, means, nm, cov_step, var_threshold,
        background_ratio, tau,
    ):
        mask[y, x] = shadow_value
    else:
        mask[y, x] = 255
    if want_probability:
        probability[y, x] = foreground_probability(min_d2, var_threshold, background)
