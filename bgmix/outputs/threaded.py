"""A sink's writes on a thread of its own: :class:`ThreadedWriter`.

Encoding a frame (FFV1, Motion JPEG, PNG) on a thread of its own overlaps
the model's work on the next frame; ``bgmix run`` writes its mask, overlay
and other image outputs this way.
"""

from __future__ import annotations

import queue
import threading
from typing import Any

import numpy as np

from bgmix.outputs import Sink

__all__ = ["ThreadedWriter"]


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


class ThreadedWriter(Sink):
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
        Anything with ``write``, ``close``, ``abort`` and ``frames_written`` (a
        :class:`~bgmix.outputs.masks.MaskVideoWriter`,
        :class:`~bgmix.outputs.masks.PngMaskWriter`,
        :class:`~bgmix.outputs.videos.OverlayVideoWriter`, ...). Only the
        thread uses it until ``close`` or ``abort`` returns.
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
    >>> import os, tempfile, cv2
    >>> from bgmix.outputs.masks import MaskVideoWriter
    >>> path = os.path.join(tempfile.mkdtemp(), "masks.mkv")
    >>> writer = ThreadedWriter(MaskVideoWriter(path, fps=25))
    >>> for value in (0, 128, 255):
    ...     writer.write(np.full((48, 64), value, np.uint8))
    >>> writer.close()
    >>> writer.frames_written, int(cv2.VideoCapture(path).get(cv2.CAP_PROP_FRAME_COUNT))
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
        self._closed = False
        self._state = _WriterThreadState(sink, self.max_pending)
        # A daemon: an abandoned writer must not keep the interpreter alive.
        self._thread = threading.Thread(target=self._state.run, daemon=True,
                                        name=f"bgmix-writer:{getattr(self.path, 'name', '')}")
        self._thread.start()

    @property
    def frames_written(self) -> int:
        """Writes the sink has completed (those still queued are not counted)."""
        return int(self.sink.frames_written)

    @property
    def n_written(self) -> int:
        """Same as :attr:`frames_written`."""
        return self.frames_written

    def _raise_error(self) -> None:
        if self._state.error is not None:
            raise self._state.error

    def write(self, *args: Any) -> None:
        """Queue ``sink.write(*args)``; raise the error of an earlier write, if any."""
        if self._closed:
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
        if self._closed:
            self._raise_error()
            return
        self._closed = True
        self._stop_thread()
        self._raise_error()
        self.sink.close()

    def abort(self) -> None:
        """Drop the queued writes and abort the sink (idempotent)."""
        self._closed = True
        self._state.dropping.set()
        self._stop_thread()
        self.sink.abort()
