"""bgmix.compat's MOG2 against OpenCV's, with identical parameters: bit for bit.

Every mask pixel of every frame must agree, and so must the background
image: the ``"mog2"`` preset computes OpenCV's float32 operations and its
weight arithmetic (no renormalisation when a full mixture replaces its
weakest component).
"""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix.compat import createBackgroundSubtractorMOG2
from bgmix.synth import make_scene

SHARED = Path(__file__).resolve().parents[1].parent / "shared" / "data"
CDNET = SHARED / "cdnet2014" / "baseline"
CLIPS = SHARED / "videos"


def assert_identical(frames, rates=None, setup=None, **params):
    """Run both on ``frames``; assert identical masks on every frame, and background images."""
    ours = createBackgroundSubtractorMOG2(**params)
    theirs = cv2.createBackgroundSubtractorMOG2(**params)
    if setup is not None:
        setup(ours)
        setup(theirs)
    n_frames = 0
    for t, frame in enumerate(frames):
        rate = -1 if rates is None else rates(t)
        a = ours.apply(frame, learningRate=rate)
        b = theirs.apply(frame, learningRate=rate)
        if not np.array_equal(a, b):
            y, x = np.argwhere(a != b)[0]
            pytest.fail(f"frame {t}: {int((a != b).sum())} pixels differ, the first at row {y}, "
                        f"column {x} (bgmix {a[y, x]}, OpenCV {b[y, x]})")
        n_frames += 1
    if ours.model.frame_shape_[2] == 3:
        np.testing.assert_array_equal(ours.getBackgroundImage(), theirs.getBackgroundImage())
    return ours, n_frames


@pytest.mark.parametrize("detect_shadows", [True, False])
def test_synthetic_scene_matches_opencv(detect_shadows):
    scene = make_scene("baseline", height=120, width=160, n_frames=320, seed=4)
    assert scene.ground_truth[scene.warmup:].max() == 255  # objects really move
    assert scene.regions["multimodal"].any()
    assert_identical(scene.frames, detectShadows=detect_shadows)


def test_jitter_scene_with_full_mixtures_matches_opencv():
    # Camera shake over a textured scene gives pixels more colours than
    # components: many mixtures reach capacity and replace their weakest
    # component, where OpenCV's weights stop summing to 1 (and bgmix's
    # native presets renormalise).
    scene = make_scene("camera_jitter", height=96, width=128, n_frames=300, seed=2)

    def three_components(sub):
        sub.setNMixtures(3)

    ours, _ = assert_identical(scene.frames, setup=three_components)
    model = ours.model
    full = model.n_components_ == 3
    assert full.mean() > 0.2, f"only {full.mean():.1%} of the mixtures are full"
    sums = model.weights_.sum(axis=0)
    assert (sums[full] < 1 - 1e-4).any(), "no replaced weight left the sum short of 1 (untested)"


def test_grey_frames_custom_parameters_and_rates_match_opencv():
    scene = make_scene("baseline", height=96, width=128, n_frames=300, seed=9)
    grey = [cv2.cvtColor(f, cv2.COLOR_BGR2GRAY) for f in scene.frames]

    def setup(sub):
        sub.setNMixtures(3)
        sub.setBackgroundRatio(0.8)
        sub.setComplexityReductionThreshold(0.1)

    assert_identical(grey, rates=lambda t: 0.01 if t % 50 == 49 else -1, setup=setup,
                     history=100, varThreshold=25, detectShadows=True)


@pytest.mark.parametrize("sequence", ["highway", "office", "pedestrians"])
def test_cdnet_sequences_match_opencv(sequence):
    folder = CDNET / sequence / "input"
    if not folder.is_dir():
        pytest.skip(f"{folder} is not available (../shared is absent)")
    paths = sorted(folder.glob("in*.jpg"))
    _, n_frames = assert_identical(cv2.imread(str(p)) for p in paths)
    assert n_frames == len(paths) > 1000


def test_real_jitter_clip_matches_opencv():
    path = CLIPS / "motorway_320x240.avi"
    if not path.is_file():
        pytest.skip(f"{path} is not available (../shared is absent)")
    capture = cv2.VideoCapture(str(path))

    def frames():
        while True:
            ok, frame = capture.read()
            if not ok:
                return
            yield frame

    _, n_frames = assert_identical(frames())
    assert n_frames > 500


def test_compat_reinitialises_on_size_change_like_opencv():
    ours = createBackgroundSubtractorMOG2()
    theirs = cv2.createBackgroundSubtractorMOG2()
    rng = np.random.default_rng(0)
    for shape in [(20, 30, 3), (20, 30, 3), (10, 12, 3), (10, 12, 3), (10, 12)]:
        frame = rng.integers(0, 256, shape, dtype=np.uint8)
        np.testing.assert_array_equal(ours.apply(frame), theirs.apply(frame))


def test_compat_getters_and_setters_round_trip():
    mog = createBackgroundSubtractorMOG2(history=300, varThreshold=20, detectShadows=False)
    assert (mog.getHistory(), mog.getVarThreshold(), mog.getDetectShadows()) == (300, 20.0, False)
    pairs = {
        "History": 123, "NMixtures": 3, "BackgroundRatio": 0.7, "VarThreshold": 30.0,
        "VarThresholdGen": 7.0, "VarInit": 12.0, "VarMin": 3.0, "VarMax": 60.0,
        "ComplexityReductionThreshold": 0.02, "DetectShadows": True, "ShadowValue": 100,
        "ShadowThreshold": 0.6,
    }
    for name, value in pairs.items():
        getattr(mog, f"set{name}")(value)
        assert getattr(mog, f"get{name}")() == value, name
    assert mog.empty()
    mog.apply(np.zeros((4, 4, 3), np.uint8))
    assert not mog.empty()
    mog.clear()
    assert mog.empty()
