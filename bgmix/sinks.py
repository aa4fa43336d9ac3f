"""Video sinks for people to look at: the overlay and the background.

:class:`OverlayVideoWriter` writes each frame with its mask tinted on it
(foreground red, shadow blue) and the blobs' boxes drawn;
:class:`BackgroundVideoWriter` writes the model's background image
(:meth:`~bgmix.BackgroundMixture.background_image`) every frame or every
``every`` frames. :func:`render_overlay` is the drawing on its own (used by
``bgmix run --preview``).

Both keep the contract of the mask sinks of :mod:`bgmix.io`: the video is
written under a hidden temporary name next to the final one (same suffix,
so the same container) and renamed by ``close()``; ``abort()`` removes it.
A run that is killed outright leaves only the hidden ``.NAME.*.part.SUFFIX``
file, which holds the frames written so far.

:class:`ThreadedWriter` runs any of these sinks (or the mask sinks) on a
thread of its own, so that encoding overlaps the model's work on the next
frame; ``bgmix run`` writes its mask and overlay videos this way.

Codecs follow the suffix: ``.mp4`` MPEG-4 Part 2 (``mp4v``, the one MP4
encoder opencv-python wheels carry), ``.avi`` and ``.mkv`` Motion JPEG
(every frame a JPEG: cheap to encode, seekable, plays everywhere). Frames
are made 8-bit BGR for display: grey frames are repeated on three channels,
16-bit frames are stretched from their own minimum to maximum (per frame for
the overlay, per image for the background), float frames are clipped to
0..255.
"""

from __future__ import annotations

import os
import queue
import threading
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bgmix.io import _create_temp, _TempFileVideo

__all__ = ["OVERLAY_SUFFIXES", "BackgroundVideoWriter", "OverlayVideoWriter", "ThreadedWriter",
           "render_overlay", "to_display"]

OVERLAY_SUFFIXES = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
"""Accepted suffixes of overlay and background videos and the codec (fourcc) of each."""

FOREGROUND_TINT = (0, 0, 255)
"""BGR colour blended over foreground pixels (red)."""
SHADOW_TINT = (255, 128, 0)
"""BGR colour blended over shadow pixels (blue)."""
BOX_COLOUR = (0, 255, 0)
"""BGR colour of the blob boxes (green)."""


def to_display(image: np.ndarray) -> np.ndarray:
    """An 8-bit BGR (H, W, 3) copy of a frame or background image, for viewing.

    uint8 is kept; uint16 is stretched from its minimum to its maximum;
    float is clipped to [0, 255]; grey becomes three equal channels.

    Examples
    --------
    >>> to_display(np.array([[0, 1000], [2000, 4000]], np.uint16))[:, :, 0].tolist()
    [[0, 64], [128, 255]]
    """
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3):
        shape = getattr(image, "shape", None)
        raise ValueError(f"a frame must be an (H, W) or (H, W, C) array, got shape {shape}")
    if image.dtype == np.uint16:
        low, high = int(image.min()), int(image.max())
        scale = 255.0 / (high - low) if high > low else 0.0
        image = np.rint((image.astype(np.float32) - low) * scale).astype(np.uint8)
    elif image.dtype.kind == "f":
        image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ValueError(f"a frame must be uint8, uint16 or float, got dtype {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    channels = image.shape[2]
    if channels == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels == 4:
        return np.ascontiguousarray(image[:, :, :3])
    if channels != 3:
        raise ValueError(f"a frame must have 1, 3 or 4 channels, got {channels}")
    return np.array(image, copy=True, order="C")


def render_overlay(frame: np.ndarray, mask: np.ndarray, blobs: Any = None, *,
                   alpha: float = 0.5) -> np.ndarray:
    """The frame with its mask tinted on it and the blobs' boxes drawn.

    Parameters
    ----------
    frame : numpy.ndarray
        The frame, as the source gave it (see :func:`to_display`).
    mask : numpy.ndarray
        uint8 (H, W): 255 foreground (tinted red), 1..254 shadow (tinted
        blue), 0 background (left as it is).
    blobs : Blobs, optional
        Anything with ``boxes`` (N, 4) ``x1, y1, x2, y2`` (exclusive); each
        is drawn as a 1-pixel green rectangle around the blob's pixels.
    alpha : float, default 0.5
        Weight of the tint.

    Returns
    -------
    numpy.ndarray
        uint8 (H, W, 3) BGR.

    Examples
    --------
    >>> from bgmix.blobs import find_blobs
    >>> frame = np.zeros((6, 8, 3), np.uint8)
    >>> mask = np.zeros((6, 8), np.uint8); mask[2:4, 3:5] = 255
    >>> picture = render_overlay(frame, mask, find_blobs(mask))
    >>> picture[2, 3].tolist(), picture[0, 0].tolist()   # a box pixel, an untouched one
    ([0, 255, 0], [0, 0, 0])
    >>> render_overlay(frame, mask)[2, 3].tolist()       # tinted red
    [0, 0, 128]
    """
    picture = to_display(frame)
    if not isinstance(mask, np.ndarray) or mask.shape[:2] != picture.shape[:2] or mask.ndim != 2:
        raise ValueError(f"the mask must be (H, W) = {picture.shape[:2]} like the frame, got "
                         f"{getattr(mask, 'shape', None)}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    for selected, tint in ((mask == 255, FOREGROUND_TINT), ((mask > 0) & (mask < 255), SHADOW_TINT)):
        if selected.any():
            blended = picture[selected] * (1.0 - alpha) + np.asarray(tint, np.float64) * alpha
            picture[selected] = np.rint(blended).astype(np.uint8)
    if blobs is not None:
        for x1, y1, x2, y2 in np.asarray(blobs.boxes).reshape(-1, 4).tolist():
            # boxes are exclusive; cv2.rectangle's second corner is inclusive
            cv2.rectangle(picture, (int(x1), int(y1)), (int(x2) - 1, int(y2) - 1), BOX_COLOUR, 1)
    return picture


class _AtomicColourVideo(_TempFileVideo):
    """A colour video written under a temporary name and renamed on close."""

    kind = "video"

    def __init__(self, path: str | os.PathLike[str], fps: float,
                 frame_size: tuple[int, int] | None = None) -> None:
        self.path = Path(path)
        suffix = self.path.suffix.lower()
        if suffix not in OVERLAY_SUFFIXES:
            raise ValueError(f"{self.kind} video {self.path}: the name must end in "
                             f"{', '.join(OVERLAY_SUFFIXES)}, got {suffix or 'no suffix'!r}")
        fps = float(fps)
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        if self.path.is_dir():
            raise ValueError(f"{self.path} is a folder; give a file name such as "
                             f"{self.kind}{suffix}")
        self.fps = fps
        self.frame_size = None if frame_size is None else (int(frame_size[0]), int(frame_size[1]))
        self.fourcc = OVERLAY_SUFFIXES[suffix]
        self.n_written = 0
        self._writer: cv2.VideoWriter | None = None
        self._tmp: Path | None = None
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)

    def _open(self, frame_size: tuple[int, int]) -> None:
        fd, self._tmp = _create_temp(self.path, self.path.suffix)
        os.close(fd)
        writer = cv2.VideoWriter(str(self._tmp), cv2.CAP_FFMPEG,
                                 cv2.VideoWriter_fourcc(*self.fourcc), self.fps, frame_size, True)
        if not writer.isOpened():
            writer.release()
            self._tmp.unlink(missing_ok=True)
            self._tmp = None
            raise RuntimeError(f"OpenCV cannot write a {self.fourcc} video to {self.path}")
        self._writer = writer
        self.frame_size = frame_size

    def _write_picture(self, picture: np.ndarray) -> None:
        if self._closed:
            raise ValueError(f"{self.path}: write to a closed {type(self).__name__}")
        size = (int(picture.shape[1]), int(picture.shape[0]))
        if self.frame_size is not None and size != self.frame_size:
            raise ValueError(f"{self.path}: frame {self.n_written} is {size[0]}x{size[1]} but the "
                             f"video was opened for {self.frame_size[0]}x{self.frame_size[1]}")
        if self._writer is None:
            self._open(size)
        assert self._writer is not None
        if self._writer.write(picture) is False:  # OpenCV 5 reports failures; 4.x returns None
            raise OSError(f"{self.path}: OpenCV failed to write frame {self.n_written}")
        self.n_written += 1


class OverlayVideoWriter(_AtomicColourVideo):
    """Write frames with their masks tinted and blob boxes drawn (:func:`render_overlay`).

    Parameters
    ----------
    path : str or PathLike
        Final name, ending in ``.mp4``, ``.avi`` or ``.mkv``; its folder is
        created if needed.
    fps : float
        Frame rate written in the container.
    frame_size : (width, height), optional
        Size of the frames; None takes it from the first frame.
    alpha : float, default 0.5
        Weight of the tint.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "overlay.mp4")
    >>> mask = np.zeros((48, 64), np.uint8); mask[10:20, 10:30] = 255
    >>> with OverlayVideoWriter(path, fps=25) as sink:
    ...     sink.write(np.full((48, 64, 3), 90, np.uint8), mask)
    ...     os.path.exists(path)
    False
    >>> capture = cv2.VideoCapture(path)
    >>> int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), capture.read()[1].shape
    (1, (48, 64, 3))
    """

    kind = "overlay"

    def __init__(self, path: str | os.PathLike[str], fps: float,
                 frame_size: tuple[int, int] | None = None, *, alpha: float = 0.5) -> None:
        if not 0.0 <= float(alpha) <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.alpha = float(alpha)
        super().__init__(path, fps, frame_size)

    def write(self, frame: np.ndarray, mask: np.ndarray, blobs: Any = None) -> None:
        """Append one frame drawn with its mask and, if given, its blobs' boxes."""
        self._write_picture(render_overlay(frame, mask, blobs, alpha=self.alpha))


class BackgroundVideoWriter(_AtomicColourVideo):
    """Write the model's background image every ``every`` frames.

    Call :meth:`write` once per processed frame with the model; the
    background image is computed (one pass over the state) only on the
    calls numbered 1, 1 + every, 1 + 2 every, ...

    Parameters
    ----------
    path : str or PathLike
        Final name, ending in ``.mp4``, ``.avi`` or ``.mkv``.
    fps : float
        Frame rate of the *source*; the video gets ``fps / every`` so that it
        lasts as long as the source.
    frame_size : (width, height), optional
        None takes it from the first image.
    every : int, default 1
        Write one background image per this many frames.

    Examples
    --------
    >>> import os, tempfile
    >>> from bgmix import BackgroundMixture
    >>> model = BackgroundMixture()
    >>> path = os.path.join(tempfile.mkdtemp(), "background.avi")
    >>> with BackgroundVideoWriter(path, fps=25, every=2) as sink:
    ...     for i in range(5):
    ...         _ = model.apply(np.full((48, 64, 3), 80, np.uint8))
    ...         sink.write(model)
    ...     sink.n_written
    3
    >>> int(cv2.VideoCapture(path).get(cv2.CAP_PROP_FRAME_COUNT))
    3
    """

    kind = "background"

    def __init__(self, path: str | os.PathLike[str], fps: float,
                 frame_size: tuple[int, int] | None = None, *, every: int = 1) -> None:
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"every must be an integer >= 1, got {every!r}")
        self.every = int(every)
        self.n_calls = 0
        super().__init__(path, float(fps) / self.every, frame_size)

    def write(self, model_or_image: Any) -> None:
        """Count one frame; on every ``every``-th (from the first) write the background.

        Parameters
        ----------
        model_or_image : BackgroundMixture or numpy.ndarray
            A model (its ``background_image()`` is taken only when needed)
            or a ready background image.
        """
        due = self.n_calls % self.every == 0
        self.n_calls += 1
        if not due:
            return
        if isinstance(model_or_image, np.ndarray):
            image = model_or_image
        else:
            image = model_or_image.background_image()
        self._write_picture(to_display(image))


_STOP = object()
"""Put on a :class:`ThreadedWriter`'s queue by ``close``/``abort``: no more writes follow."""


class _WriterThreadState:
    """What the writer thread uses; holds no reference to its ThreadedWriter, so an
    abandoned writer can be collected and its finaliser stop the thread."""

    def __init__(self, sink: Any, max_pending: int) -> None:
        self.sink = sink
        self.queue: queue.Queue[Any] = queue.Queue(maxsize=max_pending)
        self.error: BaseException | None = None
        self.dropping = threading.Event()  # abort: discard what is queued

    def run(self) -> None:
        while True:
            item = self.queue.get()
            if item is _STOP:
                return
            if self.error is not None or self.dropping.is_set():
                continue  # keep taking items so that a waiting write() is released
            try:
                self.sink.write(*item)
            except BaseException as exc:  # handed to the caller by write()/close()
                self.error = exc


class ThreadedWriter:
    """Do a sink's writes on a thread of its own, in order, at most ``max_pending`` behind.

    ``write(*args)`` hands its arguments to the thread and returns; the
    thread calls ``sink.write(*args)`` in the order the writes were made.
    The arrays passed must not be changed afterwards (bgmix's masks and
    decoded frames are new arrays every frame). A full queue makes
    ``write`` wait, so memory stays bounded and a slow disk slows the run
    rather than filling memory.

    An error in the thread (disk full, encoder failure) stops the writing;
    it is raised, unchanged (its message names the file), by the next
    :meth:`write` or by :meth:`close`. :meth:`close` waits for every queued
    write, then closes the sink (rename to the final name), so stopping a
    run by closing it keeps every frame handed to ``write``;
    :meth:`abort` drops the queued writes and aborts the sink. A process
    killed outright loses the (at most ``max_pending``) queued frames; the
    sink's temporary file holds the ones written before.

    Parameters
    ----------
    sink : object
        Anything with ``write``, ``close`` and ``abort`` (a
        :class:`~bgmix.io.MaskVideoWriter`, :class:`~bgmix.io.PngMaskWriter`,
        :class:`OverlayVideoWriter`, ...). Only the thread uses it until
        ``close`` or ``abort`` returns.
    max_pending : int, default 3
        Writes that may wait in the queue (1..64).

    Attributes
    ----------
    sink : object
        The wrapped sink.
    path : Path or None
        The sink's ``path``.

    Examples
    --------
    >>> import os, tempfile
    >>> from bgmix.io import MaskVideoWriter
    >>> path = os.path.join(tempfile.mkdtemp(), "masks.mkv")
    >>> writer = ThreadedWriter(MaskVideoWriter(path, fps=25))
    >>> for value in (0, 128, 255):
    ...     writer.write(np.full((48, 64), value, np.uint8))
    >>> writer.close()
    >>> writer.n_written, int(cv2.VideoCapture(path).get(cv2.CAP_PROP_FRAME_COUNT))
    (3, 3)
    """

    def __init__(self, sink: Any, *, max_pending: int = 3) -> None:
        for method in ("write", "close", "abort"):
            if not callable(getattr(sink, method, None)):
                raise TypeError(f"the sink must have a {method}() method, got "
                                f"{type(sink).__name__}")
        if isinstance(max_pending, bool) or not isinstance(max_pending, (int, np.integer)) \
                or not 1 <= max_pending <= 64:
            raise ValueError(f"max_pending must be an integer in 1..64, got {max_pending!r}")
        self.sink = sink
        self.path = getattr(sink, "path", None)
        self.max_pending = int(max_pending)
        self._finished = False
        self._state = _WriterThreadState(sink, self.max_pending)
        # A daemon: an abandoned writer must not keep the interpreter alive.
        self._thread = threading.Thread(target=self._state.run, daemon=True,
                                        name=f"bgmix-writer:{getattr(self.path, 'name', '')}")
        self._thread.start()

    @property
    def n_written(self) -> int:
        """Writes the sink has completed (those still queued are not counted)."""
        return int(getattr(self.sink, "n_written", 0))

    def _raise_error(self) -> None:
        if self._state.error is not None:
            raise self._state.error

    def write(self, *args: Any) -> None:
        """Queue ``sink.write(*args)``; raise the error of an earlier write, if any."""
        if self._finished:
            raise ValueError(f"{self.path}: write to a closed {type(self).__name__}")
        self._raise_error()
        self._state.queue.put(args)

    def _stop_thread(self) -> None:
        if self._thread.is_alive():
            self._state.queue.put(_STOP)
            self._thread.join()

    def close(self) -> None:
        """Finish every queued write, then close the sink (idempotent).

        Raises the thread's error instead if a write failed; the sink is
        then left for :meth:`abort`.
        """
        if self._finished:
            self._raise_error()
            return
        self._finished = True
        self._stop_thread()
        self._raise_error()
        self.sink.close()

    def abort(self) -> None:
        """Drop the queued writes and abort the sink (idempotent)."""
        self._finished = True
        self._state.dropping.set()
        self._stop_thread()
        self.sink.abort()

    def __enter__(self) -> ThreadedWriter:
        return self

    def __exit__(self, exc_type: object, *exc: object) -> None:
        if exc_type is None:
            self.close()
        else:
            self.abort()

    def __del__(self) -> None:
        try:
            if not self._finished:
                self.abort()
        except Exception:
            pass
