"""Overlay and background videos (bgmix.outputs.videos)."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix import BackgroundMixture
from bgmix.blobs import find_blobs
from bgmix.outputs.videos import (BOX_COLOUR, FOREGROUND_TINT, SHADOW_TINT,
                                  BackgroundVideoWriter, OverlayVideoWriter, render_overlay,
                                  to_display)
from tests.media import read_video
from tests.mixtures import plain_mixture

H, W = 48, 64


def reference_overlay(frame: np.ndarray, mask: np.ndarray, boxes: list, alpha: float) -> np.ndarray:
    """Tint and boxes pixel by pixel, in plain Python."""
    out = frame.astype(np.float64).copy()
    for y in range(mask.shape[0]):
        for x in range(mask.shape[1]):
            if mask[y, x] == 255:
                out[y, x] = out[y, x] * (1 - alpha) + np.array(FOREGROUND_TINT) * alpha
            elif mask[y, x] > 0:
                out[y, x] = out[y, x] * (1 - alpha) + np.array(SHADOW_TINT) * alpha
    out = np.rint(out).astype(np.uint8)
    for x1, y1, x2, y2 in boxes:
        for x in range(x1, x2):
            out[y1, x] = out[y2 - 1, x] = BOX_COLOUR
        for y in range(y1, y2):
            out[y, x1] = out[y, x2 - 1] = BOX_COLOUR
    return out


def test_render_overlay_matches_the_reference():
    rng = np.random.default_rng(1)
    frame = rng.integers(0, 256, (H, W, 3), dtype=np.uint8)
    mask = np.zeros((H, W), np.uint8)
    mask[5:15, 10:30] = 255
    mask[30:40, 40:44] = 127
    mask[20:22, 50:60] = 255
    blobs = find_blobs(mask)
    for alpha in (0.5, 0.3):
        expected = reference_overlay(frame, mask, blobs.boxes.tolist(), alpha)
        np.testing.assert_array_equal(render_overlay(frame, mask, blobs, alpha=alpha), expected)
    untouched = render_overlay(frame, np.zeros((H, W), np.uint8))
    np.testing.assert_array_equal(untouched, frame)
    assert untouched is not frame  # the caller's frame is never drawn on
    np.testing.assert_array_equal(render_overlay(frame, mask), reference_overlay(frame, mask, [], 0.5))


def test_to_display_converts_depths_and_channels():
    grey = np.arange(12, dtype=np.uint8).reshape(3, 4)
    assert to_display(grey).shape == (3, 4, 3)
    np.testing.assert_array_equal(to_display(grey)[:, :, 2], grey)
    thermal = np.array([[1000, 1000], [3000, 5000]], np.uint16)
    np.testing.assert_array_equal(to_display(thermal)[:, :, 0], [[0, 0], [128, 255]])
    assert to_display(np.full((2, 2), 7, np.uint16)).max() == 0  # flat: no division by zero
    np.testing.assert_array_equal(to_display(np.array([[-5.0, 300.0]], np.float32))[0, :, 0],
                                  [0, 255])
    with pytest.raises(ValueError, match="dtype int32"):
        to_display(np.zeros((2, 2), np.int32))
    with pytest.raises(ValueError, match="1, 3 or 4 channels, got 2"):
        to_display(np.zeros((2, 2, 2), np.uint8))
    with pytest.raises(ValueError, match=r"\(H, W\) = \(48, 64\)"):
        render_overlay(np.zeros((H, W, 3), np.uint8), np.zeros((H, W - 1), np.uint8))


@pytest.mark.parametrize("name", ["overlay.mp4", "overlay.avi", "overlay.mkv"])
def test_overlay_video_is_renamed_on_close_and_readable(tmp_path: Path, name: str):
    path = tmp_path / "sub" / name
    mask = np.zeros((H, W), np.uint8)
    mask[10:20, 10:30] = 255
    sink = OverlayVideoWriter(path, fps=20)
    for i in range(7):
        sink.write(np.full((H, W, 3), 30 * i, np.uint8), mask, find_blobs(mask))
    assert not path.exists()
    hidden = [p.name for p in path.parent.iterdir()]
    assert len(hidden) == 1 and hidden[0].startswith(f".{name}.") and hidden[0].endswith(
        Path(name).suffix)
    sink.close()
    sink.close()  # idempotent
    assert sorted(p.name for p in path.parent.iterdir()) == [name]
    frames = read_video(path)
    assert len(frames) == 7 and frames[0].shape == (H, W, 3)
    capture = cv2.VideoCapture(str(path))
    assert capture.get(cv2.CAP_PROP_FPS) == pytest.approx(20)
    # lossy codecs: the tint and the box are still where they belong
    last = frames[-1].astype(int)
    assert last[15, 20, 2] > last[15, 20, 0] + 60  # red-tinted foreground
    assert last[10, 10, 1] > 150 and last[10, 10, 0] < 100  # green box corner
    assert abs(last[40, 50] - 180).max() < 12  # background left as it was


def test_overlay_abort_and_errors(tmp_path: Path):
    mask = np.zeros((H, W), np.uint8)
    with pytest.raises(RuntimeError, match="stop"):
        with OverlayVideoWriter(tmp_path / "a.mp4", fps=25) as sink:
            sink.write(np.zeros((H, W, 3), np.uint8), mask)
            raise RuntimeError("stop")
    assert list(tmp_path.iterdir()) == []  # aborted: temporary file removed
    OverlayVideoWriter(tmp_path / "empty.mp4", fps=25).close()
    assert list(tmp_path.iterdir()) == []  # nothing written: no file
    with pytest.raises(ValueError, match=r"must end in \.mp4, \.avi, \.mkv, got '\.txt'"):
        OverlayVideoWriter(tmp_path / "x.txt", fps=25)
    with pytest.raises(ValueError, match="fps must be a positive number"):
        OverlayVideoWriter(tmp_path / "x.mp4", fps=0)
    sink = OverlayVideoWriter(tmp_path / "x.mp4", fps=25)
    sink.write(np.zeros((H, W, 3), np.uint8), mask)
    with pytest.raises(ValueError, match=r"frame 1 is 32x48 but the video was opened for 64x48"):
        sink.write(np.zeros((H, 32, 3), np.uint8), np.zeros((H, 32), np.uint8))
    sink.close()
    assert len(read_video(tmp_path / "x.mp4")) == 1
    with pytest.raises(ValueError, match="closed"):
        sink.write(np.zeros((H, W, 3), np.uint8), mask)


def test_background_video_every_n_frames(tmp_path: Path):
    # smooth, so that Motion JPEG keeps it well
    yy, xx = np.mgrid[0:H, 0:W]
    scene = np.stack([40 + 2 * xx, 60 + 2 * yy, 120 + xx + yy], axis=2).astype(np.uint8)
    model = plain_mixture()
    path = tmp_path / "background.mkv"
    expected = []
    with BackgroundVideoWriter(path, fps=30, every=3) as sink:
        for i in range(10):
            frame = scene.copy()
            frame[10:20, 5 * i:5 * i + 8] = 255  # a moving object the background must not keep
            model.apply(frame)
            if i % 3 == 0:
                expected.append(model.background_image())
            sink.write(model)
    assert sink.n_calls == 10 and sink.n_written == 4
    frames = read_video(path)
    assert len(frames) == 4 and frames[0].shape == (H, W, 3)
    assert cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FPS) == pytest.approx(10)
    for got, want in zip(frames, expected):
        assert np.abs(got.astype(int) - want.astype(int)).mean() < 4  # Motion JPEG is lossy
    with pytest.raises(ValueError, match="every must be an integer >= 1"):
        BackgroundVideoWriter(tmp_path / "b.mp4", fps=25, every=0)


def test_background_of_grey_16bit_frames(tmp_path: Path):
    model = plain_mixture()
    frame = np.tile(np.linspace(1000, 9000, W).astype(np.uint16), (H, 1))
    path = tmp_path / "thermal_background.avi"
    with BackgroundVideoWriter(path, fps=25) as sink:
        for _ in range(3):
            model.apply(frame)
            sink.write(model)
    (image,) = read_video(path)[:1]
    row = image[H // 2, :, 0].astype(int)
    assert row[0] < 10 and row[-1] > 245 and (np.diff(row) >= -3).all()  # stretched, increasing


_KILLED_WRITER = """
import sys, numpy as np
from bgmix.sinks import OverlayVideoWriter
sink = OverlayVideoWriter(sys.argv[1], fps=25)
mask = np.zeros((48, 64), np.uint8)
rng = np.random.default_rng(0)
for i in range(100000):
    frame = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)  # noise: big JPEG frames
    frame[:16, :16] = (i * 10) % 250
    sink.write(frame, mask)
"""


@pytest.mark.parametrize("name", ["overlay.mkv", "overlay.avi"])
def test_killed_writer_leaves_its_frames_readable(tmp_path: Path, name: str):
    """SIGKILL (no chance to close): the hidden file holds the frames FFmpeg flushed."""
    path = tmp_path / name
    child = subprocess.Popen([sys.executable, "-c", _KILLED_WRITER, str(path)])
    try:
        deadline = time.monotonic() + 60
        size = 0
        while size < 600_000 and time.monotonic() < deadline and child.poll() is None:
            time.sleep(0.02)
            size = sum(p.stat().st_size for p in tmp_path.iterdir())
        os.kill(child.pid, signal.SIGKILL)
    finally:
        child.wait(timeout=30)
    assert size >= 600_000
    assert not path.exists()
    (hidden,) = tmp_path.iterdir()
    assert hidden.name.startswith(f".{name}.")
    frames = read_video(hidden)
    assert len(frames) >= 20
    marks = [int(np.median(f[2:14, 2:14])) for f in frames]
    assert marks == pytest.approx([(i * 10) % 250 for i in range(len(frames))], abs=6)
