#!/usr/bin/env python
"""Soak run: a long stream through the full pipeline, watching resident memory.

A leak of a few bytes a frame is invisible in tests and fatal in a camera
that runs for weeks. This script runs ``--frames`` frames of a generated scene
(:func:`bgmix.synth.iter_scene`, the ``"baseline"`` kind: textured background,
sensor noise, a flickering multi-colour sign and objects crossing all the time,
so the mixtures keep creating, pruning and re-sorting components) through
everything a deployment uses:

* :func:`bgmix.process` with post-processing (median 5, opening 3, min area
  20), the probability map and blobs;
* every cleaned mask written to a lossless mask video
  (:class:`bgmix.io.MaskVideoWriter`, FFV1 in ``.mkv``);
* every frame's blobs appended to a JSON-lines export
  (:class:`bgmix.export.JsonlWriter`).

It samples the process's resident set size (``VmRSS`` from
``/proc/self/status``; ``resource.getrusage`` peak elsewhere) every
``--every`` frames. The first ``--warmup`` frames are warm-up (Numba
compilation and cache loading, OpenCV's and FFmpeg's buffers, allocator
pools); the growth is the last sample minus the sample at the end of
warm-up. The least-squares slope of the samples after warm-up is printed
too (MB per 10,000 frames), as a leak shows as a steady slope.

At the end the model's state is checked against the mixture's invariants
(:func:`bgmix._validation.state_invariant_violations`: finite, weights
non-negative and summing to 1, variances within bounds) and each sampled
frame's raw and cleaned masks hold only 0, the shadow value and 255. The
script exits 1 when the growth is ``--max-growth-mb`` (5 MB) or more or an
invariant fails, 0 otherwise.

Usage::

    python scripts/soak.py --frames 100000 --size 320x240          # about 10-20 min
    python scripts/soak.py --frames 100000 --size 320x240 --every 1000 --out soak.csv
    python scripts/soak.py --frames 3000 --warmup 1000              # smoke test

Outputs (the mask video and the JSONL file) go to a temporary folder that is
removed at the end, unless ``--keep DIR`` names a folder to keep them in.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

import bgmix
from bgmix._validation import state_invariant_violations
from bgmix.export import JsonlWriter
from bgmix.io import MaskVideoWriter
from bgmix.postprocess import Postprocess
from bgmix.synth import iter_scene

MB = 1024 * 1024


def resident_bytes() -> int:
    """Current resident set size of this process, in bytes."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmRSS:"):
                    return int(line.split()[1]) * 1024
    except OSError:
        pass
    # Elsewhere only the peak is available (kB on Linux, bytes on macOS).
    peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    return peak if sys.platform == "darwin" else peak * 1024


def parse_size(text: str) -> tuple[int, int]:
    """``"320x240"`` -> ``(320, 240)`` (width, height)."""
    try:
        width, height = (int(v) for v in text.lower().split("x"))
    except ValueError:
        raise argparse.ArgumentTypeError(f"size must be WIDTHxHEIGHT, e.g. 320x240, got {text!r}")
    if width < 16 or height < 16:
        raise argparse.ArgumentTypeError(f"size must be at least 16x16, got {text!r}")
    return width, height


def positive_int(text: str) -> int:
    value = int(text)
    if value < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1, got {value}")
    return value


def mask_values_ok(mask: np.ndarray, shadow_value: int) -> bool:
    return bool(np.isin(mask, (0, shadow_value, 255)).all())


def slope_mb_per_10k(frames: list[int], rss: list[int]) -> float:
    if len(frames) < 2:
        return 0.0
    return float(np.polyfit(np.asarray(frames, float), np.asarray(rss, float) / MB, 1)[0]) * 1e4


def run(args: argparse.Namespace, work_dir: Path) -> int:
    width, height = args.size
    scene = iter_scene("baseline", height=height, width=width, n_frames=args.frames,
                       seed=args.seed)
    model = bgmix.BackgroundMixture(n_threads=args.threads)
    settings = Postprocess(median=5, opening=3, min_area=20)
    samples: list[tuple[int, float, int]] = []  # (frames done, seconds, RSS bytes)
    bad_masks: list[int] = []
    start = time.perf_counter()
    frames = (frame for frame, _ in scene)
    with MaskVideoWriter(work_dir / "masks.mkv", fps=scene.fps) as sink, \
            JsonlWriter(work_dir / "blobs.jsonl") as export, \
            bgmix.process(frames, model, postprocess=settings, probability=True,
                          blobs=True) as results:
        samples.append((0, 0.0, resident_bytes()))
        for result in results:
            sink.write(result.mask)
            export.write(result.index + 1, result.blobs)
            done = result.index + 1
            if done % args.every == 0 or done == args.frames:
                if not (mask_values_ok(result.raw_mask, model.shadow_value)
                        and mask_values_ok(result.mask, model.shadow_value)):
                    bad_masks.append(result.index)
                elapsed = time.perf_counter() - start
                samples.append((done, elapsed, resident_bytes()))
                if args.verbose:
                    print(f"frame {done:>7}  {elapsed:7.1f} s  RSS {samples[-1][2] / MB:8.2f} MB",
                          flush=True)
        stats = results.stats
    elapsed = time.perf_counter() - start

    if args.out:
        with open(args.out, "w", newline="", encoding="utf-8") as fh:
            writer = csv.writer(fh)
            writer.writerow(["frames", "seconds", "rss_bytes"])
            writer.writerows(samples)

    warm = [s for s in samples if s[0] >= args.warmup]
    if not warm:
        print(f"error: --warmup {args.warmup} leaves no sample after it", file=sys.stderr)
        return 2
    warm_rss = warm[0][2]
    final_rss = samples[-1][2]
    growth = final_rss - warm_rss
    peak_growth = max(s[2] for s in warm) - warm_rss
    slope = slope_mb_per_10k([s[0] for s in warm], [s[2] for s in warm])
    problems = state_invariant_violations(model)
    if bad_masks:
        problems.append(f"masks hold values other than 0, {model.shadow_value}, 255 at "
                        f"sampled frames {bad_masks[:5]}")
    if stats.frames_processed != args.frames:
        problems.append(f"processed {stats.frames_processed} frames, expected {args.frames}")

    print(f"soak: {args.frames} frames of {width}x{height}, {model.n_threads or 'all'} threads, "
          f"{elapsed:.0f} s ({args.frames / elapsed:.0f} frames/s, "
          f"{stats.mean_latency_s * 1e3:.2f} ms mean latency)")
    print(f"RSS at start        {samples[0][2] / MB:9.2f} MB")
    print(f"RSS after warm-up   {warm_rss / MB:9.2f} MB  (frame {warm[0][0]})")
    print(f"RSS at the end      {final_rss / MB:9.2f} MB  (frame {samples[-1][0]})")
    print(f"growth after warm-up {growth / MB:+8.2f} MB  (peak {peak_growth / MB:+.2f} MB, "
          f"slope {slope:+.3f} MB per 10,000 frames)")
    print(f"mask video {os.path.getsize(work_dir / 'masks.mkv') / MB:.1f} MB, "
          f"JSONL {os.path.getsize(work_dir / 'blobs.jsonl') / MB:.1f} MB")
    ok = True
    if growth >= args.max_growth_mb * MB:
        print(f"FAIL: resident memory grew {growth / MB:.2f} MB after warm-up "
              f"(limit {args.max_growth_mb:g} MB)")
        ok = False
    if problems:
        print("FAIL: state invariants broken at the end:")
        for problem in problems:
            print(f"  {problem}")
        ok = False
    else:
        print("state invariants hold at the end "
              f"(mean live components {model.n_components_.mean():.2f})")
    print("PASS" if ok else "FAIL")
    return 0 if ok else 1


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=positive_int, default=100_000)
    parser.add_argument("--size", type=parse_size, default=(320, 240), help="WIDTHxHEIGHT")
    parser.add_argument("--every", type=positive_int, default=1000,
                        help="sample RSS every N frames (default 1000)")
    parser.add_argument("--warmup", type=int, default=10_000,
                        help="frames of warm-up before the baseline sample (default 10000)")
    parser.add_argument("--max-growth-mb", type=float, default=5.0)
    parser.add_argument("--threads", type=positive_int, default=None,
                        help="kernel threads (default: all Numba sees)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--out", help="write the RSS samples to this CSV file")
    parser.add_argument("--keep", type=Path, help="keep the mask video and JSONL in this folder")
    parser.add_argument("-v", "--verbose", action="store_true", help="print every sample")
    args = parser.parse_args(argv)
    if args.warmup >= args.frames:
        parser.error(f"--warmup ({args.warmup}) must be less than --frames ({args.frames})")
    if args.keep is not None:
        args.keep.mkdir(parents=True, exist_ok=True)
        return run(args, args.keep)
    work_dir = Path(tempfile.mkdtemp(prefix="bgmix-soak-"))
    try:
        return run(args, work_dir)
    finally:
        shutil.rmtree(work_dir, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
