"""The compiled kernel agrees exactly with the slow reference in tests/reference.py."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix import BackgroundMixture
from tests.reference import Params, ReferenceMixture
from tests.mixtures import plain_mixture


def random_frames(rng, n, h, w, c, dtype=np.uint8):
    """Frames whose pixels jump among a few colours: many components, pruning, swaps."""
    palette = rng.integers(0, 256, (4, c)).astype(np.float64)
    choice = rng.integers(0, 4, (n, h, w))
    frames = palette[choice] + rng.normal(0, 4, (n, h, w, c))
    return convert(frames, dtype)


def structured_frames(rng, n, h, w, c, dtype=np.uint8):
    """A textured static background, noise, a moving square, a flickering patch and a shadow."""
    background = rng.uniform(40, 220, (h, w, c))
    frames = np.empty((n, h, w, c))
    for t in range(n):
        frame = background + rng.normal(0, 2.5, (h, w, c))
        frame[: h // 3, : w // 3] = rng.choice([30.0, 140.0, 230.0])
        if t > n // 3:
            x = (t * 2) % (w - 4)
            frame[h // 2: h // 2 + 4, x: x + 4] = 250.0 - background[h // 2: h // 2 + 4, x: x + 4]
            frame[h // 2 + 4: h // 2 + 6, x: x + 4] *= 0.6  # a darker same-chroma shadow
        frames[t] = frame
    return convert(frames, dtype)


def convert(frames, dtype):
    if dtype == np.uint16:
        return np.clip(frames * 257.0, 0, 65535).astype(np.uint16)
    if dtype == np.float32:
        return np.clip(frames, 0, 255).astype(np.float32)
    return np.clip(frames, 0, 255).astype(np.uint8)


def run_both(frames, params, rates, known=None, channels_last=True):
    model = plain_mixture(**params.__dict__, n_threads=None)
    ref = ReferenceMixture(params)
    for t, frame in enumerate(frames):
        if not channels_last:
            frame = frame[:, :, 0]
        rate = rates[t % len(rates)]
        kf = None if known is None else known[t]
        prob = np.empty(frame.shape[:2], np.float32)
        mask = model.apply(frame, learning_rate=rate, known_foreground=kf, probability=prob)
        ref_mask, ref_prob = ref.apply(frame, learning_rate=rate, known_foreground=kf)
        np.testing.assert_array_equal(mask, ref_mask, err_msg=f"mask differs at frame {t}")
        # exp() may differ in the last bits between libm and LLVM's lowering;
        # the side of 0.5, which carries the decision, must not.
        np.testing.assert_allclose(prob, ref_prob, rtol=1e-5, atol=1e-7, err_msg=f"frame {t}")
        np.testing.assert_array_equal(prob >= 0.5, mask != 0, err_msg=f"frame {t}")
        weights, variances, means, n_modes = ref.state
        np.testing.assert_array_equal(model.n_components_, n_modes, err_msg=f"frame {t}")
        np.testing.assert_allclose(model.weights_, weights, atol=1e-5, rtol=0, err_msg=f"frame {t}")
        np.testing.assert_allclose(model.variances_, variances, atol=1e-5, rtol=0, err_msg=f"frame {t}")
        np.testing.assert_allclose(model.means_, means, atol=1e-5, rtol=0, err_msg=f"frame {t}")
    return model, ref


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("shadows", [True, False])
@pytest.mark.parametrize("kind", ["random", "structured"])
def test_kernel_matches_reference(channels, shadows, kind):
    rng = np.random.default_rng(channels * 10 + shadows + (kind == "random") * 100)
    make = random_frames if kind == "random" else structured_frames
    frames = make(rng, 36, 9, 11, channels)
    params = Params(detect_shadows=shadows, n_components=4)
    model, ref = run_both(frames, params, rates=[None])
    np.testing.assert_array_equal(
        model.background_image().reshape(ref.background_image().shape),
        np.clip(np.rint(ref.background_image()), 0, 255).astype(np.uint8),
    )


@pytest.mark.parametrize("rates", [[None], [0.05], [None, 0.0, 0.2], [None, None, 1.0, None, -1.0]])
def test_learning_rates_match_reference(rates):
    rng = np.random.default_rng(7)
    frames = structured_frames(rng, 30, 8, 10, 3)
    run_both(frames, Params(), rates=rates)


@pytest.mark.parametrize("rates", [[0.9], [0.6, 0.95], [1e-40, None, 1e-45]])
def test_pruning_and_tiny_rates_match_reference(rates):
    # High rates with pruning drop every component of many pixels (the matched
    # one too): both give the sample a sole component of weight 1. Subnormal rates
    # round a new weight to 0: neither learns from it (no inf gain, no NaN).
    rng = np.random.default_rng(12)
    frames = random_frames(rng, 20, 7, 9, 3)
    model, _ = run_both(frames, Params(complexity_reduction=0.3, n_components=3), rates=rates)
    live = np.arange(3)[:, None, None] < model.n_components_
    np.testing.assert_allclose(np.where(live, model.weights_, 0).sum(axis=0), 1, atol=1e-5)
    assert np.isfinite(model.means_).all()


@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("rates", [[None], [0.05, None]])
def test_kept_background_modes_match_reference(channels, rates):
    # Four colours and three components: full mixtures meet unexplained samples
    # while their weakest is background (kept, worn down) or not (replaced).
    rng = np.random.default_rng(21 + channels)
    frames = random_frames(rng, 40, 8, 9, 3)[..., :channels]
    params = Params(n_components=3, keep_background_modes=True)
    kept, _ = run_both(frames, params, rates=rates)
    replaced, _ = run_both(frames, Params(n_components=3), rates=rates)
    # The rule made a difference here (else this test would not test it).
    assert not np.array_equal(kept.weights_, replaced.weights_)


def test_a_passing_object_does_not_evict_a_background_mode():
    # A pixel cycling through three colours, all background; an object passes
    # for six frames. OpenCV's rule replaces the weakest colour with the
    # object's, and that colour is foreground when it shows again.
    colours = np.array([[40, 40, 40], [120, 120, 120], [200, 200, 200]], np.uint8)
    frames = [np.broadcast_to(colours[t % 3], (4, 4, 3)).copy() for t in range(150)]
    frames += [np.full((4, 4, 3), (250, 0, 0), np.uint8)] * 6
    frames += [np.broadcast_to(colours[t % 3], (4, 4, 3)).copy() for t in range(6)]
    masks = {}
    for keep in (True, False):
        model = plain_mixture(n_components=3, keep_background_modes=keep)
        masks[keep] = [model.apply(frame) for frame in frames]
        assert all(m.max() == 255 for m in masks[keep][150:156])  # the object is seen
    assert all(m.max() == 0 for m in masks[True][156:])
    assert any(m.min() == 255 for m in masks[False][156:])


def test_known_foreground_matches_reference():
    rng = np.random.default_rng(3)
    frames = random_frames(rng, 30, 8, 9, 3)
    known = rng.random((30, 8, 9)) < 0.3
    known[0] = False  # the first frame initialises every pixel
    model, _ = run_both(frames, Params(), rates=[None], known=known)
    assert model.n_frames_seen_ == 30


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
@pytest.mark.parametrize("intensity_scale", [1.0, 255 / 65535])
def test_other_dtypes_match_reference(dtype, intensity_scale):
    rng = np.random.default_rng(11)
    frames = structured_frames(rng, 25, 7, 9, 3, dtype=dtype)
    run_both(frames, Params(intensity_scale=intensity_scale), rates=[None])


def test_one_component_and_no_pruning_match_reference():
    rng = np.random.default_rng(5)
    frames = random_frames(rng, 25, 6, 7, 3)
    run_both(frames, Params(n_components=1), rates=[None])
    run_both(frames, Params(n_components=2, complexity_reduction=0.0), rates=[None])


def test_known_foreground_pixels_are_not_learned():
    model = plain_mixture()
    background = np.full((6, 6, 3), 100, np.uint8)
    for _ in range(20):
        model.apply(background)
    before = (model.weights_.copy(), model.means_.copy(), model.variances_.copy())
    known = np.zeros((6, 6), bool)
    known[2:4, 2:4] = True
    intruder = background.copy()
    intruder[2:4, 2:4] = 250
    for _ in range(50):
        mask = model.apply(intruder, known_foreground=known)
        assert (mask[2:4, 2:4] == 255).all()
    np.testing.assert_array_equal(model.means_[:, :, 2:4, 2:4], before[1][:, :, 2:4, 2:4])
    np.testing.assert_array_equal(model.weights_[:, 2:4, 2:4], before[0][:, 2:4, 2:4])
    # Without the mask the same intruder is learned into the background.
    for _ in range(300):
        mask = model.apply(intruder)
    assert (mask[2:4, 2:4] == 0).all()
