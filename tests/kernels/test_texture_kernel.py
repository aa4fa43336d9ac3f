"""The texture check (bgmix.kernels.texture) against tests/reference_feedback.py."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix.kernels.texture import PATTERN, TEXTURE_BITS, texture_check
from tests import reference_feedback as ref

K = 3
F32 = np.float32
# relative 0.25 and integer grey levels on one channel make every comparison exact.
TUNING = dict(background_ratio=0.9, min_weight=0.8, relative=0.25, floor=8.0, max_changed=3,
              share_step=0.01, max_share=0.15)


def run_kernel(frame, planes, n_modes, raw, neighbour, share, scale=1.0, **tuning):
    t = {**TUNING, **tuning}
    neighbour, share = neighbour.copy(), share.copy()
    checked, turned = texture_check(
        frame, F32(scale), planes, K, n_modes, raw, neighbour, share, PATTERN,
        F32(t["background_ratio"]), F32(t["min_weight"]), F32(t["relative"]), F32(t["floor"]),
        t["max_changed"], F32(t["share_step"]), F32(t["max_share"]))
    return neighbour, share, checked, turned


def run_reference(frame, planes, n_modes, raw, neighbour, share, scale=1.0, **tuning):
    t = {**TUNING, **tuning}
    return ref.texture_check(frame, scale, planes, K, n_modes, raw, neighbour, share, PATTERN,
                             t["background_ratio"], t["min_weight"], t["relative"], t["floor"],
                             t["max_changed"], t["share_step"], t["max_share"])


def random_state(rng, height, width, n_channels, integer):
    """Up to three components per pixel; most pixels settled (heaviest >= 0.8)."""
    planes = np.zeros((K + K * n_channels + K, height * width), np.float32)
    heaviest = np.where(rng.random(height * width) < 0.96, rng.uniform(0.8, 1.0, height * width),
                        rng.uniform(0.4, 0.8, height * width))
    planes[0] = heaviest
    planes[1] = (1 - heaviest) * 0.7
    planes[2] = (1 - heaviest) * 0.3
    for k in range(K):
        for c in range(n_channels):
            means = rng.integers(20, 230, height * width) if integer else rng.uniform(20, 230, height * width)
            planes[K + k * n_channels + c] = means
    n_modes = rng.choice(np.arange(4, dtype=np.uint8), (height, width), p=[0.01, 0.49, 0.3, 0.2])
    return planes, n_modes


def random_inputs(rng, height, width, n_channels, integer):
    planes, n_modes = random_state(rng, height, width, n_channels, integer)
    if integer:
        frame = rng.integers(0, 256, (height, width, n_channels)).astype(np.uint8)
    else:
        frame = rng.uniform(0, 255, (height, width, n_channels)).astype(np.float32)
    raw = np.where(rng.random((height, width)) < 0.5, 255, 0).astype(np.uint8)
    neighbour = raw.copy()
    neighbour[rng.random((height, width)) < 0.6] = 0        # what the neighbourhood step cleared
    share = rng.uniform(0, 0.3, (height, width)).astype(np.float32)
    return frame, planes, n_modes, raw, neighbour, share


@pytest.mark.parametrize("n_channels, integer, seed", [(1, True, 0), (3, False, 1), (3, True, 2),
                                                       (1, False, 3)])
def test_texture_check_matches_the_reference(n_channels, integer, seed):
    rng = np.random.default_rng(seed)
    inputs = random_inputs(rng, 23, 31, n_channels, integer)
    got_neighbour, got_share, checked, turned = run_kernel(*inputs)
    want_neighbour, want_share, want_checked, want_turned = run_reference(*inputs)
    assert (checked, turned) == (want_checked, want_turned)
    assert checked > 20 and 0 < turned < checked                # the cases are all exercised
    np.testing.assert_array_equal(got_neighbour, want_neighbour)
    np.testing.assert_allclose(got_share, want_share, rtol=1e-6)


def chequer_scene(object_grey=40.0):
    """A chequer of 40 and 200 with one component per pixel, an object of one grey over
    the middle, and the centre displaced (cleared by the neighbourhood step)."""
    h = w = 9
    chequer = np.where(np.add.outer(np.arange(h), np.arange(w)) % 2, 200.0, 40.0)
    planes = np.zeros((K + K + K, h * w), np.float32)
    planes[0], planes[K] = 1.0, chequer.ravel()
    n_modes = np.ones((h, w), np.uint8)
    frame = chequer.astype(np.float32).reshape(h, w, 1)
    frame[2:7, 2:7] = object_grey
    raw = np.zeros((h, w), np.uint8)
    raw[4, 4] = 255
    return frame, planes, n_modes, raw, np.zeros((h, w), np.uint8), np.zeros((h, w), np.float32)


def test_an_object_over_a_pattern_is_foreground_and_the_pattern_itself_is_not():
    frame, planes, n_modes, raw, neighbour, share = chequer_scene()
    out, _, checked, turned = run_kernel(frame, planes, n_modes, raw, neighbour, share)
    assert (checked, turned, out[4, 4]) == (1, 1, 255)
    # The background's own pattern, brighter (a change of light): the bits are relative.
    lit = planes[K].reshape(9, 9, 1) * F32(1.4)
    out, _, checked, turned = run_kernel(lit, planes, n_modes, raw, neighbour, share)
    assert (checked, turned, out[4, 4]) == (1, 0, 0)


def test_a_neighbour_with_two_modes_allows_both_bits():
    frame, planes, n_modes, raw, neighbour, share = chequer_scene()
    # Every pixel also shows 40 as a second background mode: the flat object's
    # pattern is one the background can show.
    planes[0], planes[1] = 0.85, 0.15
    planes[K + 1] = 40.0
    n_modes[:] = 2
    out, _, _, turned = run_kernel(frame, planes, n_modes, raw, neighbour, share, min_weight=0.8)
    assert turned == 0 and out[4, 4] == 0


def test_unsettled_blocks_and_often_displaced_pixels_are_left_alone():
    frame, planes, n_modes, raw, neighbour, share = chequer_scene()
    planes[0, 3 * 9 + 5] = 0.7                                 # one pixel of the 3x3 block
    assert run_kernel(frame, planes, n_modes, raw, neighbour, share)[2:] == (0, 0)
    planes[0, 3 * 9 + 5] = 1.0
    share[4, 4] = 0.149                                         # 0.1575 with this frame
    out, new_share, checked, turned = run_kernel(frame, planes, n_modes, raw, neighbour, share)
    assert (checked, turned, out[4, 4]) == (0, 0, 0)
    assert new_share[4, 4] == pytest.approx(0.149 + 0.851 * 0.01)
    assert new_share[0, 0] == 0.0                               # not displaced: towards 0


def test_a_tolerance_of_every_bit_turns_nothing():
    frame, planes, n_modes, raw, neighbour, share = chequer_scene()
    out, _, checked, turned = run_kernel(frame, planes, n_modes, raw, neighbour, share,
                                         max_changed=TEXTURE_BITS)
    assert (checked, turned, out[4, 4]) == (1, 0, 0)
