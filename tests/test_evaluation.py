"""Tests of bgmix.evaluation: methods, one-pass sequence evaluation, results."""

from __future__ import annotations

import doctest
import json
import math
import shutil
from pathlib import Path

import cv2
import numpy as np
import pytest

import bgmix.evaluation as ev
import bgmix.sources.files
from bgmix import BackgroundMixture
from bgmix.cdnet import write_cdnet
from bgmix.evaluation import (
    MethodResult,
    UnavailableMethodError,
    available_methods,
    evaluate_masks,
    evaluate_method_on_sequence,
    evaluate_methods_on_sequence,
    find_input_frames,
    is_mask_folder,
    is_sequence_folder,
    make_method,
    preset_params,
    run_method,
)
from bgmix.metrics import evaluate_sequence
from bgmix.presets import PRESETS
from bgmix.synth import make_scene
from tests.mixtures import plain_mixture

H, W, N = 48, 64, 60


@pytest.fixture(scope="module")
def scene():
    return make_scene("baseline", height=H, width=W, n_frames=N, seed=0)


@pytest.fixture(scope="module")
def sequence(scene, tmp_path_factory) -> Path:
    """A synthetic CDnet folder: 60 frames of 64x48, temporal ROI 31-60."""
    return write_cdnet(scene, tmp_path_factory.mktemp("cdnet") / "baseline_0")


@pytest.fixture
def sequence_copy(sequence: Path, tmp_path: Path) -> Path:
    """A copy to break."""
    return Path(shutil.copytree(sequence, tmp_path / "seq"))


def input_frames(folder: Path) -> list[np.ndarray]:
    return [cv2.imread(str(p), cv2.IMREAD_UNCHANGED) for p in find_input_frames(folder)]


# --------------------------------------------------------------------- methods


def test_method_names_and_median():
    assert make_method("mog2").name == "mog2"
    assert make_method(" KNN+Median ").name == "knn+median"
    assert make_method("bgmix").name == "bgmix"
    assert make_method("bgmix+median").name == "bgmix+median"
    assert make_method("bgmix:mog2").name == "bgmix:mog2"
    assert make_method({"history": 100}, name="mine").name == "mine"
    assert make_method("mog2").params is None
    assert make_method("bgmix").params == BackgroundMixture().get_params()
    names = available_methods()
    assert names[:5] == ["bgmix", "mog2", "mog2+median", "knn", "knn+median"]
    assert ("gsoc" in names) == hasattr(cv2, "bgsegm")


def test_median_variant_is_the_filtered_mask(scene):
    frames = scene.frames[:35]
    raw = list(run_method("mog2", frames))
    filtered = list(run_method("mog2+median", frames))
    assert len(raw) == len(filtered) == 35
    for a, b in zip(raw, filtered):
        np.testing.assert_array_equal(b, cv2.medianBlur(a, 5))
    assert any((a != b).any() for a, b in zip(raw, filtered))  # the filter did something


def test_run_method_yields_new_masks_from_arrays_and_paths(scene, sequence: Path):
    masks = list(run_method("bgmix", scene.frames))
    assert len(masks) == N
    assert all(m.shape == (H, W) and m.dtype == np.uint8 for m in masks)
    assert len({id(m) for m in masks}) == N  # not one reused buffer
    model = BackgroundMixture()
    for frame, mask in zip(scene.frames, masks):
        np.testing.assert_array_equal(mask, model.apply(frame))
    from_folder = list(run_method("bgmix", sequence / "input"))  # a path: opened and closed
    assert len(from_folder) == N
    np.testing.assert_array_equal(from_folder[-1], masks[-1])


def test_bgmix_instance_and_params_dict(scene):
    model = plain_mixture(history=50)
    method = make_method(model)
    assert method.params["history"] == 50
    method.apply(scene.frames[0])
    assert model.n_frames_seen_ == 1  # the instance itself is used
    assert make_method({"history": 50}, n_threads=1).params["n_threads"] == 1
    assert make_method({"n_threads": 2}, n_threads=1).params["n_threads"] == 2
    with pytest.raises(ValueError, match="history must be >= 1"):
        make_method({"history": 0})
    with pytest.raises(ValueError, match="unknown method 'vibe'"):
        make_method("vibe")
    with pytest.raises(TypeError, match="a method is a name, .* got int"):
        make_method(3)


def test_contrib_methods_without_bgsegm(monkeypatch):
    monkeypatch.delattr(cv2, "bgsegm", raising=False)
    for name in ("gsoc", "mog", "cnt+median"):
        with pytest.raises(UnavailableMethodError, match="opencv-contrib-python"):
            make_method(name)
    assert "gsoc" not in available_methods()


@pytest.mark.skipif(not hasattr(cv2, "bgsegm"), reason="needs opencv-contrib-python")
def test_contrib_methods_run(scene):  # pragma: no cover - depends on the installation
    for name in ("gsoc", "mog", "cnt"):
        masks = list(run_method(name, scene.frames[:5]))
        assert masks[-1].shape == (H, W)


def test_presets():
    assert preset_params("mog2") == dict(PRESETS["mog2"])  # bgmix.presets' parameters
    assert preset_params("full")["covariance_type"] == "full"
    assert preset_params("default") == {}  # not in bgmix.presets: the constructor's defaults
    changed = preset_params("mog2")
    changed["history"] = 1
    assert preset_params("mog2")["history"] == 500  # a copy every time
    with pytest.raises(ValueError, match="unknown preset 'nope'; known presets: default, full, mog2, robust$"):
        preset_params("nope")
    method = make_method("bgmix:full+median")
    assert method.name == "bgmix:full+median"
    assert method.params["covariance_type"] == "full" and method.params["var_threshold"] == 48.0
    assert make_method("bgmix:default").params == BackgroundMixture().get_params()
    with pytest.raises(ValueError, match="known presets: default, full, mog2, robust"):
        make_method("bgmix:slow")


# ------------------------------------------------------------------ sequences


def test_layout_detection(sequence: Path, tmp_path: Path):
    assert is_sequence_folder(sequence)
    assert not is_mask_folder(sequence)
    assert not is_sequence_folder(sequence / "input")
    (tmp_path / "bin000001.png").write_bytes(b"")
    assert is_mask_folder(tmp_path)
    assert not is_mask_folder(tmp_path / "missing")
    assert [p.name for p in find_input_frames(sequence)[:2]] == ["in000001.png", "in000002.png"]


def test_bgmix_scores_well_on_a_synthetic_sequence(sequence: Path):
    # The mog2 preset: the default's 5x5 majority filter costs recall on this
    # 64x48 scene's few-pixel objects.
    r = evaluate_method_on_sequence("bgmix:mog2", sequence)
    assert isinstance(r, MethodResult)
    assert r.method == "bgmix:mog2" and r.sequence == "baseline_0"
    assert r.n_frames == N and r.n_scored_frames == N - 30
    assert r.scores.temporal_roi == (31, 60)
    assert r.f_measure > 0.85
    assert r.precision > 0.9 and r.recall > 0.8
    assert r.pwc < 1.0
    assert r.counts.total == (N - 30) * H * W  # the whole frame is in the ROI
    assert r.f_measure == pytest.approx(2 * r.tp / (2 * r.tp + r.fp + r.fn))
    assert r.params == BackgroundMixture.from_preset("mog2").get_params()
    assert r.frame_ms.shape == (N,) and (r.frame_ms > 0).all()
    assert r.ms_per_frame_median == pytest.approx(np.median(r.frame_ms))
    assert r.ms_per_frame_mean == pytest.approx(np.mean(r.frame_ms))
    assert r.ms_per_frame_median < 50


def test_scores_equal_those_of_the_metrics_module(sequence: Path):
    for name in ("mog2+median", "bgmix"):
        r = evaluate_method_on_sequence(name, sequence, keep_frames=True)
        expected = evaluate_sequence(run_method(name, input_frames(sequence)), sequence)
        assert r.counts == expected.counts, name
        assert dict(r.scores.frame_counts) == dict(expected.frame_counts)


def test_one_pass_feeds_every_method(sequence: Path, monkeypatch):
    reads = []
    read_image = bgmix.sources.files.read_image
    monkeypatch.setattr(bgmix.sources.files, "read_image",
                        lambda path: reads.append(path) or read_image(path))
    seen = []
    results = evaluate_methods_on_sequence(["bgmix:mog2", "mog2", "knn+median"], sequence,
                                           progress=seen.append)
    assert len(reads) == N  # each frame decoded once for the three methods
    assert seen == list(range(1, N + 1))
    assert [r.method for r in results] == ["bgmix:mog2", "mog2", "knn+median"]
    for r in results:
        assert r.n_frames == N and r.n_scored_frames == N - 30
        assert len(r.frame_ms) == N
        assert not math.isnan(r.f_measure)
    # the mog2 preset reproduces MOG2
    assert results[0].f_measure == pytest.approx(results[1].f_measure, abs=0.01)
    # and each method is scored on its own masks
    alone = evaluate_method_on_sequence("knn+median", sequence)
    assert alone.f_measure == pytest.approx(results[2].f_measure, abs=0.05)


def test_threads(sequence: Path):
    before = cv2.getNumThreads()
    results = evaluate_methods_on_sequence(["bgmix", "mog2"], sequence, n_threads=1)
    assert results[0].params["n_threads"] == 1
    assert cv2.getNumThreads() == before
    with pytest.raises(ValueError, match="n_threads"):
        evaluate_method_on_sequence("mog2", sequence, n_threads=0)


def test_to_dict_is_strict_json(sequence: Path):
    r = evaluate_method_on_sequence("bgmix", sequence)
    d = json.loads(json.dumps(r.to_dict(), allow_nan=False))
    for key in ("method", "sequence", "n_frames", "n_scored_frames", "temporal_roi",
                "f_measure", "precision", "recall", "pwc", "specificity", "fpr", "fnr",
                "counts", "ms_per_frame_median", "ms_per_frame_mean", "params"):
        assert key in d, key
    assert d["f_measure"] == pytest.approx(r.f_measure)
    assert d["counts"] == {"tp": r.tp, "fp": r.fp, "fn": r.fn, "tn": r.tn}
    assert d["temporal_roi"] == [31, 60] and d["n_frames"] == N
    assert d["params"]["history"] == 500


def test_ground_truth_as_predictions_scores_1(scene, sequence: Path, tmp_path: Path):
    for n, gt in enumerate(scene.ground_truth, start=1):
        cv2.imwrite(str(tmp_path / f"bin{n:06d}.png"), gt)
    r = evaluate_masks(tmp_path, sequence)
    assert (r.f_measure, r.precision, r.recall, r.pwc) == (1.0, 1.0, 1.0, 0.0)
    assert r.n_frames == r.n_scored_frames == 30
    assert r.ms_per_frame_median is None and r.to_dict()["ms_per_frame_mean"] is None
    with pytest.raises(FileNotFoundError, match="does not exist"):
        evaluate_masks(tmp_path / "nope", sequence)


def test_sequence_errors(sequence_copy: Path, tmp_path: Path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        evaluate_method_on_sequence("mog2", tmp_path / "nope")
    with pytest.raises(ValueError, match="more than once: mog2"):
        evaluate_methods_on_sequence(["mog2", "MOG2"], sequence_copy)
    with pytest.raises(ValueError, match="no methods"):
        evaluate_methods_on_sequence([], sequence_copy)
    # the last frames to score have no input
    for n in (59, 60):
        (sequence_copy / "input" / f"in{n:06d}.png").unlink()
    with pytest.raises(ValueError, match="holds 58 frames but frames 31 to 60"):
        evaluate_method_on_sequence("mog2", sequence_copy)
    # a gap
    (sequence_copy / "input" / "in000007.png").unlink()
    with pytest.raises(ValueError, match="frame 7 is missing"):
        evaluate_method_on_sequence("mog2", sequence_copy)
    for p in (sequence_copy / "input").iterdir():
        p.unlink()
    with pytest.raises(FileNotFoundError, match="holds no input frames"):
        evaluate_method_on_sequence("mog2", sequence_copy)
    shutil.rmtree(sequence_copy / "groundtruth")
    with pytest.raises(FileNotFoundError, match="groundtruth"):
        evaluate_method_on_sequence("mog2", sequence_copy)


def test_a_mask_of_the_wrong_size_names_the_frame(sequence_copy: Path):
    gt = cv2.imread(str(sequence_copy / "groundtruth" / "gt000040.png"), cv2.IMREAD_UNCHANGED)
    cv2.imwrite(str(sequence_copy / "groundtruth" / "gt000040.png"), gt[:, :-1])
    with pytest.raises(ValueError, match="frame 40, method mog2: prediction shape"):
        evaluate_method_on_sequence("mog2", sequence_copy)


def test_doctests():
    result = doctest.testmod(ev, optionflags=doctest.ELLIPSIS)
    assert result.attempted > 5 and result.failed == 0
