"""One variance per component: Zivkovic's adaptive mixture, as OpenCV MOG2.

State is component-planar: component ``k`` of pixel ``(y, x)`` is
``weights[k, y, x]``, ``variances[k, y, x]`` and ``means[k, y, x, :]``, and
``n_modes[y, x]`` says how many components are live. A pixel with one live
component touches one plane of each array; OpenCV's pixel-interleaved layout
streams all ``K`` slots of every pixel through the cache each frame.

The arithmetic follows OpenCV's ``MOG2Invoker`` operation for operation in
float32, so masks agree bit for bit on 8-bit input.
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from bgmix.kernels._common import (
    FLT_EPSILON,
    foreground_probability,
    is_shadow_spherical,
    pixel_value,
    swap_components,
)
from bgmix.kernels._config import FASTMATH


@njit(parallel=True, cache=True, fastmath=FASTMATH, nogil=True)
def update_spherical(frame, scale, weights, variances, means, n_modes, mask,
                     probability, known_foreground, alpha, prune, var_threshold,
                     background_ratio, var_threshold_gen, var_init, var_min,
                     var_max, tau, detect_shadows, shadow_value,
                     use_known_foreground, want_probability):
    """Classify one frame and update the mixture in place, in one pass.

    Parameters
    ----------
    frame : ndarray, (H, W, C), uint8, uint16 or float32
        The new frame; ``frame * scale`` is in model units.
    scale : float32
        Factor from frame values to model units.
    weights, variances : ndarray, (K, H, W), float32
        Component weights (sorted, descending) and variances.
    means : ndarray, (K, H, W, C), float32
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
    """
    height = frame.shape[0]
    width = frame.shape[1]
    n_channels = frame.shape[2]
    max_modes = weights.shape[0]
    zero = np.float32(0.0)
    one = np.float32(1.0)
    for y in prange(height):
        for x in range(width):
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
                        d = means[mode, y, x, c] - pixel_value(frame, y, x, c, scale)
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
                                d = means[mode, y, x, c] - pixel_value(frame, y, x, c, scale)
                                means[mode, y, x, c] -= k * d
                            var_new = var + k * (dist2 - var)
                            var_new = max(var_new, var_min)
                            var_new = min(var_new, var_max)
                            variances[mode, y, x] = var_new
                        # The matched component can only rise: bubble it up
                        # past lighter ones; its new weight is stored below.
                        for i in range(mode, 0, -1):
                            if weight < weights[i - 1, y, x]:
                                break
                            swap_count += 1
                            swap_components(weights, variances, means, i, i - 1, y, x)
                # Dirichlet-prior pruning: a component whose weight the prior
                # drives below zero is dropped. OpenCV shortens the loop here
                # rather than compacting; kept so masks stay identical.
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
                if nm == max_modes:
                    new = max_modes - 1
                else:
                    new = nm
                    nm += 1
                if nm == 1:
                    weights[new, y, x] = one
                else:
                    weights[new, y, x] = a
                    for i in range(nm - 1):
                        weights[i, y, x] *= a1
                for c in range(n_channels):
                    means[new, y, x, c] = pixel_value(frame, y, x, c, scale)
                variances[new, y, x] = var_init
                for i in range(nm - 1, 0, -1):
                    if a < weights[i - 1, y, x]:
                        break
                    swap_components(weights, variances, means, i, i - 1, y, x)

            n_modes[y, x] = np.uint8(nm)
            if background:
                mask[y, x] = 0
            elif detect_shadows and is_shadow_spherical(
                frame, y, x, scale, weights, variances, means, nm,
                var_threshold, background_ratio, tau,
            ):
                mask[y, x] = shadow_value
            else:
                mask[y, x] = 255
            if want_probability:
                probability[y, x] = foreground_probability(min_d2, var_threshold, background)


@njit(parallel=True, cache=True, fastmath=FASTMATH, nogil=True)
def background_image_spherical(weights, means, n_modes, background_ratio, out):
    """Weighted mean of each pixel's background components, as OpenCV.

    Components are summed in weight order until their cumulative weight
    exceeds ``background_ratio``; the sum is divided by that weight.
    ``out`` is float32 (H, W, C) in model units.
    """
    height = n_modes.shape[0]
    width = n_modes.shape[1]
    n_channels = means.shape[3]
    for y in prange(height):
        for x in range(width):
            total = np.float32(0.0)
            for c in range(n_channels):
                out[y, x, c] = np.float32(0.0)
            for k in range(n_modes[y, x]):
                w = weights[k, y, x]
                for c in range(n_channels):
                    out[y, x, c] += w * means[k, y, x, c]
                total += w
                if total > background_ratio:
                    break
            inv_total = np.float32(0.0)
            if abs(total) > np.float32(1.1920929e-07):
                inv_total = np.float32(1.0) / total
            for c in range(n_channels):
                out[y, x, c] *= inv_total
