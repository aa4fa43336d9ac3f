"""Per-covariance-type timing of ``BackgroundMixture.apply``, with and without
``log_likelihood=``, and of ``score_samples``.

Frames are decoded (or rendered) into memory first. For every covariance type
a fresh model learns the first ``--warmup`` frames untimed; then every timed
frame is applied once plainly and once with ``log_likelihood=`` on two models
kept in lockstep (same frames, same state), alternating which goes first, so
that machine drift cancels; ``score_samples`` is timed on the plain model.
Reports median ms per call and the ratio with / without.

Usage (from the repository root)::

    python scripts/bench_score.py --clip ../shared/data/videos/road_640x360.avi --frames 150
    python scripts/bench_score.py --synthetic 640x480 --frames 100
    python scripts/bench_score.py --types spherical --no-log-likelihood   # A/B of the update alone
"""

from __future__ import annotations

import argparse
import json
import statistics
import time

import cv2
import numpy as np

from bgmix import BackgroundMixture


def load_frames(args) -> tuple[str, list[np.ndarray]]:
    if args.clip:
        capture = cv2.VideoCapture(args.clip)
        frames = []
        while len(frames) < args.frames:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
        if not frames:
            raise SystemExit(f"{args.clip}: no frame could be read")
        return args.clip, frames
    from bgmix.synth import make_scene

    width, height = (int(v) for v in args.synthetic.split("x"))
    scene = make_scene("baseline", height=height, width=width, n_frames=args.frames, seed=0)
    return f"synthetic baseline {args.synthetic}", list(scene.frames)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--clip", help="video file (default: a synthetic scene)")
    parser.add_argument("--synthetic", default="640x480", help="WxH of the synthetic scene")
    parser.add_argument("--frames", type=int, default=100)
    parser.add_argument("--warmup", type=int, default=25)
    parser.add_argument("--types", default="spherical,diag,full,tied")
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--no-log-likelihood", action="store_true",
                        help="time plain apply only (works with bgmix versions without it)")
    parser.add_argument("--json", help="also write the figures to this file")
    args = parser.parse_args()
    name, frames = load_frames(args)
    height, width = frames[0].shape[:2]
    print(f"{name}: {len(frames)} frames of {width}x{height}, {args.warmup} untimed, "
          f"{args.threads} thread(s)")
    results = {}
    for covariance_type in args.types.split(","):
        plain = BackgroundMixture(covariance_type=covariance_type, n_threads=args.threads)
        scored = BackgroundMixture(covariance_type=covariance_type, n_threads=args.threads)
        log_lik = np.empty((height, width), np.float32)
        plain_ms, scored_ms, score_ms = [], [], []
        for t, frame in enumerate(frames):
            timed = t >= args.warmup
            order = (0, 1) if t % 2 else (1, 0)
            for which in order:
                if which == 0:
                    start = time.perf_counter()
                    plain.apply(frame)
                    elapsed = time.perf_counter() - start
                    if timed:
                        plain_ms.append(elapsed * 1e3)
                elif not args.no_log_likelihood:
                    start = time.perf_counter()
                    scored.apply(frame, log_likelihood=log_lik)
                    elapsed = time.perf_counter() - start
                    if timed:
                        scored_ms.append(elapsed * 1e3)
            if timed and not args.no_log_likelihood:
                start = time.perf_counter()
                plain.score_samples(frame, out=log_lik)
                score_ms.append((time.perf_counter() - start) * 1e3)
        row = {"apply_ms": statistics.median(plain_ms)}
        line = f"{covariance_type:>9}: apply {row['apply_ms']:7.2f} ms"
        if not args.no_log_likelihood:
            row["apply_log_likelihood_ms"] = statistics.median(scored_ms)
            row["score_samples_ms"] = statistics.median(score_ms)
            row["ratio"] = row["apply_log_likelihood_ms"] / row["apply_ms"]
            line += (f" | with log_likelihood= {row['apply_log_likelihood_ms']:7.2f} ms "
                     f"(x{row['ratio']:.3f}) | score_samples {row['score_samples_ms']:7.2f} ms")
        print(line, flush=True)
        results[covariance_type] = row
    if args.json:
        with open(args.json, "w") as fh:
            json.dump({"input": name, "threads": args.threads, "results": results}, fh, indent=1)


if __name__ == "__main__":
    main()
