"""Run methods (:mod:`bgmix.methods`) on CDnet-layout sequences and score their masks.

:func:`evaluate_methods_on_sequence` reads a CDnet folder (``input/in%06d.jpg``
or ``.png``, ``groundtruth/gt%06d.png``, ``ROI.bmp``, ``temporalROI.txt``) in one
pass: each frame is decoded once and given to every method, each mask is scored
at once against the frame's ground truth (read once) and dropped, so memory
does not grow with the length of the sequence. Only each method's own
``apply`` (and its median filter) is timed, not decoding or scoring. Scores
follow :mod:`bgmix.metrics` (CDnet 2014 rules: counts summed over the temporal
ROI, 255 is motion and bgmix's 127 shadow is not). :func:`evaluate_masks`
scores masks saved earlier.

The names of :mod:`bgmix.methods` and the CDnet folder tests of
:mod:`bgmix.cdnet` are importable from here too, as before.

Examples
--------
>>> import tempfile
>>> from bgmix.synth import make_scene, write_cdnet
>>> folder = write_cdnet(make_scene(height=32, width=48, n_frames=40), tempfile.mkdtemp())
>>> results = evaluate_methods_on_sequence(["bgmix:mog2", "mog2"], folder)
>>> [(r.method, r.n_frames, r.n_scored_frames) for r in results]
[('bgmix:mog2', 40, 10), ('mog2', 40, 10)]
>>> results[0].f_measure == results[1].f_measure   # the mog2 preset is OpenCV's MOG2
True
"""

from __future__ import annotations

import contextlib
import os
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bgmix.cdnet import (
    CDnetSequence,
    find_input_frames,
    is_mask_folder,
    is_sequence_folder,
    load_cdnet_sequence,
)
from bgmix.methods import (
    DEFAULT_PRESET,
    MEDIAN_KSIZE,
    MEDIAN_SUFFIX,
    OPENCV_METHODS,
    Method,
    MethodSpec,
    UnavailableMethodError,
    available_methods,
    make_method,
    preset_params,
    run_method,
)
from bgmix.metrics import (
    ConfusionCounts,
    CountsView,
    SequenceResult,
    evaluate_folders,
    json_float,
)
from bgmix.model import BackgroundMixture
from bgmix.sources.files import ImageSequenceSource

__all__ = [
    "DEFAULT_PRESET",
    "MEDIAN_SUFFIX",
    "OPENCV_METHODS",
    "Method",
    "MethodResult",
    "UnavailableMethodError",
    "available_methods",
    "evaluate_masks",
    "evaluate_method_on_sequence",
    "evaluate_methods_on_sequence",
    "find_input_frames",
    "is_mask_folder",
    "is_sequence_folder",
    "make_method",
    "preset_params",
    "run_method",
]


# --------------------------------------------------------------------------- results


@dataclass(frozen=True)
class MethodResult(CountsView):
    """One method's scores and speed on one sequence.

    Attributes
    ----------
    method : str
        The method's name.
    sequence : str
        The sequence's name (its folder's name, e.g. ``"highway"``).
    scores : bgmix.metrics.SequenceResult
        CDnet counts and figures over the scored frames.
    n_frames : int
        Frames given to the method (all frames up to the last scored one), or,
        for saved masks, the masks scored.
    ms_per_frame_median, ms_per_frame_mean : float or None
        Milliseconds per frame of the method's ``apply`` alone (and its median
        filter); None for saved masks.
    params : dict or None
        bgmix's parameters; None for OpenCV methods (OpenCV's defaults) and
        saved masks.
    path : str or None
        The sequence folder.
    frame_ms : numpy.ndarray or None
        Time of each frame in milliseconds (float64), None for saved masks.

    Figures (``f_measure``, ``precision``, ``recall``, ``pwc``,
    ``specificity``, ``fpr``, ``fnr``) and counts (``tp`` ... ``tn``) are
    attributes too; a figure is ``nan`` where undefined.
    """

    method: str
    sequence: str
    scores: SequenceResult
    n_frames: int
    ms_per_frame_median: float | None = None
    ms_per_frame_mean: float | None = None
    params: dict[str, Any] | None = None
    path: str | None = None
    frame_ms: np.ndarray | None = field(default=None, repr=False, compare=False)

    @property
    def counts(self) -> ConfusionCounts:
        """Confusion counts summed over the scored frames."""
        return self.scores.counts

    @property
    def n_scored_frames(self) -> int:
        """Frames inside the temporal ROI that were scored."""
        return self.scores.n_frames

    def to_dict(self) -> dict[str, Any]:
        """A strict-JSON dict (``nan`` written as None).

        Keys: ``method, sequence, path, n_frames, n_scored_frames, first_frame,
        last_frame, temporal_roi, f_measure, precision, recall, pwc,
        specificity, fpr, fnr, counts {tp, fp, fn, tn}, ms_per_frame_median,
        ms_per_frame_mean, params``.

        Examples
        --------
        >>> import json
        >>> r = MethodResult("mog2", "seq", SequenceResult(ConfusionCounts(tp=1, tn=1), 1), 3)
        >>> d = r.to_dict()
        >>> d["f_measure"], d["counts"], d["ms_per_frame_median"]
        (1.0, {'tp': 1, 'fp': 0, 'fn': 0, 'tn': 1}, None)
        >>> _ = json.dumps(d, allow_nan=False)
        """
        s = self.scores
        c = s.counts
        out: dict[str, Any] = {
            "method": self.method,
            "sequence": self.sequence,
            "path": self.path,
            "n_frames": self.n_frames,
            "n_scored_frames": s.n_frames,
            "first_frame": s.first_frame,
            "last_frame": s.last_frame,
            "temporal_roi": None if s.temporal_roi is None else list(s.temporal_roi),
        }
        scores = c.scores()
        for name in ("f_measure", "precision", "recall", "pwc", "specificity", "fpr", "fnr"):
            out[name] = json_float(scores[name])
        out["counts"] = {"tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn}
        out["ms_per_frame_median"] = json_float(self.ms_per_frame_median)
        out["ms_per_frame_mean"] = json_float(self.ms_per_frame_mean)
        out["params"] = None if self.params is None else dict(self.params)
        return out


# --------------------------------------------------------------------------- sequences


@contextlib.contextmanager
def _opencv_threads(n_threads: int | None) -> Iterator[None]:
    if n_threads is None:
        yield
        return
    before = cv2.getNumThreads()
    cv2.setNumThreads(int(n_threads))
    try:
        yield
    finally:
        cv2.setNumThreads(before)


def _check_threads(n_threads: Any) -> int | None:
    if n_threads is None:
        return None
    if isinstance(n_threads, bool) or not isinstance(n_threads, (int, np.integer)) or n_threads < 1:
        raise ValueError(f"n_threads must be a positive integer or None, got {n_threads!r}")
    return int(n_threads)


def evaluate_methods_on_sequence(
        methods: Sequence[MethodSpec], sequence_dir: str | os.PathLike[str], *,
        n_threads: int | None = None, keep_frames: bool = False,
        progress: Callable[[int], None] | None = None) -> list[MethodResult]:
    """Run several methods on a CDnet-layout sequence in one pass and score each.

    Every frame is decoded once and given to each method in turn; each mask
    is scored at once against the frame's ground truth (read once, inside the
    temporal ROI only) and dropped. Frames before the temporal ROI are run
    (the models learn from them) but not scored; frames after it are not
    read.

    Parameters
    ----------
    methods : sequence of str, Method, BackgroundMixture or dict
        See :func:`make_method`; every name gives a fresh model.
    sequence_dir : str or path-like
        Folder with ``input/in%06d.<jpg|png>``, ``groundtruth/gt%06d.png`` and
        optionally ``ROI.bmp`` and ``temporalROI.txt``.
    n_threads : int, optional
        Threads for every method: ``cv2.setNumThreads`` during the run
        (restored after) and bgmix's ``n_threads`` where its parameters leave
        it unset. None keeps each library's default (all cores).
    keep_frames : bool
        Keep per-frame counts in each result's ``scores.frame_counts``.
    progress : callable, optional
        Called with the 1-based frame number after each frame.

    Returns
    -------
    list of MethodResult
        In the order of ``methods``.

    Raises
    ------
    FileNotFoundError
        Missing ``input/`` or ``groundtruth/``, no frames, or a ground-truth
        file of a frame to score.
    ValueError
        Fewer input frames than frames to score, a frame that cannot be read,
        a mask whose size differs from the ground truth, unknown methods.
    UnavailableMethodError
        A method this installation cannot run.
    """
    n_threads = _check_threads(n_threads)
    if isinstance(methods, (str, Mapping, Method, BackgroundMixture)):
        methods = [methods]
    if not methods:
        raise ValueError("no methods to evaluate")
    runners = [make_method(m, n_threads=n_threads) for m in methods]
    names = [r.name for r in runners]
    duplicates = sorted({n for n in names if names.count(n) > 1})
    if duplicates:
        raise ValueError(f"method(s) given more than once: {', '.join(duplicates)}")

    folder = Path(sequence_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"sequence folder {folder} does not exist")
    sequence: CDnetSequence = load_cdnet_sequence(folder)
    inputs = find_input_frames(folder)
    first, last = sequence.frames().start, sequence.frames().stop - 1
    if len(inputs) < last:
        raise ValueError(f"{folder / 'input'} holds {len(inputs)} frames but frames {first} to "
                         f"{last} are to be scored")
    inside = None if sequence.roi is None else sequence.roi != 0
    name = folder.resolve().name

    n_methods = len(runners)
    totals = [[0, 0, 0, 0] for _ in runners]
    frame_counts: list[dict[int, ConfusionCounts] | None] = [
        {} if keep_frames else None for _ in runners]
    times = np.zeros((n_methods, last), np.float64)
    clock = time.perf_counter_ns

    with _opencv_threads(n_threads), ImageSequenceSource(
            [str(p) for p in inputs[:last]], name=name) as source:
        for n, frame in enumerate(source, start=1):
            if n == 1:
                for runner in runners:
                    runner.warm_up(frame)
            masks = []
            for i, runner in enumerate(runners):
                start = clock()
                mask = runner.apply(frame)
                times[i, n - 1] = clock() - start
                masks.append(mask)
            if n >= first:
                gt = sequence.ground_truth(n)
                for i, mask in enumerate(masks):
                    try:
                        c = ConfusionCounts.from_masks(mask, gt, inside)
                    except ValueError as exc:
                        raise ValueError(f"frame {n}, method {runners[i].name}: {exc}") from None
                    t = totals[i]
                    t[0] += c.tp
                    t[1] += c.fp
                    t[2] += c.fn
                    t[3] += c.tn
                    fc = frame_counts[i]
                    if fc is not None:
                        fc[n] = c
            del masks
            if progress is not None:
                progress(n)

    times /= 1e6  # ns -> ms
    results = []
    for i, runner in enumerate(runners):
        scores = SequenceResult(ConfusionCounts(*totals[i]), last - first + 1, first, last,
                                sequence.temporal_roi, frame_counts[i])
        results.append(MethodResult(
            method=runner.name, sequence=name, scores=scores, n_frames=last,
            ms_per_frame_median=float(np.median(times[i])),
            ms_per_frame_mean=float(np.mean(times[i])),
            params=None if runner.params is None else dict(runner.params),
            path=str(folder), frame_ms=times[i].copy()))
    return results


def evaluate_method_on_sequence(method: MethodSpec, sequence_dir: str | os.PathLike[str], *,
                                n_threads: int | None = None, keep_frames: bool = False,
                                progress: Callable[[int], None] | None = None) -> MethodResult:
    """Run one method on a CDnet-layout sequence and score it.

    Same as :func:`evaluate_methods_on_sequence` with one method.

    Examples
    --------
    >>> import tempfile
    >>> from bgmix.synth import make_scene, write_cdnet
    >>> folder = write_cdnet(make_scene(height=32, width=48, n_frames=40), tempfile.mkdtemp())
    >>> r = evaluate_method_on_sequence("bgmix:mog2", folder)
    >>> r.method, r.n_frames, r.scores.temporal_roi, r.f_measure > 0.5
    ('bgmix:mog2', 40, (31, 40), True)
    """
    return evaluate_methods_on_sequence([method], sequence_dir, n_threads=n_threads,
                                        keep_frames=keep_frames, progress=progress)[0]


def evaluate_masks(pred_dir: str | os.PathLike[str], sequence_dir: str | os.PathLike[str], *,
                   name: str | None = None, keep_frames: bool = False) -> MethodResult:
    """Score saved masks (``bin000001.png ...``) against a CDnet-layout folder.

    A thin wrapper of :func:`bgmix.metrics.evaluate_folders` that returns a
    :class:`MethodResult` (without timings) named ``name`` or after
    ``pred_dir``.

    Examples
    --------
    The ground truth itself, saved as masks, scores 1:

    >>> import tempfile
    >>> from bgmix.cdnet import write_cdnet
    >>> from bgmix.outputs.masks import PngMaskWriter
    >>> from bgmix.synth import make_scene
    >>> scene, root = make_scene(n_frames=40, height=32, width=48), Path(tempfile.mkdtemp())
    >>> with PngMaskWriter(root / "masks") as masks:
    ...     for labels in scene.ground_truth:
    ...         masks.write(labels)
    >>> r = evaluate_masks(root / "masks", write_cdnet(scene, root / "seq"), name="perfect")
    >>> r.method, r.n_frames, r.f_measure, r.ms_per_frame_median
    ('perfect', 10, 1.0, None)
    """
    pred_dir = Path(pred_dir)
    if not pred_dir.is_dir():
        raise FileNotFoundError(f"prediction folder {pred_dir} does not exist")
    sequence = load_cdnet_sequence(sequence_dir)
    scores = evaluate_folders(pred_dir, sequence, keep_frames=keep_frames)
    return MethodResult(method=name if name is not None else pred_dir.resolve().name,
                        sequence=Path(sequence_dir).resolve().name, scores=scores,
                        n_frames=scores.n_frames, path=str(sequence_dir))
