"""Bad input to sources: each gives one clear line naming the file or frame.

Every file here is real: videos written by OpenCV's FFmpeg writer, then cut
or overwritten with noise, and decoded by the same FFmpeg as a user's.
"""

from __future__ import annotations

import os
import warnings
from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix.errors import DecodeWarning
from bgmix.outputs.masks import PngMaskWriter
from bgmix.pipeline import process
from bgmix.sources import LiveSource, VideoFileSource, open_source
from tests.media import bgmix_threads, random_frames, read_video, wait_for, write_video

W, H = 64, 48
N_FRAMES = 40


def noisy_frames(n: int = N_FRAMES, seed: int = 0) -> np.ndarray:
    return random_frames(n, H, W, seed=seed)


def no_reader_left(timeout: float = 2.0) -> bool:
    return wait_for(lambda: not bgmix_threads("bgmix-reader", "bgmix-live"), timeout)


def test_path_that_does_not_exist(tmp_path: Path):
    missing = tmp_path / "no_such_clip.mkv"
    with pytest.raises(FileNotFoundError, match=r"^no such file or folder: .*no_such_clip\.mkv$"):
        open_source(missing)
    with pytest.raises(FileNotFoundError, match=r"no_such_clip\.mkv"):
        process(str(missing))
    with pytest.raises(FileNotFoundError, match=r"^video not found: .*no_such_clip\.mkv$"):
        VideoFileSource(missing)


def test_folder_with_no_images(tmp_path: Path):
    folder = tmp_path / "input"
    folder.mkdir()
    (folder / "notes.txt").write_text("not an image")
    (folder / ".hidden.png").write_bytes(b"")
    with pytest.raises(ValueError, match=r"^no images \(.*\.png.*\) in folder .*input$"):
        open_source(folder)


def test_file_that_is_not_a_video(tmp_path: Path):
    path = tmp_path / "notes.mp4"
    path.write_text("these are meeting notes, not a video\n" * 20)
    with pytest.raises(ValueError, match=r"^cannot open .*notes\.mp4 as a video"):
        open_source(path)
    assert no_reader_left()


def test_zero_length_video(tmp_path: Path):
    path = tmp_path / "empty.mkv"
    path.write_bytes(b"")
    with pytest.raises(ValueError, match=r"^video file is empty \(0 bytes\): .*empty\.mkv$"):
        open_source(path)


# --------------------------------------------- truncated and corrupted videos
@pytest.mark.parametrize("fourcc, suffix", [("MJPG", ".avi"), ("FFV1", ".mkv")])
def test_video_truncated_mid_file_keeps_what_decodes_and_warns(tmp_path: Path, fourcc, suffix):
    full = write_video(tmp_path / f"full{suffix}", fourcc=fourcc, frames=noisy_frames())
    data = full.read_bytes()
    cut = tmp_path / f"cut{suffix}"
    cut.write_bytes(data[:len(data) // 2])
    expected = read_video(cut)
    assert 0 < len(expected) < N_FRAMES  # the premise: FFmpeg decodes the first half

    with pytest.warns(DecodeWarning) as caught:
        with open_source(cut) as source:
            assert source.n_frames == N_FRAMES  # what the container's header announces
            frames = list(source)
    assert len(caught) == 1
    message = str(caught[0].message)
    assert f"stopped at frame {len(expected)} of the {N_FRAMES}" in message
    assert str(cut) in message and "\n" not in message
    assert len(frames) == len(expected)
    assert all(np.array_equal(a, b) for a, b in zip(frames, expected))
    assert no_reader_left()


def test_video_with_corrupted_bytes_keeps_what_decodes_and_warns(tmp_path: Path):
    path = write_video(tmp_path / "corrupt.avi", fourcc="MJPG", frames=noisy_frames())
    data = bytearray(path.read_bytes())
    middle = len(data) // 2
    data[middle:middle + 2000] = np.random.default_rng(7).integers(0, 256, 2000, np.uint8).tobytes()
    path.write_bytes(bytes(data))
    expected = read_video(path)
    assert 0 < len(expected) < N_FRAMES

    with pytest.warns(DecodeWarning, match=rf"corrupt\.avi: decoding stopped at frame {len(expected)} "):
        frames = list(open_source(path))
    assert len(frames) == len(expected)


def test_truncated_video_through_the_pipeline_keeps_every_mask(tmp_path: Path):
    full = write_video(tmp_path / "full.avi", fourcc="MJPG", frames=noisy_frames())
    data = full.read_bytes()
    cut = tmp_path / "cut.avi"
    cut.write_bytes(data[:len(data) // 2])
    n_decodable = len(read_video(cut))
    out = tmp_path / "masks"
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with process(cut, blobs=False) as results, PngMaskWriter(out) as sink:
            for result in results:
                sink.write(result.mask)
        stats = results.stats
    assert [w.category for w in caught] == [DecodeWarning]
    assert stats.frames_processed == n_decodable
    assert sorted(os.listdir(out)) == [f"bin{i:06d}.png" for i in range(1, n_decodable + 1)]


def test_complete_video_gives_no_warning(tmp_path: Path):
    path = write_video(tmp_path / "fine.avi", fourcc="MJPG", frames=noisy_frames(10))
    with warnings.catch_warnings():
        warnings.simplefilter("error", DecodeWarning)
        assert len(list(open_source(path))) == 10


# ----------------------------------------------------------------- cameras
@pytest.mark.parametrize("index", [97, "97"])
def test_camera_index_that_is_absent(index):
    if cv2.VideoCapture(97).isOpened():  # pragma: no cover - a machine with 98 cameras
        pytest.skip("this machine has a camera 97")
    with pytest.raises(ValueError, match=r"^cannot open camera 97: no camera with this index"):
        open_source(index)
    assert no_reader_left()


@pytest.mark.parametrize("kwargs, message", [
    ({"reconnect_delay": 0}, r"reconnect_delay must be a number of seconds > 0, got 0"),
    ({"reconnect_delay": 2.0, "reconnect_max_delay": 1.0}, r"reconnect_max_delay \(1.0\) must be >= reconnect_delay \(2.0\)"),
    ({"reconnect_attempts": -1}, r"reconnect_attempts must be an integer >= 0, got -1"),
    ({"reconnect_attempts": 2.5}, r"reconnect_attempts must be an integer >= 0, got 2.5"),
    ({"read_timeout": float("nan")}, r"read_timeout must be a number of seconds > 0, got nan"),
])
def test_live_source_parameters_are_checked_before_opening(kwargs, message):
    with pytest.raises(ValueError, match=message):
        LiveSource(97, **kwargs)


def test_negative_camera_index():
    with pytest.raises(ValueError, match=r"camera index must be >= 0, got -1"):
        open_source(-1)


# --------------------------------------- frames that change mid-stream
def color(height: int = H, width: int = W, dtype=np.uint8) -> np.ndarray:
    return np.full((height, width, 3), 100, dtype)


@pytest.mark.parametrize("odd_frame, described", [
    (color(24, 32), "32x24 uint8 with 3 channels"),
    (color(dtype=np.uint16), "64x48 uint16 with 3 channels"),
    (np.full((H, W), 100, np.uint8), "64x48 uint8 with 1 channel"),
])
def test_frame_that_changes_size_dtype_or_channels_mid_stream(odd_frame, described):
    frames = [color() for _ in range(3)] + [odd_frame] + [color()]
    with process(iter(frames), blobs=False) as results:
        assert len([next(results) for _ in range(3)]) == 3
        with pytest.raises(ValueError) as info:
            next(results)
        assert results.source.closed
    assert str(info.value) == (
        f"<iterable>: frame 3 is {described} but the stream started with 64x48 uint8 with "
        "3 channels; every frame must have the same size, dtype and channel count")


def test_image_folder_that_changes_channels_or_depth_names_the_frame(tmp_path: Path):
    folder = tmp_path / "street" / "input"
    folder.mkdir(parents=True)
    for i in range(1, 4):
        cv2.imwrite(str(folder / f"in{i:06d}.png"), color())
    cv2.imwrite(str(folder / "in000004.png"), np.full((H, W), 7, np.uint8))  # grey
    with pytest.raises(ValueError, match=r"^street: frame 3 is 64x48 uint8 with 1 channel but"):
        list(process(folder, blobs=False))
    cv2.imwrite(str(folder / "in000004.png"), color(dtype=np.uint16))  # 16-bit
    with pytest.raises(ValueError, match=r"^street: frame 3 is 64x48 uint16 with 3 channels but"):
        list(process(folder, blobs=False))


def test_learning_rate_one_reinitialises_on_a_changed_frame():
    frames = [color(), color(), color(24, 32)]
    results = list(process(frames, learning_rate=1.0, blobs=False))
    assert [r.mask.shape for r in results] == [(H, W), (H, W), (24, 32)]


def test_a_frame_that_is_not_an_array_names_its_index():
    frames = [color(), color(), "not a frame"]
    with pytest.raises(ValueError, match=r"^<iterable>: frame 2 is a str"):
        list(process(iter(frames), blobs=False))
