"""The loop: source -> model -> postprocess -> blobs, one result per frame.

:func:`process` opens a source (anything :func:`bgmix.io.open_source`
takes), runs each frame through a :class:`~bgmix.model.BackgroundMixture`,
optionally cleans the mask with a :class:`~bgmix.postprocess.Postprocess`,
finds the blobs, and yields a :class:`FrameResult` per frame. The returned
:class:`Processing` iterator keeps running :class:`ProcessStats` and closes
the source when it is exhausted, closed, or left as a context manager.

Buffers
-------
Masks (raw and cleaned) are new arrays every frame: a consumer may keep
them. The probability map is one float32 buffer, allocated on the first
frame and refilled every frame: copy ``result.probability`` to keep it past
the next frame.
"""

from __future__ import annotations

import numbers
import time
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import numpy as np

from bgmix.blobs import Blobs, find_blobs
from bgmix.io import FrameSource, open_source
from bgmix.model import BackgroundMixture
from bgmix.postprocess import Postprocess, clean_mask

__all__ = ["FrameResult", "ProcessStats", "Processing", "process"]


@dataclass(frozen=True, eq=False)
class FrameResult:
    """What the pipeline produced for one frame.

    Attributes
    ----------
    index : int
        0-based position of the frame in the stream.
    timestamp : float
        Seconds from the start of processing to the moment the frame was
        read (``time.monotonic`` clock).
    frame : numpy.ndarray
        The frame as the source gave it.
    mask : numpy.ndarray
        uint8 (H, W) mask, 0 / 127 / 255, after the postprocess step when
        one was given; otherwise the raw mask itself.
    raw_mask : numpy.ndarray
        uint8 (H, W) mask straight from the model.
    probability : numpy.ndarray or None
        float32 (H, W) foreground probability when asked for. This is a
        buffer reused for every frame: copy it to keep it.
    blobs : Blobs or None
        Connected components of ``mask`` (None when blobs were not asked for).
    latency_s : float
        Seconds from the frame being read to this result being ready.
    """

    index: int
    timestamp: float
    frame: np.ndarray
    mask: np.ndarray
    raw_mask: np.ndarray
    probability: np.ndarray | None
    blobs: Blobs | None
    latency_s: float


@dataclass(frozen=True)
class ProcessStats:
    """Counters and timings of a :class:`Processing` run so far.

    Attributes
    ----------
    frames_read : int
        Frames taken from the source.
    frames_processed : int
        Frames for which a result was yielded.
    frames_dropped : int
        Frames the source skipped to keep up (always 0 for files, arrays
        and folders, which never drop).
    fps : float
        Frames processed per second of wall time since processing started
        (0.0 before the first result).
    mean_latency_s, max_latency_s : float
        Mean and largest :attr:`FrameResult.latency_s` (0.0 before the
        first result).
    elapsed_s : float
        Wall time from the start of processing to the last result.
    """

    frames_read: int = 0
    frames_processed: int = 0
    frames_dropped: int = 0
    fps: float = 0.0
    mean_latency_s: float = 0.0
    max_latency_s: float = 0.0
    elapsed_s: float = 0.0


class Processing(Iterator[FrameResult]):
    """Iterator of :class:`FrameResult` returned by :func:`process`.

    Attributes
    ----------
    source : FrameSource
        The opened source; closed when iteration ends or :meth:`close` is called.
    model : BackgroundMixture
        The model being run (learns in place).
    stats : ProcessStats
        A snapshot of the counters, taken when the attribute is read.

    Notes
    -----
    A context manager: leaving the ``with`` block calls :meth:`close`, which
    closes the source (stopping a video decoding thread). :meth:`close` is
    idempotent; iteration after it stops.
    """

    def __init__(self, source: FrameSource, model: BackgroundMixture, *,
                 postprocess: Postprocess | None, probability: bool, blobs: bool,
                 min_area: int, learning_rate: float | None, max_frames: int | None) -> None:
        self.source = source
        self.model = model
        self._postprocess = postprocess
        self._want_probability = probability
        self._want_blobs = blobs
        self._min_area = min_area
        self._learning_rate = learning_rate
        self._max_frames = max_frames
        self._probability: np.ndarray | None = None
        self._closed = False
        self._start = time.monotonic()
        self._frames_read = 0
        self._frames_processed = 0
        self._latency_sum = 0.0
        self._latency_max = 0.0
        self._last_done = self._start

    # ------------------------------------------------------------------ stats
    @property
    def stats(self) -> ProcessStats:
        processed = self._frames_processed
        elapsed = self._last_done - self._start
        return ProcessStats(
            frames_read=self._frames_read,
            frames_processed=processed,
            frames_dropped=int(getattr(self.source, "frames_dropped", 0) or 0),
            fps=processed / elapsed if processed and elapsed > 0 else 0.0,
            mean_latency_s=self._latency_sum / processed if processed else 0.0,
            max_latency_s=self._latency_max,
            elapsed_s=elapsed if processed else 0.0,
        )

    # -------------------------------------------------------------- iteration
    def __iter__(self) -> Processing:
        return self

    def __next__(self) -> FrameResult:
        if self._closed:
            raise StopIteration
        if self._max_frames is not None and self._frames_read >= self._max_frames:
            self.close()
            raise StopIteration
        try:
            frame = next(self.source)
        except BaseException:  # the end of the stream, or a read error
            self.close()
            raise
        t_read = time.monotonic()
        index = self._frames_read
        self._frames_read += 1
        try:
            result = self._process(index, frame, t_read)
        except BaseException:
            self.close()
            raise
        return result

    def _process(self, index: int, frame: np.ndarray, t_read: float) -> FrameResult:
        probability = None
        if self._want_probability:
            shape = frame.shape[:2]
            if self._probability is None or self._probability.shape != shape:
                self._probability = np.empty(shape, np.float32)
            probability = self._probability
        raw_mask = self.model.apply(frame, self._learning_rate, probability=probability)
        if self._postprocess is not None:
            mask = clean_mask(raw_mask, self._postprocess)
        else:
            mask = raw_mask
        found = find_blobs(mask, probability, min_area=self._min_area) if self._want_blobs else None
        done = time.monotonic()
        latency = done - t_read
        self._frames_processed += 1
        self._latency_sum += latency
        self._latency_max = max(self._latency_max, latency)
        self._last_done = done
        return FrameResult(index=index, timestamp=t_read - self._start, frame=frame, mask=mask,
                           raw_mask=raw_mask, probability=probability, blobs=found,
                           latency_s=latency)

    # -------------------------------------------------------------- lifetime
    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop processing and close the source (idempotent)."""
        if not self._closed:
            self._closed = True
            self.source.close()

    def __enter__(self) -> Processing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Processing(source={self.source!r}, closed={self._closed}, stats={self.stats!r})"


def _check_count(name: str, value: Any, *, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        expected = "an integer >= 0" + (" or None" if allow_none else "")
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def process(source: Any, model: BackgroundMixture | None = None, *,
            postprocess: Postprocess | None = None, probability: bool = False,
            blobs: bool = True, min_area: int = 0, learning_rate: float | None = None,
            max_frames: int | None = None) -> Processing:
    """Run background subtraction over a source, one :class:`FrameResult` per frame.

    Parameters
    ----------
    source : FrameSource, str, PathLike, ndarray or iterable of ndarray
        Anything :func:`bgmix.io.open_source` opens (a video file, a folder
        of images, a glob pattern, an (N, H, W[, C]) array, ...); a
        FrameSource is used as is.
    model : BackgroundMixture, optional
        The model to run (it keeps learning in place); a new
        ``BackgroundMixture()`` when None.
    postprocess : Postprocess, optional
        Clean-up applied to each raw mask (:func:`bgmix.postprocess.clean_mask`);
        ``FrameResult.mask`` is the cleaned mask. None keeps the raw mask.
    probability : bool, default False
        Also compute the per-pixel foreground probability (float32, one
        buffer reused every frame); it also sets the blobs' confidences.
    blobs : bool, default True
        Find the connected components of each mask (:func:`bgmix.blobs.find_blobs`).
    min_area : int, default 0
        Leave out blobs of fewer pixels (the mask itself is not changed;
        use ``Postprocess(min_area=...)`` for that).
    learning_rate : float or None
        Passed to :meth:`BackgroundMixture.apply` for every frame.
    max_frames : int, optional
        Stop (and close the source) after this many frames.

    Returns
    -------
    Processing
        An iterator of :class:`FrameResult` with ``stats``
        (:class:`ProcessStats`) and ``close()``; also a context manager.

    Raises
    ------
    ValueError
        A bad ``min_area`` or ``max_frames`` (at the call), a frame the model
        refuses (while iterating; the source is closed first).

    Examples
    --------
    >>> import numpy as np
    >>> frames = np.zeros((20, 24, 32, 3), np.uint8)
    >>> frames[-1, 8:16, 10:20] = 200           # an object in the last frame
    >>> with process(frames, probability=True) as results:
    ...     for result in results:
    ...         pass
    ...     stats = results.stats
    >>> result.index, result.mask.shape, result.probability.dtype
    (19, (24, 32), dtype('float32'))
    >>> [tuple(int(v) for v in box) for box in result.blobs.boxes]
    [(10, 8, 20, 16)]
    >>> stats.frames_read, stats.frames_processed, stats.frames_dropped
    (20, 20, 0)
    >>> results.closed
    True

    Stop early with ``max_frames``:

    >>> results = process(frames, max_frames=5, blobs=False)
    >>> [r.index for r in results], results.stats.frames_processed, results.source.closed
    ([0, 1, 2, 3, 4], 5, True)
    """
    min_area = _check_count("min_area", min_area, allow_none=False)  # type: ignore[assignment]
    max_frames = _check_count("max_frames", max_frames, allow_none=True)
    if postprocess is not None and not isinstance(postprocess, Postprocess):
        raise ValueError(f"postprocess must be a Postprocess or None, got {type(postprocess).__name__}")
    if model is None:
        model = BackgroundMixture()
    elif not isinstance(model, BackgroundMixture):
        raise ValueError(f"model must be a BackgroundMixture or None, got {type(model).__name__}")
    BackgroundMixture._check_learning_rate(learning_rate)
    frames = source if isinstance(source, FrameSource) else open_source(source)
    return Processing(frames, model, postprocess=postprocess, probability=bool(probability),
                      blobs=bool(blobs), min_area=int(min_area), learning_rate=learning_rate,
                      max_frames=max_frames)
