"""Scenes and their registry: :class:`Scene`, :class:`SceneStream`, :func:`make_scene`, :func:`iter_scene`.

A kind registers a builder with :func:`_register_kind`; the builder returns a
:class:`_SceneModel` whose ``render(t, frame, gt)`` fills frame ``t``. Every random
stream of a scene is derived from its seed (:func:`_rng` and the ``_KEY_*`` spawn keys).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any

import numpy as np

from bgmix._validation import check_float, check_int
from bgmix.cdnet import CDNET_LABELS, OUTSIDE_ROI, check_labels, roi_image


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
        check_labels(gt, "ground_truth")
        check_float("fps", self.fps, 0.0, low_open=True)
        check_int("warmup", self.warmup, 0, frames.shape[0] - 1)
        if self.roi is not None:
            roi_image(self.roi, frames.shape[1:3])
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
        self.roi = None if model.roi is None else roi_image(model.roi, (self.height, self.width))
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

