"""The shadow check (bgmix.kernels.shadows) against tests/reference_feedback.py."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.kernels.shadows import SHADOW_BINS, consistent_shadows
from tests import reference_feedback as ref

K = 3


def state(rng, height, width, n_channels):
    """Component-planar state whose heaviest mean is a random grey-ish colour."""
    planes = np.zeros((K + K * n_channels, height * width), np.float32)
    planes[0] = 1.0
    base = rng.uniform(20, 230, height * width).astype(np.float32)
    for c in range(n_channels):
        planes[K + c] = base * rng.uniform(0.9, 1.1, height * width).astype(np.float32)
    n_modes = rng.integers(0, 3, (height, width)).astype(np.uint8)
    return planes, n_modes


def frame_and_masks(rng, planes, n_modes, ratios, shadow_share=0.5):
    """A frame whose pixels are the heaviest mean times a ratio drawn from ``ratios``."""
    height, width = n_modes.shape
    n_channels = (planes.shape[0] - K) // K
    a = rng.choice(ratios, (height, width)) + rng.normal(0, 0.01, (height, width))
    frame = np.empty((height, width, n_channels), np.uint8)
    for c in range(n_channels):
        frame[:, :, c] = np.clip(np.rint(planes[K + c].reshape(height, width) * a), 0, 255)
    u = rng.random((height, width))
    raw = np.where(u < shadow_share, 127, np.where(u < 0.8, 255, 0)).astype(np.uint8)
    neighbour = raw.copy()
    neighbour[rng.random((height, width)) < 0.2] = 0  # what the neighbourhood step cleared
    return frame, raw, neighbour


@pytest.mark.parametrize("ratios, expect_band", [
    ([0.6], True),                                # one light's cast shadows: a band
    ([0.52, 0.6, 0.68, 0.76, 0.84], False),       # dark objects of many greys: none
    ([0.6, 0.6, 0.6, 0.75, 0.95], True),          # shadows, a darker object, near-background
])
@pytest.mark.parametrize("n_channels", [1, 3])
def test_consistent_shadows_matches_the_reference_over_frames(ratios, expect_band, n_channels):
    rng = np.random.default_rng(len(ratios) * 10 + n_channels)
    height, width = 23, 31
    planes, n_modes = state(rng, height, width, n_channels)
    histogram = np.zeros(SHADOW_BINS, np.float32)
    expected_histogram = histogram.copy()
    scratch = (np.empty(height * width, np.int64), np.empty(height * width, np.float32))
    arguments = (127, np.float32(0.85))
    tuning = (np.float32(0.9), 2, np.float32(300.0), np.float32(0.6))
    banded = []
    for _ in range(6):
        frame, raw, neighbour = frame_and_masks(rng, planes, n_modes, ratios)
        raw_ref, neighbour_ref, expected_histogram, turned_ref = ref.consistent_shadows(
            frame, np.float32(1.0), planes, K, n_modes, raw, neighbour, *arguments,
            expected_histogram, *tuning)
        n_dark, turned = consistent_shadows(frame, np.float32(1.0), planes, K, n_modes, raw,
                                            neighbour, *arguments, histogram, *tuning, *scratch)
        np.testing.assert_array_equal(raw, raw_ref)
        np.testing.assert_array_equal(neighbour, neighbour_ref)
        np.testing.assert_allclose(histogram, expected_histogram, rtol=1e-6)
        assert turned == turned_ref
        banded.append(turned < n_dark)
    # The first frame has too little mass for a band: every dark shadow turns.
    assert not banded[0]
    assert banded[-1] == expect_band


def test_a_band_keeps_the_shadows_and_turns_the_dark_object():
    rng = np.random.default_rng(7)
    height, width = 20, 20
    planes, n_modes = state(rng, height, width, 3)
    n_modes[:] = 1
    histogram = np.zeros(SHADOW_BINS, np.float32)
    scratch = (np.empty(height * width, np.int64), np.empty(height * width, np.float32))
    a = np.full((height, width), 0.6)
    a[:, 15:] = 0.75                       # a dark grey object beside the shadows
    a[:, :3] = 0.95                        # near-background: never touched
    frame = np.clip(np.rint(planes[K:K + 3].T.reshape(height, width, 3) * a[:, :, None]),
                    0, 255).astype(np.uint8)
    for _ in range(3):
        raw = np.full((height, width), 127, np.uint8)
        consistent_shadows(frame, np.float32(1.0), planes, K, n_modes, raw, raw, 127,
                           np.float32(0.85), histogram, np.float32(0.98), 2, np.float32(200.0),
                           np.float32(0.6), *scratch)
    assert (raw[:, 3:15] == 127).all()
    assert (raw[:, 15:] == 255).all()
    assert (raw[:, :3] == 127).all()


def test_gain_and_scale_enter_the_ratio():
    """The ratio is of the sample as the update saw it (frame x intensity_scale / gain)."""
    rng = np.random.default_rng(3)
    planes, n_modes = state(rng, 10, 10, 3)
    n_modes[:] = 1
    frame = np.clip(np.rint(planes[K:K + 3].T.reshape(10, 10, 3) * 0.6), 0, 255).astype(np.uint8)
    scratch = (np.empty(100, np.int64), np.empty(100, np.float32))
    seen = {}
    for scale in (1.0, 1.5):
        raw = np.full((10, 10), 127, np.uint8)
        n_dark, _ = consistent_shadows(frame, np.float32(scale), planes, K, n_modes, raw, raw, 127,
                                       np.float32(0.85), np.zeros(SHADOW_BINS, np.float32),
                                       np.float32(0.98), 2, np.float32(200.0), np.float32(0.6),
                                       *scratch)
        seen[scale] = scratch[1][:n_dark].copy(), raw.copy()
    assert len(seen[1.0][0]) == 100 and np.allclose(seen[1.0][0], 0.6, atol=0.02)
    assert (seen[1.0][1] == 255).all()                     # dark, and no band yet: turned
    assert len(seen[1.5][0]) == 0                          # 0.9 >= 0.85: left as shadow
    assert (seen[1.5][1] == 127).all()
