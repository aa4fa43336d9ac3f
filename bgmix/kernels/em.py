"""Batch EM bootstrap: a maximum-likelihood Gaussian mixture per pixel.

:func:`fit_em` fits, for every pixel independently, a Gaussian mixture to
that pixel's ``N`` samples (one per frame of an ``(N, H, W, C)`` stack) by
expectation maximisation, and writes the result straight into the online
model's state layout (the registry's planar view,
:mod:`bgmix.kernels.covariance`), so that the online kernels continue from it.

The EM is scikit-learn's ``GaussianMixture`` per pixel:

- E step: ``log w_k + log N(x_n; mu_k, Sigma_k)`` through a Cholesky factor
  of each covariance, normalised by log-sum-exp; the mean of the per-sample
  log-sums is the mean log-likelihood ``L``.
- M step: ``n_k = sum_n r_nk + 10 eps``, ``w_k = n_k / sum n``,
  ``mu_k = sum_n r_nk x_n / n_k``, and the covariance of the type, plus
  ``reg_covar`` on its diagonal: "full", the weighted scatter; "diag" its
  diagonal; "spherical" the mean of that diagonal (one *per-channel*
  variance, as scikit-learn); "tied" the scatter of every component pooled
  and divided by ``sum n_k``.
- Iterate E, M until ``|L_t - L_{t-1}| < tol`` or ``max_iter`` M steps;
  the reported ``L`` is that of the parameters finally written (after
  dropping weak components and rounding to float32), from one more E step.

A component whose responsibilities sum to less than ``1e-6`` samples is
removed during the iterations (scikit-learn keeps it at a weight of about
``1e-15``; either way it contributes nothing to the likelihood): this
happens when a pixel has fewer distinct values than components.

With ``constrain`` the M step also projects every covariance onto what the
online model allows (variances in ``[var_min, var_max]``, the model's
spherical *total* variance ``C sigma^2`` included; correlations within
``max_corr``, by :func:`~bgmix.kernels._common.clamp_covariance3`), and the
float32 state written is projected once more exactly as the online kernels
project their updates, so ``apply`` continues from a valid state.

Initialisation (labels of the samples, then one M step from those hard
responsibilities, as scikit-learn's ``init_params="kmeans"``):

- ``init_kind = 0``, k-means++: greedy k-means++ seeding (``2 + log K``
  candidates per centre, the one that lowers the potential most, as
  scikit-learn's ``KMeans``) followed by Lloyd iterations until no label
  changes (at most 100). Random numbers come from splitmix64 streams keyed
  by ``(seed, pixel index, K, restart)``, so results do not depend on the
  threads' schedule.
- ``init_kind = 1``, quantile: the samples sorted by luminance (sum of
  channels; ties by frame index) and split into ``K`` equal consecutive
  groups. Deterministic, so restarts repeat it (``n_init`` is then 1).
- ``init_kind = 2``, explicit labels from ``init_labels[n, y, x]`` (tests).

Computed in float64 inside: the M step sums up to ``N`` products of values
up to 255 (or 65535 times the scale) in one pass of raw moments
(``Sigma = sum r x x^T / n_k - mu mu^T``, on samples centred on the pixel's
mean so that the subtraction cancels little), and the convergence test
compares mean log-likelihoods whose changes (``tol = 1e-3``) are near
float32's resolution of values around 10-20; the state written is float32.
The E step computes one exponential per sample and component.

Cost (320x240, N=100, 2 shared cores): about 6 s for K=3 spherical, 13 s
for K=5; "bic" fits every count from 1 to K, so it costs their sum.
The first call per frame dtype compiles for about 10 s (cached on disk).

Kernels read no module globals: the integer codes of the covariance types
(0 spherical, 1 diag, 2 full, 3 tied) and of the initialisations above are
literals inside, named in :mod:`bgmix.fitting`.

Over 600 lines for one reason: the E and M steps of every covariance type and
the k-means initialisation share the per-pixel scratch layout of one compiled
fit, which is what keeps its compile and its memory traffic small.
"""

from __future__ import annotations

import math

import numpy as np
from numba import prange

from bgmix.kernels._common import clamp_covariance3, clamp_variance
from bgmix.kernels._config import kernel_jit


@kernel_jit(inline="always")
def _splitmix64(state):
    """One step of splitmix64: ``(next state, 64 random bits)``."""
    state = state + np.uint64(0x9E3779B97F4A7C15)
    z = state
    z = (z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)
    z = (z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
    return state, z ^ (z >> np.uint64(31))


@kernel_jit(inline="always")
def _uniform(state):
    """``(next state, u)`` with ``u`` uniform in [0, 1), 53 random bits."""
    state, bits = _splitmix64(state)
    return state, np.float64(bits >> np.uint64(11)) * (1.0 / 9007199254740992.0)


@kernel_jit(inline="always")
def _stream(seed, pixel, k, restart):
    """The start of the random stream of one pixel, component count and restart."""
    state = (np.uint64(seed) + np.uint64(pixel) * np.uint64(0xD1B54A32D192ED03)
             + np.uint64(k) * np.uint64(0x8CB92BA72F3D8DD7)
             + np.uint64(restart) * np.uint64(0xABC98388FB8FAC03))
    state, bits = _splitmix64(state)
    return bits


@kernel_jit(inline="always")
def _distance2(x, n, centres, j, n_channels):
    total = 0.0
    for c in range(n_channels):
        d = x[n, c] - centres[j, c]
        total += d * d
    return total


@kernel_jit()
def _kmeans_labels(x, n_samples, n_channels, n_clusters, state, centres, closest,
                   trial, best_trial, labels):
    """Greedy k-means++ seeding then Lloyd iterations; fills ``labels[:n]``.

    Fewer than ``n_clusters`` labels are used when the samples have fewer
    distinct values (the potential reaches 0).
    """
    state, u = _uniform(state)
    first = min(int(u * n_samples), n_samples - 1)
    for c in range(n_channels):
        centres[0, c] = x[first, c]
    potential = 0.0
    for n in range(n_samples):
        closest[n] = _distance2(x, n, centres, 0, n_channels)
        potential += closest[n]
    n_trials = 2 + int(math.log(n_clusters))
    n_centres = 1
    for j in range(1, n_clusters):
        if potential <= 0.0:
            break
        best_potential = np.inf
        best_index = 0
        for _ in range(n_trials):
            state, u = _uniform(state)
            target = u * potential
            index = n_samples - 1
            cumulative = 0.0
            for n in range(n_samples):
                cumulative += closest[n]
                if cumulative > target:
                    index = n
                    break
            candidate_potential = 0.0
            for n in range(n_samples):
                total = 0.0
                for c in range(n_channels):
                    d = x[n, c] - x[index, c]
                    total += d * d
                trial[n] = min(closest[n], total)
                candidate_potential += trial[n]
            if candidate_potential < best_potential:
                best_potential = candidate_potential
                best_index = index
                for n in range(n_samples):
                    best_trial[n] = trial[n]
        for c in range(n_channels):
            centres[j, c] = x[best_index, c]
        for n in range(n_samples):
            closest[n] = best_trial[n]
        potential = best_potential
        n_centres += 1

    for n in range(n_samples):
        labels[n] = -1
    for _ in range(100):
        changed = 0
        for n in range(n_samples):
            nearest = 0
            nearest_d2 = np.inf
            for j in range(n_centres):
                d2 = _distance2(x, n, centres, j, n_channels)
                if d2 < nearest_d2:
                    nearest_d2 = d2
                    nearest = j
            if labels[n] != nearest:
                labels[n] = nearest
                changed += 1
        if changed == 0:
            break
        # New centres; an empty cluster keeps its old centre.
        for j in range(n_centres):
            count = 0
            for c in range(n_channels):
                trial[c] = 0.0
            for n in range(n_samples):
                if labels[n] == j:
                    count += 1
                    for c in range(n_channels):
                        trial[c] += x[n, c]
            if count > 0:
                for c in range(n_channels):
                    centres[j, c] = trial[c] / count


@kernel_jit()
def _quantile_labels(x, n_samples, n_channels, n_clusters, keys, order, labels):
    """Split the samples sorted by luminance (ties by index) into equal groups."""
    for n in range(n_samples):
        total = 0.0
        for c in range(n_channels):
            total += x[n, c]
        keys[n] = total
        order[n] = n
    # Shell sort on (key, index): any correct sort of distinct pairs gives
    # the order of a stable argsort, so the reference can use NumPy's.
    gap = 1
    while gap < n_samples // 3:
        gap = 3 * gap + 1
    while gap >= 1:
        for i in range(gap, n_samples):
            moving = order[i]
            j = i
            while j >= gap:
                previous = order[j - gap]
                if keys[previous] > keys[moving] or (
                        keys[previous] == keys[moving] and previous > moving):
                    order[j] = previous
                    j -= gap
                else:
                    break
            order[j] = moving
        gap //= 3
    for i in range(n_samples):
        labels[order[i]] = (i * n_clusters) // n_samples


@kernel_jit()
def _m_step(x, n_samples, n_channels, n_comp, cov_kind, resp, weights, means, cov,
            reg_covar, constrain, var_min, var_max, max_corr):
    """Weights, means and covariances from the responsibilities ``resp[:, :n_comp]``.

    A component with weight 0 on entry stays dead. Only the lower triangle
    of each covariance is written.
    """
    eps10 = 10.0 * 2.220446049250313e-16
    total_weight = 0.0
    for k in range(n_comp):
        if weights[k] <= 0.0:
            continue
        # One pass of raw moments: the caller centres the samples on their
        # mean, so S / n_k - mu mu^T loses nothing to cancellation in float64.
        nk = 0.0
        for c in range(n_channels):
            means[k, c] = 0.0
            for j in range(c + 1):
                cov[k, c, j] = 0.0
        for n in range(n_samples):
            r = resp[n, k]
            nk += r
            for i in range(n_channels):
                rx = r * x[n, i]
                means[k, i] += rx
                for j in range(i + 1):
                    cov[k, i, j] += rx * x[n, j]
        if nk < 1e-6:
            weights[k] = 0.0
            continue
        nk += eps10
        weights[k] = nk
        total_weight += nk
        for i in range(n_channels):
            means[k, i] /= nk
        for i in range(n_channels):
            for j in range(i + 1):
                cov[k, i, j] = cov[k, i, j] / nk - means[k, i] * means[k, j]
    if cov_kind == 3:
        # Tied: the pooled scatter sum_k n_k S_k / sum_k n_k, in slot of every live component.
        for i in range(n_channels):
            for j in range(i + 1):
                s = 0.0
                for k in range(n_comp):
                    if weights[k] > 0.0:
                        s += weights[k] * cov[k, i, j]
                for k in range(n_comp):
                    cov[k, i, j] = s / total_weight
    for k in range(n_comp):
        if weights[k] <= 0.0:
            continue
        weights[k] /= total_weight
        if cov_kind == 0:
            mean_variance = 0.0
            for c in range(n_channels):
                mean_variance += cov[k, c, c]
            mean_variance = mean_variance / n_channels + reg_covar
            if constrain:
                # The model holds the total variance C sigma^2 in [var_min, var_max].
                mean_variance = clamp_variance(mean_variance, var_min / n_channels,
                                               var_max / n_channels)
            for i in range(n_channels):
                for j in range(i):
                    cov[k, i, j] = 0.0
                cov[k, i, i] = mean_variance
        elif cov_kind == 1 or n_channels == 1:
            for i in range(n_channels):
                for j in range(i):
                    cov[k, i, j] = 0.0
                variance = cov[k, i, i] + reg_covar
                if constrain:
                    variance = clamp_variance(variance, var_min, var_max)
                cov[k, i, i] = variance
        else:
            for c in range(n_channels):
                cov[k, c, c] += reg_covar
            if constrain:
                sxx, sxy, sxz, syy, syz, szz = clamp_covariance3(
                    cov[k, 0, 0], cov[k, 1, 0], cov[k, 2, 0], cov[k, 1, 1], cov[k, 2, 1],
                    cov[k, 2, 2], var_min, var_max, max_corr)
                cov[k, 0, 0] = sxx
                cov[k, 1, 0] = sxy
                cov[k, 2, 0] = sxz
                cov[k, 1, 1] = syy
                cov[k, 2, 1] = syz
                cov[k, 2, 2] = szz


@kernel_jit()
def _e_step(x, n_samples, n_channels, n_comp, weights, means, cov, chol, inverse_pivot, log_det,
            resp, z):
    """Responsibilities into ``resp`` and the mean log-likelihood per sample.

    Factorises every live covariance (``cov`` lower triangle into ``chol``)
    first; a pivot that rounding made non-positive is raised to 1e-300.
    """
    log_2pi = 1.8378770664093453
    for k in range(n_comp):
        if weights[k] <= 0.0:
            continue
        total = 0.0
        for i in range(n_channels):
            for j in range(i + 1):
                s = cov[k, i, j]
                for m in range(j):
                    s -= chol[k, i, m] * chol[k, j, m]
                if i == j:
                    pivot = math.sqrt(max(s, 1e-300))
                    chol[k, i, i] = pivot
                    inverse_pivot[k, i] = 1.0 / pivot
                    total += 2.0 * math.log(pivot)
                else:
                    chol[k, i, j] = s / chol[k, j, j]
        log_det[k] = total + n_channels * log_2pi - 2.0 * math.log(weights[k])
    log_likelihood = 0.0
    for n in range(n_samples):
        peak = -np.inf
        for k in range(n_comp):
            if weights[k] <= 0.0:
                continue
            distance2 = 0.0
            for i in range(n_channels):
                s = x[n, i] - means[k, i]
                for m in range(i):
                    s -= chol[k, i, m] * z[m]
                z[i] = s * inverse_pivot[k, i]
                distance2 += z[i] * z[i]
            # log w_k + log N_k = -(D2 + log det(2 pi S) - 2 log w_k) / 2
            term = -0.5 * (distance2 + log_det[k])
            resp[n, k] = term
            peak = max(peak, term)
        scaled = 0.0
        for k in range(n_comp):
            if weights[k] > 0.0:
                resp[n, k] = math.exp(resp[n, k] - peak)
                scaled += resp[n, k]
            else:
                resp[n, k] = 0.0
        log_likelihood += peak + math.log(scaled)
        inverse = 1.0 / scaled
        for k in range(n_comp):
            resp[n, k] *= inverse
    return log_likelihood / n_samples


@kernel_jit()
def _copy_params(n_comp, n_channels, weights, means, cov, to_weights, to_means, to_cov):
    for k in range(n_comp):
        to_weights[k] = weights[k]
        for i in range(n_channels):
            to_means[k, i] = means[k, i]
            for j in range(n_channels):
                to_cov[k, i, j] = cov[k, i, j]
    for k in range(n_comp, to_weights.shape[0]):
        to_weights[k] = 0.0


@kernel_jit()
def _write_state(y, x_pixel, n_channels, n_live_max, cov_kind, constrain, var_min, var_max,
                 max_corr, weights, means, cov, shift, out_weights, out_cov, out_means, n_modes,
                 order):
    """Write the live components, heaviest first, in the model's float32 layout.

    ``order`` receives the source slot of each written component. Returns
    the number written.
    """
    n_slots = out_weights.shape[0]
    n_live = 0
    total = 0.0
    for k in range(n_live_max):
        if weights[k] > 0.0:
            order[n_live] = k
            n_live += 1
            total += weights[k]
    # Selection sort by descending weight: K is small.
    for i in range(n_live):
        best = i
        for j in range(i + 1, n_live):
            if weights[order[j]] > weights[order[best]]:
                best = j
        order[i], order[best] = order[best], order[i]
    for slot in range(n_slots):
        if slot >= n_live:
            out_weights[slot, y, x_pixel] = 0.0
            for c in range(n_channels):
                out_means[slot, c, y, x_pixel] = 0.0
            if cov_kind != 3:
                for p in range(out_cov.shape[1]):
                    out_cov[slot, p, y, x_pixel] = 0.0
            continue
        k = order[slot]
        out_weights[slot, y, x_pixel] = np.float32(weights[k] / total)
        for c in range(n_channels):
            out_means[slot, c, y, x_pixel] = np.float32(means[k, c] + shift[c])
        if cov_kind == 3 and slot > 0:
            continue  # one covariance per pixel, written with the first component
        plane = 0 if cov_kind == 3 else slot
        if cov_kind == 0:
            # The model's spherical variance is the total over channels (OpenCV MOG2).
            variance = np.float32(n_channels * cov[k, 0, 0])
            if constrain:
                variance = clamp_variance(variance, var_min, var_max)
            out_cov[plane, 0, y, x_pixel] = variance
        elif cov_kind == 1 or n_channels == 1:
            for c in range(n_channels):
                variance = np.float32(cov[k, c, c])
                if constrain:
                    variance = clamp_variance(variance, var_min, var_max)
                out_cov[plane, c, y, x_pixel] = variance
        else:
            sxx = np.float32(cov[k, 0, 0])
            sxy = np.float32(cov[k, 1, 0])
            sxz = np.float32(cov[k, 2, 0])
            syy = np.float32(cov[k, 1, 1])
            syz = np.float32(cov[k, 2, 1])
            szz = np.float32(cov[k, 2, 2])
            if constrain:
                sxx, sxy, sxz, syy, syz, szz = clamp_covariance3(
                    sxx, sxy, sxz, syy, syz, szz, var_min, var_max, max_corr)
            out_cov[plane, 0, y, x_pixel] = sxx
            out_cov[plane, 1, y, x_pixel] = sxy
            out_cov[plane, 2, y, x_pixel] = sxz
            out_cov[plane, 3, y, x_pixel] = syy
            out_cov[plane, 4, y, x_pixel] = syz
            out_cov[plane, 5, y, x_pixel] = szz
    n_modes[y, x_pixel] = n_live
    return n_live


@kernel_jit()
def _read_state(y, x_pixel, n_channels, n_live, cov_kind, out_weights, out_cov, out_means,
                shift, weights, means, cov):
    """Load the written float32 state of a pixel back as float64 parameters
    (means relative to ``shift``, as the centred samples)."""
    for k in range(n_live):
        weights[k] = np.float64(out_weights[k, y, x_pixel])
        for c in range(n_channels):
            means[k, c] = np.float64(out_means[k, c, y, x_pixel]) - shift[c]
        plane = 0 if cov_kind == 3 else k
        for i in range(n_channels):
            for j in range(i + 1):
                cov[k, i, j] = 0.0
        if cov_kind == 0:
            for c in range(n_channels):
                cov[k, c, c] = np.float64(out_cov[plane, 0, y, x_pixel]) / n_channels
        elif cov_kind == 1 or n_channels == 1:
            for c in range(n_channels):
                cov[k, c, c] = np.float64(out_cov[plane, c, y, x_pixel])
        else:
            cov[k, 0, 0] = np.float64(out_cov[plane, 0, y, x_pixel])
            cov[k, 1, 0] = np.float64(out_cov[plane, 1, y, x_pixel])
            cov[k, 2, 0] = np.float64(out_cov[plane, 2, y, x_pixel])
            cov[k, 1, 1] = np.float64(out_cov[plane, 3, y, x_pixel])
            cov[k, 2, 1] = np.float64(out_cov[plane, 4, y, x_pixel])
            cov[k, 2, 2] = np.float64(out_cov[plane, 5, y, x_pixel])
    for k in range(n_live, weights.shape[0]):
        weights[k] = 0.0


@kernel_jit(inline="always")
def _n_free_parameters(cov_kind, n_comp, n_channels):
    """Free parameters of a mixture: weights, means and covariances of the type."""
    triangle = n_channels * (n_channels + 1) // 2
    if cov_kind == 0:
        covariance = n_comp
    elif cov_kind == 1:
        covariance = n_comp * n_channels
    elif cov_kind == 2:
        covariance = n_comp * triangle
    else:
        covariance = triangle
    return (n_comp - 1) + n_comp * n_channels + covariance


@kernel_jit(parallel=True)
def fit_em(samples, scale, cov_kind, k_min, k_max, n_init, max_iter, tol, init_kind,
           init_labels, seed, reg_covar, constrain, var_min, var_max, max_corr, min_weight,
           out_weights, out_cov, out_means, n_modes, log_likelihood):
    """Fit every pixel's Gaussian mixture by EM and write it as model state.

    Parameters
    ----------
    samples : ndarray (N, H, W, C), uint8, uint16 or float32
        The frames; C in {1, 3}, N >= 2. Read as ``float32(value) * scale``
        (as the online kernels read frames), then in float64.
    scale : float32
        ``intensity_scale``.
    cov_kind : int
        0 spherical, 1 diag, 2 full, 3 tied.
    k_min, k_max : int
        Component counts tried, ``1 <= k_min <= k_max <= K`` (the state's
        slots); with ``k_min < k_max`` each pixel keeps the count of lowest
        BIC ``-2 N L + p log N`` (``p`` free parameters of the type).
    n_init : int
        Restarts per count (k-means++ only); the highest ``L`` is kept.
    max_iter : int
        Most M steps per run, >= 1.
    tol : float
        Stop when the mean log-likelihood per sample changes by less.
    init_kind : int
        0 k-means++ then Lloyd, 1 luminance quantiles, 2 ``init_labels``.
    init_labels : ndarray (N, H, W), int32
        Labels in ``[0, k_max)`` for ``init_kind = 2`` (else any array).
    seed : uint64
        Seed of the k-means++ streams.
    reg_covar : float
        Added to the diagonal of every covariance in the M step.
    constrain : bool
        Project covariances onto the model's bounds (see the module notes).
    var_min, var_max, max_corr : float32
        The model's bounds, used with ``constrain``.
    min_weight : float
        Components lighter than this after EM are dropped (the heaviest is
        always kept) and the weights renormalised.
    out_weights : ndarray (K, H, W), float32
        Weights, heaviest first; unused slots 0.
    out_cov : ndarray (K, P, H, W) or (1, P, H, W) for tied, float32
        The model's covariances: spherical (K, 1, H, W) total variance over
        channels; diag (K, C, H, W); full (K, 6 or 1, H, W) upper triangle
        xx, xy, xz, yy, yz, zz; tied plane 0 only.
    out_means : ndarray (K, C, H, W), float32
    n_modes : ndarray (H, W), uint8
        Components written per pixel.
    log_likelihood : ndarray (H, W), float32
        Mean log-likelihood per sample of the parameters written.
    """
    n_samples, height, width, n_channels = samples.shape
    n_slots = out_weights.shape[0]
    log_n = math.log(n_samples)
    var_min64 = np.float64(var_min)
    var_max64 = np.float64(var_max)
    max_corr64 = np.float64(max_corr)
    for y in prange(height):
        # Working buffers, once per row.
        x = np.empty((n_samples, n_channels))
        resp = np.empty((n_samples, n_slots))
        labels = np.empty(n_samples, np.int64)
        order = np.empty(max(n_samples, n_slots), np.int64)
        closest = np.empty(n_samples)
        trial = np.empty(max(n_samples, n_channels))
        best_trial = np.empty(n_samples)
        weights = np.empty(n_slots)
        means = np.empty((n_slots, n_channels))
        cov = np.zeros((n_slots, n_channels, n_channels))
        chol = np.zeros((n_slots, n_channels, n_channels))
        inverse_pivot = np.empty((n_slots, n_channels))
        shift = np.empty(n_channels)
        log_det = np.empty(n_slots)
        z = np.empty(n_channels)
        run_weights = np.empty(n_slots)
        run_means = np.empty((n_slots, n_channels))
        run_cov = np.zeros((n_slots, n_channels, n_channels))
        best_weights = np.empty(n_slots)
        best_means = np.empty((n_slots, n_channels))
        best_cov = np.zeros((n_slots, n_channels, n_channels))
        for x_pixel in range(width):
            for c in range(n_channels):
                total = 0.0
                for n in range(n_samples):
                    x[n, c] = np.float64(np.float32(samples[n, y, x_pixel, c]) * scale)
                    total += x[n, c]
                shift[c] = total / n_samples
            # EM on samples centred on their mean: see _m_step; means shift back on output.
            for n in range(n_samples):
                for c in range(n_channels):
                    x[n, c] -= shift[c]
            pixel = y * width + x_pixel
            best_bic = np.inf
            for n_comp in range(k_min, k_max + 1):
                runs = n_init if init_kind == 0 else 1
                best_run = -np.inf
                for restart in range(runs):
                    if init_kind == 0:
                        state = _stream(seed, pixel, n_comp, restart)
                        _kmeans_labels(x, n_samples, n_channels, n_comp, state, means,
                                       closest, trial, best_trial, labels)
                    elif init_kind == 1:
                        _quantile_labels(x, n_samples, n_channels, n_comp, closest, order,
                                         labels)
                    else:
                        for n in range(n_samples):
                            labels[n] = init_labels[n, y, x_pixel]
                    for n in range(n_samples):
                        for k in range(n_comp):
                            resp[n, k] = 1.0 if labels[n] == k else 0.0
                    for k in range(n_comp):
                        weights[k] = 1.0
                    _m_step(x, n_samples, n_channels, n_comp, cov_kind, resp, weights, means,
                            cov, reg_covar, constrain, var_min64, var_max64, max_corr64)
                    previous = -np.inf
                    for _ in range(max_iter):
                        current = _e_step(x, n_samples, n_channels, n_comp, weights, means,
                                          cov, chol, inverse_pivot, log_det, resp, z)
                        _m_step(x, n_samples, n_channels, n_comp, cov_kind, resp, weights,
                                means, cov, reg_covar, constrain, var_min64, var_max64,
                                max_corr64)
                        if abs(current - previous) < tol:
                            break
                        previous = current
                    current = _e_step(x, n_samples, n_channels, n_comp, weights, means, cov,
                                      chol, inverse_pivot, log_det, resp, z)
                    if current > best_run:
                        best_run = current
                        _copy_params(n_comp, n_channels, weights, means, cov,
                                     run_weights, run_means, run_cov)
                bic = 0.0
                if k_min < k_max:
                    n_live = 0
                    for k in range(n_comp):
                        if run_weights[k] > 0.0:
                            n_live += 1
                    bic = (-2.0 * n_samples * best_run
                           + _n_free_parameters(cov_kind, n_live, n_channels) * log_n)
                if n_comp == k_min or bic < best_bic:
                    best_bic = bic
                    _copy_params(n_slots, n_channels, run_weights, run_means, run_cov,
                                 best_weights, best_means, best_cov)
            # Drop weak components (never the heaviest); _write_state renormalises.
            heaviest = 0
            for k in range(n_slots):
                if best_weights[k] > best_weights[heaviest]:
                    heaviest = k
            for k in range(n_slots):
                if k != heaviest and best_weights[k] < min_weight:
                    best_weights[k] = 0.0
            n_live = _write_state(y, x_pixel, n_channels, n_slots, cov_kind, constrain,
                                  var_min, var_max, max_corr, best_weights, best_means,
                                  best_cov, shift, out_weights, out_cov, out_means, n_modes,
                                  order)
            _read_state(y, x_pixel, n_channels, n_live, cov_kind, out_weights, out_cov,
                        out_means, shift, weights, means, cov)
            log_likelihood[y, x_pixel] = np.float32(_e_step(
                x, n_samples, n_channels, n_slots, weights, means, cov, chol, inverse_pivot, log_det, resp, z))
