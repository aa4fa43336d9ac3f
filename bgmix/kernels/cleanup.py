"""The clean-up inside the model: a majority (median) filter and hole filling.

These act on the foreground (255) of a 0 / shadow / 255 mask, so that the
``"robust"`` preset's ``apply`` returns clean masks without OpenCV (``import
bgmix`` loads no cv2). :mod:`bgmix.postprocess` keeps OpenCV's richer
clean-up (opening, closing, minimum area) for the CLI.

On a 0/255 mask a ``size`` x ``size`` median is a majority vote: a pixel is
foreground when more than half of its window is (windows clipped at the
border count the pixels inside the frame). A foreground pixel outvoted
becomes background; shadow and background pixels keep their value unless
the vote makes them foreground.

Both kernels are serial and linear in the pixels (the median keeps running
column sums); they run after the update on the caller's thread.
"""

from __future__ import annotations

import numpy as np

from bgmix.kernels._config import kernel_jit


@kernel_jit()
def majority_filter(mask, size, column, out):
    """``size`` x ``size`` median of ``mask``'s foreground into ``out`` (may not alias).

    ``column`` is int32 scratch of width ``W``.
    """
    height, width = mask.shape
    radius = size // 2
    prefix = np.empty(width + 1, np.int32)
    for x in range(width):
        column[x] = 0
    # Column sums over rows [y - radius, y + radius], slid down the frame.
    for y in range(min(radius, height)):
        for x in range(width):
            column[x] += np.int32(mask[y, x] == 255)
    for y in range(height):
        add = y + radius
        if add < height:
            for x in range(width):
                column[x] += np.int32(mask[add, x] == 255)
        drop = y - radius - 1
        if drop >= 0:
            for x in range(width):
                column[x] -= np.int32(mask[drop, x] == 255)
        rows = min(height - 1, y + radius) - max(0, y - radius) + 1
        if window_empty(column, width):
            # No foreground within reach of this row (most rows of a quiet
            # scene): nothing to vote on.
            for x in range(width):
                out[y, x] = mask[y, x]
            continue
        # The window sums from a prefix sum of the column sums: the vote of the
        # interior pixels is then a loop without a carried total or border
        # tests, which vectorises (a sliding total cost 2 ns a pixel, 140 us
        # of a 320x240 frame with foreground within reach of every row).
        prefix[0] = 0
        for x in range(width):
            prefix[x + 1] = prefix[x] + column[x]
        full = rows * size
        # Unsigned indices: no negative-index wraparound to test, so it vectorises.
        mask_row = mask[y]
        out_row = out[y]
        reach = np.uint64(2 * radius + 1)
        for i in range(max(0, width - 2 * radius)):
            x = np.uint64(i)
            total = prefix[x + reach] - prefix[x]
            value = mask_row[x + np.uint64(radius)]
            out_row[x + np.uint64(radius)] = np.uint8(255) if 2 * total > full else (
                np.uint8(0) if value == 255 else value)
        for x in range(min(radius, width)):
            _vote_at_border(mask, prefix, out, y, x, radius, rows, width)
        for x in range(max(radius, width - radius), width):
            _vote_at_border(mask, prefix, out, y, x, radius, rows, width)


@kernel_jit(inline="always")
def _vote_at_border(mask, prefix, out, y, x, radius, rows, width):
    """The vote of pixel ``(y, x)`` whose window the frame's side clips."""
    first = max(0, x - radius)
    last = min(width - 1, x + radius)
    total = prefix[last + 1] - prefix[first]
    if 2 * total > rows * (last - first + 1):
        out[y, x] = np.uint8(255)
    elif mask[y, x] == 255:
        out[y, x] = np.uint8(0)
    else:
        out[y, x] = mask[y, x]


@kernel_jit()
def window_empty(column, width):
    """Whether every column sum of the window is 0."""
    for x in range(width):
        if column[x] != 0:
            return False
    return True


@kernel_jit()
def fill_holes(mask, stack):
    """Set to 255, in place, every pixel not connected to the border through non-255 pixels.

    Connectivity is 4-neighbour for the background (so an 8-connected ring
    of foreground closes a hole). ``stack`` is int64 scratch of ``H W``.
    Returns the number of pixels filled.
    """
    height, width = mask.shape
    reached = np.zeros((height, width), np.bool_)
    top = 0
    for y in range(height):
        for x in range(width):
            border = y == 0 or x == 0 or y == height - 1 or x == width - 1
            if border and mask[y, x] != 255 and not reached[y, x]:
                reached[y, x] = True
                stack[top] = y * width + x
                top += 1
    while top > 0:
        top -= 1
        y = stack[top] // width
        x = stack[top] - y * width
        for dy, dx in ((-1, 0), (1, 0), (0, -1), (0, 1)):
            qy = y + dy
            qx = x + dx
            if 0 <= qy < height and 0 <= qx < width and not reached[qy, qx] \
                    and mask[qy, qx] != 255:
                reached[qy, qx] = True
                stack[top] = qy * width + qx
                top += 1
    filled = 0
    for y in range(height):
        for x in range(width):
            if mask[y, x] != 255 and not reached[y, x]:
                mask[y, x] = np.uint8(255)
                filled += 1
    return filled
