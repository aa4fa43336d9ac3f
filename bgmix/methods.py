"""The methods ``bgmix eval`` compares: bgmix models and OpenCV's subtractors, by name.

A *method* is anything that turns frames into masks, one frame at a time:

* ``"bgmix"``: a :class:`~bgmix.BackgroundMixture` with its default
  parameters (which reproduce OpenCV MOG2); ``"bgmix:NAME"``: the preset
  ``NAME`` (``bgmix.presets.PRESETS[NAME]``, or ``"default"`` for the
  constructor's defaults). A :class:`~bgmix.BackgroundMixture` instance or a
  dict of its parameters is a method too.
* OpenCV's subtractors with OpenCV's default parameters: ``"mog2"``
  (``cv2.createBackgroundSubtractorMOG2``), ``"knn"``
  (``cv2.createBackgroundSubtractorKNN``) and, with opencv-contrib-python
  (``cv2.bgsegm``), ``"gsoc"``, ``"mog"`` and ``"cnt"``.
* Any of them followed by ``"+median"``: the mask cleaned by a 5x5
  ``cv2.medianBlur`` (``"mog2+median"``, ``"knn+median"``, ``"bgmix+median"``).

:func:`make_method` builds one from its name; :mod:`bgmix.evaluation` runs
them on CDnet sequences and scores them.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Callable, Iterator, Mapping
from typing import Any

import cv2
import numpy as np

from bgmix.errors import UnavailableMethodError
from bgmix.model import BackgroundMixture
from bgmix.presets import PRESETS
from bgmix.presets import preset_params as _preset_params
from bgmix.sources import open_source

__all__ = [
    "DEFAULT_PRESET",
    "MEDIAN_SUFFIX",
    "OPENCV_METHODS",
    "Method",
    "MethodSpec",
    "UnavailableMethodError",
    "available_methods",
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

DEFAULT_PRESET = "default"
"""The preset name of the constructor's defaults (besides those of :data:`bgmix.presets.PRESETS`)."""

MethodSpec = Any  # str | Method | BackgroundMixture | Mapping[str, Any]


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


def preset_params(name: str) -> dict[str, Any]:
    """BackgroundMixture parameters of a preset: :func:`bgmix.presets.preset_params`,
    and ``"default"`` for the constructor's defaults (``{}``).

    Raises
    ------
    ValueError
        For an unknown name (the known ones are listed).

    Examples
    --------
    >>> preset_params("mog2")["renormalize"], preset_params("default")
    (False, {})
    """
    if name == DEFAULT_PRESET:
        return {}
    if name not in PRESETS:
        known = ", ".join(sorted({DEFAULT_PRESET, *PRESETS}))
        raise ValueError(f"unknown preset {name!r}; known presets: {known}")
    return _preset_params(name)


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
