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


# ---------------------------------------------------------------------------
# Helpers of the "diag", "full" and "tied" kernels. State of those kernels:
# ``weights[k, y, x]``, ``means[k, c, y, x]`` and a covariance array
# ``cov[j, p, y, x]`` of ``P`` planes, whose first index is the component
# (diag: P = C variances; full: P = 6 for the 3x3 upper triangle xx, xy, xz,
# yy, yz, zz, or P = 1 for one channel) or is always 0 (tied: one covariance
# per pixel, viewed as a (1, P, H, W) array). ``cov_step`` is 1 for the
# former and 0 for the latter: component k uses ``cov[k * cov_step]``.
# ---------------------------------------------------------------------------

MAX_CORRELATION = np.float32(0.95)
"""Bound on every correlation of a "full" or "tied" covariance, passed to
those kernels as an argument (kernels read no module globals).

After each update, ``|rho_xy|``, ``|rho_xz|``, ``|rho_yz|`` and the partial
correlation of y and z given x are each clamped to at most this bound. Then
the correlation matrix has ``det R = (1 - rho_xy^2)(1 - rho_xz^2)(1 - rho_yz.x^2)
>= (1 - 0.95^2)^3`` (about 9e-4) and every covariance stays positive definite;
bounding the three pairwise correlations alone would not suffice (0.95, 0.95,
-0.95 is not a correlation matrix)."""


@njit(inline="always", **JIT_OPTIONS)
def inverse_total(total):
    """``1 / total``, or 0 when the total is (numerically) zero."""
    if abs(total) > np.float32(1.1920929e-07):
        return np.float32(1.0) / total
    return np.float32(0.0)


@njit(inline="always", **JIT_OPTIONS)
def swap_components_planar(weights, cov, means, i, j, y, x, swap_cov):
    """Exchange components ``i`` and ``j`` of pixel ``(y, x)``; their
    covariance planes too when ``swap_cov`` (not for a tied covariance)."""
    w = weights[i, y, x]
    weights[i, y, x] = weights[j, y, x]
    weights[j, y, x] = w
    for c in range(means.shape[1]):
        m = means[i, c, y, x]
        means[i, c, y, x] = means[j, c, y, x]
        means[j, c, y, x] = m
    if swap_cov:
        for p in range(cov.shape[1]):
            v = cov[i, p, y, x]
            cov[i, p, y, x] = cov[j, p, y, x]
            cov[j, p, y, x] = v


@njit(inline="always", **JIT_OPTIONS)
def clamp_variance(var, var_min, var_max):
    """``var`` clamped into ``[var_min, var_max]``, as OpenCV (max, then min)."""
    var = max(var, var_min)
    return min(var, var_max)


@njit(inline="always", **JIT_OPTIONS)
def mahalanobis3(d0, d1, d2, sxx, sxy, sxz, syy, syz, szz):
    """Squared Mahalanobis distance ``d^T S^-1 d`` for a 3x3 covariance ``S``.

    Computed through the LDL^T factorisation (no square roots, three
    divisions): ``S = L D L^T`` with ``D = (sxx, syy.x, szz.xy)``, the
    variances of x, of y given x and of z given x and y; then
    ``D2 = sum_i z_i^2 / D_i`` with ``L z = d``. Every term is non-negative,
    so ``D2 >= 0`` whatever the rounding.
    """
    one = np.float32(1.0)
    r0 = one / sxx
    l10 = sxy * r0
    l20 = sxz * r0
    p11 = syy - l10 * sxy
    p12 = syz - l20 * sxy
    p22 = szz - l20 * sxz
    r1 = one / p11
    l21 = p12 * r1
    q22 = p22 - l21 * p12
    z1 = d1 - l10 * d0
    z2 = d2 - l20 * d0 - l21 * z1
    return d0 * d0 * r0 + z1 * z1 * r1 + z2 * z2 / q22


@njit(inline="always", **JIT_OPTIONS)
def clamp_covariance3(sxx, sxy, sxz, syy, syz, szz, var_min, var_max, max_corr):
    """Project a symmetric 3x3 matrix onto the allowed covariances.

    Variances are clamped into ``[var_min, var_max]``; then ``sxy`` and ``sxz``
    so that ``|rho_xy|, |rho_xz| <= max_corr``; then ``syz`` so that the
    partial correlation of y and z given x and ``rho_yz`` are both within
    ``max_corr``. The two ``syz`` intervals always overlap (both contain the
    partial-covariance centre ``sxy sxz / sxx``), so clamping into one and
    then the other lands in both. See :data:`MAX_CORRELATION`.
    """
    sxx = clamp_variance(sxx, var_min, var_max)
    syy = clamp_variance(syy, var_min, var_max)
    szz = clamp_variance(szz, var_min, var_max)
    limit = max_corr * np.sqrt(sxx * syy)
    sxy = min(max(sxy, -limit), limit)
    limit = max_corr * np.sqrt(sxx * szz)
    sxz = min(max(sxz, -limit), limit)
    centre = sxy * sxz / sxx
    half = max_corr * np.sqrt((syy - sxy * sxy / sxx) * (szz - sxz * sxz / sxx))
    syz = min(max(syz, centre - half), centre + half)
    limit = max_corr * np.sqrt(syy * szz)
    syz = min(max(syz, -limit), limit)
    return sxx, sxy, sxz, syy, syz, szz


@njit(inline="always", **JIT_OPTIONS)
def update_covariance3(sxx, sxy, sxz, syy, syz, szz, d0, d1, d2, k,
                       var_min, var_max, max_corr):
    """``S + k (d d^T - S)``, then :func:`clamp_covariance3`."""
    sxx = sxx + k * (d0 * d0 - sxx)
    sxy = sxy + k * (d0 * d1 - sxy)
    sxz = sxz + k * (d0 * d2 - sxz)
    syy = syy + k * (d1 * d1 - syy)
    syz = syz + k * (d1 * d2 - syz)
    szz = szz + k * (d2 * d2 - szz)
    return clamp_covariance3(sxx, sxy, sxz, syy, syz, szz, var_min, var_max, max_corr)


@njit(inline="always", **JIT_OPTIONS)
def add_component(row, y, x, weights, cov, means, nm, a, a1, var_init, init_cov, swap_cov):
    """Give the sample of pixel ``(y, x)`` a new component; return the live count.

    As the spherical kernel: a new component of weight ``a`` is appended, or
    replaces the weakest when the mixture is full (the others are then
    renormalised so the weights still sum to 1); its mean is the sample and,
    when ``init_cov``, its covariance ``var_init * I``; it bubbles up past
    lighter components.
    """
    zero = np.float32(0.0)
    max_modes = weights.shape[0]
    scale_rest = a1
    if nm == max_modes:
        new = max_modes - 1
        rest = zero
        for i in range(nm - 1):
            rest += weights[i, y, x]
        if rest > np.float32(1.1920929e-07):
            scale_rest = a1 / rest
    else:
        new = nm
        nm += 1
    if nm == 1:
        weights[new, y, x] = np.float32(1.0)
    else:
        weights[new, y, x] = a
        for i in range(nm - 1):
            weights[i, y, x] *= scale_rest
    for c in range(means.shape[1]):
        means[new, c, y, x] = row[c, x]
    if init_cov:
        if cov.shape[1] == 6:
            cov[new, 0, y, x] = var_init
            cov[new, 1, y, x] = zero
            cov[new, 2, y, x] = zero
            cov[new, 3, y, x] = var_init
            cov[new, 4, y, x] = zero
            cov[new, 5, y, x] = var_init
        else:
            for p in range(cov.shape[1]):
                cov[new, p, y, x] = var_init
    for i in range(nm - 1, 0, -1):
        if a < weights[i - 1, y, x]:
            break
        swap_components_planar(weights, cov, means, i, i - 1, y, x, swap_cov)
    return nm


@njit(inline="always", **JIT_OPTIONS)
def _brightness(row, y, x, means, k):
    """``(<x, mu_k>, <mu_k, mu_k>)`` for the shadow tests."""
    numerator = np.float32(0.0)
    denominator = np.float32(0.0)
    for c in range(means.shape[1]):
        mu = means[k, c, y, x]
        numerator += row[c, x] * mu
        denominator += mu * mu
    return numerator, denominator


@njit(inline="always", **JIT_OPTIONS)
def is_shadow_diag(row, y, x, weights, cov, means, n_modes, cov_step,
                   var_threshold, background_ratio, tau):
    """The shadow test of :func:`is_shadow_spherical` in a per-channel metric.

    With ``b = <x, mu_k> / <mu_k, mu_k>`` in ``[tau, 1]``, the colour
    distortion ``e = b mu_k - x`` must satisfy
    ``sum_c e_c^2 / var_kc < var_threshold * b^2``. ``cov`` holds one variance
    per channel (diag, or a 1-channel full/tied model).
    """
    total = np.float32(0.0)
    for k in range(n_modes):
        numerator, denominator = _brightness(row, y, x, means, k)
        if denominator == 0:
            return False
        if numerator <= denominator and numerator >= tau * denominator:
            b = numerator / denominator
            dist2 = np.float32(0.0)
            for c in range(means.shape[1]):
                e = b * means[k, c, y, x] - row[c, x]
                dist2 += e * e / cov[k * cov_step, c, y, x]
            if dist2 < var_threshold * b * b:
                return True
        total += weights[k, y, x]
        if total > background_ratio:
            return False
    return False


@njit(inline="always", **JIT_OPTIONS)
def is_shadow_full(row, y, x, weights, cov, means, n_modes, cov_step,
                   var_threshold, background_ratio, tau):
    """The shadow test in a 3x3 covariance's metric (full and tied, 3 channels):
    the distortion ``e = b mu_k - x`` must satisfy
    ``e^T S_k^-1 e < var_threshold * b^2``."""
    total = np.float32(0.0)
    for k in range(n_modes):
        numerator, denominator = _brightness(row, y, x, means, k)
        if denominator == 0:
            return False
        if numerator <= denominator and numerator >= tau * denominator:
            b = numerator / denominator
            j = k * cov_step
            dist2 = mahalanobis3(
                b * means[k, 0, y, x] - row[0, x], b * means[k, 1, y, x] - row[1, x],
                b * means[k, 2, y, x] - row[2, x], cov[j, 0, y, x], cov[j, 1, y, x],
                cov[j, 2, y, x], cov[j, 3, y, x], cov[j, 4, y, x], cov[j, 5, y, x])
            if dist2 < var_threshold * b * b:
                return True
        total += weights[k, y, x]
        if total > background_ratio:
            return False
    return False


SETTLE_MAX_COMPONENTS = 5
"""Most live components a pixel may have to be settled by the first sweep of
the diag / full / tied kernels (see :func:`build_settle`)."""


def build_settle(n_channels, full, max_components=SETTLE_MAX_COMPONENTS):
    """The first sweep of the diag, full and tied kernels, for one row.

    ``n_channels`` (1 or 3), ``full`` (3x3 covariances in six planes, else one
    variance per channel) and ``max_components`` (2 to 5) are compile-time
    constants of the returned function: a runtime test inside the sweep stops
    LLVM from vectorising it. Numba caches each closure separately (the cache
    key includes the captured constants).

    The sweep settles, without branches, the pixels whose update is simple:
    at most ``max_components`` live components, the sample matching the
    heaviest (``D2 < var_threshold_gen`` and ``D2 < var_threshold``, so it is
    background), component 0 not pruned, no component pruned but perhaps the
    lightest, and the pixel not known foreground. The general update then
    reduces to: update component 0, decay the other weights (the lightest may
    be pruned), renormalise; mask 0. These are the common pixels. Unlike the
    spherical sweep (one or two components) it takes up to five: with these
    kernels' Mahalanobis distances the default ``var_threshold_gen`` (9) is
    exceeded by about 3% of background samples (chi-square with 3 degrees of
    freedom), each creating a component that lives some 20 frames, so many
    background pixels hold 2 to 4 components.

    It runs as three loops over the row, each vectorised: the first computes
    the distance to component 0, the second decides and updates the weights
    (and writes ``k = alpha / weight`` of component 0 to a row buffer), the
    third learns component 0's mean and (co)variance. One loop with all of
    those loads and stores needs more runtime alias checks than LLVM allows
    (``-vectorize-memory-check-threshold``) and is not vectorised. Settled
    pixels get mask 0; every other pixel gets mask 1 and its state written
    back unchanged, for the general update. ``distance2[x]`` receives ``D2``
    to component 0. The sweep computes the general update's float32
    operations in the same order.

    ``cov`` is (J, P, H, W) and component 0 reads plane ``cov[0]``: its own
    covariance (diag, full) or the pixel's (tied, viewed as (1, P, H, W)).
    """
    three = n_channels == 3
    if full and not three:
        raise ValueError("a full covariance sweep needs 3 channels")
    if not 2 <= max_components <= 5:
        raise ValueError("max_components must be in [2, 5]")
    has_2 = max_components > 2
    has_3 = max_components > 3
    has_4 = max_components > 4

    @njit(**JIT_OPTIONS)
    def settle_common_pixels(y, frame, scale, weights, cov, means, n_modes, mask,
                             known_foreground, known_row, distance2, alpha, prune,
                             var_threshold, var_threshold_gen, var_min, var_max, max_corr):
        # Buffers allocated here are known not to alias the state, which the
        # vectoriser needs; the row is returned for the general update.
        row = np.empty((frame.shape[2], frame.shape[1]), np.float32)
        load_row(frame, y, scale, row)
        gain = np.empty(frame.shape[1], np.float32)
        # A local copy of the known-foreground row: read in place, at a
        # runtime row, it makes the runtime alias checks of the vectorised
        # loop fail (the loop then runs scalar).
        known = np.empty(frame.shape[1], np.uint8)
        for x in range(frame.shape[1]):
            known[x] = known_foreground[known_row, x]
        # Rows of the weight planes of components 1-4; slots the model does
        # not have (n_components < 5) read and write zeroed stand-ins, never
        # live. (Aliasing them onto an existing plane would make the runtime
        # alias checks fail and the loop run scalar.)
        n_planes = weights.shape[0]
        spare = np.zeros((max(0, 5 - n_planes), frame.shape[1]), np.float32)
        weights_1 = weights[1, y] if n_planes > 1 else spare[1 - n_planes]
        weights_2 = weights[2, y] if n_planes > 2 else spare[2 - n_planes]
        weights_3 = weights[3, y] if n_planes > 3 else spare[3 - n_planes]
        weights_4 = weights[4, y] if n_planes > 4 else spare[4 - n_planes]
        zero = np.float32(0.0)
        one = np.float32(1.0)
        a = alpha
        a1 = one - a
        p = prune
        # 1. Squared Mahalanobis distance to component 0.
        for x in range(row.shape[1]):
            d0 = means[0, 0, y, x] - row[0, x]
            d1 = zero
            d2 = zero
            if three:
                d1 = means[0, 1, y, x] - row[1, x]
                d2 = means[0, 2, y, x] - row[2, x]
            if full:
                dist2 = mahalanobis3(d0, d1, d2, cov[0, 0, y, x], cov[0, 1, y, x], cov[0, 2, y, x],
                                     cov[0, 3, y, x], cov[0, 4, y, x], cov[0, 5, y, x])
            else:
                dist2 = d0 * d0 / cov[0, 0, y, x]
                if three:
                    dist2 += d1 * d1 / cov[0, 1, y, x]
                    dist2 += d2 * d2 / cov[0, 2, y, x]
            distance2[x] = dist2

        # 2. The decision and the weights.
        for x in range(row.shape[1]):
            nm = n_modes[y, x]
            dist2 = distance2[x]
            w0 = weights[0, y, x]
            weight0 = a1 * w0 + p
            weight0 += a
            # Components 1.. decay; "pruned" only counts live ones.
            w1 = weights_1[x]
            live_1 = nm > 1
            weight1 = a1 * w1 + p
            pruned_1 = live_1 & (weight1 < -p)
            weight1 = zero if pruned_1 else weight1
            total = weight0
            total += weight1 if live_1 else zero
            any_pruned = pruned_1
            early_pruned = False
            pruned_2 = False
            pruned_3 = False
            pruned_4 = False
            w2 = zero
            weight2 = zero
            live_2 = False
            if has_2:
                w2 = weights_2[x]
                live_2 = nm > 2
                weight2 = a1 * w2 + p
                pruned_2 = live_2 & (weight2 < -p)
                weight2 = zero if pruned_2 else weight2
                total += weight2 if live_2 else zero
                early_pruned = early_pruned | (pruned_1 & live_2)
                any_pruned = any_pruned | pruned_2
            w3 = zero
            weight3 = zero
            live_3 = False
            if has_3:
                w3 = weights_3[x]
                live_3 = nm > 3
                weight3 = a1 * w3 + p
                pruned_3 = live_3 & (weight3 < -p)
                weight3 = zero if pruned_3 else weight3
                total += weight3 if live_3 else zero
                early_pruned = early_pruned | (pruned_2 & live_3)
                any_pruned = any_pruned | pruned_3
            w4 = zero
            weight4 = zero
            live_4 = False
            if has_4:
                w4 = weights_4[x]
                live_4 = nm > 4
                weight4 = a1 * w4 + p
                pruned_4 = live_4 & (weight4 < -p)
                weight4 = zero if pruned_4 else weight4
                total += weight4 if live_4 else zero
                early_pruned = early_pruned | (pruned_3 & live_4)
                any_pruned = any_pruned | pruned_4
            inv_total = one / total if abs(total) > np.float32(1.1920929e-07) else zero
            # Bitwise '&', not 'and': short-circuit branches would stop the
            # compiler from vectorising the loop. The general update drops the
            # last live component when an earlier one is pruned (OpenCV's
            # loop), so only the lightest may be pruned here.
            settled = (
                (nm >= 1) & (nm <= max_components)
                & (dist2 < var_threshold_gen)
                & (dist2 < var_threshold)
                & (weight0 > zero)
                & (weight0 >= -p)
                & (not early_pruned)
                & (known[x] == 0)
            )
            gain[x] = a / weight0
            # Every slot is written, unsettled and dead ones with their own
            # values: unconditional stores of selected values keep the loop
            # vectorised.
            if has_4:
                weights_4[x] = weight4 * inv_total if settled & live_4 else w4
            if has_3:
                weights_3[x] = weight3 * inv_total if settled & live_3 else w3
            if has_2:
                weights_2[x] = weight2 * inv_total if settled & live_2 else w2
            weights_1[x] = weight1 * inv_total if settled & live_1 else w1
            weights[0, y, x] = weight0 * inv_total if settled else w0
            n_modes[y, x] = nm - (1 if settled & any_pruned else 0)
            mask[y, x] = 0 if settled else 1

        # 3. Learning, only where settled and alpha > 0 (the general update
        # skips the identity update at rate 0, and so must this).
        learn = a > zero
        for x in range(row.shape[1]):
            learned = (mask[y, x] == 0) & learn
            k = gain[x]
            m0 = means[0, 0, y, x]
            d0 = m0 - row[0, x]
            d1 = zero
            d2 = zero
            means[0, 0, y, x] = m0 - k * d0 if learned else m0
            if three:
                m1 = means[0, 1, y, x]
                m2 = means[0, 2, y, x]
                d1 = m1 - row[1, x]
                d2 = m2 - row[2, x]
                means[0, 1, y, x] = m1 - k * d1 if learned else m1
                means[0, 2, y, x] = m2 - k * d2 if learned else m2
            if full:
                sxx = cov[0, 0, y, x]
                sxy = cov[0, 1, y, x]
                sxz = cov[0, 2, y, x]
                syy = cov[0, 3, y, x]
                syz = cov[0, 4, y, x]
                szz = cov[0, 5, y, x]
                nxx, nxy, nxz, nyy, nyz, nzz = update_covariance3(
                    sxx, sxy, sxz, syy, syz, szz, d0, d1, d2, k, var_min, var_max, max_corr)
                cov[0, 0, y, x] = nxx if learned else sxx
                cov[0, 1, y, x] = nxy if learned else sxy
                cov[0, 2, y, x] = nxz if learned else sxz
                cov[0, 3, y, x] = nyy if learned else syy
                cov[0, 4, y, x] = nyz if learned else syz
                cov[0, 5, y, x] = nzz if learned else szz
            else:
                v0 = cov[0, 0, y, x]
                new0 = clamp_variance(v0 + k * (d0 * d0 - v0), var_min, var_max)
                cov[0, 0, y, x] = new0 if learned else v0
                if three:
                    v1 = cov[0, 1, y, x]
                    v2 = cov[0, 2, y, x]
                    new1 = clamp_variance(v1 + k * (d1 * d1 - v1), var_min, var_max)
                    new2 = clamp_variance(v2 + k * (d2 * d2 - v2), var_min, var_max)
                    cov[0, 1, y, x] = new1 if learned else v1
                    cov[0, 2, y, x] = new2 if learned else v2
        return row

    return settle_common_pixels
