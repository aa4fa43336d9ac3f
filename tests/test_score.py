"""Soft assignments and outliers: the per-pixel background log-likelihood
(``score_samples``, ``apply(log_likelihood=)``) against the slow reference in
tests/reference.py for every covariance type, the foreground probability's
properties, ``score``/``outliers``, and the validation of their inputs."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix import BackgroundMixture
from tests import reference
from tests.mixtures import plain_mixture

TYPES = ("spherical", "diag", "full", "tied")


def random_full_planes(rng, shape):
    """Six planes (xx, xy, xz, yy, yz, zz) of random positive definite 3x3
    matrices with correlations up to about 0.9, variances 4 to 60."""
    a = rng.normal(0, 1, (*shape, 3, 3))
    s = a @ np.swapaxes(a, -1, -2) + 0.3 * np.eye(3)
    scale = np.sqrt(rng.uniform(4, 60, (*shape, 3)) / np.diagonal(s, axis1=-2, axis2=-1))
    s = s * scale[..., :, None] * scale[..., None, :]
    planes = [s[..., 0, 0], s[..., 0, 1], s[..., 0, 2], s[..., 1, 1], s[..., 1, 2], s[..., 2, 2]]
    return np.stack(planes, axis=-3).astype(np.float32)  # (..., 6, H, W) with shape (..., H, W)


def randomize_state(model, rng):
    """Replace a model's learned state by a random one: 0 to K live components
    (sorted weights summing to 1), means near mid-grey, valid covariances."""
    k = model.n_components
    height, width, c = model.frame_shape_
    n_live = rng.integers(0, k + 1, (height, width)).astype(np.uint8)
    n_live[0, 0] = 0  # at least one pixel with no component
    n_live[0, 1] = k
    live = np.arange(k)[:, None, None] < n_live[None]
    weights = np.where(live, rng.uniform(0.01, 1, (k, height, width)), 0)
    weights = -np.sort(-weights, axis=0)
    weights /= np.maximum(weights.sum(axis=0), 1e-12)
    model.weights_[...] = weights.astype(np.float32)
    model.n_components_[...] = n_live
    model.means_[...] = rng.uniform(60, 190, model.means_.shape).astype(np.float32)
    if model.covariance_type in ("spherical", "diag"):
        model.variances_[...] = rng.uniform(4, 75, model.variances_.shape).astype(np.float32)
    elif c == 1:
        model.covariances_[...] = rng.uniform(4, 60, model.covariances_.shape).astype(np.float32)
    elif model.covariance_type == "full":
        model.covariances_[...] = np.stack(
            [random_full_planes(rng, (height, width)) for _ in range(k)])
    else:
        model.covariances_[...] = random_full_planes(rng, (height, width))


def state_of(model):
    cov = model.variances_ if model.covariance_type in ("spherical", "diag") else model.covariances_
    return {"weights": model.weights_.copy(), "means": model.means_.copy(),
            "n_modes": model.n_components_.copy(), "cov": cov.copy()}


def near_frame(model, rng, spread):
    """A frame near the components' means (plus far-off pixels), uint8."""
    height, width, c = model.frame_shape_
    pick = rng.integers(0, model.n_components, (height, width))
    base = np.take_along_axis(model.means_, pick[None, None], axis=0)[0]  # (C, H, W)
    frame = np.moveaxis(base, 0, -1) + rng.normal(0, spread, (height, width, c))
    frame[rng.random((height, width)) < 0.1] = rng.uniform(0, 255, c)
    return np.clip(np.rint(frame), 0, 255).astype(np.uint8)


def make_model(rng, covariance_type, channels, height=9, width=13, **params):
    model = plain_mixture(covariance_type=covariance_type, n_components=4, **params)
    model.apply(rng.integers(0, 255, (height, width, channels), dtype=np.uint8))
    randomize_state(model, rng)
    return model


# --------------------------------------------------------- log-likelihood
@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("channels", [1, 3])
def test_score_samples_matches_reference(covariance_type, channels):
    rng = np.random.default_rng(TYPES.index(covariance_type) * 10 + channels)
    for background_ratio in (0.9, 0.5, 1.0):
        model = make_model(rng, covariance_type, channels, background_ratio=background_ratio)
        for spread in (2.0, 8.0, 40.0):
            frame = near_frame(model, rng, spread)
            got = model.score_samples(frame)
            expected = reference.score_samples(frame, state_of(model), covariance_type,
                                               background_ratio)
            assert got.dtype == np.float32 and got.shape == frame.shape[:2]
            assert np.isneginf(got[0, 0]) and np.isneginf(expected[0, 0])
            finite = np.isfinite(expected)
            np.testing.assert_array_equal(np.isfinite(got), finite)
            np.testing.assert_allclose(got[finite], expected[finite], rtol=1e-4, atol=1e-5,
                                       err_msg=f"{covariance_type}, {channels} ch, "
                                               f"ratio {background_ratio}, spread {spread}")


@pytest.mark.parametrize("covariance_type", TYPES)
def test_apply_log_likelihood_is_the_score_of_the_state_before_the_frame(covariance_type):
    rng = np.random.default_rng(40 + TYPES.index(covariance_type))
    model = make_model(rng, covariance_type, 3, intensity_scale=0.8)
    for t in range(4):
        frame = near_frame(model, rng, 5.0)
        before = state_of(model)
        expected = model.score_samples(frame)
        reference_values = reference.score_samples(frame, before, covariance_type,
                                                   model.background_ratio, intensity_scale=0.8)
        log_lik = np.empty(frame.shape[:2], np.float32)
        probability = np.empty(frame.shape[:2], np.float32)
        mask = model.apply(frame, log_likelihood=log_lik, probability=probability)
        np.testing.assert_array_equal(log_lik, expected, err_msg=f"frame {t}")
        finite = np.isfinite(reference_values)
        np.testing.assert_allclose(log_lik[finite], reference_values[finite], rtol=1e-4, atol=1e-5)
        # the probability still comes out of the same pass
        np.testing.assert_array_equal(probability >= 0.5, mask != 0)
        assert (model.weights_ != before["weights"]).any()  # it did learn


@pytest.mark.parametrize("covariance_type", TYPES)
def test_log_likelihood_is_highest_at_the_mean_and_falls_with_distance(covariance_type):
    """One component: the closed form of the Gaussian density."""
    model = plain_mixture(covariance_type=covariance_type, detect_shadows=False,
                              var_init=9.0)
    background = np.full((1, 30, 3), 100, np.float32)
    model.apply(background)
    probe = background.copy()
    probe[0, :, 0] += np.arange(30, dtype=np.float32)
    log_lik = model.score_samples(probe)[0]
    assert (np.diff(log_lik) < 0).all()
    per_channel = 9.0 / 3 if covariance_type == "spherical" else 9.0
    expected = -0.5 * (np.arange(30) ** 2 / per_channel + 3 * np.log(2 * np.pi * per_channel))
    np.testing.assert_allclose(log_lik, expected, rtol=1e-6)


def test_background_components_only():
    """A light component beyond background_ratio does not count."""
    model = plain_mixture(var_init=4.0, background_ratio=0.7)
    model.apply(np.zeros((1, 2), np.uint8))
    model.weights_[:2] = np.array([0.8, 0.2], np.float32)[:, None, None]
    model.means_[:2, 0] = np.array([50.0, 150.0], np.float32)[:, None, None]
    model.variances_[:2] = 4.0
    model.n_components_[...] = 2
    at_light = model.score_samples(np.full((1, 2), 150, np.uint8))
    at_heavy = model.score_samples(np.full((1, 2), 50, np.uint8))
    np.testing.assert_allclose(at_heavy, -0.5 * np.log(2 * np.pi * 4), rtol=1e-6)
    assert (at_light < -1000).all()
    model.set_params(background_ratio=0.9)  # now both are background
    mixed = model.score_samples(np.full((1, 2), 150, np.uint8))
    np.testing.assert_allclose(mixed, np.log(0.2) - 0.5 * np.log(2 * np.pi * 4), rtol=1e-5)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_score_samples_leaves_the_model_unchanged(covariance_type):
    rng = np.random.default_rng(7)
    model = plain_mixture(covariance_type=covariance_type)
    for _ in range(10):
        model.apply(rng.integers(90, 110, (6, 8, 3), dtype=np.uint8))
    before = {name: np.copy(value) for name, value in vars(model).items()
              if name.endswith("_") and isinstance(value, np.ndarray)}
    frames_seen = model.n_frames_seen_
    for _ in range(3):
        frame = rng.integers(0, 255, (6, 8, 3), dtype=np.uint8)
        model.score_samples(frame)
        model.score(frame)
        model.outliers(frame, -20.0)
    assert model.n_frames_seen_ == frames_seen
    for name, value in before.items():
        np.testing.assert_array_equal(getattr(model, name), value, err_msg=name)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_score_and_outliers_follow_score_samples(covariance_type):
    rng = np.random.default_rng(3)
    model = make_model(rng, covariance_type, 3)
    frame = near_frame(model, rng, 10.0)
    log_lik = model.score_samples(frame)
    assert model.score(frame) == float(np.mean(log_lik, dtype=np.float64))  # -inf: (0, 0)
    empty = model.n_components_ == 0
    model.n_components_[empty] = 1
    model.weights_[0][empty] = 1
    log_lik = model.score_samples(frame)
    assert np.isfinite(log_lik).all()
    np.testing.assert_allclose(model.score(frame), log_lik.astype(np.float64).mean(), rtol=1e-12)
    for threshold in (float(np.median(log_lik)), -15.0, -1e6, 0.0):
        outliers = model.outliers(frame, threshold)
        assert outliers.dtype == bool
        np.testing.assert_array_equal(outliers, log_lik < np.float32(threshold))
    assert 0 < model.outliers(frame, float(np.median(log_lik))).sum() < log_lik.size


# ------------------------------------------------------------ probability
BOUNDARY_STATES = {
    # covariance_type: (channels, set the state, offset in channel 0 where D2 = 16)
    "spherical": (1, lambda m: m.variances_.fill(4.0), 8.0),       # 8^2 / 4
    "diag": (3, lambda m: m.variances_.fill(4.0), 8.0),            # 8^2 / 4
    "full": (3, lambda m: m.covariances_.__setitem__(
        slice(None), np.array([4, 0, 0, 4, 0, 4], np.float32)[None, :, None, None]), 8.0),
    "tied": (3, lambda m: m.covariances_.__setitem__(
        slice(None), np.array([4, 0, 0, 4, 0, 4], np.float32)[:, None, None]), 8.0),
}


@pytest.mark.parametrize("covariance_type", TYPES)
def test_probability_is_one_half_on_the_boundary_and_monotone(covariance_type):
    """A hand-set one-component state where D2 = var_threshold = 16 exactly
    at an offset of 8: p = 0.5 there, below on the way in, above beyond,
    non-decreasing with the distance, and p >= 0.5 exactly where mask != 0."""
    channels, set_cov, boundary = BOUNDARY_STATES[covariance_type]
    model = plain_mixture(covariance_type=covariance_type, detect_shadows=False,
                              var_threshold=16.0)
    offsets = np.concatenate([np.linspace(0, 7.99, 40), [boundary], np.linspace(8.01, 30, 40)])
    background = np.full((2, len(offsets), channels), 100, np.float32)
    model.apply(background)
    model.apply(background)  # learning_rate=0 freezes from the second frame on
    model.weights_[...] = 0
    model.weights_[0] = 1
    model.n_components_[...] = 1
    model.means_[...] = 0
    model.means_[0] = 100
    set_cov(model)
    probe = background.copy()
    probe[0, :, 0] += offsets  # row 0: away from the mean; row 1: towards zero
    probe[1, :, 0] -= offsets
    p = np.empty(probe.shape[:2], np.float32)
    mask = model.apply(probe, learning_rate=0, probability=p)
    at = len(offsets) // 2
    for row in p:
        assert row[at] == np.float32(0.5)
        assert (row[:at] < 0.5).all() and (row[at + 1:] > 0.5).all()
        assert (np.diff(row) >= 0).all() and (np.diff(row[1:at]) > 0).all()
        expected = 1 / (1 + np.exp(-(offsets ** 2 / 4 - 16) / 2))
        np.testing.assert_allclose(row, expected, rtol=1e-5, atol=1e-7)
    np.testing.assert_array_equal(p >= 0.5, mask == 255)
    assert (mask[:, at] == 255).all()


def scene(rng, n, height, width, channels):
    """Noisy background with a second mode in one corner and moving blocks."""
    background = rng.uniform(40, 200, (height, width, channels))
    frames = []
    for t in range(n):
        frame = background + rng.normal(0, 3, background.shape)
        if t % 3 == 0:
            frame[: height // 3, : width // 3] += 40  # a bimodal corner
        frame[height // 2:, (2 * t) % width:(2 * t) % width + 4] = rng.uniform(0, 255, channels)
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    return frames


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("channels", [1, 3])
def test_probability_at_half_is_the_hard_mask_without_shadows(covariance_type, channels):
    rng = np.random.default_rng(100 + channels)
    model = plain_mixture(covariance_type=covariance_type, detect_shadows=False, history=50)
    for t, frame in enumerate(scene(rng, 30, 16, 24, channels)):
        frame = frame[..., 0] if channels == 1 else frame
        p = np.empty(frame.shape[:2], np.float32)
        known = (rng.random(frame.shape[:2]) < 0.1) if t % 2 else None
        mask = model.apply(frame, probability=p, known_foreground=known)
        np.testing.assert_array_equal(p >= 0.5, mask == 255, err_msg=f"frame {t}")
        assert ((p >= 0) & (p <= 1)).all()
    assert 0 < (mask == 255).mean() < 0.5


# ------------------------------------------------------------- validation
def test_log_likelihood_buffer_is_validated():
    model = plain_mixture()
    frame = np.zeros((4, 5, 3), np.uint8)
    for bad, message in [
        (np.zeros((4, 5), np.float64), r"log_likelihood must have shape \(4, 5\) and dtype float32"),
        (np.zeros((5, 4), np.float32), r"log_likelihood must have shape \(4, 5\)"),
        (np.zeros((4, 10), np.float32)[:, ::2], "log_likelihood must be C-contiguous"),
        ([[0.0] * 5] * 4, "log_likelihood must be a numpy array"),
    ]:
        with pytest.raises(ValueError, match=message):
            model.apply(frame, log_likelihood=bad)
    shared = np.zeros((4, 5), np.float32)
    with pytest.raises(ValueError, match="probability and log_likelihood must be different"):
        model.apply(frame, probability=shared, log_likelihood=shared)
    ok = np.full((4, 5), np.nan, np.float32)
    model.apply(frame, log_likelihood=ok)
    assert np.isneginf(ok).all()  # a new model has no component before its first frame


def test_scoring_inputs_are_validated():
    model = plain_mixture()
    frame = np.zeros((4, 5, 3), np.uint8)
    with pytest.raises(RuntimeError, match="call apply"):
        model.score_samples(frame)
    model.apply(frame)
    with pytest.raises(ValueError, match=r"frame has shape \(5, 4\).*initialised with shape \(4, 5\)"):
        model.score_samples(np.zeros((5, 4, 3), np.uint8))
    with pytest.raises(ValueError, match="dtype uint16"):
        model.score(np.zeros((4, 5, 3), np.uint16))
    with pytest.raises(ValueError, match="unsupported dtype float64"):
        model.outliers(np.zeros((4, 5, 3)), -10.0)
    with pytest.raises(ValueError, match=r"out must have shape \(4, 5\) and dtype float32"):
        model.score_samples(frame, out=np.zeros((4, 5), np.float64))
    for bad in (float("nan"), "low", None):
        with pytest.raises(ValueError, match="threshold must be"):
            model.outliers(frame, bad)
    out = np.empty((4, 5), np.float32)
    assert model.score_samples(frame, out=out) is out
