#!/usr/bin/env python
"""What each covariance type and the EM bootstrap buy: quality, speed, cold starts.

Three tables, the figures of issue 4 in ``BENCHMARKS.md``:

1. **Quality per covariance type**: CDnet F-measure of ``BackgroundMixture``
   with ``covariance_type`` = spherical / diag / full / tied (every other
   parameter at its default) on every :mod:`bgmix.synth` scene kind and on the
   shared CDnet ``baseline/highway`` sequence when ``../shared/data`` exists,
   with OpenCV MOG2 on the same frames for reference.
2. **Throughput per covariance type** against OpenCV MOG2 at 1280x720, 1 and
   2 threads: the same frames of a synthetic street scene, methods timed in
   turn (A B A B ...), median seconds of a pass; the ratio is MOG2's time
   over bgmix's (> 1: bgmix is faster).
3. **Bootstrap against a cold start**: a scene whose first frame already
   holds moving objects (a synthetic street clip entered after its objects
   are on screen). A cold model takes the first frame as its background and
   reports ghosts where the objects were; a model bootstrapped by
   :meth:`BackgroundMixture.fit` on the first ``--bootstrap`` frames knows the
   background from the start. F over the first 200 frames, every frame scored.

Usage::

    python scripts/mixture_types.py --markdown /tmp/mixture_types.md
    python scripts/mixture_types.py --quick        # small sizes, a smoke run
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

import cv2
import numpy as np

import bgmix
from bgmix import BackgroundMixture, evaluation, synth
from bgmix.metrics import ConfusionCounts

REPO = Path(__file__).resolve().parents[1]
HIGHWAY = REPO.parent / "shared" / "data" / "cdnet2014" / "baseline" / "highway"
TYPES = ("spherical", "diag", "full", "tied")


def quality(kinds: list[str], size: tuple[int, int], workdir: Path) -> list[dict[str, Any]]:
    """F per covariance type (and OpenCV MOG2) on every scene, one decode per scene."""
    rows = []
    sequences = []
    for kind in kinds:
        scene = synth.make_scene(kind, height=size[1], width=size[0], seed=0)
        sequences.append((f"synthetic {kind}", synth.write_cdnet(scene, workdir / kind)))
    if HIGHWAY.is_dir():
        sequences.append(("CDnet highway", HIGHWAY))
    else:
        print(f"{HIGHWAY} is absent: the real sequence is left out", file=sys.stderr)
    for label, folder in sequences:
        methods = [evaluation.make_method({"covariance_type": t}, name=f"bgmix {t}", n_threads=1)
                   for t in TYPES]
        # A background sample's squared Mahalanobis distance averages C (3) under
        # diag/full/tied, 1 under spherical: the same false-alarm rate needs C x var_threshold.
        methods += [evaluation.make_method({"covariance_type": t, "var_threshold": 48.0},
                                           name=f"bgmix {t} 48", n_threads=1)
                    for t in TYPES[1:]]
        methods += [evaluation.make_method("mog2")]
        results = evaluation.evaluate_methods_on_sequence(methods, folder, n_threads=1)
        for result in results:
            rows.append({"sequence": label, "method": result.method, "f_measure": result.f_measure,
                         "ms_per_frame": result.ms_per_frame_median})
            print(f"{label:28s} {result.method:16s} F={result.f_measure:.3f}", file=sys.stderr)
    return rows


def throughput(size: tuple[int, int], n_frames: int, passes: int,
               threads: list[int]) -> list[dict[str, Any]]:
    """Median seconds per pass of each covariance type and of MOG2, interleaved."""
    width, height = size
    scene = synth.make_scene("baseline", height=height, width=width, n_frames=n_frames + 30,
                             seed=0, warmup=0, object_interval=10.0)
    warm, frames = scene.frames[:30], scene.frames[30:]
    rows = []
    for n_threads in threads:
        cv2.setNumThreads(n_threads)
        times: dict[str, list[float]] = {name: [] for name in (*TYPES, "mog2")}
        makers = {t: (lambda t=t: BackgroundMixture(covariance_type=t, n_threads=n_threads))
                  for t in TYPES}
        makers["mog2"] = cv2.createBackgroundSubtractorMOG2
        for _ in range(passes):
            for name, make in makers.items():
                model = make()
                for frame in warm:  # compile, allocate, settle the state
                    model.apply(frame)
                start = time.perf_counter()
                for frame in frames:
                    model.apply(frame)
                times[name].append(time.perf_counter() - start)
        mog2 = statistics.median(times["mog2"])
        for t in TYPES:
            median = statistics.median(times[t])
            rows.append({"threads": n_threads, "type": t, "ms_per_frame": 1e3 * median / len(frames),
                         "mog2_ms_per_frame": 1e3 * mog2 / len(frames), "ratio": mog2 / median})
            print(f"{n_threads} thread(s) {t:9s} {mog2 / median:.2f}x MOG2", file=sys.stderr)
    cv2.setNumThreads(-1)
    return rows


def _score(masks: list[np.ndarray], truth: np.ndarray) -> float:
    counts = sum((ConfusionCounts.from_masks(mask, gt) for mask, gt in zip(masks, truth)),
                 ConfusionCounts())
    return counts.f_measure


def bootstrap(size: tuple[int, int], n_frames: int, n_bootstrap: int,
              types: list[str]) -> list[dict[str, Any]]:
    """F on the first ``n_frames`` of a clip that opens with objects in view."""
    width, height = size
    skip = 60  # objects enter from frame 0; by frame 60 several are on screen
    scene = synth.make_scene("baseline", height=height, width=width, n_frames=skip + n_frames,
                             seed=1, warmup=0, object_interval=8.0)
    frames, truth = scene.frames[skip:], scene.ground_truth[skip:]
    covered = float((truth[0] == 255).mean())
    rows = []
    for t in types:
        cold = BackgroundMixture(covariance_type=t)
        cold_masks = [cold.apply(frame).copy() for frame in frames]
        warm = BackgroundMixture(covariance_type=t)
        start = time.perf_counter()
        warm.fit(frames[:n_bootstrap])
        fit_s = time.perf_counter() - start
        warm_masks = [warm.apply(frame).copy() for frame in frames]
        rows.append({"type": t, "cold_f": _score(cold_masks, truth),
                     "bootstrap_f": _score(warm_masks, truth), "fit_s": fit_s,
                     "first_frame_motion": covered})
        print(f"bootstrap {t:9s} cold F={rows[-1]['cold_f']:.3f} "
              f"bootstrapped F={rows[-1]['bootstrap_f']:.3f}", file=sys.stderr)
    return rows


def markdown(quality_rows, speed_rows, boot_rows, args: argparse.Namespace, command: str) -> str:
    out = [f"Command: `{command}` (bgmix {bgmix.__version__}, OpenCV {cv2.__version__}).", ""]
    if quality_rows:
        scaled = [f"{t} 48" for t in TYPES[1:]]
        types = [*TYPES, *scaled]
        out += ["F-measure per covariance type (defaults otherwise, var_threshold 16; \"48\": "
                "var_threshold 48, the same false-alarm rate as 16 under spherical; 1 thread):",
                "", "| sequence | " + " | ".join(types) + " | OpenCV MOG2 |",
                "|---|" + "---:|" * (len(types) + 1)]
        for sequence in dict.fromkeys(r["sequence"] for r in quality_rows):
            f = {r["method"]: r["f_measure"] for r in quality_rows if r["sequence"] == sequence}
            out.append(f"| {sequence} | "
                       + " | ".join(f"{f[f'bgmix {t}']:.3f}" for t in types)
                       + f" | {f['mog2']:.3f} |")
        out.append("")
    if speed_rows:
        w, h = args.speed_size
        out += [f"Throughput at {w}x{h} (synthetic street, {args.speed_frames} frames a pass, "
                f"median of {args.passes} interleaved passes); ratio = OpenCV MOG2 time / bgmix "
                "time (> 1: bgmix faster):", "",
                "| threads | " + " | ".join(TYPES) + " |", "|---:|" + "---:|" * len(TYPES)]
        for n in dict.fromkeys(r["threads"] for r in speed_rows):
            ratio = {r["type"]: r["ratio"] for r in speed_rows if r["threads"] == n}
            out.append(f"| {n} | " + " | ".join(f"{ratio[t]:.2f}x" for t in TYPES) + " |")
        out.append("")
    if boot_rows:
        out += [f"Bootstrap against cold start: first {args.boot_frames} frames of a street clip "
                f"that opens with {100 * boot_rows[0]['first_frame_motion']:.1f}% of its first "
                f"frame covered by moving objects; `fit` on its first {args.bootstrap} frames, "
                "then `apply` on every frame. F over every frame:", "",
                "| covariance type | cold start F | bootstrapped F | fit time (s) |",
                "|---|---:|---:|---:|"]
        for r in boot_rows:
            out.append(f"| {r['type']} | {r['cold_f']:.3f} | {r['bootstrap_f']:.3f} | {r['fit_s']:.2f} |")
        out.append("")
    return "\n".join(out)


def _size(text: str) -> tuple[int, int]:
    w, _, h = text.lower().partition("x")
    return int(w), int(h)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--kinds", default=",".join(synth.scene_kinds()),
                        help="synthetic scene kinds for the quality table (comma-separated)")
    parser.add_argument("--size", type=_size, default=(320, 240), help="quality scene size WxH")
    parser.add_argument("--speed-size", type=_size, default=(1280, 720))
    parser.add_argument("--speed-frames", type=int, default=60)
    parser.add_argument("--passes", type=int, default=5)
    parser.add_argument("--threads", default="1,2", help="thread counts for the speed table")
    parser.add_argument("--boot-frames", type=int, default=200)
    parser.add_argument("--bootstrap", type=int, default=60, help="frames given to fit")
    parser.add_argument("--only", default="quality,speed,bootstrap",
                        help="which tables (comma-separated)")
    parser.add_argument("--quick", action="store_true", help="small sizes: a smoke run")
    parser.add_argument("--markdown", type=Path, help="write the tables here")
    args = parser.parse_args(argv)
    if args.quick:
        args.kinds, args.size, args.speed_size = "baseline", (160, 120), (320, 240)
        args.speed_frames, args.passes, args.threads = 20, 2, "1"
        args.boot_frames, args.bootstrap = 60, 30
    only = set(args.only.split(","))
    threads = [int(t) for t in args.threads.split(",")]
    with tempfile.TemporaryDirectory(prefix="bgmix-types-") as tmp:
        quality_rows = (quality(args.kinds.split(","), args.size, Path(tmp))
                        if "quality" in only else [])
    speed_rows = (throughput(args.speed_size, args.speed_frames, args.passes, threads)
                  if "speed" in only else [])
    boot_rows = bootstrap(args.size, args.boot_frames, args.bootstrap, list(TYPES)) \
        if "bootstrap" in only else []
    command = "python scripts/mixture_types.py " + " ".join(argv if argv is not None else sys.argv[1:])
    text = markdown(quality_rows, speed_rows, boot_rows, args, command.strip())
    print(text)
    if args.markdown:
        args.markdown.write_text(text)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
