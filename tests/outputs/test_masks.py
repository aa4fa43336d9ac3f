"""Mask writers (bgmix.outputs.masks): FFV1 videos and CDnet-named PNGs, exact and atomic."""

from __future__ import annotations

import os
from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix.outputs.masks import MaskVideoWriter, PngMaskWriter, open_mask_sink
from bgmix.sources import open_source
from tests.media import read_video

W, H = 40, 24


# ------------------------------------------------------------------ sinks
def random_masks(n: int, seed: int = 1) -> np.ndarray:
    rng = np.random.default_rng(seed)
    return rng.choice(np.array([0, 127, 255], np.uint8), size=(n, H, W))


def test_mask_video_round_trip_exact_and_atomic(tmp_path: Path):
    masks = random_masks(8)
    path = tmp_path / "out" / "masks.mkv"
    sink = MaskVideoWriter(path, fps=25, frame_size=(W, H))
    for mask in masks:
        sink.write(mask)
        assert not path.exists()  # nothing under the final name before close()
    hidden = [p for p in path.parent.iterdir() if p.name.startswith(".masks.mkv.")]
    assert len(hidden) == 1
    sink.close()
    assert sorted(p.name for p in path.parent.iterdir()) == ["masks.mkv"]  # temp file gone
    assert sink.n_written == 8
    got = read_video(path)
    assert len(got) == 8
    for frame, mask in zip(got, masks):
        grey = frame[:, :, 0] if frame.ndim == 3 else frame  # OpenCV may give 3 equal channels
        if frame.ndim == 3:
            assert (frame == grey[:, :, None]).all()
        np.testing.assert_array_equal(grey, mask)
    sink.close()  # idempotent


def test_mask_video_reads_back_through_open_source(tmp_path: Path):
    masks = random_masks(5)
    path = tmp_path / "masks.mkv"
    with open_mask_sink(path, kind="mkv", fps=10) as sink:  # size from the first mask
        for mask in masks:
            sink.write(mask[:, :, None])  # (H, W, 1) is accepted too
    with open_source(path) as source:
        assert source.fps == pytest.approx(10)
        got = [frame[:, :, 0] for frame in source]
    np.testing.assert_array_equal(np.stack(got), masks)


def test_mask_video_exception_in_with_block_leaves_nothing(tmp_path: Path):
    path = tmp_path / "masks.mkv"
    with pytest.raises(RuntimeError, match="boom"):
        with MaskVideoWriter(path, fps=25) as sink:
            sink.write(random_masks(1)[0])
            raise RuntimeError("boom")
    assert list(tmp_path.iterdir()) == []


def test_mask_video_abort_and_empty_close_leave_nothing(tmp_path: Path):
    sink = MaskVideoWriter(tmp_path / "a.mkv", fps=25, frame_size=(W, H))
    sink.write(random_masks(1)[0])
    sink.abort()
    MaskVideoWriter(tmp_path / "b.mkv", fps=25, frame_size=(W, H)).close()
    assert list(tmp_path.iterdir()) == []


def test_mask_video_checks_masks(tmp_path: Path):
    with MaskVideoWriter(tmp_path / "m.mkv", fps=25, frame_size=(W, H)) as sink:
        with pytest.raises(ValueError, match=r"mask is 10x5 but the sink was opened for 40x24"):
            sink.write(np.zeros((5, 10), np.uint8))
        with pytest.raises(ValueError, match="uint8 or bool"):
            sink.write(np.zeros((H, W), np.float32))
        sink.write(np.ones((H, W), bool))
    (frame,) = read_video(tmp_path / "m.mkv")
    assert (frame == 255).all()
    with pytest.raises(ValueError, match="fps must be a positive number"):
        MaskVideoWriter(tmp_path / "x.mkv", fps=0)


def test_png_sink_round_trip_exact_and_atomic(tmp_path: Path):
    masks = random_masks(3)
    folder = tmp_path / "masks"
    sink = PngMaskWriter(folder)
    for i, mask in enumerate(masks, start=1):
        sink.write(mask)
        names = sorted(os.listdir(folder))
        assert names == [f"bin{j:06d}.png" for j in range(1, i + 1)]  # no temp file left
        written = cv2.imread(str(folder / names[-1]), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(written, mask)  # each completed file is valid
    sink.close()
    assert sink.n_written == 3


def test_png_sink_start_index_and_factory(tmp_path: Path):
    with PngMaskWriter(tmp_path, start_index=470) as sink:
        sink.write(np.zeros((H, W), np.uint8))
    assert os.listdir(tmp_path) == ["bin000470.png"]
    sink = open_mask_sink(tmp_path / "p", kind="png", frame_size=(W, H))
    assert isinstance(sink, PngMaskWriter)
    with pytest.raises(ValueError, match="mask is 4x4"):
        sink.write(np.zeros((4, 4), np.uint8))
    with pytest.raises(ValueError, match="unknown mask sink kind 'avi'"):
        open_mask_sink(tmp_path / "q", kind="avi")  # type: ignore[arg-type]
