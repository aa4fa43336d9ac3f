"""Frames from files: image sequences, and videos decoded on a reader thread.

:class:`VideoFileSource` decodes with ``cv2.VideoCapture`` (FFmpeg) on a
background thread into a small bounded queue, so decoding the next frames
overlaps the model's work on this one. A video that ends before the frame
count its container announces (a truncated or corrupted file) keeps every
frame decoded and warns with a :class:`~bgmix.errors.DecodeWarning` naming
the file and the frame where decoding stopped.

:class:`ImageSequenceSource` reads a list of image files one at a time, in
their depth (16-bit PNGs stay uint16).
"""

from __future__ import annotations

import os
import queue
import threading
import warnings
import weakref
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bgmix.errors import DecodeWarning
from bgmix.sources.base import FrameSource, size_of

__all__ = ["ImageSequenceSource", "VideoFileSource", "read_image"]

_QUEUE_SIZE = 4


def read_image(path: str) -> np.ndarray | None:
    """An image file as OpenCV decodes it (any depth, alpha dropped); None if unreadable."""
    # imdecode instead of imread: non-ASCII paths work everywhere.
    try:
        data = np.fromfile(path, dtype=np.uint8)
    except OSError:
        return None
    if data.size == 0:
        return None
    image = cv2.imdecode(data, cv2.IMREAD_UNCHANGED)
    if image is None:
        return None
    if image.ndim == 3 and image.shape[2] == 4:
        image = np.ascontiguousarray(image[:, :, :3])  # drop alpha: BGRA -> BGR
    return image


class ImageSequenceSource(FrameSource):
    """Frames from a list of image files, read one at a time in order.

    Images keep their depth and channels (``cv2.IMREAD_UNCHANGED``: 8-bit
    colour images come as BGR uint8, 16-bit PNGs as uint16, grey images as
    (H, W)); an alpha channel is dropped. Every image must have the size of
    the first.

    Examples
    --------
    >>> import os, tempfile, cv2, numpy as np
    >>> folder = tempfile.mkdtemp()
    >>> for i in range(3):
    ...     _ = cv2.imwrite(os.path.join(folder, f"in{i + 1:06d}.png"), np.full((4, 6, 3), i, np.uint8))
    >>> source = ImageSequenceSource(sorted(os.path.join(folder, f) for f in os.listdir(folder)))
    >>> source.n_frames, source.frame_size, [int(f[0, 0, 0]) for f in source]
    (3, (6, 4), [0, 1, 2])
    """

    def __init__(self, paths: list[str], *, fps: float | None = None, name: str | None = None) -> None:
        super().__init__()
        if not paths:
            raise ValueError("an image sequence needs at least one file")
        self.paths = list(paths)
        self.n_frames = len(self.paths)
        self.fps = fps
        self.name = name if name is not None else Path(self.paths[0]).parent.name or "<images>"
        self._index = 0
        self._first: np.ndarray | None = None
        self._size: tuple[int, int] | None = None

    def _load(self, index: int) -> np.ndarray:
        path = self.paths[index]
        image = read_image(path)
        if image is None:
            raise ValueError(f"cannot read image {index} of {self.n_frames} as an image: {path}")
        size = size_of(image)
        if self._size is None:
            self._size = size
        elif size != self._size:
            raise ValueError(
                f"image {index} ({path}) is {size[0]}x{size[1]} but the sequence started at "
                f"{self._size[0]}x{self._size[1]}")
        return image

    @property
    def frame_size(self) -> tuple[int, int]:
        if self._size is None:
            self._first = self._load(0)
        assert self._size is not None
        return self._size

    def __next__(self) -> np.ndarray:
        if self._closed or self._index >= self.n_frames:
            raise StopIteration
        if self._index == 0 and self._first is not None:
            frame, self._first = self._first, None
        else:
            frame = self._load(self._index)
        self._index += 1
        return frame


_END = object()


class _EndedEarly:
    """Queued by the decoding thread when a video ends before its announced
    frame count; the consumer turns it into a :class:`DecodeWarning` (warnings
    raised on the consumer's thread reach ``warnings.catch_warnings`` there)."""

    def __init__(self, decoded: int, announced: int) -> None:
        self.decoded = decoded
        self.announced = announced


class _Reader:
    """The decoding thread's state; holds no reference to its source object,
    so an abandoned source can be collected and its finaliser stop the thread."""

    def __init__(self, capture: cv2.VideoCapture, path: str, maxsize: int,
                 announced: int | None = None) -> None:
        self.capture = capture
        self.path = path
        self.announced = announced
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=maxsize)
        self.stop_event = threading.Event()
        self.thread = threading.Thread(target=self._run, name=f"bgmix-reader:{Path(path).name}",
                                       daemon=True)

    def _put(self, item: Any) -> bool:
        while not self.stop_event.is_set():
            try:
                self.queue.put(item, timeout=0.05)
                return True
            except queue.Full:
                continue
        return False

    def _run(self) -> None:
        n = 0
        try:
            while not self.stop_event.is_set():
                ok, frame = self.capture.read()
                if not ok:
                    if n == 0:
                        self._put(ValueError(f"no frame could be decoded from video {self.path}"))
                    elif self.announced is not None and n < self.announced:
                        self._put(_EndedEarly(n, self.announced))
                    break
                n += 1
                if not self._put(frame):
                    return
        except BaseException as exc:  # handed to the consumer, raised there
            self._put(exc)
            return
        finally:
            self.capture.release()
        self._put(_END)

    def stop(self) -> None:
        """Stop and join the thread; idempotent and safe from any thread."""
        self.stop_event.set()
        # Unblock a producer waiting on a full queue, then wait for it.
        while True:
            try:
                self.queue.get_nowait()
            except queue.Empty:
                break
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join()
        if not self.thread.is_alive():
            # Never started, or finished: make sure the capture is released.
            self.capture.release()


def _fourcc(*chars: str | int) -> int:
    codes = [c if isinstance(c, int) else ord(c) for c in chars]
    return codes[0] | codes[1] << 8 | codes[2] << 16 | codes[3] << 24


# FFmpeg's codec tags (avcodec_pix_fmt_to_codec_tag) of 16-bit grey pixels.
_GRAY16_TAGS = frozenset({_fourcc("Y", "1", 0, 16), _fourcc(16, 0, "1", "Y")})


def _is_gray16(capture: cv2.VideoCapture) -> bool:
    """True when the decoded stream is 16-bit grey (gray16le / gray16be)."""
    try:
        tag = capture.get(cv2.CAP_PROP_CODEC_PIXEL_FORMAT)
    except (AttributeError, cv2.error):  # pragma: no cover - old OpenCV
        return False
    return bool(np.isfinite(tag)) and int(tag) in _GRAY16_TAGS


class VideoFileSource(FrameSource):
    """Frames decoded from a video by ``cv2.VideoCapture`` on a background thread.

    Frames come as OpenCV decodes them: BGR uint8, except 16-bit grey
    streams (FFV1 ``gray16le``, as thermal cameras record), which come as
    (H, W) uint16 with their full depth.

    The thread keeps at most ``queue_size`` decoded frames ahead of the
    consumer. :meth:`close` (or leaving a ``with`` block, or the source
    being garbage-collected) stops and joins it.

    Parameters
    ----------
    path : str or PathLike
        A video file, or a URL FFmpeg can open.
    queue_size : int, default=4
        Frames decoded ahead.

    Examples
    --------
    >>> import os, tempfile, cv2, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "clip.mkv")
    >>> writer = cv2.VideoWriter(path, cv2.VideoWriter_fourcc(*"FFV1"), 25, (64, 48))
    >>> for i in range(5):
    ...     _ = writer.write(np.full((48, 64, 3), 10 * i, np.uint8))
    >>> writer.release()
    >>> with VideoFileSource(path) as source:
    ...     print(source.name, source.fps, source.n_frames, source.frame_size)
    ...     print([int(frame[0, 0, 0]) for frame in source])
    clip 25.0 5 (64, 48)
    [0, 10, 20, 30, 40]
    """

    def __init__(self, path: str | os.PathLike[str], *, queue_size: int = _QUEUE_SIZE) -> None:
        super().__init__()
        path = os.fspath(path)
        is_url = "://" in path
        if not is_url and not os.path.exists(path):
            raise FileNotFoundError(f"video not found: {path}")
        if not is_url and os.path.isdir(path):
            raise ValueError(f"{path} is a folder, not a video file")
        if not is_url and os.path.getsize(path) == 0:
            raise ValueError(f"video file is empty (0 bytes): {path}")
        capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
        if not capture.isOpened():
            capture.release()
            capture = cv2.VideoCapture(path)  # other backends (e.g. GStreamer URLs)
        if not capture.isOpened():
            capture.release()
            raise ValueError(f"cannot open {path} as a video (not a video file, or a format "
                             "FFmpeg/OpenCV cannot decode)")
        if _is_gray16(capture):
            # 16-bit grey (FFV1 gray16le from a thermal camera, say): turn
            # off OpenCV's conversion to 8-bit BGR so frames keep their depth.
            capture.set(cv2.CAP_PROP_CONVERT_RGB, 0)
        self.path = path
        self.name = Path(path).stem if not is_url else path
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if np.isfinite(fps) and fps > 0 else None
        count = capture.get(cv2.CAP_PROP_FRAME_COUNT)
        self.n_frames = int(count) if np.isfinite(count) and count > 0 else None
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self._size = (width, height) if width > 0 and height > 0 else None
        self._reader = _Reader(capture, path, max(1, int(queue_size)), self.n_frames)
        self._finalizer = weakref.finalize(self, self._reader.stop)
        self._reader.thread.start()

    def __next__(self) -> np.ndarray:
        if self._closed:
            raise StopIteration
        item = self._reader.queue.get()
        if isinstance(item, _EndedEarly):
            warnings.warn(
                f"video {self.path}: decoding stopped at frame {item.decoded} of the "
                f"{item.announced} its container announces (truncated or corrupted file); "
                f"the {item.decoded} frames decoded are kept", DecodeWarning, stacklevel=2)
            item = self._reader.queue.get()
        if item is _END:
            self.close()
            raise StopIteration
        if isinstance(item, BaseException):
            self.close()
            raise item
        return item

    def close(self) -> None:
        if not self._closed:
            self._finalizer()  # runs _reader.stop() once
        super().close()
