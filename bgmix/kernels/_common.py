"""Helpers shared by the kernels.

State is component-planar: component ``k`` of pixel ``(y, x)`` is
``weights[k, y, x]``, ``means[k, c, y, x]`` and its (co)variance planes
``cov[j, p, y, x]`` (the registry's planar view,
:meth:`bgmix.kernels.covariance.CovarianceType.planar`: ``j = k``, or 0 for
a tied covariance). Here: the row dealing of the parallel kernels, the
listing of a row's flagged pixels, the foreground probability, the 3x3 covariance algebra (distance,
determinant, clamping, update) used by the update template and the EM
kernel, and the background log-likelihood (:func:`score_frame`, the
read-only kernel of ``BackgroundMixture.score_samples``, and the row
function the update kernel calls when asked for it).
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from bgmix.kernels._config import kernel_jit

FLT_EPSILON = np.float32(1.1920929e-07)


@kernel_jit()
def load_row(frame, y, scale, row):
    """De-interleave row ``y`` of an (H, W, C) frame into ``row`` (C, W), as float32.

    Reading the frame once per row into channel planes lets the per-pixel
    sweeps load each channel with unit stride, which the compiler vectorises.
    """
    for c in range(frame.shape[2]):
        for x in range(frame.shape[1]):
            row[c, x] = np.float32(frame[y, x, c]) * scale


@kernel_jit(inline="always")
def list_flagged(flags, width, listed):
    """Write the indices ``x < width`` where ``flags[x]`` (0 or 1) is set into the
    first entries of ``listed`` (``width + 1`` long); return how many.

    A compaction without branches: every index is written and the count moves
    by the flag, so a row's few foreground pixels are listed at the cost of a
    plain pass (a branch per pixel mispredicts wherever the mask is busy).
    The flags come from a loop of their own: read beside the stores, the
    masks cost 5x more in ``feedback_step``.

    Examples
    --------
    >>> listed = np.empty(6, np.int64)
    >>> n = list_flagged(np.array([0, 1, 1, 0, 1], np.uint8), 5, listed)
    >>> listed[:n].tolist()
    [1, 2, 4]
    """
    n_listed = 0
    for x in range(width):
        listed[n_listed] = x
        n_listed += flags[x]
    return n_listed


@kernel_jit()
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
    stride = max(1, (height * 618034) // 1000000)
    while True:
        # Euclid by hand: math.gcd costs half a second of compile per kernel.
        a, b = stride, height
        while b != 0:
            a, b = b, a % b
        if a == 1:
            return stride
        stride += 1


@kernel_jit()
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
# 3x3 covariances: the planes xx, xy, xz, yy, yz, zz of a symmetric matrix.
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


@kernel_jit()
def clamp_variance(var, var_min, var_max):
    """``var`` clamped into ``[var_min, var_max]``, as OpenCV (max, then min).

    Written as selects, not ``max``/``min``: in a large loop body LLVM may
    leave Numba's ``max``/``min`` as calls, and a call stops the loop from
    being vectorised.
    """
    var = var_min if var < var_min else var
    return var_max if var > var_max else var


@kernel_jit(inline="always")
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


@kernel_jit(inline="always")
def mahalanobis3(d0, d1, d2, sxx, sxy, sxz, syy, syz, szz):
    """Squared Mahalanobis distance ``d^T S^-1 d`` for a 3x3 covariance ``S``
    (:func:`mahalanobis_det3`; the unused determinant is optimised away)."""
    return mahalanobis_det3(d0, d1, d2, sxx, sxy, sxz, syy, syz, szz)[0]


@kernel_jit(inline="always")
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
    sxy = clamp_variance(sxy, -limit, limit)
    limit = max_corr * np.sqrt(sxx * szz)
    sxz = clamp_variance(sxz, -limit, limit)
    centre = sxy * sxz / sxx
    half = max_corr * np.sqrt((syy - sxy * sxy / sxx) * (szz - sxz * sxz / sxx))
    syz = clamp_variance(syz, centre - half, centre + half)
    limit = max_corr * np.sqrt(syy * szz)
    syz = clamp_variance(syz, -limit, limit)
    return sxx, sxy, sxz, syy, syz, szz


@kernel_jit(inline="always")
def _covariance3_step(sxx, sxy, sxz, syy, syz, szz, d0, d1, d2, k):
    """``S + k (d d^T - S)``, unclamped."""
    sxx = sxx + k * (d0 * d0 - sxx)
    sxy = sxy + k * (d0 * d1 - sxy)
    sxz = sxz + k * (d0 * d2 - sxz)
    syy = syy + k * (d1 * d1 - syy)
    syz = syz + k * (d1 * d2 - syz)
    szz = szz + k * (d2 * d2 - szz)
    return sxx, sxy, sxz, syy, syz, szz


@kernel_jit(inline="always")
def update_covariance3(sxx, sxy, sxz, syy, syz, szz, d0, d1, d2, k,
                       var_min, var_max, max_corr):
    """``S + k (d d^T - S)``, then :func:`clamp_covariance3`."""
    sxx, sxy, sxz, syy, syz, szz = _covariance3_step(sxx, sxy, sxz, syy, syz, szz, d0, d1, d2, k)
    return clamp_covariance3(sxx, sxy, sxz, syy, syz, szz, var_min, var_max, max_corr)


@kernel_jit(inline="always")
def update_covariance3_unbound(sxx, sxy, sxz, syy, syz, szz, d0, d1, d2, k,
                               var_min, var_max, max_corr):
    """:func:`update_covariance3` up to its variance clamps, and whether its
    correlation clamps would leave the result as it is.

    Returns the six planes and ``inside``. Where ``inside`` is true the
    planes are :func:`update_covariance3`'s, bit for bit; elsewhere
    :func:`clamp_covariance3` of them is (the variance clamps are
    idempotent). The test needs neither square root nor division (the
    clamp takes four and three): each bound ``|a| <= rho sqrt(b)`` is
    tested as ``a^2 <= m b`` with ``m = rho^2 (1 - 2^-8)``, a margin far
    above the float32 rounding of both forms (tens of ulps, that of the
    partial correlation's cancellations included, while the correlations are
    within ``rho``), so ``inside`` implies that no clamp binds; a bound
    within 0.2% of binding, a non-finite product or a NaN gives
    ``inside = False`` (the exact clamp then decides). On real footage a
    few per cent of the updates come near a correlation bound, so a
    vectorised pass can clamp only those afterwards, one by one.
    """
    sxx, sxy, sxz, syy, syz, szz = _covariance3_step(sxx, sxy, sxz, syy, syz, szz, d0, d1, d2, k)
    sxx = clamp_variance(sxx, var_min, var_max)
    syy = clamp_variance(syy, var_min, var_max)
    szz = clamp_variance(szz, var_min, var_max)
    margin = max_corr * max_corr * np.float32(0.99609375)
    big = np.float32(3.0e38)
    pxy = sxx * syy
    pxz = sxx * szz
    pyz = syy * szz
    # sxx times the variances of y and z given x; their product bounds the
    # partial covariance sxx (syz - sxy sxz / sxx) = sxx syz - sxy sxz.
    partial = (pxy - sxy * sxy) * (pxz - sxz * sxz)
    off = sxx * syz - sxy * sxz
    inside = ((sxy * sxy <= margin * pxy) & (sxz * sxz <= margin * pxz)
              & (syz * syz <= margin * pyz) & (off * off <= margin * partial)
              & (pxy < big) & (pxz < big) & (pyz < big) & (partial < big))
    return sxx, sxy, sxz, syy, syz, szz, inside


# ---------------------------------------------------------------------------
# Log-likelihood of a pixel under its background components (every
# covariance type). ``cov`` is (J, P, H, W) as above; the spherical kernel's
# (K, H, W) variances are viewed as (K, 1, H, W), with ``spherical`` set.
# Computed in float64: it is an output, not part of the float32 update that
# must agree bit for bit with OpenCV.
# ---------------------------------------------------------------------------

@kernel_jit()
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


@kernel_jit()
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
    compiler vectorises: most pixels have a single
    background component, and their log-likelihood is this density alone.
    The logarithm, a library call, is left to the caller's scalar loop.
    """
    three = n_channels == 3
    spherical = metric == "spherical"
    full = metric == "full"
    if full and not three:
        raise ValueError("a full covariance sweep needs 3 channels")

    @kernel_jit()
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


@kernel_jit()
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


@kernel_jit(parallel=True)
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
