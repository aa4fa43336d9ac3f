"""Frame sources and mask sinks (bgmix.io)."""

from __future__ import annotations

import gc
import os
import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix.io import (
    ArraySource,
    FrameSource,
    ImageSequenceSource,
    IterableSource,
    MaskVideoWriter,
    PngMaskWriter,
    VideoFileSource,
    open_mask_sink,
    open_source,
)

W, H = 40, 24


def random_frames(n: int, channels: int = 3, seed: int = 0) -> np.ndarray:
    rng = np.random.default_rng(seed)
    shape = (n, H, W, channels) if channels > 1 else (n, H, W)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def write_ffv1(path: Path, frames: np.ndarray, fps: float = 30.0) -> Path:
    is_color = frames.ndim == 4
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"), fps,
                             (frames.shape[2], frames.shape[1]), is_color)
    assert writer.isOpened()
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def read_video(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened()
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def reader_threads() -> list[threading.Thread]:
    return [t for t in threading.enumerate() if t.name.startswith("bgmix-reader")]


def wait_for(condition, timeout: float = 2.0) -> bool:
    end = time.monotonic() + timeout
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.01)
    return condition()


@pytest.fixture
def clip(tmp_path: Path) -> tuple[Path, np.ndarray]:
    frames = random_frames(12)
    return write_ffv1(tmp_path / "clip.mkv", frames, fps=30), frames


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


def write_pngs(folder: Path, frames: np.ndarray, names: list[str]) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    for frame, name in zip(frames, names):
        assert cv2.imwrite(str(folder / name), frame)


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
    path = write_ffv1(tmp_path / "long.mkv", random_frames(60))
    baseline = threading.active_count()
    source = open_source(path)
    assert len(reader_threads()) == 1
    next(source)
    time.sleep(0.05)  # let the reader fill its queue and block
    source.close()
    assert reader_threads() == []
    assert threading.active_count() == baseline
    source.close()  # idempotent
    assert list(source) == []


def test_reader_thread_stops_when_leaving_a_with_block_early(tmp_path: Path):
    path = write_ffv1(tmp_path / "long.mkv", random_frames(60))
    baseline = threading.active_count()
    with open_source(path) as source:
        for i, _ in enumerate(source):
            if i == 2:
                break
    assert threading.active_count() == baseline


def test_reader_thread_stops_when_source_is_abandoned(tmp_path: Path):
    path = write_ffv1(tmp_path / "long.mkv", random_frames(60))
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
    assert source.closed and wait_for(lambda: reader_threads() == [])


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


def test_sources_are_frame_sources(clip, tmp_path: Path):
    path, _ = clip
    write_pngs(tmp_path / "imgs", random_frames(1), ["a.png"])
    for src in (random_frames(1), [random_frames(1)[0]], path, tmp_path / "imgs"):
        with open_source(src) as source:
            assert isinstance(source, FrameSource)
            assert "frame_size=(40, 24)" in repr(source)
