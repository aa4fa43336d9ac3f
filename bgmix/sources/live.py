"""Cameras and live streams: :class:`LiveSource`, newest frame first, never queued.

A camera index (``0``) or a stream URL (``rtsp://``, ``rtmp://``,
``http(s)://``, e.g. MJPEG over HTTP) opens a :class:`LiveSource`: a reader
thread grabs frames as fast as the camera sends them and keeps only the
newest one, so a model slower than the camera skips stale frames (counted in
``frames_dropped``) instead of queueing them; each frame's grab time is in
``capture_time``. A lost stream is re-opened with exponential backoff, and
after ``reconnect_attempts`` failures iteration raises
:class:`~bgmix.errors.StreamLostError`.
"""

from __future__ import annotations

import re
import threading
import time
import weakref
from typing import Any

import cv2
import numpy as np

from bgmix.errors import StreamLostError
from bgmix.sources.base import FrameSource

__all__ = ["LiveSource"]

_CREDENTIALS = re.compile(r"(?<=://)([^/@:]*):[^/@]*@")


def _redact(url: str) -> str:
    """``rtsp://user:secret@host/x`` -> ``rtsp://user:***@host/x`` for messages."""
    return _CREDENTIALS.sub(r"\1:***@", url)


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


def _reader_count(name: str) -> property:
    return property(lambda self: getattr(self._reader, name),
                    doc=f"The reader thread's ``{name}`` (see the class's attributes).")


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
    def capture_time(self) -> float | None:
        return self._capture_time

    frames_read = _reader_count("frames_read")
    frames_dropped = _reader_count("frames_dropped")
    reconnects = _reader_count("reconnects")

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
