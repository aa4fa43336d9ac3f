"""The outputs of a run: each output name, its default file name, its writer.

:func:`open_outputs` opens the outputs named in a mapping ``{name: path}``
as :class:`SinkOutput` objects, which follow the
:class:`~bgmix.outputs.Output` protocol: ``write(result)`` hands the part of
a :class:`~bgmix.pipeline.FrameResult` this output keeps to its writer
(the mask; the frame, mask and blobs; the frame number and blobs ...).
:func:`finish_outputs` closes or discards them all, whatever fails.

========================  ======================  ===========================
output                    default name            written by
========================  ======================  ===========================
``masks``                 ``masks.mkv``           mask video or PNG folder
``overlay``               ``overlay.mkv``         :class:`~.videos.OverlayVideoWriter`
``background``            ``background.mkv``      :class:`~.videos.BackgroundVideoWriter`
``mot``                   ``det.txt``             :class:`~.tables.MotWriter`
``jsonl``                 ``blobs.jsonl``         :class:`~.tables.JsonlWriter`
``csv``                   ``blobs.csv``           :class:`~.tables.CsvWriter`
``probability``           ``probability.mkv``     grey video or PNG folder
``outliers``              ``outliers.mkv``        grey video or PNG folder
========================  ======================  ===========================

With zones (``open_outputs(..., zones=names)``), ``jsonl`` and ``csv`` say
which zones each blob touches, and ``mot`` is joined by one more output per
zone, ``mot-NAME``, the blobs touching that zone (``det-NAME.txt`` beside
``det.txt``; MOT columns are fixed).

Grey outputs (masks, probability, outliers) are a ``.mkv`` FFV1 video, or a
folder of CDnet-named PNGs when the name has no suffix. Masks, overlay and
grey outputs are encoded on a thread of their own
(:class:`~bgmix.outputs.threaded.ThreadedWriter`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from bgmix.errors import OutputError

__all__ = ["DEFAULT_NAMES", "GREY_OUTPUTS", "OUTPUT_NAMES", "SUFFIXES", "VIDEO_SUFFIXES",
           "SinkOutput", "finish_outputs", "open_outputs"]

# Matroska by default: a killed run (SIGKILL, power loss) leaves a readable
# partial .mkv up to the last flushed block, where an MP4 without its index is lost.
DEFAULT_NAMES: Mapping[str, str] = {
    "masks": "masks.mkv", "overlay": "overlay.mkv", "background": "background.mkv",
    "mot": "det.txt", "jsonl": "blobs.jsonl", "csv": "blobs.csv",
    "probability": "probability.mkv", "outliers": "outliers.mkv"}
"""Names of the outputs asked for without a path (inside OUTDIR, or each batch video's folder)."""

OUTPUT_NAMES: tuple[str, ...] = tuple(DEFAULT_NAMES)
"""Every output, in the fixed order they are opened, written and reported."""

GREY_OUTPUTS = ("masks", "probability", "outliers")
"""Outputs written as grey images: an FFV1 ``.mkv``, or a PNG folder (a name without suffix)."""

VIDEO_SUFFIXES = (".mkv", ".mp4", ".avi")
"""Suffixes of the video outputs, whose last frame is read back when they are closed."""

SUFFIXES: Mapping[str, tuple[str, ...]] = {
    "mot": (".txt",), "jsonl": (".jsonl", ".ndjson"), "csv": (".csv",),
    "overlay": (".mp4", ".avi", ".mkv"), "background": (".mp4", ".avi", ".mkv")}
"""The suffixes each output's name may end in (grey outputs: ``.mkv`` or none)."""


class SinkOutput:
    """An :class:`~bgmix.outputs.Output` that hands part of each result to a sink.

    Parameters
    ----------
    name, path : str
        The output's name and final path.
    sink : object
        A writer with ``write``, ``close``, ``abort`` and ``frames_written``.
    parts : callable
        ``parts(result)`` -> the arguments of ``sink.write``.
    verify : bool
        Read the last frame back after closing (a video).
    """

    def __init__(self, name: str, path: str, sink: Any, parts: Callable[[Any], tuple[Any, ...]],
                 *, verify: bool = False) -> None:
        self.name = name
        self.path = path
        self.sink = sink
        self.parts = parts
        self.verify = verify
        self.frames_written = 0
        self.failed = False

    def write(self, result: Any) -> None:
        self.sink.write(*self.parts(result))
        self.frames_written += 1

    def close(self) -> None:
        self.sink.close()
        if self.verify and self.sink.frames_written:
            from bgmix.outputs.videos import verify_video

            verify_video(self.path, self.sink.frames_written)

    def abort(self) -> None:
        self.sink.abort()

    def __repr__(self) -> str:
        return f"SinkOutput({self.name!r}, {self.path!r}, {self.frames_written} frames)"


# What each output keeps of a FrameResult (module-level functions, not lambdas: picklable).
def _mask(result: Any) -> tuple[Any, ...]:
    return (result.mask,)


def _probability(result: Any) -> tuple[Any, ...]:
    from bgmix.outputs.masks import probability_image

    return (probability_image(result.probability),)


def _outliers(threshold: float, result: Any) -> tuple[Any, ...]:
    from bgmix.outputs.masks import outlier_image

    return (outlier_image(result.log_likelihood, threshold),)


def _overlay(result: Any) -> tuple[Any, ...]:
    return (result.frame, result.mask, result.blobs)


def _model(model: Any, result: Any) -> tuple[Any, ...]:
    return (model,)


def _detections(result: Any) -> tuple[Any, ...]:
    return (result.index + 1, result.blobs)  # tables count frames from 1


def _open_sink(name: str, path: str, fps: float, model: Any, background_every: int,
               outlier_threshold: float | None, zones: bool = False,
               zone: str | None = None) -> SinkOutput:
    from bgmix.outputs.threaded import ThreadedWriter

    if name in GREY_OUTPUTS:
        from bgmix.outputs.masks import MaskVideoWriter, PngMaskWriter

        suffix = Path(path).suffix.lower()
        if suffix == ".mkv":
            sink: Any = MaskVideoWriter(path, fps)
        elif suffix:
            raise ValueError(f"--{name} {path}: a grey video must be .mkv (lossless "
                             "FFV1); give a folder name (no suffix) for PNGs")
        else:
            sink = PngMaskWriter(path)
        # Encoding on a thread of its own overlaps the model's work on the next
        # frame; masks, frames and blobs are new objects every frame, so the
        # queued ones are never changed under the writer (the probability and
        # log-likelihood buffers are reused: what is queued is a new image).
        parts = {"masks": _mask, "probability": _probability}.get(name) \
            or functools.partial(_outliers, outlier_threshold)
        return SinkOutput(name, path, ThreadedWriter(sink), parts, verify=suffix == ".mkv")
    if name == "overlay":
        from bgmix.outputs.videos import OverlayVideoWriter

        return SinkOutput(name, path, ThreadedWriter(OverlayVideoWriter(path, fps)), _overlay,
                          verify=True)
    if name == "background":
        from bgmix.outputs.videos import BackgroundVideoWriter

        return SinkOutput(name, path, BackgroundVideoWriter(path, fps, every=background_every),
                          functools.partial(_model, model), verify=True)
    from bgmix.outputs.tables import open_writer

    if name == "mot":
        return SinkOutput(name if zone is None else f"mot-{zone}", path,
                          open_writer(path, name, zone=zone), _detections)
    return SinkOutput(name, path, open_writer(path, name, zones=zones), _detections)


def open_outputs(paths: Mapping[str, str], *, fps: float, model: Any = None,
                 background_every: int = 1,
                 outlier_threshold: float | None = None,
                 zones: Sequence[str] = ()) -> list[SinkOutput]:
    """Open the outputs ``{name: path}`` (names of :data:`OUTPUT_NAMES`), in that order.

    Parameters
    ----------
    paths : mapping
        Output name -> final path.
    fps : float
        Frame rate of the videos.
    model : BackgroundMixture, optional
        The model whose background image the ``background`` output writes.
    background_every : int
        Write the background every this many frames.
    outlier_threshold : float, optional
        The log-likelihood under which ``outliers`` marks a pixel.
    zones : sequence of str
        Zone names: ``jsonl`` and ``csv`` say which zones each blob touches
        and ``mot`` gets one more file per zone (``det-NAME.txt``, output
        ``mot-NAME``). The results' blobs must be found with these zones
        (``process(..., zones=...)``).

    Raises
    ------
    OutputError
        An output that cannot be opened (the ones opened before are discarded).

    Examples
    --------
    >>> import tempfile, numpy as np
    >>> from bgmix import process
    >>> out = Path(tempfile.mkdtemp())
    >>> outputs = open_outputs({"masks": str(out / "m"), "jsonl": str(out / "b.jsonl")}, fps=25)
    >>> for result in process(np.zeros((3, 8, 8), np.uint8)):
    ...     for output in outputs:
    ...         output.write(result)
    >>> finish_outputs(outputs, keep=True), sorted(p.name for p in out.iterdir())
    ([], ['b.jsonl', 'm'])
    """
    from bgmix.outputs.tables import zone_path

    jobs: list[tuple[str, str, str | None]] = []
    for name, path in paths.items():
        jobs.append((name, path, None))
        if name == "mot":
            jobs.extend((name, str(zone_path(path, zone)), zone) for zone in zones)
    opened: list[SinkOutput] = []
    for name, path, zone in jobs:
        try:
            opened.append(_open_sink(name, path, fps, model, background_every,
                                     outlier_threshold, zones=bool(zones), zone=zone))
        except OSError as exc:
            finish_outputs(opened, keep=False)
            raise OutputError(name, path, exc) from exc
        except BaseException:
            finish_outputs(opened, keep=False)
            raise
    return opened


def finish_outputs(outputs: list[SinkOutput], keep: bool) -> list[tuple[SinkOutput, BaseException]]:
    """Close (``keep``) or discard every output; never raises, returns the failures.

    Closed videos are checked by reading their last frame back; an output
    whose closing fails is marked ``failed`` and discarded (a video that
    failed its check keeps its readable frames).
    """
    problems = []
    for output in outputs:
        try:
            if keep and not output.failed:
                output.close()
            else:
                output.abort()
        except BaseException as exc:  # one output's failure must not stop the others closing
            output.failed = True
            problems.append((output, exc))
            with contextlib.suppress(BaseException):
                output.abort()
    return problems
