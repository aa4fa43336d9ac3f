"""Pixel-level feedback and frame-level light changes (the ``"robust"`` preset).

After each frame, :func:`feedback_step` turns what the frame showed into the
per-pixel parameter planes of the next frame's update (:mod:`bgmix.kernels.update`):

- **How dynamic a pixel is.** Two running averages per pixel, as SuBSENSE's
  ``D_min(x)`` and blink map ``v(x)`` (St-Charles et al. 2015): ``distance``,
  the smallest squared distance to a background component over ``4 T_b``
  (capped at 1), averaged over the frames where the pixel was background;
  and ``blink``, raised by 1 whenever the raw decision of a background pixel
  flips and lowered by 0.1 otherwise. Swaying leaves, ripples and flicker
  drive both up; a static pixel keeps both near 0.
- **The threshold.** ``T(x) = T_b (1 + feedback (min(blink, 10) / 10 + distance))``:
  a dynamic pixel needs a larger distance to be foreground (up to ``3 T_b``
  at ``feedback=1``), a static one keeps ``T_b``.
- **Conservative update.** A pixel in the final foreground, or foreground
  in its own mixture and removed by the neighbourhood step or (next to the
  final foreground) by the median, is not learned (rate 0): a still person is not absorbed. After
  ``hold_frames`` consecutive foreground frames the pixel learns
  ``absorb_rate`` times faster than the background: a parked car or a ghost
  joins the background after the hold, and the hold is the user's choice.
- **Light changes.** When more than a fraction of the visible background turns
  foreground at once (:func:`turned_share`), the model (:mod:`bgmix.model`) flags a
  light change; the pixels that turned are then re-learned from the next
  frame (rate ``1 / alpha``, a reset) instead of staying white. The pixels
  already foreground keep their hold (a person under the lamp is still
  there); what lies under them is re-lit by :mod:`bgmix._feedback`.

Every plane is (H, W) float32 (``hold`` counts frames in float32: exact up
to 2**24), updated in place. The kernels are serial: a pass over the pixels
costs a fraction of the update's time and runs on the caller's thread.
"""

from __future__ import annotations

import numpy as np

from bgmix.kernels._common import foreground_probability, list_flagged
from bgmix.kernels._config import kernel_jit
from bgmix.kernels.cleanup import fill_holes, majority_filter

DISTANCE_RATE = 0.02
"""Weight of the current frame in the running distance average (about 50 frames)."""
BLINK_UP = 1.0
BLINK_DOWN = 0.1
BLINK_CAP = 10.0


@kernel_jit()
def turned_share(raw, previous_raw):
    """The share of the pixels not foreground (255) in ``previous_raw`` that are
    foreground in ``raw`` (uint8 planes); 0 when every pixel was foreground.

    Out of the pixels that *could* turn, not out of the frame: a lamp that
    lights a quarter of a room while people hide half of that quarter turns
    an eighth of the frame, but a quarter of what was visible.
    """
    height, width = raw.shape
    turned = 0
    visible = 0
    for y in range(height):
        # Branch-free, so that the loop vectorises.
        row_turned = 0
        row_visible = 0
        for x in range(width):
            was_background = previous_raw[y, x] != 255
            row_turned += (raw[y, x] == 255) & was_background
            row_visible += was_background
        turned += row_turned
        visible += row_visible
    if visible == 0:
        return 0.0
    return turned / visible


@kernel_jit()
def feedback_step(raw, neighbour, final, min_distance, distance, blink, hold, previous_raw, threshold,
                  rate, var_threshold, feedback, hold_frames, absorb_rate, relearn_rate,
                  light_change, conservative):
    """Update the feedback state from one frame and write the next frame's planes.

    Parameters
    ----------
    raw : (H, W) uint8
        The update kernel's mask.
    neighbour : (H, W) uint8
        ``raw`` after the neighbourhood step (``raw`` itself without one).
    final : (H, W) uint8, updated
        The mask returned to the user (after the clean-up); a light change
        clears its newly foreground pixels here.
    min_distance : (H, W) float32
        Smallest squared distance to a background component (``inf``: none).
    distance, blink, hold : (H, W) float32, updated
        The running averages and the consecutive-foreground count.
    previous_raw : (H, W) uint8, updated
        ``raw`` of the frame before; becomes this ``raw``.
    threshold, rate : (H, W) float32, written
        Next frame's ``T(x)`` and learning-rate factor.
    var_threshold, feedback, hold_frames, absorb_rate, relearn_rate : float
        ``T_b``, the feedback strength, the hold, the factor after the hold,
        and the factor of a light change's re-learn (``1 / alpha``).
    light_change : bool
        This frame is a light change: its newly foreground pixels re-learn.
    conservative : bool
        Held pixels are not learned (``hold_frames > 0``); False: every
        pixel learns at the scalar rate (MOG2's update).
    """
    height, width = raw.shape
    tb = np.float32(var_threshold)
    scale = np.float32(1.0) / (np.float32(4.0) * tb)
    gain = np.float32(feedback)
    one = np.float32(1.0)
    zero = np.float32(0.0)
    # A row's pixels foreground in none of raw, previous_raw and final (most
    # of a frame) take the background path: the distance moves, the blink
    # decays, nothing is held. It runs as one loop over the whole row that
    # vectorises; the other pixels are listed first, with their state
    # before the frame, and redone one by one afterwards.
    listed_flag = np.empty(width, np.uint8)
    listed = np.empty(width + 1, np.int64)
    old_distance = np.empty(width + 1, np.float32)
    old_blink = np.empty(width + 1, np.float32)
    old_hold = np.empty(width + 1, np.float32)
    old_raw = np.empty(width + 1, np.uint8)
    for y in range(height):
        busy = 0
        for x in range(width):
            flag = (raw[y, x] == 255) | (previous_raw[y, x] == 255) | (final[y, x] == 255)
            listed_flag[x] = flag
            busy += flag
        n_listed = 0
        if busy:
            n_listed = list_flagged(listed_flag, width, listed)
            for i in range(n_listed):
                x = listed[i]
                old_distance[i] = distance[y, x]
                old_blink[i] = blink[y, x]
                old_hold[i] = hold[y, x]
                old_raw[i] = previous_raw[y, x]
        for x in range(width):
            d = min(min_distance[y, x] * scale, one)
            level = distance[y, x] + (d - distance[y, x]) * np.float32(DISTANCE_RATE)
            distance[y, x] = level
            b = max(blink[y, x] - np.float32(BLINK_DOWN), zero)
            blink[y, x] = b
            dynamics = min(b, np.float32(BLINK_CAP)) / np.float32(BLINK_CAP) + level
            threshold[y, x] = tb * (one + gain * dynamics)
            hold[y, x] = zero
            rate[y, x] = one
            previous_raw[y, x] = raw[y, x]
        # The listed pixels, one by one, from their state before the frame.
        for i in range(n_listed):
            x = listed[i]
            raw_fg = raw[y, x] == 255
            final_fg = final[y, x] == 255
            was_fg = old_raw[i] == 255
            newly = raw_fg and not was_fg
            if light_change and newly:
                final[y, x] = np.uint8(0)
                final_fg = False
            level = old_distance[i]
            if not final_fg:
                d = min(min_distance[y, x] * scale, one)
                level += (d - level) * np.float32(DISTANCE_RATE)
            distance[y, x] = level
            if raw_fg != was_fg and not final_fg:
                b = old_blink[i] + np.float32(BLINK_UP)
            else:
                b = max(old_blink[i] - np.float32(BLINK_DOWN), zero)
            blink[y, x] = b
            dynamics = min(b, np.float32(BLINK_CAP)) / np.float32(BLINK_CAP) + level
            threshold[y, x] = tb * (one + gain * dynamics)
            # Held: foreground in the final mask; or foreground in the pixel's
            # own mixture and called background by the neighbourhood step (a
            # neighbour's background is not the pixel's own); or outvoted by
            # the median next to a foreground pixel (a still object's corner:
            # learning it would eat the object from its corners inwards).
            # An isolated speckle the median removed learns.
            held = final_fg or (raw_fg and (neighbour[y, x] != 255 or (
                (y > 0 and final[y - 1, x] == 255) or (x > 0 and final[y, x - 1] == 255)
                or (y + 1 < height and final[y + 1, x] == 255)
                or (x + 1 < width and final[y, x + 1] == 255))))
            count = old_hold[i] + one if held else zero
            if light_change and newly:
                rate[y, x] = np.float32(relearn_rate)
                count = zero
            elif held and conservative:
                rate[y, x] = zero if count < hold_frames else np.float32(absorb_rate)
            hold[y, x] = count


@kernel_jit()
def probability_from_distance(min_distance, threshold, mask, probability):
    """The foreground probability from the smallest distance and the final mask.

    :func:`bgmix.kernels._common.foreground_probability` of each pixel with
    its threshold plane, background where ``mask`` is 0: the clean-up and
    the neighbourhood step decided the mask, so the probability follows it
    (``p >= 0.5`` exactly where ``mask`` is not 0).
    """
    height, width = mask.shape
    for y in range(height):
        for x in range(width):
            probability[y, x] = foreground_probability(min_distance[y, x], threshold[y, x],
                                                       mask[y, x] == 0)


@kernel_jit()
def gain_ratios(frame, intensity_scale, planes, n_components, n_modes, previous_raw, grid,
                min_weight, min_level, background_only, ratios):
    """Frame-to-model brightness ratios on a ``grid``-pixel lattice; returns how many.

    A lattice pixel counts when it was background in the previous frame
    (``previous_raw`` 0; any pixel if not ``background_only``); its ratio is
    the sample's channel sum (times ``intensity_scale``) over the channel sum
    of the mean of its *nearest* settled component (weight at least
    ``min_weight``, mean sum above ``min_level``). The nearest, not the
    heaviest: a pixel with two backgrounds (an escalator's steps, leaves and
    sky) showing its second one is no exposure change. ``ratios`` must hold
    one slot per lattice pixel.
    """
    height, width, n_channels = frame.shape
    count = 0
    for y in range(grid // 2, height, grid):
        for x in range(grid // 2, width, grid):
            if background_only and previous_raw[y, x] != 0:
                continue
            index = y * width + x
            observed = np.float32(0.0)
            for c in range(n_channels):
                observed += np.float32(frame[y, x, c])
            observed *= np.float32(intensity_scale)
            nearest = np.float32(0.0)
            gap = np.float32(np.inf)
            for k in range(n_modes[y, x]):
                if planes[k, index] < min_weight:
                    continue
                level = np.float32(0.0)
                for c in range(n_channels):
                    level += planes[n_components + k * n_channels + c, index]
                if level > min_level and abs(observed - level) < gap:
                    gap = abs(observed - level)
                    nearest = level
            if nearest > 0:
                ratios[count] = observed / nearest
                count += 1
    return count


@kernel_jit()
def exposure_ratios(frame, intensity_scale, planes, n_components, n_modes, previous_raw, grid,
                    min_weight, min_level, min_count, ratios):
    """:func:`gain_ratios` of the background lattice pixels, or of every settled one
    when fewer than ``min_count`` qualify; returns how many."""
    count = gain_ratios(frame, intensity_scale, planes, n_components, n_modes, previous_raw,
                        grid, min_weight, min_level, True, ratios)
    if count < min_count:
        count = gain_ratios(frame, intensity_scale, planes, n_components, n_modes, previous_raw,
                            grid, min_weight, min_level, False, ratios)
    return count


@kernel_jit()
def median_in_place(values, n):
    """``np.median(values[:n])`` of float32 values (``n`` > 0), reordering them:
    a quickselect, since Numba's ``np.median`` cost 2 s of the first compile and
    NumPy's, called from Python, tens of microseconds a frame in checks."""
    half = n // 2
    upper = _select(values, n, half)
    if n % 2:
        return upper
    lower = values[0]  # after the select, values[:half] are the smaller half
    for i in range(1, half):
        lower = max(lower, values[i])
    return (lower + upper) / np.float32(2.0)


@kernel_jit()
def _select(values, n, k):
    """The ``k``-th smallest of ``values[:n]`` (0-based), moved to ``values[k]``
    with the smaller ones before it (Hoare's selection)."""
    low = 0
    high = n - 1
    while low < high:
        pivot = values[(low + high) // 2]
        i = low
        j = high
        while i <= j:
            while values[i] < pivot:
                i += 1
            while values[j] > pivot:
                j -= 1
            if i <= j:
                values[i], values[j] = values[j], values[i]
                i += 1
                j -= 1
        if k <= j:
            high = j
        elif k >= i:
            low = i
        else:
            break
    return values[k]


@kernel_jit()
def exposure_median(frame, intensity_scale, planes, n_components, n_modes, previous_raw, grid,
                    min_weight, min_level, min_count, ratios):
    """The median of :func:`exposure_ratios`, or -1 when fewer than ``min_count``."""
    count = exposure_ratios(frame, intensity_scale, planes, n_components, n_modes, previous_raw,
                            grid, min_weight, min_level, min_count, ratios)
    if count < min_count:
        return np.float32(-1.0)
    return median_in_place(ratios, count)


@kernel_jit()
def finish_frame(raw, neighbour, out, min_distance, distance, blink, hold, previous_raw,
                 threshold, rate, column, stack, median_size, fill, var_threshold, feedback,
                 hold_frames, absorb_rate, relearn_rate, light_change, light_event, conservative):
    """The steps after the update in one call: the majority filter of
    ``neighbour`` into ``out`` (or a copy), hole filling when ``fill``
    (``stack``: int64 scratch of ``H W``), the light-change decision (with
    hysteresis: an event goes on while a quarter of ``light_change`` keeps
    turning) and :func:`feedback_step`. Returns whether this frame is a light change."""
    if median_size > 0:
        majority_filter(neighbour, median_size, column, out)
    else:
        # A loop, not out[...] = neighbour: the broadcast's shape-error path alone
        # (string formatting) cost 3 s of the first compile.
        for y in range(out.shape[0]):
            for x in range(out.shape[1]):
                out[y, x] = neighbour[y, x]
    if fill:
        fill_holes(out, stack)
    light = False
    if light_change > 0:
        turned = turned_share(raw, previous_raw)
        light = turned > (light_change / 4 if light_event else light_change)
    feedback_step(raw, neighbour, out, min_distance, distance, blink, hold, previous_raw,
                  threshold, rate, var_threshold, feedback, hold_frames, absorb_rate,
                  relearn_rate, light, conservative)
    return light
