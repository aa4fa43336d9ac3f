"""One video, and many: the job behind ``bgmix run`` and ``bgmix batch``.

:func:`run_video` runs one source through :func:`bgmix.process` into the
outputs a :class:`RunOptions` names (mask video or PNGs, overlay and
background videos, MOT, JSON lines and CSV exports) and returns a
:class:`VideoReport`. It never leaves an output half-open: whatever ends
the loop (the end of the source, an error, a signal), every output is
closed in a ``finally`` path, so videos are readable and exports complete
up to the last frame written. An output that failed to write is discarded;
the others keep their frames.

:func:`run_batch` runs :func:`run_video` over many videos, one output
folder each, in worker processes (``spawn``: Numba and ``fork`` do not mix)
or on a Dask cluster. A video is done when its folder holds ``done.json``,
written atomically after every output was closed; done videos are skipped
unless ``force``. The batch writes ``summary.json`` (atomically) at the end,
also when interrupted.

Signals: inside :func:`handle_signals` SIGINT and SIGTERM raise
:class:`StopRequested` once (later ones, while outputs are being closed,
are only recorded), so a run stops between two Python operations and
finalises; the exit status is ``128 + signal`` (130, 143).
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime
import glob as _glob
import json
import multiprocessing
import os
import re
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Mapping, Sequence
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["EXIT_FAILURE", "EXIT_OK", "EXIT_USAGE", "DONE_RECORD", "SUMMARY_NAME",
           "BatchItem", "OutputError", "RunOptions", "StopRequested", "VideoReport",
           "batch_job", "expand_inputs", "handle_signals", "one_line",
           "read_done", "run_batch", "run_video", "write_json_atomic"]

EXIT_OK = 0
EXIT_FAILURE = 1
"""A runtime failure: an output could not be written, an encoder is missing, a batch video failed."""
EXIT_USAGE = 2
"""Bad arguments or bad input: a missing file, not a video, a parameter out of range."""

DONE_RECORD = "done.json"
SUMMARY_NAME = "summary.json"
VIDEO_SUFFIXES = frozenset({".mp4", ".mkv", ".avi", ".mov", ".webm", ".m4v", ".mpg", ".mpeg",
                            ".ts", ".mts", ".wmv", ".flv", ".mjpeg", ".mjpg", ".ogv", ".3gp"})
"""Suffixes (lower case) taken as videos when a batch is given a folder."""
_GLOB_CHARS = re.compile(r"[*?\[]")


class StopRequested(BaseException):
    """Raised in the main thread by SIGINT/SIGTERM under :func:`handle_signals`.

    A ``BaseException`` (like ``KeyboardInterrupt``) so ``except Exception``
    clauses do not swallow it. ``exit_code`` is ``128 + signum``.
    """

    def __init__(self, signum: int = signal.SIGINT) -> None:
        self.signum = int(signum)
        super().__init__(f"stopped by {signal.Signals(self.signum).name}")

    @property
    def exit_code(self) -> int:
        return 128 + self.signum


class OutputError(RuntimeError):
    """An output could not be opened, written or finished (disk full, no permission, ...)."""

    def __init__(self, name: str, path: os.PathLike[str] | str, cause: BaseException) -> None:
        self.name = name
        self.path = str(path)
        self.cause = cause
        reason = cause.strerror if isinstance(cause, OSError) and cause.strerror else str(cause)
        super().__init__(f"cannot write the {name} output {self.path}: {reason}")


class _SignalState:
    """What the handlers of :func:`handle_signals` have seen.

    Inside :meth:`critical` (writing one frame's outputs, closing them) a
    signal is only recorded; :meth:`check` raises it afterwards, so every
    output holds the same frames and none is closed half-way.
    """

    def __init__(self) -> None:
        self.signum: int | None = None
        self.raised = False
        self._defer = 0

    def handler(self, signum: int, frame: Any) -> None:
        if self.signum is None:
            self.signum = signum
        if self._defer or self.raised:
            return
        self.raised = True
        raise StopRequested(signum)

    @contextlib.contextmanager
    def critical(self) -> Iterator[None]:
        self._defer += 1
        try:
            yield
        finally:
            self._defer -= 1

    def check(self) -> None:
        """Raise a signal recorded during a critical section (once)."""
        if self.signum is not None and not self.raised and not self._defer:
            self.raised = True
            raise StopRequested(self.signum)


_ACTIVE: list[_SignalState] = []


def _critical() -> contextlib.AbstractContextManager[None]:
    return _ACTIVE[-1].critical() if _ACTIVE else contextlib.nullcontext()


def _check_signals() -> None:
    if _ACTIVE:
        _ACTIVE[-1].check()


@contextlib.contextmanager
def handle_signals(*, ignore_after_stop: bool = False) -> Iterator[_SignalState]:
    """SIGINT and SIGTERM raise :class:`StopRequested` (once) inside the block.

    Only the main thread can install handlers; elsewhere this does nothing.
    The previous handlers are restored on exit, unless a signal came and
    ``ignore_after_stop``: then both are ignored from then on (a program
    that is shutting down after a Ctrl-C).

    Examples
    --------
    >>> import os, signal
    >>> with handle_signals():
    ...     try:
    ...         os.kill(os.getpid(), signal.SIGTERM)
    ...         time.sleep(1)
    ...     except StopRequested as stop:
    ...         print(stop.exit_code)
    143
    """
    state = _SignalState()
    if threading.current_thread() is not threading.main_thread():
        yield state
        return
    previous = {s: signal.signal(s, state.handler) for s in (signal.SIGINT, signal.SIGTERM)}
    _ACTIVE.append(state)
    try:
        yield state
    finally:
        _ACTIVE.remove(state)
        stopping = ignore_after_stop and state.signum is not None
        for s, handler in previous.items():
            signal.signal(s, signal.SIG_IGN if stopping else handler)


def write_json_atomic(path: os.PathLike[str] | str, document: Any) -> Path:
    """Write ``document`` as JSON to a temporary name next to ``path``, then rename.

    Examples
    --------
    >>> import tempfile
    >>> target = Path(tempfile.mkdtemp()) / "x.json"
    >>> _ = write_json_atomic(target, {"a": 1})
    >>> json.loads(target.read_text())
    {'a': 1}
    """
    from bgmix.io import _create_temp

    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    text = json.dumps(document, indent=2, allow_nan=False) + "\n"
    fd, tmp = _create_temp(path, ".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as file:
            file.write(text)
            file.flush()
            os.fsync(file.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


# ---------------------------------------------------------------------------
# one video
# ---------------------------------------------------------------------------
@dataclass(frozen=True)
class RunOptions:
    """What to compute for a video and where to write it.

    Output paths are used as given (relative to the working folder);
    :func:`run_batch` resolves them inside each video's folder.

    Attributes
    ----------
    model_params : mapping
        :class:`~bgmix.BackgroundMixture` constructor parameters.
    postprocess : Postprocess or None
        Mask clean-up (the mask written and the blobs found are the cleaned ones).
    masks : str or None
        ``*.mkv``: lossless FFV1 video; any other name without a suffix: a
        folder of CDnet-named PNGs (``bin000001.png`` ...).
    overlay, background : str or None
        ``*.mp4``, ``*.avi`` or ``*.mkv`` videos (:mod:`bgmix.sinks`).
    background_every : int
        Write the background image every this many frames.
    mot, jsonl, csv : str or None
        Exports (:mod:`bgmix.export`).
    probability : str or None
        The foreground probability as 8-bit grey, ``round(255 p)``: ``*.mkv``
        (FFV1) or a folder of PNGs, as ``masks``.
    outliers : str or None
        255 where a pixel's log-likelihood under the background is below
        ``outlier_threshold`` (:meth:`BackgroundMixture.outliers`, from the
        same pass), 0 elsewhere; ``*.mkv`` or a PNG folder.
    outlier_threshold : float or None
        Needed with ``outliers``.
    max_frames : int or None
        Stop after this many frames.
    bootstrap : int or None
        Fit the model by EM on N frames before the first mask
        (:func:`bgmix.process`'s ``bootstrap=``).
    bootstrap_from : str or None
        Take those N frames from this clip (of the empty scene) instead of
        the start of the video.
    bootstrap_options : mapping
        Keywords for :meth:`BackgroundMixture.fit` (``n_components="bic"``, ...).

    Examples
    --------
    >>> RunOptions(masks="out/masks.mkv", mot="out/det.txt").outputs()
    {'masks': 'out/masks.mkv', 'mot': 'out/det.txt'}
    """

    model_params: Mapping[str, Any] = field(default_factory=dict)
    postprocess: Any = None
    masks: str | None = None
    overlay: str | None = None
    background: str | None = None
    background_every: int = 1
    mot: str | None = None
    jsonl: str | None = None
    csv: str | None = None
    probability: str | None = None
    outliers: str | None = None
    outlier_threshold: float | None = None
    max_frames: int | None = None
    bootstrap: int | None = None
    bootstrap_from: str | None = None
    bootstrap_options: Mapping[str, Any] = field(default_factory=dict)

    OUTPUT_NAMES = ("masks", "overlay", "background", "mot", "jsonl", "csv", "probability",
                    "outliers")

    def outputs(self) -> dict[str, str]:
        """The outputs asked for, by name, in a fixed order."""
        return {name: getattr(self, name) for name in self.OUTPUT_NAMES
                if getattr(self, name) is not None}

    def replace(self, **changes: Any) -> RunOptions:
        """A copy with some attributes changed."""
        return dataclasses.replace(self, **changes)


@dataclass
class VideoReport:
    """How one :func:`run_video` went.

    Attributes
    ----------
    source : str
        The source as given.
    name : str
        The source's short name.
    status : {"done", "interrupted", "failed"}
    frames : int
        Frames processed (and written to every output that did not fail).
    elapsed_s, fps, first_frame_s : float
        Wall time of the loop, frames per second over it, and the time to
        the first result (loading the compiled kernel and the first decode).
    foreground : float
        Mean fraction of mask pixels that are 255.
    outputs : dict
        Output name -> final path, for the outputs that hold frames.
    error : str or None
        One line, for a failed run.
    exit_code : int
        0 done; 1 runtime failure; 2 bad input; 128 + signal when interrupted.
    warnings : list of str
        Warnings raised while running (e.g. a video whose decoding stopped early).
    stats : dict
        The pipeline's last statistics (:class:`bgmix.pipeline.ProcessStats` as a dict).
    """

    source: str
    name: str = ""
    status: str = "failed"
    frames: int = 0
    elapsed_s: float = 0.0
    fps: float = 0.0
    first_frame_s: float = 0.0
    foreground: float = 0.0
    outputs: dict[str, str] = field(default_factory=dict)
    error: str | None = None
    exit_code: int = EXIT_FAILURE
    warnings: list[str] = field(default_factory=list)
    stats: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dataclasses.asdict(self)


def one_line(exc: BaseException) -> str:
    """An exception as one line of text (OSError as ``strerror: filename``).

    Examples
    --------
    >>> one_line(FileNotFoundError(2, "No such file or directory", "a.mkv"))
    'No such file or directory: a.mkv'
    """
    text = str(exc) or type(exc).__name__
    if isinstance(exc, OSError) and not isinstance(exc, OutputError) and exc.filename \
            and exc.strerror:
        text = f"{exc.strerror}: {exc.filename}"
    return " ".join(text.split())


class _Output:
    """One open output: a name, a path, and how to write, close and discard it."""

    def __init__(self, name: str, path: str, sink: Any, write: Callable[[Any], None]) -> None:
        self.name = name
        self.path = path
        self.sink = sink
        self.write = write
        self.failed = False


def _open_outputs(options: RunOptions, fps: float | None) -> list[_Output]:
    from bgmix.export import CsvWriter, JsonlWriter, MotWriter
    from bgmix.io import DEFAULT_FPS, MaskVideoWriter, PngMaskWriter
    from bgmix.sinks import BackgroundVideoWriter, OverlayVideoWriter, ThreadedWriter

    rate = fps if fps else DEFAULT_FPS
    opened: list[_Output] = []
    for name, path in options.outputs().items():
        try:
            if name in ("masks", "probability", "outliers"):
                suffix = Path(path).suffix.lower()
                if suffix == ".mkv":
                    sink: Any = MaskVideoWriter(path, rate)
                elif suffix:
                    raise ValueError(f"--{name} {path}: a grey video must be .mkv (lossless "
                                     "FFV1); give a folder name (no suffix) for PNGs")
                else:
                    sink = PngMaskWriter(path)
                # Encoding on a thread of its own overlaps the model's work on the next
                # frame; masks, frames and blobs are new objects every frame, so the
                # queued ones are never changed under the writer (the probability and
                # log-likelihood buffers are reused: what is queued is a new image).
                sink = ThreadedWriter(sink)
                if name == "masks":
                    write = (lambda s: lambda r: s.write(r.mask))(sink)
                elif name == "probability":
                    write = (lambda s: lambda r: s.write(probability_image(r.probability)))(sink)
                else:
                    write = (lambda s, t: lambda r: s.write(
                        outlier_image(r.log_likelihood, t)))(sink, options.outlier_threshold)
            elif name == "overlay":
                sink = ThreadedWriter(OverlayVideoWriter(path, rate))
                write = (lambda s: lambda r: s.write(r.frame, r.mask, r.blobs))(sink)
            elif name == "background":
                sink = BackgroundVideoWriter(path, rate, every=options.background_every)
                write = (lambda s: lambda r: s.write(r._model))(sink)
            else:
                sink = {"mot": MotWriter, "jsonl": JsonlWriter, "csv": CsvWriter}[name](path)
                write = (lambda s: lambda r: s.write(r.index + 1, r.blobs))(sink)
        except OSError as exc:
            _finish(opened, keep=False)
            raise OutputError(name, path, exc) from exc
        except BaseException:
            _finish(opened, keep=False)
            raise
        opened.append(_Output(name, path, sink, write))
    return opened


def probability_image(probability: np.ndarray) -> np.ndarray:
    """The foreground probability as a new uint8 image, ``round(255 p)``.

    Examples
    --------
    >>> probability_image(np.array([[0.0, 0.5, 1.0]], np.float32)).tolist()
    [[0, 128, 255]]
    """
    return np.rint(probability * np.float32(255)).astype(np.uint8)


def outlier_image(log_likelihood: np.ndarray, threshold: float) -> np.ndarray:
    """255 where the log-likelihood is below ``threshold`` (``-inf`` too), else 0; a new image.

    Examples
    --------
    >>> outlier_image(np.array([[-3.0, -40.0, -np.inf]], np.float32), -20.0).tolist()
    [[0, 255, 255]]
    """
    return (log_likelihood < np.float32(threshold)).view(np.uint8) * np.uint8(255)


_VIDEO_OUTPUT_SUFFIXES = (".mkv", ".mp4", ".avi")


def _verify_video(path: str, n_written: int) -> None:
    """Read the last frame back: FFmpeg does not report a full disk to
    OpenCV's writer, so a truncated video would otherwise pass for complete."""
    import cv2

    capture = cv2.VideoCapture(path, cv2.CAP_FFMPEG)
    try:
        ok = capture.isOpened() and capture.set(cv2.CAP_PROP_POS_FRAMES, n_written - 1) \
            and capture.read()[0]
        if not ok:
            readable = max(0, int(capture.get(cv2.CAP_PROP_POS_FRAMES))) if capture.isOpened() else 0
            raise OSError(f"only {readable} of the {n_written} frames written can be read back "
                          "(disk full?)")
    finally:
        capture.release()


def _finish(outputs: list[_Output], keep: bool) -> list[tuple[_Output, BaseException]]:
    """Close (``keep``) or discard every output; never raises, returns the failures.

    Closed videos are checked by reading their last frame back.
    """
    problems = []
    for output in outputs:
        try:
            if keep and not output.failed:
                output.sink.close()
                n_written = getattr(output.sink, "n_written", 0)
                if n_written and Path(output.path).suffix.lower() in _VIDEO_OUTPUT_SUFFIXES:
                    _verify_video(output.path, n_written)
            else:
                output.sink.abort()
        except BaseException as exc:  # one output's failure must not stop the others closing
            output.failed = True
            problems.append((output, exc))
            with contextlib.suppress(BaseException):
                output.sink.abort()  # a video that failed its check keeps its readable frames
    return problems


def _written(output: _Output) -> bool:
    sink = output.sink
    return bool(getattr(sink, "n_written", getattr(sink, "frames_written", 0)))


class _Result:
    """A FrameResult with the model alongside (the background writer needs it)."""

    __slots__ = ("_inner", "_model")

    def __init__(self, inner: Any, model: Any) -> None:
        self._inner = inner
        self._model = model

    def __getattr__(self, name: str) -> Any:
        return getattr(self._inner, name)


def _stats_dict(stats: Any) -> dict[str, Any]:
    if stats is None:
        return {}
    if dataclasses.is_dataclass(stats):
        raw = dataclasses.asdict(stats)
    else:
        raw = dict(getattr(stats, "__dict__", {}))
    return {k: v for k, v in raw.items() if isinstance(v, (int, float, str, bool)) or v is None}


def run_video(source: Any, options: RunOptions, *,
              on_frame: Callable[[Any, Any], bool | None] | None = None,
              should_stop: Callable[[], bool] | None = None,
              on_start: Callable[[Any], None] | None = None) -> VideoReport:
    """Run one source into the outputs of ``options``; always finalise them.

    Parameters
    ----------
    source : str, PathLike or anything :func:`bgmix.io.open_source` opens
    options : RunOptions
    on_frame : callable, optional
        ``on_frame(result, processing)`` after each frame's outputs are
        written; returning True stops the run normally (status "done").
    should_stop : callable, optional
        Checked after every frame; True stops the run as interrupted.
    on_start : callable, optional
        ``on_start(processing)`` once the source is open (to size a progress bar).

    Returns
    -------
    VideoReport
        Also for failures (status "failed", ``error``, ``exit_code`` 1 or 2)
        and interruptions (status "interrupted", ``exit_code`` 128 + signal).
        Exceptions that are not input, output or runtime errors (bugs)
        propagate after the outputs are finalised.

    Examples
    --------
    >>> import tempfile
    >>> frames = np.zeros((12, 24, 32, 3), np.uint8); frames[-1, 4:12, 8:16] = 255
    >>> out = Path(tempfile.mkdtemp())
    >>> report = run_video(frames, RunOptions(masks=str(out / "masks"), jsonl=str(out / "b.jsonl")))
    >>> report.status, report.frames, sorted(report.outputs)
    ('done', 12, ['jsonl', 'masks'])
    >>> len(os.listdir(out / "masks")), len((out / "b.jsonl").read_text().splitlines())
    (12, 12)
    """
    from bgmix.model import BackgroundMixture
    from bgmix.pipeline import process

    report = VideoReport(source=str(source))
    outputs: list[_Output] = []
    processing = None
    keep = True
    failure: BaseException | None = None
    start = time.perf_counter()
    foreground = 0.0
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            model = BackgroundMixture(**dict(options.model_params))
            model._validated()  # bad parameters fail before anything is opened
            exports = any(getattr(options, n) is not None for n in ("mot", "jsonl", "csv"))
            needs_blobs = exports or options.overlay is not None
            if options.outliers is not None and options.outlier_threshold is None:
                raise ValueError("--outliers needs --outlier-threshold LOG_LIKELIHOOD")
            kwargs: dict[str, Any] = {"postprocess": options.postprocess,
                                      "probability": exports or options.probability is not None,
                                      "log_likelihood": options.outliers is not None,
                                      "blobs": needs_blobs, "max_frames": options.max_frames}
            if options.bootstrap is not None:
                kwargs["bootstrap"] = options.bootstrap
                kwargs["bootstrap_source"] = options.bootstrap_from
                kwargs["bootstrap_options"] = dict(options.bootstrap_options)
            processing = process(source, model, **kwargs)
            report.name = str(getattr(processing.source, "name", "") or source)
            if on_start is not None:
                on_start(processing)
            outputs = _open_outputs(options, getattr(processing.source, "fps", None))
            start = time.perf_counter()
            for result in processing:
                wrapped = _Result(result, model)
                with _critical():  # a signal here waits: every output gets this frame
                    for output in outputs:
                        try:
                            output.write(wrapped)
                        except (OSError, RuntimeError) as exc:
                            output.failed = True
                            raise OutputError(output.name, output.path, exc) from exc
                    report.frames += 1
                _check_signals()
                if report.frames == 1:
                    report.first_frame_s = time.perf_counter() - start
                foreground += np.count_nonzero(result.mask == 255) / result.mask.size
                if on_frame is not None and on_frame(result, processing):
                    break
                if should_stop is not None and should_stop():
                    raise StopRequested(signal.SIGTERM)
            if report.frames == 0:
                raise ValueError(f"{source} gave no frames")
            report.status = "done"
            report.exit_code = EXIT_OK
        except StopRequested as stop:
            report.status = "interrupted"
            report.exit_code = stop.exit_code
        except KeyboardInterrupt:
            report.status = "interrupted"
            report.exit_code = 128 + signal.SIGINT
        except (OutputError, RuntimeError, ConnectionError) as exc:
            # A stream that cannot be reached or is lost is a failure of the run,
            # not of how bgmix was called.
            failure = exc
            report.exit_code = EXIT_FAILURE
        except (ValueError, TypeError, OSError) as exc:
            failure = exc
            report.exit_code = EXIT_USAGE
        except BaseException:
            keep = False
            raise
        finally:
            with _critical():  # a signal now must not cut a container's closing short
                if processing is not None:
                    with contextlib.suppress(Exception):
                        processing.close()
                problems = _finish(outputs, keep=keep)
            report.elapsed_s = time.perf_counter() - start
            if processing is not None:
                report.stats = _stats_dict(getattr(processing, "stats", None))
        report.warnings = [one_line(Warning(str(w.message))) for w in caught]
    if problems and failure is None:
        output, exc = problems[0]
        failure = OutputError(output.name, output.path, exc)
        report.exit_code = EXIT_FAILURE
        if report.status == "done":
            report.status = "failed"
    if failure is not None:
        report.status = "failed"
        report.error = one_line(failure)
        if any(_written(o) and not o.failed for o in outputs):
            if any(o.failed for o in outputs):
                report.error += " (the other outputs were closed with the frames written so far)"
            else:
                report.error += f" (outputs keep the first {report.frames} frames)"
    report.outputs = {o.name: o.path for o in outputs if not o.failed and _written(o)
                      and os.path.exists(o.path)}
    report.foreground = foreground / report.frames if report.frames else 0.0
    report.fps = report.frames / report.elapsed_s if report.elapsed_s > 0 else 0.0
    return report


# ---------------------------------------------------------------------------
# many videos
# ---------------------------------------------------------------------------
@dataclass
class BatchItem:
    """One video of a batch: its source, its output folder name, or why it cannot run."""

    source: str
    name: str
    error: str | None = None


def _natural_key(text: str) -> list[Any]:
    return [int(part) if part.isdigit() else part.lower() for part in re.split(r"(\d+)", text)]


def _has_images(folder: Path) -> bool:
    from bgmix.io import IMAGE_EXTENSIONS

    return any(p.suffix.lower() in IMAGE_EXTENSIONS for p in folder.iterdir() if p.is_file())


def expand_inputs(paths_or_globs: Sequence[str]) -> list[BatchItem]:
    """The videos of a batch, in order, each with a unique output folder name.

    A file is one video (whatever its suffix: a bad file fails when run);
    a folder holding video files (by suffix) gives each of them; a folder
    holding only images is one image sequence; a glob pattern (``**``
    allowed) gives its matches. A path that does not exist, or a pattern
    that matches nothing, is an item with an ``error``. The same file named
    twice is taken once. Names are the file stems (the folder name for an
    image sequence, its parent's for a CDnet ``input/``), with ``-2``,
    ``-3`` ... added when two videos share one.

    Examples
    --------
    >>> import tempfile
    >>> root = Path(tempfile.mkdtemp())
    >>> for sub in ("a", "b"):
    ...     (root / sub).mkdir(); _ = (root / sub / "clip.mp4").write_bytes(b"")
    >>> [(i.name, i.error) for i in expand_inputs([str(root / "*" / "clip.mp4"), str(root / "c")])]
    [('clip', None), ('clip-2', None), ('c', 'no such file or folder: ...c')]
    """
    found: list[tuple[str, str | None]] = []
    for arg in paths_or_globs:
        path = Path(arg)
        if path.is_file():
            found.append((str(path), None))
        elif path.is_dir():
            videos = sorted((str(p) for p in path.iterdir()
                             if p.is_file() and p.suffix.lower() in VIDEO_SUFFIXES),
                            key=_natural_key)
            if videos:
                found.extend((v, None) for v in videos)
            elif _has_images(path):
                found.append((str(path), None))
            else:
                found.append((str(path), f"no videos or images in folder {path}"))
        elif _GLOB_CHARS.search(arg):
            matches = sorted((m for m in _glob.glob(arg, recursive=True)
                              if os.path.isfile(m) or (os.path.isdir(m) and _has_images(Path(m)))),
                             key=_natural_key)
            if matches:
                found.extend((m, None) for m in matches)
            else:
                found.append((arg, f"no files match the pattern {arg}"))
        else:
            found.append((arg, f"no such file or folder: {arg}"))
    items: list[BatchItem] = []
    seen_sources: set[str] = set()
    used: set[str] = set()
    for source, error in found:
        key = os.path.realpath(source) if error is None else source
        if key in seen_sources:
            continue
        seen_sources.add(key)
        path = Path(source)
        if error is None and path.is_dir():
            stem = path.resolve().parent.name if path.resolve().name.lower() == "input" \
                else path.resolve().name
        else:
            stem = path.stem if error is None else (path.stem or path.name)
        stem = re.sub(r"[^\w.-]+", "_", stem).strip("._") or "video"
        name, n = stem, 1
        while name in used:
            n += 1
            name = f"{stem}-{n}"
        used.add(name)
        items.append(BatchItem(source=source, name=name, error=error))
    return items


def _resolve_options(options: RunOptions, folder: Path) -> RunOptions:
    changes = {}
    for name, value in options.outputs().items():
        if Path(value).is_absolute() or ".." in Path(value).parts:
            raise ValueError(f"--{name} {value}: in a batch, outputs are names inside each "
                             "video's folder (no absolute path, no '..')")
        changes[name] = str(folder / value)
    return options.replace(**changes)


def read_done(folder: Path) -> dict[str, Any] | None:
    """The completion record of a video folder, or None when it is not complete.

    Examples
    --------
    >>> import tempfile
    >>> read_done(Path(tempfile.mkdtemp())) is None
    True
    """
    try:
        record = json.loads((folder / DONE_RECORD).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return record if isinstance(record, dict) and record.get("status") == "done" else None


_worker_stop: Any = None  # set in each worker process by _init_worker
_worker_signal = {"signum": None}


def _init_worker(stop_event: Any) -> None:
    """In each pool process: remember the pool's stop event; a signal sent to
    the worker itself (Ctrl-C reaches the whole process group) stops it too."""
    global _worker_stop
    _worker_stop = stop_event

    def request_stop(signum: int, frame: Any) -> None:
        _worker_signal["signum"] = signum

    signal.signal(signal.SIGINT, request_stop)
    signal.signal(signal.SIGTERM, request_stop)


def _worker_should_stop() -> bool:
    if _worker_signal["signum"] is not None:
        return True
    return _worker_stop is not None and _worker_stop.is_set()


def batch_job(source: str, folder: str, options: RunOptions) -> dict[str, Any]:
    """Run one batch video into ``folder`` and, when it completes, write ``done.json``.

    The function each batch worker runs: :func:`run_video`, the same as
    ``bgmix run``, with the output names of ``options`` taken inside
    ``folder``. Returns the summary row (a dict).

    Examples
    --------
    >>> import tempfile, cv2
    >>> root = Path(tempfile.mkdtemp())
    >>> _ = cv2.imwrite(str(root / "in000001.png"), np.zeros((24, 32, 3), np.uint8))
    >>> row = batch_job(str(root), str(root / "out" / "seq"), RunOptions(jsonl="blobs.jsonl"))
    >>> row["status"], row["frames"], sorted(os.listdir(root / "out" / "seq"))
    ('done', 1, ['blobs.jsonl', 'done.json'])
    """
    import cv2

    import bgmix

    # Our one-line errors say what went wrong; OpenCV's own log lines would
    # repeat it from every worker (the parent's setting is not inherited).
    cv2.utils.logging.setLogLevel(cv2.utils.logging.LOG_LEVEL_ERROR)
    out = Path(folder)
    row: dict[str, Any] = {"name": out.name, "source": source, "folder": str(out),
                           "status": "failed", "frames": 0, "fps": 0.0, "elapsed_s": 0.0,
                           "error": None, "warnings": []}
    if _worker_should_stop():  # queued before the stop, taken after it: never started
        row["status"] = "cancelled"
        return row
    try:
        out.mkdir(parents=True, exist_ok=True)
        (out / DONE_RECORD).unlink(missing_ok=True)
        resolved = _resolve_options(options, out)
        report = run_video(source, resolved, should_stop=_worker_should_stop)
    except Exception as exc:  # a bug or an unexpected error: this video fails, the batch goes on
        row["error"] = f"{type(exc).__name__}: {one_line(exc)}"
        return row
    row.update(status=report.status, frames=report.frames, fps=round(report.fps, 3),
               elapsed_s=round(report.elapsed_s, 3), error=report.error,
               warnings=report.warnings)
    if report.status == "done":
        record = {"status": "done", "source": os.path.realpath(source), "name": out.name,
                  "frames": report.frames, "fps": round(report.fps, 3),
                  "elapsed_s": round(report.elapsed_s, 3), "outputs": {
                      k: os.path.relpath(v, out) for k, v in report.outputs.items()},
                  "foreground": report.foreground, "warnings": report.warnings,
                  "model_params": dict(resolved.model_params),
                  "bgmix_version": bgmix.__version__,
                  "finished_at": datetime.datetime.now(datetime.timezone.utc).isoformat()}
        try:
            write_json_atomic(out / DONE_RECORD, record)
        except OSError as exc:
            row.update(status="failed", error=one_line(OutputError("done record",
                                                                  out / DONE_RECORD, exc)))
    return row


def _usable_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not on Linux
        return os.cpu_count() or 1


def run_batch(items: Sequence[BatchItem], out: os.PathLike[str] | str, options: RunOptions, *,
              jobs: int = 1, force: bool = False, scheduler: str = "process",
              dask_address: str | None = None,
              on_row: Callable[[dict[str, Any]], None] | None = None) -> tuple[list[dict[str, Any]], int | None]:
    """Run many videos, one folder each under ``out``; write ``out/summary.json``.

    Parameters
    ----------
    items : sequence of BatchItem
        From :func:`expand_inputs`.
    out : path
        The batch folder: ``out/<name>/`` per video, ``out/summary.json``.
    options : RunOptions
        Outputs are names inside each video's folder.
    jobs : int
        Worker processes (or Dask workers of a local cluster). Each model
        gets ``cpus // jobs`` kernel threads unless ``n_threads`` is given.
    force : bool
        Redo videos whose folder holds ``done.json``.
    scheduler : {"process", "dask"}
    dask_address : str, optional
        A running Dask scheduler to use instead of a local cluster.
    on_row : callable, optional
        Called with each row as soon as it is known.

    Returns
    -------
    rows, signum
        One row per item (status ``done``, ``skipped``, ``failed``,
        ``interrupted`` or ``cancelled``) in item order, and the signal
        that stopped the batch (None when it ran to the end).

    Examples
    --------
    >>> import tempfile, cv2
    >>> root = Path(tempfile.mkdtemp())
    >>> writer = cv2.VideoWriter(str(root / "a.mkv"), cv2.CAP_FFMPEG,
    ...                          cv2.VideoWriter_fourcc(*"FFV1"), 25, (32, 24))
    >>> for _ in range(5):
    ...     _ = writer.write(np.zeros((24, 32, 3), np.uint8))
    >>> writer.release()
    >>> items = expand_inputs([str(root / "a.mkv"), str(root / "missing.mkv")])
    >>> rows, signum = run_batch(items, root / "out", RunOptions(masks="masks.mkv"))  # doctest: +SKIP
    >>> [(r["name"], r["status"]) for r in rows]  # doctest: +SKIP
    [('a', 'done'), ('missing', 'failed')]
    """
    import bgmix

    if scheduler not in ("process", "dask"):
        raise ValueError(f"scheduler must be 'process' or 'dask', got {scheduler!r}")
    if isinstance(jobs, bool) or not isinstance(jobs, int) or jobs < 1:
        raise ValueError(f"jobs must be an integer >= 1, got {jobs!r}")
    out = Path(out)
    _resolve_options(options, out)  # refuse output paths outside the video folders first
    out.mkdir(parents=True, exist_ok=True)
    if "n_threads" not in options.model_params or options.model_params["n_threads"] is None:
        params = dict(options.model_params)
        params["n_threads"] = max(1, _usable_cpus() // jobs)
        options = options.replace(model_params=params)
    started = time.time()
    rows: dict[int, dict[str, Any]] = {}
    todo: list[int] = []

    def record(index: int, row: dict[str, Any]) -> None:
        rows[index] = row
        if on_row is not None:
            on_row(row)

    for index, item in enumerate(items):
        folder = out / item.name
        base = {"name": item.name, "source": item.source, "folder": str(folder), "frames": 0,
                "fps": 0.0, "elapsed_s": 0.0, "error": None, "warnings": []}
        if item.error is not None:
            record(index, {**base, "status": "failed", "error": item.error})
            continue
        done = read_done(folder)
        if done is not None and not force and done.get("source") == os.path.realpath(item.source):
            record(index, {**base, "status": "skipped", "frames": done.get("frames", 0),
                           "fps": done.get("fps", 0.0), "elapsed_s": done.get("elapsed_s", 0.0)})
            continue
        todo.append(index)

    signum: int | None = None
    if todo:
        runner = _run_dask if scheduler == "dask" else _run_pool
        signum = runner(items, todo, out, options, jobs, dask_address, record)
    for index in range(len(items)):
        if index not in rows:  # never started: stopped before its turn
            item = items[index]
            rows[index] = {"name": item.name, "source": item.source,
                           "folder": str(out / item.name), "status": "cancelled", "frames": 0,
                           "fps": 0.0, "elapsed_s": 0.0, "error": None, "warnings": []}
    ordered = [rows[i] for i in range(len(items))]
    counts: dict[str, int] = {}
    for row in ordered:
        counts[row["status"]] = counts.get(row["status"], 0) + 1
    write_json_atomic(out / SUMMARY_NAME, {
        "bgmix_version": bgmix.__version__, "out": str(out), "scheduler": scheduler,
        "jobs": jobs, "started_at": datetime.datetime.fromtimestamp(
            started, datetime.timezone.utc).isoformat(),
        "elapsed_s": round(time.time() - started, 3),
        "interrupted_by": None if signum is None else signal.Signals(signum).name,
        "counts": counts, "videos": ordered})
    return ordered, signum


def _run_pool(items: Sequence[BatchItem], todo: list[int], out: Path, options: RunOptions,
              jobs: int, dask_address: str | None,
              record: Callable[[int, dict[str, Any]], None]) -> int | None:
    context = multiprocessing.get_context("spawn")
    stop_event = context.Event()
    signum: int | None = None
    executor = ProcessPoolExecutor(max_workers=min(jobs, len(todo)), mp_context=context,
                                   initializer=_init_worker, initargs=(stop_event,))
    pending: dict[Future[dict[str, Any]], int] = {}
    with handle_signals() as signals:
        try:
            for index in todo:
                future = executor.submit(batch_job, items[index].source,
                                         str(out / items[index].name), options)
                pending[future] = index
            while pending:
                finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                for future in finished:
                    _collect(future, pending.pop(future), items, out, record)
        except StopRequested as stop:
            signum = stop.signum
        finally:
            if signals.signum is not None:
                signum = signals.signum
            if signum is not None:
                # Videos in progress finish their current frame, close their
                # outputs and return "interrupted"; queued ones never start.
                stop_event.set()
                for future in list(pending):
                    if future.cancel():
                        pending.pop(future)
                while pending:
                    finished, _ = wait(pending, return_when=FIRST_COMPLETED)
                    for future in finished:
                        _collect(future, pending.pop(future), items, out, record)
            executor.shutdown(wait=True, cancel_futures=True)
    return signum


def _collect(future: Future[dict[str, Any]], index: int, items: Sequence[BatchItem], out: Path,
             record: Callable[[int, dict[str, Any]], None]) -> None:
    try:
        row = future.result()
    except BaseException as exc:  # a worker that died (killed, out of memory)
        item = items[index]
        row = {"name": item.name, "source": item.source, "folder": str(out / item.name),
               "status": "failed", "frames": 0, "fps": 0.0, "elapsed_s": 0.0,
               "error": f"worker failed: {type(exc).__name__}: {one_line(exc)}",
               "warnings": []}
    record(index, row)


def _run_dask(items: Sequence[BatchItem], todo: list[int], out: Path, options: RunOptions,
              jobs: int, dask_address: str | None,
              record: Callable[[int, dict[str, Any]], None]) -> int | None:
    try:
        from distributed import Client, LocalCluster, as_completed
    except ImportError as exc:
        raise RuntimeError("--scheduler dask needs dask.distributed: pip install "
                           "'dask[distributed]'") from exc
    signum: int | None = None
    cluster = None
    with handle_signals() as signals:
        try:
            if dask_address is None:
                cluster = LocalCluster(n_workers=min(jobs, len(todo)), threads_per_worker=1,
                                       processes=True, dashboard_address=None)
                client = Client(cluster)
            else:
                client = Client(dask_address)
            try:
                futures = {}
                for index in todo:
                    future = client.submit(batch_job, items[index].source,
                                           str(out / items[index].name), options, pure=False)
                    futures[future] = index
                for future in as_completed(list(futures)):
                    index = futures[future]
                    try:
                        row = future.result()
                    except Exception as exc:
                        item = items[index]
                        row = {"name": item.name, "source": item.source,
                               "folder": str(out / item.name), "status": "failed", "frames": 0,
                               "fps": 0.0, "elapsed_s": 0.0, "warnings": [],
                               "error": f"worker failed: {type(exc).__name__}: {one_line(exc)}"}
                    record(index, row)
            except StopRequested as stop:
                # Dask tasks cannot be asked to stop: cancelled ones lose their
                # progress (no done.json), and run again next time.
                signum = stop.signum
                client.cancel(list(futures))
            finally:
                client.close()
        finally:
            if signals.signum is not None:
                signum = signals.signum
            if cluster is not None:
                cluster.close()
    return signum
