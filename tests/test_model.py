"""BackgroundMixture: parameters, invariants, persistence and input checking."""

from __future__ import annotations

import copy
import pickle

import numpy as np
import pytest

from bgmix import BackgroundMixture
from bgmix.model import FORMAT_VERSION
from bgmix.synth import make_scene
from tests.invariants import check_invariants
from tests.mixtures import plain_mixture


@pytest.fixture(scope="module")
def scene():
    return make_scene("baseline", height=48, width=64, n_frames=80, seed=1)


def test_constructor_stores_parameters_unchanged_and_repr_shows_them():
    model = plain_mixture(history=200, var_threshold=25, detect_shadows=False)
    assert model.history == 200 and model.var_threshold == 25 and model.detect_shadows is False
    text = repr(model)
    for name, value in model.get_params().items():
        assert f"{name}={value!r}" in text
    with pytest.raises(TypeError):
        plain_mixture(200)  # keyword-only


def test_get_and_set_params():
    model = plain_mixture()
    assert model.set_params(history=50, var_min=2.0) is model
    assert model.get_params()["history"] == 50 and model.var_min == 2.0
    with pytest.raises(ValueError, match="unknown parameter 'histroy'"):
        model.set_params(histroy=3)


@pytest.mark.parametrize(
    ("params", "message"),
    [
        ({"n_components": 0}, r"n_components must be in \[1, 255\], got 0"),
        ({"n_components": 2.5}, "n_components must be an integer"),
        ({"history": 0}, "history must be >= 1"),
        ({"var_threshold": -1}, r"var_threshold must be in \(0, inf\)"),
        ({"var_threshold_gen": float("nan")}, "var_threshold_gen"),
        ({"background_ratio": 1.5}, r"background_ratio must be in \(0, 1\]"),
        ({"var_min": 10, "var_init": 5}, r"var_init must be in \[10, 75\]"),
        ({"var_max": 3}, "var_max must be in"),
        ({"complexity_reduction": 1.0}, r"complexity_reduction must be in \[0, 1\)"),
        ({"detect_shadows": "yes"}, "detect_shadows must be True or False"),
        ({"shadow_value": 300}, r"shadow_value must be in \[0, 255\]"),
        ({"shadow_threshold": 0}, "shadow_threshold"),
        ({"n_threads": 0}, "n_threads must be in"),
    ],
)
def test_bad_parameters_are_named(params, message):
    model = plain_mixture(**params)
    with pytest.raises(ValueError, match=message):
        model.apply(np.zeros((4, 4, 3), np.uint8))


@pytest.mark.parametrize(
    ("frame", "message"),
    [
        (np.zeros((4, 4, 3), np.int32), "unsupported dtype int32"),
        (np.zeros((4, 4, 3), np.float64), "unsupported dtype float64"),
        (np.zeros((4, 4, 2), np.uint8), "must have 1 or 3 channels, got 2"),
        (np.zeros((4, 4, 4), np.uint8), "must have 1 or 3 channels, got 4"),
        (np.zeros((2, 4, 4, 3), np.uint8), "must have 2 or 3 dimensions"),
        (np.zeros(4, np.uint8), "must have 2 or 3 dimensions"),
        (np.zeros((0, 4), np.uint8), "empty"),
        ([[1, 2]], "must be a numpy array"),
        (np.full((3, 3), np.nan, np.float32), "NaN or inf"),
    ],
)
def test_bad_frames_are_refused_with_a_clear_message(frame, message):
    with pytest.raises(ValueError, match=message):
        plain_mixture().apply(frame)


def test_frame_size_change_is_an_error_unless_reinitialising():
    model = plain_mixture()
    model.apply(np.zeros((4, 5, 3), np.uint8))
    with pytest.raises(ValueError, match=r"shape \(6, 5\).*initialised with shape \(4, 5\).*learning_rate=1"):
        model.apply(np.zeros((6, 5, 3), np.uint8))
    with pytest.raises(ValueError, match="1 channel"):
        model.apply(np.zeros((4, 5), np.uint8))
    with pytest.raises(ValueError, match="dtype uint16"):
        model.apply(np.zeros((4, 5, 3), np.uint16))
    mask = model.apply(np.zeros((6, 5, 3), np.uint8), learning_rate=1)
    assert mask.shape == (6, 5) and model.n_frames_seen_ == 1


@pytest.mark.parametrize("rate", [1.5, float("nan"), "fast"])
def test_bad_learning_rate(rate):
    with pytest.raises(ValueError, match="learning_rate"):
        plain_mixture().apply(np.zeros((3, 3), np.uint8), learning_rate=rate)


def test_bad_side_arrays():
    model = plain_mixture()
    frame = np.zeros((4, 5, 3), np.uint8)
    with pytest.raises(ValueError, match=r"known_foreground must have shape \(4, 5\)"):
        model.apply(frame, known_foreground=np.zeros((5, 4), bool))
    with pytest.raises(ValueError, match="known_foreground must be bool or uint8"):
        model.apply(frame, known_foreground=np.zeros((4, 5), np.float32))
    with pytest.raises(ValueError, match="probability must have shape"):
        model.apply(frame, probability=np.zeros((4, 5), np.float64))
    with pytest.raises(ValueError, match="out must have shape"):
        model.apply(frame, out=np.zeros((4, 4), np.uint8))


@pytest.mark.parametrize("seed", range(6))
def test_invariants_hold_under_random_frames_and_parameters(seed):
    rng = np.random.default_rng(seed)
    var_min = float(rng.uniform(1, 8))
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
    model = plain_mixture(**params)
    channels = (1, 3)[seed % 2]
    shape = (int(rng.integers(1, 20)), int(rng.integers(1, 30)), channels)
    base = rng.integers(0, 256, shape)
    for t in range(60):
        if rng.random() < 0.3:
            frame = rng.integers(0, 256, shape)
        else:
            frame = base + rng.normal(0, 5, shape)
        frame = np.clip(frame, 0, 255).astype(np.uint8)
        rate = [None, None, 0.0, 0.3, -1.0][int(rng.integers(0, 5))]
        mask = model.apply(frame, learning_rate=rate)
        check_invariants(model, mask, detect_shadows=params["detect_shadows"])


def test_thread_counts_give_identical_results(scene):
    masks = []
    for threads in (1, 2):
        model = plain_mixture(n_threads=threads)
        masks.append(np.stack([model.apply(f) for f in scene.frames]))
    np.testing.assert_array_equal(masks[0], masks[1])


def test_save_load_round_trip_is_bit_identical(tmp_path, scene):
    model = plain_mixture(history=120, var_threshold=20)
    for frame in scene.frames[:40]:
        model.apply(frame)
    path = tmp_path / "model.npz"
    model.save(path)
    loaded = BackgroundMixture.load(path)
    assert loaded.get_params() == model.get_params()
    assert loaded.n_frames_seen_ == model.n_frames_seen_
    for frame in scene.frames[40:]:
        np.testing.assert_array_equal(loaded.apply(frame), model.apply(frame))
    np.testing.assert_array_equal(loaded.background_image(), model.background_image())
    assert [p.name for p in tmp_path.iterdir()] == ["model.npz"]  # no temporary left behind


def test_unfitted_model_round_trips(tmp_path):
    plain_mixture(n_components=3).save(tmp_path / "m.npz")
    loaded = BackgroundMixture.load(tmp_path / "m.npz")
    assert loaded.n_components == 3 and not loaded.is_initialized


def test_load_refuses_foreign_truncated_and_newer_files(tmp_path, scene):
    model = plain_mixture()
    model.apply(scene.frames[0])
    good = tmp_path / "good.npz"
    model.save(good)
    with pytest.raises(FileNotFoundError, match="model file not found"):
        BackgroundMixture.load(tmp_path / "missing.npz")
    foreign = tmp_path / "foreign.npz"
    np.savez(foreign, something=np.arange(3))
    with pytest.raises(ValueError, match="not a bgmix model file"):
        BackgroundMixture.load(foreign)
    truncated = tmp_path / "truncated.npz"
    truncated.write_bytes(good.read_bytes()[: good.stat().st_size // 2])
    with pytest.raises(ValueError, match="not a bgmix model file"):
        BackgroundMixture.load(truncated)
    text = tmp_path / "text.npz"
    text.write_text("hello")
    with pytest.raises(ValueError, match="not a bgmix model file"):
        BackgroundMixture.load(text)
    newer = tmp_path / "newer.npz"
    with np.load(good) as data:
        contents = dict(data)
    contents["format_version"] = np.array(FORMAT_VERSION + 1)
    np.savez(newer, **contents)
    with pytest.raises(ValueError, match="newer than this bgmix reads"):
        BackgroundMixture.load(newer)
    pickled = tmp_path / "pickled.npz"
    contents["format_version"] = np.array(FORMAT_VERSION)
    contents["params"] = np.array([{"history": 1}], dtype=object)
    np.savez(pickled, **contents)
    with pytest.raises(ValueError, match="not a bgmix model file"):
        BackgroundMixture.load(pickled)


def test_pickle_and_deepcopy_continue_identically(scene):
    model = plain_mixture()
    for frame in scene.frames[:30]:
        model.apply(frame)
    clones = [pickle.loads(pickle.dumps(model)), copy.deepcopy(model)]
    for frame in scene.frames[30:50]:
        expected = model.apply(frame)
        for clone in clones:
            np.testing.assert_array_equal(clone.apply(frame), expected)
    assert clones[0].weights_ is not model.weights_


def test_reset_and_background_image(scene):
    model = plain_mixture()
    with pytest.raises(RuntimeError, match="call apply"):
        model.background_image()
    for frame in scene.frames[:25]:
        model.apply(frame)
    background = model.background_image()
    assert background.shape == scene.frames[0].shape and background.dtype == np.uint8
    static = scene.ground_truth[:25].max(axis=0) == 0
    static &= ~scene.regions["multimodal"]
    error = np.abs(background.astype(float) - scene.frames[:25].mean(axis=0))[static]
    assert error.mean() < 2.0
    model.reset()
    assert not model.is_initialized


@pytest.mark.parametrize("dtype", [np.uint16, np.float32])
def test_other_dtypes_detect_the_same_object(dtype, scene):
    frames = scene.frames.astype(np.float64)
    frames = (frames * 257).astype(np.uint16) if dtype == np.uint16 else frames.astype(np.float32)
    # full-range 16-bit data: intensity_scale brings it back to the 8-bit scale
    scale = 255 / 65535 if dtype == np.uint16 else 1.0
    reference, other = plain_mixture(), plain_mixture(intensity_scale=scale)
    for t in range(len(frames)):
        expected = reference.apply(scene.frames[t])
        mask = other.apply(frames[t])
        assert (mask == expected).mean() > 0.995, t
    background = other.background_image()
    assert background.dtype == dtype and background.shape == frames[0].shape


def test_probability_is_consistent_with_mask_and_monotone():
    model = plain_mixture(detect_shadows=False)
    background = np.full((1, 64, 3), 100, np.uint8)
    for _ in range(50):
        model.apply(background)
    probe = background.copy()
    probe[0, :, :] += np.arange(64, dtype=np.uint8)[:, None]  # growing distance from the mean
    p = np.empty((1, 64), np.float32)
    mask = model.apply(probe, learning_rate=0, probability=p)
    np.testing.assert_array_equal(p >= 0.5, mask == 255)
    assert (np.diff(p[0]) >= 0).all() and p[0, 0] < 0.01 and p[0, -1] > 0.99
    # the boundary: D2 = var_threshold gives 0.5
    var = float(model.variances_[0, 0, 0])
    d2 = 3 * (np.arange(64) ** 2) / var
    boundary = np.argmax(d2 >= model.var_threshold)
    assert p[0, boundary - 1] < 0.5 <= p[0, boundary]


def test_sixteen_bit_thermal_frames_work_with_the_defaults():
    """A few hundred counts of contrast, noise of a few counts: raw values, as OpenCV."""
    rng = np.random.default_rng(2)
    background = np.full((40, 50), 29000.0)
    model = plain_mixture()
    for t in range(60):
        frame = background + rng.normal(0, 2, background.shape)
        if t == 59:
            frame[10:20, 10:20] += 300  # a warm object
        mask = model.apply(frame.astype(np.uint16))
    assert (mask[10:20, 10:20] == 255).all()
    assert (mask == 255).sum() == 100
    assert model.background_image().dtype == np.uint16
    assert abs(int(model.background_image()[0, 0]) - 29000) <= 2


def test_intensity_scale_is_validated():
    with pytest.raises(ValueError, match="intensity_scale"):
        plain_mixture(intensity_scale=0).apply(np.zeros((2, 2), np.uint8))


def test_full_preset_models_correlated_colour_noise_that_mog2_flags():
    # Brightness flicker moves all three channels together (sigma 6 each, fully
    # correlated): MOG2's spherical variance sees three times the variance it
    # fits per channel; a full covariance learns the direction.
    rng = np.random.default_rng(3)
    background = rng.uniform(60, 190, (32, 32, 3))
    def frame():
        return np.clip(background + rng.normal(0, 6, (32, 32, 1)), 0, 255).astype(np.float32)
    models = {name: BackgroundMixture.from_preset(name, detect_shadows=False)
              for name in ("mog2", "full")}
    assert models["full"].covariance_type == "full" and models["full"].var_threshold == 48.0
    for _ in range(200):
        sample = frame()
        for model in models.values():
            model.apply(sample)
    false_alarms = {name: np.mean([np.mean(m.apply(frame()) == 255) for _ in range(50)])
                    for name, m in models.items()}
    assert false_alarms["full"] < 0.2 * false_alarms["mog2"], false_alarms
    # An object of another colour is still found.
    probe = frame()
    probe[8:16, 8:16] = background[8:16, 8:16][..., ::-1] + 40
    assert np.all(models["full"].apply(probe, learning_rate=0)[8:16, 8:16] == 255)


def test_a_parameter_assigned_after_apply_is_the_one_the_kernel_uses():
    """The bug of issue 13: the validated parameters were cached, so an assignment
    after the first apply reached get_params() and save() but not the kernel."""
    model = plain_mixture()
    background = np.full((8, 8, 3), 100, np.uint8)
    for _ in range(20):
        model.apply(background)
    changed = background.copy()
    changed[2:6, 2:6] = 130
    assert (model.apply(changed, learning_rate=0)[2:6, 2:6] == 255).all()
    model.var_threshold = 1e6          # nothing is foreground at this threshold
    assert (model.apply(changed, learning_rate=0) == 0).all()
    assert model.get_params()["var_threshold"] == 1e6
    model.history = 0                  # and the assigned value is validated
    with pytest.raises(ValueError, match="history must be >= 1"):
        model.apply(background)


@pytest.mark.parametrize("preset", ["mog2", "full"])
@pytest.mark.parametrize("grey", [False, True])
def test_repeated_plain_applies_compute_what_the_checked_path_computes(scene, preset, grey):
    """After one plain apply, frames of the same shape and dtype skip the checks
    (BackgroundMixture._apply_steady); passing ``out`` takes the full path. Both
    must give the same masks and state, also across a learning-rate change, a
    parameter assignment, a non-contiguous frame and a re-initialisation."""
    frames = [f[..., 1].copy() if grey else f for f in scene.frames[:40]]
    quick = BackgroundMixture.from_preset(preset, n_threads=1)
    checked = BackgroundMixture.from_preset(preset, n_threads=1)

    def both(frame, **kw):
        mask = quick.apply(frame, **kw)
        expected = checked.apply(frame, out=np.empty(frame.shape[:2], np.uint8), **kw)
        np.testing.assert_array_equal(mask, expected)
        return mask

    for t, frame in enumerate(frames):
        if t == 15:
            quick.var_threshold = checked.var_threshold = 4.0 * quick.var_threshold
        rate = 0.0 if t == 20 else (0.05 if t == 21 else None)
        both(frame if t != 25 else np.flip(frame, axis=1), learning_rate=rate)
    assert quick.__dict__.get("_steady") is not None      # the quick path was the one taken
    for a, b in zip([quick.weights_, quick.means_, quick.n_components_],
                    [checked.weights_, checked.means_, checked.n_components_]):
        np.testing.assert_array_equal(a, b)
    assert quick.n_frames_seen_ == checked.n_frames_seen_ == len(frames)
    both(frames[0][:20], learning_rate=1)                  # re-initialised at a new size
    assert quick.n_frames_seen_ == 1 and quick.frame_shape_[:2] == (20, frames[0].shape[1])
    with pytest.raises(ValueError, match="initialised with shape"):
        quick.apply(frames[0])
