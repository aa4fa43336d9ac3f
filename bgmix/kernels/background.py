"""The background image: the weighted mean of each pixel's background components.

As OpenCV's ``getBackgroundImage``; it reads weights and means only, so it
serves every covariance type.
"""

from __future__ import annotations

import numpy as np
from numba import prange

from bgmix.kernels._common import FLT_EPSILON
from bgmix.kernels._config import kernel_jit


@kernel_jit(parallel=True)
def background_image(weights, means, n_modes, background_ratio, out):
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


@kernel_jit(inline="always")
def _background_pixel_float64(weights, means, n_modes, background_ratio, out, y, x):
    """:func:`background_image` of pixel ``(y, x)`` summed in float64."""
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
