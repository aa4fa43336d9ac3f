"""A clip with known motion intervals, for testing motion events.

A static textured scene (smooth value noise, sensor noise every frame) with a
swaying tree crown (a leaf texture shifted by a few pixels, as in
``bgmix.synth``'s dynamic background) and cars that cross the frame from one
side to the other during given intervals. Each car enters at its interval's
start and has left at its end, so the truth is exact: the frames on which any
car pixel is visible.

    python scripts/make_events_clip.py clip.mkv --intervals 3-6,10-12.5 --seconds 16

writes ``clip.mkv`` (lossless FFV1, so the decoded frames are the generated
ones) and ``clip.json`` (fps, frame count, the truth intervals in seconds and
frames). In Python: ``make_events_clip(...)`` returns the frames and the truth.
"""

from __future__ import annotations

import argparse
import json
import math
import sys
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numpy as np


@dataclass
class EventsClip:
    frames: np.ndarray                 # (N, H, W, 3) uint8 BGR
    fps: float
    intervals: list[tuple[float, float]]
    """Truth: ``(start_s, end_s)`` per car, ``start_s`` the first frame with a car pixel,
    ``end_s`` the end of the last one (``(last + 1) / fps``)."""
    frame_intervals: list[tuple[int, int]] = field(default_factory=list)
    """Truth in frames: 1-based first and last frame with a car pixel, inclusive."""
    boxes: list[list[tuple[int, int, int, int] | None]] = field(default_factory=list)
    """Per frame, per car: its visible box ``x1, y1, x2, y2`` (exclusive) or None."""


def _smooth_noise(rng: np.random.Generator, height: int, width: int, cell: int) -> np.ndarray:
    small = rng.uniform(0.0, 1.0, (height // cell + 2, width // cell + 2, 3)).astype(np.float32)
    return cv2.resize(small, (width + 2 * cell, height + 2 * cell),
                      interpolation=cv2.INTER_CUBIC)[cell:cell + height, cell:cell + width]


def make_events_clip(*, width: int = 320, height: int = 240, fps: float = 25.0,
                     seconds: float = 16.0, intervals: list[tuple[float, float]] | None = None,
                     seed: int = 0, noise_sigma: float = 2.0, sway: float = 3.0,
                     car_size: tuple[int, int] = (48, 28),
                     lanes: list[float] | None = None) -> EventsClip:
    """Render the clip; see the module docstring.

    ``intervals`` are ``(enter_s, leave_s)``; car ``i`` drives in lane
    ``lanes[i % len(lanes)]`` (fraction of the height of its top edge, default
    alternating 0.55 and 0.7), left to right for even ``i``, right to left for odd.
    """
    if intervals is None:
        intervals = [(3.0, 6.0), (10.0, 12.5)]
    lanes = lanes or [0.55, 0.7]
    n = int(round(seconds * fps))
    rng = np.random.default_rng(seed)
    base = 40.0 + 170.0 * (0.65 * _smooth_noise(rng, height, width, 24)
                           + 0.35 * _smooth_noise(rng, height, width, 5))
    # a tree crown in the top-left quarter whose leaves sway
    amp = int(math.ceil(sway))
    cy, cx, ry, rx = int(0.22 * height), int(0.25 * width), int(0.16 * height), int(0.14 * width)
    yy, xx = np.mgrid[0:height, 0:width]
    crown = ((yy - cy) / ry) ** 2 + ((xx - cx) / rx) ** 2 < 1.0
    leaves = _smooth_noise(rng, height + 2 * amp, width + 2 * amp, 3)[:, :, 1]
    palette = np.array([[30, 70, 35], [80, 150, 90], [200, 210, 215]], np.float32)
    cars = []
    for i, (t0, t1) in enumerate(intervals):
        w, h = car_size
        colour = rng.uniform(20, 235, 3).astype(np.float32)
        texture = colour + rng.normal(0, 12, (h, w, 3)).astype(np.float32)
        texture[h // 2 - 2:h // 2 + 2, :] = 255 - colour      # a stripe: not a flat patch
        first = int(math.ceil(t0 * fps - 1e-9))
        last = int(math.ceil(t1 * fps - 1e-9)) - 1            # frames first..last show the car
        y0 = int(lanes[i % len(lanes)] * height)
        cars.append((first, last, y0, w, h, texture, i % 2 == 0))
    frames = np.empty((n, height, width, 3), np.uint8)
    boxes: list[list[tuple[int, int, int, int] | None]] = []
    truth_frames: list[list[int]] = [[] for _ in cars]
    for t in range(n):
        image = base.copy()
        dx = int(round(sway * math.sin(2 * math.pi * t / (1.3 * fps))))
        dy = int(round(0.4 * sway * math.sin(2 * math.pi * t / (2.1 * fps) + 1.0)))
        window = leaves[amp + dy:amp + dy + height, amp + dx:amp + dx + width]
        index = np.digitize(window, np.quantile(leaves, [0.45, 0.8]))
        image[crown] = palette[index[crown]]
        row: list[tuple[int, int, int, int] | None] = []
        for k, (first, last, y0, w, h, texture, rightwards) in enumerate(cars):
            box = None
            if first <= t <= last:
                # from just entering (1 column visible) to just leaving (1 column visible)
                u = (t - first) / max(1, last - first)
                left = int(round(-w + 1 + u * (width + w - 2)))
                if not rightwards:
                    left = width - w - left
                x1, x2 = max(0, left), min(width, left + w)
                if x1 < x2:
                    image[y0:y0 + h, x1:x2] = texture[:, x1 - left:x2 - left]
                    box = (x1, y0, x2, y0 + h)
                    truth_frames[k].append(t)
            row.append(box)
        boxes.append(row)
        image += rng.normal(0.0, noise_sigma, image.shape).astype(np.float32)
        frames[t] = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    frame_intervals = [(ts[0] + 1, ts[-1] + 1) for ts in truth_frames if ts]
    seconds_intervals = [(ts[0] / fps, (ts[-1] + 1) / fps) for ts in truth_frames if ts]
    return EventsClip(frames, fps, seconds_intervals, frame_intervals, boxes)


def write_clip(path: str | Path, clip: EventsClip) -> Path:
    """Write the frames as lossless FFV1 (``.mkv``) and the truth as ``.json`` beside it."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    height, width = clip.frames.shape[1:3]
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"),
                             clip.fps, (width, height), True)
    if not writer.isOpened():
        raise RuntimeError(f"OpenCV cannot write FFV1 to {path}")
    for frame in clip.frames:
        writer.write(frame)
    writer.release()
    path.with_suffix(".json").write_text(json.dumps({
        "fps": clip.fps, "frames": len(clip.frames), "width": width, "height": height,
        "intervals_s": clip.intervals, "intervals_frames": clip.frame_intervals}, indent=2))
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("path", help="output .mkv")
    parser.add_argument("--intervals", default="3-6,10-12.5",
                        help="START-END seconds of each car, comma separated")
    parser.add_argument("--seconds", type=float, default=16.0)
    parser.add_argument("--fps", type=float, default=25.0)
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    intervals = [tuple(float(v) for v in part.split("-")) for part in args.intervals.split(",")]
    width, height = (int(v) for v in args.size.lower().split("x"))
    clip = make_events_clip(width=width, height=height, fps=args.fps, seconds=args.seconds,
                            intervals=intervals, seed=args.seed)  # type: ignore[arg-type]
    write_clip(args.path, clip)
    print(f"{args.path}: {len(clip.frames)} frames, motion {clip.intervals}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
