"""The CDnet categories beyond the baseline, one scene kind each: dynamic background,
camera jitter, shadow, illumination, intermittent objects, thermal, low frame rate,
heavy noise (see :mod:`bgmix.synth` for their parameters).
"""

from __future__ import annotations

import math
from dataclasses import replace as dataclass_replace
from typing import Any

import numpy as np

from bgmix._validation import check_bool, check_float, check_int
from bgmix.cdnet import HARD_SHADOW, MOTION, STATIC
from bgmix.synth.objects import (
    _describe_objects,
    _last_visible,
    _make_sprite,
    _MovingObject,
    _paste,
    _PathObject,
    _Sprite,
    _stamp,
)
from bgmix.synth.scene import (
    _KEY_BOATS,
    _KEY_DYNAMIC,
    _KEY_JITTER,
    _KEY_LIGHT,
    _KEY_NOISE,
    _KEY_PARKED,
    _KEY_SHADOW,
    _KEY_THERMAL,
    _register_kind,
    _rng,
    _SceneModel,
)
from bgmix.synth.street import _common_params, _StreetModel
from bgmix.synth.textures import _convert, _Foliage, _gaussian_table, _Water


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
        self.offsets = [(int(round(shadow_length * obj.sprite.size[0] * math.sin(angle))),
                         int(round(side * shadow_length * obj.sprite.size[0] * math.cos(angle))))
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
        image = self._street(t, gt)
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


