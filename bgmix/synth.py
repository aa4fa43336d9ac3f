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

Scene kinds live in a registry (:func:`scene_kinds`). Implemented: ``"baseline"``.
A new kind is a function decorated with ``@_register_kind("name")`` that takes
``(height, width, n_frames, seed, **params)``, checks the parameters and returns
``(model, params)``: a :class:`_SceneModel`, whose ``render(t, frame, gt)`` fills
frame ``t`` (0-based) in place, and the effective parameters (defaults included). The building
blocks (:func:`_make_background`, :class:`_Sprite`, :func:`_schedule_objects`,
:class:`_Sign`, :func:`_add_noise`) are meant to be reused by later kinds.

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
    name, kind, seed, fps, warmup, roi, regions, params
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
                     regions=self.regions, params=self.params)


# --------------------------------------------------------------------------- registry

_Builder = Callable[..., tuple[_SceneModel, dict[str, Any]]]
_KINDS: dict[str, _Builder] = {}


def _register_kind(name: str) -> Callable[[_Builder], _Builder]:
    def decorate(builder: _Builder) -> _Builder:
        if name in _KINDS:
            raise ValueError(f"scene kind {name!r} is already registered")
        _KINDS[name] = builder
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
               n_frames: int = 300, seed: int = 0, **params: Any) -> SceneStream:
    """Describe a synthetic scene whose frames are rendered only when iterated.

    Parameters
    ----------
    kind : str
        One of :func:`scene_kinds`.
    height, width : int
        Frame size in pixels (at least 16 each).
    n_frames : int
        Number of frames.
    seed : int
        Non-negative seed; the same arguments always give the same frames.
    **params
        Parameters of the kind. ``"baseline"`` takes ``fps`` (25.0), ``warmup``
        (30: frames before the first object enters, must be < ``n_frames``),
        ``noise_sigma`` (2.5 grey levels of Gaussian noise per channel),
        ``object_interval`` (40.0: mean frames between object arrivals),
        ``multimodal`` (True: a flickering sign whose cells cycle among 2-3
        colours, labelled background) and ``name`` (``f"{kind}_seed{seed}"``).

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
    n_frames = check_int("n_frames", n_frames, 1)
    seed = check_int("seed", seed, 0)
    name = params.pop("name", None)
    name = f"{kind}_seed{seed}" if name is None else str(name)
    model, effective = _KINDS[kind](height, width, n_frames, seed, **params)
    all_params = {"height": height, "width": width, "n_frames": n_frames, "seed": seed,
                  **effective, "name": name}
    return SceneStream(model, name=name, kind=kind, seed=seed, params=all_params)


def make_scene(kind: str = "baseline", *, height: int = 240, width: int = 320,
               n_frames: int = 300, seed: int = 0, **params: Any) -> Scene:
    """Render a synthetic scene with exact ground truth into memory.

    Same parameters as :func:`iter_scene`; ``make_scene(...)`` equals
    ``iter_scene(...).to_scene()``. The arrays of the result are read-only.

    Parameters
    ----------
    kind : str
        One of :func:`scene_kinds`.
    height, width : int
        Frame size in pixels.
    n_frames : int
        Number of frames.
    seed : int
        Non-negative seed.
    **params
        Parameters of the kind, see :func:`iter_scene`.

    Returns
    -------
    Scene
        Frames (N, H, W, 3) uint8 BGR and ground truth (N, H, W) uint8.

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


def _schedule_objects(seed: int, height: int, width: int, n_frames: int, first: int,
                      interval: float, avoid: np.ndarray) -> list[_MovingObject]:
    """Objects entering through the frame's edges from frame ``first`` on.

    Arrivals are drawn in time order, each object from its own random stream, so
    the schedule of a shorter scene is a prefix of a longer one's.
    """
    arrivals = _rng(seed, _KEY_ARRIVALS)
    scale = math.sqrt(height * width / (240.0 * 320.0))
    objects: list[_MovingObject] = []
    t = first + arrivals.uniform(0.0, min(10.0, interval))
    index = 0
    while int(t) < n_frames:
        t0 = int(t)
        rng = _rng(seed, _KEY_OBJECT, index)
        h = max(3, int(round(rng.uniform(0.1, 0.3) * height)))
        w = max(3, min(int(round(h * rng.uniform(0.5, 2.5))), int(0.45 * width)))
        sprite = _make_sprite(rng, h, w, avoid)
        speed = rng.uniform(0.8, 4.0) * scale
        direction = rng.uniform()
        sign = 1.0 if rng.uniform() < 0.5 else -1.0
        drift = rng.uniform(-0.25, 0.25)
        if direction < 0.65:                         # across: enters from the left or right
            vx, vy = sign * speed, drift * speed
            x0 = -w + 1.0 if vx > 0 else width - 1.0
            y0 = rng.uniform(0.0, height - h)
        else:                                        # up or down, possibly diagonal
            vx, vy = drift * speed, sign * speed
            y0 = -h + 1.0 if vy > 0 else height - 1.0
            x0 = rng.uniform(0.0, width - w)
        # last visible frame: the box stays inside the frame until it leaves for good,
        # at the latest once it has crossed the frame along its main direction
        crossing = (width + w) / abs(vx) if abs(vx) >= abs(vy) else (height + h) / abs(vy)
        steps = np.arange(0, min(n_frames - t0, math.ceil(crossing) + 2), dtype=np.float64)
        left = np.floor(x0 + vx * steps)
        top = np.floor(y0 + vy * steps)
        visible = (left < width) & (left + w > 0) & (top < height) & (top + h > 0)
        gone = np.flatnonzero(~visible)
        t1 = t0 + (int(gone[0]) - 1 if gone.size else steps.size - 1)
        objects.append(_MovingObject(sprite, t0, t1, x0, y0, vx, vy))
        index += 1
        t += max(3.0, arrivals.exponential(interval))
    return objects


def _paste(obj: _MovingObject, t: int, image: np.ndarray, gt: np.ndarray | None,
           label: int = MOTION) -> None:
    """Draw ``obj`` as it is at frame ``t`` into float32 ``image`` and label ``gt``."""
    top, left = obj.corner(t)
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
