"""The writer thread of bgmix.outputs.threaded.ThreadedWriter: order, bounded queue, errors, closing."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix import BackgroundMixture
from bgmix.batch import RunOptions, run_video
from bgmix.outputs.masks import MaskVideoWriter, PngMaskWriter
from bgmix.outputs.threaded import ThreadedWriter
from bgmix.outputs.videos import OverlayVideoWriter
from tests.media import read_grey
from tests.mixtures import PLAIN, plain_mixture

H, W = 36, 52


def distinct_masks(n: int, seed: int = 0) -> list[np.ndarray]:
    rng = np.random.default_rng(seed)
    return [(rng.random((H, W)) < 0.3).astype(np.uint8) * 255 for _ in range(n)]


class GatedSink:
    """A sink whose writes wait for a gate: shows how far ``write`` runs ahead."""

    def __init__(self) -> None:
        self.gate = threading.Event()
        self.written: list[int] = []
        self.closed = self.aborted = False
        self.path = Path("gated.mkv")

    def write(self, value: int) -> None:
        self.gate.wait()
        self.written.append(value)

    @property
    def frames_written(self) -> int:
        return len(self.written)

    def close(self) -> None:
        self.closed = True

    def abort(self) -> None:
        self.aborted = True


@pytest.mark.parametrize("max_pending", [1, 3])
def test_masks_come_back_exactly_and_in_order(tmp_path: Path, max_pending: int):
    masks = distinct_masks(40)
    path = tmp_path / "masks.mkv"
    writer = ThreadedWriter(MaskVideoWriter(path, fps=25), max_pending=max_pending)
    for mask in masks:
        writer.write(mask)
    assert not path.exists()  # renamed only by close
    writer.close()
    assert writer.n_written == 40
    back = read_grey(path)
    assert len(back) == 40
    for i, (got, want) in enumerate(zip(back, masks)):
        assert np.array_equal(got, want), f"mask {i} differs"
    assert not list(tmp_path.glob(".*part*"))


def test_png_masks_through_the_thread_are_numbered_in_order(tmp_path: Path):
    masks = distinct_masks(12, seed=1)
    with ThreadedWriter(PngMaskWriter(tmp_path / "png")) as writer:
        for mask in masks:
            writer.write(mask)
    for i, mask in enumerate(masks, start=1):
        got = cv2.imread(str(tmp_path / "png" / f"bin{i:06d}.png"), cv2.IMREAD_UNCHANGED)
        assert np.array_equal(got, mask)


def test_write_waits_when_the_queue_is_full():
    sink = GatedSink()
    writer = ThreadedWriter(sink, max_pending=2)
    for value in range(3):  # one taken by the blocked thread, two queued
        writer.write(value)
    fourth = threading.Thread(target=writer.write, args=(3,))
    fourth.start()
    fourth.join(0.3)
    assert fourth.is_alive(), "write() must wait while max_pending writes are queued"
    sink.gate.set()
    fourth.join(5)
    assert not fourth.is_alive()
    writer.close()
    assert sink.written == [0, 1, 2, 3] and sink.closed and not sink.aborted


def test_close_waits_for_every_queued_write():
    sink = GatedSink()
    writer = ThreadedWriter(sink, max_pending=4)
    for value in range(4):
        writer.write(value)
    threading.Timer(0.2, sink.gate.set).start()
    writer.close()
    assert sink.written == [0, 1, 2, 3] and sink.closed


def test_abort_drops_queued_writes_and_aborts_the_sink(tmp_path: Path):
    path = tmp_path / "masks.mkv"
    writer = ThreadedWriter(MaskVideoWriter(path, fps=25))
    for mask in distinct_masks(5):
        writer.write(mask)
    writer.abort()
    writer.abort()  # idempotent
    assert not path.exists() and not list(tmp_path.iterdir())
    with pytest.raises(ValueError, match="closed ThreadedWriter"):
        writer.write(distinct_masks(1)[0])


def test_error_in_the_thread_surfaces_on_a_later_write_naming_the_file(tmp_path: Path):
    path = tmp_path / "masks.mkv"
    writer = ThreadedWriter(MaskVideoWriter(path, fps=25, frame_size=(W, H)))
    writer.write(distinct_masks(1)[0])
    writer.write(np.zeros((H + 1, W), np.uint8))  # fails in the thread
    with pytest.raises(ValueError, match=r"masks\.mkv: mask is 52x37 but the sink was opened for 52x36") as info:
        for _ in range(10):  # the error is raised by one of the next writes
            writer.write(distinct_masks(1)[0])
            time.sleep(0.02)
    assert str(path) in str(info.value)
    assert writer.n_written == 1  # nothing is written after the failure
    with pytest.raises(ValueError, match="masks.mkv"):
        writer.close()  # close raises it too, and leaves the sink for abort
    writer.abort()
    assert not path.exists()


def test_error_of_the_last_write_surfaces_on_close(tmp_path: Path):
    path = tmp_path / "masks.mkv"
    writer = ThreadedWriter(MaskVideoWriter(path, fps=25, frame_size=(W, H)))
    writer.write(np.zeros((H, W, 3), np.uint8))
    with pytest.raises(ValueError, match=r"masks\.mkv.*shape \(H, W\)"):
        writer.close()


def test_overlay_through_the_thread_matches_the_direct_writer(tmp_path: Path):
    rng = np.random.default_rng(2)
    frames = [rng.integers(0, 256, (H, W, 3), dtype=np.uint8) for _ in range(6)]
    masks = distinct_masks(6, seed=3)
    with OverlayVideoWriter(tmp_path / "direct.avi", fps=25) as direct, \
            ThreadedWriter(OverlayVideoWriter(tmp_path / "threaded.avi", fps=25)) as threaded:
        for frame, mask in zip(frames, masks):
            direct.write(frame, mask)
            threaded.write(frame, mask)
    a = cv2.VideoCapture(str(tmp_path / "direct.avi"))
    b = cv2.VideoCapture(str(tmp_path / "threaded.avi"))
    for _ in frames:
        ok_a, image_a = a.read()
        ok_b, image_b = b.read()
        assert ok_a and ok_b and np.array_equal(image_a, image_b)
    assert not b.read()[0]


def test_bad_arguments_are_refused_clearly():
    with pytest.raises(TypeError, match="write"):
        ThreadedWriter(object())
    with pytest.raises(ValueError, match=r"max_pending.*1\.\.64"):
        ThreadedWriter(GatedSink(), max_pending=0)


def test_run_stopped_midway_keeps_every_frame_handed_to_the_writer(tmp_path: Path):
    rng = np.random.default_rng(4)
    frames = rng.integers(0, 256, (30, H, W, 3), dtype=np.uint8)
    frames[10:, 8:20, 10:30] = 255
    model = plain_mixture()
    expected = [model.apply(frame) for frame in frames]
    out = tmp_path / "masks.mkv"
    report = run_video(frames, RunOptions(masks=str(out), model_params=PLAIN))
    assert report.status == "done" and report.frames == 30
    back = read_grey(out)
    assert len(back) == 30
    assert all(np.array_equal(g, e) for g, e in zip(back, expected))

    calls = iter(range(1000))
    stopped = run_video(frames, RunOptions(masks=str(tmp_path / "stopped.mkv"), model_params=PLAIN),
                        should_stop=lambda: next(calls) >= 16)
    assert stopped.status == "interrupted" and stopped.frames == 17
    back = read_grey(tmp_path / "stopped.mkv")
    assert len(back) == 17
    assert all(np.array_equal(g, e) for g, e in zip(back, expected[:17]))


def test_abandoned_writer_stops_its_thread_and_leaves_no_temporary_file(tmp_path: Path):
    import gc

    writer = ThreadedWriter(MaskVideoWriter(tmp_path / "masks.mkv", fps=25))
    writer.write(distinct_masks(1)[0])
    thread = writer._thread
    del writer
    gc.collect()
    thread.join(5)
    assert not thread.is_alive()
    assert not list(tmp_path.iterdir())
