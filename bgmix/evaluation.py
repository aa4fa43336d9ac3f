"""Run background subtractors on CDnet-layout sequences and score their masks.

A *method* is anything that turns frames into masks, one frame at a time:

* ``"bgmix"``: a :class:`~bgmix.BackgroundMixture` with its default
  parameters (which reproduce OpenCV MOG2); ``"bgmix:NAME"``: the preset
  ``NAME`` (``bgmix.presets.PRESETS[NAME]`` when that module exists; without it
  only ``"mog2"`` and ``"default"``, both the constructor's defaults). A
  :class:`~bgmix.BackgroundMixture` instance or a dict of its parameters is a
  method too.
* OpenCV's subtractors with OpenCV's default parameters: ``"mog2"``
  (``cv2.createBackgroundSubtractorMOG2``), ``"knn"``
  (``cv2.createBackgroundSubtractorKNN``) and, with opencv-contrib-python
  (``cv2.bgsegm``), ``"gsoc"``, ``"mog"`` and ``"cnt"``.
* Any of them followed by ``"+median"``: the mask cleaned by a 5x5
  ``cv2.medianBlur`` (``"mog2+median"``, ``"knn+median"``, ``"bgmix+median"``).

:func:`evaluate_methods_on_sequence` reads a CDnet folder (``input/in%06d.jpg``
or ``.png``, ``groundtruth/gt%06d.png``, ``ROI.bmp``, ``temporalROI.txt``) in one
pass: each frame is decoded once and given to every method, each mask is scored
at once against the frame's ground truth (read once) and dropped, so memory
does not grow with the length of the sequence. Only each method's own
``apply`` (and its median filter) is timed, not decoding or scoring. Scores
follow :mod:`bgmix.metrics` (CDnet 2014 rules: counts summed over the temporal
ROI, 255 is motion and bgmix's 127 shadow is not).

Examples
--------
>>> import tempfile
>>> from bgmix.synth import make_scene, write_cdnet
>>> folder = write_cdnet(make_scene(height=32, width=48, n_frames=40), tempfile.mkdtemp())
>>> results = evaluate_methods_on_sequence(["bgmix", "mog2"], folder)
>>> [(r.method, r.n_frames, r.n_scored_frames) for r in results]
[('bgmix', 40, 10), ('mog2', 40, 10)]
>>> results[0].f_measure == results[1].f_measure   # bgmix's defaults are MOG2's
True
"""

from __future__ import annotations

import contextlib
import importlib
import math
import os
import re
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bgmix.io import IMAGE_EXTENSIONS, ImageSequenceSource, open_source
from bgmix.metrics import (
    CDnetSequence,
    ConfusionCounts,
    SequenceResult,
    evaluate_folders,
    load_cdnet_sequence,
)
from bgmix.model import BackgroundMixture

__all__ = [
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

MEDIAN_SUFFIX = "+median"
MEDIAN_KSIZE = 5

#: OpenCV subtractors by name: (module attribute path, needs cv2.bgsegm).
OPENCV_METHODS: Mapping[str, tuple[str, bool]] = {
    "mog2": ("createBackgroundSubtractorMOG2", False),
    "knn": ("createBackgroundSubtractorKNN", False),
    "gsoc": ("bgsegm.createBackgroundSubtractorGSOC", True),
    "mog": ("bgsegm.createBackgroundSubtractorMOG", True),
    "cnt": ("bgsegm.createBackgroundSubtractorCNT", True),
}

_INPUT_NAME = re.compile(r"in(\d+)(\.[A-Za-z0-9]+)")
_MASK_NAME = re.compile(r"bin\d{6,}\.png")
_DEFAULT_PRESETS = ("default", "mog2")

MethodSpec = Any  # str | Method | BackgroundMixture | Mapping[str, Any]


class UnavailableMethodError(RuntimeError):
    """A known method that this installation cannot run (e.g. no ``cv2.bgsegm``)."""


# --------------------------------------------------------------------------- methods


class Method:
    """A named frame -> mask function with state (one instance per stream).

    Attributes
    ----------
    name : str
        Name in tables and JSON (``"bgmix"``, ``"mog2+median"`` ...).
    params : dict or None
        The parameters that matter for reproducing it (bgmix's constructor
        parameters); None for OpenCV methods, which use OpenCV's defaults.
    """

    name: str = "<method>"
    params: dict[str, Any] | None = None

    def apply(self, frame: np.ndarray) -> np.ndarray:  # pragma: no cover - abstract
        """Classify and learn one frame; return its (H, W) uint8 mask (a new array)."""
        raise NotImplementedError

    def warm_up(self, frame: np.ndarray) -> None:
        """Do one-off work (loading compiled code) on a throw-away instance.

        Called before timing so that ms/frame measures the steady state; the
        method's own state is not touched.
        """

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name}>"


class _BgmixMethod(Method):
    def __init__(self, params: Mapping[str, Any], name: str = "bgmix") -> None:
        self.name = name
        self.model = BackgroundMixture(**dict(params))
        self.model._validated()  # bad parameters fail before any frame is read
        self.params = self.model.get_params()

    def apply(self, frame: np.ndarray) -> np.ndarray:
        return self.model.apply(frame)

    def warm_up(self, frame: np.ndarray) -> None:
        # Numba compiles (or loads from its cache) one kernel per dtype and
        # channel count: a tiny crop of the frame gets that done.
        BackgroundMixture(**self.params).apply(np.ascontiguousarray(frame[:8, :8]))


class _OpenCVMethod(Method):
    def __init__(self, name: str) -> None:
        self.name = name
        self._factory = _opencv_factory(name)
        self.subtractor = self._factory()

    def apply(self, frame: np.ndarray) -> np.ndarray:
        return self.subtractor.apply(frame)

    def warm_up(self, frame: np.ndarray) -> None:
        self._factory().apply(np.ascontiguousarray(frame[:8, :8]))


class _MedianMethod(Method):
    def __init__(self, inner: Method) -> None:
        self.inner = inner
        self.name = inner.name + MEDIAN_SUFFIX
        self.params = inner.params

    def apply(self, frame: np.ndarray) -> np.ndarray:
        return cv2.medianBlur(self.inner.apply(frame), MEDIAN_KSIZE)

    def warm_up(self, frame: np.ndarray) -> None:
        self.inner.warm_up(frame)


def _has_bgsegm() -> bool:
    return hasattr(cv2, "bgsegm")


def _opencv_factory(name: str) -> Callable[[], Any]:
    path, contrib = OPENCV_METHODS[name]
    if contrib and not _has_bgsegm():
        raise UnavailableMethodError(
            f"method {name!r} needs cv2.bgsegm, which this OpenCV ({cv2.__version__}) lacks; "
            "it comes with opencv-contrib-python, which replaces opencv-python (install one "
            "or the other, not both)")
    target: Any = cv2
    for part in path.split("."):
        target = getattr(target, part)
    return target


def _presets_module() -> Any | None:
    try:
        return importlib.import_module("bgmix.presets")
    except ModuleNotFoundError as exc:
        if exc.name != "bgmix.presets":
            raise
        return None


def _params_of(value: Any, name: str) -> dict[str, Any]:
    if isinstance(value, Mapping):
        return dict(value)
    if hasattr(value, "get_params"):
        return dict(value.get_params())
    raise TypeError(f"preset {name!r} is a {type(value).__name__}; expected a dict of "
                    "BackgroundMixture parameters or a BackgroundMixture")


def _preset_names() -> list[str]:
    presets = _presets_module()
    names = set(_DEFAULT_PRESETS)
    if presets is not None:
        names.update(getattr(presets, "PRESETS", {}))
    return sorted(names)


def preset_params(name: str) -> dict[str, Any]:
    """BackgroundMixture parameters of a preset.

    Uses ``bgmix.presets.PRESETS[name]`` when that module exists; ``"mog2"``
    and ``"default"`` (unless the module defines them) are the constructor's
    defaults, ``{}``.

    Raises
    ------
    ValueError
        For an unknown name (the known ones are listed).

    Examples
    --------
    >>> preset_params("mog2") == {} or "history" in preset_params("mog2")
    True
    """
    presets = _presets_module()
    table = getattr(presets, "PRESETS", {}) if presets is not None else {}
    if name in table:
        return _params_of(table[name], name)
    if name in _DEFAULT_PRESETS:
        return {}
    raise ValueError(f"unknown preset {name!r}; known presets: {', '.join(_preset_names())}")


def available_methods() -> list[str]:
    """Names of the methods this installation can run (``+median`` works on each).

    Examples
    --------
    >>> available_methods()[:4]
    ['bgmix', 'mog2', 'mog2+median', 'knn']
    """
    names = ["bgmix"]
    for name, (_, contrib) in OPENCV_METHODS.items():
        if contrib and not _has_bgsegm():
            continue
        names.append(name)
        if not contrib:
            names.append(name + MEDIAN_SUFFIX)
    return names


def make_method(spec: MethodSpec, *, n_threads: int | None = None,
                name: str | None = None) -> Method:
    """Build a fresh :class:`Method` from a name, parameters or a model.

    Parameters
    ----------
    spec : str, Method, BackgroundMixture or dict
        ``"bgmix"``, ``"bgmix:PRESET"``, ``"mog2"``, ``"knn"``, ``"gsoc"``,
        ``"mog"``, ``"cnt"``, each optionally followed by ``"+median"``; a
        :class:`Method` (returned as is); a BackgroundMixture (used as is,
        state included); or a dict of BackgroundMixture parameters.
    n_threads : int, optional
        For bgmix methods whose parameters leave ``n_threads`` unset (None):
        the kernel's thread count.
    name : str, optional
        Name of the method in results (default: from ``spec``; ``"bgmix"``
        for a dict or a BackgroundMixture).

    Raises
    ------
    ValueError
        Unknown name or preset, or invalid bgmix parameters.
    UnavailableMethodError
        ``gsoc``, ``mog`` or ``cnt`` without ``cv2.bgsegm``.

    Examples
    --------
    >>> make_method("knn+median").name
    'knn+median'
    >>> make_method({"history": 200}).params["history"]
    200
    """
    method = _make_method(spec, n_threads)
    if name is not None:
        method.name = str(name)
    return method


def _make_method(spec: MethodSpec, n_threads: int | None) -> Method:
    if isinstance(spec, Method):
        return spec
    if isinstance(spec, BackgroundMixture):
        method = _BgmixMethod(spec.get_params())
        method.model = spec
        return method
    if isinstance(spec, Mapping):
        params = dict(spec)
        if n_threads is not None and params.get("n_threads") is None:
            params["n_threads"] = n_threads
        return _BgmixMethod(params)
    if not isinstance(spec, str):
        raise TypeError(f"a method is a name, a dict of BackgroundMixture parameters, a "
                        f"BackgroundMixture or a Method, got {type(spec).__name__}")
    text = spec.strip()
    median = text.lower().endswith(MEDIAN_SUFFIX)
    text = text[: -len(MEDIAN_SUFFIX)] if median else text
    base = text.lower()
    method: Method
    if base == "bgmix" or base.startswith("bgmix:"):
        preset = text.partition(":")[2]  # preset names keep their case
        params = preset_params(preset) if preset else {}
        if n_threads is not None and params.get("n_threads") is None:
            params["n_threads"] = n_threads
        method = _BgmixMethod(params, name=f"bgmix:{preset}" if preset else "bgmix")
    elif base in OPENCV_METHODS:
        method = _OpenCVMethod(base)
    else:
        raise ValueError(f"unknown method {spec!r}; known: bgmix, bgmix:PRESET, "
                         f"{', '.join(OPENCV_METHODS)} (each optionally with {MEDIAN_SUFFIX})")
    return _MedianMethod(method) if median else method


def run_method(method: MethodSpec, frames: Any) -> Iterator[np.ndarray]:
    """Run one method over frames and yield its masks, one per frame.

    Parameters
    ----------
    method : str, Method, BackgroundMixture or dict
        See :func:`make_method`; a name or dict gives a fresh model.
    frames : iterable of ndarray, ndarray (N, H, W[, C]) or path
        Frames in order; a path (video, image folder, glob pattern) is opened
        with :func:`bgmix.io.open_source` and closed when the iterator ends.

    Yields
    ------
    numpy.ndarray
        (H, W) uint8 mask of each frame, a new array each time.

    Examples
    --------
    >>> import numpy as np
    >>> frames = np.full((5, 24, 32, 3), 80, np.uint8)
    >>> masks = list(run_method("knn+median", frames))
    >>> len(masks), masks[-1].shape, int(masks[-1].max())
    (5, (24, 32), 0)
    """
    runner = make_method(method)
    with contextlib.ExitStack() as stack:
        if isinstance(frames, (str, os.PathLike)):
            frames = stack.enter_context(open_source(frames))
        for frame in frames:
            yield runner.apply(frame)


# --------------------------------------------------------------------------- results


def _json_float(value: float | None) -> float | None:
    return None if value is None or math.isnan(value) else float(value)


def _delegate(name: str) -> property:
    return property(lambda self: getattr(self.scores.counts, name),
                    doc=f"``scores.{name}``, from the counts summed over the scored frames.")


@dataclass(frozen=True)
class MethodResult:
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
            out[name] = _json_float(scores[name])
        out["counts"] = {"tp": c.tp, "fp": c.fp, "fn": c.fn, "tn": c.tn}
        out["ms_per_frame_median"] = _json_float(self.ms_per_frame_median)
        out["ms_per_frame_mean"] = _json_float(self.ms_per_frame_mean)
        out["params"] = None if self.params is None else dict(self.params)
        return out


# --------------------------------------------------------------------------- folders


def is_sequence_folder(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` has the CDnet layout: ``input/`` and ``groundtruth/`` folders."""
    folder = Path(folder)
    return (folder / "input").is_dir() and (folder / "groundtruth").is_dir()


def find_input_frames(folder: str | os.PathLike[str]) -> list[Path]:
    """The input frames of a CDnet folder, ``input/in000001.jpg ...``, in frame order.

    Frames are numbered from 1 without gaps; any image extension OpenCV reads
    is accepted (CDnet uses ``.jpg``, :func:`bgmix.synth.write_cdnet` ``.png``).

    Raises
    ------
    FileNotFoundError
        No ``input/`` folder, or no ``in<number>.<image>`` file in it.
    ValueError
        Numbers that do not run 1, 2, ... N, or one number given twice.
    """
    inputs = Path(folder) / "input"
    if not inputs.is_dir():
        raise FileNotFoundError(f"{folder} is not a CDnet sequence folder: {inputs} does not exist")
    found: dict[int, Path] = {}
    for entry in os.scandir(inputs):
        match = _INPUT_NAME.fullmatch(entry.name)
        if match is None or match.group(2).lower() not in IMAGE_EXTENSIONS or not entry.is_file():
            continue
        number = int(match.group(1))
        if number in found:
            raise ValueError(f"frame {number} appears twice in {inputs}: "
                             f"{found[number].name} and {entry.name}")
        found[number] = Path(entry.path)
    if not found:
        raise FileNotFoundError(f"{inputs} holds no input frames (in000001.jpg or .png ...)")
    numbers = sorted(found)
    if numbers[0] != 1 or numbers[-1] != len(numbers):
        expected = next(n for n in range(1, numbers[-1] + 1) if n not in found)
        raise ValueError(f"the input frames in {inputs} are not numbered 1 to {numbers[-1]} "
                         f"without gaps: frame {expected} is missing")
    return [found[n] for n in numbers]


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
    >>> r = evaluate_method_on_sequence("bgmix", folder)
    >>> r.method, r.n_frames, r.scores.temporal_roi, r.f_measure > 0.5
    ('bgmix', 40, (31, 40), True)
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
    >>> import cv2, tempfile, pathlib
    >>> from bgmix.synth import make_scene, write_cdnet
    >>> scene = make_scene(n_frames=40, height=32, width=48)
    >>> gt_dir = write_cdnet(scene, tempfile.mkdtemp())
    >>> pred_dir = pathlib.Path(tempfile.mkdtemp())
    >>> for n, gt in enumerate(scene.ground_truth, start=1):   # a perfect prediction
    ...     _ = cv2.imwrite(str(pred_dir / f"bin{n:06d}.png"), gt)
    >>> r = evaluate_masks(pred_dir, gt_dir, name="perfect")
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



def is_mask_folder(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` holds saved masks named the CDnet way (``bin000001.png`` ...)."""
    try:
        return any(_MASK_NAME.fullmatch(e.name) and e.is_file() for e in os.scandir(folder))
    except OSError:
        return False
