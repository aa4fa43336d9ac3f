"""Pictures of the building blocks: textured backgrounds, smooth and periodic noise,
water and foliage, per-frame sensor noise and the conversion to integer frames.
"""

from __future__ import annotations

import functools
import math
import statistics

import numpy as np

from bgmix.synth.scene import _KEY_NOISE, _rng


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


