"""Tests of bgmix.synth: synthetic scenes and their ground truth, every kind."""

from __future__ import annotations

import doctest
import importlib.util
import json
from pathlib import Path

import cv2
import numpy as np
import pytest

import bgmix.synth as synth
from bgmix.cdnet import write_cdnet
from bgmix.synth import CDNET_LABELS, Scene, iter_scene, make_scene, scene_kinds
from tests.media import read_image

REPO = Path(__file__).resolve().parents[2]
SMALL = {"height": 48, "width": 64, "n_frames": 60}


@pytest.fixture(scope="module")
def scene() -> Scene:
    return make_scene("baseline", height=96, width=128, n_frames=150, seed=7)


KINDS = ("baseline", "dynamic_background", "camera_jitter", "shadow", "illumination",
         "intermittent_object", "thermal", "low_framerate", "heavy_noise")


def test_registry_has_every_cdnet_kind() -> None:
    assert set(scene_kinds()) == set(KINDS)


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
    with pytest.raises(ValueError, match="read-only"):
        scene.frames[0, 0, 0, 0] = 1
    with pytest.raises(AttributeError, match="cannot assign to field 'name'"):
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
    assert sum(p.stat().st_size for p in folder.rglob("*") if p.is_file()) < 20_000_000


@pytest.mark.parametrize("module", [synth, synth.scene, synth.textures, synth.objects,
                                    synth.street, synth.kinds])
def test_docstring_examples(module) -> None:
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0


# --------------------------------------------------------------------------- every kind

TINY = {"height": 48, "width": 64}


@pytest.fixture(scope="module")
def tiny_scenes() -> dict[str, Scene]:
    """Every kind at 64x48 with its default length, seed 11."""
    return {kind: make_scene(kind, seed=11, **TINY) for kind in KINDS}


@pytest.mark.parametrize("kind", KINDS)
def test_kind_is_deterministic_per_seed(kind: str, tiny_scenes: dict[str, Scene]) -> None:
    a = tiny_scenes[kind]
    b = make_scene(kind, seed=11, **TINY)
    c = make_scene(kind, seed=12, **TINY)
    np.testing.assert_array_equal(a.frames, b.frames)
    np.testing.assert_array_equal(a.ground_truth, b.ground_truth)
    assert not np.array_equal(a.frames, c.frames)
    assert not np.array_equal(a.ground_truth, c.ground_truth)


@pytest.mark.parametrize("kind", KINDS)
def test_kind_labels_and_motion_after_warmup(kind: str, tiny_scenes: dict[str, Scene]) -> None:
    s = tiny_scenes[kind]
    assert set(np.unique(s.ground_truth).tolist()) <= set(CDNET_LABELS)
    assert s.temporal_roi == (s.warmup + 1, s.n_frames)
    labelled = s.ground_truth != 0
    assert not labelled[: s.warmup].any()                        # nothing moves in the warm-up
    motion = (s.ground_truth[s.warmup:] == 255).any(axis=(1, 2))
    # at 64x48, objects jumping 20-60 px per frame stay in view for 1-3 frames only
    assert motion.mean() > (0.3 if kind == "low_framerate" else 0.5)
    if kind == "thermal":
        assert s.frames.dtype == np.uint16 and s.frames.ndim == 3
    else:
        assert s.frames.dtype == np.uint8 and s.frames.shape[3] == 3


@pytest.mark.parametrize("kind", KINDS)
def test_kind_stream_prefix_and_rebuild(kind: str, tiny_scenes: dict[str, Scene]) -> None:
    s = tiny_scenes[kind]
    n = s.warmup + 25
    short = make_scene(kind, seed=11, n_frames=n, **TINY)          # a prefix of the long one
    np.testing.assert_array_equal(short.frames, s.frames[:n])
    np.testing.assert_array_equal(short.ground_truth, s.ground_truth[:n])
    stream = iter_scene(kind, seed=11, **TINY)
    assert (len(stream), stream.fps, stream.warmup) == (s.n_frames, s.fps, s.warmup)
    assert stream.dtype == s.frames.dtype and stream.frame_shape == s.frames.shape[1:]
    for t in (0, s.warmup, s.n_frames - 1):                       # random access
        frame, gt = stream[t]
        np.testing.assert_array_equal(frame, s.frames[t])
        np.testing.assert_array_equal(gt, s.ground_truth[t])
    again = make_scene(s.kind, **json.loads(json.dumps(dict(s.params))))   # JSON-safe params
    np.testing.assert_array_equal(again.frames, s.frames)


@pytest.mark.parametrize("kind", KINDS)
def test_kind_objects_enter_after_warmup(kind: str, tiny_scenes: dict[str, Scene]) -> None:
    s = tiny_scenes[kind]
    starts = [obj["t0"] for obj in s.info["objects"]]
    assert starts and min(starts) >= s.warmup


@pytest.mark.parametrize("kind", KINDS)
def test_kind_writes_cdnet_layout(kind: str, tmp_path: Path) -> None:
    s = make_scene(kind, seed=1, height=24, width=32, n_frames=6, warmup=2)
    folder = write_cdnet(s, tmp_path / kind)
    np.testing.assert_array_equal(read_image(folder / "input" / "in000006.png"), s.frames[5])
    np.testing.assert_array_equal(read_image(folder / "groundtruth" / "gt000006.png"),
                                  s.ground_truth[5])
    assert (folder / "temporalROI.txt").read_text().split() == ["3", "6"]


@pytest.mark.parametrize(
    ("kind", "kwargs", "message"),
    [
        ("dynamic_background", {"water": 0.95}, r"water must be in \[0, 0\.8\], got 0\.95"),
        ("dynamic_background", {"boat_interval": 0.5}, r"boat_interval must be 0 \(no boats\) or >= 1"),
        ("camera_jitter", {"jitter": -1.0}, r"jitter must be in \[0, 8\], got -1\.0"),
        ("shadow", {"shadow_factor": 1.0}, r"shadow_factor must be in \[0\.05, 0\.95\], got 1\.0"),
        ("illumination", {"switch_region": "left"}, r"switch_region must be 'box' or 'frame'"),
        ("illumination", {"ramp_frames": 0}, r"ramp_frames must be >= 1, got 0"),
        ("intermittent_object", {"enter_frame": 5}, r"enter_frame must be >= 30, got 5"),  # before the warm-up ends
        ("intermittent_object", {"remove_frame": 5}, r"remove_frame must be >= 30, got 5"),
        ("thermal", {"level": 70000.0}, r"level must be in \[2000, 60000\], got 70000\.0"),
        ("low_framerate", {"min_speed": 30.0, "max_speed": 20.0},
         r"max_speed \(20\.0\) must be >= min_speed \(30\.0\)"),
        ("heavy_noise", {"noise_correlation": 1.5}, r"noise_correlation must be in \[0, 1\], got 1\.5"),
        ("heavy_noise", {"warmup": 60}, r"warmup \(60\) must be < n_frames \(60\)"),
    ],
)
def test_kind_refuses_bad_parameters(kind: str, kwargs: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        make_scene(kind, n_frames=60, **TINY, **kwargs)


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "baseline"])
def test_kind_refuses_unknown_parameter(kind: str) -> None:
    with pytest.raises(TypeError, match="unexpected keyword argument 'multimodal'"):
        make_scene(kind, n_frames=40, multimodal=False, **TINY)


def test_default_lengths() -> None:
    lengths = {kind: iter_scene(kind, **TINY).n_frames for kind in KINDS}
    assert lengths["intermittent_object"] == 400 and lengths["low_framerate"] == 120
    assert lengths["baseline"] == 300


# --------------------------------------------------------------------------- per-kind properties


def test_dynamic_background_is_multimodal_and_labelled_static() -> None:
    s = make_scene("dynamic_background", height=96, width=128, n_frames=150, seed=7)
    dynamic = s.regions["dynamic"]
    assert (s.regions["water"] | s.regions["foliage"] == dynamic).all()
    assert 0.1 < dynamic.mean() < 0.7
    rng = np.random.default_rng(0)
    for name in ("water", "foliage"):
        ys, xs = np.nonzero(s.regions[name])
        modes = []
        for i in rng.choice(ys.size, size=25, replace=False):
            y, x = ys[i], xs[i]
            static = s.ground_truth[:, y, x] == 0
            assert static.sum() >= 60
            modes.append(_clusters(s.frames[static, y, x]))
        assert np.mean(np.array(modes) >= 2) >= 0.9, (name, modes)
        assert max(modes) >= 3
    # the dynamic region is background: 0 unless an object covers it
    assert set(np.unique(s.ground_truth[:, dynamic]).tolist()) == {0, 255}
    assert (s.ground_truth[: s.warmup][:, dynamic] == 0).all()
    # spatially correlated: neighbouring water pixels mostly agree
    frame = s.frames[5].astype(np.int16)
    water = s.regions["water"]
    same = np.abs(frame[:, 1:] - frame[:, :-1]).max(axis=2) < 20
    assert same[water[:, 1:] & water[:, :-1]].mean() > 0.7
    # objects cross the dynamic region (boats cross the water)
    assert ((s.ground_truth == 255) & s.regions["water"]).any()
    assert len(s.info["boats"]) >= 1


def test_dynamic_background_without_water_or_trees() -> None:
    s = make_scene("dynamic_background", water=0.0, foliage=0, n_frames=40, seed=3, **TINY)
    assert not s.regions["dynamic"].any() and "water" not in s.regions
    assert "boats" not in s.info


def test_camera_jitter_shifts_are_sub_pixel_and_match_phase_correlation() -> None:
    s = make_scene("camera_jitter", height=96, width=128, n_frames=40, seed=3,
                   noise_sigma=0.0)
    shifts = np.asarray(s.info["shifts"])                         # (N, 2) (dx, dy)
    assert np.abs(shifts).max() <= 1.5 and np.abs(shifts).max() > 0.5
    window = cv2.createHanningWindow((128, 96), cv2.CV_64F)
    estimated = []
    for t in range(1, s.warmup):                                  # static scene: no objects yet
        a = cv2.cvtColor(s.frames[t - 1], cv2.COLOR_BGR2GRAY).astype(np.float64)
        b = cv2.cvtColor(s.frames[t], cv2.COLOR_BGR2GRAY).astype(np.float64)
        (ex, ey), _ = cv2.phaseCorrelate(a, b, window)
        estimated.append((ex, ey))
    estimated = np.array(estimated)
    step = shifts[1: s.warmup] - shifts[: s.warmup - 1]
    assert (np.abs(estimated) < 2.0).all()                        # at most 2 px per axis
    assert (np.hypot(*estimated.T) > 0.05).mean() > 0.8           # and it does move
    # frame(x) = world(x + d): the content moves by -(d[t] - d[t-1])
    np.testing.assert_allclose(estimated, -step, atol=0.3)
    assert (np.abs(step) < 2.0).all()


def test_camera_jitter_ground_truth_moves_with_the_scene() -> None:
    """The shaken footprint is the steady one resampled at the frame's shift:
    255 where the bilinear coverage is at least one half."""
    kwargs = {"height": 96, "width": 128, "n_frames": 150, "seed": 5, "noise_sigma": 0.0}
    shaken = make_scene("camera_jitter", **kwargs)
    steady = make_scene("camera_jitter", jitter=0.0, **kwargs)    # same objects, no shake
    assert not np.asarray(steady.info["shifts"]).any()
    shifts = np.asarray(shaken.info["shifts"])
    inner = (slice(3, -3), slice(3, -3))                          # world beyond the frame unknown
    compared = 0
    for t in range(shaken.warmup, shaken.n_frames):
        world = (steady.ground_truth[t] == 255).astype(np.float64)
        if not world.any():
            continue
        dx, dy = shifts[t]
        ix, iy = int(np.floor(dx)), int(np.floor(dy))
        fx, fy = dx - ix, dy - iy
        moved = np.roll(world, (-iy, -ix), axis=(0, 1))
        cover = ((1 - fy) * (1 - fx) * moved + (1 - fy) * fx * np.roll(moved, -1, axis=1)
                 + fy * (1 - fx) * np.roll(moved, -1, axis=0)
                 + fy * fx * np.roll(moved, (-1, -1), axis=(0, 1)))
        expected = cover[inner] >= 0.5
        got = shaken.ground_truth[t][inner] == 255
        near_half = np.abs(cover[inner] - 0.5) < 1e-4             # float32 vs float64 ties
        assert (got == expected)[~near_half].all(), t
        compared += 1
        if (abs(dx) > 0.6 or abs(dy) > 0.6) and world[inner].sum() > 50:   # a visible move
            assert not np.array_equal(got, world[inner] > 0)
    assert compared > 60
    np.testing.assert_array_equal(shaken.ground_truth[: shaken.warmup], 0)


def test_shadow_darkens_background_by_the_factor_with_same_chroma() -> None:
    s = make_scene("shadow", height=96, width=128, n_frames=150, seed=2, noise_sigma=0.0,
                   shadow_factor=0.6)
    background = s.frames[0].astype(np.float64)                  # warm-up frame, no noise
    shadow = s.ground_truth == 50
    assert shadow[s.warmup:].any(axis=(1, 2)).mean() > 0.5
    assert not shadow[: s.warmup].any()
    lit = np.broadcast_to(background, s.frames.shape)[shadow]    # (P, 3)
    dark = s.frames[shadow].astype(np.float64)
    bright = lit.min(axis=1) >= 40                                # rounding matters less there
    assert bright.sum() > 1000
    ratio = dark[bright] / lit[bright]
    assert np.abs(ratio - 0.6).max() < 0.015                      # darker by the factor...
    assert np.abs(ratio - ratio.mean(axis=1, keepdims=True)).max() < 0.015   # ...same chroma
    # every shadow pixel is darker than the background in every channel
    assert (dark <= lit).all() and (dark.sum(axis=1) < lit.sum(axis=1)).all()
    # objects are 255 and never 50; shadows touch their object
    for t in range(s.warmup, s.n_frames, 10):
        if shadow[t].any():
            grown = cv2.dilate((s.ground_truth[t] == 255).astype(np.uint8), np.ones((3, 3)))
            assert (grown.astype(bool) & shadow[t]).any()


def test_shadow_factor_parameter_is_used() -> None:
    s = make_scene("shadow", n_frames=100, seed=2, noise_sigma=0.0, shadow_factor=0.7, **TINY)
    shadow = s.ground_truth == 50
    lit = np.broadcast_to(s.frames[0], s.frames.shape)[shadow].astype(np.float64)
    dark = s.frames[shadow].astype(np.float64)
    ok = lit >= 60
    assert np.median(dark[ok] / lit[ok]) == pytest.approx(0.7, abs=0.01)


def test_illumination_ramp_and_switch() -> None:
    s = make_scene("illumination", height=96, width=128, seed=2, noise_sigma=0.0)
    assert set(np.unique(s.ground_truth).tolist()) == {0, 255}   # lighting is background
    gain = np.asarray(s.info["gain"])
    switch = s.info["switch_frame"]
    assert switch == s.warmup + 120 and s.params["switch_frame"] == switch
    never = (s.ground_truth == 0).all(axis=0)
    region = s.regions["switch"]
    assert 0.15 < region.mean() < 0.5
    outside = s.frames[:, never & ~region].astype(np.float64).mean(axis=(1, 2))
    inside = s.frames[:, never & region].astype(np.float64).mean(axis=(1, 2))
    # the global brightness follows the ramp: 1 until the warm-up ends, 0.6 after 240 frames
    np.testing.assert_allclose(outside / outside[0], gain, atol=0.003)
    assert gain[s.warmup] == 1.0 and gain[s.warmup + 240] == pytest.approx(0.6)
    assert (np.diff(outside) <= 0.01).all() and outside[-1] < 0.65 * outside[0]
    # the light switch: one step, at the stated frame, by switch_gain
    jumps = np.abs(np.diff(inside))
    assert int(np.argmax(jumps)) + 1 == switch
    assert inside[switch] / inside[switch - 1] == pytest.approx(1.6 * gain[switch] / gain[switch - 1],
                                                                rel=0.01)
    assert np.sort(jumps)[-2] < 0.05 * jumps.max()
    assert outside[switch] / outside[switch - 1] == pytest.approx(gain[switch] / gain[switch - 1],
                                                                  rel=0.002)


def test_illumination_whole_frame_switch() -> None:
    s = make_scene("illumination", n_frames=80, seed=1, noise_sigma=0.0, switch_frame=50,
                   switch_gain=0.5, switch_region="frame", ramp_gain=1.0, **TINY)
    assert s.regions["switch"].all()
    never = (s.ground_truth == 0).all(axis=0)
    mean = s.frames[:, never].astype(np.float64).mean(axis=(1, 2))
    assert mean[49] == pytest.approx(mean[0]) and mean[50] == pytest.approx(0.5 * mean[0], rel=0.01)


@pytest.mark.parametrize("traffic", [False, True])
def test_intermittent_object_stays_put_and_stays_labelled(traffic: bool) -> None:
    s = make_scene("intermittent_object", height=96, width=128, seed=1, noise_sigma=0.0,
                   traffic=traffic)
    first, last = s.info["stopped"]
    y0, y1, x0, x1 = s.info["stopped_box"]
    assert last - first + 1 >= s.params["stop_frames"] == 180
    assert s.params["enter_frame"] == s.warmup + 10 < first and last < s.n_frames - 1
    footprint = s.ground_truth[first, y0:y1, x0:x1] == 255
    assert footprint.mean() > 0.5
    box = s.ground_truth[first:last + 1, y0:y1, x0:x1]
    assert (box[:, footprint] == 255).all()                      # a stopped object is motion
    if not traffic:                                               # nothing else passes by
        assert (box == box[0]).all()
        pixels = s.frames[first:last + 1, y0:y1, x0:x1]
        assert (pixels == pixels[0]).all()                        # stationary
        assert not np.array_equal(s.ground_truth[first - 1], s.ground_truth[first])
        assert not np.array_equal(s.ground_truth[last + 1], s.ground_truth[last])
    # in view from enter_frame on, labelled all along
    entered = s.params["enter_frame"]
    assert (s.ground_truth[entered:last + 1] == 255).any(axis=(1, 2)).all()


def test_intermittent_removed_object() -> None:
    s = make_scene("intermittent_object", height=96, width=128, seed=2, noise_sigma=0.0,
                   traffic=False)
    start, gone = s.info["removed"]
    y0, y1, x0, x1 = s.info["removed_box"]
    assert start == s.params["remove_frame"] == s.warmup + 60
    before = s.frames[:start, y0:y1, x0:x1]
    assert (before == before[0]).all()                           # it stood there...
    assert (s.ground_truth[:start, y0:y1, x0:x1] == 0).all()      # ...as background
    assert (s.ground_truth[start, y0:y1, x0:x1] == 255).any()     # then it is moved away
    assert not np.array_equal(s.frames[start + 20, y0:y1, x0:x1], before[0])
    assert gone > start + 20
    quiet = make_scene("intermittent_object", height=96, width=128, seed=2, noise_sigma=0.0,
                       traffic=False, removed_object=False)
    assert quiet.info["removed"] is None
    assert not np.array_equal(quiet.frames[0, y0:y1, x0:x1], before[0])   # nothing stands there
    assert (quiet.ground_truth[start:start + 20, y0:y1, x0:x1] == 0).all()
    np.testing.assert_array_equal(quiet.ground_truth[:, :, : x0 - 1] if x0 > 64 else
                                  quiet.ground_truth[:, :, x1 + 1:],
                                  s.ground_truth[:, :, : x0 - 1] if x0 > 64 else
                                  s.ground_truth[:, :, x1 + 1:])   # the parked car is the same


def test_thermal_frames_are_16_bit_grey() -> None:
    s = make_scene("thermal", height=60, width=80, n_frames=120, seed=5)
    assert s.frames.dtype == np.uint16 and s.frames.shape == (120, 60, 80)
    frame = s.frames[0].astype(np.int64)
    assert frame.max() - frame.min() > 255                        # more than 8 bits of range
    assert 27000 < frame.mean() < 31000
    quiet = (s.ground_truth == 0).all(axis=0)
    sigma = s.frames[:, quiet].astype(np.float64).std(axis=0, ddof=1).mean()
    assert sigma == pytest.approx(8.0, rel=0.06)                  # realistic 16-bit noise
    moving = s.ground_truth == 255
    background = np.broadcast_to(s.frames[: s.warmup].mean(axis=0), s.frames.shape)
    warmer = s.frames[moving].astype(np.float64) - background[moving]
    assert 150 < warmer.mean() < 700                              # warm, low-contrast objects
    # smooth background: neighbours differ little compared with the range
    steps = np.abs(np.diff(s.frames[: s.warmup].mean(axis=0), axis=1))
    assert np.median(steps) < 40


def test_low_framerate_objects_jump() -> None:
    s = make_scene("low_framerate", height=240, width=320, seed=4, object_interval=10.0)
    assert s.fps == 2.0 and s.n_frames == 120 and s.warmup == 20
    objects = s.info["objects"]
    assert all(np.hypot(o["vx"], o["vy"]) >= 20 for o in objects)
    measured = []
    for t in range(s.warmup, s.n_frames - 1):
        alive = [o for o in objects if o["t0"] <= t + 1 and t <= o["t1"]]   # in t or t + 1
        if len(alive) != 1 or not alive[0]["t0"] <= t < alive[0]["t1"]:
            continue
        boxes = []
        for u in (t, t + 1):
            ys, xs = np.nonzero(s.ground_truth[u] == 255)
            if ys.size == 0 or ys.min() == 0 or xs.min() == 0 or ys.max() == 239 or xs.max() == 319:
                break                                             # partly outside the frame
            boxes.append((ys.mean(), xs.mean()))
        if len(boxes) == 2:
            measured.append(np.hypot(boxes[1][0] - boxes[0][0], boxes[1][1] - boxes[0][1]))
    assert len(measured) >= 3
    assert min(measured) >= 20


@pytest.mark.parametrize(("sigma", "rho"), [(10.0, 0.6), (8.0, 0.3), (12.0, 0.8)])
def test_heavy_noise_sigma_and_channel_correlation(sigma: float, rho: float) -> None:
    s = make_scene("heavy_noise", height=60, width=80, n_frames=80, seed=5, noise_sigma=sigma,
                   noise_correlation=rho)
    quiet = (s.ground_truth == 0).all(axis=0)
    assert quiet.sum() > 1000
    pixels = s.frames[:, quiet].astype(np.float64)                # (T, P, 3)
    residual = pixels - pixels.mean(axis=0)
    measured = np.sqrt(residual.var(axis=0, ddof=1).mean(axis=0))   # per channel
    np.testing.assert_allclose(measured, np.sqrt(sigma**2 + 1.0 / 12.0), rtol=0.04)
    corr = np.corrcoef(residual.reshape(-1, 3).T)
    for i, j in ((0, 1), (0, 2), (1, 2)):
        assert corr[i, j] == pytest.approx(rho, abs=0.04)


def test_generation_is_fast() -> None:
    import time

    make_scene("camera_jitter", height=48, width=64, n_frames=31)   # warm the noise table
    start = time.perf_counter()
    for kind in ("camera_jitter", "dynamic_background", "shadow"):
        make_scene(kind, height=240, width=320, n_frames=100, seed=1)
    assert time.perf_counter() - start < 6.0                      # ~1 s each for 300 frames


# --------------------------------------------------------------------------- bundled category clips


def _index() -> dict:
    path = REPO / "videos" / "videos.json"
    if not path.exists():
        pytest.skip("videos/videos.json not generated (run scripts/make_videos.py)")
    return json.loads(path.read_text())


def test_bundled_index_lists_every_kind() -> None:
    index = _index()
    script = _load_script()
    names = [clip["name"] for clip in index["clips"]]
    assert names == ["sample", *script.CATEGORIES]
    assert set(script.CATEGORIES) == set(KINDS) - {"baseline"}
    for clip in index["clips"]:
        for name in (clip["video"], clip["groundtruth"]):
            assert (REPO / "videos" / name).stat().st_size == clip["bytes"][name]


@pytest.mark.parametrize("kind", [k for k in KINDS if k != "baseline"])
def test_bundled_clip_decodes_to_its_scene(kind: str) -> None:
    clips = {clip["name"]: clip for clip in _index()["clips"]}
    script = _load_script()
    clip = clips[kind]
    s = make_scene(**script.clip_params(kind))
    assert clip["params"] == dict(s.params) and clip["kind"] == kind
    assert clip["temporal_roi"] == list(s.temporal_roi) and clip["frames"] == s.n_frames
    assert {int(v) for v in clip["labels"]} == set(np.unique(s.ground_truth).tolist())
    video, truth = (REPO / "videos" / clip["video"], REPO / "videos" / clip["groundtruth"])
    gts = np.stack(list(script.read_video(truth, grey=True)))
    np.testing.assert_array_equal(gts, s.ground_truth)            # labels: lossless
    frames = np.stack(list(script.read_video(video, raw=kind == "thermal")))
    assert frames.shape == s.frames.shape and frames.dtype == s.frames.dtype
    assert script.video_fps(video) == pytest.approx(s.fps)
    if clip["lossless"]:
        np.testing.assert_array_equal(frames, s.frames)
    else:
        error = np.mean((frames.astype(np.float64) - s.frames) ** 2)
        psnr = 10 * np.log10(255.0**2 / error)
        assert psnr == pytest.approx(clip["psnr_db"], abs=0.05) and psnr > 30.0


def test_mjpeg_avi_muxer(tmp_path: Path) -> None:
    script = _load_script()
    rng = np.random.default_rng(0)
    frames = [np.ascontiguousarray(np.repeat(np.repeat(
        rng.integers(0, 256, (6, 8, 3), dtype=np.uint8), 8, axis=0), 8, axis=1))
        for _ in range(7)]
    path = tmp_path / "clip.avi"
    assert script.write_mjpeg(path, frames, (64, 48), 12.5, 95) == 7
    first = path.read_bytes()
    script.write_mjpeg(path, frames, (64, 48), 12.5, 95)
    assert path.read_bytes() == first                              # reproducible bytes
    decoded = list(script.read_video(path))
    assert len(decoded) == 7 and decoded[0].shape == (48, 64, 3)
    assert script.video_fps(path) == pytest.approx(12.5)
    for got, want in zip(decoded, frames):
        assert np.abs(got.astype(int) - want).mean() < 4.0         # 4:4:4: colours stay put
