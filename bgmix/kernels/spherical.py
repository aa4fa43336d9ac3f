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
the next frame); and two where OpenCV's state breaks the mixture's
invariants (every component pruned: the new one gets weight 1; a subnormal
rate rounding a matched weight to 0: that component is not learned).

Each row is processed in two sweeps. The first settles the common pixels
(one to five live components, the sample matching the heaviest one as
background) with straight-line code that the compiler vectorises; the
general per-pixel update, with its data-dependent loops, then runs only for
the pixels the first sweep left, and first tries the next commonest case on
real footage, two components with the sample matching the lighter one, in
straight-line code. All paths compute the same float32 operations in the
same order. The general update is this kernel's own (the other types share
theirs, through :func:`~bgmix.kernels._common.build_general_update`):
sharing it cost 5-9% of the frame time on busy real footage.

Why real footage was slower than synthetic scenes (road clip, 640x360):
its pixels hold more components (58% two, 32% three, 9% four or five, at
OpenCV's defaults) and 25% of them match a component other than the
heaviest, so 45% of the pixels took the general update, at several times
the cost of a settled pixel (its mode loop branches on the data); and that
work was uneven over the frame (busier at the top), which the contiguous
halves of a two-thread ``prange`` split unevenly. Now 16% of the pixels
take the general update, and rows are dealt to the threads in bands spread
over the frame (:func:`~bgmix.kernels._common.spread_row_stride`).
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
    spread_row_stride,
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

        A pixel is settled here when it has one to five live components, its
        sample matches the heaviest one (``D2 < var_threshold_gen``) and lies
        within ``var_threshold`` of it, component 0 is not pruned, and no
        other component is pruned but perhaps the lightest (the general
        update drops the last live component when an earlier one is pruned,
        as OpenCV's loop). The general update then reduces to: update
        component 0, decay (and perhaps prune the lightest of) the others,
        renormalise; mask 0. Settled pixels get mask 0; every other pixel
        gets mask 1 and its state is written back unchanged, for the general
        update. ``distance2[x]`` receives the squared Mahalanobis distance to
        component 0 (for the probability).

        Up to five components, not only two: on real footage most pixels
        hold two to five (a road clip: 58% two, 32% three, 9% four or
        five), and a pixel with three that matches its heaviest took the
        general update, 16% of the road clip's pixels.

        It runs as three loops over the row, each vectorised (as
        :func:`~bgmix.kernels._common.build_settle`, whose structure this
        follows): the distance to component 0; the decision and the weights
        (writing ``k = alpha / weight`` of component 0 to a row buffer);
        component 0's mean and variance. One loop with all of those loads and
        stores needs more runtime alias checks than LLVM makes, and runs
        scalar. The float32 operations are the general update's, in its order.
        """
        # Buffers allocated here are known not to alias the state, which the
        # vectoriser needs; the row is returned for the general update.
        row = np.empty((frame.shape[2], frame.shape[1]), np.float32)
        load_row(frame, y, scale, row)
        width = frame.shape[1]
        gain = np.empty(width, np.float32)
        sample_distance2 = np.empty(width, np.float32)  # |x - mu_0|^2, not scaled
        # A local copy of the known-foreground row: read in place, at a
        # runtime row, it makes the runtime alias checks fail.
        known = np.empty(width, np.uint8)
        for x in range(width):
            known[x] = known_foreground[known_row, x]
        # Rows of the weight planes of components 1-4; slots the model does
        # not have (n_components < 5) read and write zeroed stand-ins, never
        # live. (Aliasing them onto an existing plane would make the runtime
        # alias checks fail and the loop run scalar.)
        n_planes = weights.shape[0]
        spare = np.zeros((max(0, 5 - n_planes), width), np.float32)
        weights_1 = weights[1, y] if n_planes > 1 else spare[1 - n_planes]
        weights_2 = weights[2, y] if n_planes > 2 else spare[2 - n_planes]
        weights_3 = weights[3, y] if n_planes > 3 else spare[3 - n_planes]
        weights_4 = weights[4, y] if n_planes > 4 else spare[4 - n_planes]
        zero = np.float32(0.0)
        one = np.float32(1.0)
        a = alpha
        a1 = one - a
        p = prune

        # 1. Squared distance to component 0.
        for x in range(width):
            d0 = means[0, 0, y, x] - row[0, x]
            dist2 = d0 * d0
            if three:
                d1 = means[0, 1, y, x] - row[1, x]
                d2 = means[0, 2, y, x] - row[2, x]
                dist2 += d1 * d1
                dist2 += d2 * d2
            sample_distance2[x] = dist2
            distance2[x] = dist2 / variances[0, y, x]

        # 2. The decision and the weights.
        for x in range(width):
            nm = n_modes[y, x]
            dist2 = sample_distance2[x]
            v0 = variances[0, y, x]
            w0 = weights[0, y, x]
            weight0 = a1 * w0 + p
            weight0 += a
            # Components 1-4 decay; "pruned" only counts live ones.
            w1 = weights_1[x]
            live_1 = nm > 1
            weight1 = a1 * w1 + p
            pruned_1 = live_1 & (weight1 < -p)
            weight1 = zero if pruned_1 else weight1
            w2 = weights_2[x]
            live_2 = nm > 2
            weight2 = a1 * w2 + p
            pruned_2 = live_2 & (weight2 < -p)
            weight2 = zero if pruned_2 else weight2
            w3 = weights_3[x]
            live_3 = nm > 3
            weight3 = a1 * w3 + p
            pruned_3 = live_3 & (weight3 < -p)
            weight3 = zero if pruned_3 else weight3
            w4 = weights_4[x]
            live_4 = nm > 4
            weight4 = a1 * w4 + p
            pruned_4 = live_4 & (weight4 < -p)
            weight4 = zero if pruned_4 else weight4
            # Summed in the general update's order.
            total = weight0
            total += weight1 if live_1 else zero
            total += weight2 if live_2 else zero
            total += weight3 if live_3 else zero
            total += weight4 if live_4 else zero
            inv_total = one / total if abs(total) > FLT_EPSILON else zero
            early_pruned = (pruned_1 & live_2) | (pruned_2 & live_3) | (pruned_3 & live_4)
            any_pruned = pruned_1 | pruned_2 | pruned_3 | pruned_4
            # Bitwise '&', not 'and': short-circuit branches would stop the
            # compiler from vectorising the loop.
            settled = (
                (nm >= 1) & (nm <= 5)
                & (dist2 < var_threshold_gen * v0)
                & (dist2 < var_threshold * v0)
                & (weight0 > zero)
                & (weight0 >= -p)
                & (not early_pruned)
                & (known[x] == 0)
            )
            gain[x] = a / weight0
            # Every slot is written, unsettled and dead ones with their own
            # values: unconditional stores of selected values keep the loop
            # vectorised.
            weights_4[x] = weight4 * inv_total if settled & live_4 else w4
            weights_3[x] = weight3 * inv_total if settled & live_3 else w3
            weights_2[x] = weight2 * inv_total if settled & live_2 else w2
            weights_1[x] = weight1 * inv_total if settled & live_1 else w1
            weights[0, y, x] = weight0 * inv_total if settled else w0
            n_modes[y, x] = nm - (1 if settled & any_pruned else 0)
            mask[y, x] = 0 if settled else 1

        # 3. Component 0's mean and variance where settled.
        for x in range(width):
            settled = mask[y, x] == 0
            k = gain[x]
            v0 = variances[0, y, x]
            var_new = v0 + k * (sample_distance2[x] - v0)
            var_new = max(var_new, var_min)
            var_new = min(var_new, var_max)
            variances[0, y, x] = var_new if settled else v0
            m0 = means[0, 0, y, x]
            means[0, 0, y, x] = m0 - k * (m0 - row[0, x]) if settled else m0
            if three:
                m1 = means[0, 1, y, x]
                m2 = means[0, 2, y, x]
                means[0, 1, y, x] = m1 - k * (m1 - row[1, x]) if settled else m1
                means[0, 2, y, x] = m2 - k * (m2 - row[2, x]) if settled else m2
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
    # Bands of rows, spread over the threads (see spread_row_stride); rows
    # within a band run in order, which keeps the hardware prefetchers
    # streaming each state plane from one row into the next.
    band_rows = 8
    height = frame.shape[0]
    n_bands = (height + band_rows - 1) // band_rows
    stride = spread_row_stride(n_bands)
    for step in prange(n_bands):
        band = (step * stride) % n_bands
        for y in range(band * band_rows, min(height, (band + 1) * band_rows)):
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
            if frame.shape[2] == 3:
                for i in range(n_pending):
                    _UPDATE_PIXEL_RGB(
                        y, pending[i], row, weights, variances, means, n_modes, mask,
                        probability, known_foreground, alpha, prune,
                        var_threshold, background_ratio, var_threshold_gen,
                        var_init, var_min, var_max, tau, detect_shadows,
                        shadow_value, use_known_foreground, want_probability,
                    )
            else:
                for i in range(n_pending):
                    _UPDATE_PIXEL_GRAY(
                        y, pending[i], row, weights, variances, means, n_modes, mask,
                        probability, known_foreground, alpha, prune,
                        var_threshold, background_ratio, var_threshold_gen,
                        var_init, var_min, var_max, tau, detect_shadows,
                        shadow_value, use_known_foreground, want_probability,
                    )


def _build_update_pixel(n_channels):
    """The general per-pixel update, specialised for 1- or 3-channel frames.

    With the channel count a compile-time constant the channel loops are
    unrolled and the pixel's distances stay in registers (on the road clip
    the general update runs for about 40% of the pixels).
    """

    @njit(inline="always", **JIT_OPTIONS)
    def match_second_of_two(y, x, row, weights, variances, means, mask, probability,
                            alpha, prune, var_threshold, background_ratio,
                            var_threshold_gen, var_min, var_max, want_probability):
        """Settle a two-component background pixel whose sample matches the
        second (lighter) component but not the first; False, with nothing
        written, for any other pixel.

        On real footage this is the commonest pixel the first sweep leaves
        (a quarter of all pixels of the road clip: a second mode that the
        noise visits as often as the first). The general update reaches the
        same result through its data-dependent mode loop, whose branches
        are mispredicted about half of the time; this is its float32
        arithmetic for this case in the same order, straight-line. The
        caller has checked that the pixel has two live components and is
        learned (``alpha > 0``, not known foreground).
        """
        zero = np.float32(0.0)
        one = np.float32(1.0)
        a = alpha
        p = prune
        v0 = variances[0, y, x]
        v1 = variances[1, y, x]
        dist0 = zero
        dist1 = zero
        for c in range(n_channels):
            d = means[0, c, y, x] - row[c, x]
            dist0 += d * d
        for c in range(n_channels):
            d = means[1, c, y, x] - row[c, x]
            dist1 += d * d
        if dist0 < var_threshold_gen * v0 or not dist1 < var_threshold_gen * v1:
            return False
        weight0 = (one - a) * weights[0, y, x] + p
        weight1 = (one - a) * weights[1, y, x] + p
        weight1 += a
        second_is_background = weight0 < background_ratio and dist1 < var_threshold * v1
        if (weight0 < -p or not weight1 > zero or weight1 < -p
                or not (dist0 < var_threshold * v0 or second_is_background)):
            return False  # pruning, or not background: the general update
        k = a / weight1
        for c in range(n_channels):
            d = means[1, c, y, x] - row[c, x]
            means[1, c, y, x] -= k * d
        var_new = v1 + k * (dist1 - v1)
        var_new = max(var_new, var_min)
        var_new = min(var_new, var_max)
        variances[1, y, x] = var_new
        total = weight0 + weight1
        inv_total = zero
        if abs(total) > FLT_EPSILON:
            inv_total = one / total
        weights[0, y, x] = weight0
        if weight1 < weight0:
            weights[1, y, x] = weight1
        else:
            # The matched component bubbles up past the lighter first one.
            swap_components(weights, variances, means, 1, 0, y, x)
            weights[0, y, x] = weight1
        weights[0, y, x] *= inv_total
        weights[1, y, x] *= inv_total
        mask[y, x] = 0
        if want_probability:
            nearest = dist0 / v0
            if weight0 < background_ratio:
                nearest = min(nearest, dist1 / v1)
            probability[y, x] = foreground_probability(nearest, var_threshold, True)
        return True

    @njit(inline="always", **JIT_OPTIONS)
    def update_pixel(y, x, row, weights, variances, means, n_modes, mask,
                      probability, known_foreground, alpha, prune, var_threshold,
                      background_ratio, var_threshold_gen, var_init, var_min,
                      var_max, tau, detect_shadows, shadow_value,
                      use_known_foreground, want_probability):
        """The general update of pixel ``(y, x)``: OpenCV's ``MOG2Invoker`` body.

        It runs only for the pixels the first sweep did not settle; it is
        inlined into the kernel's row loop (a call per pixel costs twice the
        time on scenes where many pixels take this path). The commonest
        case left, two components and a match with the lighter, is tried
        first, in straight-line code (:func:`match_second_of_two`).
        """
        if (_two_components_learned(n_modes, y, x, alpha, known_foreground,
                                    use_known_foreground)
                and match_second_of_two(y, x, row, weights, variances, means, mask,
                                        probability, alpha, prune, var_threshold,
                                        background_ratio, var_threshold_gen, var_min,
                                        var_max, want_probability)):
            return
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
                    # skipping it avoids 0/0 on a component of weight 0; a
                    # subnormal rate can round the new weight to 0, and the
                    # gain a / 0 = inf would make the mean NaN.
                    if a > zero and weight > zero:
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

        # No component explains the sample, or every component was pruned
        # (even the matched one, when the pruning rate alpha * c_T exceeds
        # what the match adds) and no weight is left: a new one replaces
        # the weakest, or is added when there is room.
        if (not fits or inv_total == zero) and a > zero:
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
            if rest > FLT_EPSILON:
                weights[new, y, x] = a
                # A replaced component's weight leaves the mixture: the rest
                # are renormalised so that the weights still sum to 1.
                # (OpenCV drops that weight until the next frame's
                # renormalisation.)
                scale_rest = a1 / rest if replace else a1
                for i in range(nm - 1):
                    weights[i, y, x] *= scale_rest
            else:
                # Nothing left: the first component, or every visited one
                # was pruned (the loop stops early, so a live component may
                # keep weight 0). The new one takes all the weight, as
                # OpenCV gives a sole component; weight alpha would leave
                # the weights summing to alpha.
                weights[new, y, x] = one
                for i in range(nm - 1):
                    weights[i, y, x] *= a1
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


    return update_pixel


@njit(inline="always", **JIT_OPTIONS)
def _two_components_learned(n_modes, y, x, alpha, known_foreground, use_known_foreground):
    """Whether pixel ``(y, x)`` has two live components and is learned."""
    if n_modes[y, x] != 2 or not alpha > 0:
        return False
    return not (use_known_foreground and known_foreground[y, x] != 0)


_UPDATE_PIXEL_GRAY = _build_update_pixel(1)
_UPDATE_PIXEL_RGB = _build_update_pixel(3)

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
            overflow = False
            for c in range(n_channels):
                out[y, x, c] *= inv_total
                overflow |= not abs(out[y, x, c]) <= np.float32(3.4028235e38)
            if overflow:
                # Means near float32's maximum: the weighted sum, or the sum
                # times 1 / total (total just below 1), exceeds it. Redo the
                # pixel in float64 (every other pixel keeps OpenCV's float32
                # result bit for bit).
                _background_pixel_float64(weights, means, n_modes, background_ratio, out, y, x)


@njit(inline="always", **JIT_OPTIONS)
def _background_pixel_float64(weights, means, n_modes, background_ratio, out, y, x):
    """:func:`background_image_spherical` of pixel ``(y, x)`` summed in float64."""
    n_channels = means.shape[1]
    total = np.float32(0.0)
    total64 = 0.0
    n_used = 0
    for k in range(n_modes[y, x]):
        total += weights[k, y, x]
        total64 += np.float64(weights[k, y, x])
        n_used += 1
        if total > background_ratio:
            break
    for c in range(n_channels):
        acc = 0.0
        for k in range(n_used):
            acc += np.float64(weights[k, y, x]) * np.float64(means[k, c, y, x])
        value = acc / total64 if total64 > 0.0 else 0.0
        # A weighted mean lies within the means: clamp rounding's excess.
        out[y, x, c] = np.float32(min(max(value, -3.4028234663852886e38), 3.4028234663852886e38))
