"""Frame sources and mask sinks.

Sources
-------
:func:`open_source` turns a video file (or anything FFmpeg reads through
``cv2.VideoCapture``), an image folder (a CDnet ``input/`` folder, say), a
glob pattern, a NumPy array of frames or any iterable of frames into a
:class:`FrameSource`: an iterator of frames as OpenCV reads them (BGR,
uint8 for video, (H, W) uint16 for 16-bit grey video) with ``name``, ``fps``, ``n_frames`` and ``frame_size``.
Video files decode on a background thread into a small bounded queue, so
decoding the next frames overlaps the model's work on this one. A video
that ends before the frame count its container announces (a truncated or
corrupted file) keeps every frame decoded and warns with a
:class:`DecodeWarning` naming the file and the frame where decoding stopped.

Live sources
------------
A camera index (``0``) or a stream URL (``rtsp://``, ``rtmp://``,
``http(s)://``, e.g. MJPEG over HTTP) opens a :class:`LiveSource`: a reader
thread grabs frames as fast as the camera sends them and keeps only the
newest one, so a model slower than the camera skips stale frames (counted in
``frames_dropped``) instead of queueing them; each frame's grab time is in
``capture_time``. A lost stream is re-opened with exponential backoff, and
after ``reconnect_attempts`` failures iteration raises
:class:`StreamLostError`.

Sinks
-----
:class:`MaskVideoWriter` (lossless FFV1 in Matroska) and
:class:`PngMaskWriter` (CDnet ``bin000001.png`` naming) never leave a
half-written file under a final name: the video is written under a hidden
temporary name and renamed by :meth:`MaskVideoWriter.close`; every PNG is
written under a temporary name and renamed as soon as it is complete.

Sizes follow OpenCV: ``frame_size`` is ``(width, height)``.
"""

from __future__ import annotations

import glob as _glob
import os
import queue
import re
import secrets
import threading
import time
import warnings
import weakref
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

__all__ = [
    "DEFAULT_FPS",
    "LIVE_URL_SCHEMES",
    "BgmixWarning",
    "DecodeWarning",
    "StreamLostError",
    "LiveSource",
    "IMAGE_EXTENSIONS",
    "FrameSource",
    "ArraySource",
    "IterableSource",
    "ImageSequenceSource",
    "VideoFileSource",
    "MaskVideoWriter",
    "PngMaskWriter",
    "open_source",
    "open_mask_sink",
]

IMAGE_EXTENSIONS = frozenset({".png", ".jpg", ".jpeg", ".bmp", ".tif", ".tiff", ".webp",
                              ".ppm", ".pgm", ".pbm", ".pnm"})
"""File suffixes (lower case) an image folder is scanned for."""

DEFAULT_FPS = 25.0
"""Frame rate given to a mask video when the source's is unknown."""

LIVE_URL_SCHEMES = ("rtsp", "rtsps", "rtmp", "rtmps", "http", "https", "udp", "tcp", "srt")
"""URL schemes :func:`open_source` opens as a :class:`LiveSource` unless ``live=False``."""

_QUEUE_SIZE = 4
_GLOB_CHARS = re.compile(r"[*?\[]")


class BgmixWarning(UserWarning):
    """Base class of the warnings bgmix emits."""


class DecodeWarning(BgmixWarning):
    """A video ended before the frame count its container announces.

    Emitted (by the consumer's thread, from ``next(source)``) when decoding
    stops early: a truncated file, or corrupted bytes the decoder cannot get
    past. The frames decoded before are kept; iteration then ends normally.
    """


class StreamLostError(ConnectionError):
    """A live source lost its camera or stream and could not re-open it."""


# ---------------------------------------------------------------------------
# sources
# ---------------------------------------------------------------------------
class FrameSource(Iterator[np.ndarray]):
    """An iterator of frames with what is known about the stream.

    Attributes
    ----------
    name : str
        Short human-readable name (a file stem, a folder name, ``"<array>"``).
    fps : float or None
        Frames per second, None if unknown.
    n_frames : int or None
        Number of frames, None if unknown (a generator, a stream). For video
        files this is the container's count, which FFmpeg may only estimate.
    frame_size : tuple of int or None
        ``(width, height)`` as OpenCV writes it; None when it cannot be known
        without reading a frame.
    capture_time : float or None
        ``time.monotonic()`` when the frame last returned was grabbed, for
        live sources (None for the others, whose frames wait for the reader).
    frames_dropped : int
        Frames skipped because the consumer was slower than the source
        (always 0 except for live sources).
    reconnects : int
        Times a lost stream was re-opened (always 0 except for live sources).

    Notes
    -----
    Sources are context managers; :meth:`close` releases files and stops a
    decoding thread, and it is safe to call more than once.
    """

    name: str = "<source>"
    fps: float | None = None
    n_frames: int | None = None

    def __init__(self) -> None:
        self._closed = False

    @property
    def frame_size(self) -> tuple[int, int] | None:
        return None

    @property
    def capture_time(self) -> float | None:
        return None

    @property
    def frames_dropped(self) -> int:
        return 0

    @property
    def reconnects(self) -> int:
        return 0

    def __iter__(self) -> FrameSource:
        return self

    def __next__(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Release the source; further iteration stops."""
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name={self.name!r}, fps={self.fps!r}, "
                f"n_frames={self.n_frames!r}, frame_size={self.frame_size!r})")


def _size_of(frame: np.ndarray) -> tuple[int, int]:
    return (int(frame.shape[1]), int(frame.shape[0]))


class ArraySource(FrameSource):
    """Frames from an array of shape (N, H, W) or (N, H, W, C).

    Frames are views into the array, in its dtype.

    Examples
    --------
    >>> import numpy as np
    >>> source = ArraySource(np.zeros((3, 48, 64, 3), np.uint8))
    >>> source.n_frames, source.frame_size
    (3, (64, 48))
    >>> [frame.shape for frame in source]
    [(48, 64, 3), (48, 64, 3), (48, 64, 3)]
    """

    def __init__(self, frames: np.ndarray, *, fps: float | None = None, name: str = "<array>") -> None:
        super().__init__()
        if frames.ndim not in (3, 4):
            raise ValueError(
                f"an array source must have shape (N, H, W) or (N, H, W, C), got shape "
                f"{tuple(frames.shape)}; wrap a single frame in a list")
        self._frames = frames
        self._index = 0
        self.name = name
        self.fps = fps
        self.n_frames = int(frames.shape[0])

    @property
    def frame_size(self) -> tuple[int, int]:
        return (int(self._frames.shape[2]), int(self._frames.shape[1]))

    def __next__(self) -> np.ndarray:
        if self._closed or self._index >= self.n_frames:
            raise StopIteration
        frame = self._frames[self._index]
        self._index += 1
        return frame


class IterableSource(FrameSource):
    """Frames from any iterable of arrays (a list, a generator, ...).

    ``n_frames`` is ``len(iterable)`` when it has one. ``frame_size`` reads
    (and keeps) the first frame when it is asked for before iteration.

    Examples
    --------
    >>> import numpy as np
    >>> source = IterableSource(np.zeros((48, 64), np.uint8) for _ in range(2))
    >>> source.n_frames is None, source.frame_size
    (True, (64, 48))
    >>> len(list(source))
    2
    """

    def __init__(self, frames: Iterable[Any], *, fps: float | None = None, name: str = "<iterable>") -> None:
        super().__init__()
        try:
            self.n_frames = len(frames)  # type: ignore[arg-type]
        except TypeError:
            self.n_frames = None
        self._iterator = iter(frames)
        self._index = 0
        self._peeked: np.ndarray | None = None
        self._size: tuple[int, int] | None = None
        self.name = name
        self.fps = fps

    def _pull(self) -> np.ndarray:
        frame = next(self._iterator)
        if not isinstance(frame, np.ndarray):
            raise ValueError(f"{self.name}: frame {self._index} is a {type(frame).__name__}, "
                             "not a numpy array")
        if frame.ndim < 2:
            raise ValueError(f"{self.name}: frame {self._index} has shape {tuple(frame.shape)}, "
                             "expected (H, W) or (H, W, C)")
        if self._size is None:
            self._size = _size_of(frame)
        return frame

    @property
    def frame_size(self) -> tuple[int, int] | None:
        if self._size is None and not self._closed:
            try:
                self._peeked = self._pull()
            except StopIteration:
                return None
        return self._size

    def __next__(self) -> np.ndarray:
        if self._closed:
            raise StopIteration
        if self._peeked is not None:
            frame, self._peeked = self._peeked, None
        else:
            frame = self._pull()
        self._index += 1
        return frame

    def close(self) -> None:
        if not self._closed:
            close = getattr(self._iterator, "close", None)
            if close is not None:
                close()
            self._peeked = None
        super().close()


def _natural_key(path: str) -> list[Any]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", path)]


def _read_image(path: str) -> np.ndarray | None:
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
        image = _read_image(path)
        if image is None:
            raise ValueError(f"cannot read image {index} of {self.n_frames} as an image: {path}")
        size = _size_of(image)
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

    @property
    def frame_size(self) -> tuple[int, int] | None:
        return self._size

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


# ---------------------------------------------------------------------------
# live sources: cameras and streams
# ---------------------------------------------------------------------------
_CREDENTIALS = re.compile(r"(?<=://)([^/@:]*):[^/@]*@")


def _redact(url: str) -> str:
    """``rtsp://user:secret@host/x`` -> ``rtsp://user:***@host/x`` for messages."""
    return _CREDENTIALS.sub(r"\1:***@", url)


def _is_live_url(text: str) -> bool:
    scheme, sep, _ = text.partition("://")
    return bool(sep) and scheme.lower() in LIVE_URL_SCHEMES


def _open_live_capture(target: int | str, open_timeout: float,
                       read_timeout: float) -> cv2.VideoCapture | None:
    """Open a camera or a stream; None when it cannot be opened."""
    if isinstance(target, int):
        # Camera backends (V4L2, ...) have their own timeouts, and some refuse
        # to open when given properties they do not know: pass none.
        capture = cv2.VideoCapture(target)
    else:
        # Without these FFmpeg waits 30 s on a silent stream before read() fails.
        timeouts = [cv2.CAP_PROP_OPEN_TIMEOUT_MSEC, max(1, round(open_timeout * 1000)),
                    cv2.CAP_PROP_READ_TIMEOUT_MSEC, max(1, round(read_timeout * 1000))]
        capture = cv2.VideoCapture(target, cv2.CAP_FFMPEG, timeouts)
        if not capture.isOpened():
            capture.release()
            capture = cv2.VideoCapture(target)  # other backends (GStreamer pipelines, ...)
    if capture.isOpened():
        return capture
    capture.release()
    return None


class _LiveReader:
    """The live reader thread and its one-frame slot.

    Holds no reference to its :class:`LiveSource`, so an abandoned source can
    be collected and its finaliser stop the thread.
    """

    def __init__(self, capture: cv2.VideoCapture, target: int | str, label: str, *,
                 open_timeout: float, read_timeout: float, reconnect_delay: float,
                 reconnect_max_delay: float, reconnect_attempts: int) -> None:
        self.capture: cv2.VideoCapture | None = capture
        self.target = target
        self.label = label
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        self.reconnect_delay = reconnect_delay
        self.reconnect_max_delay = reconnect_max_delay
        self.reconnect_attempts = reconnect_attempts
        self.ready = threading.Condition()
        # The slot: the newest frame grabbed, and whether it was returned yet.
        self.frame: np.ndarray | None = None
        self.frame_time = 0.0
        self.unread = False
        self.frames_read = 0
        self.frames_dropped = 0
        self.reconnects = 0
        self.error: BaseException | None = None
        self.finished = False
        self.stop_event = threading.Event()
        name = label if len(label) <= 40 else label[:37] + "..."
        self.thread = threading.Thread(target=self._run, name=f"bgmix-live:{name}", daemon=True)

    def _run(self) -> None:
        try:
            while not self.stop_event.is_set():
                if self.capture is None:
                    self.capture = self._reopen()
                    if self.capture is None:
                        return  # stopped while waiting
                ok, frame = self.capture.read()
                grabbed = time.monotonic()
                if not ok or frame is None:
                    self.capture.release()
                    self.capture = None
                    continue
                with self.ready:
                    if self.unread:
                        self.frames_dropped += 1
                    self.frame, self.frame_time, self.unread = frame, grabbed, True
                    self.frames_read += 1
                    self.ready.notify_all()
        except BaseException as exc:  # handed to the consumer, raised there
            with self.ready:
                self.error = exc
        finally:
            if self.capture is not None:
                self.capture.release()
                self.capture = None
            with self.ready:
                self.finished = True
                self.ready.notify_all()

    def _reopen(self) -> cv2.VideoCapture | None:
        """Re-open with exponential backoff; None if stopped meanwhile."""
        lost_at = time.monotonic()
        delay = self.reconnect_delay
        for _ in range(self.reconnect_attempts):
            if self.stop_event.wait(delay):
                return None
            capture = _open_live_capture(self.target, self.open_timeout, self.read_timeout)
            if capture is not None:
                with self.ready:
                    self.reconnects += 1
                return capture
            delay = min(2.0 * delay, self.reconnect_max_delay)
        raise StreamLostError(
            f"lost {self.label} after {self.frames_read} frames and could not re-open it: "
            f"{self.reconnect_attempts} attempts over {time.monotonic() - lost_at:.1f} s "
            f"failed (reconnect_attempts={self.reconnect_attempts})")

    def stop(self) -> None:
        """Stop the thread; idempotent and safe from any thread.

        A read blocked in the backend returns within ``read_timeout`` (the
        thread then releases the capture); close does not wait longer.
        """
        self.stop_event.set()
        with self.ready:
            self.ready.notify_all()
        if self.thread.is_alive() and self.thread is not threading.current_thread():
            self.thread.join(timeout=self.read_timeout + 1.0)
        if self.thread.ident is None and self.capture is not None:
            self.capture.release()  # the thread never started


def _check_positive(name: str, value: Any) -> float:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)) \
            or not np.isfinite(value) or value <= 0:
        raise ValueError(f"{name} must be a number of seconds > 0, got {value!r}")
    return float(value)


class LiveSource(FrameSource):
    """Frames from a camera or a live stream, newest first, never queued.

    A reader thread grabs frames as fast as the camera or stream sends them
    into a one-frame slot. ``next(source)`` waits for a frame it has not
    returned yet and returns the newest; a frame replaced before it was
    returned is counted in :attr:`frames_dropped`. So a consumer slower than
    the camera sees fresh frames (each at most about one frame period old
    when it is taken) and memory stays at one frame, however long it lags.

    When the stream fails (a read error, the end of the stream, a stream
    silent for ``read_timeout``), the source re-opens it: it waits
    ``reconnect_delay`` seconds, then twice that after each failure up to
    ``reconnect_max_delay``. After ``reconnect_attempts`` failed attempts in a
    row, ``next`` raises :class:`StreamLostError` (after returning the last
    frame grabbed, if it was not returned yet).

    Parameters
    ----------
    source : int or str
        A camera index (``0`` is the first camera) or a URL OpenCV can open
        (``rtsp://``, ``http://.../stream.mjpg`` for MJPEG over HTTP, ...).
        Credentials in a URL are masked in ``name`` and in messages.
    reconnect_delay : float, default 0.5
        Seconds to wait before the first attempt to re-open a lost stream.
    reconnect_max_delay : float, default 8.0
        Upper bound of the doubling wait between attempts.
    reconnect_attempts : int, default 10
        Failed attempts in a row before giving up (0: give up at once).
        With the defaults the source tries for about a minute.
    open_timeout : float, default 10.0
        Seconds a stream URL may take to open (FFmpeg backend).
    read_timeout : float, default 5.0
        Seconds a stream may stay silent before it counts as lost (FFmpeg
        backend; cameras use their driver's timeout).
    name : str, optional
        Name for messages and output folders; ``"camera0"`` or the URL by default.

    Attributes
    ----------
    frames_read : int
        Frames grabbed from the camera or stream, returned or not.
    frames_dropped : int
        Frames replaced by a newer one before ``next`` returned them.
    reconnects : int
        Times the stream was re-opened after a loss.
    capture_time : float or None
        ``time.monotonic()`` when the frame last returned was grabbed;
        ``time.monotonic() - capture_time`` is its age.

    Raises
    ------
    ValueError
        A camera index that cannot be opened (absent, or in use), or a bad
        parameter.
    ConnectionError
        A stream URL that cannot be opened.

    Examples
    --------
    An MJPEG stream from a web camera, processed live (not run here):

    >>> import bgmix
    >>> with LiveSource("http://192.168.1.20:8080/video.mjpg",
    ...                 reconnect_attempts=20) as stream:  # doctest: +SKIP
    ...     for result in bgmix.process(stream):
    ...         print(result.index, len(result.blobs), f"{result.latency_s * 1000:.0f} ms")
    ...         if result.index == 99:
    ...             break
    ...     print(stream.frames_read, stream.frames_dropped, stream.reconnects)

    An absent camera is refused at once:

    >>> LiveSource(99)  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    ValueError: cannot open camera 99: ...
    """

    def __init__(self, source: int | str, *, reconnect_delay: float = 0.5,
                 reconnect_max_delay: float = 8.0, reconnect_attempts: int = 10,
                 open_timeout: float = 10.0, read_timeout: float = 5.0,
                 name: str | None = None) -> None:
        super().__init__()
        if isinstance(source, bool) or not isinstance(source, (int, np.integer, str)):
            raise TypeError(f"a live source is a camera index (int) or a URL (str), "
                            f"got {type(source).__name__}")
        target: int | str = int(source) if isinstance(source, (int, np.integer)) else source
        if isinstance(target, int) and target < 0:
            raise ValueError(f"a camera index must be >= 0, got {target}")
        reconnect_delay = _check_positive("reconnect_delay", reconnect_delay)
        reconnect_max_delay = _check_positive("reconnect_max_delay", reconnect_max_delay)
        if reconnect_max_delay < reconnect_delay:
            raise ValueError(f"reconnect_max_delay ({reconnect_max_delay!r}) must be >= "
                             f"reconnect_delay ({reconnect_delay!r})")
        if isinstance(reconnect_attempts, bool) or not isinstance(
                reconnect_attempts, (int, np.integer)) or reconnect_attempts < 0:
            raise ValueError(f"reconnect_attempts must be an integer >= 0, got {reconnect_attempts!r}")
        open_timeout = _check_positive("open_timeout", open_timeout)
        read_timeout = _check_positive("read_timeout", read_timeout)
        self.source = target
        self.reconnect_delay = reconnect_delay
        self.reconnect_max_delay = reconnect_max_delay
        self.reconnect_attempts = int(reconnect_attempts)
        self.open_timeout = open_timeout
        self.read_timeout = read_timeout
        label = f"camera {target}" if isinstance(target, int) else f"stream {_redact(target)}"
        if name is not None:
            self.name = name
        else:
            self.name = f"camera{target}" if isinstance(target, int) else _redact(target)
        capture = _open_live_capture(target, open_timeout, read_timeout)
        if capture is None:
            if isinstance(target, int):
                raise ValueError(f"cannot open camera {target}: no camera with this index, or it "
                                 "is in use by another program")
            raise ConnectionError(f"cannot open stream {_redact(target)}: not reachable within "
                                  f"open_timeout={open_timeout:g} s, or not a stream "
                                  "OpenCV/FFmpeg can read")
        fps = capture.get(cv2.CAP_PROP_FPS)
        self.fps = float(fps) if np.isfinite(fps) and 0 < fps < 1000 else None
        self.n_frames = None
        width = int(capture.get(cv2.CAP_PROP_FRAME_WIDTH))
        height = int(capture.get(cv2.CAP_PROP_FRAME_HEIGHT))
        self._size = (width, height) if width > 0 and height > 0 else None
        self._capture_time: float | None = None
        self._reader = _LiveReader(
            capture, target, label, open_timeout=open_timeout, read_timeout=read_timeout,
            reconnect_delay=reconnect_delay, reconnect_max_delay=reconnect_max_delay,
            reconnect_attempts=self.reconnect_attempts)
        self._finalizer = weakref.finalize(self, self._reader.stop)
        self._reader.thread.start()

    @property
    def frame_size(self) -> tuple[int, int] | None:
        return self._size

    @property
    def capture_time(self) -> float | None:
        return self._capture_time

    @property
    def frames_read(self) -> int:
        return self._reader.frames_read

    @property
    def frames_dropped(self) -> int:
        return self._reader.frames_dropped

    @property
    def reconnects(self) -> int:
        return self._reader.reconnects

    def __next__(self) -> np.ndarray:
        reader = self._reader
        with reader.ready:
            while True:
                if self._closed:
                    raise StopIteration
                if reader.unread:
                    frame, self._capture_time = reader.frame, reader.frame_time
                    reader.frame, reader.unread = None, False
                    assert frame is not None
                    return frame
                if reader.finished:
                    break
                # The reader always notifies; the timeout only re-checks `closed`.
                reader.ready.wait(timeout=0.5)
        error = reader.error
        self.close()
        if error is not None:
            raise error
        raise StopIteration

    def close(self) -> None:
        """Stop the reader thread and release the camera or stream (idempotent)."""
        if not self._closed:
            self._closed = True
            self._finalizer()  # runs _reader.stop() once
        super().close()

    def __repr__(self) -> str:
        return (f"LiveSource(name={self.name!r}, fps={self.fps!r}, frame_size={self.frame_size!r}, "
                f"frames_read={self.frames_read}, frames_dropped={self.frames_dropped}, "
                f"reconnects={self.reconnects})")


def _images_in(folder: Path) -> list[str]:
    names = [entry.path for entry in os.scandir(folder)
             if entry.is_file() and Path(entry.name).suffix.lower() in IMAGE_EXTENSIONS
             and not entry.name.startswith(".")]
    return sorted(names, key=_natural_key)


def _folder_name(folder: Path) -> str:
    folder = folder.resolve()
    # CDnet layout: <category>/<video>/input/in000001.jpg -> name the video.
    if folder.name.lower() == "input" and folder.parent.name:
        return folder.parent.name
    return folder.name or "<images>"


def _camera_index(source: Any) -> int | None:
    """The camera index ``source`` names, if any: an int, or digits that are not a path."""
    if isinstance(source, (bool, np.bool_)):
        return None
    if isinstance(source, (int, np.integer)):
        return int(source)
    if isinstance(source, str) and source.isdigit() and source.isascii() \
            and not os.path.exists(source):
        return int(source)
    return None


def open_source(source: Any, *, fps: float | None = None, live: bool | None = None,
                **live_options: Any) -> FrameSource:
    """Open frames from a camera, stream, file, folder, glob pattern, array or iterable.

    Parameters
    ----------
    source : int, str, PathLike, ndarray, FrameSource or iterable of ndarray
        - a camera index (``0``, or a string of digits that is not an
          existing path, as a command line gives it): a :class:`LiveSource`;
        - a URL with a scheme of :data:`LIVE_URL_SCHEMES` (``rtsp://``,
          ``http(s)://``, ...): a :class:`LiveSource` (newest frame first,
          reconnects), unless ``live=False``;
        - a video file path (or a URL with ``live=False``): decoded by
          ``cv2.VideoCapture`` (FFmpeg) on a background thread, every frame
          in order, BGR uint8 frames ((H, W) uint16 for 16-bit grey video);
        - an image file: a one-frame sequence;
        - a folder: its images (png, jpg, bmp, tif, ...) in natural order
          (``in2.png`` before ``in10.png``), e.g. a CDnet ``input/`` folder;
        - a glob pattern (``"frames/*.png"``): the matching files, natural order;
        - an ndarray of shape (N, H, W) or (N, H, W, C): its N frames;
        - any other iterable of ndarrays; a FrameSource is returned as is.
    fps : float, optional
        Frame rate to report for sources that do not know theirs (arrays,
        iterables, images); a video's own rate is kept.
    live : bool, optional
        None (default) decides as above. False reads a URL as a file (every
        frame, in order: a video served over HTTP, say); True opens any
        string (a GStreamer pipeline, ``/dev/video0``) as a :class:`LiveSource`.
    **live_options
        Keywords for :class:`LiveSource` (``reconnect_delay``,
        ``reconnect_max_delay``, ``reconnect_attempts``, ``open_timeout``,
        ``read_timeout``); refused for other sources.

    Returns
    -------
    FrameSource
        An iterator of frames; close it (or use ``with``) when done.

    Raises
    ------
    FileNotFoundError
        The path does not exist, or a glob pattern matches nothing.
    ValueError
        A folder without images, an empty file, a file that cannot be opened
        as a video, a camera that cannot be opened, or (while iterating) an
        image that cannot be read.
    ConnectionError
        A stream URL that cannot be opened; while iterating, a
        :class:`StreamLostError` when a lost stream cannot be re-opened.

    Examples
    --------
    >>> import numpy as np
    >>> with open_source(np.zeros((2, 48, 64), np.uint8), fps=30) as frames:
    ...     print(frames.fps, frames.n_frames, frames.frame_size)
    ...     print(sum(1 for _ in frames))
    30 2 (64, 48)
    2
    >>> open_source("no/such/clip.mkv")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no such file or folder: no/such/clip.mkv

    Cameras and streams (not run here): the first camera, giving up after
    about 3 s without frames; an MJPEG stream over HTTP; an HTTP video file
    read frame by frame:

    >>> camera = open_source(0, reconnect_attempts=3)  # doctest: +SKIP
    >>> stream = open_source("http://127.0.0.1:8080/stream.mjpg")  # doctest: +SKIP
    >>> clip = open_source("https://example.org/clip.mp4", live=False)  # doctest: +SKIP
    """
    if live is not None and not isinstance(live, bool):
        raise ValueError(f"live must be True, False or None, got {live!r}")
    camera = _camera_index(source)
    if isinstance(source, (str, os.PathLike)) and live is not False and (
            live or camera is not None or _is_live_url(os.fspath(source))):
        return LiveSource(camera if camera is not None else os.fspath(source), **live_options)
    if camera is not None and not isinstance(source, str):
        if live is False:
            raise ValueError(f"camera {camera} is a live source; live=False is for URLs")
        return LiveSource(camera, **live_options)
    if live_options:
        raise TypeError(f"{', '.join(sorted(live_options))}: options of live sources (a camera "
                        f"or a stream URL), not of {type(source).__name__} sources")
    if live:
        raise ValueError(f"live=True needs a camera index or a URL, got a {type(source).__name__}")
    if isinstance(source, FrameSource):
        return source
    if isinstance(source, np.ndarray):
        return ArraySource(source, fps=fps)
    if isinstance(source, (str, os.PathLike)):
        text = os.fspath(source)
        if "://" in text:
            return VideoFileSource(text)
        path = Path(text)
        if path.is_dir():
            images = _images_in(path)
            if not images:
                raise ValueError(f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) in folder {text}")
            return ImageSequenceSource(images, fps=fps, name=_folder_name(path))
        if path.is_file():
            if path.suffix.lower() in IMAGE_EXTENSIONS:
                return ImageSequenceSource([text], fps=fps, name=path.stem)
            return VideoFileSource(text)
        if _GLOB_CHARS.search(text):
            matches = sorted((p for p in _glob.glob(text) if os.path.isfile(p)), key=_natural_key)
            if not matches:
                raise FileNotFoundError(f"no files match the pattern {text}")
            return ImageSequenceSource(matches, fps=fps, name=Path(matches[0]).parent.name or "<images>")
        raise FileNotFoundError(f"no such file or folder: {text}")
    if isinstance(source, (bytes, bytearray)):
        raise TypeError("pass a path as str or os.PathLike, not bytes")
    if isinstance(source, Iterable):
        return IterableSource(source, fps=fps)
    raise TypeError(f"cannot read frames from a {type(source).__name__}; expected a camera "
                    "index, a URL, a path, a folder, a glob pattern, an ndarray or an iterable "
                    "of frames")


# ---------------------------------------------------------------------------
# sinks
# ---------------------------------------------------------------------------
def _check_mask(mask: Any, size: tuple[int, int] | None, where: str) -> np.ndarray:
    if not isinstance(mask, np.ndarray):
        raise ValueError(f"{where}: a mask must be a numpy array, got {type(mask).__name__}")
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[:, :, 0]
    if mask.ndim != 2:
        raise ValueError(f"{where}: a mask must have shape (H, W), got {tuple(mask.shape)}")
    if mask.dtype == np.bool_:
        mask = mask.view(np.uint8) * np.uint8(255)
    elif mask.dtype != np.uint8:
        raise ValueError(f"{where}: a mask must be uint8 or bool, got dtype {mask.dtype}")
    if size is not None and _size_of(mask) != size:
        raise ValueError(f"{where}: mask is {mask.shape[1]}x{mask.shape[0]} but the sink was "
                         f"opened for {size[0]}x{size[1]} (width x height)")
    return np.ascontiguousarray(mask)


def _create_temp(final: Path, suffix: str) -> tuple[int, Path]:
    """Create a hidden, unique file next to ``final``, opened for writing.

    Unlike ``tempfile.mkstemp`` (mode 0600), the file gets the permissions an
    ordinary new file would get (0666 less the umask), which it keeps when it
    is renamed to ``final``.
    """
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = final.with_name(f".{final.name}.{secrets.token_hex(4)}.part{suffix}")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file next to {final}")  # pragma: no cover


class _TempFileVideo:
    """The life of a video written under a temporary name and renamed when complete.

    Subclasses set ``path``, ``n_written``, ``_writer`` (a ``cv2.VideoWriter``
    once opened), ``_tmp`` (the temporary file) and ``_closed``, and write
    frames; :meth:`close` renames (no file when nothing was written),
    :meth:`abort` discards, and a writer left in a ``with`` block by an
    exception, or abandoned, leaves no temporary file behind.
    """

    path: Path
    n_written: int
    _writer: cv2.VideoWriter | None
    _tmp: Path | None
    _closed: bool

    def close(self) -> None:
        """Finish the video and rename it to its final name (idempotent).

        No file is created when nothing was written.
        """
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self._tmp is not None:
            if self.n_written:
                os.replace(self._tmp, self.path)
            else:
                self._tmp.unlink(missing_ok=True)
            self._tmp = None

    def abort(self) -> None:
        """Discard the video: release the writer and remove the temporary file."""
        if self._closed:
            return
        self._closed = True
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        if self._tmp is not None:
            self._tmp.unlink(missing_ok=True)
            self._tmp = None

    def __enter__(self) -> Any:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        try:
            self.abort()
        except Exception:
            pass


class MaskVideoWriter(_TempFileVideo):
    """Write grey masks to a lossless FFV1 video in a Matroska (``.mkv``) file.

    The video is written under a hidden temporary name next to ``path`` and
    renamed to ``path`` by :meth:`close`, so ``path`` is either absent or a
    complete video. Read back with ``cv2.VideoCapture``, every pixel comes
    back exactly (OpenCV returns it as 3 equal BGR channels unless
    ``CAP_PROP_CONVERT_RGB`` is turned off).

    Parameters
    ----------
    path : str or PathLike
        Final file name; its folder is created if needed. ``.mkv`` is
        recommended (FFV1 is not allowed in MP4).
    fps : float
        Frame rate written in the container.
    frame_size : (width, height) or None
        Size of the masks; None takes it from the first mask.

    Notes
    -----
    Leaving a ``with`` block normally calls :meth:`close`; leaving it with
    an exception calls :meth:`abort`, which removes the temporary file. To
    keep what was written before an interruption, call :meth:`close` in the
    handler. If no mask was written, :meth:`close` creates no file.

    Examples
    --------
    >>> import os, tempfile, cv2, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "masks.mkv")
    >>> with MaskVideoWriter(path, fps=25, frame_size=(64, 48)) as sink:
    ...     sink.write(np.full((48, 64), 255, np.uint8))
    ...     os.path.exists(path)
    False
    >>> ok, frame = cv2.VideoCapture(path).read()
    >>> ok, frame.shape, int(frame.min())
    (True, (48, 64, 3), 255)
    """

    def __init__(self, path: str | os.PathLike[str], fps: float,
                 frame_size: tuple[int, int] | None = None) -> None:
        self.path = Path(path)
        fps = float(fps)
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        if frame_size is not None:
            frame_size = (int(frame_size[0]), int(frame_size[1]))
            if frame_size[0] < 1 or frame_size[1] < 1:
                raise ValueError(f"frame_size must be (width, height) > 0, got {frame_size}")
        if self.path.is_dir():
            raise ValueError(f"{self.path} is a folder; give a file name such as masks.mkv")
        self.fps = fps
        self.frame_size = frame_size
        self.n_written = 0
        self._writer: cv2.VideoWriter | None = None
        self._tmp: Path | None = None
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)
        if frame_size is not None:
            self._open(frame_size)

    def _open(self, frame_size: tuple[int, int]) -> None:
        # The container is chosen by the suffix, so the temporary name keeps it.
        fd, self._tmp = _create_temp(self.path, self.path.suffix or ".mkv")
        os.close(fd)
        tmp = str(self._tmp)
        writer = cv2.VideoWriter(tmp, cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"), self.fps,
                                 frame_size, False)
        if not writer.isOpened():
            writer.release()
            self._tmp.unlink(missing_ok=True)
            self._tmp = None
            raise RuntimeError(f"OpenCV cannot write an FFV1 video to {self.path} (is this "
                               "OpenCV built with FFmpeg? use a .mkv name)")
        self._writer = writer
        self.frame_size = frame_size

    def write(self, mask: np.ndarray) -> None:
        """Append one mask: uint8 (H, W) or (H, W, 1), or bool (written as 0/255)."""
        if self._closed:
            raise ValueError(f"{self.path}: write to a closed MaskVideoWriter")
        mask = _check_mask(mask, self.frame_size, str(self.path))
        if self._writer is None:
            self._open(_size_of(mask))
        assert self._writer is not None
        if self._writer.write(mask) is False:  # OpenCV 5 reports failures; 4.x returns None
            raise RuntimeError(f"{self.path}: OpenCV failed to write mask {self.n_written}")
        self.n_written += 1


class PngMaskWriter:
    """Write masks as PNG files named the CDnet way: ``bin000001.png``, ...

    Each PNG is encoded in memory, written under a hidden temporary name
    and renamed, so every file with a final name is a complete image.

    Parameters
    ----------
    folder : str or PathLike
        Created if needed; existing files of the same names are replaced.
    start_index : int, default=1
        Number of the first file (CDnet counts from 1).
    frame_size : (width, height), optional
        If given, every mask must have this size.

    Examples
    --------
    >>> import os, tempfile, cv2, numpy as np
    >>> folder = tempfile.mkdtemp()
    >>> with PngMaskWriter(folder) as sink:
    ...     sink.write(np.zeros((4, 6), np.uint8))
    ...     sink.write(np.full((4, 6), 255, np.uint8))
    >>> sorted(os.listdir(folder))
    ['bin000001.png', 'bin000002.png']
    >>> int(cv2.imread(os.path.join(folder, "bin000002.png"), cv2.IMREAD_UNCHANGED).min())
    255
    """

    def __init__(self, folder: str | os.PathLike[str], start_index: int = 1,
                 frame_size: tuple[int, int] | None = None) -> None:
        if isinstance(start_index, bool) or not isinstance(start_index, int) or start_index < 0:
            raise ValueError(f"start_index must be an integer >= 0, got {start_index!r}")
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"{self.folder} exists and is not a folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder
        self.start_index = start_index
        self.frame_size = None if frame_size is None else (int(frame_size[0]), int(frame_size[1]))
        self.n_written = 0
        self._closed = False

    def name_for(self, index: int) -> str:
        """File name of the mask numbered ``index`` (``bin000001.png`` for 1)."""
        return f"bin{index:06d}.png"

    def write(self, mask: np.ndarray) -> None:
        """Write the next mask: uint8 (H, W) or (H, W, 1), or bool (0/255)."""
        if self._closed:
            raise ValueError(f"{self.folder}: write to a closed PngMaskWriter")
        mask = _check_mask(mask, self.frame_size, str(self.folder))
        ok, data = cv2.imencode(".png", mask)
        if not ok:  # pragma: no cover - imencode fails only on bad input
            raise RuntimeError(f"PNG encoding failed for mask {self.n_written}")
        final = self.folder / self.name_for(self.start_index + self.n_written)
        fd, tmp = _create_temp(final, ".tmp")
        try:
            with os.fdopen(fd, "wb") as fh:
                fh.write(data.tobytes())
            os.replace(tmp, final)
        except BaseException:
            Path(tmp).unlink(missing_ok=True)
            raise
        self.n_written += 1

    def close(self) -> None:
        """Nothing to finish (every file is complete when written); idempotent."""
        self._closed = True

    def abort(self) -> None:
        """Stop writing; files already written are complete and kept."""
        self._closed = True

    def __enter__(self) -> PngMaskWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_mask_sink(path_or_dir: str | os.PathLike[str], kind: Literal["mkv", "png"] = "mkv",
                   fps: float | None = None,
                   frame_size: tuple[int, int] | None = None) -> MaskVideoWriter | PngMaskWriter:
    """Open a mask sink: an FFV1 video file or a folder of CDnet-named PNGs.

    Parameters
    ----------
    path_or_dir : str or PathLike
        The video file (``kind="mkv"``) or the folder (``kind="png"``).
    kind : {"mkv", "png"}
    fps : float, optional
        Video frame rate; :data:`DEFAULT_FPS` when None. Ignored for PNGs.
    frame_size : (width, height), optional
        Expected mask size; None takes it from the first mask.

    Returns
    -------
    MaskVideoWriter or PngMaskWriter
        With ``write(mask)``, ``close()``, ``abort()``, ``path`` and
        ``n_written``.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> out = tempfile.mkdtemp()
    >>> with open_mask_sink(os.path.join(out, "masks"), kind="png") as sink:
    ...     sink.write(np.zeros((4, 6), np.uint8))
    >>> os.listdir(os.path.join(out, "masks"))
    ['bin000001.png']
    """
    if kind == "mkv":
        return MaskVideoWriter(path_or_dir, DEFAULT_FPS if fps is None else fps, frame_size)
    if kind == "png":
        return PngMaskWriter(path_or_dir, frame_size=frame_size)
    raise ValueError(f"unknown mask sink kind {kind!r}; expected 'mkv' or 'png'")
