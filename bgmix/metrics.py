"""CDnet 2014 scoring of foreground masks.

The rules are those of changedetection.net (CDnet 2014):

* Ground-truth labels: 0 static, 50 hard shadow, 85 outside the region of
  interest, 170 unknown motion, 255 motion. 255 is **positive**; 0 and 50 are
  **negative**; 85 and 170 are **ignored**. Any other value inside the ROI is
  refused (a ``ValueError``): it means the file is not a CDnet ground truth.
* Pixels where the ROI image (``ROI.bmp``) is 0 are ignored.
* Only frames inside the temporal ROI (``temporalROI.txt``: ``"first last"``,
  1-based, inclusive) are scored. Frame numbers in this module are 1-based, as
  in CDnet's file names: the first mask of a sequence is frame 1.
* A predicted pixel is motion when its value is >= 128, so bgmix's shadow value
  127 is *not* motion, 255 is. Boolean masks are accepted (``True`` = motion).
* A sequence's counts are the sums over its frames; the ratios are taken from
  the summed counts (as CDnet does), never averaged over frames.

The seven CDnet figures, from the counts ``tp, fp, fn, tn``:

==============  =====================================  ==========================
figure          formula                                undefined (``nan``) when
==============  =====================================  ==========================
recall          tp / (tp + fn)                         no positive pixel
specificity     tn / (tn + fp)                         no negative pixel
fpr             fp / (fp + tn)                         no negative pixel
fnr             fn / (tp + fn)                         no positive pixel
pwc             100 (fn + fp) / (tp + fn + fp + tn)    no scored pixel
precision       tp / (tp + fp)                         no pixel predicted motion
f_measure       2 tp / (2 tp + fp + fn)                tp = fp = fn = 0
==============  =====================================  ==========================

A ratio whose denominator is 0 is ``float("nan")``: such a figure is not 0 (a
frame without positives is not a frame with recall 0) and ``nan`` keeps it out
of any average by :func:`numpy.nanmean`. The F-measure ``2 tp / (2 tp + fp +
fn)`` equals CDnet's ``2 P R / (P + R)`` wherever that is defined, and is also
defined (and 0) where precision is undefined but positives were missed, or
where ``P + R = 0``. ``to_dict`` methods write ``nan`` as ``None`` so that the
result is strict JSON.

Everything works one frame at a time: :func:`evaluate_sequence` and
:func:`evaluate_folders` hold one prediction and one ground-truth frame at a
time, and ``keep_frames=False`` drops the per-frame counts as well. The CDnet
folder layout (reading ``ROI.bmp``, ``temporalROI.txt``, the ground truth) is
:mod:`bgmix.cdnet`'s; its names are importable from here too.

This module is longer than most (about 700 lines) on purpose: nearly half of
it is the documentation of the rules above and examples that run, and what is
left is one thing, the scoring, which split in two would leave each half
pointing at the other's rules.
"""

from __future__ import annotations

import itertools
import math
import numbers
import os
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from bgmix.cdnet import (
    HARD_SHADOW,
    MOTION,
    OUTSIDE_ROI,
    STATIC,
    UNKNOWN_MOTION,
    CDnetSequence,
    check_temporal_roi,
    load_cdnet_sequence,
    read_mask,
    read_temporal_roi,
)

__all__ = [
    "SCORE_NAMES",
    "CDnetSequence",
    "ConfusionCounts",
    "SequenceResult",
    "evaluate_folders",
    "evaluate_sequence",
    "load_cdnet_sequence",
    "read_mask",
    "read_temporal_roi",
]

#: The seven CDnet figures, in CDnet's order, as attribute names.
SCORE_NAMES: tuple[str, ...] = (
    "recall", "specificity", "fpr", "fnr", "pwc", "precision", "f_measure")

MOTION_THRESHOLD = 128

# Ground-truth value -> class code: 0 negative, 1 positive, 2 ignored, 3 invalid.
_NEGATIVE, _POSITIVE, _IGNORED, _INVALID = 0, 1, 2, 3
_GT_CLASS = np.full(256, _INVALID, np.uint8)
_GT_CLASS[[STATIC, HARD_SHADOW]] = _NEGATIVE
_GT_CLASS[MOTION] = _POSITIVE
_GT_CLASS[[OUTSIDE_ROI, UNKNOWN_MOTION]] = _IGNORED
# Code of a pixel outside ROI.bmp in the combined index (class * 2 + motion).
_OUT_OF_ROI = 2 * _IGNORED

PathLike = str | os.PathLike[str]


def _ratio(num: int, den: int, scale: float = 1.0) -> float:
    return scale * num / den if den else math.nan


def json_float(value: float | None) -> float | None:
    """A figure for strict JSON: ``nan`` (undefined) as None.

    Examples
    --------
    >>> json_float(float("nan")), json_float(0.5)
    (None, 0.5)
    """
    return None if value is None or math.isnan(value) else float(value)


def _where(frame: int | None) -> str:
    return "" if frame is None else f"frame {frame}: "


def _as_plane(image: Any, what: str, frame: int | None) -> np.ndarray:
    """Return ``image`` as a 2-D array: (H, W) as is, channel 0 of (H, W, C)."""
    if not isinstance(image, np.ndarray):
        image = np.asarray(image)
    if image.ndim == 3 and image.shape[2] in (1, 3, 4):
        return image[:, :, 0]
    if image.ndim != 2:
        raise ValueError(f"{_where(frame)}{what} must have shape (H, W) or (H, W, 1|3|4), "
                         f"got shape {image.shape}")
    return image


def _as_byte_plane(image: Any, what: str, frame: int | None) -> np.ndarray:
    """A 2-D uint8 or bool array; other integer dtypes only with values in [0, 255]."""
    plane = _as_plane(image, what, frame)
    if plane.dtype == np.uint8 or plane.dtype == np.bool_:
        return plane
    if np.issubdtype(plane.dtype, np.integer):
        if plane.size and (int(plane.min()) < 0 or int(plane.max()) > 255):
            raise ValueError(f"{_where(frame)}{what} has values outside [0, 255] "
                             f"(min {plane.min()}, max {plane.max()}, dtype {plane.dtype})")
        return plane.astype(np.uint8)
    raise ValueError(f"{_where(frame)}{what} must be uint8 (or bool), got dtype {plane.dtype}"
                     + ("; threshold probabilities into a 0/255 mask first"
                        if np.issubdtype(plane.dtype, np.floating) else ""))


def _roi_inside(roi: Any, frame: int | None = None) -> np.ndarray:
    """ROI image -> bool array, True inside the region of interest (value != 0)."""
    plane = _as_plane(roi, "roi", frame)
    if plane.dtype == np.bool_:
        return plane
    if not (np.issubdtype(plane.dtype, np.integer) or np.issubdtype(plane.dtype, np.floating)):
        raise ValueError(f"roi must be a numeric or bool array, got dtype {plane.dtype}")
    return plane != 0


def _count(pred: Any, gt: Any, inside: np.ndarray | None,
           frame: int | None = None) -> ConfusionCounts:
    """Confusion counts of one frame; ``inside`` is the bool ROI or None."""
    pred = _as_byte_plane(pred, "prediction", frame)
    gt = _as_byte_plane(gt, "ground truth", frame)
    if pred.shape != gt.shape:
        raise ValueError(f"{_where(frame)}prediction shape {pred.shape} does not match "
                         f"ground-truth shape {gt.shape}")
    if inside is not None and inside.shape != gt.shape:
        raise ValueError(f"{_where(frame)}roi shape {inside.shape} does not match "
                         f"ground-truth shape {gt.shape}")
    if gt.dtype == np.bool_:
        raise ValueError(f"{_where(frame)}ground truth must hold CDnet labels "
                         "(uint8 0/50/85/170/255), got a bool array")
    gt_class = _GT_CLASS[gt]
    motion = pred if pred.dtype == np.bool_ else pred >= MOTION_THRESHOLD
    index = gt_class << 1
    index |= motion
    if inside is not None:
        index[~inside] = _OUT_OF_ROI
    hist = np.bincount(index.ravel(), minlength=8)
    if hist[2 * _INVALID] or hist[2 * _INVALID + 1]:
        bad = np.unique(gt[gt_class == _INVALID])
        shown = ", ".join(str(int(v)) for v in bad[:10]) + (", ..." if bad.size > 10 else "")
        raise ValueError(f"{_where(frame)}ground truth holds values other than the CDnet "
                         f"labels 0, 50, 85, 170, 255: {shown}")
    return ConfusionCounts(
        tp=int(hist[2 * _POSITIVE + 1]), fp=int(hist[2 * _NEGATIVE + 1]),
        fn=int(hist[2 * _POSITIVE]), tn=int(hist[2 * _NEGATIVE]))


@dataclass(frozen=True, slots=True)
class ConfusionCounts:
    """Pixel counts of a CDnet confusion matrix and the seven CDnet figures.

    Counts add up (``a + b``, ``sum(list_of_counts)``); the figures of a sum are
    the figures of the pooled pixels, which is how CDnet scores a sequence.
    A figure whose denominator is 0 is ``nan`` (see the module notes).

    Parameters
    ----------
    tp, fp, fn, tn : int
        True positives (motion predicted on motion), false positives (motion
        predicted on static or hard shadow), false negatives, true negatives.

    Examples
    --------
    >>> c = ConfusionCounts(tp=8, fp=2, fn=2, tn=88)
    >>> c.precision, c.recall, c.f_measure, c.pwc
    (0.8, 0.8, 0.8, 4.0)
    >>> c + ConfusionCounts(tp=2)
    ConfusionCounts(tp=10, fp=2, fn=2, tn=88)
    >>> ConfusionCounts(tn=5).recall  # no positive pixel: undefined
    nan
    """

    tp: int = 0
    fp: int = 0
    fn: int = 0
    tn: int = 0

    def __post_init__(self) -> None:
        for name in ("tp", "fp", "fn", "tn"):
            value = getattr(self, name)
            if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
                raise ValueError(f"{name} must be an integer, got {value!r}")
            if value < 0:
                raise ValueError(f"{name} must be >= 0, got {value}")
            object.__setattr__(self, name, int(value))

    @classmethod
    def from_masks(cls, pred: Any, gt: Any, roi: Any = None) -> ConfusionCounts:
        """Count one frame.

        Parameters
        ----------
        pred : array_like
            Predicted mask, (H, W) or (H, W, C) (channel 0 is used), uint8
            (>= 128 is motion, so 127 shadow is not) or bool (True is motion).
        gt : array_like
            CDnet ground truth, (H, W) or (H, W, C) (channel 0), uint8 labels
            0, 50, 85, 170, 255.
        roi : array_like, optional
            (H, W) or (H, W, C) region of interest; pixels where it is 0 are
            ignored. None scores every pixel.

        Returns
        -------
        ConfusionCounts

        Raises
        ------
        ValueError
            On mismatched shapes, a float prediction, or ground-truth values
            that are not CDnet labels.

        Examples
        --------
        >>> import numpy as np
        >>> gt = np.array([[255, 255, 0], [50, 85, 170]], np.uint8)
        >>> pred = np.array([[255, 127, 255], [255, 255, 255]], np.uint8)
        >>> ConfusionCounts.from_masks(pred, gt)
        ConfusionCounts(tp=1, fp=2, fn=1, tn=0)
        >>> roi = np.array([[255, 255, 0], [255, 255, 255]], np.uint8)
        >>> ConfusionCounts.from_masks(pred, gt, roi)
        ConfusionCounts(tp=1, fp=1, fn=1, tn=0)
        """
        inside = None if roi is None else _roi_inside(roi)
        return _count(pred, gt, inside)

    def __add__(self, other: object) -> ConfusionCounts:
        if not isinstance(other, ConfusionCounts):
            return NotImplemented
        return ConfusionCounts(self.tp + other.tp, self.fp + other.fp,
                               self.fn + other.fn, self.tn + other.tn)

    def __radd__(self, other: object) -> ConfusionCounts:
        if isinstance(other, numbers.Integral) and not isinstance(other, bool) and other == 0:
            return self  # sum() starts from 0
        return NotImplemented

    @property
    def total(self) -> int:
        """Scored pixels: ``tp + fp + fn + tn``."""
        return self.tp + self.fp + self.fn + self.tn

    @property
    def positives(self) -> int:
        """Ground-truth motion pixels: ``tp + fn``."""
        return self.tp + self.fn

    @property
    def negatives(self) -> int:
        """Ground-truth static or hard-shadow pixels: ``fp + tn``."""
        return self.fp + self.tn

    @property
    def recall(self) -> float:
        """``tp / (tp + fn)``; nan without positives."""
        return _ratio(self.tp, self.tp + self.fn)

    @property
    def specificity(self) -> float:
        """``tn / (tn + fp)``; nan without negatives."""
        return _ratio(self.tn, self.tn + self.fp)

    @property
    def fpr(self) -> float:
        """False positive rate ``fp / (fp + tn)``; nan without negatives."""
        return _ratio(self.fp, self.fp + self.tn)

    @property
    def fnr(self) -> float:
        """False negative rate ``fn / (tp + fn)``; nan without positives."""
        return _ratio(self.fn, self.tp + self.fn)

    @property
    def pwc(self) -> float:
        """Percentage of wrong classifications ``100 (fn + fp) / total``; nan if total is 0."""
        return _ratio(self.fn + self.fp, self.total, 100.0)

    @property
    def precision(self) -> float:
        """``tp / (tp + fp)``; nan when no pixel is predicted motion."""
        return _ratio(self.tp, self.tp + self.fp)

    @property
    def f_measure(self) -> float:
        """``2 tp / (2 tp + fp + fn)`` (= 2PR/(P+R)); nan when tp = fp = fn = 0."""
        return _ratio(2 * self.tp, 2 * self.tp + self.fp + self.fn)

    def scores(self) -> dict[str, float]:
        """The seven CDnet figures by name (:data:`SCORE_NAMES`), nan where undefined.

        Examples
        --------
        >>> ConfusionCounts(tp=1, fp=1, fn=0, tn=2).scores()["precision"]
        0.5
        """
        return {name: getattr(self, name) for name in SCORE_NAMES}

    def to_dict(self) -> dict[str, int | float | None]:
        """Counts and figures as a strict-JSON dict (nan written as None).

        Examples
        --------
        >>> ConfusionCounts(tp=1, tn=1).to_dict()["fpr"]
        0.0
        >>> ConfusionCounts(tn=1).to_dict()["recall"] is None
        True
        """
        out: dict[str, int | float | None] = {
            "tp": self.tp, "fp": self.fp, "fn": self.fn, "tn": self.tn}
        out.update({k: json_float(v) for k, v in self.scores().items()})
        return out


def _delegate(name: str) -> property:
    return property(lambda self: getattr(self.counts, name),
                    doc=f"``counts.{name}`` (from the counts summed over the scored frames).")


class CountsView:
    """The counts (``tp``, ``fp``, ``fn``, ``tn``) and the seven figures of ``self.counts``.

    A base of the results that hold summed :class:`ConfusionCounts`
    (:class:`SequenceResult`, :class:`bgmix.evaluation.MethodResult`).
    """

    counts: ConfusionCounts
    tp = _delegate("tp")
    fp = _delegate("fp")
    fn = _delegate("fn")
    tn = _delegate("tn")
    recall = _delegate("recall")
    specificity = _delegate("specificity")
    fpr = _delegate("fpr")
    fnr = _delegate("fnr")
    pwc = _delegate("pwc")
    precision = _delegate("precision")
    f_measure = _delegate("f_measure")


@dataclass(frozen=True)
class SequenceResult(CountsView):
    """Scores of a sequence: counts summed over the scored frames.

    The figures (``f_measure``, ``precision`` ... and :meth:`scores`) are taken
    from the summed :attr:`counts`, as CDnet does, not averaged over frames.

    Attributes
    ----------
    counts : ConfusionCounts
        Sum over the scored frames.
    n_frames : int
        Number of frames scored.
    first_frame, last_frame : int or None
        1-based numbers of the first and last scored frames (None if none).
    temporal_roi : (int, int) or None
        The temporal ROI applied, 1-based inclusive; None when every frame was
        scored.
    frame_counts : Mapping[int, ConfusionCounts] or None
        Counts of each scored frame by 1-based frame number, or None when the
        evaluation ran with ``keep_frames=False``.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((3, 2, 2), np.uint8); gt[:, 0, 0] = 255
    >>> pred = gt.copy(); pred[2, 1, 1] = 255
    >>> result = evaluate_sequence(pred, gt, temporal_roi=(2, 3))
    >>> result.counts, result.n_frames
    (ConfusionCounts(tp=2, fp=1, fn=0, tn=5), 2)
    >>> round(result.f_measure, 3)
    0.8
    >>> result.frame_scores("precision")
    array([1. , 0.5])
    """

    counts: ConfusionCounts
    n_frames: int
    first_frame: int | None = None
    last_frame: int | None = None
    temporal_roi: tuple[int, int] | None = None
    frame_counts: Mapping[int, ConfusionCounts] | None = field(default=None, repr=False)

    def scores(self) -> dict[str, float]:
        """The seven CDnet figures of the summed counts (nan where undefined).

        Examples
        --------
        >>> SequenceResult(ConfusionCounts(tp=3, fn=1), 1).scores()["recall"]
        0.75
        """
        return self.counts.scores()

    def frame_scores(self, name: str = "f_measure") -> np.ndarray:
        """One figure per kept frame, in frame order (float64, nan where undefined).

        For plots and diagnostics only: the sequence's figure is *not* the mean
        of these.

        Parameters
        ----------
        name : str
            One of :data:`SCORE_NAMES`.

        Examples
        --------
        >>> r = SequenceResult(ConfusionCounts(tp=1), 1, 1, 1,
        ...                    frame_counts={1: ConfusionCounts(tp=1)})
        >>> r.frame_scores("recall")
        array([1.])
        """
        if name not in SCORE_NAMES:
            raise ValueError(f"name must be one of {', '.join(SCORE_NAMES)}, got {name!r}")
        if self.frame_counts is None:
            raise ValueError("per-frame counts were not kept (evaluated with keep_frames=False)")
        return np.array([getattr(self.frame_counts[n], name) for n in sorted(self.frame_counts)],
                        dtype=np.float64)

    def to_dict(self) -> dict[str, Any]:
        """A strict-JSON dict: summed counts and figures, and per-frame counts if kept.

        ``{"n_frames", "first_frame", "last_frame", "temporal_roi", "counts":
        {tp, fp, fn, tn}, "scores": {seven figures, None where undefined},
        "frames": [{"frame", "tp", "fp", "fn", "tn"}, ...] or None}``.

        Examples
        --------
        >>> import json
        >>> r = SequenceResult(ConfusionCounts(tp=1, tn=3), 1, 5, 5, (5, 5),
        ...                    {5: ConfusionCounts(tp=1, tn=3)})
        >>> d = r.to_dict()
        >>> d["scores"]["f_measure"], d["frames"]
        (1.0, [{'frame': 5, 'tp': 1, 'fp': 0, 'fn': 0, 'tn': 3}])
        >>> _ = json.dumps(d, allow_nan=False)
        """
        c = self.counts
        frames = None
        if self.frame_counts is not None:
            frames = [{"frame": n, "tp": fc.tp, "fp": fc.fp, "fn": fc.fn, "tn": fc.tn}
                      for n, fc in sorted(self.frame_counts.items())]
        return {
            "n_frames": self.n_frames,
            "first_frame": self.first_frame,
            "last_frame": self.last_frame,
            "temporal_roi": None if self.temporal_roi is None else list(self.temporal_roi),
            "counts": {"tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn},
            "scores": {k: json_float(v) for k, v in c.scores().items()},
            "frames": frames,
        }


class _Accumulator:
    """Sums per-frame counts; keeps them by frame number when asked."""

    def __init__(self, keep_frames: bool) -> None:
        self.tp = self.fp = self.fn = self.tn = 0
        self.n = 0
        self.first: int | None = None
        self.last: int | None = None
        self.frames: dict[int, ConfusionCounts] | None = {} if keep_frames else None

    def add(self, frame: int, c: ConfusionCounts) -> None:
        self.tp += c.tp
        self.fp += c.fp
        self.fn += c.fn
        self.tn += c.tn
        self.n += 1
        if self.first is None:
            self.first = frame
        self.last = frame
        if self.frames is not None:
            self.frames[frame] = c

    def result(self, temporal_roi: tuple[int, int] | None) -> SequenceResult:
        frames = None if self.frames is None else MappingProxyType(self.frames)
        return SequenceResult(ConfusionCounts(self.tp, self.fp, self.fn, self.tn), self.n,
                              self.first, self.last, temporal_roi, frames)


# --------------------------------------------------------------------- evaluation


def evaluate_sequence(pred_masks: Iterable[Any],
                      ground_truth: PathLike | CDnetSequence | Iterable[Any],
                      roi: Any = None, temporal_roi: tuple[int, int] | None = None, *,
                      keep_frames: bool = True, require_all: bool = True) -> SequenceResult:
    """Score predicted masks against CDnet ground truth, one frame at a time.

    The ``i``-th prediction (0-based) is frame ``i + 1``. Frames before the
    temporal ROI are consumed and skipped (their ground truth is not read);
    iteration stops after the temporal ROI's last frame, so ``pred_masks`` may
    be a live generator longer than the ROI.

    Parameters
    ----------
    pred_masks : iterable of array_like, or numpy.ndarray (N, H, W[, C])
        Predicted masks in frame order, uint8 (>= 128 is motion; 127 shadow is
        not) or bool; (H, W, C) masks use channel 0.
    ground_truth : path, CDnetSequence, numpy.ndarray (N, H, W) or iterable
        A CDnet sequence folder (or :func:`load_cdnet_sequence`'s result), whose
        ``ROI.bmp`` and ``temporalROI.txt`` are the defaults for ``roi`` and
        ``temporal_roi``; or ground-truth label arrays, one per frame starting
        at frame 1 (also when a temporal ROI is given).
    roi : array_like, optional
        (H, W) region of interest, 0 = ignored. Overrides the folder's ROI.bmp.
    temporal_roi : (int, int), optional
        ``(first, last)`` frames to score, 1-based and inclusive. Overrides the
        folder's temporalROI.txt. Default: every frame with ground truth.
    keep_frames : bool
        Keep each frame's counts in :attr:`SequenceResult.frame_counts`.
    require_all : bool
        When True (default), predictions ending before the last frame to score
        (the temporal ROI's last frame, or the last ground-truth frame) are an
        error; when False the frames given are scored.

    Returns
    -------
    SequenceResult
        Counts summed over the scored frames; figures from the sums.

    Raises
    ------
    ValueError
        On a shape mismatch (naming the frame and both shapes), non-CDnet
        ground-truth values, too few predictions (``require_all``), or more
        predictions than ground-truth frames when no temporal ROI bounds them.
    FileNotFoundError
        When a ground-truth file of a frame to score is missing.

    Examples
    --------
    >>> import numpy as np
    >>> gt = np.zeros((4, 2, 3), np.uint8); gt[:, 0, :] = 255   # top row moves
    >>> pred = np.zeros_like(gt); pred[:, 0, :2] = 255
    >>> r = evaluate_sequence(pred, gt, temporal_roi=(3, 4))
    >>> r.n_frames, r.counts
    (2, ConfusionCounts(tp=4, fp=0, fn=2, tn=6))
    >>> round(r.recall, 4), r.precision
    (0.6667, 1.0)
    """
    if isinstance(pred_masks, np.ndarray) and pred_masks.ndim < 3:
        raise ValueError(f"pred_masks must be a sequence of masks (N, H, W[, C]), "
                         f"got one array of shape {pred_masks.shape}")
    if temporal_roi is not None:
        temporal_roi = check_temporal_roi(temporal_roi)

    sequence: CDnetSequence | None = None
    if isinstance(ground_truth, (str, os.PathLike)):
        sequence = load_cdnet_sequence(ground_truth)
    elif isinstance(ground_truth, CDnetSequence):
        sequence = ground_truth
    elif isinstance(ground_truth, np.ndarray) and ground_truth.ndim < 3:
        raise ValueError(f"ground_truth must be a sequence of frames (N, H, W[, C]) or a "
                         f"folder, got one array of shape {ground_truth.shape}")

    gt_source: Callable[[int], Any]
    gt_iter: Iterator[Any] | None = None
    last_gt: int | None = None            # last ground-truth frame, when known
    if sequence is not None:
        if roi is None:
            roi = sequence.roi
        if temporal_roi is None:
            temporal_roi = sequence.temporal_roi
        last_gt = sequence.n_frames
        gt_source = sequence.ground_truth
    else:
        gt_iter = iter(ground_truth)  # type: ignore[arg-type]
        if isinstance(ground_truth, np.ndarray):
            last_gt = ground_truth.shape[0]

    inside = None if roi is None else _roi_inside(roi)
    first, last = temporal_roi if temporal_roi is not None else (1, None)

    acc = _Accumulator(keep_frames)
    preds: Iterable[Any] = pred_masks if last is None else itertools.islice(pred_masks, last)
    n = 0
    for n, pred in enumerate(preds, start=1):
        if sequence is None:
            assert gt_iter is not None
            try:
                gt = next(gt_iter)
            except StopIteration:
                raise ValueError(f"frame {n}: ground truth ends after {n - 1} frames but "
                                 "the predictions go on") from None
        elif last is None and n > sequence.n_frames:
            raise ValueError(f"frame {n}: ground truth {sequence.ground_truth_path(n)} does "
                             f"not exist ({sequence.n_frames} frames) but the predictions "
                             "go on; pass temporal_roi to score a part")
        if n < first:
            continue
        if sequence is not None:
            gt = gt_source(n)
        acc.add(n, _count(pred, gt, inside, n))

    if require_all:
        wanted = last if last is not None else last_gt
        if wanted is not None and n < wanted:
            raise ValueError(f"the predictions end after frame {n}, but frames {first} to "
                             f"{wanted} are to be scored (pass require_all=False to score "
                             "the frames given)")
        if wanted is None and gt_iter is not None and next(gt_iter, None) is not None:
            raise ValueError(f"the predictions end after frame {n} but the ground truth "
                             "goes on (pass require_all=False to score the frames given)")
    return acc.result(temporal_roi)


def evaluate_folders(pred_dir: PathLike, gt_sequence_dir: PathLike | CDnetSequence,
                     roi: Any = None, temporal_roi: tuple[int, int] | None = None, *,
                     pattern: str = "bin%06d.png", keep_frames: bool = True) -> SequenceResult:
    """Score saved prediction images against a CDnet-layout folder.

    Every frame of the temporal ROI (``temporalROI.txt``, or ``temporal_roi``,
    or all ground-truth frames when neither exists) must have a prediction
    file ``pred_dir / (pattern % frame)``; frames outside it are not read.
    Predictions may be 3-channel images (channel 0 is used).

    Parameters
    ----------
    pred_dir : str or path-like
        Folder of predicted masks, CDnet naming ``bin000001.png ...``.
    gt_sequence_dir : str, path-like or CDnetSequence
        CDnet sequence folder with ``groundtruth/``, ``ROI.bmp``,
        ``temporalROI.txt``.
    roi : array_like, optional
        Overrides ``ROI.bmp``.
    temporal_roi : (int, int), optional
        Overrides ``temporalROI.txt`` (1-based, inclusive).
    pattern : str
        ``%``-format of the prediction file names.
    keep_frames : bool
        Keep per-frame counts.

    Returns
    -------
    SequenceResult

    Raises
    ------
    FileNotFoundError
        When ``pred_dir`` is not a folder, or prediction files of frames inside
        the temporal ROI are missing (the first missing file is named), or a
        ground-truth file is missing.
    ValueError
        On a shape mismatch (naming the frame and both shapes) or non-CDnet
        ground-truth values.

    Examples
    --------
    >>> import cv2, tempfile, pathlib
    >>> from bgmix.synth import make_scene, write_cdnet
    >>> scene = make_scene(n_frames=40, height=32, width=48)
    >>> gt_dir = write_cdnet(scene, tempfile.mkdtemp())
    >>> pred_dir = pathlib.Path(tempfile.mkdtemp())
    >>> for n, gt in enumerate(scene.ground_truth, start=1):   # a perfect prediction
    ...     _ = cv2.imwrite(str(pred_dir / f"bin{n:06d}.png"), (gt == 255).astype("uint8") * 255)
    >>> r = evaluate_folders(pred_dir, gt_dir)
    >>> r.temporal_roi, r.n_frames, r.fp, r.fn
    ((31, 40), 10, 0, 0)
    """
    sequence = (gt_sequence_dir if isinstance(gt_sequence_dir, CDnetSequence)
                else load_cdnet_sequence(gt_sequence_dir))
    pred_dir = Path(pred_dir)
    if not pred_dir.is_dir():
        raise FileNotFoundError(f"prediction folder {pred_dir} does not exist")
    if roi is None:
        roi = sequence.roi
    if temporal_roi is not None:
        temporal_roi = check_temporal_roi(temporal_roi)
    else:
        temporal_roi = sequence.temporal_roi
    first, last = temporal_roi or (1, sequence.n_frames)

    try:
        names = set(os.listdir(pred_dir))
        frame_names = [pattern % n for n in range(first, last + 1)]
    except (TypeError, ValueError) as exc:
        raise ValueError(f"pattern must be a %-format with one integer, got {pattern!r}") from exc
    missing = [(n, name) for n, name in zip(range(first, last + 1), frame_names)
               if name not in names]
    if missing:
        n, name = missing[0]
        raise FileNotFoundError(
            f"{len(missing)} prediction file(s) missing inside the temporal ROI "
            f"{first}-{last}; first missing: {pred_dir / name} (frame {n})")

    inside = None if roi is None else _roi_inside(roi)
    acc = _Accumulator(keep_frames)
    for n, name in zip(range(first, last + 1), frame_names):
        acc.add(n, _count(read_mask(pred_dir / name), sequence.ground_truth(n), inside, n))
    return acc.result(temporal_roi)
