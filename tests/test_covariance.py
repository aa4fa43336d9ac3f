"""covariance_type "diag", "full" and "tied": exact agreement with the slow
references in tests/reference.py, invariants, persistence, and why full
covariances matter."""

from __future__ import annotations

import numpy as np
import pytest

from bgmix import BackgroundMixture
from bgmix.kernels import MAX_CORRELATION
from tests.reference import MAX_CORRELATION as REFERENCE_MAX_CORRELATION
from tests.reference import Params, ReferenceCovMixture
from tests.test_reference import convert, random_frames, structured_frames
from tests.invariants import check_invariants as check_shared_invariants
from tests.mixtures import plain_mixture

TYPES = ("diag", "full", "tied")


def one_channel_as_grey(frames):
    """(N, H, W, 1) frames as (N, H, W) grey frames; others as they are."""
    return frames[..., 0] if frames.shape[-1] == 1 else frames


def correlated_frames(rng, n, h, w, c, dtype=np.uint8):
    """A textured background under two flickers shared by the channels (noise
    of rank 2 across channels, with per-pixel gains, so that correlations and
    partial correlations reach the bound), a little independent noise, a
    moving coloured patch and a darker same-chroma shadow: exercises
    off-diagonal covariances, every branch of the correlation clamp and the
    shadow test in the full metric."""
    background = rng.uniform(40, 200, (h, w, c))
    gains = rng.uniform(-1.0, 1.5, (2, h, w, c))
    frames = np.empty((n, h, w, c))
    for t in range(n):
        flicker = rng.normal(0, [[[[5.0]]], [[[3.0]]]], (2, h, w, 1))
        frame = background + (gains * flicker).sum(axis=0) + rng.normal(0, 0.5, (h, w, c))
        if t > n // 3:
            x = (t * 3) % (w - 3)
            frame[h // 2: h // 2 + 3, x: x + 3] = background[h // 2: h // 2 + 3, x: x + 3][..., ::-1]
            frame[: h // 4, x: x + 3] *= 0.7
        frames[t] = frame
    return convert(frames, dtype)


def rank2_frames(rng, n, h, w):
    """Noise from two sources shared by the channels with gains of either sign
    and no independent noise, so covariance estimates are nearly singular:
    every correlation, and the partial correlation of y and z given x, keeps
    hitting the bound (at the learning rates used with it)."""
    background = rng.uniform(60, 190, (h, w, 3))
    gains = rng.choice([-1.0, 1.0], (2, h, w, 3)) * rng.uniform(0.5, 1.5, (2, h, w, 3))
    frames = np.empty((n, h, w, 3))
    for t in range(n):
        flicker = rng.normal(0, 5.0, (2, h, w, 1))
        frames[t] = background + (gains * flicker).sum(axis=0)
        if t % 7 == 0:  # a burst of rank-1 noise in the top half
            frames[t, : h // 2] += rng.normal(0, 5, (h // 2, w, 1)) * gains[0, : h // 2]
    return convert(frames, np.uint8)


def outlier_frames(rng, n, h, w, c):
    """A noisy static background where a quarter of the pixels of each frame
    are random outliers: many short-lived components, pruned often."""
    background = rng.uniform(40, 220, (h, w, c))
    frames = background + rng.normal(0, 2.0, (n, h, w, c))
    outliers = rng.random((n, h, w)) < 0.25
    frames[outliers] = rng.uniform(0, 255, (int(outliers.sum()), c))
    return convert(frames, np.uint8)


def state_arrays(model):
    cov = model.variances_ if model.covariance_type == "diag" else model.covariances_
    return model.weights_, cov, model.means_, model.n_components_


def run_both(frames, params, covariance_type, rates, known=None):
    """Feed the same frames to the kernel and the reference; compare every frame."""
    model = plain_mixture(**params.__dict__, covariance_type=covariance_type)
    ref = ReferenceCovMixture(params, covariance_type)
    for t, frame in enumerate(frames):
        rate = rates[t % len(rates)]
        kf = None if known is None else known[t]
        prob = np.empty(frame.shape[:2], np.float32)
        mask = model.apply(frame, learning_rate=rate, known_foreground=kf, probability=prob)
        ref_mask, ref_prob = ref.apply(frame, learning_rate=rate, known_foreground=kf)
        where = f"{covariance_type}, frame {t}"
        np.testing.assert_array_equal(mask, ref_mask, err_msg=f"mask differs: {where}")
        np.testing.assert_allclose(prob, ref_prob, rtol=1e-5, atol=1e-7, err_msg=where)
        np.testing.assert_array_equal(prob >= 0.5, mask != 0, err_msg=where)
        weights, cov, means, n_modes = ref.state
        got = state_arrays(model)
        assert got[1].shape == cov.shape, where
        np.testing.assert_array_equal(got[3], n_modes, err_msg=where)
        np.testing.assert_allclose(got[0], weights, atol=1e-5, rtol=0, err_msg=where)
        np.testing.assert_allclose(got[1], cov, atol=1e-5, rtol=0, err_msg=where)
        np.testing.assert_allclose(got[2], means, atol=1e-5, rtol=0, err_msg=where)
    return model, ref


def test_reference_uses_the_kernels_correlation_bound():
    assert MAX_CORRELATION == REFERENCE_MAX_CORRELATION and 0 < MAX_CORRELATION < 1


# ---------------------------------------------------------------- agreement
@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("shadows", [True, False])
@pytest.mark.parametrize("kind", ["random", "structured", "correlated"])
def test_kernel_matches_reference(covariance_type, channels, shadows, kind):
    seed = channels * 10 + shadows + 100 * ["random", "structured", "correlated"].index(kind)
    rng = np.random.default_rng(seed + 1000 * TYPES.index(covariance_type))
    make = {"random": random_frames, "structured": structured_frames,
            "correlated": correlated_frames}[kind]
    frames = one_channel_as_grey(make(rng, 30, 8, 11, channels))
    params = Params(detect_shadows=shadows, n_components=4)
    model, ref = run_both(frames, params, covariance_type, rates=[None])
    expected = np.clip(np.rint(ref.background_image()), 0, 255).astype(np.uint8)
    np.testing.assert_array_equal(model.background_image().reshape(expected.shape), expected)


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("rates", [[0.05], [None, 0.0, 0.2], [None, None, 1.0, None, -1.0]])
def test_learning_rates_match_reference(covariance_type, rates):
    rng = np.random.default_rng(7)
    frames = correlated_frames(rng, 24, 7, 9, 3)
    run_both(frames, Params(), covariance_type, rates=rates)


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("channels", [1, 3])
def test_kept_background_modes_match_reference(covariance_type, channels):
    # Three components under four colours: full mixtures whose weakest is
    # background are kept and worn down, the others replaced, as the reference.
    rng = np.random.default_rng(31 + channels)
    frames = one_channel_as_grey(random_frames(rng, 30, 7, 9, channels))
    kept, _ = run_both(frames, Params(n_components=3, keep_background_modes=True),
                       covariance_type, rates=[None, 0.05])
    replaced, _ = run_both(frames, Params(n_components=3), covariance_type, rates=[None, 0.05])
    assert not np.array_equal(state_arrays(kept)[0], state_arrays(replaced)[0])


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("channels", [1, 3])
def test_known_foreground_matches_reference(covariance_type, channels):
    rng = np.random.default_rng(3 + channels)
    frames = one_channel_as_grey(random_frames(rng, 24, 7, 9, channels))
    known = rng.random((24, 7, 9)) < 0.3
    known[0] = False
    run_both(frames, Params(), covariance_type, rates=[None], known=known)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_few_components_small_bounds_and_uint16_match_reference(covariance_type):
    rng = np.random.default_rng(5)
    frames = correlated_frames(rng, 20, 6, 7, 3)
    run_both(frames, Params(n_components=1), covariance_type, rates=[None])
    run_both(frames, Params(n_components=2, complexity_reduction=0.0, var_min=1.0, var_max=20.0,
                            var_init=6.0, var_threshold=9.0, var_threshold_gen=4.0),
             covariance_type, rates=[None, 0.1])
    run_both(correlated_frames(rng, 16, 6, 7, 3, dtype=np.uint16), Params(), covariance_type,
             rates=[None])


@pytest.mark.parametrize("covariance_type", TYPES)
def test_correlation_bounds_match_reference(covariance_type):
    """Nearly singular covariances: the clamps of every correlation bind often."""
    rng = np.random.default_rng(0)
    frames = rank2_frames(rng, 30, 8, 11)
    params = Params(n_components=3, var_min=1.0, var_init=5.0, var_threshold_gen=12.0,
                    var_threshold=20.0)
    model, _ = run_both(frames, params, covariance_type, rates=[None, None, None] + [0.15] * 27)
    if covariance_type != "diag":
        matrices = covariance_matrices(model)
        scale = np.sqrt(np.diagonal(matrices, axis1=1, axis2=2))
        correlation = matrices / scale[:, :, None] / scale[:, None, :]
        assert np.abs(correlation[:, 0, 1]).max() > 0.949  # at the bound


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("n_components", [3, 5, 7])
def test_pruning_while_the_heaviest_matches_matches_reference(covariance_type, n_components):
    """Strong pruning (complexity_reduction 0.3): pixels whose sample matches
    component 0 while their lightest component (or several) is pruned, with
    2 to n_components live components: the first sweep's pruning and its
    hand-over to the general update (also with fewer component planes than
    the sweep handles, and more)."""
    rng = np.random.default_rng(n_components)
    frames = outlier_frames(rng, 30, 8, 11, 3)
    params = Params(n_components=n_components, complexity_reduction=0.3)
    run_both(frames, params, covariance_type, rates=[None] * 5 + [0.05] * 25)


# --------------------------------------------------------------- invariants
def covariance_matrices(model):
    """Live components' covariances as an (N, C, C) float64 stack."""
    live = np.arange(model.n_components)[:, None, None] < model.n_components_[None]
    if model.covariance_type == "diag":
        var = np.moveaxis(model.variances_, 1, -1)[live]  # (N, C)
        return np.stack([np.diag(v) for v in var.astype(np.float64)])
    cov = model.covariances_
    if model.covariance_type == "tied":
        cov = np.broadcast_to(cov[None], (model.n_components, *cov.shape))
    planes = np.moveaxis(cov, 1, -1)[live].astype(np.float64)  # (N, P)
    if planes.shape[1] == 1:
        return planes[:, :, None]
    xx, xy, xz, yy, yz, zz = planes.T
    return np.stack([np.stack([xx, xy, xz], -1), np.stack([xy, yy, yz], -1),
                     np.stack([xz, yz, zz], -1)], -2)


def check_invariants(model, mask):
    """The shared checker, and the correlation bound that keeps every 3x3 covariance
    well away from singular (stricter than positive definite)."""
    check_shared_invariants(model, mask)
    matrices = covariance_matrices(model)
    diagonal = np.diagonal(matrices, axis1=1, axis2=2)
    if matrices.shape[1] == 3:
        scale = np.sqrt(diagonal)
        correlation = matrices / scale[:, :, None] / scale[:, None, :]
        off = correlation[:, np.triu_indices(3, 1)[0], np.triu_indices(3, 1)[1]]
        assert (np.abs(off) <= float(MAX_CORRELATION) + 1e-5).all()
        # det R >= (1 - rho^2)^3 for the bound rho
        det_r = np.linalg.det(correlation)
        assert det_r.min() >= (1 - float(MAX_CORRELATION) ** 2) ** 3 * 0.99


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("seed", range(4))
def test_invariants_hold_under_random_frames_and_parameters(covariance_type, seed):
    rng = np.random.default_rng(seed + 50 * TYPES.index(covariance_type))
    var_min = float(rng.uniform(0.5, 8))
    params = dict(
        n_components=int(rng.integers(1, 7)),
        history=int(rng.integers(2, 300)),
        var_threshold=float(rng.uniform(4, 40)),
        var_threshold_gen=float(rng.uniform(2, 20)),
        background_ratio=float(rng.uniform(0.5, 1.0)),
        var_min=var_min,
        var_init=float(rng.uniform(var_min, 40)),
        var_max=float(rng.uniform(40, 120)),
        complexity_reduction=float(rng.uniform(0, 0.3)),
        detect_shadows=bool(rng.integers(0, 2)),
        shadow_value=int(rng.integers(1, 255)),
    )
    model = plain_mixture(**params, covariance_type=covariance_type)
    channels = (3, 1)[seed % 2] if seed < 3 else 3
    shape = (int(rng.integers(1, 20)), int(rng.integers(1, 30)), channels)
    base = rng.integers(0, 256, shape)
    gains = rng.uniform(-2, 2, shape)
    for _ in range(80):
        draw = rng.random()
        if draw < 0.2:
            frame = rng.integers(0, 256, shape)
        elif draw < 0.6:  # strongly correlated noise: drives correlations to the bound
            frame = base + gains * rng.normal(0, 8, shape[:2] + (1,))
        else:
            frame = base + rng.normal(0, 5, shape)
        frame = np.clip(frame, 0, 255).astype(np.uint8)
        rate = [None, None, 0.0, 0.3, -1.0][int(rng.integers(0, 5))]
        mask = model.apply(frame, learning_rate=rate)
        check_invariants(model, mask)


@pytest.mark.parametrize("covariance_type", ("full", "tied"))
def test_covariances_stay_positive_definite_after_many_random_updates(covariance_type):
    """Perfectly correlated and anti-correlated samples, the hardest case for
    positive-definiteness, at a high learning rate."""
    rng = np.random.default_rng(0)
    model = plain_mixture(covariance_type=covariance_type, var_min=0.5, var_max=200.0,
                              var_threshold_gen=40.0, var_threshold=60.0)
    h, w = 16, 16
    base = rng.uniform(60, 190, (h, w, 3))
    direction = rng.choice([-1.0, 1.0], (h, w, 3)) * rng.uniform(0.2, 2.0, (h, w, 3))
    for _ in range(200):
        frame = base + direction * rng.normal(0, 6, (h, w, 1))
        mask = model.apply(np.clip(frame, 0, 255).astype(np.uint8), learning_rate=0.2)
        check_invariants(model, mask)
    matrices = covariance_matrices(model)
    assert np.linalg.eigvalsh(matrices)[:, 0].min() > 0
    # the bound was reached: the clamp, not luck, kept them positive definite
    scale = np.sqrt(np.diagonal(matrices, axis1=1, axis2=2))
    correlation = matrices / scale[:, :, None] / scale[:, None, :]
    assert np.abs(correlation[:, 0, 1]).max() > 0.94


@pytest.mark.parametrize("covariance_type", TYPES)
def test_probability_at_half_is_the_mask_without_shadows(covariance_type):
    rng = np.random.default_rng(11)
    model = plain_mixture(covariance_type=covariance_type, detect_shadows=False)
    for frame in correlated_frames(rng, 40, 12, 16, 3):
        p = np.empty(frame.shape[:2], np.float32)
        mask = model.apply(frame, probability=p)
        np.testing.assert_array_equal(p >= 0.5, mask == 255)
        assert ((p >= 0) & (p <= 1)).all()


def test_probability_is_sigmoid_of_the_mahalanobis_distance():
    model = plain_mixture(covariance_type="diag", detect_shadows=False)
    background = np.full((1, 40, 3), 100, np.uint8)
    for _ in range(50):
        model.apply(background)
    probe = background.copy()
    probe[0, :, 1] += np.arange(40, dtype=np.uint8)  # one channel moves
    p = np.empty((1, 40), np.float32)
    mask = model.apply(probe, learning_rate=0, probability=p)
    var = model.variances_[0, 1, 0].astype(np.float64)
    d2 = np.arange(40) ** 2 / var
    expected = 1 / (1 + np.exp(-(d2 - 16) / 2))
    np.testing.assert_allclose(p[0], expected, rtol=1e-5, atol=1e-6)
    np.testing.assert_array_equal(p >= 0.5, mask == 255)


# ------------------------------------------------------------- parameters
def test_covariance_type_is_validated_stored_and_shown():
    model = plain_mixture(covariance_type="full")
    assert model.covariance_type == "full" and "covariance_type='full'" in repr(model)
    assert plain_mixture().covariance_type == "spherical"
    for bad in ("Full", "diagonal", None, 3):
        with pytest.raises(ValueError, match="covariance_type must be one of 'spherical', 'diag', "
                                             "'full', 'tied', got"):
            plain_mixture(covariance_type=bad).apply(np.zeros((2, 2), np.uint8))


@pytest.mark.parametrize(("covariance_type", "channels", "name", "shape"), [
    ("spherical", 3, "variances_", (5, 4, 6)),
    ("diag", 3, "variances_", (5, 3, 4, 6)),
    ("diag", 1, "variances_", (5, 1, 4, 6)),
    ("full", 3, "covariances_", (5, 6, 4, 6)),
    ("full", 1, "covariances_", (5, 1, 4, 6)),
    ("tied", 3, "covariances_", (6, 4, 6)),
    ("tied", 1, "covariances_", (1, 4, 6)),
])
def test_state_shapes(covariance_type, channels, name, shape):
    model = plain_mixture(covariance_type=covariance_type)
    model.apply(np.full((4, 6, channels), 50, np.uint8))
    assert getattr(model, name).shape == shape and getattr(model, name).dtype == np.float32
    other = {"variances_": "covariances_", "covariances_": "variances_"}[name]
    assert not hasattr(model, other)


def test_tied_covariance_starts_at_var_init_and_new_components_keep_it():
    model = plain_mixture(covariance_type="tied", var_init=20.0)
    model.apply(np.full((2, 2, 3), 50, np.uint8))
    np.testing.assert_allclose(model.covariances_[:, 0, 0], [20, 0, 0, 20, 0, 20], atol=2.0)
    before = model.covariances_.copy()
    model.apply(np.full((2, 2, 3), 200, np.uint8))  # a new component, no match
    assert (model.n_components_ == 2).all()
    np.testing.assert_array_equal(model.covariances_, before)


def test_changing_covariance_type_resets_the_state():
    model = plain_mixture()
    model.apply(np.zeros((3, 3, 3), np.uint8))
    model.set_params(covariance_type="full")
    assert not model.is_initialized
    model.apply(np.zeros((3, 3, 3), np.uint8))
    assert model.covariances_.shape == (5, 6, 3, 3)
    model.covariance_type = "diag"  # direct assignment, then a revalidation
    model.set_params(history=100)
    with pytest.raises(ValueError, match="does not fit covariance_type='diag'"):
        model.apply(np.zeros((3, 3, 3), np.uint8))


@pytest.mark.parametrize("covariance_type", TYPES)
@pytest.mark.parametrize("channels", [1, 3])
def test_save_load_round_trip(tmp_path, covariance_type, channels):
    rng = np.random.default_rng(2)
    frames = correlated_frames(rng, 40, 10, 12, 3)
    if channels == 1:
        frames = frames[..., 1]
    model = plain_mixture(covariance_type=covariance_type, history=50)
    for frame in frames[:25]:
        model.apply(frame)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = BackgroundMixture.load(path)
    assert loaded.get_params() == model.get_params()
    for a, b in zip(state_arrays(loaded), state_arrays(model)):
        np.testing.assert_array_equal(a, b)
    for frame in frames[25:]:
        np.testing.assert_array_equal(loaded.apply(frame), model.apply(frame))
    np.testing.assert_array_equal(loaded.background_image(), model.background_image())


def test_load_refuses_state_of_the_wrong_shape(tmp_path):
    model = plain_mixture(covariance_type="full")
    model.apply(np.zeros((3, 4, 3), np.uint8))
    path = tmp_path / "m.npz"
    model.save(path)
    with np.load(path) as data:
        contents = dict(data)
    contents["covariances_"] = contents["covariances_"][:, :3]
    np.savez(path, **contents)
    with pytest.raises(ValueError, match="covariances_ has shape"):
        BackgroundMixture.load(path)


def test_one_channel_diag_and_full_are_the_spherical_model():
    """On 1-channel frames diag and full hold one variance per component and
    compute the spherical model (they may differ only on exact threshold ties)."""
    rng = np.random.default_rng(4)
    frames = structured_frames(rng, 40, 12, 14, 1)[..., 0]
    models = [plain_mixture(covariance_type=t) for t in ("spherical", "diag", "full")]
    for frame in frames:
        masks = [m.apply(frame) for m in models]
        for mask in masks[1:]:
            assert (mask == masks[0]).mean() > 0.99
    for m in models[1:]:
        cov = m.variances_ if m.covariance_type == "diag" else m.covariances_
        np.testing.assert_allclose(cov[:, 0], models[0].variances_, atol=1e-3)
        np.testing.assert_array_equal(m.n_components_, models[0].n_components_)


@pytest.mark.parametrize("covariance_type", TYPES)
def test_thread_counts_give_identical_results(covariance_type):
    rng = np.random.default_rng(9)
    frames = correlated_frames(rng, 20, 24, 20, 3)
    masks = []
    for threads in (1, 2):
        model = plain_mixture(covariance_type=covariance_type, n_threads=threads)
        masks.append(np.stack([model.apply(f) for f in frames]))
    np.testing.assert_array_equal(masks[0], masks[1])


# ------------------------------------------------------- why full matters
def test_full_covariance_detects_a_change_across_correlated_noise():
    """The background flickers in brightness: all three channels move together
    (standard deviation 6 each, correlation 0.97), with little independent
    noise. An object differs from it by a small colour shift (+6, -6, 0)
    perpendicular to the flicker. Its squared distance, 72, is below one
    flicker's worth of variation, so a spherical (or per-channel) model with
    the same threshold calls it background; in the full covariance's metric
    the shift is many standard deviations of the noise across the flicker."""
    rng = np.random.default_rng(0)
    h, w = 24, 32
    background = rng.uniform(70, 180, (h, w, 3))

    def frame(shift=None):
        flicker = rng.normal(0, 6, (h, w, 1))
        f = background + flicker + rng.normal(0, 1.0, (h, w, 3))
        if shift is not None:
            f[8:16, 8:24] += shift
        return np.clip(np.rint(f), 0, 255).astype(np.uint8)

    models = {t: plain_mixture(covariance_type=t, detect_shadows=False) for t in
              ("spherical", "diag", "full", "tied")}
    for _ in range(150):
        f = frame()
        for model in models.values():
            model.apply(f)
    inside = np.zeros((h, w), bool)
    inside[8:16, 8:24] = True
    found = {t: [] for t in models}
    false_alarms = {t: [] for t in models}
    for _ in range(20):
        f = frame(shift=np.array([6.0, -6.0, 0.0]))
        for t, model in models.items():
            mask = model.apply(f, learning_rate=0)
            found[t].append((mask[inside] == 255).mean())
            false_alarms[t].append((mask[~inside] == 255).mean())
    assert np.mean(found["full"]) > 0.9, np.mean(found["full"])
    assert np.mean(false_alarms["full"]) < 0.02, np.mean(false_alarms["full"])
    # tied sees the same correlation; its shared covariance is also pushed by
    # young components (large k), which inflates it and adds false alarms.
    assert np.mean(found["tied"]) > 0.9, np.mean(found["tied"])
    assert np.mean(false_alarms["tied"]) < 0.06, np.mean(false_alarms["tied"])
    # per-channel variances see the flicker as large independent noise in each
    # channel: the spherical model misses the object, diag mostly does.
    assert np.mean(found["spherical"]) < 0.05, np.mean(found["spherical"])
    assert np.mean(found["diag"]) < 0.3, np.mean(found["diag"])


def test_version_1_files_load_as_spherical(tmp_path):
    """Files written before covariance_type existed hold spherical models."""
    import json

    model = plain_mixture()
    frame = np.full((3, 4, 3), 60, np.uint8)
    model.apply(frame)
    path = tmp_path / "v1.npz"
    model.save(path)
    with np.load(path) as data:
        contents = dict(data)
    params = json.loads(str(contents["params"]))
    del params["covariance_type"]
    contents["params"] = np.array(json.dumps(params))
    contents["format_version"] = np.array(1, np.int64)
    np.savez(path, **contents)
    loaded = BackgroundMixture.load(path)
    assert loaded.covariance_type == "spherical"
    np.testing.assert_array_equal(loaded.apply(frame), model.apply(frame))


def test_command_line_offers_the_covariance_types():
    from bgmix.cli import build_parser

    args = build_parser().parse_args(["run", "--covariance-type", "full"])
    assert vars(args)["param:covariance_type"] == "full"
    with pytest.raises(SystemExit):
        build_parser().parse_args(["run", "--covariance-type", "diagonal"])
