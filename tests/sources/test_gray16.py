"""16-bit grey video keeps its depth through open_source."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix.sources import VideoFileSource, open_source

VIDEOS = Path(__file__).resolve().parents[2] / "videos"


def _write_gray16(path: Path, frames: np.ndarray, fps: float = 25.0) -> None:
    height, width = frames.shape[1:]
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"), fps,
                             (width, height),
                             [cv2.VIDEOWRITER_PROP_DEPTH, cv2.CV_16U,
                              cv2.VIDEOWRITER_PROP_IS_COLOR, 0])
    if not writer.isOpened():
        pytest.skip("this OpenCV cannot write 16-bit FFV1")
    for frame in frames:
        writer.write(frame)
    writer.release()


def test_gray16_ffv1_round_trip(tmp_path: Path) -> None:
    rng = np.random.default_rng(0)
    frames = rng.integers(0, 65536, size=(6, 48, 64), dtype=np.uint16)
    frames[:, 0, 0] = 65535  # values beyond 8 bits for sure
    path = tmp_path / "gray16.mkv"
    _write_gray16(path, frames)
    with open_source(path) as source:
        assert isinstance(source, VideoFileSource)
        assert source.frame_size == (64, 48)
        got = list(source)
    assert len(got) == len(frames)
    for written, read in zip(frames, got):
        assert read.dtype == np.uint16
        assert read.shape == (48, 64)
        np.testing.assert_array_equal(read, written)


def test_8bit_video_still_bgr_uint8(tmp_path: Path) -> None:
    path = tmp_path / "bgr.mkv"
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 25, (64, 48))
    frames = [np.full((48, 64, 3), (10 * i, 20 * i, 30 * i), np.uint8) for i in range(3)]
    for frame in frames:
        writer.write(frame)
    writer.release()
    with open_source(path) as source:
        got = list(source)
    assert [f.dtype for f in got] == [np.uint8] * 3
    assert [f.shape for f in got] == [(48, 64, 3)] * 3
    for written, read in zip(frames, got):
        np.testing.assert_array_equal(read, written)


def test_8bit_grey_video_still_bgr_uint8(tmp_path: Path) -> None:
    path = tmp_path / "grey8.mkv"
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"), 25,
                             (64, 48), False)
    for i in range(2):
        writer.write(np.full((48, 64), 40 * i, np.uint8))
    writer.release()
    with open_source(path) as source:
        got = list(source)
    assert [(f.dtype, f.shape) for f in got] == [(np.dtype(np.uint8), (48, 64, 3))] * 2
    assert int(got[1][0, 0, 0]) == 40


@pytest.mark.skipif(not (VIDEOS / "thermal.mkv").exists(), reason="videos/thermal.mkv absent")
def test_bundled_thermal_clip_reads_as_uint16() -> None:
    with open_source(VIDEOS / "thermal.mkv") as source:
        width, height = source.frame_size
        frame = next(source)
    assert frame.dtype == np.uint16
    assert frame.shape == (height, width)
    assert int(frame.max()) > 255
