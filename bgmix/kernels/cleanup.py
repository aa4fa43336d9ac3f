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
        total = 0
        for x in range(min(radius, width)):
            total += column[x]
        for x in range(width):
            add_x = x + radius
            if add_x < width:
                total += column[add_x]
            drop_x = x - radius - 1
            if drop_x >= 0:
                total -= column[drop_x]
            cols = min(width - 1, x + radius) - max(0, x - radius) + 1
            if 2 * total > rows * cols:
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
