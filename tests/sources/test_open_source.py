"""Frame sources (bgmix.sources): arrays, iterables, image folders and globs, video files and their reader thread."""

from __future__ import annotations

import gc
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix.sources import (
    ArraySource,
    FrameSource,
    ImageSequenceSource,
    IterableSource,
    VideoFileSource,
    open_source,
)
from tests import media
from tests.media import bgmix_threads, wait_for, write_pngs, write_video

W, H = 40, 24


def random_frames(n: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    return media.random_frames(n, H, W, channels, seed)


@pytest.fixture
def clip(tmp_path: Path) -> tuple[Path, np.ndarray]:
    frames = random_frames(12)
    return write_video(tmp_path / "clip.mkv", frames, fps=30), frames


# --------------------------------------------------------------- sources
def test_array_source_yields_each_frame_with_metadata():
    frames = random_frames(5)
    with open_source(frames, fps=12) as source:
        assert isinstance(source, ArraySource)
        assert (source.n_frames, source.fps, source.frame_size) == (5, 12, (W, H))
        got = list(source)
    assert len(got) == 5
    for a, b in zip(got, frames):
        np.testing.assert_array_equal(a, b)


def test_array_source_grey_and_bad_shape():
    grey = random_frames(3, channels=1)
    assert [f.shape for f in open_source(grey)] == [(H, W)] * 3
    with pytest.raises(ValueError, match=r"\(N, H, W\).*got shape \(24, 40\)"):
        open_source(grey[0])


def test_array_source_stops_after_close():
    source = open_source(random_frames(4))
    next(source)
    source.close()
    assert list(source) == []


def test_generator_source_peeks_without_losing_a_frame():
    frames = random_frames(4)
    source = open_source(f for f in frames)
    assert isinstance(source, IterableSource)
    assert source.n_frames is None and source.fps is None
    assert source.frame_size == (W, H)
    got = list(source)
    assert len(got) == 4
    np.testing.assert_array_equal(got[0], frames[0])
    np.testing.assert_array_equal(got[3], frames[3])


def test_list_source_knows_its_length():
    frames = list(random_frames(3))
    source = open_source(frames, fps=5)
    assert (source.n_frames, source.fps) == (3, 5)
    assert len(list(source)) == 3


def test_iterable_source_refuses_a_non_array_frame_naming_its_index():
    source = open_source([np.zeros((H, W), np.uint8), "not a frame"])
    next(source)
    with pytest.raises(ValueError, match=r"frame 1 is a str, not a numpy array"):
        next(source)


def test_frame_source_is_returned_as_is():
    source = open_source(random_frames(2))
    assert open_source(source) is source


def test_unsupported_type_is_a_type_error():
    with pytest.raises(TypeError, match="cannot read frames from a float"):
        open_source(3.5)


def test_folder_source_natural_order_skips_other_files(tmp_path: Path):
    frames = random_frames(3)
    folder = tmp_path / "highway" / "input"
    # Natural order: in2 before in10, whatever the lexicographic order says.
    write_pngs(folder, frames, ["in1.png", "in2.png", "in10.png"])
    (folder / "notes.txt").write_text("not an image")
    (folder / ".hidden.png").write_bytes(b"not an image either")
    with open_source(folder) as source:
        assert isinstance(source, ImageSequenceSource)
        assert source.name == "highway"  # CDnet layout: name the video, not "input"
        assert (source.n_frames, source.frame_size, source.fps) == (3, (W, H), None)
        got = list(source)
    assert len(got) == 3
    for a, b in zip(got, frames):
        np.testing.assert_array_equal(a, b)


def test_folder_source_keeps_grey_and_16_bit(tmp_path: Path):
    deep = np.arange(H * W, dtype=np.uint16).reshape(H, W) * 50
    cv2.imwrite(str(tmp_path / "a.png"), deep)
    (frame,) = list(open_source(tmp_path))
    assert frame.dtype == np.uint16
    np.testing.assert_array_equal(frame, deep)


def test_glob_source(tmp_path: Path):
    frames = random_frames(4)
    write_pngs(tmp_path, frames, ["f1.png", "f2.png", "g3.png", "f4.png"])
    with open_source(str(tmp_path / "f*.png")) as source:
        assert source.n_frames == 3
        got = list(source)
    for a, b in zip(got, frames[[0, 1, 3]]):
        np.testing.assert_array_equal(a, b)


def test_single_image_file_is_a_one_frame_source(tmp_path: Path):
    frames = random_frames(1)
    write_pngs(tmp_path, frames, ["still.png"])
    source = open_source(tmp_path / "still.png")
    assert source.name == "still"
    (frame,) = list(source)
    np.testing.assert_array_equal(frame, frames[0])


def test_video_source_reads_back_exactly(clip):
    path, frames = clip
    with open_source(path) as source:
        assert isinstance(source, VideoFileSource)
        assert source.name == "clip"
        assert source.fps == pytest.approx(30.0)
        assert source.n_frames == len(frames)
        assert source.frame_size == (W, H)
        got = list(source)
    assert len(got) == len(frames)
    for a, b in zip(got, frames):
        assert a.dtype == np.uint8 and a.shape == (H, W, 3)
        np.testing.assert_array_equal(a, b)


def test_video_source_accepts_str_path(clip):
    path, frames = clip
    with open_source(str(path)) as source:
        assert sum(1 for _ in source) == len(frames)


def test_reader_thread_stops_on_early_close(tmp_path: Path):
    path = write_video(tmp_path / "long.mkv", random_frames(60), fps=30)
    baseline = threading.active_count()
    source = open_source(path)
    assert len(bgmix_threads("bgmix-reader")) == 1
    next(source)
    time.sleep(0.05)  # let the reader fill its queue and block
    source.close()
    assert bgmix_threads("bgmix-reader") == []
    assert threading.active_count() == baseline
    source.close()  # idempotent
    assert list(source) == []


def test_reader_thread_stops_when_leaving_a_with_block_early(tmp_path: Path):
    path = write_video(tmp_path / "long.mkv", random_frames(60), fps=30)
    baseline = threading.active_count()
    with open_source(path) as source:
        for i, _ in enumerate(source):
            if i == 2:
                break
    assert threading.active_count() == baseline


def test_reader_thread_stops_when_source_is_abandoned(tmp_path: Path):
    path = write_video(tmp_path / "long.mkv", random_frames(60), fps=30)
    baseline = threading.active_count()
    source = open_source(path)
    next(source)
    del source
    gc.collect()
    assert wait_for(lambda: threading.active_count() == baseline)


def test_reader_thread_ends_by_itself_after_the_last_frame(clip):
    path, frames = clip
    baseline = threading.active_count()
    source = open_source(path)
    assert len(list(source)) == len(frames)
    assert wait_for(lambda: threading.active_count() == baseline)


def test_video_that_opens_but_gives_no_frame(tmp_path: Path):
    # A real MJPEG AVI cut right after its headers: FFmpeg opens it (the
    # header announces every frame) but not one frame can be decoded.
    full = tmp_path / "full.avi"
    writer = cv2.VideoWriter(str(full), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"MJPG"), 25, (W, H))
    for frame in random_frames(5):
        writer.write(frame)
    writer.release()
    data = full.read_bytes()
    path = tmp_path / "headers_only.avi"
    path.write_bytes(data[:data.index(b"movi") + 4])
    source = open_source(path)
    assert source.n_frames == 5
    with pytest.raises(ValueError, match=r"no frame could be decoded from video .*headers_only\.avi"):
        next(source)
    assert source.closed and wait_for(lambda: bgmix_threads("bgmix-reader") == [])


# ---------------------------------------------------------- source errors
def test_missing_path(tmp_path: Path):
    missing = tmp_path / "nope.mkv"
    with pytest.raises(FileNotFoundError, match=rf"no such file or folder: .*nope\.mkv"):
        open_source(missing)


def test_missing_video_named_directly():
    with pytest.raises(FileNotFoundError, match=r"video not found: .*nope\.mkv"):
        VideoFileSource("/no/such/dir/nope.mkv")


def test_folder_without_images(tmp_path: Path):
    (tmp_path / "readme.txt").write_text("hi")
    with pytest.raises(ValueError, match=rf"no images .* in folder {tmp_path}"):
        open_source(tmp_path)


def test_glob_without_matches(tmp_path: Path):
    with pytest.raises(FileNotFoundError, match=r"no files match the pattern .*\*\.png"):
        open_source(str(tmp_path / "*.png"))


def test_file_that_is_not_a_video(tmp_path: Path):
    bogus = tmp_path / "bogus.mkv"
    bogus.write_text("this is not a video\n")
    with pytest.raises(ValueError, match=r"cannot open .*bogus\.mkv as a video"):
        open_source(bogus)


def test_unreadable_image_in_folder_names_file_and_index(tmp_path: Path):
    write_pngs(tmp_path, random_frames(2), ["in000001.png", "in000002.png"])
    (tmp_path / "in000003.png").write_bytes(b"\x89PNG garbage")
    source = open_source(tmp_path)
    next(source), next(source)
    with pytest.raises(ValueError, match=r"cannot read image 2 of 3 .*in000003\.png"):
        next(source)


def test_image_of_another_size_in_folder(tmp_path: Path):
    write_pngs(tmp_path, random_frames(1), ["a1.png"])
    cv2.imwrite(str(tmp_path / "a2.png"), np.zeros((10, 10, 3), np.uint8))
    source = open_source(tmp_path)
    next(source)
    with pytest.raises(ValueError, match=r"image 1 \(.*a2\.png\) is 10x10 but the sequence started at 40x24"):
        next(source)


def test_sources_are_frame_sources(clip, tmp_path: Path):
    path, _ = clip
    write_pngs(tmp_path / "imgs", random_frames(1), ["a.png"])
    for src in (random_frames(1), [random_frames(1)[0]], path, tmp_path / "imgs"):
        with open_source(src) as source:
            assert isinstance(source, FrameSource)
            assert "frame_size=(40, 24)" in repr(source)
