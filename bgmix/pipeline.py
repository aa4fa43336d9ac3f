"""The loop: source -> model -> postprocess -> blobs, one result per frame.

:func:`process` opens a source (anything :func:`bgmix.sources.open_source`
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
from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import numpy as np

from bgmix.model import BackgroundMixture
from bgmix.sources import FrameSource, open_source

if TYPE_CHECKING:
    from bgmix.blobs import Blobs
    from bgmix.postprocess import Postprocess

__all__ = ["FrameResult", "ProcessStats", "Processing", "process"]

LATENCY_WINDOW = 1000
"""Number of recent frames the latency median and 95th percentile are taken over."""


@dataclass(frozen=True, eq=False)
class FrameResult:
    """What the pipeline produced for one frame.

    Attributes
    ----------
    index : int
        0-based position of the frame in the stream.
    timestamp : float
        Seconds from the start of processing to the moment the frame was
        read (``time.monotonic`` clock); for a live source, to the moment
        its reader grabbed it from the camera (negative for a frame grabbed
        before processing started).
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
        Seconds from the frame being read (grabbed from the camera, for a
        live source) to this result being ready.
    log_likelihood : numpy.ndarray or None
        float32 (H, W) log-likelihood of each pixel under its background
        components (:meth:`BackgroundMixture.score_samples`, from the model
        as it was before this frame) when asked for; a reused buffer too.
    """

    index: int
    timestamp: float
    frame: np.ndarray
    mask: np.ndarray
    raw_mask: np.ndarray
    probability: np.ndarray | None
    blobs: Blobs | None
    latency_s: float
    log_likelihood: np.ndarray | None = None


@dataclass(frozen=True)
class ProcessStats:
    """Counters and timings of a :class:`Processing` run so far.

    Attributes
    ----------
    frames_read : int
        Frames taken from the source; for a live source, every frame its
        reader grabbed (so ``frames_read = frames_processed + frames_dropped``,
        plus one while a grabbed frame waits to be taken).
    frames_processed : int
        Frames for which a result was yielded.
    frames_dropped : int
        Frames a live source skipped because processing was slower than the
        camera (always 0 for files, arrays and folders, which never drop).
    reconnects : int
        Times a live source re-opened its lost stream.
    fps : float
        Frames processed per second of wall time since processing started
        (0.0 before the first result).
    mean_latency_s, max_latency_s : float
        Mean and largest :attr:`FrameResult.latency_s` (0.0 before the
        first result).
    median_latency_s, p95_latency_s : float
        Median and 95th percentile of :attr:`FrameResult.latency_s` over the
        last :data:`LATENCY_WINDOW` frames (0.0 before the first result). For
        a live source this is capture-to-mask time.
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
    reconnects: int = 0
    median_latency_s: float = 0.0
    p95_latency_s: float = 0.0


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
                 log_likelihood: bool = False,
                 min_area: int, learning_rate: float | None, max_frames: int | None,
                 bootstrap: int | None = None, bootstrap_source: FrameSource | None = None,
                 bootstrap_options: dict[str, Any] | None = None,
                 roi: np.ndarray | None = None, zones: Any = None) -> None:
        self.source = source
        self.model = model
        self._postprocess = None
        self.postprocess = postprocess
        self._roi = None if roi is None else np.asarray(roi, dtype=bool)
        # Zones are rasterised on the first frame, when the frame size is known.
        self._zone_spec = zones
        self._zones: Any = None
        if blobs:
            from bgmix.blobs import find_blobs

            self._find_blobs = find_blobs
        self._want_probability = probability
        self._want_log_likelihood = log_likelihood
        self._log_likelihood: np.ndarray | None = None
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
        self._recent_latencies: deque[float] = deque(maxlen=LATENCY_WINDOW)
        self._last_done = self._start
        self._first_layout: tuple[tuple[int, int], int, np.dtype] | None = None
        self._bootstrap = bootstrap
        self._bootstrap_source = bootstrap_source
        self._bootstrap_options = dict(bootstrap_options or {})
        # Frames read for the bootstrap fit, still to be classified: (index, frame, t_read).
        self._pending: deque[tuple[int, np.ndarray, float]] = deque()

    # ------------------------------------------------------------------ stats
    @property
    def stats(self) -> ProcessStats:
        processed = self._frames_processed
        elapsed = self._last_done - self._start
        # A live source counts what its reader grabbed, dropped frames included.
        grabbed = getattr(self.source, "frames_read", None)
        if recent := list(self._recent_latencies):
            median, p95 = (float(v) for v in np.percentile(recent, [50, 95]))
        else:
            median = p95 = 0.0
        return ProcessStats(
            frames_read=max(self._frames_read, int(grabbed)) if grabbed is not None
            else self._frames_read,
            frames_processed=processed,
            frames_dropped=int(getattr(self.source, "frames_dropped", 0) or 0),
            fps=processed / elapsed if processed and elapsed > 0 else 0.0,
            mean_latency_s=self._latency_sum / processed if processed else 0.0,
            max_latency_s=self._latency_max,
            elapsed_s=elapsed if processed else 0.0,
            reconnects=int(getattr(self.source, "reconnects", 0) or 0),
            median_latency_s=median,
            p95_latency_s=p95,
        )

    # -------------------------------------------------------------- iteration
    @property
    def postprocess(self) -> Postprocess | None:
        """The clean-up of each mask; may be changed between frames (the live view does)."""
        return self._postprocess

    @postprocess.setter
    def postprocess(self, settings: Postprocess | None) -> None:
        if settings is not None and not hasattr(self, "_clean_mask"):
            # OpenCV (morphology, connected components) is loaded only when asked for.
            from bgmix.postprocess import clean_mask

            self._clean_mask = clean_mask
        self._postprocess = settings

    def __iter__(self) -> Processing:
        return self

    def __next__(self) -> FrameResult:
        if self._closed:
            raise StopIteration
        try:
            if self._bootstrap is not None:
                self._run_bootstrap()
            if self._pending:
                index, frame, t_read = self._pending.popleft()
            else:
                index, frame, t_read = self._read()
            return self._process(index, frame, t_read)
        except BaseException:  # the end, a read error, a bad frame, an interruption
            self.close()
            raise

    def _read(self) -> tuple[int, np.ndarray, float]:
        """The next frame of the source, checked, with its index and read time."""
        if self._max_frames is not None and self._frames_read >= self._max_frames:
            raise StopIteration
        frame = next(self.source)
        t_read = time.monotonic()
        captured = getattr(self.source, "capture_time", None)
        if captured is not None:  # a live source: latency counts from the camera
            t_read = min(t_read, float(captured))
        index = self._frames_read
        self._frames_read += 1
        self._check_layout(index, frame)
        return index, frame, t_read

    def _run_bootstrap(self) -> None:
        """Fit the model by EM on the bootstrap frames, once, before the first mask.

        From the source itself, the first ``bootstrap`` frames are kept and
        then classified in order after the fit; from a separate clip, its
        first ``bootstrap`` frames are read and that clip is closed.
        """
        count, self._bootstrap = self._bootstrap, None
        assert count is not None
        if self._bootstrap_source is None:
            while len(self._pending) < count:
                try:
                    self._pending.append(self._read())
                except StopIteration:
                    break
            frames = [frame for _, frame, _ in self._pending]
            where = f"{self.source.name}: the first {count} frames"
        else:
            with self._bootstrap_source as clip:
                frames = [frame for _, frame in zip(range(count), clip)]
            where = f"{self._bootstrap_source.name}: the first {count} frames"
        if len(frames) < 2:
            raise ValueError(f"{where} give {len(frames)} frame(s) to bootstrap from; "
                             "the EM fit needs at least 2")
        try:
            self.model.fit(frames, **self._bootstrap_options)
        except ValueError as exc:
            raise ValueError(f"bootstrap from {where}: {exc}") from exc

    def _where(self, index: int) -> str:
        return f"{self.source.name}: frame {index}"

    def _check_layout(self, index: int, frame: Any) -> None:
        """Refuse a frame whose size, dtype or channel count differs from the first's.

        The one place that checks a stream stays the same, whatever the
        source; ``learning_rate >= 1`` re-initialises the model every frame,
        so it allows changes.
        """
        if not isinstance(frame, np.ndarray) or frame.ndim not in (2, 3):
            shape = getattr(frame, "shape", None)
            raise ValueError(f"{self._where(index)} is a {type(frame).__name__}"
                             + (f" of shape {tuple(shape)}" if shape is not None else "")
                             + "; expected an (H, W) or (H, W, C) numpy array")
        layout = (frame.shape[:2], 1 if frame.ndim == 2 else frame.shape[2], frame.dtype)
        if self._first_layout is None:
            self._first_layout = layout
            return
        if layout == self._first_layout or (
                self._learning_rate is not None and self._learning_rate >= 1):
            return
        raise ValueError(f"{self._where(index)} is {_describe(layout)} but the stream started "
                         f"with {_describe(self._first_layout)}; every frame must have the "
                         "same size, dtype and channel count")

    def _zones_for(self, index: int, mask: np.ndarray) -> Any:
        if self._zones is None:
            from bgmix.zones import ZoneSet

            try:
                self._zones = (self._zone_spec if isinstance(self._zone_spec, ZoneSet) else
                               ZoneSet(self._zone_spec, (mask.shape[1], mask.shape[0]),
                                       roi=self._roi))
            except ValueError as exc:  # a zone that does not fit this source's frames
                raise ValueError(f"{self._where(index)}: {exc}") from exc
        return self._zones

    def _process(self, index: int, frame: np.ndarray, t_read: float) -> FrameResult:
        probability = log_likelihood = None
        if self._want_probability:
            probability = self._probability = _buffer_for(self._probability, frame)
        if self._want_log_likelihood:
            log_likelihood = self._log_likelihood = _buffer_for(self._log_likelihood, frame)
        try:
            raw_mask = self.model.apply(frame, self._learning_rate, probability=probability,
                                        log_likelihood=log_likelihood)
        except ValueError as exc:  # say which frame of which source the model refused
            raise ValueError(f"{self._where(index)}: {exc}") from exc
        if self._postprocess is not None:
            mask = self._clean_mask(raw_mask, self._postprocess)
        else:
            mask = raw_mask
        if self._roi is not None:
            if self._roi.shape != mask.shape:
                raise ValueError(f"{self._where(index)}: the region of interest is "
                                 f"{self._roi.shape[1]}x{self._roi.shape[0]} but the frames are "
                                 f"{mask.shape[1]}x{mask.shape[0]}")
            mask[~self._roi] = 0  # outside the watched region: background everywhere downstream
            if probability is not None:  # and the probability agrees with the mask
                np.minimum(probability, np.float32(0.49999997), out=probability, where=~self._roi)
        zones = self._zones_for(index, mask) if self._zone_spec is not None else None
        found = (self._find_blobs(mask, probability, min_area=self._min_area, zones=zones)
                 if self._want_blobs else None)
        done = time.monotonic()
        latency = done - t_read
        self._frames_processed += 1
        self._latency_sum += latency
        self._latency_max = max(self._latency_max, latency)
        self._recent_latencies.append(latency)
        self._last_done = done
        return FrameResult(index=index, timestamp=t_read - self._start, frame=frame, mask=mask,
                           raw_mask=raw_mask, probability=probability, blobs=found,
                           latency_s=latency, log_likelihood=log_likelihood)

    # -------------------------------------------------------------- lifetime
    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        """Stop processing and close the source (idempotent)."""
        if not self._closed:
            self._closed = True
            self._pending.clear()
            self.source.close()
            if self._bootstrap_source is not None:
                self._bootstrap_source.close()

    def __enter__(self) -> Processing:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"Processing(source={self.source!r}, closed={self._closed}, stats={self.stats!r})"


def _buffer_for(buffer: np.ndarray | None, frame: np.ndarray) -> np.ndarray:
    """``buffer`` when it is a float32 (H, W) of the frame's size, else a new one."""
    if buffer is None or buffer.shape != frame.shape[:2]:
        buffer = np.empty(frame.shape[:2], np.float32)
    return buffer


def _describe(layout: tuple[tuple[int, int], int, np.dtype]) -> str:
    (height, width), channels, dtype = layout
    return f"{width}x{height} {dtype} with {channels} channel{'s' if channels != 1 else ''}"


def _check_count(name: str, value: Any, *, allow_none: bool) -> int | None:
    if value is None and allow_none:
        return None
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value < 0:
        expected = "an integer >= 0" + (" or None" if allow_none else "")
        raise ValueError(f"{name} must be {expected}, got {value!r}")
    return int(value)


def process(source: Any, model: BackgroundMixture | None = None, *,
            postprocess: Postprocess | None = None, probability: bool = False,
            log_likelihood: bool = False,
            blobs: bool = True, min_area: int = 0, learning_rate: float | None = None,
            max_frames: int | None = None, bootstrap: int | None = None,
            bootstrap_source: Any = None,
            bootstrap_options: dict[str, Any] | None = None,
            roi: np.ndarray | None = None, zones: Any = None) -> Processing:
    """Run background subtraction over a source, one :class:`FrameResult` per frame.

    Parameters
    ----------
    source : FrameSource, str, PathLike, ndarray or iterable of ndarray
        Anything :func:`bgmix.sources.open_source` opens (a video file, a folder
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
    log_likelihood : bool, default False
        Also compute each pixel's log-likelihood under the background, in
        the same pass (``FrameResult.log_likelihood``; one buffer reused
        every frame). ``result.log_likelihood < threshold`` is the outlier
        mask of :meth:`BackgroundMixture.outliers`.
    blobs : bool, default True
        Find the connected components of each mask (:func:`bgmix.blobs.find_blobs`).
    min_area : int, default 0
        Leave out blobs of fewer pixels (the mask itself is not changed;
        use ``Postprocess(min_area=...)`` for that).
    learning_rate : float or None
        Passed to :meth:`BackgroundMixture.apply` for every frame.
    max_frames : int, optional
        Stop (and close the source) after this many frames.
    bootstrap : int, optional
        Before the first mask, fit the model by EM
        (:meth:`BackgroundMixture.fit`) on N frames, then classify online as
        usual. Without ``bootstrap_source``, the first N frames of ``source``
        are held (in memory: N frames), fitted, and then classified and
        yielded like every other frame, so the first results wait for N
        frames and the fit. N >= 2.
    bootstrap_source : optional
        Fit on the first N frames of this instead (anything ``source``
        takes: a clip of the empty scene, say); frames of the same size,
        dtype and channel count as ``source``'s.
    bootstrap_options : dict, optional
        Keywords for :meth:`BackgroundMixture.fit` (``n_components="bic"``,
        ``n_init``, ``max_iter``, ``tol``, ``init``, ``random_state``).
    roi : bool ndarray (H, W), optional
        The watched region (:func:`bgmix.zones.load_roi`): every mask is 0
        outside it, before blobs are found.
    zones : sequence of Zone or ``name=x1,y1,...`` strings, or a ZoneSet, optional
        Named polygons (:mod:`bgmix.zones`): each blob's ``zones`` then says
        which of them it touches (:attr:`bgmix.blobs.Blobs.zones`). A zone
        outside the frames is an error at the first frame.

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

    Say which zones each blob touches:

    >>> last = list(process(frames, zones=["left=0,0,15,0,15,23,0,23"]))[-1]
    >>> last.blobs.zones
    (('left',),)
    """
    min_area = _check_count("min_area", min_area, allow_none=False)  # type: ignore[assignment]
    max_frames = _check_count("max_frames", max_frames, allow_none=True)
    if postprocess is not None:
        from bgmix.postprocess import Postprocess

        if not isinstance(postprocess, Postprocess):
            raise ValueError(f"postprocess must be a Postprocess or None, got "
                             f"{type(postprocess).__name__}")
    if model is None:
        model = BackgroundMixture()
    elif not isinstance(model, BackgroundMixture):
        raise ValueError(f"model must be a BackgroundMixture or None, got {type(model).__name__}")
    BackgroundMixture._check_learning_rate(learning_rate)
    if bootstrap is not None:
        bootstrap = _check_count("bootstrap", bootstrap, allow_none=False)
        if bootstrap < 2:  # type: ignore[operator]
            raise ValueError(f"bootstrap must be an integer >= 2 (frames to fit), got {bootstrap}")
    elif bootstrap_source is not None or bootstrap_options:
        raise ValueError("bootstrap_source and bootstrap_options need bootstrap=N")
    if bootstrap_options is not None and not isinstance(bootstrap_options, dict):
        raise ValueError("bootstrap_options must be a dict of BackgroundMixture.fit keywords, "
                         f"got {type(bootstrap_options).__name__}")
    frames = source if isinstance(source, FrameSource) else open_source(source)
    clip = None
    if bootstrap_source is not None:
        try:
            clip = (bootstrap_source if isinstance(bootstrap_source, FrameSource)
                    else open_source(bootstrap_source, live=False))
        except BaseException:
            frames.close()
            raise
    return Processing(frames, model, postprocess=postprocess, probability=bool(probability),
                      log_likelihood=bool(log_likelihood),
                      blobs=bool(blobs), min_area=int(min_area), learning_rate=learning_rate,
                      max_frames=max_frames, bootstrap=bootstrap, bootstrap_source=clip,
                      bootstrap_options=bootstrap_options, roi=roi, zones=zones)
