"""The clips the command-line tests run on: a bright square moving over a noisy grey scene."""

from __future__ import annotations

import numpy as np

W, H, N = 64, 48, 30
EMPTY = 10  # frames of background before the square enters
SIDE = 10
STEP = 6  # fast enough that no pixel stays under the square long enough to be learned


def square_at(i: int) -> tuple[slice, slice] | None:
    """Rows and columns of the square in frame i (None before it enters)."""
    if i < EMPTY:
        return None
    x = 2 + (STEP * (i - EMPTY)) % (W - SIDE - 4)
    return slice(18, 18 + SIDE), slice(x, x + SIDE)


def check_square_is_foreground(mask: np.ndarray, i: int) -> None:
    rows, cols = square_at(i)
    # The default model's 5x5 majority filter rounds a square's corners: judge
    # the square without its outermost ring.
    inside = mask[rows, cols][1:-1, 1:-1]
    outside = mask.copy()
    outside[rows, cols] = 0
    assert (inside == 255).mean() > 0.9, f"frame {i}: square not foreground"
    assert (outside == 255).mean() < 0.02, f"frame {i}: background marked foreground"
