"""What moves or changes in a scene: sprites, objects on straight paths and their
schedule, pasting them with their labels, and the flickering multimodal sign.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from types import MappingProxyType
from typing import Any

import numpy as np

from bgmix.cdnet import MOTION
from bgmix.synth.scene import _KEY_ARRIVALS, _KEY_OBJECT, _KEY_SIGN, _rng
from bgmix.synth.textures import _value_noise


@dataclass(frozen=True, eq=False)
class _Sprite:
    """An object's appearance: float32 (h, w, C) pixels and an (h, w) bool mask."""

    pixels: np.ndarray
    mask: np.ndarray

    @property
    def size(self) -> tuple[int, int]:
        """``(height, width)``."""
        return int(self.mask.shape[0]), int(self.mask.shape[1])


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
        "height": obj.sprite.size[0], "width": obj.sprite.size[1]}) for obj in objects)


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
    y1 = min(top + sprite.size[0], image.shape[0])
    x1 = min(left + sprite.size[1], image.shape[1])
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



def _stamp(mask: np.ndarray, top: int, left: int, target: np.ndarray) -> None:
    """Set ``target`` (H, W) bool to True under ``mask`` placed with its corner at (top, left)."""
    h, w = mask.shape
    y0, x0 = max(top, 0), max(left, 0)
    y1, x1 = min(top + h, target.shape[0]), min(left + w, target.shape[1])
    if y0 < y1 and x0 < x1:
        target[y0:y1, x0:x1] |= mask[y0 - top:y1 - top, x0 - left:x1 - left]


