"""The baseline kind and the street scene most other kinds build on (:class:`_StreetModel`).
"""

from __future__ import annotations

import math
from collections.abc import Iterator
from typing import Any

import numpy as np

from bgmix._validation import check_bool, check_float, check_int
from bgmix.cdnet import STATIC
from bgmix.synth.objects import _describe_objects, _paste, _schedule_objects, _Sign
from bgmix.synth.scene import _KEY_BACKGROUND, _register_kind, _rng, _SceneModel
from bgmix.synth.textures import _add_noise, _convert, _gaussian_table, _make_background, _to_uint8


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

    def _street(self, t: int, gt: np.ndarray) -> np.ndarray:
        """The background with the objects of frame ``t`` pasted on it (in the buffer), and
        their labels in ``gt``."""
        image = self._buffer
        np.copyto(image, self.background)
        gt[...] = STATIC
        for obj in self._active(t):
            _paste(obj, t, image, gt)
        return image

    def render(self, t: int, frame: np.ndarray, gt: np.ndarray) -> None:
        self._finish(t, self._street(t, gt), frame)


