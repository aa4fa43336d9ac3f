"""A texture check on the pixels that the neighbourhood step called background.

The neighbourhood (displacement) test forgives a foreground pixel whose colour
matches a background component of a pixel beside it: swaying leaves, ripples
and camera shake move the background's colours by a pixel or two. It also
forgives camouflage: a dark car beside a lane's leaf shade, a grey coat beside
grey tiles (on CDnet highway, 167k of the default's 252k missed pixels were
ones it had cleared). Colour alone cannot tell the two apart; the *pattern* around the
pixel can: a displaced background shows the background's own local pattern,
an object covers it with its own.

:func:`texture_check` compares a local binary pattern of the frame with the
patterns that the background allows around each displaced pixel, in the
manner of LBSP (St-Charles et al. 2015, the descriptor of SuBSENSE): 16
neighbours in a 5x5 layout (:data:`PATTERN`), each bit telling whether the
neighbour's grey level differs from the centre's by more than a share of the
centre's (``relative * max(centre, floor)``). The bits are relative to the
centre, so a change of light leaves them as they were. A background bit is
open to both values where the neighbour has several background components,
one on each side of the margin (a leaf's shade and the lit lane): it is not
counted. Where more than ``max_changed`` of the bits differ, the pixel is
foreground again.

Two kinds of pixel are left to the neighbourhood test. A pixel in an
unsettled block (a pixel of its 3x3 block with a heaviest component under
``min_weight``): water and leaves keep several modes per pixel, and their
patterns change from frame to frame while every colour in them is
background. And a pixel displaced in a large share of the recent frames
(``displaced_share``, a running average per pixel): a dynamic background
that the mixture has not learnt (ripples that start after the warm-up, a
gust that moves the leaves farther) is displaced frame after frame, and a
conservative update never learns what the check keeps foreground, so
without that limit such a region would stay white; a passing object
displaces a pixel for a few frames only. The kernel is serial: the
displaced pixels are a small share of the frame, and rows without one only
move their shares.
"""

from __future__ import annotations

import numpy as np

from bgmix.kernels._common import list_flagged
from bgmix.kernels._config import kernel_jit

PATTERN = np.array([(-2, -2), (-2, 0), (-2, 2), (-1, -1), (-1, 0), (-1, 1), (0, -2), (0, -1),
                    (0, 1), (0, 2), (1, -1), (1, 0), (1, 1), (2, -2), (2, 0), (2, 2)], np.int64)
"""The 16 (dy, dx) offsets of the pattern: the 3x3 ring, and the corners and
mid-sides of the 5x5 ring (LBSP's layout)."""
TEXTURE_BITS = len(PATTERN)
"""Bits of the pattern: a tolerance of this many turns the check off."""


@kernel_jit()
def texture_check(frame, sample_scale, planes, n_components, n_modes, raw, neighbour,
                  displaced_share, pattern, background_ratio, min_weight, relative, floor,
                  max_changed, share_step, max_share):
    """Turn the displaced pixels whose local pattern the background cannot show back to 255.

    Parameters
    ----------
    frame, sample_scale, planes, n_components, n_modes
        The frame the update saw, its scale to model units, and the model's
        state after the update, as :func:`bgmix.kernels.shadows.consistent_shadows`
        takes them.
    raw : (H, W) uint8
        The update's mask.
    neighbour : (H, W) uint8, updated
        The mask after the neighbourhood step: a pixel 255 in ``raw`` and 0
        here was displaced; it becomes 255 again when its pattern changed.
    displaced_share : (H, W) float32, updated
        Each pixel's running share of frames in which it was displaced,
        moved by ``share_step`` towards 1 (displaced this frame) or 0.
    pattern : (P, 2) int64
        The (dy, dx) offsets (:data:`PATTERN`). An offset outside the frame,
        or onto a pixel without a component, is left out of the comparison.
    background_ratio : float32
        A neighbour's background components are its heaviest up to this
        cumulative weight (as the update's).
    min_weight : float32
        Only pixels whose 3x3 block's heaviest components all weigh at least
        this are checked.
    relative, floor : float32
        A bit is set where ``|I(n) - I(c)| > relative * max(I(c), floor)``,
        ``I`` the grey level (the channels' mean) in model units: the
        frame's, and the centre's heaviest mean against each background
        component of the neighbour for the background's.
    max_changed : int
        A pixel with more bits that the background cannot show is foreground.
    share_step, max_share : float32
        Only pixels whose displaced share (this frame's included) is under
        ``max_share`` are checked.

    Returns
    -------
    (int, int)
        How many displaced pixels were checked, and how many turned to 255.

    Examples
    --------
    A chequered background with one component per pixel, and a frame where an
    object of one grey covers the middle: the neighbourhood step had cleared
    the centre (its grey is a neighbour's background), the pattern does not.

    >>> h = w = 7
    >>> chequer = np.where(np.add.outer(np.arange(h), np.arange(w)) % 2, 200.0, 40.0)
    >>> planes = np.zeros((3, h * w), np.float32)  # weight, mean, variance
    >>> planes[0], planes[1] = 1.0, chequer.ravel()
    >>> n_modes = np.ones((h, w), np.uint8)
    >>> frame = chequer.astype(np.float32).reshape(h, w, 1)
    >>> frame[1:6, 1:6] = 40.0
    >>> raw = np.zeros((h, w), np.uint8); raw[3, 3] = 255
    >>> neighbour = np.zeros((h, w), np.uint8)
    >>> share = np.zeros((h, w), np.float32)
    >>> texture_check(frame, np.float32(1), planes, 1, n_modes, raw, neighbour, share, PATTERN,
    ...               np.float32(0.9), np.float32(0.8), np.float32(0.3), np.float32(8), 3,
    ...               np.float32(0.01), np.float32(0.15))
    (1, 1)
    >>> int(neighbour[3, 3]), round(float(share[3, 3]), 6)
    (255, 0.01)
    """
    height, width = raw.shape
    n_channels = frame.shape[2]
    n_offsets = pattern.shape[0]
    inv_channels = np.float32(1.0) / np.float32(n_channels)
    checked = 0
    turned = 0
    flags = np.empty(width, np.uint8)
    listed = np.empty(width + 1, np.int64)
    for y in range(height):
        # One loop that vectorises moves every share and flags the row's
        # displaced pixels; they are then listed without branches (a scan with
        # a branch per pixel cost about 30 us more a frame on CDnet highway).
        displaced = 0
        for x in range(width):
            now = (raw[y, x] == 255) & (neighbour[y, x] == 0)
            flags[x] = now
            displaced += now
            displaced_share[y, x] += (np.float32(now) - displaced_share[y, x]) * share_step
        if displaced == 0:
            continue
        for i_listed in range(list_flagged(flags, width, listed)):
            x = listed[i_listed]
            if not displaced_share[y, x] < max_share:
                continue
            settled = True
            for qy in range(max(0, y - 1), min(height, y + 2)):
                for qx in range(max(0, x - 1), min(width, x + 2)):
                    settled &= n_modes[qy, qx] > 0 and planes[0, qy * width + qx] >= min_weight
            if not settled:
                continue
            checked += 1
            sample_centre = np.float32(0.0)
            model_centre = np.float32(0.0)
            for c in range(n_channels):
                sample_centre += np.float32(frame[y, x, c]) * sample_scale
                model_centre += planes[n_components + c, y * width + x]
            sample_centre *= inv_channels
            model_centre *= inv_channels
            sample_margin = relative * max(sample_centre, floor)
            model_margin = relative * max(model_centre, floor)
            changed = 0
            for i in range(n_offsets):
                qy = y + pattern[i, 0]
                qx = x + pattern[i, 1]
                if qy < 0 or qy >= height or qx < 0 or qx >= width or n_modes[qy, qx] == 0:
                    continue
                q = qy * width + qx
                sample = np.float32(0.0)
                for c in range(n_channels):
                    sample += np.float32(frame[qy, qx, c]) * sample_scale
                bit = abs(sample * inv_channels - sample_centre) > sample_margin
                # Can the background show this bit? Its components in weight
                # order until one does (a neighbour with modes on both sides
                # of the margin, a leaf's shade and the lit lane, shows both).
                shown = False
                total = np.float32(0.0)
                for k in range(n_modes[qy, qx]):
                    if not total < background_ratio:
                        break
                    grey = np.float32(0.0)
                    for c in range(n_channels):
                        grey += planes[n_components + k * n_channels + c, q]
                    if (abs(grey * inv_channels - model_centre) > model_margin) == bit:
                        shown = True
                        break
                    total += planes[k, q]
                changed += not shown
                if changed > max_changed:
                    neighbour[y, x] = 255
                    turned += 1
                    break
    return checked, turned
