"""The feedback and clean-up kernels against tests/reference_feedback.py."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.kernels.cleanup import fill_holes, majority_filter
from bgmix.kernels.feedback import feedback_step, gain_ratios, turned_share
from tests import reference_feedback as ref


def random_mask(rng, shape, p_fg=0.4, p_shadow=0.1):
    u = rng.random(shape)
    return np.where(u < p_fg, 255, np.where(u < p_fg + p_shadow, 127, 0)).astype(np.uint8)


@pytest.mark.parametrize("size", [3, 5, 7])
@pytest.mark.parametrize("shape", [(9, 13), (1, 5), (4, 1), (20, 31)])
def test_majority_filter_matches_the_reference(size, shape):
    rng = np.random.default_rng(size * 100 + shape[0])
    mask = random_mask(rng, shape)
    out = np.empty_like(mask)
    majority_filter(mask, size, np.empty(shape[1], np.int32), out)
    np.testing.assert_array_equal(out, ref.majority_filter(mask, size))


def test_majority_filter_removes_speckle_and_keeps_blobs():
    mask = np.zeros((20, 20), np.uint8)
    mask[3, 3] = 255                 # speckle
    mask[8:16, 8:16] = 255           # a blob
    mask[0, 19] = 127                # shadow kept
    out = np.empty_like(mask)
    majority_filter(mask, 5, np.empty(20, np.int32), out)
    assert out[3, 3] == 0 and out[12, 12] == 255 and out[0, 19] == 127


@pytest.mark.parametrize("seed", range(4))
def test_fill_holes_matches_the_reference(seed):
    mask = random_mask(np.random.default_rng(seed), (17, 23), p_fg=0.55)
    expected = ref.fill_holes(mask)
    n_changed = int(np.count_nonzero(expected != mask))
    assert fill_holes(mask, np.empty(mask.size, np.int64)) == n_changed
    np.testing.assert_array_equal(mask, expected)


def test_fill_holes_fills_a_closed_ring_only():
    ring = np.zeros((9, 9), np.uint8)
    ring[2:7, 2:7] = 255
    ring[3:6, 3:6] = 127             # a shadow inside the ring: a hole too
    fill_holes(ring, np.empty(81, np.int64))
    assert (ring[2:7, 2:7] == 255).all()
    bay = np.zeros((9, 9), np.uint8)
    bay[2:7, 2:7] = 255
    bay[3:6, 3:7] = 0                # opened to the right: connected to the border
    before = bay.copy()
    assert fill_holes(bay, np.empty(81, np.int64)) == 0
    np.testing.assert_array_equal(bay, before)


@pytest.mark.parametrize("p_fg", [0.4, 0.85])  # 0.85: many pixels foreground in all three masks
@pytest.mark.parametrize("light_change", [False, True])
@pytest.mark.parametrize("conservative", [False, True])
def test_feedback_step_matches_the_reference(light_change, conservative, p_fg):
    rng = np.random.default_rng(int(light_change) * 2 + int(conservative) + int(p_fg * 100))
    shape = (11, 14)
    raw = random_mask(rng, shape, p_fg=p_fg)
    neighbour = np.where(rng.random(shape) < 0.3, 0, raw).astype(np.uint8)
    final = np.where(rng.random(shape) < 0.2, 255 - neighbour // 255 * 255, neighbour).astype(np.uint8)
    min_distance = (rng.random(shape) * 200).astype(np.float32)
    min_distance[0, :3] = np.inf
    distance = rng.random(shape).astype(np.float32)
    blink = (rng.random(shape) * 14).astype(np.float32)
    hold = rng.integers(0, 30, shape).astype(np.float32)
    previous_raw = random_mask(rng, shape, p_fg=p_fg)
    args = (12.0, 0.7, 20.0, 10.0, 250.0, light_change, conservative)
    expected = ref.feedback_step(raw, neighbour, final, min_distance, distance, blink, hold,
                                 previous_raw, *args[:5], light_change, conservative)
    threshold = np.empty(shape, np.float32)
    rate = np.empty(shape, np.float32)
    feedback_step(raw, neighbour, final, min_distance, distance, blink, hold, previous_raw,
                  threshold, rate, *args)
    got = (final, distance, blink, hold, previous_raw, threshold, rate)
    for name, g, e in zip(("final", "distance", "blink", "hold", "previous_raw", "threshold",
                           "rate"), got, expected):
        np.testing.assert_allclose(g, e, rtol=1e-5, atol=1e-6, err_msg=name)


def test_turned_share_counts_out_of_the_pixels_that_could_turn():
    previous = np.array([[0, 255, 127], [255, 0, 0]], np.uint8)
    raw = np.array([[255, 255, 255], [0, 127, 255]], np.uint8)
    # four pixels were not foreground (a shadow, 127, is not); three of them turned
    assert turned_share(raw, previous) == 3 / 4
    everything = np.full((2, 3), 255, np.uint8)
    assert turned_share(everything, everything) == 0.0


def test_turned_share_matches_numpy_on_random_masks():
    rng = np.random.default_rng(11)
    values = np.array([0, 127, 255], np.uint8)
    for _ in range(5):
        raw = rng.choice(values, (37, 53))
        previous = rng.choice(values, (37, 53))
        could = previous != 255
        expected = ((raw == 255) & could).sum() / could.sum()
        assert turned_share(raw, previous) == pytest.approx(expected, rel=1e-12)


def test_gain_ratios_matches_numpy():
    rng = np.random.default_rng(5)
    height, width, k, grid = 30, 41, 3, 4
    frame = rng.integers(0, 256, (height, width, 3), dtype=np.uint8)
    planes = rng.random((k * 4 + k, 2048)).astype(np.float32) * 200
    planes[:k] = rng.random((k, 2048)).astype(np.float32)
    n_modes = rng.integers(0, k + 1, (height, width)).astype(np.uint8)
    previous = random_mask(rng, (height, width))
    ratios = np.empty(height * width, np.float32)
    count = gain_ratios(frame, 0.5, planes, k, n_modes, previous, grid, 0.3, 8.0, True, ratios)
    expected = []
    for y in range(grid // 2, height, grid):
        for x in range(grid // 2, width, grid):
            i = y * width + x
            observed = frame[y, x].astype(np.float64).sum() * 0.5
            # the nearest settled component's mean, by channel sum
            levels = [planes[k + 3 * j:k + 3 * j + 3, i].astype(np.float64).sum()
                      for j in range(n_modes[y, x]) if planes[j, i] >= 0.3]
            levels = [level for level in levels if level > 8.0]
            if previous[y, x] == 0 and levels:
                expected.append(observed / min(levels, key=lambda level: abs(observed - level)))
    assert len(expected) > 10
    np.testing.assert_allclose(ratios[:count], expected, rtol=1e-5)
    every = gain_ratios(frame, 0.5, planes, k, n_modes, np.full_like(previous, 255), grid, 0.3,
                        8.0, False, ratios)
    assert every > count


def test_gain_is_measured_against_the_nearest_background_not_the_heaviest():
    # Two backgrounds (an escalator's bright and dark steps): showing the
    # dark one, under an unchanged exposure, the pixel says 1, not 0.5.
    k = 2
    planes = np.zeros((k * 4 + k, 1), np.float32)
    planes[0], planes[1] = 0.6, 0.4              # weights
    planes[k:k + 3] = 200.0                      # the heavier mode: bright
    planes[k + 3:k + 6] = 100.0                  # the other: dark
    ratios = np.empty(1, np.float32)
    dark = np.full((1, 1, 3), 100, np.uint8)
    count = gain_ratios(dark, 1.0, planes, k, np.full((1, 1), 2, np.uint8),
                        np.zeros((1, 1), np.uint8), 1, 0.2, 8.0, True, ratios)
    assert count == 1 and ratios[0] == 1.0
