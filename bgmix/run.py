"""One source into its outputs: :func:`run_video`, the job of ``bgmix run`` and of each batch video.

:func:`run_video` runs one source through :func:`bgmix.process` into the
outputs a :class:`RunOptions` names (mask video or PNGs, overlay and
background videos, MOT, JSON lines and CSV exports,
:mod:`bgmix.outputs.frame_outputs`) and returns a :class:`VideoReport`. It
never leaves an output half-open: whatever ends the loop (the end of the
source, an error, a signal), every output is closed in a ``finally`` path,
so videos are readable and exports complete up to the last frame written.
An output that failed to write is discarded; the others keep their frames.
A signal (:mod:`bgmix.signals`) waits while one frame's outputs are
written, so every output holds the same frames.
"""

from __future__ import annotations

import contextlib
import dataclasses
import os
import signal
import time
import warnings
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from bgmix import signals
from bgmix.errors import EXIT_FAILURE, EXIT_OK, OutputError, StopRequested, exit_code_for, \
    one_line
from bgmix.outputs.frame_outputs import OUTPUT_NAMES, SinkOutput, finish_outputs, open_outputs

__all__ = ["RunOptions", "VideoReport", "run_video"]


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
        ``*.mp4``, ``*.avi`` or ``*.mkv`` videos (:mod:`bgmix.outputs.videos`).
    background_every : int
        Write the background image every this many frames.
    mot, jsonl, csv : str or None
        Exports (:mod:`bgmix.outputs.tables`).
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
    events : str or None
        The motion events as CSV (:mod:`bgmix.events`; one more file per zone,
        ``events-NAME.csv``).
    report : str or None
        A self-contained ``report.html``: the activity timeline with the
        events, a thumbnail and a table row per event (:mod:`bgmix.report`).
    clips : str or None
        A folder with each event as its own video (file sources; :mod:`bgmix.clips`).
    clips_overlay : bool
        Clips show the mask and boxes over the frames.
    roi : str or None
        A mask image; pixels where it is 0 are not watched: they are 0 in
        every mask, blob and export (:func:`bgmix.zones.load_roi`).
    zones : tuple of str
        Named polygons ``name=x1,y1,x2,y2,...``: each event says which it
        touched, and each zone gets its own event list; the JSON lines and
        CSV exports say which zones each blob touches, and the MOT export
        gets one file per zone (``det-NAME.txt``).
    event_params : mapping
        :class:`bgmix.events.EventParams` fields (``min_area``, ``min_duration``, ...).

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
    events: str | None = None
    report: str | None = None
    clips: str | None = None
    clips_overlay: bool = False
    roi: str | None = None
    zones: tuple[str, ...] = ()
    event_params: Mapping[str, Any] = field(default_factory=dict)

    OUTPUT_NAMES = OUTPUT_NAMES
    ACTIVITY_NAMES = ("events", "report", "clips")

    def activity_outputs(self) -> dict[str, str]:
        """The event outputs asked for (events CSV, report, clips folder), by name."""
        return {name: getattr(self, name) for name in self.ACTIVITY_NAMES
                if getattr(self, name) is not None}

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
    events : int or None
        Motion events found, when events, a report or clips were asked for.
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
    events: int | None = None

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict."""
        return dataclasses.asdict(self)


@dataclass
class _ActivityOutput:
    """Names the event outputs in an error (as a frame output would be named)."""

    name: str
    path: str
    failed: bool = True
    frames_written: int = 0


def _zone_names(zones: Any) -> list[str]:
    from bgmix.zones import parse_zones

    return [zone.name for zone in parse_zones(zones)] if zones else []


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
    source : str, PathLike or anything :func:`bgmix.sources.open_source` opens
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
    >>> from pathlib import Path
    >>> frames = np.zeros((12, 24, 32, 3), np.uint8); frames[-1, 4:12, 8:16] = 255
    >>> out = Path(tempfile.mkdtemp())
    >>> report = run_video(frames, RunOptions(masks=str(out / "masks"), jsonl=str(out / "b.jsonl")))
    >>> report.status, report.frames, sorted(report.outputs)
    ('done', 12, ['jsonl', 'masks'])
    >>> len(os.listdir(out / "masks")), len((out / "b.jsonl").read_text().splitlines())
    (12, 12)
    """
    from bgmix.model import BackgroundMixture
    from bgmix.outputs.masks import DEFAULT_FPS
    from bgmix.pipeline import process

    report = VideoReport(source=str(source))
    activity: Any = None
    activity_written: dict[str, str] = {}
    outputs: list[SinkOutput] = []
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
            if options.clips_overlay and not str(options.masks or "").endswith(".mkv"):
                raise ValueError("--clips-overlay draws the run's masks: it needs them as a "
                                 "video (--masks NAME.mkv, the default)")
            roi = None
            if options.roi is not None:
                from bgmix.zones import load_roi

                roi = load_roi(options.roi)
                kwargs["roi"] = roi
            if options.zones:
                kwargs["zones"] = list(options.zones)
            processing = process(source, model, **kwargs)
            report.name = str(getattr(processing.source, "name", "") or source)
            if options.activity_outputs() or options.zones:
                from bgmix.activity import Activity

                from bgmix.sources import VideoFileSource

                video = (processing.source.path if isinstance(processing.source, VideoFileSource)
                         else None)
                activity = Activity(video,
                                    processing.source.fps or DEFAULT_FPS,
                                    events=options.events, report=options.report,
                                    clips=options.clips, clips_overlay=options.clips_overlay,
                                    masks=options.masks if options.clips_overlay else None,
                                    roi=roi, zones=options.zones,
                                    event_params=options.event_params, name=report.name)
            if on_start is not None:
                on_start(processing)
            outputs = open_outputs(options.outputs(), fps=processing.source.fps or DEFAULT_FPS,
                                   model=model, background_every=options.background_every,
                                   outlier_threshold=options.outlier_threshold,
                                   zones=_zone_names(options.zones))
            start = time.perf_counter()
            for result in processing:
                with signals.critical():  # a signal here waits: every output gets this frame
                    for output in outputs:
                        try:
                            output.write(result)
                        except (OSError, RuntimeError) as exc:
                            output.failed = True
                            raise OutputError(output.name, output.path, exc) from exc
                    report.frames += 1
                signals.check()
                if report.frames == 1:
                    report.first_frame_s = time.perf_counter() - start
                foreground += np.count_nonzero(result.mask == 255) / result.mask.size
                if activity is not None:
                    activity.update(result.index, result.mask)
                if on_frame is not None and on_frame(result, processing):
                    break
                if should_stop is not None and should_stop():
                    raise StopRequested(signal.SIGTERM)
            if report.frames == 0:
                raise ValueError(f"{source} gave no frames")
            report.status = "done"
            report.exit_code = EXIT_OK
        except (StopRequested, KeyboardInterrupt) as stop:
            report.status = "interrupted"
            report.exit_code = exit_code_for(stop)
        except (RuntimeError, ValueError, TypeError, OSError) as exc:
            # Input, output and runtime errors (a lost stream is a failure of
            # the run, not of how bgmix was called): reported, not raised.
            failure = exc
            report.exit_code = exit_code_for(exc)
        except BaseException:
            keep = False
            raise
        finally:
            with signals.critical():  # a signal now must not cut a container's closing short
                if processing is not None:
                    with contextlib.suppress(Exception):
                        processing.close()
                problems = finish_outputs(outputs, keep=keep)
                if activity is not None and keep and report.frames:
                    try:  # what the frames so far showed, also for an interrupted run
                        written = activity.write()
                        report.events = activity.n_events
                    except (OSError, ValueError, RuntimeError) as exc:
                        written = {}
                        problems.append((_ActivityOutput("events", options.events or ""), exc))
                    activity_written.update(written)
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
        if any(o.frames_written and not o.failed for o in outputs):
            if any(o.failed for o in outputs):
                report.error += " (the other outputs were closed with the frames written so far)"
            else:
                report.error += f" (outputs keep the first {report.frames} frames)"
    report.outputs = {o.name: o.path for o in outputs if not o.failed and o.frames_written
                      and os.path.exists(o.path)}
    report.outputs.update(activity_written)
    report.foreground = foreground / report.frames if report.frames else 0.0
    report.fps = report.frames / report.elapsed_s if report.elapsed_s > 0 else 0.0
    return report
