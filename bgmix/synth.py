"""Synthetic static-camera scenes with exact per-pixel ground truth.

Every scene is generated deterministically from an integer seed
(:func:`numpy.random.default_rng` streams derived from
:class:`numpy.random.SeedSequence`) and labelled with the CDnet 2014 ground-truth
values: 0 static, 50 hard shadow, 85 outside the region of interest, 170 unknown
motion and 255 motion.

Two ways to get a scene:

* :func:`make_scene` renders everything into memory and returns a frozen
  :class:`Scene` (``frames`` of shape (N, H, W, 3), ``ground_truth`` of shape (N, H, W)).
* :func:`iter_scene` returns a :class:`SceneStream`: an iterable of ``(frame, gt)``
  pairs rendered on demand, for long or large scenes (1920x1080 benchmarks) that
  should not be held in memory. It renders exactly the frames :func:`make_scene`
  would.

:func:`write_cdnet` writes either one, or any iterable of ``(frame, gt)`` pairs, in
the CDnet folder layout.

Scene kinds
-----------
Scene kinds live in a registry (:func:`scene_kinds`), one for each hard case CDnet
2014 names a category for. Every kind takes ``height``, ``width``, ``n_frames``
(default in brackets after the name), ``seed`` and ``name``, plus ``fps``,
``warmup`` (frames before the first object enters, all labelled 0 and outside the
temporal region of interest; must be < ``n_frames``), ``noise_sigma`` (white
Gaussian noise, grey levels per channel) and ``object_interval`` (mean frames
between arrivals of objects through the frame's edges, labelled 255). For the
same seed and size, most kinds draw the baseline's background picture and, with
the same ``object_interval``, the same objects: such a kind is the baseline scene
plus one difficulty.

``"baseline"`` [300]
    ``fps`` 25, ``warmup`` 30, ``noise_sigma`` 2.5, ``object_interval`` 40;
    ``multimodal`` (True): a flickering sign whose cells cycle among 2-3 colours,
    labelled 0 (``regions["multimodal"]``).
``"dynamic_background"`` [300]
    CDnet *dynamicBackground*. ``object_interval`` 50; ``water`` (0.3: height of a
    rippling water band at the bottom, as a fraction of the frame; 0 for none),
    ``foliage`` (3 swaying tree crowns), ``sway`` (3.0 px: the crowns' sway
    amplitude), ``boat_interval`` (100: frames between objects crossing the water
    band sideways, the first 2 frames after the warm-up; 0 for none). Water and
    leaves take one of 3 colours per pixel and frame (deep/mid/glint, dark
    leaf/lit leaf/sky), in spatially correlated patterns; they are labelled 0.
    ``regions``: ``"water"``, ``"foliage"``, ``"dynamic"`` (both); ``info["boats"]``.
``"camera_jitter"`` [300]
    CDnet *cameraJitter*. ``jitter`` (1.5 px): frame ``t`` shows the world shifted
    by ``info["shifts"][t] = (dx, dy)``, ``frame(y, x) = world(y + dy, x + dx)``,
    bilinearly resampled from a larger canvas; each axis is ``jitter * (0.6 sin +
    0.4 uniform(-1, 1))``, so ``|dx|, |dy| <= jitter`` and consecutive frames differ
    by at most ``0.8 jitter + 0.6 jitter * 2 pi / jitter_period`` per axis;
    ``jitter_period`` (20 frames, 27.4 along y). The camera shakes from frame 0.
    Ground truth: the objects' footprint resampled with the frame, 255 where it
    covers at least half a pixel.
``"shadow"`` [300]
    CDnet *shadow*. ``shadow_factor`` (0.6): every object casts a hard shadow, the
    background under it multiplied by this factor in all three channels (same
    chroma); ``shadow_length`` (0.6): the shadow is the object's silhouette moved
    by this many object heights, in a direction fixed per scene
    (``info["shadow_offsets"]``, (dy, dx) per object). Shadow pixels an object
    does not cover are labelled 50.
``"illumination"`` [300]
    CDnet's *lightSwitch* / *illuminationChanges* cases, labelled 0 (background
    change). The whole scene (objects too) is multiplied by a gain ramping
    linearly from 1 at ``ramp_start`` (default: ``warmup``) to ``ramp_gain``
    (0.6) over ``ramp_frames`` (240) frames (``info["gain"]``); from
    ``switch_frame`` (default ``warmup + 120``) on, a light switch multiplies
    ``regions["switch"]`` by ``switch_gain`` (1.6) more; ``switch_region``
    (``"box"``: a rectangle covering roughly a quarter to 40% of the frame;
    ``"frame"``: everything). The background is kept in [30, 170] so that the
    brightening saturates little.
``"intermittent_object"`` [400]
    CDnet *intermittentObjectMotion*. A car enters from the side at
    ``enter_frame`` (default ``warmup + 10``), parks, stands still for (at least)
    ``stop_frames`` (180) frames and drives on: labelled 255 all the time it is in
    view, stopped or not. Its stationary span is ``info["stopped"]`` (first, last
    frame, 0-based, inclusive; may reach past the clip) and its parked box
    ``info["stopped_box"]`` (y0, y1, x0, x1). ``removed_object`` (True): an object
    standing in the scene from frame 0 (labelled 0) is taken away from
    ``remove_frame`` (default ``warmup + 60``) on: 255 while it moves, the
    uncovered ground 0 (``info["removed"]``, ``info["removed_box"]``).
    ``traffic`` (True): objects also pass by (``object_interval`` 70).
``"thermal"`` [300]
    CDnet *thermal*. Frames are (H, W) uint16, one count about 0.01 K: a smooth
    background spanning about 1600 counts around ``level`` (29000) with a static
    column pattern of ``fixed_pattern`` (5) counts, objects ``contrast`` (400)
    counts warmer than the background's mean (times 0.6-1.4, with some inner
    structure), ``noise_sigma`` 8 counts.
``"low_framerate"`` [120]
    CDnet *lowFramerate*. ``fps`` 2, ``warmup`` 20, ``object_interval`` 5;
    objects move ``min_speed`` (20) to ``max_speed`` (60) pixels per frame, at
    every frame size.
``"heavy_noise"`` [300]
    Heavy sensor noise (as in CDnet's *badWeather* / *nightVideos* clips):
    ``noise_sigma`` 10 per channel, a fraction ``noise_correlation`` (0.6) of its
    variance shared by the three channels, the rest independent per channel. The
    background is kept in [45, 210] so that little noise is clipped.

``scene.info`` (and ``stream.info``) holds what the generator knows beyond the
labels: ``info["objects"]`` lists the scheduled objects (``t0``, ``t1``, ``x0``,
``y0``, ``vx``, ``vy``, ``height``, ``width``: the box's corner at frame ``t`` is
``floor(x0 + vx (t - t0)), floor(y0 + vy (t - t0))``), plus the per-kind entries
above.

A new kind is a function decorated with ``@_register_kind("name", n_frames=...)``
that takes ``(height, width, n_frames, seed, **params)``, checks the parameters and
returns ``(model, params)``: a :class:`_SceneModel`, whose ``render(t, frame, gt)``
fills frame ``t`` (0-based) in place, and the effective parameters (defaults
included). The building blocks (:func:`_make_background`, :class:`_Sprite`,
:func:`_schedule_objects`, :class:`_StreetModel`, :class:`_Sign`,
:func:`_add_noise`) are meant to be reused.

Reproducibility
---------------
Frame ``t`` depends only on the seed, the frame size, ``t`` and the kind's
parameters: the noise of every frame comes from its own seed sequence, and
objects and the sign's state are scheduled in time order. So a scene of 100
frames is exactly the first 100 frames of the same scene with 300 frames, and
``SceneStream[t]`` renders any single frame. Transcendental functions are
evaluated once, in float64, when the scene is built; per-frame arithmetic is
IEEE addition, multiplication and clipping only, so frames are bit-identical
across CPUs (NumPy does not promise that :class:`numpy.random.Generator`
streams never change between NumPy releases).
"""

from __future__ import annotations

import functools
import math
import os
import re
import statistics
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from dataclasses import replace as dataclass_replace
from pathlib import Path
from types import MappingProxyType
from typing import Any

import numpy as np

from bgmix._validation import check_bool, check_float, check_int

__all__ = [
    "CDNET_LABELS",
    "HARD_SHADOW",
    "MOTION",
    "OUTSIDE_ROI",
    "STATIC",
    "UNKNOWN_MOTION",
    "Scene",
    "SceneStream",
    "iter_scene",
    "make_scene",
    "scene_kinds",
    "write_cdnet",
]

STATIC = 0
HARD_SHADOW = 50
OUTSIDE_ROI = 85
UNKNOWN_MOTION = 170
MOTION = 255
CDNET_LABELS: tuple[int, ...] = (STATIC, HARD_SHADOW, OUTSIDE_ROI, UNKNOWN_MOTION, MOTION)

_LABEL_OK = np.zeros(256, dtype=bool)
_LABEL_OK[list(CDNET_LABELS)] = True

# spawn keys of the independent random streams of one scene
_KEY_BACKGROUND = 0
_KEY_ARRIVALS = 1
_KEY_OBJECT = 2
_KEY_SIGN = 3
_KEY_NOISE = 4
_KEY_DYNAMIC = 5
_KEY_JITTER = 6
_KEY_SHADOW = 7
_KEY_LIGHT = 8
_KEY_PARKED = 9
_KEY_BOATS = 10
_KEY_THERMAL = 11


def _rng(seed: int, *key: int) -> np.random.Generator:
    return np.random.default_rng(np.random.SeedSequence(seed, spawn_key=key))


# --------------------------------------------------------------------------- containers


def _check_labels(gt: np.ndarray, where: str) -> None:
    import cv2

    rows = np.ascontiguousarray(gt).reshape(-1, gt.shape[-1])  # cv2 wants 2-D images
    counts = cv2.calcHist([rows], [0], None, [256], [0, 256]).ravel()  # 10x np.bincount
    bad = np.flatnonzero((counts > 0) & ~_LABEL_OK)
    if bad.size:
        raise ValueError(
            f"{where} holds values {bad[:8].tolist()} that are not CDnet labels {CDNET_LABELS}"
        )


@dataclass(frozen=True, eq=False)
class Scene:
    """A synthetic clip held in memory, with its exact ground truth.

    Iterating over a scene yields ``(frame, gt)`` pairs, so a scene can be passed
    wherever :func:`write_cdnet` or a pipeline expects an iterable of pairs.

    Parameters
    ----------
    frames : numpy.ndarray
        (N, H, W, 3) uint8 BGR frames as OpenCV delivers them; a kind may also
        produce (N, H, W) or uint16 frames (thermal).
    ground_truth : numpy.ndarray
        (N, H, W) uint8 CDnet labels (see :data:`CDNET_LABELS`).
    name : str
        Name of the clip, e.g. ``"baseline_seed0"``.
    fps : float
        Nominal frame rate.
    kind : str
        Registry name of the generator, ``"custom"`` for a hand-made scene.
    seed : int or None
        Seed it was generated from.
    warmup : int
        Number of leading frames outside the temporal region of interest; no
        object moves in them.
    roi : numpy.ndarray or None
        (H, W) uint8 mask, 255 inside the region of interest and 0 outside
        (where the ground truth is 85); None means the whole frame.
    regions : Mapping[str, numpy.ndarray]
        Named (H, W) bool masks of special areas, e.g. ``"multimodal"``.
    params : Mapping[str, Any]
        Every parameter of the generator, defaults included:
        ``make_scene(scene.kind, **scene.params)`` rebuilds the scene.
    info : Mapping[str, Any]
        What the generator knows beyond the labels, per kind (read-only):
        ``"objects"`` (one mapping per scheduled moving object: ``t0``, ``t1``,
        ``x0``, ``y0``, ``vx``, ``vy``, ``height``, ``width``), the camera shifts
        of ``"camera_jitter"``, the stationary span of ``"intermittent_object"``,
        the per-frame gain of ``"illumination"``... (see *Scene kinds* in the
        module's documentation).

    Examples
    --------
    >>> from bgmix.synth import make_scene
    >>> scene = make_scene("baseline", height=48, width=64, n_frames=40, seed=1)
    >>> scene.frames.shape, scene.ground_truth.shape
    ((40, 48, 64, 3), (40, 48, 64))
    >>> scene.temporal_roi
    (31, 40)
    >>> frame, gt = next(iter(scene))
    """

    frames: np.ndarray
    ground_truth: np.ndarray
    name: str
    fps: float
    kind: str = "custom"
    seed: int | None = None
    warmup: int = 0
    roi: np.ndarray | None = None
    regions: Mapping[str, np.ndarray] = field(default_factory=dict)
    params: Mapping[str, Any] = field(default_factory=dict)
    info: Mapping[str, Any] = field(default_factory=dict)

    def __post_init__(self) -> None:
        frames, gt = self.frames, self.ground_truth
        if not isinstance(frames, np.ndarray) or frames.dtype not in (np.uint8, np.uint16):
            raise ValueError("frames must be a uint8 or uint16 numpy array")
        if frames.ndim not in (3, 4) or (frames.ndim == 4 and frames.shape[3] not in (1, 3)):
            raise ValueError(f"frames must have shape (N, H, W) or (N, H, W, 1|3), got {frames.shape}")
        if not isinstance(gt, np.ndarray) or gt.dtype != np.uint8 or gt.shape != frames.shape[:3]:
            raise ValueError(
                f"ground_truth must be uint8 with shape {frames.shape[:3]}, got "
                f"{getattr(gt, 'shape', None)} {getattr(gt, 'dtype', type(gt).__name__)}"
            )
        if frames.shape[0] < 1:
            raise ValueError("a scene needs at least one frame")
        _check_labels(gt, "ground_truth")
        check_float("fps", self.fps, 0.0, low_open=True)
        check_int("warmup", self.warmup, 0, frames.shape[0] - 1)
        if self.roi is not None:
            _check_roi(self.roi, frames.shape[1:3])
        object.__setattr__(self, "regions", MappingProxyType(dict(self.regions)))
        object.__setattr__(self, "params", MappingProxyType(dict(self.params)))
        object.__setattr__(self, "info", MappingProxyType(dict(self.info)))

    @property
    def n_frames(self) -> int:
        """Number of frames N."""
        return int(self.frames.shape[0])

    @property
    def height(self) -> int:
        """Frame height H."""
        return int(self.frames.shape[1])

    @property
    def width(self) -> int:
        """Frame width W."""
        return int(self.frames.shape[2])

    @property
    def temporal_roi(self) -> tuple[int, int]:
        """``(first, last)``: 1-based inclusive frame range that is evaluated."""
        return self.warmup + 1, self.n_frames

    def __len__(self) -> int:
        return self.n_frames

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for t in range(self.n_frames):
            yield self.frames[t], self.ground_truth[t]


class _SceneModel:
    """What a scene kind provides: metadata plus ``render(t, frame, gt)``.

    Subclasses set the attributes in ``__init__`` and fill ``frame`` (shape
    ``frame_shape``, dtype ``dtype``) and ``gt`` ((H, W) uint8) for frame ``t``
    in place; ``render`` must depend on nothing but ``t`` and the model. Where
    ``roi`` is set, :class:`SceneStream` labels the pixels outside it 85.
    ``info`` holds kind-specific ground truth beyond the labels (see :class:`Scene`).
    """

    height: int
    width: int
    n_frames: int
    fps: float
    warmup: int
    channels: int = 3
    dtype: np.dtype = np.dtype(np.uint8)
    roi: np.ndarray | None = None
    regions: dict[str, np.ndarray]
    info: dict[str, Any]

    @property
    def frame_shape(self) -> tuple[int, ...]:
        if self.channels == 1:
            return (self.height, self.width)
        return (self.height, self.width, self.channels)

    def render(self, t: int, frame: np.ndarray, gt: np.ndarray) -> None:
        raise NotImplementedError


class SceneStream:
    """A scene rendered frame by frame: iterate over it for ``(frame, gt)`` pairs.

    Returned by :func:`iter_scene`. It can be iterated any number of times, each
    time from frame 0, and indexed (``stream[t]``) to render a single frame. Every
    pair it yields is a fresh array the caller may keep or modify. A stream reuses
    its scratch buffers: render from one thread at a time (one stream per thread).

    Attributes
    ----------
    name, kind, seed, fps, warmup, roi, regions, params, info
        As in :class:`Scene`.
    height, width, n_frames : int
        Size of the clip.

    Examples
    --------
    >>> from bgmix.synth import iter_scene
    >>> stream = iter_scene("baseline", height=1080, width=1920, n_frames=3, warmup=1)
    >>> len(stream), stream.temporal_roi
    (3, (2, 3))
    >>> for frame, gt in stream:
    ...     assert frame.shape == (1080, 1920, 3) and gt.shape == (1080, 1920)
    """

    def __init__(self, model: _SceneModel, *, name: str, kind: str, seed: int,
                 params: Mapping[str, Any]) -> None:
        self._model = model
        self.name = name
        self.kind = kind
        self.seed = seed
        self.params: Mapping[str, Any] = MappingProxyType(dict(params))
        self.fps = float(model.fps)
        self.warmup = int(model.warmup)
        self.height = int(model.height)
        self.width = int(model.width)
        self.n_frames = int(model.n_frames)
        self.roi = None if model.roi is None else _check_roi(model.roi, (self.height, self.width))
        self._outside = None if self.roi is None else self.roi == 0
        self.regions: Mapping[str, np.ndarray] = MappingProxyType(dict(model.regions))
        self.info: Mapping[str, Any] = MappingProxyType(dict(getattr(model, "info", {})))

    @property
    def temporal_roi(self) -> tuple[int, int]:
        """``(first, last)``: 1-based inclusive frame range that is evaluated."""
        return self.warmup + 1, self.n_frames

    @property
    def frame_shape(self) -> tuple[int, ...]:
        """Shape of one frame, e.g. ``(H, W, 3)``."""
        return self._model.frame_shape

    @property
    def dtype(self) -> np.dtype:
        """Frame dtype (uint8, or uint16 for thermal kinds)."""
        return np.dtype(self._model.dtype)

    def __len__(self) -> int:
        return self.n_frames

    def __repr__(self) -> str:
        return (f"SceneStream(name={self.name!r}, {self.n_frames} frames of "
                f"{self.width}x{self.height}, fps={self.fps:g}, warmup={self.warmup})")

    def __getitem__(self, t: int) -> tuple[np.ndarray, np.ndarray]:
        t = int(t)
        if t < 0:
            t += self.n_frames
        if not 0 <= t < self.n_frames:
            raise IndexError(f"frame {t} out of range for a scene of {self.n_frames} frames")
        frame = np.empty(self.frame_shape, dtype=self.dtype)
        gt = np.empty((self.height, self.width), dtype=np.uint8)
        self._render(t, frame, gt)
        return frame, gt

    def _render(self, t: int, frame: np.ndarray, gt: np.ndarray) -> None:
        self._model.render(t, frame, gt)
        if self._outside is not None:
            gt[self._outside] = OUTSIDE_ROI

    def __iter__(self) -> Iterator[tuple[np.ndarray, np.ndarray]]:
        for t in range(self.n_frames):
            yield self[t]

    def to_scene(self) -> Scene:
        """Render every frame into memory and return the :class:`Scene`.

        Examples
        --------
        >>> from bgmix.synth import iter_scene
        >>> scene = iter_scene(n_frames=35, height=32, width=48).to_scene()
        >>> scene.n_frames
        35
        """
        frames = np.empty((self.n_frames, *self.frame_shape), dtype=self.dtype)
        gt = np.empty((self.n_frames, self.height, self.width), dtype=np.uint8)
        for t in range(self.n_frames):
            self._render(t, frames[t], gt[t])
        frames.flags.writeable = False
        gt.flags.writeable = False
        return Scene(frames=frames, ground_truth=gt, name=self.name, fps=self.fps,
                     kind=self.kind, seed=self.seed, warmup=self.warmup, roi=self.roi,
                     regions=self.regions, params=self.params, info=self.info)


# --------------------------------------------------------------------------- registry

_Builder = Callable[..., tuple[_SceneModel, dict[str, Any]]]
_KINDS: dict[str, _Builder] = {}
_DEFAULT_FRAMES: dict[str, int] = {}


def _register_kind(name: str, *, n_frames: int = 300) -> Callable[[_Builder], _Builder]:
    """Register a builder under ``name``; ``n_frames`` is the kind's default length."""
    def decorate(builder: _Builder) -> _Builder:
        if name in _KINDS:
            raise ValueError(f"scene kind {name!r} is already registered")
        _KINDS[name] = builder
        _DEFAULT_FRAMES[name] = n_frames
        return builder
    return decorate


def scene_kinds() -> tuple[str, ...]:
    """Names of the scene kinds :func:`make_scene` and :func:`iter_scene` accept.

    Returns
    -------
    tuple of str
        Sorted kind names.

    Examples
    --------
    >>> from bgmix.synth import scene_kinds
    >>> "baseline" in scene_kinds()
    True
    """
    return tuple(sorted(_KINDS))


def iter_scene(kind: str = "baseline", *, height: int = 240, width: int = 320,
               n_frames: int | None = None, seed: int = 0, **params: Any) -> SceneStream:
    """Describe a synthetic scene whose frames are rendered only when iterated.

    Parameters
    ----------
    kind : str
        One of :func:`scene_kinds`.
    height, width : int
        Frame size in pixels (at least 16 each).
    n_frames : int, optional
        Number of frames; default per kind (300; 400 for
        ``"intermittent_object"``, 120 for ``"low_framerate"``).
    seed : int
        Non-negative seed; the same arguments always give the same frames.
    **params
        Parameters of the kind, listed in the module's documentation (*Scene
        kinds*). ``"baseline"`` takes ``fps`` (25.0), ``warmup`` (30: frames
        before the first object enters, must be < ``n_frames``), ``noise_sigma``
        (2.5 grey levels of Gaussian noise per channel), ``object_interval``
        (40.0: mean frames between object arrivals), ``multimodal`` (True: a
        flickering sign whose cells cycle among 2-3 colours, labelled
        background). Every kind takes ``name`` (``f"{kind}_seed{seed}"``).

    Returns
    -------
    SceneStream
        Iterable of ``(frame, gt)`` pairs, with the scene's metadata.

    Raises
    ------
    ValueError
        Unknown kind or a parameter out of range.
    TypeError
        A parameter the kind does not take.

    Examples
    --------
    >>> from bgmix.synth import iter_scene
    >>> stream = iter_scene("baseline", n_frames=50, seed=3)
    >>> motion = [int((gt == 255).sum()) for _, gt in stream]
    >>> sum(motion[:stream.warmup])
    0
    """
    if not isinstance(kind, str) or kind not in _KINDS:
        raise ValueError(f"unknown scene kind {kind!r}; choose one of {scene_kinds()}")
    height = check_int("height", height, 16)
    width = check_int("width", width, 16)
    if n_frames is None:
        n_frames = _DEFAULT_FRAMES[kind]
    n_frames = check_int("n_frames", n_frames, 1)
    seed = check_int("seed", seed, 0)
    name = params.pop("name", None)
    name = f"{kind}_seed{seed}" if name is None else str(name)
    model, effective = _KINDS[kind](height, width, n_frames, seed, **params)
    all_params = {"height": height, "width": width, "n_frames": n_frames, "seed": seed,
                  **effective, "name": name}
    return SceneStream(model, name=name, kind=kind, seed=seed, params=all_params)


def make_scene(kind: str = "baseline", *, height: int = 240, width: int = 320,
               n_frames: int | None = None, seed: int = 0, **params: Any) -> Scene:
    """Render a synthetic scene with exact ground truth into memory.

    Same parameters as :func:`iter_scene`; ``make_scene(...)`` equals
    ``iter_scene(...).to_scene()``. The arrays of the result are read-only.

    Parameters
    ----------
    kind : str
        One of :func:`scene_kinds`.
    height, width : int
        Frame size in pixels.
    n_frames : int, optional
        Number of frames (default per kind).
    seed : int
        Non-negative seed.
    **params
        Parameters of the kind, see :func:`iter_scene`.

    Returns
    -------
    Scene
        Frames (N, H, W, 3) uint8 BGR ((N, H, W) uint16 for ``"thermal"``) and
        ground truth (N, H, W) uint8.

    Examples
    --------
    >>> import numpy as np
    >>> from bgmix.synth import make_scene
    >>> scene = make_scene("baseline", n_frames=120, seed=0, noise_sigma=2.0)
    >>> scene.frames.shape
    (120, 240, 320, 3)
    >>> sorted(np.unique(scene.ground_truth).tolist())
    [0, 255]
    >>> bool((scene.ground_truth[:scene.warmup] == 0).all())
    True
    >>> thermal = make_scene("thermal", height=60, width=80, n_frames=40)
    >>> thermal.frames.shape, thermal.frames.dtype
    ((40, 60, 80), dtype('uint16'))
    """
    return iter_scene(kind, height=height, width=width, n_frames=n_frames, seed=seed,
                      **params).to_scene()


# --------------------------------------------------------------------------- building blocks


def _pixel_grid(height: int, width: int) -> tuple[np.ndarray, np.ndarray]:
    """Normalised pixel-centre coordinates: u (1, W) across, v (H, 1) down, in (0, 1)."""
    u = ((np.arange(width, dtype=np.float64) + 0.5) / width)[None, :]
    v = ((np.arange(height, dtype=np.float64) + 0.5) / height)[:, None]
    return u, v


def _value_noise(rng: np.random.Generator, height: int, width: int, cells_y: int,
                 cells_x: int, channels: int) -> np.ndarray:
    """Smooth noise in [-1, 1]: a random lattice interpolated with smoothstep weights.

    The lattice does not depend on the output size, so the pattern is the same
    picture at every resolution.
    """
    lattice = rng.uniform(-1.0, 1.0, size=(cells_y + 1, cells_x + 1, channels))

    def axis(n: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
        pos = (np.arange(n, dtype=np.float64) + 0.5) * (cells / n)
        i0 = np.minimum(pos.astype(np.int64), cells - 1)
        f = pos - i0
        return i0, f * f * (3.0 - 2.0 * f)

    iy, fy = axis(height, cells_y)
    ix, fx = axis(width, cells_x)
    rows = lattice[iy] * (1.0 - fy)[:, None, None] + lattice[iy + 1] * fy[:, None, None]
    return rows[:, ix] * (1.0 - fx)[None, :, None] + rows[:, ix + 1] * fx[None, :, None]


def _fit_range(image: np.ndarray, low: float, high: float) -> np.ndarray:
    """Shrink and shift ``image`` (in place) so its values lie in [low, high]."""
    lo, hi = float(image.min()), float(image.max())
    scale = min(1.0, (high - low) / max(hi - lo, 1e-9))
    if scale < 1.0:
        image -= lo
        image *= scale
        image += lo
        hi = lo + (hi - lo) * scale
    shift = max(0.0, low - lo) - max(0.0, hi - high)
    if shift:
        image += shift
    return image


def _make_background(rng: np.random.Generator, height: int, width: int,
                     low: float = 25.0, high: float = 230.0) -> tuple[np.ndarray, float]:
    """A textured street-like background, float64 (H, W, 3) in [low, high].

    Smooth gradients (sky/wall above a horizon, ground below), buildings with
    hard edges and windows, soft blobs, dashed road markings and two octaves of
    smooth texture. Returns the image and the horizon's normalised height.
    """
    u, v = _pixel_grid(height, width)
    horizon = rng.uniform(0.3, 0.5)
    top = rng.uniform(110.0, 190.0, 3)
    ground = rng.uniform(60.0, 140.0, 3)
    top_slope, ground_slope, across = (rng.uniform(-35.0, 35.0, 3) for _ in range(3))
    above = v < horizon
    image = np.where(
        above[:, :, None],
        top + (v / horizon)[:, :, None] * top_slope,
        ground + ((v - horizon) / (1.0 - horizon))[:, :, None] * ground_slope,
    ) + u[:, :, None] * across
    image = np.broadcast_to(image, (height, width, 3)).copy()

    # buildings along the horizon, with a grid of windows
    for _ in range(int(rng.integers(3, 7))):
        x0 = rng.uniform(-0.05, 0.9)
        x1 = x0 + rng.uniform(0.08, 0.25)
        y0 = rng.uniform(0.05, max(0.06, horizon - 0.08))
        colour = top + rng.uniform(-50.0, 50.0, 3)
        window = colour + rng.uniform(-45.0, 45.0, 3)
        period_u, period_v = rng.uniform(0.02, 0.04), rng.uniform(0.03, 0.06)
        cols = np.flatnonzero((u[0] >= x0) & (u[0] < x1))
        rows = np.flatnonzero((v[:, 0] >= y0) & (v[:, 0] < horizon))
        if cols.size == 0 or rows.size == 0:
            continue
        block = (slice(rows[0], rows[-1] + 1), slice(cols[0], cols[-1] + 1))
        image[block] = colour
        wu = ((u[:, block[1]] - x0) % period_u) / period_u
        wv = ((v[block[0]] - y0) % period_v) / period_v
        windows = (wu > 0.3) & (wu < 0.75) & (wv > 0.3) & (wv < 0.75)
        image[block][windows] = window

    # soft blobs (trees, bushes, stains); a Gaussian is the product of two 1-D ones
    aspect = width / height
    for _ in range(int(rng.integers(5, 10))):
        cu, cv = rng.uniform(0.0, 1.0, 2)
        radius = rng.uniform(0.04, 0.15)
        offset = rng.uniform(-40.0, 40.0, 3)
        across_u = np.exp(-(((u - cu) * aspect) ** 2) / (2.0 * radius * radius))
        down_v = np.exp(-((v - cv) ** 2) / (2.0 * radius * radius))
        image += (down_v * across_u)[:, :, None] * offset

    # kerb and dashed road markings on the ground
    kerb = (v >= horizon + 0.02) & (v < horizon + 0.035)
    image[np.broadcast_to(kerb, (height, width))] -= 30.0
    for _ in range(int(rng.integers(1, 3))):
        lane = rng.uniform(horizon + 0.15, 0.95)
        period, phase = rng.uniform(0.08, 0.16), rng.uniform(0.0, 1.0)
        dashes = (np.abs(v - lane) < 0.008) & (((u / period + phase) % 1.0) < 0.5)
        image[dashes] += 45.0

    image += 9.0 * _value_noise(rng, height, width, 6, 8, 3)
    image += 5.0 * _value_noise(rng, height, width, 30, 40, 3)
    return _fit_range(image, low, high), float(horizon)


@dataclass(frozen=True, eq=False)
class _Sprite:
    """An object's appearance: float32 (h, w, C) pixels and an (h, w) bool mask."""

    pixels: np.ndarray
    mask: np.ndarray

    @property
    def height(self) -> int:
        return int(self.mask.shape[0])

    @property
    def width(self) -> int:
        return int(self.mask.shape[1])


def _make_sprite(rng: np.random.Generator, h: int, w: int, avoid: np.ndarray) -> _Sprite:
    """A rectangle, ellipse or car-like shape with its own colour and texture.

    ``avoid`` is the background's mean colour; the base colour is kept at least
    70 grey levels (Euclidean, BGR) away from it so objects stand out.
    """
    base = rng.uniform(20.0, 235.0, 3)
    for _ in range(50):
        if np.linalg.norm(base - avoid) >= 70.0:
            break
        base = rng.uniform(20.0, 235.0, 3)
    yy = (np.arange(h, dtype=np.float64) + 0.5)[:, None]
    xx = (np.arange(w, dtype=np.float64) + 0.5)[None, :]
    shape = int(rng.integers(0, 3))
    if shape == 0:                                   # rectangle
        mask = np.ones((h, w), dtype=bool)
    elif shape == 1:                                 # ellipse
        mask = ((xx / w - 0.5) ** 2 + (yy / h - 0.5) ** 2) <= 0.25
    else:                                            # body plus narrower cabin on top
        cabin = (yy < 0.45 * h) & (xx >= 0.2 * w) & (xx < 0.8 * w)
        mask = (yy >= 0.45 * h) | cabin
        mask = np.broadcast_to(mask, (h, w)).copy()
    pattern = int(rng.integers(0, 4))
    amplitude = rng.uniform(12.0, 30.0)
    if pattern == 0:                                 # smooth blotches
        tex = _value_noise(rng, h, w, max(1, h // 6), max(1, w // 6), 1)[:, :, 0]
    elif pattern == 1:                               # stripes at an angle
        angle, period = rng.uniform(0.0, math.pi), rng.uniform(3.0, 10.0)
        tex = np.sign(np.sin(2.0 * math.pi * (xx * math.cos(angle) + yy * math.sin(angle)) / period))
    elif pattern == 2:                               # checker board
        size = int(rng.integers(2, 7))
        tex = ((yy.astype(np.int64) // size + xx.astype(np.int64) // size) % 2) * 2.0 - 1.0
    else:                                            # flat with a gentle gradient
        tex = (xx / w - 0.5) + (yy / h - 0.5)
    tint = rng.uniform(0.6, 1.0, 3)
    pixels = base + amplitude * np.broadcast_to(tex, (h, w))[:, :, None] * tint
    np.clip(pixels, 12.0, 243.0, out=pixels)
    return _Sprite(pixels=(pixels + 0.5).astype(np.float32), mask=mask)


@dataclass(frozen=True, eq=False)
class _MovingObject:
    """A sprite moving at constant velocity; top-left corner at frame t is
    ``floor(x0 + vx (t - t0)), floor(y0 + vy (t - t0))``. Visible for t0..t1."""

    sprite: _Sprite
    t0: int
    t1: int
    x0: float
    y0: float
    vx: float
    vy: float

    def corner(self, t: int) -> tuple[int, int]:
        dt = t - self.t0
        return math.floor(self.y0 + self.vy * dt), math.floor(self.x0 + self.vx * dt)


def _last_visible(t0: int, x0: float, y0: float, vx: float, vy: float, h: int, w: int,
                  height: int, width: int, n_frames: int) -> int:
    """Last frame at which an ``h`` x ``w`` box moving from ``(x0, y0)`` at frame ``t0``
    with velocity ``(vx, vy)`` still overlaps the frame (or the last frame of the clip).

    The box stays inside the frame until it leaves for good, at the latest once it
    has crossed the frame along its main direction.
    """
    crossing = (width + w) / abs(vx) if abs(vx) >= abs(vy) else (height + h) / abs(vy)
    steps = np.arange(0, min(n_frames - t0, math.ceil(crossing) + 2), dtype=np.float64)
    left = np.floor(x0 + vx * steps)
    top = np.floor(y0 + vy * steps)
    visible = (left < width) & (left + w > 0) & (top < height) & (top + h > 0)
    gone = np.flatnonzero(~visible)
    return t0 + (int(gone[0]) - 1 if gone.size else steps.size - 1)


@dataclass(frozen=True, eq=False)
class _PathObject:
    """A sprite following a precomputed path: top-left corner ``(tops[i], lefts[i])``
    at frame ``t0 + i``. Visible for t0..t1."""

    sprite: _Sprite
    t0: int
    t1: int
    tops: np.ndarray
    lefts: np.ndarray

    def corner(self, t: int) -> tuple[int, int]:
        i = t - self.t0
        return int(self.tops[i]), int(self.lefts[i])


def _describe_objects(objects: Iterable[_MovingObject]) -> tuple[Mapping[str, Any], ...]:
    """The ``info["objects"]`` entries: where and when each moving object is."""
    return tuple(MappingProxyType({
        "t0": obj.t0, "t1": obj.t1, "x0": obj.x0, "y0": obj.y0, "vx": obj.vx, "vy": obj.vy,
        "height": obj.sprite.height, "width": obj.sprite.width}) for obj in objects)


def _schedule_objects(seed: int, height: int, width: int, n_frames: int, first: int,
                      interval: float, avoid: np.ndarray, *,
                      speed: tuple[float, float] = (0.8, 4.0),
                      speed_scale: float | None = None) -> list[_MovingObject]:
    """Objects entering through the frame's edges from frame ``first`` on.

    Arrivals are drawn in time order, each object from its own random stream, so
    the schedule of a shorter scene is a prefix of a longer one's. Speeds are drawn
    uniformly from ``speed`` (pixels per frame) times ``speed_scale``, by default
    the frame's linear size relative to 320x240.
    """
    arrivals = _rng(seed, _KEY_ARRIVALS)
    scale = math.sqrt(height * width / (240.0 * 320.0))
    if speed_scale is None:
        speed_scale = scale
    objects: list[_MovingObject] = []
    t = first + arrivals.uniform(0.0, min(10.0, interval))
    index = 0
    while int(t) < n_frames:
        t0 = int(t)
        rng = _rng(seed, _KEY_OBJECT, index)
        h = max(3, int(round(rng.uniform(0.1, 0.3) * height)))
        w = max(3, min(int(round(h * rng.uniform(0.5, 2.5))), int(0.45 * width)))
        sprite = _make_sprite(rng, h, w, avoid)
        velocity = rng.uniform(speed[0], speed[1]) * speed_scale
        direction = rng.uniform()
        sign = 1.0 if rng.uniform() < 0.5 else -1.0
        drift = rng.uniform(-0.25, 0.25)
        if direction < 0.65:                         # across: enters from the left or right
            vx, vy = sign * velocity, drift * velocity
            x0 = -w + 1.0 if vx > 0 else width - 1.0
            y0 = rng.uniform(0.0, height - h)
        else:                                        # up or down, possibly diagonal
            vx, vy = drift * velocity, sign * velocity
            y0 = -h + 1.0 if vy > 0 else height - 1.0
            x0 = rng.uniform(0.0, width - w)
        t1 = _last_visible(t0, x0, y0, vx, vy, h, w, height, width, n_frames)
        objects.append(_MovingObject(sprite, t0, t1, x0, y0, vx, vy))
        index += 1
        t += max(3.0, arrivals.exponential(interval))
    return objects


def _paste(obj: _MovingObject | _PathObject, t: int, image: np.ndarray,
           gt: np.ndarray | None, label: int = MOTION, origin: int = 0) -> None:
    """Draw ``obj`` as it is at frame ``t`` into float32 ``image`` and label ``gt``.

    ``origin`` is where the frame's (0, 0) lies in ``image`` (a larger canvas).
    """
    top, left = obj.corner(t)
    top, left = top + origin, left + origin
    sprite = obj.sprite
    y0, x0 = max(top, 0), max(left, 0)
    y1 = min(top + sprite.height, image.shape[0])
    x1 = min(left + sprite.width, image.shape[1])
    if y0 >= y1 or x0 >= x1:
        return
    sub = (slice(y0 - top, y1 - top), slice(x0 - left, x1 - left))
    mask = sprite.mask[sub]
    image[y0:y1, x0:x1][mask] = sprite.pixels[sub][mask]
    if gt is not None:
        gt[y0:y1, x0:x1][mask] = label


class _Sign:
    """A flickering sign: a dark frame holding cells, each showing one of 2-3 fixed
    colours per frame, either cycling periodically or switching at random.

    Attributes ``cells`` (list of (y0, y1, x0, x1)), ``palettes`` (list of
    (k, 3) float32 arrays, +0.5 for rounding), ``states`` ((n_frames, n_cells)
    int indices into the palettes) and ``mask`` ((H, W) bool, the cells).
    """

    def __init__(self, seed: int, height: int, width: int, n_frames: int,
                 horizon: float, background: np.ndarray) -> None:
        rng = _rng(seed, _KEY_SIGN)
        sw = max(6, int(round(rng.uniform(0.16, 0.24) * width)))
        sh = max(4, int(round(rng.uniform(0.10, 0.15) * height)))
        x = int(rng.uniform(0.03, 0.97) * width - sw / 2)
        y = int(rng.uniform(0.03, max(0.04, horizon - 0.15)) * height)
        x, y = min(max(x, 0), width - sw), min(max(y, 0), height - sh)
        border = max(1, int(round(0.006 * width)))
        frame_colour = rng.uniform(25.0, 50.0, 3)
        background[y:y + sh, x:x + sw] = frame_colour
        rows, cols = int(rng.integers(1, 3)), 3
        ys = np.linspace(y + border, y + sh - border, rows + 1).round().astype(int)
        xs = np.linspace(x + border, x + sw - border, cols + 1).round().astype(int)
        self.cells: list[tuple[int, int, int, int]] = []
        self.palettes: list[np.ndarray] = []
        self.mask = np.zeros((height, width), dtype=bool)
        modes: list[tuple[bool, int, float]] = []
        for r in range(rows):
            for c in range(cols):
                y0, y1 = int(ys[r]), int(ys[r + 1]) - (border if r < rows - 1 else 0)
                x0, x1 = int(xs[c]), int(xs[c + 1]) - (border if c < cols - 1 else 0)
                if y1 <= y0:
                    y1 = y0 + 1
                if x1 <= x0:
                    x1 = x0 + 1
                k = int(rng.integers(2, 4))
                palette = [rng.uniform(30.0, 225.0, 3)]
                while len(palette) < k:              # colours at least 90 apart
                    candidate = rng.uniform(30.0, 225.0, 3)
                    if min(np.linalg.norm(candidate - p) for p in palette) >= 90.0:
                        palette.append(candidate)
                self.cells.append((y0, y1, x0, x1))
                self.palettes.append((np.array(palette) + 0.5).astype(np.float32))
                self.mask[y0:y1, x0:x1] = True
                periodic = bool(rng.uniform() < 0.5)
                modes.append((periodic, int(rng.integers(3, 10)), float(rng.uniform(0.15, 0.4))))
                background[y0:y1, x0:x1] = palette[0]
        # states in time order, drawn last: a shorter scene's states are a prefix of a
        # longer one's
        phases = rng.integers(0, 1000, len(self.cells))
        draws = rng.random((n_frames, len(self.cells)))
        self.states = np.zeros((n_frames, len(self.cells)), dtype=np.int64)
        for i, (periodic, hold, switch) in enumerate(modes):
            k = len(self.palettes[i])
            if periodic:
                self.states[:, i] = ((np.arange(n_frames) + phases[i]) // hold) % k
                continue
            state = int(phases[i]) % k
            for t in range(n_frames):
                d = draws[t, i]
                if d < switch:
                    state = (state + 1 + int(d / switch * (k - 1))) % k
                self.states[t, i] = state

    def paint(self, t: int, image: np.ndarray) -> None:
        for (y0, y1, x0, x1), palette, state in zip(self.cells, self.palettes, self.states[t]):
            image[y0:y1, x0:x1] = palette[state]


@functools.lru_cache(maxsize=1)
def _gaussian_table() -> np.ndarray:
    """The 65536 quantiles ``inv_cdf((i + 0.5) / 65536)`` of N(0, 1), float32, unit variance.

    Looking a uniform 16-bit draw up in it gives Gaussian noise (truncated at
    4.3 sigma) three times faster than ``Generator.standard_normal``.
    """
    inv_cdf = statistics.NormalDist().inv_cdf
    table = np.array([inv_cdf((i + 0.5) / 65536.0) for i in range(65536)], dtype=np.float64)
    table /= math.sqrt(float(np.mean(table * table)))
    table = table.astype(np.float32)
    table.flags.writeable = False
    return table


def _add_noise(seed: int, t: int, table: np.ndarray | None, image: np.ndarray,
               scratch: np.ndarray) -> None:
    """Add white Gaussian noise to float32 ``image`` from frame ``t``'s own stream.

    ``table`` is :func:`_gaussian_table` times sigma (None: no noise); ``scratch``
    is a float32 array of ``image``'s shape.
    """
    if table is not None:
        draws = _rng(seed, _KEY_NOISE, t).integers(0, 65536, size=image.shape, dtype=np.uint16)
        np.take(table, draws, out=scratch)
        image += scratch


def _to_uint8(image: np.ndarray, out: np.ndarray) -> None:
    """Round float32 ``image`` (which carries the +0.5 already) into uint8 ``out``."""
    np.clip(image, 0.0, 255.0, out=image)
    np.copyto(out, image, casting="unsafe")


# --------------------------------------------------------------------------- kinds


class _BaselineModel(_SceneModel):
    def __init__(self, height: int, width: int, n_frames: int, seed: int, *, fps: float,
                 warmup: int, noise_sigma: float, object_interval: float,
                 multimodal: bool) -> None:
        self.height, self.width, self.n_frames = height, width, n_frames
        self.fps, self.warmup = fps, warmup
        self.seed, self.noise_sigma = seed, noise_sigma
        background, horizon = _make_background(_rng(seed, _KEY_BACKGROUND), height, width)
        self.regions = {}
        self.sign: _Sign | None = None
        if multimodal:
            self.sign = _Sign(seed, height, width, n_frames, horizon, background)
            self.regions["multimodal"] = self.sign.mask
        avoid = background.reshape(-1, 3).mean(axis=0)
        self.objects = _schedule_objects(seed, height, width, n_frames, warmup,
                                         object_interval, avoid)
        self._t0 = np.array([obj.t0 for obj in self.objects], dtype=np.int64)
        self._t1 = np.array([obj.t1 for obj in self.objects], dtype=np.int64)
        self.info = {"objects": _describe_objects(self.objects)}
        self.background = (background + 0.5).astype(np.float32)
        self._buffer = np.empty_like(self.background)
        self._scratch = np.empty_like(self.background)
        self._noise = None if noise_sigma == 0 else _gaussian_table() * np.float32(noise_sigma)

    def render(self, t: int, frame: np.ndarray, gt: np.ndarray) -> None:
        image = self._buffer
        np.copyto(image, self.background)
        gt[...] = STATIC
        if self.sign is not None:
            self.sign.paint(t, image)
        for i in np.flatnonzero((self._t0 <= t) & (self._t1 >= t)):   # in arrival order
            _paste(self.objects[i], t, image, gt)
        _add_noise(self.seed, t, self._noise, image, self._scratch)
        _to_uint8(image, frame)


@_register_kind("baseline")
def _baseline(height: int, width: int, n_frames: int, seed: int, *, fps: float = 25.0,
              warmup: int = 30, noise_sigma: float = 2.5, object_interval: float = 40.0,
              multimodal: bool = True) -> tuple[_SceneModel, dict[str, Any]]:
    params = {
        "fps": check_float("fps", fps, 0.0, low_open=True),
        "warmup": check_int("warmup", warmup, 0),
        "noise_sigma": check_float("noise_sigma", noise_sigma, 0.0, 64.0),
        "object_interval": check_float("object_interval", object_interval, 1.0),
        "multimodal": check_bool("multimodal", multimodal),
    }
    if params["warmup"] >= n_frames:
        raise ValueError(f"warmup ({params['warmup']}) must be < n_frames ({n_frames}): "
                         "the temporal region of interest would be empty")
    return _BaselineModel(height, width, n_frames, seed, **params), params


# --------------------------------------------------------------------------- more building blocks


def _check_warmup(warmup: int, n_frames: int) -> None:
    if warmup >= n_frames:
        raise ValueError(f"warmup ({warmup}) must be < n_frames ({n_frames}): "
                         "the temporal region of interest would be empty")


def _common_params(n_frames: int, fps: float, warmup: int, noise_sigma: float,
                   object_interval: float, max_sigma: float = 64.0) -> dict[str, Any]:
    """Check the parameters every street-like kind shares."""
    params = {
        "fps": check_float("fps", fps, 0.0, low_open=True),
        "warmup": check_int("warmup", warmup, 0),
        "noise_sigma": check_float("noise_sigma", noise_sigma, 0.0, max_sigma),
        "object_interval": check_float("object_interval", object_interval, 1.0),
    }
    _check_warmup(params["warmup"], n_frames)
    return params


def _stamp(mask: np.ndarray, top: int, left: int, target: np.ndarray) -> None:
    """Set ``target`` (H, W) bool to True under ``mask`` placed with its corner at (top, left)."""
    h, w = mask.shape
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, target.shape[0]), min(left + w, target.shape[1])
    if y0 < y1 and x0 < x1:
        target[y0:y1, x0:x1] |= mask[y0 - top:y1 - top, x0 - left:x1 - left]


def _smoothstep_axis(n: int, cells: int) -> tuple[np.ndarray, np.ndarray]:
    pos = (np.arange(n, dtype=np.float64) + 0.5) * (cells / n)
    i0 = np.minimum(pos.astype(np.int64), cells - 1)
    f = pos - i0
    return i0, f * f * (3.0 - 2.0 * f)


def _periodic_noise(rng: np.random.Generator, height: int, period: int, cells_y: int,
                    cells_x: int) -> np.ndarray:
    """Smooth noise in [-1, 1], (height, period), periodic along x (it wraps around)."""
    lattice = rng.uniform(-1.0, 1.0, size=(cells_y + 1, cells_x))
    iy, fy = _smoothstep_axis(height, cells_y)
    ix, fx = _smoothstep_axis(period, cells_x)
    rows = lattice[iy] * (1.0 - fy)[:, None] + lattice[iy + 1] * fy[:, None]
    return rows[:, ix] * (1.0 - fx) + rows[:, (ix + 1) % cells_x] * fx


def _distinct_colours(rng: np.random.Generator, centres: list[np.ndarray], spread: float,
                      min_distance: float) -> np.ndarray:
    """One colour near each of ``centres`` (+- ``spread``), pairwise at least
    ``min_distance`` apart (Euclidean, BGR); float32 with the +0.5 for rounding."""
    for _ in range(200):
        colours = [np.clip(c + rng.uniform(-spread, spread, 3), 15.0, 240.0) for c in centres]
        if all(np.linalg.norm(a - b) >= min_distance
               for i, a in enumerate(colours) for b in colours[i + 1:]):
            break
    else:                                            # pragma: no cover - centres are far apart
        colours = [np.asarray(c, dtype=np.float64) for c in centres]
    return (np.array(colours) + 0.5).astype(np.float32)


def _quantise(values: np.ndarray, thresholds: np.ndarray) -> np.ndarray:
    """State 0, 1, 2... of each value: how many of the ascending thresholds it exceeds."""
    state = (values > thresholds[0]).astype(np.intp)
    for threshold in thresholds[1:]:
        state += values > threshold
    return state


class _Water:
    """A rippling band of water: two periodic ripple textures sliding in opposite
    directions; their sum, cut at two levels, picks one of three colours (deep,
    mid, glint) per pixel. Rows ``top:bottom`` of the frame."""

    def __init__(self, rng: np.random.Generator, height: int, width: int, fraction: float,
                 scale: float) -> None:
        band = max(4, min(height - 2, int(round(fraction * height))))
        self.bottom = height - int(round(rng.uniform(0.0, 0.06) * height))
        self.top = max(1, self.bottom - band)
        rows = self.bottom - self.top
        period = width + int(rng.integers(0, width // 2 + 1))
        # ripples are wide and flat: ~18 px long, ~3 px high at 320x240
        cells_x = max(2, int(round(period / (18.0 * scale))))
        cells_y = max(2, int(round(rows / (3.0 * scale))))
        self.texture1 = _periodic_noise(rng, rows, period, cells_y, cells_x).astype(np.float32)
        self.texture2 = (0.8 * _periodic_noise(rng, rows, period, cells_y, cells_x)).astype(np.float32)
        self.period = period
        self.speed1 = float(rng.uniform(0.8, 1.6) * scale)
        self.speed2 = float(rng.uniform(0.5, 1.1) * scale)
        self.columns = np.arange(width, dtype=np.int64)
        mixed = self.texture1 + self.texture2
        self.thresholds = np.quantile(mixed, [0.55, 0.84]).astype(np.float32)
        deep = rng.uniform([90.0, 55.0, 20.0], [130.0, 85.0, 50.0])
        self.palette = _distinct_colours(rng, [deep, deep + [45.0, 45.0, 35.0], [215.0, 210.0, 195.0]],
                                         10.0, 45.0)
        self.mask = np.zeros((height, width), dtype=bool)
        self.mask[self.top:self.bottom] = True

    def paint(self, t: int, image: np.ndarray) -> None:
        shift1 = math.floor(self.speed1 * t)
        shift2 = math.floor(self.speed2 * t)
        values = (self.texture1[:, (self.columns + shift1) % self.period]
                  + self.texture2[:, (self.columns - shift2) % self.period])
        image[self.top:self.bottom] = self.palette[_quantise(values, self.thresholds)]


class _Foliage:
    """A swaying tree crown: an irregular blob whose pixels show dark leaves, lit
    leaves or the sky through gaps, from a leaf texture shifted by an integer sway
    (a sum of two sines, evaluated when the scene is built)."""

    def __init__(self, rng: np.random.Generator, height: int, width: int, n_frames: int,
                 horizon: float, sway: float, scale: float) -> None:
        ry = rng.uniform(0.12, 0.22) * height
        rx = min(rng.uniform(0.7, 1.2) * ry, 0.2 * width)
        cy = rng.uniform(0.05, max(0.1, horizon)) * height
        cx = rng.uniform(0.05, 0.95) * width
        y0, y1 = max(0, int(cy - ry)), min(height, int(math.ceil(cy + ry)))
        x0, x1 = max(0, int(cx - rx)), min(width, int(math.ceil(cx + rx)))
        self.box = (y0, max(y1, y0 + 1), x0, max(x1, x0 + 1))
        y0, y1, x0, x1 = self.box
        yy = (np.arange(y0, y1, dtype=np.float64) + 0.5 - cy)[:, None] / ry
        xx = (np.arange(x0, x1, dtype=np.float64) + 0.5 - cx)[None, :] / rx
        ragged = 0.3 * _value_noise(rng, y1 - y0, x1 - x0, 4, 4, 1)[:, :, 0]
        self.mask = (yy * yy + xx * xx) < 1.0 + ragged
        self.amplitude = max(1, int(math.ceil(sway)))
        a = self.amplitude
        bh, bw = y1 - y0, x1 - x0
        leaf = max(2.0, 3.5 * scale)                 # leaf clusters ~3.5 px at 320x240
        self.leaves = _value_noise(rng, bh + 2 * a, bw + 2 * a,
                                   max(1, int(round((bh + 2 * a) / leaf))),
                                   max(1, int(round((bw + 2 * a) / leaf))), 1)[:, :, 0]
        self.leaves = self.leaves.astype(np.float32)
        self.thresholds = np.quantile(self.leaves, [0.45, 0.8]).astype(np.float32)
        dark = rng.uniform([25.0, 60.0, 25.0], [50.0, 90.0, 50.0])
        self.palette = _distinct_colours(
            rng, [dark, dark + [45.0, 70.0, 45.0], rng.uniform(180.0, 215.0, 3)], 8.0, 55.0)
        period = rng.uniform(25.0, 60.0)
        phase, phase2 = rng.uniform(0.0, 2.0 * math.pi, 2)
        sway_x, sway_y = [], []
        for t in range(n_frames):
            wave = (0.75 * math.sin(2.0 * math.pi * t / period + phase)
                    + 0.25 * math.sin(2.0 * math.pi * t / (0.31 * period) + phase2))
            sway_x.append(int(round(sway * wave)))
            sway_y.append(int(round(0.4 * sway * math.sin(2.0 * math.pi * t / (1.7 * period)
                                                          + phase2))))
        self.sway = np.clip(np.array([sway_y, sway_x], dtype=np.int64).T, -a, a)

    def paint(self, t: int, image: np.ndarray) -> None:
        y0, y1, x0, x1 = self.box
        dy, dx = self.sway[t]
        a = self.amplitude
        window = self.leaves[a + dy:a + dy + y1 - y0, a + dx:a + dx + x1 - x0]
        image[y0:y1, x0:x1][self.mask] = self.palette[_quantise(window[self.mask], self.thresholds)]


def _convert(image: np.ndarray, out: np.ndarray) -> None:
    """Round float32 ``image`` (carrying the +0.5 already) into ``out``'s integer dtype."""
    np.clip(image, 0.0, float(np.iinfo(out.dtype).max), out=image)
    np.copyto(out, image, casting="unsafe")


class _StreetModel(_SceneModel):
    """What most kinds share: a static textured background, objects entering after
    the warm-up, white Gaussian noise. Subclasses paint around the objects."""

    def __init__(self, height: int, width: int, n_frames: int, seed: int, *, fps: float,
                 warmup: int, noise_sigma: float, object_interval: float,
                 low: float = 25.0, high: float = 230.0,
                 speed: tuple[float, float] = (0.8, 4.0),
                 speed_scale: float | None = None, pad: int = 0) -> None:
        self.height, self.width, self.n_frames = height, width, n_frames
        self.fps, self.warmup = fps, warmup
        self.seed, self.noise_sigma = seed, noise_sigma
        self.scale = math.sqrt(height * width / (240.0 * 320.0))
        # pad: the background covers a canvas ``pad`` pixels larger on every side
        background, self.horizon = _make_background(_rng(seed, _KEY_BACKGROUND),
                                                    height + 2 * pad, width + 2 * pad, low, high)
        self.background64 = background
        self.avoid = background.reshape(-1, 3).mean(axis=0)
        self.objects: list[Any] = _schedule_objects(
            seed, height, width, n_frames, warmup, object_interval, self.avoid,
            speed=speed, speed_scale=speed_scale)
        self.regions = {}
        self.info = {"objects": _describe_objects(self.objects)}
        self._noise = None if noise_sigma == 0 else _gaussian_table() * np.float32(noise_sigma)
        self._buffer = np.empty((height, width, 3), dtype=np.float32)
        self._scratch = np.empty_like(self._buffer)
        self._finish_objects()

    def _finish_objects(self) -> None:
        """Call after changing ``self.objects``: index their lifetimes."""
        self._t0 = np.array([obj.t0 for obj in self.objects], dtype=np.int64)
        self._t1 = np.array([obj.t1 for obj in self.objects], dtype=np.int64)

    def _freeze_background(self) -> None:
        self.background = (self.background64 + 0.5).astype(np.float32)

    def _active(self, t: int) -> Iterator[Any]:
        for i in np.flatnonzero((self._t0 <= t) & (self._t1 >= t)):   # in arrival order
            yield self.objects[i]

    def _finish(self, t: int, image: np.ndarray, frame: np.ndarray) -> None:
        _add_noise(self.seed, t, self._noise, image, self._scratch)
        _convert(image, frame)

    def render(self, t: int, frame: np.ndarray, gt: np.ndarray) -> None:
        image = self._buffer
        np.copyto(image, self.background)
        gt[...] = STATIC
        for obj in self._active(t):
            _paste(obj, t, image, gt)
        self._finish(t, image, frame)


# --------------------------------------------------------------------------- dynamic background


class _DynamicModel(_StreetModel):
    def __init__(self, height: int, width: int, n_frames: int, seed: int, *, water: float,
                 foliage: int, sway: float, boat_interval: float, **common: Any) -> None:
        super().__init__(height, width, n_frames, seed, **common)
        rng = _rng(seed, _KEY_DYNAMIC)
        self.water = _Water(rng, height, width, water, self.scale) if water > 0 else None
        self.foliage = [_Foliage(rng, height, width, n_frames, self.horizon, sway, self.scale)
                        for _ in range(foliage)]
        dynamic = np.zeros((height, width), dtype=bool)
        if self.water is not None:
            self.regions["water"] = self.water.mask
            dynamic |= self.water.mask
        if self.foliage:
            crowns = np.zeros((height, width), dtype=bool)
            for tree in self.foliage:
                y0, y1, x0, x1 = tree.box
                crowns[y0:y1, x0:x1] |= tree.mask
            self.regions["foliage"] = crowns
            dynamic |= crowns
        self.regions["dynamic"] = dynamic
        self._freeze_background()
        if self.water is not None and boat_interval > 0:
            boats = self._boats(seed, boat_interval)
            self.info["boats"] = _describe_objects(boats)
            self.objects = boats + self.objects          # boats first: traffic passes over them
            self._finish_objects()

    def _boats(self, seed: int, interval: float) -> list[_MovingObject]:
        """Objects crossing the water band sideways, the first right after the warm-up."""
        water = self.water
        assert water is not None
        boats = []
        t = float(self.warmup + 2)
        index = 0
        while int(t) < self.n_frames:
            rng = _rng(seed, _KEY_BOATS, index)
            rows = water.bottom - water.top
            h = max(3, min(int(round(rng.uniform(0.5, 0.9) * rows)), int(0.25 * self.height)))
            w = max(4, min(int(round(h * rng.uniform(1.8, 3.0))), int(0.4 * self.width)))
            sprite = _make_sprite(rng, h, w, self.avoid)
            vx = rng.uniform(1.0, 2.5) * self.scale * (1.0 if rng.uniform() < 0.5 else -1.0)
            x0 = -w + 1.0 if vx > 0 else self.width - 1.0
            y0 = float(water.top + rng.uniform(0.0, max(0.0, rows - h)))
            t0 = int(t)
            t1 = _last_visible(t0, x0, y0, vx, 0.0, h, w, self.height, self.width, self.n_frames)
            boats.append(_MovingObject(sprite, t0, t1, x0, y0, vx, 0.0))
            index += 1
            t += interval
        return boats

    def render(self, t: int, frame: np.ndarray, gt: np.ndarray) -> None:
        image = self._buffer
        np.copyto(image, self.background)
        if self.water is not None:
            self.water.paint(t, image)
        for tree in self.foliage:
            tree.paint(t, image)
        gt[...] = STATIC
        for obj in self._active(t):
            _paste(obj, t, image, gt)
        self._finish(t, image, frame)


@_register_kind("dynamic_background")
def _dynamic_background(height: int, width: int, n_frames: int, seed: int, *,
                        fps: float = 25.0, warmup: int = 30, noise_sigma: float = 2.5,
                        object_interval: float = 50.0, water: float = 0.3, foliage: int = 3,
                        sway: float = 3.0, boat_interval: float = 100.0
                        ) -> tuple[_SceneModel, dict[str, Any]]:
    params = _common_params(n_frames, fps, warmup, noise_sigma, object_interval)
    params.update({
        "water": check_float("water", water, 0.0, 0.8),
        "foliage": check_int("foliage", foliage, 0, 12),
        "sway": check_float("sway", sway, 0.5, 12.0),
        "boat_interval": check_float("boat_interval", boat_interval, 0.0),
    })
    if 0 < params["boat_interval"] < 1:
        raise ValueError("boat_interval must be 0 (no boats) or >= 1")
    return _DynamicModel(height, width, n_frames, seed, **params), params


# --------------------------------------------------------------------------- camera jitter


class _JitterModel(_StreetModel):
    """The world (background plus objects) is drawn on a canvas ``margin`` pixels
    larger on every side; frame ``t`` shows it shifted by ``(dx, dy)`` pixels,
    resampled bilinearly: ``frame(y, x) = world(y + dy, x + dx)``. The ground
    truth is the objects' footprint resampled the same way, motion where it
    covers at least half a pixel."""

    def __init__(self, height: int, width: int, n_frames: int, seed: int, *, jitter: float,
                 jitter_period: float, **common: Any) -> None:
        self.margin = m = int(math.ceil(jitter)) + 1
        super().__init__(height, width, n_frames, seed, pad=m, **common)
        self._freeze_background()                    # the world canvas, (H + 2m, W + 2m, 3)
        self._canvas = np.empty_like(self.background)
        self._labels = np.zeros(self.background.shape[:2], dtype=np.uint8)
        self._cover = np.empty((height, width), dtype=np.float32)
        rng = _rng(seed, _KEY_JITTER)
        phase_x, phase_y = rng.uniform(0.0, 2.0 * math.pi, 2)
        shifts = np.empty((n_frames, 2), dtype=np.float64)
        for t in range(n_frames):
            kick = _rng(seed, _KEY_JITTER, t).uniform(-1.0, 1.0, 2)
            shifts[t, 0] = jitter * (0.6 * math.sin(2.0 * math.pi * t / jitter_period + phase_x)
                                     + 0.4 * kick[0])
            shifts[t, 1] = jitter * (0.6 * math.sin(2.0 * math.pi * t / (1.37 * jitter_period)
                                                    + phase_y) + 0.4 * kick[1])
        shifts.flags.writeable = False
        self.shifts = shifts
        position = shifts + m                        # where frame (0, 0) lies on the canvas
        corner = np.floor(position).astype(np.int64)
        frac = position - corner
        self._corner = corner                        # (x, y) integer part
        fx, fy = frac[:, 0], frac[:, 1]
        self._weights = np.stack([(1 - fy) * (1 - fx), (1 - fy) * fx, fy * (1 - fx), fy * fx],
                                 axis=1).astype(np.float32)
        self.info.update({"shifts": shifts, "margin": m})
        self.regions = {}

    def _resample(self, t: int, source: np.ndarray, out: np.ndarray) -> None:
        x, y = self._corner[t]
        h, w = self.height, self.width
        w00, w01, w10, w11 = self._weights[t]
        np.multiply(source[y:y + h, x:x + w], w00, out=out)
        out += source[y:y + h, x + 1:x + 1 + w] * w01
        out += source[y + 1:y + 1 + h, x:x + w] * w10
        out += source[y + 1:y + 1 + h, x + 1:x + 1 + w] * w11

    def render(self, t: int, frame: np.ndarray, gt: np.ndarray) -> None:
        active = list(self._active(t))
        canvas = self.background
        gt[...] = STATIC
        if active:
            canvas = self._canvas
            np.copyto(canvas, self.background)
            self._labels[...] = 0
            for obj in active:
                _paste(obj, t, canvas, self._labels, MOTION, origin=self.margin)
            self._resample(t, (self._labels == MOTION).astype(np.float32), self._cover)
            gt[self._cover >= 0.5] = MOTION
        self._resample(t, canvas, self._buffer)
        self._finish(t, self._buffer, frame)


@_register_kind("camera_jitter")
def _camera_jitter(height: int, width: int, n_frames: int, seed: int, *, fps: float = 25.0,
                   warmup: int = 30, noise_sigma: float = 2.5, object_interval: float = 40.0,
                   jitter: float = 1.5, jitter_period: float = 20.0
                   ) -> tuple[_SceneModel, dict[str, Any]]:
    params = _common_params(n_frames, fps, warmup, noise_sigma, object_interval)
    params.update({
        "jitter": check_float("jitter", jitter, 0.0, 8.0),
        "jitter_period": check_float("jitter_period", jitter_period, 2.0),
    })
    return _JitterModel(height, width, n_frames, seed, **params), params


# --------------------------------------------------------------------------- shadows


class _ShadowModel(_StreetModel):
    """Every object casts a hard shadow: its own silhouette moved by an offset
    (light from one side, the same for the whole scene, proportional to the
    object's height), where the background is multiplied by ``shadow_factor`` in
    every channel (same chroma). Shadow pixels not covered by an object are 50."""

    def __init__(self, height: int, width: int, n_frames: int, seed: int, *,
                 shadow_factor: float, shadow_length: float, **common: Any) -> None:
        super().__init__(height, width, n_frames, seed, **common)
        self._freeze_background()
        rng = _rng(seed, _KEY_SHADOW)
        angle = rng.uniform(0.35, 1.2)               # elevation of the offset below horizontal
        side = 1.0 if rng.uniform() < 0.5 else -1.0
        self.offsets = [(int(round(shadow_length * obj.sprite.height * math.sin(angle))),
                         int(round(side * shadow_length * obj.sprite.height * math.cos(angle))))
                        for obj in self.objects]
        self.factor = np.float32(shadow_factor)
        self.lift = np.float32(0.5 * (1.0 - shadow_factor))   # keeps round-to-nearest exact
        self._shadow = np.zeros((height, width), dtype=bool)
        self.info["shadow_offsets"] = tuple(self.offsets)

    def render(self, t: int, frame: np.ndarray, gt: np.ndarray) -> None:
        image = self._buffer
        np.copyto(image, self.background)
        gt[...] = STATIC
        shadow = self._shadow
        shadow[...] = False
        active = np.flatnonzero((self._t0 <= t) & (self._t1 >= t))
        for i in active:
            top, left = self.objects[i].corner(t)
            dy, dx = self.offsets[i]
            _stamp(self.objects[i].sprite.mask, top + dy, left + dx, shadow)
        if active.size:
            image[shadow] = image[shadow] * self.factor + self.lift
            gt[shadow] = HARD_SHADOW
        for i in active:
            _paste(self.objects[i], t, image, gt)
        self._finish(t, image, frame)


@_register_kind("shadow")
def _shadow_kind(height: int, width: int, n_frames: int, seed: int, *, fps: float = 25.0,
                 warmup: int = 30, noise_sigma: float = 2.5, object_interval: float = 40.0,
                 shadow_factor: float = 0.6, shadow_length: float = 0.6
                 ) -> tuple[_SceneModel, dict[str, Any]]:
    params = _common_params(n_frames, fps, warmup, noise_sigma, object_interval)
    params.update({
        "shadow_factor": check_float("shadow_factor", shadow_factor, 0.05, 0.95),
        "shadow_length": check_float("shadow_length", shadow_length, 0.1, 3.0),
    })
    return _ShadowModel(height, width, n_frames, seed, **params), params


# --------------------------------------------------------------------------- illumination


class _IlluminationModel(_StreetModel):
    """The whole scene (objects included) is lit by a global gain that ramps
    linearly from 1 at ``ramp_start`` to ``ramp_gain`` at ``ramp_start +
    ramp_frames`` and stays there; from ``switch_frame`` on, a light switched on
    (or off) multiplies a region (or the frame) by ``switch_gain`` more."""

    def __init__(self, height: int, width: int, n_frames: int, seed: int, *,
                 ramp_gain: float, ramp_start: int, ramp_frames: int, switch_frame: int,
                 switch_gain: float, switch_region: str, **common: Any) -> None:
        super().__init__(height, width, n_frames, seed, low=30.0, high=170.0, **common)
        self._freeze_background()
        self.switch_frame = switch_frame
        self.box = (0, height, 0, width)
        if switch_region == "box":
            rng = _rng(seed, _KEY_LIGHT)
            bh, bw = rng.uniform(0.45, 0.65) * height, rng.uniform(0.4, 0.6) * width
            y0, x0 = rng.uniform(0.0, height - bh), rng.uniform(0.0, width - bw)
            self.box = (int(y0), int(y0 + bh), int(x0), int(x0 + bw))
        region = np.zeros((height, width), dtype=bool)
        region[self.box[0]:self.box[1], self.box[2]:self.box[3]] = True
        self.regions = {"switch": region}
        gain = np.empty(n_frames, dtype=np.float64)
        for t in range(n_frames):
            progress = min(max((t - ramp_start) / ramp_frames, 0.0), 1.0)
            gain[t] = 1.0 + (ramp_gain - 1.0) * progress
        gain.flags.writeable = False
        self.gain = gain
        self._gain32 = gain.astype(np.float32)
        self._switch = np.float32(switch_gain)
        self.info.update({"gain": gain, "switch_frame": switch_frame,
                          "switch_gain": switch_gain})

    def render(self, t: int, frame: np.ndarray, gt: np.ndarray) -> None:
        image = self._buffer
        np.copyto(image, self.background)
        gt[...] = STATIC
        for obj in self._active(t):
            _paste(obj, t, image, gt)
        image -= np.float32(0.5)                     # scale the values, not the rounding offset
        image *= self._gain32[t]
        if t >= self.switch_frame:
            y0, y1, x0, x1 = self.box
            image[y0:y1, x0:x1] *= self._switch
        image += np.float32(0.5)
        self._finish(t, image, frame)


@_register_kind("illumination")
def _illumination(height: int, width: int, n_frames: int, seed: int, *, fps: float = 25.0,
                  warmup: int = 30, noise_sigma: float = 2.5, object_interval: float = 40.0,
                  ramp_gain: float = 0.6, ramp_start: int | None = None,
                  ramp_frames: int = 240, switch_frame: int | None = None,
                  switch_gain: float = 1.6, switch_region: str = "box"
                  ) -> tuple[_SceneModel, dict[str, Any]]:
    params = _common_params(n_frames, fps, warmup, noise_sigma, object_interval)
    w = params["warmup"]
    params.update({
        "ramp_gain": check_float("ramp_gain", ramp_gain, 0.1, 1.5),
        "ramp_start": check_int("ramp_start", w if ramp_start is None else ramp_start, 0),
        "ramp_frames": check_int("ramp_frames", ramp_frames, 1),
        "switch_frame": check_int("switch_frame", w + 120 if switch_frame is None
                                  else switch_frame, 1),
        "switch_gain": check_float("switch_gain", switch_gain, 0.1, 3.0),
    })
    if switch_region not in ("box", "frame"):
        raise ValueError(f"switch_region must be 'box' or 'frame', got {switch_region!r}")
    params["switch_region"] = switch_region
    return _IlluminationModel(height, width, n_frames, seed, **params), params


# --------------------------------------------------------------------------- intermittent objects


class _IntermittentModel(_StreetModel):
    """A car drives in, parks for ``stop_frames`` frames and drives on; a second
    object, standing in the scene from frame 0 (background, label 0), is taken
    away at ``remove_frame`` (motion while it moves, the uncovered ground is
    background). Optional passing traffic."""

    def __init__(self, height: int, width: int, n_frames: int, seed: int, *,
                 stop_frames: int, enter_frame: int, removed_object: bool,
                 remove_frame: int, traffic: bool, **common: Any) -> None:
        super().__init__(height, width, n_frames, seed, **common)
        self._freeze_background()
        if not traffic:
            self.objects = []
            self._finish_objects()
        self.info["objects"] = _describe_objects(self.objects)
        rng = _rng(seed, _KEY_PARKED)
        side = 1 if rng.uniform() < 0.5 else -1       # +1: enters from the left
        h = max(4, int(round(rng.uniform(0.18, 0.26) * height)))
        w = max(6, min(int(round(h * rng.uniform(1.6, 2.2))), int(0.3 * width)))
        car = _make_sprite(rng, h, w, self.avoid)
        ground = self.horizon + 0.08
        top = int(round(rng.uniform(ground, 0.95) * height - h))
        top = min(max(top, 0), height - h)
        stop = int(round(rng.uniform(0.12, 0.3) * width))
        stop = stop if side > 0 else width - w - stop
        speed = rng.uniform(1.5, 3.0) * max(self.scale, 1.0)   # px per frame, >= 1.5
        start = -w + 1 if side > 0 else width - 1
        arrive = max(1, int(math.ceil(abs(stop - start) / speed)))
        leave_from = arrive + stop_frames            # first moving frame after the stop
        # drive on until the box has left the frame
        travel = (width - stop) if side > 0 else (stop + w)
        gone = leave_from + int(math.ceil(travel / speed)) + 1
        steps = np.arange(gone, dtype=np.float64)
        x = np.where(steps < arrive, start + side * speed * steps, float(stop))
        x = np.where(steps >= leave_from, stop + side * speed * (steps - leave_from + 1), x)
        lefts = np.floor(x).astype(np.int64)
        if side > 0:
            lefts[:arrive] = np.minimum(lefts[:arrive], stop)
        else:
            lefts[:arrive] = np.maximum(lefts[:arrive], stop)
        visible = (lefts < width) & (lefts + w > 0)
        last = int(np.flatnonzero(visible)[-1])
        t1 = min(enter_frame + last, n_frames - 1)
        self.parked = _PathObject(car, enter_frame, t1, np.full(gone, top, np.int64), lefts)
        # the pixel positions decide: slow approach or departure may hold a frame longer
        parked = np.flatnonzero(lefts == stop)
        self.info["stopped"] = (enter_frame + int(parked[0]), enter_frame + int(parked[-1]))
        self.info["stopped_box"] = (top, top + h, stop, stop + w)
        self.removed: _PathObject | None = None
        self.remove_frame = remove_frame
        self.info["removed"] = None
        if removed_object:
            rh = max(4, int(round(rng.uniform(0.12, 0.2) * height)))
            rw = max(4, min(int(round(rh * rng.uniform(0.8, 1.6))), int(0.25 * width)))
            thing = _make_sprite(rng, rh, rw, self.avoid)
            rtop = int(round(rng.uniform(ground, 0.95) * height - rh))
            rtop = min(max(rtop, 0), height - rh)
            rleft = int(round(rng.uniform(0.62, 0.8) * width))
            rleft = min(rleft, width - rw) if side > 0 else max(0, width - rw - rleft)
            rspeed = rng.uniform(1.0, 2.0) * max(self.scale, 1.0)
            away = (width - rleft) if side > 0 else (rleft + rw)
            moving = int(math.ceil(away / rspeed)) + 1
            steps = np.arange(1, moving + 2, dtype=np.float64)   # it moves at remove_frame
            rx = np.floor(rleft + side * rspeed * steps).astype(np.int64)
            rlefts = np.concatenate([np.full(remove_frame, rleft, np.int64), rx])
            visible = (rlefts < width) & (rlefts + rw > 0)
            rlast = min(int(np.flatnonzero(visible)[-1]), n_frames - 1)
            self.removed = _PathObject(thing, 0, rlast, np.full(rlefts.size, rtop, np.int64),
                                       rlefts)
            self.info["removed"] = (remove_frame, rlast)
            self.info["removed_box"] = (rtop, rtop + rh, rleft, rleft + rw)

    def render(self, t: int, frame: np.ndarray, gt: np.ndarray) -> None:
        image = self._buffer
        np.copyto(image, self.background)
        gt[...] = STATIC
        if self.removed is not None and t <= self.removed.t1:
            _paste(self.removed, t, image, gt, MOTION if t >= self.remove_frame else STATIC)
        if self.parked.t0 <= t <= self.parked.t1:
            _paste(self.parked, t, image, gt)
        for obj in self._active(t):
            _paste(obj, t, image, gt)
        self._finish(t, image, frame)


@_register_kind("intermittent_object", n_frames=400)
def _intermittent_object(height: int, width: int, n_frames: int, seed: int, *,
                         fps: float = 25.0, warmup: int = 30, noise_sigma: float = 2.5,
                         object_interval: float = 70.0, stop_frames: int = 180,
                         enter_frame: int | None = None, removed_object: bool = True,
                         remove_frame: int | None = None, traffic: bool = True
                         ) -> tuple[_SceneModel, dict[str, Any]]:
    params = _common_params(n_frames, fps, warmup, noise_sigma, object_interval)
    w = params["warmup"]
    params.update({
        "stop_frames": check_int("stop_frames", stop_frames, 1),
        "enter_frame": check_int("enter_frame", w + 10 if enter_frame is None else enter_frame, w),
        "removed_object": check_bool("removed_object", removed_object),
        "remove_frame": check_int("remove_frame", w + 60 if remove_frame is None
                                  else remove_frame, w),
        "traffic": check_bool("traffic", traffic),
    })
    return _IntermittentModel(height, width, n_frames, seed, **params), params


# --------------------------------------------------------------------------- thermal


def _binomial_blur(image: np.ndarray, passes: int) -> np.ndarray:
    """Smooth a 2-D float64 image with ``passes`` [1, 2, 1] / 4 filters per axis
    (edges replicated): exact additions and halvings, the same on every CPU."""
    for _ in range(passes):
        padded = np.pad(image, 1, mode="edge")
        image = 0.25 * padded[:-2, 1:-1] + 0.5 * padded[1:-1, 1:-1] + 0.25 * padded[2:, 1:-1]
        padded = np.pad(image, 1, mode="edge")
        image = 0.25 * padded[1:-1, :-2] + 0.5 * padded[1:-1, 1:-1] + 0.25 * padded[1:-1, 2:]
    return image


class _ThermalModel(_StreetModel):
    """A 16-bit single-channel scene; one count is about 0.01 K (a radiometric
    camera's linear output): a smooth background of about +-8 K around ``level``
    with a static column pattern, objects ``contrast`` counts warmer than the
    background's mean (+-40%, with some inner structure), white noise."""

    channels = 1
    dtype = np.dtype(np.uint16)

    def __init__(self, height: int, width: int, n_frames: int, seed: int, *, level: float,
                 contrast: float, fixed_pattern: float, **common: Any) -> None:
        super().__init__(height, width, n_frames, seed, **common)
        grey = self.background64 @ np.array([0.114, 0.587, 0.299])
        grey = _binomial_blur(grey, 2)
        grey -= grey.mean()
        span = max(float(grey.max() - grey.min()), 1e-6)
        columns = fixed_pattern * _rng(seed, _KEY_THERMAL).standard_normal(width)
        thermal = level + grey * (1600.0 / span) + columns[None, :]
        self.background = (thermal + 0.5).astype(np.float32)
        mean = float(thermal.mean())
        objects = []
        for index, obj in enumerate(self.objects):
            rng = _rng(seed, _KEY_THERMAL, index)
            luma = obj.sprite.pixels.astype(np.float64) @ np.array([0.114, 0.587, 0.299])
            texture = (luma - luma.mean()) / max(float(luma.std()), 1.0)
            warm = mean + contrast * rng.uniform(0.6, 1.4)
            pixels = warm + 0.25 * contrast * np.clip(texture, -2.0, 2.0)
            sprite = _Sprite(pixels=(pixels + 0.5).astype(np.float32), mask=obj.sprite.mask)
            objects.append(dataclass_replace(obj, sprite=sprite))
        self.objects = objects
        self._buffer = np.empty((height, width), dtype=np.float32)
        self._scratch = np.empty_like(self._buffer)


@_register_kind("thermal")
def _thermal(height: int, width: int, n_frames: int, seed: int, *, fps: float = 25.0,
             warmup: int = 30, noise_sigma: float = 8.0, object_interval: float = 40.0,
             level: float = 29000.0, contrast: float = 400.0, fixed_pattern: float = 5.0
             ) -> tuple[_SceneModel, dict[str, Any]]:
    params = _common_params(n_frames, fps, warmup, noise_sigma, object_interval,
                            max_sigma=2000.0)
    params.update({
        "level": check_float("level", level, 2000.0, 60000.0),
        "contrast": check_float("contrast", contrast, 0.0, 3000.0),
        "fixed_pattern": check_float("fixed_pattern", fixed_pattern, 0.0, 500.0),
    })
    return _ThermalModel(height, width, n_frames, seed, **params), params


# --------------------------------------------------------------------------- low frame rate


class _LowFramerateModel(_StreetModel):
    def __init__(self, height: int, width: int, n_frames: int, seed: int, *,
                 min_speed: float, max_speed: float, **common: Any) -> None:
        super().__init__(height, width, n_frames, seed, speed=(min_speed, max_speed),
                         speed_scale=1.0, **common)
        self._freeze_background()


@_register_kind("low_framerate", n_frames=120)
def _low_framerate(height: int, width: int, n_frames: int, seed: int, *, fps: float = 2.0,
                   warmup: int = 20, noise_sigma: float = 2.5, object_interval: float = 5.0,
                   min_speed: float = 20.0, max_speed: float = 60.0
                   ) -> tuple[_SceneModel, dict[str, Any]]:
    params = _common_params(n_frames, fps, warmup, noise_sigma, object_interval)
    params.update({
        "min_speed": check_float("min_speed", min_speed, 0.1),
        "max_speed": check_float("max_speed", max_speed, 0.1),
    })
    if params["max_speed"] < params["min_speed"]:
        raise ValueError(f"max_speed ({max_speed}) must be >= min_speed ({min_speed})")
    return _LowFramerateModel(height, width, n_frames, seed, **params), params


# --------------------------------------------------------------------------- heavy noise


class _HeavyNoiseModel(_StreetModel):
    """Gaussian noise of ``noise_sigma`` per channel, a fraction
    ``noise_correlation`` of whose variance is shared by the three channels
    (luminance noise), the rest independent per channel (chroma noise)."""

    def __init__(self, height: int, width: int, n_frames: int, seed: int, *,
                 noise_correlation: float, **common: Any) -> None:
        super().__init__(height, width, n_frames, seed, low=45.0, high=210.0, **common)
        self._freeze_background()
        sigma = self.noise_sigma
        table = _gaussian_table()
        self._shared = table * np.float32(sigma * math.sqrt(noise_correlation))
        self._own = table * np.float32(sigma * math.sqrt(1.0 - noise_correlation))
        self._draws = np.empty((height, width, 4), dtype=np.float32)

    def _finish(self, t: int, image: np.ndarray, frame: np.ndarray) -> None:
        if self.noise_sigma > 0:
            draws = _rng(self.seed, _KEY_NOISE, t).integers(
                0, 65536, size=(self.height, self.width, 4), dtype=np.uint16)
            np.take(self._own, draws[:, :, 1:], out=self._scratch)
            image += self._scratch
            image += np.take(self._shared, draws[:, :, :1])
        _convert(image, frame)


@_register_kind("heavy_noise")
def _heavy_noise(height: int, width: int, n_frames: int, seed: int, *, fps: float = 25.0,
                 warmup: int = 30, noise_sigma: float = 10.0, object_interval: float = 40.0,
                 noise_correlation: float = 0.6) -> tuple[_SceneModel, dict[str, Any]]:
    params = _common_params(n_frames, fps, warmup, noise_sigma, object_interval)
    params["noise_correlation"] = check_float("noise_correlation", noise_correlation, 0.0, 1.0)
    return _HeavyNoiseModel(height, width, n_frames, seed, **params), params


# --------------------------------------------------------------------------- CDnet layout


def _check_roi(roi: object, shape: tuple[int, int]) -> np.ndarray:
    if not isinstance(roi, np.ndarray) or roi.shape != tuple(shape) or roi.dtype not in (np.uint8, np.bool_):
        raise ValueError(f"roi must be a bool or uint8 array of shape {tuple(shape)}")
    return np.where(roi.astype(bool), 255, 0).astype(np.uint8)


def _write_atomic(path: Path, data: bytes) -> None:
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    try:
        with open(tmp, "wb") as handle:
            handle.write(data)
        os.replace(tmp, path)
    finally:
        if tmp.exists():
            tmp.unlink()


def _encode(ext: str, image: np.ndarray, params: list[int]) -> bytes:
    import cv2

    ok, buf = cv2.imencode(ext, image, params)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {image.shape} {image.dtype} image as {ext}")
    return buf.tobytes()


def write_cdnet(scene: Scene | SceneStream | Iterable[tuple[np.ndarray, np.ndarray]],
                folder: str | os.PathLike[str], *, warmup: int | None = None,
                roi: np.ndarray | None = None, png_compression: int = 3) -> Path:
    """Write a scene in the CDnet 2014 folder layout, losslessly.

    Creates ``folder/input/in000001.png ...`` (frames, 8- or 16-bit PNG),
    ``folder/groundtruth/gt000001.png ...`` (labels), ``folder/ROI.bmp`` (255
    inside the region of interest, 0 outside; all 255 when the scene has none)
    and ``folder/temporalROI.txt`` (``"first last"``, 1-based, inclusive: the
    frames after the warm-up). Every file is written under a temporary name and
    renamed into place; ``temporalROI.txt`` is written last, so its presence
    means the sequence is complete. Numbered frames left over from a longer
    sequence previously written to the same folder are removed.

    Parameters
    ----------
    scene : Scene, SceneStream or iterable of (frame, gt)
        What to write. A plain iterable carries no metadata: pass ``warmup``
        and ``roi`` as needed.
    folder : str or path-like
        Destination, created if missing.
    warmup : int, optional
        Overrides the scene's warm-up (0 for a plain iterable).
    roi : numpy.ndarray, optional
        (H, W) bool or uint8 mask overriding the scene's region of interest.
    png_compression : int
        zlib level 0-9 for the PNGs (lossless at every level).

    Returns
    -------
    pathlib.Path
        The folder.

    Examples
    --------
    >>> import cv2, tempfile
    >>> from bgmix.synth import make_scene, write_cdnet
    >>> scene = make_scene(n_frames=40, height=32, width=48)
    >>> folder = write_cdnet(scene, tempfile.mkdtemp())
    >>> (folder / "temporalROI.txt").read_text().split()
    ['31', '40']
    >>> frame = cv2.imread(str(folder / "input" / "in000001.png"), cv2.IMREAD_UNCHANGED)
    >>> bool((frame == scene.frames[0]).all())
    True
    """
    import cv2

    folder = Path(folder)
    level = check_int("png_compression", png_compression, 0, 9)
    png = [cv2.IMWRITE_PNG_COMPRESSION, level]
    if warmup is None:
        warmup = getattr(scene, "warmup", 0)
    warmup = check_int("warmup", warmup, 0)
    if roi is None:
        roi = getattr(scene, "roi", None)
    inputs, truths = folder / "input", folder / "groundtruth"
    inputs.mkdir(parents=True, exist_ok=True)
    truths.mkdir(parents=True, exist_ok=True)

    n = 0
    size: tuple[int, int] | None = None
    for n, (frame, gt) in enumerate(scene, start=1):
        frame, gt = np.asarray(frame), np.asarray(gt)
        if frame.dtype not in (np.uint8, np.uint16) or frame.ndim not in (2, 3) or (
                frame.ndim == 3 and frame.shape[2] not in (1, 3)):
            raise ValueError(f"frame {n}: expected uint8/uint16 (H, W[, 1|3]), got "
                             f"shape {frame.shape}, dtype {frame.dtype}")
        if size is None:
            size = frame.shape[:2]
        if frame.shape[:2] != size or gt.shape != size or gt.dtype != np.uint8:
            raise ValueError(f"frame {n}: frame {frame.shape} {frame.dtype} and ground truth "
                             f"{gt.shape} {gt.dtype} must be (H, W) = {size} (uint8 labels)")
        _check_labels(gt, f"ground truth of frame {n}")
        _write_atomic(inputs / f"in{n:06d}.png", _encode(".png", frame, png))
        _write_atomic(truths / f"gt{n:06d}.png", _encode(".png", gt, png))
    if size is None:
        raise ValueError("the scene has no frames")
    if warmup >= n:
        raise ValueError(f"warmup ({warmup}) must be < the number of frames ({n})")

    for sub, prefix in ((inputs, "in"), (truths, "gt")):
        pattern = re.compile(rf"{prefix}(\d{{6,}})\.png")
        for path in sub.iterdir():
            match = pattern.fullmatch(path.name)
            if match and int(match.group(1)) > n:
                path.unlink()

    roi_image = np.full(size, 255, np.uint8) if roi is None else _check_roi(roi, size)
    _write_atomic(folder / "ROI.bmp", _encode(".bmp", roi_image, []))
    _write_atomic(folder / "temporalROI.txt", f"{warmup + 1} {n}\n".encode())
    return folder
