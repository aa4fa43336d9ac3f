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
in grey level by more than ``floor``. Two tests must agree:

* **the blob's border.** The tested pixels make blobs (4-connected, two
  joining when their models are alike), and along each blob's border with
  settled pixels that are not held the grey-level differences across the
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
def _frame_grey(frame, y, x, sample_scale):
    total = np.float32(0.0)
    for c in range(frame.shape[2]):
        total += np.float32(frame[y, x, c])
    return total * sample_scale / np.float32(frame.shape[2])


@kernel_jit(inline="always")
def _model_grey(planes, n_components, n_channels, pixel):
    total = np.float32(0.0)
    for c in range(n_channels):
        total += planes[n_components + c, pixel]
    return total / np.float32(n_channels)


@kernel_jit(inline="always")
def _explains(ground, seen, change, ratio):
    return np.uint8(ratio * abs(seen - ground) < change)


@kernel_jit()
def _vote(frame, sample_scale, planes, n_components, hold, votes, sides, column_ground,
          min_hold, min_weight, ratio, floor):
    """The per-pixel test: ``sides`` 0 for pixels not tested, else 1 + the
    directions where a settled background pixel was found; ``votes`` how many
    of those explain the pixel. Returns the first and last rows tested."""
    height, width = hold.shape
    n_channels = frame.shape[2]
    first = height
    last = -1
    for y in range(height):
        for x in range(width):
            candidate = np.uint8(0)
            if hold[y, x] >= min_hold and planes[0, y * width + x] >= min_weight:
                change = abs(_model_grey(planes, n_components, n_channels, y * width + x)
                             - _frame_grey(frame, y, x, sample_scale))
                candidate = np.uint8(change > floor)
            sides[y, x] = candidate
            votes[y, x] = np.uint8(0)
            if candidate:
                first = min(first, y)
                last = y
    if last < 0:
        return first, last
    for y in range(first, last + 1):
        for direction in range(2):
            ground = np.float32(np.nan)
            for i in range(width):
                x = i if direction == 0 else width - 1 - i
                pixel = y * width + x
                if sides[y, x]:
                    if ground == ground:
                        seen = _frame_grey(frame, y, x, sample_scale)
                        change = abs(_model_grey(planes, n_components, n_channels, pixel) - seen)
                        sides[y, x] += np.uint8(1)
                        votes[y, x] += _explains(ground, seen, change, ratio)
                elif hold[y, x] == 0 and planes[0, pixel] >= min_weight:
                    ground = _model_grey(planes, n_components, n_channels, pixel)
    for direction in range(2):
        for x in range(width):
            column_ground[x] = np.float32(np.nan)
        for i in range(height):
            y = i if direction == 0 else height - 1 - i
            for x in range(width):
                pixel = y * width + x
                if sides[y, x]:
                    if column_ground[x] == column_ground[x]:
                        seen = _frame_grey(frame, y, x, sample_scale)
                        change = abs(_model_grey(planes, n_components, n_channels, pixel) - seen)
                        sides[y, x] += np.uint8(1)
                        votes[y, x] += _explains(column_ground[x], seen, change, ratio)
                elif hold[y, x] == 0 and planes[0, pixel] >= min_weight:
                    column_ground[x] = _model_grey(planes, n_components, n_channels, pixel)
    return first, last


@kernel_jit()
def absorb_ghosts(frame, sample_scale, planes, n_components, hold, out, rate, votes, sides,
                  column_ground, member, stack, min_hold, min_weight, ratio, floor, min_pairs,
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
    votes, sides, member : (H, W) uint8
        Scratch (``member`` all 0 on entry and on return).
    column_ground : (W,) float32
        Scratch.
    stack : int64 array of at least H W entries
        Scratch.
    min_hold : float32
        Only pixels held for at least this many frames are tested.
    min_weight : float32
        ... and only settled ones (heaviest component at least this); the
        background they are compared with is settled too.
    ratio, floor : float32
        The blob test: held neighbours join when their models' grey levels
        differ by at most ``floor`` or ``1 / ratio`` of either's
        frame-to-model difference; a blob is a ghost when over its border
        pairs (a blob pixel, a settled 4-neighbour not held) the model's
        grey-level differences sum to more than ``ratio`` times the frame's
        and ``floor`` a pair, and the pairs are at least half the border.
        The pixel test: a direction explains a pixel when ``ratio |I - G| <
        |I - M|`` (``I`` the frame's grey level at the pixel, ``M`` its
        model's, ``G`` the nearest background's model that way); pixels
        within ``floor`` of their model are not tested.
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
    >>> votes, sides, member = (np.zeros((h, w), np.uint8) for _ in range(3))
    >>> column, stack = np.empty(w, np.float32), np.empty(h * w, np.int64)
    >>> def absorb():
    ...     return absorb_ghosts(frame, np.float32(1), planes, 1, hold, out, rate, votes, sides,
    ...                          column, member, stack, np.float32(10), np.float32(0.8),
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
    first, last = _vote(frame, sample_scale, planes, n_components, hold, votes, sides,
                        column_ground, min_hold, min_weight, ratio, floor)
    if last < 0:
        return 0
    height, width = hold.shape
    n_channels = frame.shape[2]
    used = 0
    absorbed = 0
    for y in range(first, last + 1):
        for x in range(width):
            if sides[y, x] == 0 or member[y, x] != 0:
                continue
            # Flood the blob from (y, x) through tested pixels whose models
            # are alike (1: this blob's; 2: an earlier blob's).
            start = used
            member[y, x] = np.uint8(1)
            stack[used] = y * width + x
            used += 1
            visit = start
            while visit < used:
                p = stack[visit]
                visit += 1
                py = p // width
                px = p - py * width
                model = _model_grey(planes, n_components, n_channels, p)
                change = abs(model - _frame_grey(frame, py, px, sample_scale))
                for side in range(4):
                    qy = py + (side == 1) - (side == 0)
                    qx = px + (side == 3) - (side == 2)
                    if qy < 0 or qy >= height or qx < 0 or qx >= width:
                        continue
                    q = qy * width + qx
                    if member[qy, qx] != 0 or sides[qy, qx] == 0:
                        continue
                    other = _model_grey(planes, n_components, n_channels, q)
                    apart = abs(model - other)
                    if apart <= floor or ratio * apart < max(
                            change, abs(other - _frame_grey(frame, qy, qx, sample_scale))):
                        member[qy, qx] = np.uint8(1)
                        stack[used] = q
                        used += 1
            # Its border: every outside neighbour, and the pairs with a settled
            # pixel that is not held, whose contrasts are summed.
            frame_contrast = np.float32(0.0)
            model_contrast = np.float32(0.0)
            pairs = 0
            border = 0
            for i in range(start, used):
                p = stack[i]
                py = p // width
                px = p - py * width
                for side in range(4):
                    qy = py + (side == 1) - (side == 0)
                    qx = px + (side == 3) - (side == 2)
                    if qy < 0 or qy >= height or qx < 0 or qx >= width or member[qy, qx] == 1:
                        continue
                    border += 1
                    q = qy * width + qx
                    if hold[qy, qx] != 0 or planes[0, q] < min_weight:
                        continue
                    frame_contrast += abs(_frame_grey(frame, py, px, sample_scale)
                                          - _frame_grey(frame, qy, qx, sample_scale))
                    model_contrast += abs(_model_grey(planes, n_components, n_channels, p)
                                          - _model_grey(planes, n_components, n_channels, q))
                    pairs += 1
            ghost = pairs >= min_pairs and 2 * pairs >= border \
                and model_contrast > ratio * frame_contrast \
                and model_contrast > floor * np.float32(pairs)
            # Decided after every blob is: absorbing now would change the
            # borders of the blobs that come later.
            for i in range(start, used):
                p = stack[i]
                py = p // width
                px = p - py * width
                found = np.int64(sides[py, px]) - 1
                explained = found >= 2 and np.int64(votes[py, px]) == found
                member[py, px] = np.uint8(3) if ghost and explained else np.uint8(2)
    for i in range(used):
        p = stack[i]
        py = p // width
        px = p - py * width
        if member[py, px] == 3:
            hold[py, px] = np.float32(0.0)
            out[py, px] = np.uint8(0)
            rate[py, px] = relearn_rate
            absorbed += 1
        member[py, px] = np.uint8(0)
    return absorbed
