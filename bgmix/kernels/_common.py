"""Per-pixel helpers shared by the mixture kernels.

State is component-planar: component ``k`` of pixel ``(y, x)`` is
``weights[k, y, x]``, ``means[k, c, y, x]`` and its (co)variance planes
``cov[k, p, y, x]`` (the spherical kernel's ``variances[k, y, x]`` viewed as
(K, 1, H, W) for the log-likelihood). The helpers work on one pixel or one
row and are inlined into the callers. The diag, full and tied kernels share
their general per-pixel update (:func:`build_general_update`: weights,
pruning, new components, sorting, shadow test, probability), their first
sweep (:func:`build_settle`) and their row (:func:`update_planar_row`); the
spherical kernel keeps its own, faster general update (see the note above
:func:`swap_components`). Every type shares the background log-likelihood
(:func:`background_log_likelihood`); :func:`score_frame` is the read-only
kernel of ``BackgroundMixture.score_samples``.
"""

from __future__ import annotations

import math

import numpy as np
from numba import njit, prange

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


@njit(**JIT_OPTIONS)
def spread_row_stride(height):
    """A stride that visits every row (or band of rows) once when
    ``y = (i * stride) % height``.

    The spherical kernel maps its ``prange`` index ``i`` to a band of rows
    through it. Numba hands each thread one contiguous block of indices;
    with this stride (near ``height / golden ratio``, coprime with
    ``height``) every block covers rows spread over the whole frame, so a
    thread does not get, say, the top half where the scene is busy while
    another gets the quiet bottom half (on the road clip, the general
    update runs for 19% of the top half's pixels and 13% of the bottom's).

    Examples
    --------
    >>> stride = spread_row_stride(360)
    >>> sorted((i * stride) % 360 for i in range(360)) == list(range(360))
    True
    """
    stride = max(1, int(height * 0.6180339887))
    while math.gcd(stride, height) != 1:
        stride += 1
    return stride


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


# The spherical kernel's general update keeps its own code and these two
# helpers over (K, H, W) variances. Routing it through the shared general
# update below cost 9% of the frame time on the road clip (640x360, where
# many pixels take the general path), and sharing only the shadow test,
# new-component and swap helpers on a (K, 1, H, W) view still cost 5-7%
# (scripts/bench.py, interleaved runs); the other types' general updates are
# not that hot.


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
def mahalanobis_det3(d0, d1, d2, sxx, sxy, sxz, syy, syz, szz):
    """``(d^T S^-1 d, det S)`` for a 3x3 covariance ``S``, in the arguments' type.

    Computed through the LDL^T factorisation (no square roots, three
    divisions): ``S = L D L^T`` with ``D = (sxx, syy.x, szz.xy)``, the
    variances of x, of y given x and of z given x and y; then
    ``D2 = sum_i z_i^2 / D_i`` with ``L z = d``, and ``det S`` the product of
    the pivots. Every term of ``D2`` is non-negative, so ``D2 >= 0`` whatever
    the rounding.
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
    return d0 * d0 * r0 + z1 * z1 * r1 + z2 * z2 / q22, sxx * p11 * q22


@njit(inline="always", **JIT_OPTIONS)
def mahalanobis3(d0, d1, d2, sxx, sxy, sxz, syy, syz, szz):
    """Squared Mahalanobis distance ``d^T S^-1 d`` for a 3x3 covariance ``S``
    (:func:`mahalanobis_det3`; the unused determinant is optimised away)."""
    return mahalanobis_det3(d0, d1, d2, sxx, sxy, sxz, syy, syz, szz)[0]


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
    renormalised so the weights still sum to 1), or of weight 1 when the
    components that stay have no weight left (none, or all pruned); its mean
    is the sample and,
    when ``init_cov``, its covariance ``var_init * I``; it bubbles up past
    lighter components.
    """
    zero = np.float32(0.0)
    max_modes = weights.shape[0]
    replace = nm == max_modes
    if replace:
        new = max_modes - 1
    else:
        new = nm
        nm += 1
    # The weight left to the components that stay.
    rest = zero
    for i in range(nm - 1):
        rest += weights[i, y, x]
    if rest > np.float32(1.1920929e-07):
        weights[new, y, x] = a
        scale_rest = a1 / rest if replace else a1
        for i in range(nm - 1):
            weights[i, y, x] *= scale_rest
    else:
        # Nothing left (the first component, or every visited one pruned):
        # the new one takes all the weight, as OpenCV gives a sole component.
        weights[new, y, x] = np.float32(1.0)
        for i in range(nm - 1):
            weights[i, y, x] *= a1
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
def is_shadow(row, y, x, weights, cov, means, n_modes, cov_step,
              var_threshold, background_ratio, tau, full):
    """The shadow test of :func:`is_shadow_spherical` in a component's metric.

    With ``b = <x, mu_k> / <mu_k, mu_k>`` in ``[tau, 1]``, the colour
    distortion ``e = b mu_k - x`` must satisfy ``e^T S_k^-1 e < var_threshold
    * b^2``: ``S_k`` a 3x3 covariance in six planes with ``full`` (full and
    tied on 3 channels), else one variance per channel (diag, and any type on
    1-channel frames). ``cov[k * cov_step]`` is component ``k``'s.
    """
    total = np.float32(0.0)
    for k in range(n_modes):
        numerator, denominator = _brightness(row, y, x, means, k)
        if denominator == 0:
            return False
        if numerator <= denominator and numerator >= tau * denominator:
            b = numerator / denominator
            j = k * cov_step
            if full:
                dist2 = mahalanobis3(
                    b * means[k, 0, y, x] - row[0, x], b * means[k, 1, y, x] - row[1, x],
                    b * means[k, 2, y, x] - row[2, x], cov[j, 0, y, x], cov[j, 1, y, x],
                    cov[j, 2, y, x], cov[j, 3, y, x], cov[j, 4, y, x], cov[j, 5, y, x])
            else:
                dist2 = np.float32(0.0)
                for c in range(means.shape[1]):
                    e = b * means[k, c, y, x] - row[c, x]
                    dist2 += e * e / cov[j, c, y, x]
            if dist2 < var_threshold * b * b:
                return True
        total += weights[k, y, x]
        if total > background_ratio:
            return False
    return False


@njit(inline="always", **JIT_OPTIONS)
def component_distance2(row, y, x, means, cov, k, j, full):
    """Squared Mahalanobis distance of pixel ``(y, x)`` to component ``k``
    (covariance plane ``cov[j]``): 3x3 with ``full``, else per channel."""
    if full:
        return mahalanobis3(
            means[k, 0, y, x] - row[0, x], means[k, 1, y, x] - row[1, x],
            means[k, 2, y, x] - row[2, x], cov[j, 0, y, x], cov[j, 1, y, x],
            cov[j, 2, y, x], cov[j, 3, y, x], cov[j, 4, y, x], cov[j, 5, y, x])
    dist2 = np.float32(0.0)
    for c in range(means.shape[1]):
        d = means[k, c, y, x] - row[c, x]
        dist2 += d * d / cov[j, c, y, x]
    return dist2


@njit(inline="always", **JIT_OPTIONS)
def learn_component(row, y, x, means, cov, k, j, gain, var_min, var_max, max_corr, full):
    """Pull component ``k`` towards the sample with gain ``gain`` = alpha / weight.

    The mean moves by ``gain * (x - mu)``; the covariance (plane ``cov[j]``)
    follows ``S + gain (d d^T - S)`` with ``d = mu - x`` taken before the
    mean moves, then is clamped: a 3x3 covariance with ``full``
    (:func:`update_covariance3`), else one variance per channel.
    """
    if full:
        d0 = means[k, 0, y, x] - row[0, x]
        d1 = means[k, 1, y, x] - row[1, x]
        d2 = means[k, 2, y, x] - row[2, x]
        means[k, 0, y, x] -= gain * d0
        means[k, 1, y, x] -= gain * d1
        means[k, 2, y, x] -= gain * d2
        nxx, nxy, nxz, nyy, nyz, nzz = update_covariance3(
            cov[j, 0, y, x], cov[j, 1, y, x], cov[j, 2, y, x], cov[j, 3, y, x],
            cov[j, 4, y, x], cov[j, 5, y, x], d0, d1, d2, gain, var_min, var_max, max_corr)
        cov[j, 0, y, x] = nxx
        cov[j, 1, y, x] = nxy
        cov[j, 2, y, x] = nxz
        cov[j, 3, y, x] = nyy
        cov[j, 4, y, x] = nyz
        cov[j, 5, y, x] = nzz
    else:
        for c in range(means.shape[1]):
            d = means[k, c, y, x] - row[c, x]
            means[k, c, y, x] -= gain * d
            var = cov[j, c, y, x]
            cov[j, c, y, x] = clamp_variance(var + gain * (d * d - var), var_min, var_max)


def build_general_update(full):
    """The general per-pixel update of the diag, full and tied kernels.

    ``full`` (3x3 covariances in six planes; else one variance per channel:
    diag, and full or tied on 1-channel frames) is a compile-time constant of
    the returned function, as in :func:`build_settle`. The function is
    compiled without NRT (a Numba flag): it allocates nothing, and without
    it Numba increfs and decrefs the array arguments at every call, 16 atomic
    operations per unsettled pixel (the whole frame ran 15-25% faster).

    The returned ``update_pixel(y, x, row, distance0, weights, cov, means,
    n_modes, mask, probability, known_foreground, alpha, prune,
    var_threshold, background_ratio, var_threshold_gen, var_init, var_min,
    var_max, max_corr, tau, detect_shadows, shadow_value,
    use_known_foreground, want_probability, tied)`` is the spherical
    kernel's general update (OpenCV's ``MOG2Invoker`` body) in the
    squared Mahalanobis distance: the components are visited in weight order;
    each decays (``w <- (1 - a) w - a c_T``); the first with ``D2 <
    var_threshold_gen`` learns the sample (:func:`learn_component`) and
    bubbles up past lighter ones; the sample is background when a component
    among the heaviest that make up ``background_ratio`` has ``D2 <
    var_threshold``; a component the prior drives below zero is dropped
    (OpenCV shortens the loop rather than compacting; kept so that masks stay
    identical); weights are renormalised; a sample no component explains gets
    a new component (:func:`add_component`); then the mask (shadow test) and
    the probability. ``distance0`` is ``D2`` to component 0, already computed
    by the first sweep. With ``tied``, ``cov`` is (1, P, H, W): one covariance
    per pixel, shared by every component, updated by the matched component
    (with its gain) and left alone when a component is created.
    """

    @njit(_nrt=False, **JIT_OPTIONS)
    def update_pixel(y, x, row, distance0, weights, cov, means, n_modes, mask,
                     probability, known_foreground, alpha, prune, var_threshold,
                     background_ratio, var_threshold_gen, var_init, var_min,
                     var_max, max_corr, tau, detect_shadows, shadow_value,
                     use_known_foreground, want_probability, tied):
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
                    dist2 = component_distance2(row, y, x, means, cov, mode, j, full)
                if total < background_ratio:
                    if dist2 < var_threshold:
                        background = True
                    if want_probability:
                        min_d2 = min(min_d2, dist2)
                if dist2 < var_threshold_gen:
                    fits = True
                    weight += a
                    # With a zero rate the update is the identity, and
                    # skipping it avoids 0/0 on a component of weight 0; a
                    # subnormal rate can round the new weight to 0 (gain inf).
                    if a > zero and weight > zero:
                        learn_component(row, y, x, means, cov, mode, j, a / weight,
                                        var_min, var_max, max_corr, full)
                    # The matched component can only rise: bubble it up past
                    # lighter ones; its new weight is stored below.
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

        # Also when every component was pruned, the matched one included:
        # no weight is left, and the sample starts a component of weight 1.
        if (not fits or inv_total == zero) and a > zero:
            nm = add_component(row, y, x, weights, cov, means, nm, a, a1, var_init,
                               not tied, not tied)

        n_modes[y, x] = np.uint8(nm)
        if background:
            mask[y, x] = 0
        elif detect_shadows and is_shadow(row, y, x, weights, cov, means, nm, cov_step,
                                          var_threshold, background_ratio, tau, full):
            mask[y, x] = shadow_value
        else:
            mask[y, x] = 255
        if want_probability:
            probability[y, x] = foreground_probability(min_d2, var_threshold, background)

    return update_pixel


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


# ---------------------------------------------------------------------------
# Log-likelihood of a pixel under its background components (every
# covariance type). ``cov`` is (J, P, H, W) as above; the spherical kernel's
# (K, H, W) variances are viewed as (K, 1, H, W), with ``spherical`` set.
# Computed in float64: it is an output, not part of the float32 update that
# must agree bit for bit with OpenCV.
# ---------------------------------------------------------------------------

@njit(inline="always", **JIT_OPTIONS)
def log_density(row, y, x, means, cov, k, j, spherical):
    """``log N(x; mu_k, Sigma)`` of pixel ``(y, x)`` for component ``k``,
    whose covariance is plane ``cov[j]``, in float64.

    The covariance is read by its number of planes: 6, a symmetric 3x3
    matrix (full, tied); otherwise one variance per channel (diag, and any
    type on 1-channel frames), except with ``spherical``: then ``cov[j, 0]``
    is the *total* variance over the ``C`` channels (OpenCV MOG2's
    ``variance``, which tracks ``|x - mu|^2``), and the density is the
    isotropic Gaussian with per-channel variance ``cov[j, 0] / C``.
    """
    log_2pi = 1.8378770664093453  # log(2 pi); kernels read no module globals
    n_channels = means.shape[1]
    if spherical:
        per_channel = np.float64(cov[j, 0, y, x]) / n_channels
        distance2 = 0.0
        for c in range(n_channels):
            d = np.float64(means[k, c, y, x]) - np.float64(row[c, x])
            distance2 += d * d
        return -0.5 * (distance2 / per_channel + n_channels * (log_2pi + math.log(per_channel)))
    if cov.shape[1] == 6:
        distance2, determinant = mahalanobis_det3(
            np.float64(means[k, 0, y, x]) - np.float64(row[0, x]),
            np.float64(means[k, 1, y, x]) - np.float64(row[1, x]),
            np.float64(means[k, 2, y, x]) - np.float64(row[2, x]),
            np.float64(cov[j, 0, y, x]), np.float64(cov[j, 1, y, x]),
            np.float64(cov[j, 2, y, x]), np.float64(cov[j, 3, y, x]),
            np.float64(cov[j, 4, y, x]), np.float64(cov[j, 5, y, x]))
        return -0.5 * (distance2 + math.log(determinant) + 3.0 * log_2pi)
    distance2 = 0.0
    determinant = 1.0  # one logarithm of the product, not one per channel
    for c in range(n_channels):
        var = np.float64(cov[j, c, y, x])
        d = np.float64(means[k, c, y, x]) - np.float64(row[c, x])
        distance2 += d * d / var
        determinant *= var
    return -0.5 * (distance2 + math.log(determinant) + n_channels * log_2pi)


@njit(inline="always", **JIT_OPTIONS)
def background_log_likelihood(row, y, x, weights, cov, means, n_modes, cov_step,
                              spherical, background_ratio):
    """Log-likelihood of pixel ``(y, x)`` under its background mixture.

    ``log sum_k (w_k / W) N(x; mu_k, Sigma_k)`` over the background
    components: the heaviest, in weight order, taken while the weights
    before them add up to less than ``background_ratio`` (the classification's
    test), ``W`` being their total weight. Summed in log space (log-sum-exp,
    one pass). ``-inf`` for a pixel with no component (or no weight).
    """
    # Which components are background: the weights alone decide.
    n_background = 0
    total = np.float32(0.0)
    weight_sum = 0.0
    for k in range(n_modes[y, x]):
        if total >= background_ratio:
            break
        total += weights[k, y, x]
        weight_sum += np.float64(weights[k, y, x])
        n_background += 1
    if n_background == 0 or weight_sum <= 0:
        return np.float32(-np.inf)
    if n_background == 1:
        # Most pixels: w_0 / W = 1, no logarithm of weights, no exponential.
        return np.float32(log_density(row, y, x, means, cov, 0, 0, spherical))
    peak = -np.inf  # largest log(w_k) + log N_k so far
    scaled_sum = 0.0  # sum of exp(term - peak)
    for k in range(n_background):
        w = np.float64(weights[k, y, x])
        if w <= 0:
            continue
        term = math.log(w) + log_density(row, y, x, means, cov, k, k * cov_step, spherical)
        if term > peak:
            scaled_sum = scaled_sum * math.exp(peak - term) + 1.0
            peak = term
        else:
            scaled_sum += math.exp(term - peak)
    return np.float32(peak + math.log(scaled_sum) - math.log(weight_sum))


def build_first_component_density(n_channels, metric):
    """A sweep over one row giving, for component 0 of every pixel, the
    squared Mahalanobis distance and the determinant of its covariance (in
    float64), from which ``log N = -(D2 + log det + C log 2 pi) / 2``.

    ``n_channels`` (1 or 3) and ``metric`` ("spherical": ``cov[0, 0]`` is the
    total variance over channels, per-channel variance that over C; "diag":
    one variance per channel; "full": six planes of a 3x3 covariance) are
    compile-time constants, so that the sweep is straight-line code the
    compiler vectorises (as :func:`build_settle`): most pixels have a single
    background component, and their log-likelihood is this density alone.
    The logarithm, a library call, is left to the caller's scalar loop.
    """
    three = n_channels == 3
    spherical = metric == "spherical"
    full = metric == "full"
    if full and not three:
        raise ValueError("a full covariance sweep needs 3 channels")

    @njit(**JIT_OPTIONS)
    def first_component_density(row, y, means, cov, distance2, determinant):
        for x in range(row.shape[1]):
            d0 = np.float64(means[0, 0, y, x]) - np.float64(row[0, x])
            d1 = 0.0
            d2 = 0.0
            if three:
                d1 = np.float64(means[0, 1, y, x]) - np.float64(row[1, x])
                d2 = np.float64(means[0, 2, y, x]) - np.float64(row[2, x])
            if spherical:
                per_channel = np.float64(cov[0, 0, y, x]) / n_channels
                distance2[x] = (d0 * d0 + d1 * d1 + d2 * d2) / per_channel
                determinant[x] = per_channel * per_channel * per_channel if three else per_channel
            elif full:
                distance2[x], determinant[x] = mahalanobis_det3(
                    d0, d1, d2, np.float64(cov[0, 0, y, x]), np.float64(cov[0, 1, y, x]),
                    np.float64(cov[0, 2, y, x]), np.float64(cov[0, 3, y, x]),
                    np.float64(cov[0, 4, y, x]), np.float64(cov[0, 5, y, x]))
            else:
                v0 = np.float64(cov[0, 0, y, x])
                if three:
                    v1 = np.float64(cov[0, 1, y, x])
                    v2 = np.float64(cov[0, 2, y, x])
                    distance2[x] = d0 * d0 / v0 + d1 * d1 / v1 + d2 * d2 / v2
                    determinant[x] = v0 * v1 * v2
                else:
                    distance2[x] = d0 * d0 / v0
                    determinant[x] = v0

    return first_component_density


_DENSITY_SPHERICAL_GRAY = build_first_component_density(1, "spherical")
_DENSITY_SPHERICAL_RGB = build_first_component_density(3, "spherical")
_DENSITY_DIAG_GRAY = build_first_component_density(1, "diag")
_DENSITY_DIAG_RGB = build_first_component_density(3, "diag")
_DENSITY_FULL_RGB = build_first_component_density(3, "full")


@njit(**JIT_OPTIONS)
def background_log_likelihood_row(frame, y, scale, weights, cov, means, n_modes, cov_step,
                                  spherical, background_ratio, out):
    """:func:`background_log_likelihood` of every pixel of row ``y`` into ``out[y]``.

    The kernels call it before they update the row, so it reads the state
    the classification reads. Pixels with one background component (most)
    take a vectorised sweep (:func:`build_first_component_density`) and one
    logarithm; the others the general mixture.
    """
    width = frame.shape[1]
    n_channels = frame.shape[2]
    row = np.empty((n_channels, width), np.float32)
    load_row(frame, y, scale, row)
    distance2 = np.empty(width, np.float64)
    determinant = np.empty(width, np.float64)
    if spherical:
        if n_channels == 3:
            _DENSITY_SPHERICAL_RGB(row, y, means, cov, distance2, determinant)
        else:
            _DENSITY_SPHERICAL_GRAY(row, y, means, cov, distance2, determinant)
    elif cov.shape[1] == 6:
        _DENSITY_FULL_RGB(row, y, means, cov, distance2, determinant)
    elif n_channels == 3:
        _DENSITY_DIAG_RGB(row, y, means, cov, distance2, determinant)
    else:
        _DENSITY_DIAG_GRAY(row, y, means, cov, distance2, determinant)
    log_2pi_c = n_channels * 1.8378770664093453  # C log(2 pi)
    for x in range(width):
        # Which components are background: the weights alone decide.
        n_background = 0
        total = np.float32(0.0)
        for k in range(n_modes[y, x]):
            if total >= background_ratio:
                break
            total += weights[k, y, x]
            n_background += 1
        if n_background == 1 and weights[0, y, x] > 0:
            # w_0 / W = 1: no logarithm of weights, no exponential.
            out[y, x] = np.float32(-0.5 * (distance2[x] + math.log(determinant[x]) + log_2pi_c))
        else:
            out[y, x] = background_log_likelihood(row, y, x, weights, cov, means, n_modes,
                                                  cov_step, spherical, background_ratio)


@njit(parallel=True, **JIT_OPTIONS)
def score_frame(frame, scale, weights, cov, means, n_modes, cov_step, spherical,
                background_ratio, out):
    """Per-pixel background log-likelihood of ``frame``, without learning.

    Reads the state only (the update kernels at learning rate 0 still
    renormalise weights, which moves them by rounding). Arguments as
    :func:`background_log_likelihood_row`: ``cov`` is (J, P, H, W), viewed
    as such by the caller (spherical variances as (K, 1, H, W) with
    ``spherical``; a tied covariance as (1, P, H, W) with ``cov_step`` 0).
    ``out`` is float32 (H, W).
    """
    for y in prange(frame.shape[0]):
        background_log_likelihood_row(frame, y, scale, weights, cov, means, n_modes, cov_step,
                                      spherical, background_ratio, out)


# ---------------------------------------------------------------------------
# One row of the diag, full and tied kernels.
# ---------------------------------------------------------------------------

SETTLE_DIAG_GRAY = build_settle(1, full=False)
SETTLE_DIAG_RGB = build_settle(3, full=False)
SETTLE_FULL_RGB = build_settle(3, full=True)
UPDATE_PIXEL_DIAG = build_general_update(full=False)
UPDATE_PIXEL_FULL = build_general_update(full=True)


@njit(**JIT_OPTIONS)
def update_planar_row(y, frame, scale, weights, cov, means, n_modes, mask, probability,
                      known_foreground, alpha, prune, var_threshold, background_ratio,
                      var_threshold_gen, var_init, var_min, var_max, tau, detect_shadows,
                      shadow_value, use_known_foreground, want_probability, max_corr,
                      log_likelihood, want_log_likelihood, full, tied):
    """Classify and learn row ``y`` of a diag, full or tied model.

    ``cov`` is (J, P, H, W) (a tied covariance viewed as (1, P, H, W), with
    ``tied``). ``full`` selects 3x3 covariances on 3-channel frames; on
    1-channel frames every type has one variance and runs the diag metric.
    First the log-likelihood, when wanted (it reads the state before the row
    is learned); then the first sweep (:func:`build_settle`) settles the
    common pixels; then the general update (:func:`build_general_update`)
    runs for the rest. Other arguments as the kernels'.
    """
    cov_step = 0 if tied else 1
    if want_log_likelihood:
        background_log_likelihood_row(frame, y, scale, weights, cov, means, n_modes, cov_step,
                                      False, background_ratio, log_likelihood)
    # Without known foreground the sweep reads row 0 of the caller's dummy
    # row of zeros, which keeps its test branch-free.
    known_row = np.int64(y) if use_known_foreground else np.int64(0)
    distance2 = np.empty(frame.shape[1], np.float32)
    full_metric = full and frame.shape[2] == 3
    if full_metric:
        row = SETTLE_FULL_RGB(
            y, frame, scale, weights, cov, means, n_modes, mask, known_foreground, known_row,
            distance2, alpha, prune, var_threshold, var_threshold_gen, var_min, var_max, max_corr)
    elif frame.shape[2] == 3:
        row = SETTLE_DIAG_RGB(
            y, frame, scale, weights, cov, means, n_modes, mask, known_foreground, known_row,
            distance2, alpha, prune, var_threshold, var_threshold_gen, var_min, var_max, max_corr)
    else:
        row = SETTLE_DIAG_GRAY(
            y, frame, scale, weights, cov, means, n_modes, mask, known_foreground, known_row,
            distance2, alpha, prune, var_threshold, var_threshold_gen, var_min, var_max, max_corr)
    if want_probability:
        for x in range(frame.shape[1]):
            if mask[y, x] == 0:
                probability[y, x] = foreground_probability(distance2[x], var_threshold, True)
    for x in range(frame.shape[1]):
        if mask[y, x] != 0:
            if full_metric:
                UPDATE_PIXEL_FULL(
                    y, x, row, distance2[x], weights, cov, means, n_modes, mask, probability,
                    known_foreground, alpha, prune, var_threshold, background_ratio,
                    var_threshold_gen, var_init, var_min, var_max, max_corr, tau, detect_shadows,
                    shadow_value, use_known_foreground, want_probability, tied)
            else:
                UPDATE_PIXEL_DIAG(
                    y, x, row, distance2[x], weights, cov, means, n_modes, mask, probability,
                    known_foreground, alpha, prune, var_threshold, background_ratio,
                    var_threshold_gen, var_init, var_min, var_max, max_corr, tau, detect_shadows,
                    shadow_value, use_known_foreground, want_probability, tied)
