#!/usr/bin/env python
"""Kernel speed on real footage: bgmix's spherical ``apply`` against OpenCV MOG2.

Both subtractors run in one process on the same frames, decoded once into
memory before any timing: the shared clips ``../shared/data/videos/*.avi``
(those absent are skipped with a note) and, with ``--synthetic WxH``, the
``"baseline"`` scene of :mod:`bgmix.synth` at that size.

For each input and thread count (``numba`` through ``BackgroundMixture(n_threads=N)``,
OpenCV through ``cv2.setNumThreads``), each pass starts two fresh models with
the defaults (bgmix's defaults are OpenCV MOG2's), feeds the first
``--warmup`` frames to both untimed, then times every ``apply`` of the rest
with ``time.perf_counter``, interleaved frame by frame with the order
alternating so that drift of the (shared, noisy) machine cancels. A pass
gives the median milliseconds per frame of each and their ratio
``MOG2 / bgmix`` (> 1: bgmix is faster); the table reports the median over
passes of each and the smallest and largest per-pass ratio.

Optionally (``--modes``) it prints the per-pixel histogram of live
components after the last frame of each input, which is what makes real
footage costlier than a synthetic scene (pixels with several live modes take
the general per-pixel update).

Usage::

    flock /tmp/bench.lock python scripts/bench_kernel_real.py
    flock /tmp/bench.lock python scripts/bench_kernel_real.py --clips road --passes 7
    flock /tmp/bench.lock python scripts/bench_kernel_real.py --clips none --synthetic 1280x720
"""

from __future__ import annotations

import argparse
import gc
import statistics
import sys
import time
from pathlib import Path

import cv2
import numpy as np

from bgmix import BackgroundMixture

SHARED_VIDEOS = Path(__file__).resolve().parents[1] / ".." / "shared" / "data" / "videos"


def decode(path: Path, max_frames: int) -> list[np.ndarray]:
    """Every frame of ``path`` (at most ``max_frames``), as BGR uint8 arrays."""
    capture = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < max_frames:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(np.ascontiguousarray(frame))
    capture.release()
    if not frames:
        raise SystemExit(f"error: no frame could be decoded from {path}")
    return frames


def synthetic(size: str, n_frames: int) -> list[np.ndarray]:
    """The ``baseline`` synthetic scene of ``size`` ("WxH") in memory."""
    from bgmix import synth

    width, height = (int(v) for v in size.lower().split("x"))
    scene = synth.make_scene("baseline", height=height, width=width, n_frames=n_frames,
                             seed=0, warmup=0, object_interval=10.0)
    return [np.ascontiguousarray(f) for f in scene.frames]


def one_pass(frames: list[np.ndarray], n_threads: int, warmup: int, flip: bool):
    """Per-frame seconds of (bgmix, MOG2) over the timed frames, and bgmix's model."""
    cv2.setNumThreads(n_threads)
    ours = BackgroundMixture(n_threads=n_threads)
    theirs = cv2.createBackgroundSubtractorMOG2()
    for frame in frames[:warmup]:
        ours.apply(frame)
        theirs.apply(frame)
    t_ours, t_theirs = [], []
    clock = time.perf_counter
    gc.disable()
    try:
        for i, frame in enumerate(frames[warmup:]):
            if (i % 2 == 0) != flip:
                start = clock()
                ours.apply(frame)
                middle = clock()
                theirs.apply(frame)
                end = clock()
                t_ours.append(middle - start)
                t_theirs.append(end - middle)
            else:
                start = clock()
                theirs.apply(frame)
                middle = clock()
                ours.apply(frame)
                end = clock()
                t_theirs.append(middle - start)
                t_ours.append(end - middle)
    finally:
        gc.enable()
    return t_ours, t_theirs, ours


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clips", default="all",
                        help="comma-separated name prefixes of ../shared/data/videos/*.avi, "
                             "'all' or 'none' (default: all)")
    parser.add_argument("--synthetic", default="",
                        help="comma-separated WxH sizes of the synthetic baseline scene")
    parser.add_argument("--synthetic-frames", type=int, default=150)
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--warmup", type=int, default=20)
    parser.add_argument("--max-frames", type=int, default=400)
    parser.add_argument("--modes", action="store_true",
                        help="print the histogram of live components per pixel")
    args = parser.parse_args(argv)

    inputs: list[tuple[str, list[np.ndarray]]] = []
    if args.clips != "none":
        wanted = None if args.clips == "all" else args.clips.split(",")
        paths = sorted(SHARED_VIDEOS.glob("*.avi")) if SHARED_VIDEOS.is_dir() else []
        if not paths:
            print(f"note: no clip under {SHARED_VIDEOS.resolve()}; skipped", file=sys.stderr)
        for path in paths:
            if wanted is None or any(path.name.startswith(w) for w in wanted):
                inputs.append((path.stem, decode(path, args.max_frames)))
    for size in filter(None, args.synthetic.split(",")):
        inputs.append((f"synthetic {size}", synthetic(size, args.synthetic_frames)))
    if not inputs:
        print("error: nothing to measure", file=sys.stderr)
        return 2

    threads = [int(t) for t in args.threads.split(",")]
    print("| input | frames | threads | bgmix ms | MOG2 ms | MOG2/bgmix | per-pass range |")
    print("|---|---|---|---|---|---|---|")
    for name, frames in inputs:
        for n_threads in threads:
            ours_ms, theirs_ms, ratios = [], [], []
            model = None
            for p in range(args.passes):
                t_ours, t_theirs, model = one_pass(frames, n_threads, args.warmup, p % 2 == 1)
                ours_ms.append(1e3 * statistics.median(t_ours))
                theirs_ms.append(1e3 * statistics.median(t_theirs))
                ratios.append(theirs_ms[-1] / ours_ms[-1])
            print(f"| {name} | {len(frames) - args.warmup} | {n_threads} "
                  f"| {statistics.median(ours_ms):.3f} | {statistics.median(theirs_ms):.3f} "
                  f"| {statistics.median(ratios):.2f}x | {min(ratios):.2f}-{max(ratios):.2f} |",
                  flush=True)
        if args.modes and model is not None:
            counts = np.bincount(model.n_components_.ravel(), minlength=model.n_components + 1)
            share = ", ".join(f"{k}: {100 * c / counts.sum():.1f}%" for k, c in enumerate(counts))
            print(f"  live components per pixel ({name}, last frame): {share}", file=sys.stderr)
    cv2.setNumThreads(-1)
    return 0


if __name__ == "__main__":
    sys.exit(main())
