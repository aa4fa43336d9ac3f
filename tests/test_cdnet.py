"""The CDnet layout (bgmix.cdnet): sequences written by write_cdnet read back exactly."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix.cdnet import write_cdnet
from bgmix.synth import Scene, iter_scene, make_scene
from tests.media import read_image


def test_write_cdnet_reads_back_exactly(tmp_path: Path) -> None:
    s = make_scene(seed=2, height=48, width=64, n_frames=40)
    folder = write_cdnet(s, tmp_path / "baseline")
    inputs = sorted((folder / "input").iterdir())
    truths = sorted((folder / "groundtruth").iterdir())
    assert [p.name for p in inputs] == [f"in{i:06d}.png" for i in range(1, 41)]
    assert [p.name for p in truths] == [f"gt{i:06d}.png" for i in range(1, 41)]
    for t in range(40):
        np.testing.assert_array_equal(read_image(inputs[t]), s.frames[t])
        np.testing.assert_array_equal(read_image(truths[t]), s.ground_truth[t])
    roi = read_image(folder / "ROI.bmp", cv2.IMREAD_GRAYSCALE)
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
    np.testing.assert_array_equal(read_image(folder / "ROI.bmp", cv2.IMREAD_GRAYSCALE),
                                  np.where(roi, 255, 0))
    assert (folder / "temporalROI.txt").read_text().split() == ["3", "6"]
    # a shorter sequence written as plain (frame, gt) pairs replaces the longer one
    grey = frames[:4, :, :, 0]
    write_cdnet(zip(grey, gt[:4]), folder)
    assert len(list((folder / "input").iterdir())) == 4
    assert len(list((folder / "groundtruth").iterdir())) == 4
    np.testing.assert_array_equal(read_image(folder / "input" / "in000004.png"), grey[3])
    assert (folder / "temporalROI.txt").read_text().split() == ["1", "4"]
    assert (read_image(folder / "ROI.bmp", cv2.IMREAD_GRAYSCALE) == 255).all()


def test_write_cdnet_uint16_frames(tmp_path: Path) -> None:
    frames = (np.arange(2 * 8 * 8, dtype=np.uint16).reshape(2, 8, 8) * 997)
    gt = np.zeros((2, 8, 8), np.uint8)
    folder = write_cdnet(zip(frames, gt), tmp_path / "thermal")
    back = read_image(folder / "input" / "in000002.png")
    assert back.dtype == np.uint16
    np.testing.assert_array_equal(back, frames[1])


def test_write_cdnet_refuses_bad_input(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="no frames"):
        write_cdnet([], tmp_path / "empty")
    bad = [(np.zeros((4, 4, 3), np.float32), np.zeros((4, 4), np.uint8))]
    with pytest.raises(ValueError, match=r"frame 1: expected uint8/uint16 .*dtype float32"):
        write_cdnet(bad, tmp_path / "float")
    mismatch = [(np.zeros((4, 4, 3), np.uint8), np.zeros((4, 5), np.uint8))]
    with pytest.raises(ValueError, match=r"frame 1: .*ground truth \(4, 5\) uint8 must be \(H, W\) = \(4, 4\)"):
        write_cdnet(mismatch, tmp_path / "size")
