"""One variance per component: Zivkovic's adaptive mixture, as OpenCV MOG2.

State is component-planar: component ``k`` of pixel ``(y, x)`` is
``weights[k, y, x]``, ``variances[k, y, x]`` and ``means[k, c, y, x]``, and
``n_modes[y, x]`` says how many components are live. A pixel with one live
component touches one plane of each array (OpenCV's pixel-interleaved layout
streams all ``K`` slots of every pixel through the cache), and each plane is
read with unit stride.

The arithmetic follows OpenCV's ``MOG2Invoker`` operation for operation in
float32, so masks agree bit for bit on 8-bit input, but for one deliberate
change: when a full mixture replaces its weakest component, the remaining
weights are renormalised to sum to 1 (OpenCV lets the sum fall short until
the next frame). Each row is processed in
two sweeps. The first settles the common pixels (one or two live components,
the sample matching the heaviest one as background) with straight-line code
that the compiler vectorises; the general per-pixel update, with its
data-dependent loops, then runs only for the pixels the first sweep left.
Both sweeps compute the same float32 operations in the same order. The
general update is this kernel's own (the other types share theirs, through
:func:`~bgmix.kernels._common.build_general_update`): sharing it cost 5-9%
of the frame time on busy real footage.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from bgmix.kernels._common import (
    FLT_EPSILON,
    background_log_likelihood_row,
    foreground_probability,
    is_shadow_spherical,
    load_row,
    swap_components,
)
from bgmix.kernels._config import JIT_OPTIONS


def _build_settle(n_channels):
    """The first sweep, specialised for 1- or 3-channel frames.

    The channel count must be a compile-time constant inside the sweep: a
    runtime test there stops LLVM from vectorising it. Numba caches each
    closure separately (its cache key includes the captured constant).
    """
    three = n_channels == 3

    @njit(**JIT_OPTIONS)
    def settle_common_pixels(y, frame, scale, weights, variances, means, n_modes, mask,
                             known_foreground, known_row, distance2, alpha, prune,
                             var_threshold, var_threshold_gen, var_min, var_max):
        """Settle, without branches, the pixels of row ``y`` whose update is simple.

        A pixel is settled here when it has one or two live components, its
        sample matches the heaviest one (``D2 < var_threshold_gen``) and lies
        within ``var_threshold`` of it, and component 0 is not pruned. The
        general update then reduces to: update component 0, decay (and perhaps
        prune) component 1, renormalise; mask 0. Settled pixels get mask 0; every
        other pixel gets mask 1 and its state is written back unchanged, for
        :func:`_update_remaining_pixels`. ``distance2[x]`` receives the squared
        Mahalanobis distance to component 0 (for the probability).

        The loop must stay free of branches the compiler cannot turn into
        selects, or it is no longer vectorised: options are passed as data
        (``known_row``) rather than as flags.
        """
        # A row buffer allocated here is known not to alias the state, which
        # the vectoriser needs; it is returned for the general update.
        row = np.empty((frame.shape[2], frame.shape[1]), np.float32)
        load_row(frame, y, scale, row)
        # Where only one component exists, "component 1" aliases component 0;
        # it is stored first, so component 0's own store wins.
        plane_1 = min(1, weights.shape[0] - 1)
        zero = np.float32(0.0)
        one = np.float32(1.0)
        a = alpha
        a1 = one - a
        p = prune
        for x in range(row.shape[1]):
            nm = n_modes[y, x]
            w0 = weights[0, y, x]
            v0 = variances[0, y, x]
            m0 = means[0, 0, y, x]
            d0 = m0 - row[0, x]
            dist2 = d0 * d0
            m1 = zero
            m2 = zero
            d1 = zero
            d2 = zero
            if three:
                m1 = means[0, 1, y, x]
                m2 = means[0, 2, y, x]
                d1 = m1 - row[1, x]
                d2 = m2 - row[2, x]
                dist2 += d1 * d1
                dist2 += d2 * d2
            weight0 = a1 * w0 + p
            weight0 += a
            k = a / weight0
            var_new = v0 + k * (dist2 - v0)
            var_new = max(var_new, var_min)
            var_new = min(var_new, var_max)
            has_second = nm == 2
            w1 = weights[plane_1, y, x]
            weight1 = a1 * w1 + p
            second_pruned = has_second & (weight1 < -p)
            weight1 = zero if second_pruned else weight1
            total = weight0 + weight1 if has_second else weight0
            inv_total = one / total if abs(total) > FLT_EPSILON else zero
            # Bitwise '&', not 'and': short-circuit branches would stop the
            # compiler from vectorising the loop.
            settled = (
                ((nm == 1) | has_second)
                & (dist2 < var_threshold_gen * v0)
                & (dist2 < var_threshold * v0)
                & (weight0 > zero)
                & (weight0 >= -p)
                & (known_foreground[known_row, x] == 0)
            )
            distance2[x] = dist2 / v0
            # Every pixel is written, unsettled ones with their own values:
            # unconditional stores of selected values keep the loop vectorised.
            update_second = settled & has_second
            weights[plane_1, y, x] = (weight1 if second_pruned else weight1 * inv_total) if update_second else w1
            n_modes[y, x] = (1 if second_pruned else 2) if update_second else nm
            weights[0, y, x] = weight0 * inv_total if settled else w0
            variances[0, y, x] = var_new if settled else v0
            means[0, 0, y, x] = m0 - k * d0 if settled else m0
            if three:
                means[0, 1, y, x] = m1 - k * d1 if settled else m1
                means[0, 2, y, x] = m2 - k * d2 if settled else m2
            mask[y, x] = 0 if settled else 1
        return row

    return settle_common_pixels


_SETTLE_GRAY = _build_settle(1)
_SETTLE_RGB = _build_settle(3)


@njit(parallel=True, **JIT_OPTIONS)
def update_spherical(frame, scale, weights, variances, means, n_modes, mask,
           probability, known_foreground, alpha, prune, var_threshold,
           background_ratio, var_threshold_gen, var_init, var_min,
           var_max, tau, detect_shadows, shadow_value,
           use_known_foreground, want_probability, log_likelihood,
           want_log_likelihood):
    """Classify one frame and update the mixture in place, in one pass.

    Parameters
    ----------
    frame : ndarray, (H, W, C), uint8, uint16 or float32, C in {1, 3}
        The new frame; ``frame * scale`` is in model units.
    scale : float32
        Factor from frame values to model units.
    weights, variances : ndarray, (K, H, W), float32
        Component weights (sorted, descending) and variances.
    means : ndarray, (K, C, H, W), float32
        Component means.
    n_modes : ndarray, (H, W), uint8
        Live components per pixel.
    mask : ndarray, (H, W), uint8
        Output: 0 background, ``shadow_value`` shadow, 255 foreground.
    probability : ndarray, (H, W) float32, or any 2-D float32 array
        Output foreground probability, written when ``want_probability``.
    known_foreground : ndarray, (H, W) uint8, or any 2-D uint8 array
        Pixels that are non-zero are classified but not learned (their
        learning rate is 0), read when ``use_known_foreground``.
    alpha, prune : float32
        Learning rate and ``-alpha * complexity_reduction``.
    var_threshold, background_ratio, var_threshold_gen, var_init, var_min, var_max, tau : float32
        Model parameters (``var_min <= var_max``).
    detect_shadows : bool
    shadow_value : uint8
    use_known_foreground, want_probability : bool
    log_likelihood : ndarray, (H, W) float32, or any 2-D float32 array
        Output, written when ``want_log_likelihood``: each pixel's
        log-likelihood under its background components, from the state
        before this frame is learned
        (:func:`~bgmix.kernels._common.background_log_likelihood`).
    want_log_likelihood : bool
    """
    # The log-likelihood reads the variances as the other types' planes.
    cov = variances.reshape((variances.shape[0], 1, variances.shape[1], variances.shape[2]))
    # Known-foreground rows are read at row y * known_step: 0 reads the
    # caller's dummy row of zeros, which keeps that test branch-free.
    known_step = 1 if use_known_foreground else 0
    for y in prange(frame.shape[0]):
        if want_log_likelihood:
            background_log_likelihood_row(frame, y, scale, weights, cov, means, n_modes, 1,
                                          True, background_ratio, log_likelihood)
        distance2 = np.empty(frame.shape[1], np.float32)
        if frame.shape[2] == 3:
            row = _SETTLE_RGB(
                y, frame, scale, weights, variances, means, n_modes, mask,
                known_foreground, y * known_step, distance2, alpha, prune,
                var_threshold, var_threshold_gen, var_min, var_max,
            )
        else:
            row = _SETTLE_GRAY(
                y, frame, scale, weights, variances, means, n_modes, mask,
                known_foreground, y * known_step, distance2, alpha, prune,
                var_threshold, var_threshold_gen, var_min, var_max,
            )
        if want_probability:
            for x in range(frame.shape[1]):
                if mask[y, x] == 0:
                    probability[y, x] = foreground_probability(
                        distance2[x], var_threshold, True)
        # Gather the unsettled pixels first: a loop that skips settled
        # pixels around the large inlined body is slow even when it skips.
        pending = np.empty(frame.shape[1], np.int64)
        n_pending = 0
        for x in range(frame.shape[1]):
            if mask[y, x] != 0:
                pending[n_pending] = x
                n_pending += 1
        for i in range(n_pending):
            x = pending[i]
            _update_pixel(
                y, x, row, weights, variances, means, n_modes, mask,
                probability, known_foreground, alpha, prune,
                var_threshold, background_ratio, var_threshold_gen,
                var_init, var_min, var_max, tau, detect_shadows,
                shadow_value, use_known_foreground, want_probability,
            )


@njit(inline="always", **JIT_OPTIONS)
def _update_pixel(y, x, row, weights, variances, means, n_modes, mask,
                  probability, known_foreground, alpha, prune, var_threshold,
                  background_ratio, var_threshold_gen, var_init, var_min,
                  var_max, tau, detect_shadows, shadow_value,
                  use_known_foreground, want_probability):
    """The general update of pixel ``(y, x)``: OpenCV's ``MOG2Invoker`` body.

    It runs only for the pixels the first sweep did not settle; it is
    inlined into the kernel's row loop (a call per pixel costs twice the
    time on scenes where many pixels take this path).
    """
    n_channels = row.shape[0]
    max_modes = weights.shape[0]
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
            var = variances[mode, y, x]
            dist2 = zero
            for c in range(n_channels):
                d = means[mode, c, y, x] - row[c, x]
                dist2 += d * d
            if total < background_ratio:
                if dist2 < var_threshold * var:
                    background = True
                if want_probability:
                    min_d2 = min(min_d2, dist2 / var)
            if dist2 < var_threshold_gen * var:
                fits = True
                weight += a
                # With a zero rate the update is the identity, and
                # skipping it avoids 0/0 on a component of weight 0.
                if a > zero:
                    k = a / weight
                    for c in range(n_channels):
                        d = means[mode, c, y, x] - row[c, x]
                        means[mode, c, y, x] -= k * d
                    var_new = var + k * (dist2 - var)
                    var_new = max(var_new, var_min)
                    var_new = min(var_new, var_max)
                    variances[mode, y, x] = var_new
                # The matched component can only rise: bubble it up past
                # lighter ones; its new weight is stored below.
                for i in range(mode, 0, -1):
                    if weight < weights[i - 1, y, x]:
                        break
                    swap_count += 1
                    swap_components(weights, variances, means, i, i - 1, y, x)
        # Dirichlet-prior pruning: a component whose weight the prior
        # drives below zero is dropped. OpenCV shortens the loop here
        # rather than compacting; kept so that masks stay identical.
        if weight < -p:
            weight = zero
            nm -= 1
        weights[mode - swap_count, y, x] = weight
        total += weight
        mode += 1

    inv_total = zero
    if abs(total) > FLT_EPSILON:
        inv_total = one / total
    for m in range(nm):
        weights[m, y, x] *= inv_total

    if not fits and a > zero:
        # No component explains the sample: a new one replaces the
        # weakest, or is added when there is room.
        scale_rest = a1
        if nm == max_modes:
            new = max_modes - 1
            # The replaced component's weight leaves the mixture: the rest
            # are renormalised so that the weights still sum to 1. (OpenCV
            # drops that weight until the next frame's renormalisation.)
            rest = zero
            for i in range(nm - 1):
                rest += weights[i, y, x]
            if rest > FLT_EPSILON:
                scale_rest = a1 / rest
        else:
            new = nm
            nm += 1
        if nm == 1:
            weights[new, y, x] = one
        else:
            weights[new, y, x] = a
            for i in range(nm - 1):
                weights[i, y, x] *= scale_rest
        for c in range(n_channels):
            means[new, c, y, x] = row[c, x]
        variances[new, y, x] = var_init
        for i in range(nm - 1, 0, -1):
            if a < weights[i - 1, y, x]:
                break
            swap_components(weights, variances, means, i, i - 1, y, x)

    n_modes[y, x] = np.uint8(nm)
    if background:
        mask[y, x] = 0
    elif detect_shadows and is_shadow_spherical(
        row, y, x, weights, variances, means, nm, var_threshold,
        background_ratio, tau,
    ):
        mask[y, x] = shadow_value
    else:
        mask[y, x] = 255
    if want_probability:
        probability[y, x] = foreground_probability(min_d2, var_threshold, background)


@njit(parallel=True, **JIT_OPTIONS)
def background_image_spherical(weights, means, n_modes, background_ratio, out):
    """Weighted mean of each pixel's background components, as OpenCV.

    Components are summed in weight order until their cumulative weight
    exceeds ``background_ratio``; the sum is divided by that weight.
    ``out`` is float32 (H, W, C) in model units.
    """
    height = n_modes.shape[0]
    width = n_modes.shape[1]
    n_channels = means.shape[1]
    for y in prange(height):
        for x in range(width):
            total = np.float32(0.0)
            for c in range(n_channels):
                out[y, x, c] = np.float32(0.0)
            for k in range(n_modes[y, x]):
                w = weights[k, y, x]
                for c in range(n_channels):
                    out[y, x, c] += w * means[k, c, y, x]
                total += w
                if total > background_ratio:
                    break
            inv_total = np.float32(0.0)
            if abs(total) > FLT_EPSILON:
                inv_total = np.float32(1.0) / total
            for c in range(n_channels):
                out[y, x, c] *= inv_total
