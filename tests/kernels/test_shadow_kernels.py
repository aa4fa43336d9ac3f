"""The shadow check (bgmix.kernels.shadows) against tests/reference_feedback.py."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.kernels.shadows import SHADOW_BINS, consistent_shadows
from tests import reference_feedback as ref

K = 3
F32 = np.float32


def state(rng, height, width, n_channels):
    """Component-planar state whose heaviest mean is a random grey-ish colour."""
    planes = np.zeros((K + K * n_channels, height * width), np.float32)
    planes[0] = 1.0
    base = rng.uniform(20, 230, height * width).astype(np.float32)
    for c in range(n_channels):
        planes[K + c] = base * rng.uniform(0.9, 1.1, height * width).astype(np.float32)
    n_modes = rng.integers(0, 3, (height, width)).astype(np.uint8)
    return planes, n_modes


def scaled_frame(planes, ratio):
    """The heaviest mean of every pixel times ``ratio`` (an (H, W) array), as uint8."""
    height, width = ratio.shape
    n_channels = (planes.shape[0] - K) // K
    means = planes[K:K + n_channels].T.reshape(height, width, n_channels)
    return np.clip(np.rint(means * ratio[:, :, None]), 0, 255).astype(np.uint8)


def frame_and_masks(rng, planes, n_modes, ratios, shadow_share=0.5):
    """A frame whose pixels are the heaviest mean times a ratio drawn from ``ratios``."""
    shape = n_modes.shape
    frame = scaled_frame(planes, rng.choice(ratios, shape) + rng.normal(0, 0.01, shape))
    u = rng.random(shape)
    raw = np.where(u < shadow_share, 127, np.where(u < 0.8, 255, 0)).astype(np.uint8)
    neighbour = raw.copy()
    neighbour[rng.random(shape) < 0.2] = 0  # what the neighbourhood step cleared
    return frame, raw, neighbour


def check(frame, planes, n_modes, raw, neighbour=None, *, histogram=None, distance=None,
          threshold=None, scale=1.0, far=25.0, decay=0.98, min_mass=200.0):
    """Run the kernel with the model's tuning; returns (n_dark, turned, dark ratios)."""
    shape = raw.shape
    neighbour = raw if neighbour is None else neighbour
    histogram = np.zeros(SHADOW_BINS, np.float32) if histogram is None else histogram
    distance = np.zeros(shape, np.float32) if distance is None else distance
    threshold = np.full(shape, 12.0, np.float32) if threshold is None else threshold
    pixels, ratios = np.empty(raw.size, np.int64), np.empty(raw.size, np.float32)
    n_dark, turned = consistent_shadows(frame, F32(scale), planes, K, n_modes, raw, neighbour,
                                        distance, threshold, 127, F32(0.85), F32(far), F32(decay),
                                        2, F32(min_mass), F32(0.6), histogram, pixels, ratios)
    return n_dark, turned, ratios[:n_dark].copy()


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
    threshold = rng.uniform(10, 30, (height, width)).astype(np.float32)
    banded = []
    for _ in range(6):
        frame, raw, neighbour = frame_and_masks(rng, planes, n_modes, ratios)
        # Some pixels far from their background: the faint ones among them turn.
        u = rng.random((height, width))
        distance = np.where(u < 0.3, 40 * threshold, threshold).astype(np.float32)
        distance[u > 0.9] = np.inf          # no background component: nothing to be far from
        raw_ref, neighbour_ref, expected_histogram, turned_ref = ref.consistent_shadows(
            frame, F32(1.0), planes, K, n_modes, raw, neighbour, distance, threshold, 127,
            F32(0.85), F32(25.0), F32(0.9), 2, F32(300.0), F32(0.6), expected_histogram)
        n_dark, turned, dark_ratios = check(frame, planes, n_modes, raw, neighbour,
                                            histogram=histogram, distance=distance,
                                            threshold=threshold, decay=0.9, min_mass=300.0)
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
    planes, n_modes = state(rng, 20, 20, 3)
    n_modes[:] = 1
    a = np.full((20, 20), 0.6)
    a[:, 15:] = 0.75                       # a dark grey object beside the shadows
    a[:, :3] = 0.95                        # near-background: never touched
    frame = scaled_frame(planes, a)
    histogram = np.zeros(SHADOW_BINS, np.float32)
    for _ in range(3):
        raw = np.full((20, 20), 127, np.uint8)
        check(frame, planes, n_modes, raw, histogram=histogram)
    assert (raw[:, 3:15] == 127).all()
    assert (raw[:, 15:] == 255).all()
    assert (raw[:, :3] == 127).all()


def test_a_faint_shadow_far_from_the_background_is_an_object():
    """Ratio 0.98: near-background shade when within noise, a slightly darker object (one
    channel: a cooler part of a person on a thermal camera) when 30 thresholds away."""
    rng = np.random.default_rng(8)
    planes, n_modes = state(rng, 10, 10, 1)
    n_modes[:] = 1
    frame = scaled_frame(planes, np.full((10, 10), 0.98))
    threshold = np.full((10, 10), 12.0, np.float32)
    distance = np.where(np.arange(10)[None, :] < 5, 2 * threshold, 30 * threshold)
    raw = np.full((10, 10), 127, np.uint8)
    n_dark, turned, _ = check(frame, planes, n_modes, raw, distance=distance.astype(np.float32),
                              threshold=threshold)
    assert n_dark == turned == 50
    assert (raw[:, :5] == 127).all() and (raw[:, 5:] == 255).all()
    raw[:] = 127
    assert check(frame, planes, n_modes, raw, distance=distance.astype(np.float32),
                 threshold=threshold, far=0.0)[1] == 0   # far=0: the rule off


def test_gain_and_scale_enter_the_ratio():
    """The ratio is of the sample as the update saw it (frame x intensity_scale / gain)."""
    rng = np.random.default_rng(3)
    planes, n_modes = state(rng, 10, 10, 3)
    n_modes[:] = 1
    frame = scaled_frame(planes, np.full((10, 10), 0.6))
    seen = {}
    for scale in (1.0, 1.5):
        raw = np.full((10, 10), 127, np.uint8)
        _, _, dark_ratios = check(frame, planes, n_modes, raw, scale=scale)
        seen[scale] = dark_ratios, raw.copy()
    assert len(seen[1.0][0]) == 100 and np.allclose(seen[1.0][0], 0.6, atol=0.02)
    assert (seen[1.0][1] == 255).all()                     # dark, and no band yet: turned
    assert len(seen[1.5][0]) == 0                          # 0.9 >= 0.85: left as shadow
    assert (seen[1.5][1] == 127).all()
