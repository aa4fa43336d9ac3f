"""The update template's extension points against the slow references.

Per-pixel parameter planes (a threshold map and a learning-rate factor map),
the neighbourhood step and OpenCV's weight arithmetic (``renormalize=False``),
for every covariance type, frame by frame: masks exactly, probabilities to
the last bits of ``exp``, state to float32 rounding.
"""

from __future__ import annotations

import numpy as np
import pytest

from bgmix import BackgroundMixture
from tests.reference import Params, ReferenceCovMixture, ReferenceMixture
from tests.test_reference import random_frames, structured_frames
from tests.mixtures import plain_mixture

TYPES = ("spherical", "diag", "full", "tied")


def state_of(model):
    name = "variances_" if model.covariance_type in ("spherical", "diag") else "covariances_"
    return model.weights_, getattr(model, name), model.means_, model.n_components_


def run_both(frames, params, covariance_type, maps=None, known=None):
    """Kernel and reference on the same frames (and maps); compare every frame."""
    model = plain_mixture(**params.__dict__, covariance_type=covariance_type)
    if covariance_type == "spherical":
        ref = ReferenceMixture(params)
    else:
        ref = ReferenceCovMixture(params, covariance_type)
    for t, frame in enumerate(frames):
        threshold_map, rate_map = (None, None) if maps is None else maps(t)
        kf = None if known is None else known[t]
        prob = np.empty(frame.shape[:2], np.float32)
        mask = model.apply(frame, probability=prob, threshold_map=threshold_map,
                           rate_map=rate_map, known_foreground=kf)
        ref_mask, ref_prob = ref.apply(frame, known_foreground=kf, threshold_map=threshold_map,
                                       rate_map=rate_map)
        where = f"{covariance_type}, frame {t}"
        np.testing.assert_array_equal(mask, ref_mask, err_msg=f"mask differs: {where}")
        np.testing.assert_allclose(prob, ref_prob, rtol=1e-5, atol=1e-7, err_msg=where)
        np.testing.assert_array_equal(prob >= 0.5, mask != 0, err_msg=where)
        weights, cov, means, n_modes = ref.state
        got = state_of(model)
        np.testing.assert_array_equal(got[3], n_modes, err_msg=where)
        for name, a, b in (("weights", got[0], weights), ("cov", got[1], cov),
                           ("means", got[2], means)):
            np.testing.assert_allclose(a, b, atol=1e-5, rtol=0, err_msg=f"{name}: {where}")
    return model, ref


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("channels", [1, 3])
def test_parameter_planes_match_reference(covariance_type, channels):
    if covariance_type == "full" and channels == 1:
        pytest.skip("one channel: full is diag")
    rng = np.random.default_rng(21 + channels)
    frames = structured_frames(rng, 30, 8, 11, channels)
    base = 16.0 if covariance_type == "spherical" else 30.0
    thresholds = rng.uniform(0.3 * base, 3 * base, (30, 8, 11)).astype(np.float32)
    factors = rng.choice(np.array([0.0, 0.5, 1.0, 1.0, 3.0], np.float32), (30, 8, 11))
    known = rng.random((30, 8, 11)) < 0.1
    known[0] = False
    model, _ = run_both(frames, Params(n_components=4), covariance_type,
                        maps=lambda t: (thresholds[t], factors[t]), known=known)
    assert model.n_frames_seen_ == 30


@pytest.mark.parametrize("covariance_type", ["spherical", "full"])
def test_neutral_planes_compute_the_scalar_parameters_bit_for_bit(covariance_type):
    # A factor of exactly 1 and the scalar threshold everywhere: the same
    # float32 operations as without planes (only the kernel's specialisation
    # differs), so masks and every state array are identical.
    rng = np.random.default_rng(3)
    frames = random_frames(rng, 40, 12, 16, 3)
    plain = plain_mixture(covariance_type=covariance_type)
    planed = plain_mixture(covariance_type=covariance_type)
    ones = np.ones((12, 16), np.float32)
    thresholds = np.full((12, 16), plain.var_threshold, np.float32)
    for frame in frames:
        a = plain.apply(frame)
        b = planed.apply(frame, threshold_map=thresholds, rate_map=ones)
        np.testing.assert_array_equal(a, b)
    for x, y in zip(state_of(plain), state_of(planed)):
        np.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("radius", [1, 2])
def test_neighbourhood_step_matches_reference(covariance_type, radius):
    rng = np.random.default_rng(40 + radius)
    # Shaken texture: a displaced background colour lands on a neighbour's component.
    texture = rng.uniform(30, 220, (14, 16, 3))
    frames = []
    for t in range(30):
        dy, dx = rng.integers(-1, 2, 2) if t > 10 else (0, 0)
        frame = np.roll(texture, (dy, dx), axis=(0, 1)) + rng.normal(0, 2, texture.shape)
        if t > 20:
            frame[5:9, 6:10] = 250
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    params = Params(n_components=3, neighbourhood_radius=radius)
    if covariance_type != "spherical":
        params.var_threshold = 30.0
    run_both(frames, params, covariance_type)


def test_neighbourhood_step_removes_shake_but_keeps_an_object():
    rng = np.random.default_rng(8)
    texture = rng.uniform(30, 220, (40, 48, 3))
    plain = plain_mixture()
    consensus = plain_mixture(neighbourhood_radius=1)
    shaken_plain, shaken_consensus = [], []
    for t in range(200):
        dy, dx = rng.integers(-1, 2, 2) if t >= 100 else (0, 0)
        frame = np.clip(np.roll(texture, (dy, dx), axis=(0, 1))
                        + rng.normal(0, 2, texture.shape), 0, 255).astype(np.uint8)
        if t == 199:
            frame[10:20, 10:20] = (255, 0, 255)  # a colour the scene does not hold
        a, b = plain.apply(frame), consensus.apply(frame)
        if 100 <= t < 199:
            shaken_plain.append((a == 255).mean())
            shaken_consensus.append((b == 255).mean())
    assert np.mean(shaken_consensus) < 0.25 * np.mean(shaken_plain)
    assert (b[10:20, 10:20] == 255).all() and (a[10:20, 10:20] == 255).all()


@pytest.mark.parametrize("covariance_type", TYPES)
def test_opencv_weight_arithmetic_matches_reference(covariance_type):
    rng = np.random.default_rng(17)
    frames = random_frames(rng, 40, 8, 9, 3)  # many colours: mixtures at capacity
    model, ref = run_both(frames, Params(n_components=3, renormalize=False), covariance_type)
    live = np.arange(3)[:, None, None] < model.n_components_
    sums = np.where(live, model.weights_, 0).sum(axis=0)
    assert (sums < 1 - 1e-4).any(), "no replacement left the weights short of 1"
    assert (sums <= 1 + 1e-5).all()


def test_thread_count_none_follows_numba():
    """n_threads=None reads numba.get_num_threads() at each call: the kernel
    runs as that many band parts (first_band, band_step), each band once."""
    import numba

    import bgmix.model as model_module

    frame = np.zeros((64, 64, 3), np.uint8)
    model = plain_mixture(n_threads=None)
    calls = []
    original = model_module.update_kernel

    def recording(spec):
        kernel = original(spec)

        def call(*args):
            calls.append(args[-2:])
            return kernel(*args)
        return call

    model_module.update_kernel = recording
    previous = numba.get_num_threads()
    parts = []
    try:
        for n in (1, 2, previous):
            numba.set_num_threads(min(n, numba.config.NUMBA_NUM_THREADS))
            calls.clear()
            model.apply(frame)
            parts.append(sorted(calls))
    finally:
        numba.set_num_threads(previous)
        model_module.update_kernel = original
    expected = [[(i, n) for i in range(n)]
                for n in (1, min(2, numba.config.NUMBA_NUM_THREADS), previous)]
    assert parts == expected


def test_threads_give_the_serial_masks():
    """Bands dealt to several threads compute what one thread computes."""
    rng = np.random.default_rng(3)
    frames = rng.integers(0, 256, (12, 37, 29, 3), dtype=np.uint8)
    one = plain_mixture(n_threads=1, neighbourhood_radius=1)
    two = plain_mixture(n_threads=2, neighbourhood_radius=1)
    for frame in frames:
        np.testing.assert_array_equal(one.apply(frame), two.apply(frame))
    np.testing.assert_array_equal(one.weights_, two.weights_)
    np.testing.assert_array_equal(one.means_, two.means_)


@pytest.mark.parametrize("covariance_type", ["diag", "full", "tied"])
def test_shadow_test_pixel_by_pixel_and_in_passes_agree_with_reference(covariance_type):
    # A chunk with few foreground pixels runs the shadow test pixel by pixel,
    # a busier one as vectorised passes (bgmix.kernels.update.SPARSE_FOREGROUND):
    # row 2 has a 3-pixel shadow (sparse), row 5 is shadow and object end to end
    # (dense), on 40-pixel rows; both must give the reference's masks.
    from bgmix.kernels.update import CHUNK, SPARSE_FOREGROUND

    width = 40
    assert width <= CHUNK and 3 * SPARSE_FOREGROUND <= width < 20 * SPARSE_FOREGROUND
    rng = np.random.default_rng(5)
    background = rng.uniform(90, 200, (8, width, 3))
    frames = []
    for t in range(40):
        frame = background + rng.normal(0, 1.5, background.shape)
        if t == 39:
            frame[2, 10:13] *= 0.6                      # sparse: a small shadow
            frame[5, ::2] *= 0.6                        # dense: shadow ...
            frame[5, 1::2] = 255 - frame[5, 1::2]       # ... and object, alternating
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    run_both(frames, Params(n_components=3), covariance_type)
    model = plain_mixture(n_components=3, covariance_type=covariance_type)
    mask = [model.apply(frame) for frame in frames][-1]
    assert (mask[2, 10:13] == 127).all() and (mask[5, ::2] == 127).sum() >= 15
    assert (mask[5, 1::2] == 255).sum() >= 15


@pytest.mark.parametrize("covariance_type", ["full", "diag"])
def test_split_learning_pixel_by_pixel_and_fused_agree_with_reference(covariance_type):
    # "full" kernels learn a later component's covariance apart from its test
    # when few pixels of the chunk still look for a match
    # (bgmix.kernels.update.SPARSE_LEARN), in the test pass otherwise.
    # Every pixel here has two colours: rows 0-3 show the second one rarely
    # (a few pixels per row and frame: split), rows 4-7 half the time (fused).
    # diag runs the same scene through the fused pass only.
    from bgmix.kernels.update import CHUNK, SPARSE_LEARN

    width = 40
    assert width <= CHUNK
    rng = np.random.default_rng(8)
    first = rng.uniform(60, 120, (8, width, 3))
    second = rng.uniform(150, 220, (8, width, 3))
    share = np.where(np.arange(8) < 4, 0.1, 0.5)[:, None]
    frames = []
    for _ in range(60):
        pick = rng.random((8, width)) < share
        frame = np.where(pick[..., None], second, first) + rng.normal(0, 2.0, first.shape)
        frames.append(np.clip(frame, 0, 255).astype(np.uint8))
    # The expected number of second-colour pixels per row puts rows 0-3 on the
    # pixel-by-pixel side of the threshold and rows 4-7 on the fused side.
    assert SPARSE_LEARN * 0.1 * width < width < SPARSE_LEARN * 0.5 * width
    model, _ = run_both(frames, Params(n_components=3), covariance_type)
    # Both colours were learned as components on every row.
    assert (model.n_components_ >= 2).mean() > 0.9
