"""Ghosts: held foreground that is the background coming back into view.

The conservative update holds foreground pixels out of the model. When an
object that the model learnt leaves (a car parked since the camera started,
a box carried away), the ground it uncovers differs from the model, turns
foreground and is held as well: a *ghost*, the shape of the object that is no
longer there, which would stay until ``hold_frames`` absorb it. A stopped
object and a ghost are both static foreground; what tells them apart is what
the frame shows there (Cucchiara et al. 2003 tell them apart by motion; this
test needs one frame): a ghost shows the ground, as the background beside it
does, and an object shows itself, unlike the ground around it.

:func:`absorb_ghosts` tests the pixels held for at least ``min_hold`` frames
that are settled (their heaviest component weighs at least ``min_weight``:
one ground, not water's or leaves' several modes) and differ from their model
by more than ``floor``. Every difference here is a colour distance, the mean
absolute difference over the channels (a box of the ground's brightness in
another colour leaves a ghost too). Two tests must agree:

* **the blob's border.** The tested pixels make blobs (4-connected, two
  joining when their models are alike), and along each blob's border with
  settled pixels that are not held the differences across the
  border are summed, in the frame and in the model (each pixel's heaviest
  component). Around a stopped object the frame changes across the border
  (object against ground) and the model does not; around a ghost the model
  does (the old object against the ground) and the frame does not. A blob is
  a ghost when its model contrast exceeds ``ratio`` times its frame contrast
  (and ``floor`` a pair), and such pairs make at least half its border (an
  object still moving is bordered mostly by its own newer foreground);
* **the pixel's surroundings.** Along its row and column, in each of the four
  directions, the nearest settled pixel that is not held *explains* the
  pixel when the frame there is ``ratio`` times closer to that pixel's
  background than to the pixel's own model. A ghost pixel shows the ground,
  which the ground around explains on every side (at least two sides
  found); an object does not. This keeps the parts of a blob that only
  look like a ghost from one side: a dark leg in front of a light floor,
  beside a dark desk (CDnet office), or the object that left, moving off
  beside its ghost, which only its own learnt place explains.

The pixels that pass both leave the mask and re-learn at once (their next
learning rate is ``relearn_rate``, the hold is reset); the rest of a ghost
follows at the next frames, explained by what was absorbed. Nothing past the
scan of the hold plane runs on frames without a static held pixel; the
kernel is serial.
"""

from __future__ import annotations

import numpy as np

from bgmix.kernels._config import kernel_jit


@kernel_jit(inline="always")
def _apart(a, ay, ax, b, by, bx):
    """The mean absolute difference over the channels of a[:, ay, ax] and b[:, by, bx]."""
    total = np.float32(0.0)
    for c in range(a.shape[0]):
        total += abs(a[c, ay, ax] - b[c, by, bx])
    return total * (np.float32(1.0) / np.float32(a.shape[0]))


@kernel_jit(inline="always")
def _is_ground(hold, planes, min_weight, y, x):
    """Background the ghost test compares with: not held this frame, and settled."""
    return hold[y, x] == 0 and planes[0, y * hold.shape[1] + x] >= min_weight


@kernel_jit(inline="always")
def _explained(seen, model, planes, n_components, n_channels, hold, min_weight, ratio, y, x):
    """Whether the nearest settled background along the row and column explains
    pixel (y, x) on every side where there is one (at least two)."""
    height, width = hold.shape
    change = _apart(model, y, x, seen, y, x)
    inv_channels = np.float32(1.0) / np.float32(n_channels)
    found = 0
    for side in range(4):
        dy = (side == 1) - (side == 0)
        dx = (side == 3) - (side == 2)
        qy = y + dy
        qx = x + dx
        while 0 <= qy < height and 0 <= qx < width and not _is_ground(hold, planes, min_weight,
                                                                      qy, qx):
            qy += dy
            qx += dx
        if qy < 0 or qy >= height or qx < 0 or qx >= width:
            continue
        found += 1
        # (The ground's row may lie outside the rows whose model was copied.)
        distance = np.float32(0.0)
        for c in range(n_channels):
            distance += abs(seen[c, y, x] - planes[n_components + c, qy * width + qx])
        if not ratio * (distance * inv_channels) < change:
            return False
    return found >= 2


@kernel_jit()
def absorb_ghosts(frame, sample_scale, planes, n_components, hold, out, rate, seen, model,
                  tested, member, stack, min_hold, min_weight, ratio, floor, min_pairs,
                  relearn_rate):
    """Re-learn the static held blobs that look like ghosts, where the ground around explains them.

    Parameters
    ----------
    frame : (H, W, C) array
        The frame the update saw (any dtype); ``sample_scale`` takes it to
        model units.
    sample_scale : float32
    planes : (P, >= H W) float32
        The model's state (component-planar: weights, then means); each
        pixel's component 0 is its heaviest.
    n_components : int
    hold : (H, W) float32, updated
        Consecutive frames each pixel has been held (0: not held this frame).
        A ghost's pixels get 0.
    out : (H, W) uint8, updated
        The final mask: a ghost's pixels become 0.
    rate : (H, W) float32, updated
        Next frame's learning-rate factor: a ghost's pixels get ``relearn_rate``.
    seen, model : (C, H, W) float32
        Scratch (the frame in model units, the heaviest components' means).
    tested, member : (H, W) uint8
        Scratch, all 0 on entry and on return.
    stack : int64 array of at least H W entries
        Scratch.
    min_hold : float32
        Only pixels held for at least this many frames are tested.
    min_weight : float32
        ... and only settled ones (heaviest component at least this); the
        background they are compared with is settled too.
    ratio, floor : float32
        Differences are ``|a - b|``, the mean absolute difference over the
        channels. The blob test: held neighbours join when their models
        differ by at most ``floor`` or ``1 / ratio`` of either's
        frame-to-model difference; a blob is a ghost when over its border
        pairs (a blob pixel, a settled 4-neighbour not held) the model's
        differences sum to more than ``ratio`` times the frame's and
        ``floor`` a pair, and the pairs are at least half the border. The
        pixel test: a direction explains a pixel when ``ratio |I - G| < |I -
        M|`` (``I`` the frame at the pixel, ``M`` its model, ``G`` the
        nearest background's model that way); pixels within ``floor`` of
        their model are not tested.
    min_pairs : int
        Blobs with fewer border pairs are left alone.
    relearn_rate : float32

    Returns
    -------
    int
        How many pixels were absorbed.

    Examples
    --------
    A grey ground (60) where the model still holds a box of 200 that has left:
    the frame shows the ground everywhere, which the ground around explains.

    >>> h, w = 8, 8
    >>> planes = np.zeros((3, h * w), np.float32)  # weight, mean, variance
    >>> planes[0], planes[1] = 1.0, 60.0
    >>> planes[1].reshape(h, w)[2:6, 2:6] = 200.0
    >>> frame = np.full((h, w, 1), 60, np.uint8)
    >>> hold = np.zeros((h, w), np.float32); hold[2:6, 2:6] = 30
    >>> out = np.zeros((h, w), np.uint8); out[2:6, 2:6] = 255
    >>> rate = np.ones((h, w), np.float32)
    >>> seen, model = np.empty((1, h, w), np.float32), np.empty((1, h, w), np.float32)
    >>> tested, member = np.zeros((h, w), np.uint8), np.zeros((h, w), np.uint8)
    >>> stack = np.empty(h * w, np.int64)
    >>> def absorb():
    ...     return absorb_ghosts(frame, np.float32(1), planes, 1, hold, out, rate, seen, model,
    ...                          tested, member, stack, np.float32(10), np.float32(0.8),
    ...                          np.float32(2), np.float32(8), 8, np.float32(500))
    >>> absorb()
    16
    >>> int(out.max()), float(hold.max()), float(rate.max())
    (0, 0.0, 500.0)

    The same box standing in the frame (a stopped object) stays.

    >>> frame[2:6, 2:6] = 200
    >>> planes[1].reshape(h, w)[2:6, 2:6] = 60.0
    >>> hold[2:6, 2:6] = 30; out[2:6, 2:6] = 255; rate[:] = 1
    >>> absorb()
    0
    """
    height, width = hold.shape
    n_channels = frame.shape[2]
    # The rows with static foreground. Most frames have none past this scan of
    # the hold plane; the rest of the work follows the static foreground.
    static_rows = np.empty(height + 2, np.uint8)
    static_rows[0] = 0
    static_rows[height + 1] = 0
    any_static = False
    for y in range(height):
        static = 0
        for x in range(width):
            static += hold[y, x] >= min_hold
        static_rows[y + 1] = static > 0
        any_static |= static > 0
    if not any_static:
        return 0
    # Frame and model on those rows and the rows beside them (the blobs'
    # border pairs), in loops that vectorise; then the tested pixels.
    first = height
    last = -1
    for y in range(height):
        if static_rows[y] | static_rows[y + 1] | static_rows[y + 2] == 0:
            continue
        for c in range(n_channels):
            for x in range(width):
                seen[c, y, x] = np.float32(frame[y, x, c]) * sample_scale
                model[c, y, x] = planes[n_components + c, y * width + x]
        flagged = 0
        for x in range(width):
            flag = (hold[y, x] >= min_hold) & (planes[0, y * width + x] >= min_weight) \
                & (_apart(model, y, x, seen, y, x) > floor)
            tested[y, x] = flag
            flagged += flag
        if flagged:
            first = min(first, y)
            last = y
    if last < 0:
        return 0
    used = 0
    absorbed = 0
    for y in range(first, last + 1):
        for x in range(width):
            if tested[y, x] == 0 or member[y, x] != 0:
                continue
            # Flood the blob from (y, x) through tested pixels whose models
            # are alike (1: this blob's; 2: an earlier blob's).
            start = used
            member[y, x] = np.uint8(1)
            stack[used] = (y << 32) | x
            used += 1
            visit = start
            while visit < used:
                p = stack[visit]
                visit += 1
                py = p >> 32
                px = p & 0xFFFFFFFF
                change = _apart(model, py, px, seen, py, px)
                for side in range(4):
                    qy = py + (side == 1) - (side == 0)
                    qx = px + (side == 3) - (side == 2)
                    if qy < 0 or qy >= height or qx < 0 or qx >= width:
                        continue
                    if member[qy, qx] != 0 or tested[qy, qx] == 0:
                        continue
                    apart = _apart(model, py, px, model, qy, qx)
                    if apart <= floor or ratio * apart < max(
                            change, _apart(model, qy, qx, seen, qy, qx)):
                        member[qy, qx] = np.uint8(1)
                        stack[used] = (qy << 32) | qx
                        used += 1
            # Its border: every outside neighbour, and the pairs with a settled
            # pixel that is not held, whose contrasts are summed.
            frame_contrast = np.float32(0.0)
            model_contrast = np.float32(0.0)
            pairs = 0
            border = 0
            for i in range(start, used):
                p = stack[i]
                py = p >> 32
                px = p & 0xFFFFFFFF
                for side in range(4):
                    qy = py + (side == 1) - (side == 0)
                    qx = px + (side == 3) - (side == 2)
                    if qy < 0 or qy >= height or qx < 0 or qx >= width or member[qy, qx] == 1:
                        continue
                    border += 1
                    if not _is_ground(hold, planes, min_weight, qy, qx):
                        continue
                    frame_contrast += _apart(seen, py, px, seen, qy, qx)
                    model_contrast += _apart(model, py, px, model, qy, qx)
                    pairs += 1
            ghost = pairs >= min_pairs and 2 * pairs >= border \
                and model_contrast > ratio * frame_contrast \
                and model_contrast > floor * np.float32(pairs)
            # Decided after every blob is: absorbing now would change the
            # borders of the blobs that come later, and the grounds found.
            for i in range(start, used):
                p = stack[i]
                py = p >> 32
                px = p & 0xFFFFFFFF
                member[py, px] = np.uint8(3) if ghost else np.uint8(2)
    for i in range(used):
        p = stack[i]
        py = p >> 32
        px = p & 0xFFFFFFFF
        if member[py, px] == 3 and _explained(seen, model, planes, n_components, n_channels,
                                               hold, min_weight, ratio, py, px):
            member[py, px] = np.uint8(4)
    for i in range(used):
        p = stack[i]
        py = p >> 32
        px = p & 0xFFFFFFFF
        tested[py, px] = np.uint8(0)
        if member[py, px] == 4:
            hold[py, px] = np.float32(0.0)
            out[py, px] = np.uint8(0)
            rate[py, px] = relearn_rate
            absorbed += 1
        member[py, px] = np.uint8(0)
    return absorbed
