"""Bad input at the model: non-finite frames, extreme sizes, every parameter
out of range, and model files that are foreign, truncated, newer or tampered with.

Each case must end in one clear ``ValueError`` (or ``FileNotFoundError``) that
names the problem, never a traceback from inside a kernel or NumPy, and a
refused frame must leave the model exactly as it was.
"""

from __future__ import annotations

import json
import math
import pickle
import re
import zipfile
from pathlib import Path

import numba
import numpy as np
import pytest

from bgmix import BackgroundMixture
from bgmix._validation import as_frame, state_invariant_violations
from bgmix.model import COVARIANCE_TYPES, FORMAT_VERSION
from tests.mixtures import plain_mixture

STATE = ("weights_", "means_", "n_components_")


def state_of(model: BackgroundMixture) -> dict[str, np.ndarray]:
    cov = "covariances_" if model.covariance_type in ("full", "tied") else "variances_"
    return {name: getattr(model, name).copy() for name in (*STATE, cov)}


def learned(covariance_type: str = "spherical", shape=(6, 7, 3), n_frames: int = 12,
            dtype=np.uint8, seed: int = 0) -> BackgroundMixture:
    rng = np.random.default_rng(seed)
    model = plain_mixture(covariance_type=covariance_type)
    base = rng.uniform(40, 200, shape)
    for _ in range(n_frames):
        model.apply(np.clip(base + rng.normal(0, 3, shape), 0, 255).astype(dtype))
    return model


# --------------------------------------------------------------------------- frames

@pytest.mark.parametrize(
    ("value", "shown"), [(np.nan, "nan"), (np.inf, "inf"), (-np.inf, "-inf")])
def test_non_finite_float_frame_names_the_count_and_first_pixel(value, shown):
    model = learned("diag", dtype=np.float32)
    before, seen = state_of(model), model.n_frames_seen_
    frame = np.full((6, 7, 3), 100, np.float32)
    frame[4, 5, 2] = value
    frame[5, 6, 0] = value
    with pytest.raises(ValueError) as info:
        model.apply(frame)
    message = str(info.value)
    assert "\n" not in message
    assert "NaN or inf" in message and "2 values" in message
    assert f"({shown}) at row 4, column 5, channel 2" in message
    # Refused before the kernel: the model has learned nothing from it.
    assert model.n_frames_seen_ == seen
    for name, array in state_of(model).items():
        np.testing.assert_array_equal(array, before[name], err_msg=name)


def test_non_finite_first_frame_does_not_initialise_the_model():
    frame = np.zeros((3, 4), np.float32)
    frame[0, 1] = np.nan
    model = plain_mixture()
    with pytest.raises(ValueError, match="1 value, the first"):
        model.apply(frame)
    assert not model.is_initialized


def test_non_finite_frame_is_refused_by_scoring_too():
    model = learned(dtype=np.float32)
    frame = np.full((6, 7, 3), 90, np.float32)
    frame[0, 0, 1] = np.inf
    with pytest.raises(ValueError, match="NaN or inf"):
        model.score_samples(frame)


def test_frame_values_that_overflow_float32_once_scaled_are_refused():
    # 1e38 is finite, but times intensity_scale=10 it is not: the kernel would
    # write inf into the means. as_frame(scale=...) is the check.
    frame = np.full((2, 3, 3), 1e38, np.float32)
    with pytest.raises(ValueError, match=r"intensity_scale=10 overflow float32.*1e\+38"):
        as_frame(frame, scale=10.0)
    as_frame(frame, scale=1.0)  # within float32 as it is
    as_frame(np.full((2, 3), 65535, np.uint16), scale=1e30)
    with pytest.raises(ValueError, match="overflow float32"):
        as_frame(np.full((2, 3), 65535, np.uint16), scale=1e35)


def test_huge_but_finite_float_values_keep_the_state_sound():
    """Distances overflow to inf: such pixels are foreground, the state stays finite."""
    for covariance_type in COVARIANCE_TYPES:
        model = plain_mixture(covariance_type=covariance_type)
        probability = np.empty((2, 3), np.float32)
        for value in (100.0, 3.4e38, -3.4e38, 100.0):
            frame = np.full((2, 3, 3), value, np.float32)
            mask = model.apply(frame, probability=probability)
            assert set(np.unique(mask)) <= {0, 127, 255}
            assert np.isfinite(probability).all()
            assert state_invariant_violations(model) == [], covariance_type


@pytest.mark.parametrize("covariance_type", COVARIANCE_TYPES)
@pytest.mark.parametrize("channels", [1, 3])
@pytest.mark.parametrize("dtype", [np.uint8, np.uint16, np.float32])
def test_one_pixel_frames_work(covariance_type, channels, dtype):
    model = plain_mixture(covariance_type=covariance_type)
    shape = (1, 1) if channels == 1 else (1, 1, 3)
    probability = np.empty((1, 1), np.float32)
    for _ in range(30):
        mask = model.apply(np.full(shape, 80, dtype), probability=probability)
    assert mask.shape == (1, 1) and mask[0, 0] == 0 and probability[0, 0] < 0.5
    mask = model.apply(np.full(shape, 250, dtype), learning_rate=0)
    assert mask[0, 0] == 255
    assert state_invariant_violations(model) == []
    assert model.background_image().shape == shape
    assert np.isfinite(model.score_samples(np.full(shape, 80, dtype))).all()


def test_an_8k_frame_works():
    """7680x4320 (33 Mpix) with one component: about 0.8 GB of state and frame."""
    height, width = 4320, 7680
    frame = np.full((height, width, 3), 60, np.uint8)
    frame[100:200, 7000:7100] = 200
    model = plain_mixture(n_components=1)
    model.apply(np.full((height, width, 3), 60, np.uint8))
    mask = model.apply(frame, learning_rate=0)
    assert mask.shape == (height, width)
    assert int(np.count_nonzero(mask)) == 100 * 100
    assert (mask[100:200, 7000:7100] == 255).all()


# ----------------------------------------------------------------------- parameters

_MAX_THREADS = numba.config.NUMBA_NUM_THREADS

# name -> [(bad value, the allowed range as the message must state it), ...]
BAD_PARAMETERS: dict[str, list[tuple[object, str]]] = {
    "n_components": [(0, r"in [1, 255]"), (256, r"in [1, 255]"), (2.5, "an integer"),
                     ("5", "an integer"), (True, "an integer")],
    "covariance_type": [("round", "one of 'spherical', 'diag', 'full', 'tied'"),
                        (None, "one of 'spherical', 'diag', 'full', 'tied'")],
    "history": [(0, ">= 1"), (-5, ">= 1"), (10.0, "an integer")],
    "var_threshold": [(0, "in (0, inf)"), (-1.0, "in (0, inf)"), (math.nan, "in (0, inf)"),
                      (math.inf, "in (0, inf)"), ("16", "a number")],
    "var_threshold_gen": [(0, "in (0, inf)"), (math.nan, "in (0, inf)")],
    "background_ratio": [(0, "in (0, 1]"), (1.5, "in (0, 1]"), (math.nan, "in (0, 1]")],
    "var_init": [(3.0, "in [4, 75]"), (80.0, "in [4, 75]")],
    "var_min": [(0, "in (0, inf)"), (-4, "in (0, inf)")],
    "var_max": [(3.0, "in [4, inf)")],
    "complexity_reduction": [(-0.1, "in [0, 1)"), (1.0, "in [0, 1)")],
    "detect_shadows": [("yes", "True or False"), (1, "True or False")],
    "shadow_value": [(-1, "in [0, 255]"), (256, "in [0, 255]"), (127.0, "an integer")],
    "shadow_threshold": [(0, "in (0, 1]"), (1.01, "in (0, 1]")],
    "intensity_scale": [(0, "in (0, inf)"), (-1.0, "in (0, inf)"), (math.inf, "in (0, inf)")],
    "renormalize": [("no", "True or False"), (0, "True or False")],
    "keep_background_modes": [("no", "True or False"), (1, "True or False")],
    "neighbourhood_radius": [(-1, "in [0, 16]"), (17, "in [0, 16]"), (1.0, "an integer")],
    "hold_frames": [(-1, ">= 0"), (10.5, "an integer")],
    "feedback": [(-0.5, "in [0, 10]"), (11.0, "in [0, 10]"), (math.nan, "in [0, 10]")],
    "compensate_gain": [("yes", "True or False"), (1, "True or False")],
    "light_change": [(-0.1, "in [0, 1]"), (1.5, "in [0, 1]")],
    "median_size": [(-1, "in [0, 15]"), (17, "in [0, 15]"), (2.0, "an integer")],
    "fill_blob_holes": [("no", "True or False"), (0, "True or False")],
    "consistent_shadows": [(-0.1, "in [0, 1]"), (1.5, "in [0, 1]"), ("high", "a number")],
    "texture_tolerance": [(-1, "in [0, 16]"), (17, "in [0, 16]"), (3.0, "an integer")],
    "n_threads": [(0, f"in [1, {_MAX_THREADS}]"), (_MAX_THREADS + 1, f"in [1, {_MAX_THREADS}]"),
                  (1.5, "an integer")],
}


def test_every_constructor_parameter_has_out_of_range_cases():
    assert sorted(BAD_PARAMETERS) == sorted(BackgroundMixture()._param_names())


@pytest.mark.parametrize(
    ("name", "value", "allowed"),
    [(name, value, allowed) for name, cases in BAD_PARAMETERS.items() for value, allowed in cases],
    ids=lambda v: repr(v)[:20])
def test_out_of_range_parameter_is_named_with_its_allowed_range(name, value, allowed):
    model = plain_mixture(**{name: value})
    assert getattr(model, name) is value  # stored unchanged, checked at use
    frame = np.zeros((3, 4, 3), np.uint8)
    with pytest.raises(ValueError) as info:
        model.apply(frame)
    message = str(info.value)
    assert message.startswith(f"{name} must be"), message
    assert allowed in message, message
    assert "\n" not in message
    assert not model.is_initialized
    # The same check guards a model changed after it has learned.
    good = plain_mixture()
    good.apply(frame)
    before = state_of(good)
    good.set_params(**{name: value})
    if name in ("n_components", "covariance_type"):
        assert not good.is_initialized  # set_params resets the state of a new shape
    with pytest.raises(ValueError, match=re.escape(f"{name} must be")):
        good.apply(frame)
    if good.is_initialized:
        for key, array in state_of(good).items():
            np.testing.assert_array_equal(array, before[key])


def test_a_corrected_parameter_takes_effect():
    model = plain_mixture(history=0)
    with pytest.raises(ValueError, match="history"):
        model.apply(np.zeros((2, 2), np.uint8))
    model.set_params(history=10)
    assert model.apply(np.zeros((2, 2), np.uint8)).shape == (2, 2)


# ------------------------------------------------------------------------ model files

@pytest.fixture
def saved(tmp_path: Path) -> tuple[Path, dict[str, np.ndarray]]:
    model = learned("full")
    path = tmp_path / "model.npz"
    model.save(path)
    with np.load(path, allow_pickle=False) as data:
        contents = dict(data)
    return path, contents


def refused(path: Path, pattern: str) -> str:
    with pytest.raises(ValueError) as info:
        BackgroundMixture.load(path)
    message = str(info.value)
    assert "\n" not in message
    assert re.search(pattern, message), message
    assert str(path) in message
    return message


def rewritten(tmp_path: Path, contents: dict[str, np.ndarray], name: str, **changes) -> Path:
    contents = dict(contents)
    for key, value in changes.items():
        if value is None:
            contents.pop(key)
        else:
            contents[key] = value
    path = tmp_path / f"{name}.npz"
    np.savez(path, **contents)
    return path


def test_the_untouched_file_loads(saved):
    """The damaged variants below differ from this file only in what they change."""
    path, _ = saved
    model = BackgroundMixture.load(path)
    assert model.covariance_type == "full" and state_invariant_violations(model) == []


def test_foreign_files_are_refused(tmp_path):
    npz = tmp_path / "random.npz"
    np.savez(npz, a=np.random.default_rng(0).random((3, 3)), b=np.arange(4))
    refused(npz, r"is not a bgmix model file \(no format_version/params\)")
    npy = tmp_path / "array.npy"
    np.save(npy, np.arange(5))
    refused(npy, r"holds a single array \(\.npy\), not an \.npz archive")
    text = tmp_path / "notes.txt"
    text.write_text("format_version = 2\n")
    refused(text, "is not a bgmix model file")
    other_zip = tmp_path / "other.zip"
    with zipfile.ZipFile(other_zip, "w") as archive:
        archive.writestr("readme.txt", "hello")
        archive.writestr("data.csv", "1,2,3\n")
    refused(other_zip, "is not a bgmix model file")
    empty = tmp_path / "empty.npz"
    empty.write_bytes(b"")
    refused(empty, "is not a bgmix model file")
    refused(tmp_path, "is a folder")
    with pytest.raises(FileNotFoundError, match="model file not found"):
        BackgroundMixture.load(tmp_path / "missing.npz")


@pytest.mark.parametrize("fraction", [0.1, 0.5, 0.9, 0.99])
def test_truncated_files_are_refused(tmp_path, saved, fraction):
    path, _ = saved
    data = path.read_bytes()
    cut = tmp_path / "cut.npz"
    cut.write_bytes(data[: int(len(data) * fraction)])
    refused(cut, "is not a bgmix model file|truncated")


def test_newer_format_version_is_refused(tmp_path, saved):
    _, contents = saved
    path = rewritten(tmp_path, contents, "newer", format_version=np.array(FORMAT_VERSION + 1))
    refused(path, rf"model format {FORMAT_VERSION + 1}, newer than this bgmix reads "
                  rf"\({FORMAT_VERSION}\); upgrade bgmix")
    path = rewritten(tmp_path, contents, "zero", format_version=np.array(0))
    refused(path, "format_version must be >= 1")


@pytest.mark.parametrize(
    ("change", "pattern"),
    [
        ({"weights_": None}, "state array weights_ is missing"),
        ({"covariances_": None}, "state array covariances_ is missing"),
        ({"weights_": np.zeros((5, 6, 6), np.float32)},
         r"weights_ has shape \(5, 6, 6\).*expected shape \(5, 6, 7\)"),
        ({"means_": np.zeros((5, 3, 6, 7), np.float64)}, "means_ has .*dtype float64"),
        ({"n_components_": np.full((6, 7), 9, np.uint8)}, "n_components_ exceeds n_components=5"),
        ({"weights_": np.full((5, 6, 7), np.nan, np.float32)}, "weights_ holds 210 NaN or inf"),
        ({"frame_shape_": np.array([6, 7])}, "frame_shape_ must be"),
        ({"frame_shape_": np.array([6, 7, 4])}, "frame_shape_ must be"),
        ({"frame_dtype_": np.array("object")}, "frame_dtype_ must be 'uint8', 'uint16' or"),
        ({"n_frames_seen_": np.array(-1)}, "n_frames_seen_ must be >= 0"),
        ({"n_frames_seen_": np.array([1, 2])}, "n_frames_seen_ must be a single integer"),
        ({"format_version": np.array("two")}, "format_version must be a single integer"),
        ({"params": np.array("{not json")}, "params is not valid JSON"),
        ({"params": np.array("[1, 2]")}, "params must be a JSON object"),
        ({"initialized": np.array([True, False])}, "initialized must be a single boolean"),
    ],
    ids=lambda v: str(v)[:30])
def test_mismatched_or_damaged_contents_are_refused(tmp_path, saved, change, pattern):
    _, contents = saved
    refused(rewritten(tmp_path, contents, "damaged", **change), pattern)


@pytest.mark.parametrize(
    ("params", "pattern"),
    [
        ({"n_components": 0}, r"n_components must be in \[1, 255\], got 0"),
        ({"history": "long"}, "history must be an integer"),
        ({"covariance_type": "round"}, "covariance_type must be one of"),
        ({"extra_option": 1}, r"unknown parameter\(s\) \['extra_option'\]"),
    ])
def test_bad_parameters_in_a_file_are_refused(tmp_path, saved, params, pattern):
    _, contents = saved
    stored = json.loads(str(contents["params"]))
    path = rewritten(tmp_path, contents, "params", params=np.array(json.dumps({**stored, **params})))
    refused(path, pattern)


def test_a_file_from_a_bigger_machine_loads_and_asks_for_fewer_threads(tmp_path, saved):
    _, contents = saved
    stored = json.loads(str(contents["params"]))
    path = rewritten(tmp_path, contents, "threads",
                     params=np.array(json.dumps({**stored, "n_threads": _MAX_THREADS + 7})))
    model = BackgroundMixture.load(path)
    frame = np.zeros((6, 7, 3), np.uint8)
    with pytest.raises(ValueError, match=rf"n_threads must be in \[1, {_MAX_THREADS}\]"):
        model.apply(frame)
    model.set_params(n_threads=1)
    assert model.apply(frame).shape == (6, 7)


class _Tripwire:
    """Unpickling this creates a file: proof that something was unpickled."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def __reduce__(self):
        return (Path.touch, (self.path,))


@pytest.mark.parametrize("entry", ["params", "weights_", "format_version", "extra"])
def test_object_arrays_are_never_unpickled(tmp_path, saved, entry):
    _, contents = saved
    tripwire = tmp_path / "unpickled"
    payload = np.empty(1, dtype=object)
    payload[0] = _Tripwire(tripwire)
    pickle.loads(pickle.dumps(payload[0]))  # the tripwire works...
    assert tripwire.exists()
    tripwire.unlink()
    path = rewritten(tmp_path, contents, "pickled", **{entry: payload})
    refused(path, "Object arrays cannot be loaded when allow_pickle=False")
    assert not tripwire.exists()  # ...and load never set it off


def test_a_pickle_renamed_npz_is_refused(tmp_path):
    tripwire = tmp_path / "unpickled"
    path = tmp_path / "model.npz"
    path.write_bytes(pickle.dumps(_Tripwire(tripwire)))
    refused(path, "is not a bgmix model file")
    assert not tripwire.exists()


# --------------------------------------------------------------------------- saving

def test_numpy_scalar_parameters_are_saved_as_numbers(tmp_path):
    model = plain_mixture(history=np.int64(80), var_threshold=np.float32(20.0),
                              detect_shadows=np.bool_(False))
    model.apply(np.zeros((3, 3), np.uint8))
    model.save(tmp_path / "m.npz")
    loaded = BackgroundMixture.load(tmp_path / "m.npz")
    assert loaded.history == 80 and type(loaded.history) is int
    assert loaded.var_threshold == 20.0 and loaded.detect_shadows is False


def test_unsaveable_parameter_is_named_and_nothing_is_written(tmp_path):
    model = plain_mixture(history=[500])
    with pytest.raises(ValueError, match=r"parameter history=\[500\] \(list\) cannot be saved"):
        model.save(tmp_path / "m.npz")
    assert list(tmp_path.iterdir()) == []


def test_a_failed_save_keeps_the_previous_file(tmp_path):
    path = tmp_path / "m.npz"
    first = learned()
    first.save(path)
    saved_bytes = path.read_bytes()
    broken = learned()
    broken.set_params(history=[1])
    with pytest.raises(ValueError, match="cannot be saved"):
        broken.save(path)
    assert path.read_bytes() == saved_bytes
    assert [p.name for p in tmp_path.iterdir()] == ["m.npz"]
