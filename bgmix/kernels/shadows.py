"""Cast shadows that agree with the scene's shadow attenuation (the ``"robust"`` preset).

OpenCV's shadow test (Prati et al. 2003) calls a sample a shadow when it is a
darker copy of a background component: a brightness ratio ``a`` in
``[shadow_threshold, 1]`` and a small chroma distortion. A dark grey car
on a grey road, a person's dark coat on a pale floor pass that test as well
as a shadow does: on CDnet 2014 ``baseline`` most pixels the test calls
shadow are objects (highway 106k against 1k real shadow pixels, pedestrians
18k against 56), while the pixels just darker than their background
(``a`` near 1: noise, the edge of a soft shade) are rightly kept.

What tells them apart is physics: the cast shadows of one light source on a
scene attenuate it by about the same factor (the share of the light that
the sky still gives), whereas the dark parts of objects are as varied as
the objects. :func:`consistent_shadows` keeps a decaying histogram of the
ratios of the *dark* shadow pixels (``a`` under ``below``) seen frame after
frame; when most of its mass lies in one narrow window of ratios (the scene's cast
shadows), a dark shadow pixel keeps its shadow label only inside that band,
and when the histogram has no such peak (no cast shadows, only objects), a
dark shadow pixel is foreground. Shadow pixels with ``a >= below`` are left
as they are (noise, soft shade), unless they lie very far from the background
(``far`` thresholds): darkened by too little for a cast shadow and by too
much for noise, they are objects a little darker than the background (on one
channel, where the shadow test has no chroma term, the common case).

The ratio is measured against the pixel's heaviest component (slot 0), the
sample scaled as the update kernel scaled it (``intensity_scale / gain``).
The kernel is serial: one pass over the byte mask, then over the dark shadow
pixels it listed; a fraction of the update's time.
"""

from __future__ import annotations

import numpy as np

from bgmix.kernels._config import kernel_jit

SHADOW_BINS = 50
"""Histogram bins over brightness ratios ``[0, 1)`` (0.02 each)."""


@kernel_jit()
def consistent_shadows(frame, sample_scale, planes, n_components, n_modes, raw, neighbour,
                       distance, threshold, shadow_value, below, far, decay, half_width,
                       min_mass, min_share, histogram, dark_pixels, dark_ratios):
    """Turn the dark shadow pixels that do not share the scene's attenuation to 255.

    Parameters
    ----------
    frame : (H, W, C) uint8, uint16 or float32
        The frame the update kernel saw.
    sample_scale : float32
        What the update multiplied the frame by (``intensity_scale / gain``).
    planes, n_components, n_modes
        The model's component-planar state after the update (slot 0 heaviest).
    raw, neighbour : (H, W) uint8, C-contiguous, updated
        The update's mask and the mask after the neighbourhood step (the same
        array without one); a demoted pixel becomes 255 in both.
    distance, threshold : (H, W) float32
        Each pixel's smallest squared distance to a background component and
        its threshold (what the update wrote and read).
    shadow_value : int
        The shadow label in the masks.
    below : float32
        Shadow pixels with a brightness ratio at least this are left alone,
        unless they lie farther than ``far`` thresholds from the background.
    far : float32
        A faint shadow (ratio at least ``below``) whose squared distance
        exceeds ``far`` times its threshold (and is finite: a background
        component to be far from) is foreground: darker by too
        little for a cast shadow and by too much for noise (on one channel,
        where the shadow test has no chroma, a slightly darker object). 0: off.
    decay : float32
        Factor applied to ``histogram`` each frame before this frame is added.
    half_width : int
        The band is the window of ``2 half_width + 1`` bins that holds the
        histogram's largest share.
    min_mass : float32
        No band until the histogram holds this much (too few shadows seen).
    min_share : float32
        The band exists when it holds at least this share of the histogram.
    histogram : (SHADOW_BINS,) float32, updated
        The decaying histogram of dark shadow ratios (the scene's memory).
    dark_pixels : (H W,) int64, dark_ratios : (H W,) float32
        Scratch: the dark shadow pixels (``y W + x``) and their ratios, in
        scan order, in the first entries.

    Returns
    -------
    (int, int)
        Number of dark shadow pixels (the first entries of the scratch
        arrays), and how many of them turned to 255.
    """
    height, width = raw.shape
    bins = histogram.size
    for b in range(bins):
        histogram[b] *= decay
    n_channels = frame.shape[2]
    label = np.uint8(shadow_value)
    n_dark = 0
    for y in range(height):
        # Most rows hold no shadow: a count that vectorises skips them.
        labelled = 0
        for x in range(width):
            labelled += raw[y, x] == label
        if labelled == 0:
            continue
        for x in range(width):
            if raw[y, x] != label or n_modes[y, x] == 0:
                continue
            index = y * width + x
            dot = np.float32(0.0)
            norm = np.float32(0.0)
            for c in range(n_channels):
                mean = planes[n_components + c, index]
                dot += np.float32(frame[y, x, c]) * sample_scale * mean
                norm += mean * mean
            if norm <= 0:
                continue
            a = dot / norm
            far_off = distance[y, x] > far * threshold[y, x] and distance[y, x] < np.inf
            if a >= below and far > 0 and far_off:
                dark_pixels[n_dark] = index
                dark_ratios[n_dark] = -1.0  # faint but far: foreground, not in the histogram
                n_dark += 1
            elif a < below:
                dark_pixels[n_dark] = index
                dark_ratios[n_dark] = a
                n_dark += 1
                histogram[min(max(int(a * bins), 0), bins - 1)] += 1.0
    # The band: the window of 2 half_width + 1 bins holding the most mass (a
    # single peak bin would jump to a dark object's bin whenever the shadows'
    # ratios straddle two bins).
    width_bins = 2 * half_width + 1
    total = np.float32(0.0)
    for b in range(bins):
        total += histogram[b]
    start = 0
    best = np.float32(-1.0)
    for b in range(bins - width_bins + 1):
        share = np.float32(0.0)
        for i in range(b, b + width_bins):
            share += histogram[i]
        if share > best:
            best = share
            start = b
    first = bins  # no band: every dark shadow pixel turns
    last = -1
    if total >= min_mass and best >= min_share * total:
        first, last = start, start + width_bins - 1
    turned = 0
    raw_pixels = raw.reshape(raw.size)
    neighbour_pixels = neighbour.reshape(neighbour.size)
    for i in range(n_dark):
        b = min(max(int(dark_ratios[i] * bins), 0), bins - 1)
        if dark_ratios[i] < 0 or b < first or b > last:
            index = dark_pixels[i]
            raw_pixels[index] = 255
            if neighbour_pixels[index] == label:
                neighbour_pixels[index] = 255
            turned += 1
    return n_dark, turned
