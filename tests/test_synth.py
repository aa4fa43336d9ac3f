"""Tests of bgmix.synth: synthetic scenes, their ground truth and the CDnet layout."""

from __future__ import annotations

import doctest
import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

import bgmix.synth as synth
from bgmix.synth import CDNET_LABELS, Scene, iter_scene, make_scene, scene_kinds, write_cdnet

REPO = Path(__file__).resolve().parent.parent
SMALL = {"height": 48, "width": 64, "n_frames": 60}


@pytest.fixture(scope="module")
def scene() -> Scene:
    return make_scene("baseline", height=96, width=128, n_frames=150, seed=7)


def test_registry_has_baseline() -> None:
    assert "baseline" in scene_kinds()


def test_same_seed_same_scene_different_seed_different_scene() -> None:
    a = make_scene(seed=1, **SMALL)
    b = make_scene(seed=1, **SMALL)
    c = make_scene(seed=2, **SMALL)
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.ground_truth, b.ground_truth)
    assert not np.array_equal(a.frames[0], c.frames[0])          # background differs
    assert not np.array_equal(a.ground_truth, c.ground_truth)     # objects differ


def test_noise_differs_between_frames() -> None:
    s = make_scene(**SMALL)
    assert not np.array_equal(s.frames[0], s.frames[1])


def test_stream_renders_what_make_scene_renders(scene: Scene) -> None:
    stream = iter_scene("baseline", height=96, width=128, n_frames=150, seed=7)
    assert len(stream) == scene.n_frames
    assert (stream.warmup, stream.fps, stream.name) == (scene.warmup, scene.fps, scene.name)
    for t, (frame, gt) in enumerate(stream):
        np.testing.assert_array_equal(frame, scene.frames[t])
        np.testing.assert_array_equal(gt, scene.ground_truth[t])
    frame, gt = stream[-1]                                        # random access
    np.testing.assert_array_equal(frame, scene.frames[-1])
    np.testing.assert_array_equal(gt, scene.ground_truth[-1])


def test_shorter_scene_is_a_prefix(scene: Scene) -> None:
    short = make_scene("baseline", height=96, width=128, n_frames=80, seed=7)
    np.testing.assert_array_equal(short.frames, scene.frames[:80])
    np.testing.assert_array_equal(short.ground_truth, scene.ground_truth[:80])


def test_params_rebuild_the_scene() -> None:
    s = make_scene(seed=3, noise_sigma=1.0, **SMALL)
    again = make_scene(s.kind, **s.params)
    np.testing.assert_array_equal(again.frames, s.frames)


def test_shapes_dtypes_and_read_only(scene: Scene) -> None:
    assert scene.frames.shape == (150, 96, 128, 3) and scene.frames.dtype == np.uint8
    assert scene.ground_truth.shape == (150, 96, 128) and scene.ground_truth.dtype == np.uint8
    assert scene.temporal_roi == (scene.warmup + 1, 150)
    with pytest.raises(ValueError):
        scene.frames[0, 0, 0, 0] = 1
    with pytest.raises(AttributeError):
        scene.name = "other"  # type: ignore[misc]


def test_labels_are_cdnet_labels(scene: Scene) -> None:
    values = set(np.unique(scene.ground_truth).tolist())
    assert values <= set(CDNET_LABELS)
    assert values == {0, 255}                                     # baseline: no shadow, no ROI


@pytest.mark.parametrize("seed", [0, 1, 2, 3])
def test_motion_only_after_warmup(seed: int) -> None:
    s = make_scene(seed=seed, height=60, width=80, n_frames=200)
    motion = (s.ground_truth == 255).sum(axis=(1, 2))
    assert s.warmup == 30
    assert motion[: s.warmup].sum() == 0
    assert (motion[s.warmup:] > 0).mean() > 0.6                   # objects keep coming
    assert (motion > 0).any()


def test_ground_truth_is_exact() -> None:
    """Without noise, every pixel labelled static outside the sign shows the background,
    and most pixels labelled motion do not."""
    s = make_scene(seed=4, height=60, width=80, n_frames=200, noise_sigma=0.0)
    background = s.frames[0]
    sign = s.regions["multimodal"]
    for t in range(s.n_frames):
        static = (s.ground_truth[t] == 0) & ~sign
        np.testing.assert_array_equal(s.frames[t][static], background[static])
    moving = s.ground_truth == 255
    changed = (s.frames != background[None]).any(axis=3)
    assert moving.sum() > 0
    assert changed[moving].mean() > 0.9


def test_background_values_well_inside_range() -> None:
    for seed in range(5):
        s = make_scene(seed=seed, height=60, width=80, n_frames=31, noise_sigma=0.0)
        assert s.frames[: s.warmup].min() >= 20 and s.frames[: s.warmup].max() <= 235


def _clusters(values: np.ndarray, radius: float = 25.0, min_size: int = 5) -> int:
    """Greedy leader clustering of (T, 3) colours; clusters with at least min_size members."""
    centres: list[np.ndarray] = []
    sizes: list[int] = []
    for v in values.astype(np.float64):
        for i, c in enumerate(centres):
            if np.linalg.norm(v - c) < radius:
                sizes[i] += 1
                break
        else:
            centres.append(v)
            sizes.append(1)
    return sum(size >= min_size for size in sizes)


def test_multimodal_region_is_multimodal(scene: Scene) -> None:
    sign = scene.regions["multimodal"]
    assert sign.any()
    ys, xs = np.nonzero(sign)
    rng = np.random.default_rng(0)
    picks = rng.choice(ys.size, size=12, replace=False)
    for i in picks:
        y, x = ys[i], xs[i]
        static = scene.ground_truth[:, y, x] == 0                 # label 0: part of the background
        assert static.sum() >= 40
        assert _clusters(scene.frames[static, y, x]) >= 2
    # a plain background pixel with no motion has a single mode
    quiet = (scene.ground_truth == 0).all(axis=0) & ~sign
    y, x = np.argwhere(quiet)[0]
    assert _clusters(scene.frames[:, y, x]) == 1


def test_multimodal_can_be_switched_off() -> None:
    s = make_scene(multimodal=False, **SMALL)
    assert "multimodal" not in s.regions


@pytest.mark.parametrize("sigma", [1.0, 2.5, 4.0])
def test_noise_level_matches_sigma(sigma: float) -> None:
    s = make_scene(seed=5, height=60, width=80, n_frames=80, noise_sigma=sigma)
    quiet = (s.ground_truth == 0).all(axis=0) & ~s.regions["multimodal"]
    assert quiet.sum() > 1000
    pixels = s.frames[:, quiet].astype(np.float64)                # (T, P, 3)
    measured = np.sqrt(pixels.var(axis=0, ddof=1).mean())
    expected = np.sqrt(sigma**2 + 1.0 / 12.0)                     # plus rounding to integers
    assert measured == pytest.approx(expected, rel=0.05)


def test_no_noise_means_static_pixels_are_constant() -> None:
    s = make_scene(seed=5, noise_sigma=0.0, **SMALL)
    quiet = (s.ground_truth == 0).all(axis=0) & ~s.regions["multimodal"]
    assert (s.frames[:, quiet] == s.frames[0, quiet]).all()


def test_odd_sizes_render() -> None:
    """(1920x1080 is exercised by the docstring examples.)"""
    stream = iter_scene(height=121, width=333, n_frames=400, seed=1)
    frame, gt = stream[200]
    assert frame.shape == (121, 333, 3) and gt.shape == (121, 333)
    assert set(np.unique(gt).tolist()) <= set(CDNET_LABELS)
    assert (gt == 255).any()


@pytest.mark.parametrize(
    ("kwargs", "error"),
    [
        ({"kind": "nope"}, ValueError),
        ({"warmup": 60}, ValueError),
        ({"noise_sigma": -1.0}, ValueError),
        ({"height": 8}, ValueError),
        ({"seed": -1}, ValueError),
        ({"unknown_parameter": 1}, TypeError),
    ],
)
def test_bad_arguments_are_refused(kwargs: dict, error: type) -> None:
    args = {**SMALL, **kwargs}
    with pytest.raises(error):
        make_scene(**args)


def test_scene_refuses_non_cdnet_labels() -> None:
    frames = np.zeros((2, 4, 4, 3), np.uint8)
    gt = np.zeros((2, 4, 4), np.uint8)
    gt[1, 0, 0] = 7
    with pytest.raises(ValueError, match="CDnet"):
        Scene(frames=frames, ground_truth=gt, name="x", fps=25.0)


def _read(path: Path, flags: int = cv2.IMREAD_UNCHANGED) -> np.ndarray:
    image = cv2.imread(str(path), flags)
    assert image is not None, path
    return image


def test_write_cdnet_reads_back_exactly(tmp_path: Path) -> None:
    s = make_scene(seed=2, height=48, width=64, n_frames=40)
    folder = write_cdnet(s, tmp_path / "baseline")
    inputs = sorted((folder / "input").iterdir())
    truths = sorted((folder / "groundtruth").iterdir())
    assert [p.name for p in inputs] == [f"in{i:06d}.png" for i in range(1, 41)]
    assert [p.name for p in truths] == [f"gt{i:06d}.png" for i in range(1, 41)]
    for t in range(40):
        np.testing.assert_array_equal(_read(inputs[t]), s.frames[t])
        np.testing.assert_array_equal(_read(truths[t]), s.ground_truth[t])
    roi = _read(folder / "ROI.bmp", cv2.IMREAD_GRAYSCALE)
    assert roi.shape == (48, 64) and (roi == 255).all()
    assert (folder / "temporalROI.txt").read_text().split() == ["31", "40"]
    leftovers = [p for p in folder.rglob("*") if p.name.startswith(".")]
    assert leftovers == []


def test_write_cdnet_from_stream_matches_scene(tmp_path: Path) -> None:
    kwargs = {"seed": 3, "height": 32, "width": 48, "n_frames": 35}
    a = write_cdnet(make_scene(**kwargs), tmp_path / "a")
    b = write_cdnet(iter_scene(**kwargs), tmp_path / "b")
    for sub in ("input", "groundtruth"):
        for pa in sorted((a / sub).iterdir()):
            assert pa.read_bytes() == (b / sub / pa.name).read_bytes()
    assert (a / "temporalROI.txt").read_text() == (b / "temporalROI.txt").read_text()


def test_write_cdnet_roi_plain_pairs_and_stale_frames(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 256, (6, 10, 12, 3), dtype=np.uint8)
    gt = np.zeros((6, 10, 12), np.uint8)
    gt[:, :, :3] = 85
    gt[4, 5, 5] = 255
    roi = np.ones((10, 12), bool)
    roi[:, :3] = False
    custom = Scene(frames=frames, ground_truth=gt, name="custom", fps=10.0, warmup=2, roi=roi)
    folder = write_cdnet(custom, tmp_path / "seq")
    np.testing.assert_array_equal(_read(folder / "ROI.bmp", cv2.IMREAD_GRAYSCALE),
                                  np.where(roi, 255, 0))
    assert (folder / "temporalROI.txt").read_text().split() == ["3", "6"]
    # a shorter sequence written as plain (frame, gt) pairs replaces the longer one
    grey = frames[:4, :, :, 0]
    write_cdnet(zip(grey, gt[:4]), folder)
    assert len(list((folder / "input").iterdir())) == 4
    assert len(list((folder / "groundtruth").iterdir())) == 4
    np.testing.assert_array_equal(_read(folder / "input" / "in000004.png"), grey[3])
    assert (folder / "temporalROI.txt").read_text().split() == ["1", "4"]
    assert (_read(folder / "ROI.bmp", cv2.IMREAD_GRAYSCALE) == 255).all()


def test_write_cdnet_uint16_frames(tmp_path: Path) -> None:
    frames = (np.arange(2 * 8 * 8, dtype=np.uint16).reshape(2, 8, 8) * 997)
    gt = np.zeros((2, 8, 8), np.uint8)
    folder = write_cdnet(zip(frames, gt), tmp_path / "thermal")
    back = _read(folder / "input" / "in000002.png")
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, frames[1])


def test_write_cdnet_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no frames"):
        write_cdnet([], tmp_path / "empty")
    bad = [(np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.uint8))]
    with pytest.raises(ValueError):
        write_cdnet(bad, tmp_path / "float")
    mismatch = [(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5), np.uint8))]
    with pytest.raises(ValueError):
        write_cdnet(mismatch, tmp_path / "size")


def _load_script():
    path = REPO / "scripts" / "make_videos.py"
    spec = importlib.util.spec_from_file_location("make_videos", path)
    module = importlib.util.module_from_spec(spec)
    assert spec.loader is not None
    spec.loader.exec_module(module)
    return module


def test_bundled_sample_decodes_to_the_scene() -> None:
    video = REPO / "videos" / "sample.mkv"
    truth = REPO / "videos" / "sample_groundtruth.mkv"
    if not (video.exists() and truth.exists()):
        pytest.skip("videos/sample.mkv not generated (run scripts/make_videos.py)")
    script = _load_script()
    s = make_scene(**script.SAMPLE)
    frames = list(script.read_video(video))
    truths = list(script.read_video(truth, grey=True))
    assert len(frames) == len(truths) == s.n_frames
    np.testing.assert_array_equal(np.stack(frames), s.frames)
    np.testing.assert_array_equal(np.stack(truths), s.ground_truth)
    meta_path = REPO / "videos" / "sample.json"
    if meta_path.exists():
        meta = json.loads(meta_path.read_text())
        assert meta["params"] == dict(s.params)
        assert meta["temporal_roi"] == list(s.temporal_roi)


def test_bundled_videos_are_small() -> None:
    folder = REPO / "videos"
    if not (folder / "sample.mkv").exists():
        pytest.skip("videos/sample.mkv not generated")
    assert sum(p.stat().st_size for p in folder.iterdir() if p.is_file()) < 8_000_000


def test_docstring_examples() -> None:
    result = doctest.testmod(synth, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0
