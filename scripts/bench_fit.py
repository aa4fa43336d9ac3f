"""Time ``BackgroundMixture.fit`` (EM bootstrap) at 320x240, N=100 frames.

Frames: the first 100 of CDnet 2014 baseline/highway (../shared), or, when
absent, a synthetic 320x240 scene (noisy background, a flickering band, a
moving block). Reports the cold first call (compilation, or loading Numba's
cache) and the median of 3 warm calls per configuration.

    python scripts/bench_fit.py [--repeats 3]
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import cv2
import numpy as np

from bgmix import BackgroundMixture

HIGHWAY = Path(__file__).resolve().parents[2] / "shared" / "data" / "cdnet2014" / \
    "baseline" / "highway" / "input"


def frames_320x240(n: int = 100) -> tuple[np.ndarray, str]:
    files = sorted(HIGHWAY.glob("in*.jpg"))[:n]
    if len(files) == n:
        return np.stack([cv2.imread(str(f)) for f in files]), "CDnet highway in000001-100"
    rng = np.random.default_rng(0)
    background = rng.uniform(40, 200, (240, 320, 3))
    frames = background + rng.normal(0, 3, (n, 240, 320, 3))
    frames[::2, 100:140] += 40  # a flickering band: two modes
    for t in range(n):
        frames[t, 180:200, 3 * t: 3 * t + 20] = (20, 230, 20)
    return np.clip(frames, 0, 255).astype(np.uint8), "synthetic"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args()
    frames, source = frames_320x240()
    print(f"frames: {frames.shape} {frames.dtype} ({source})")
    for covariance_type in ("spherical", "full"):
        for k in (3, 5):
            for n_components in (None, "bic"):
                model = BackgroundMixture(n_components=k, covariance_type=covariance_type)
                start = time.perf_counter()
                model.fit(frames, n_components=n_components, random_state=0)
                cold = time.perf_counter() - start
                times = []
                for _ in range(args.repeats):
                    start = time.perf_counter()
                    model.fit(frames, n_components=n_components, random_state=0)
                    times.append(time.perf_counter() - start)
                counts = np.bincount(model.n_components_.ravel(), minlength=k + 1)
                label = "bic" if n_components == "bic" else f"K={k}"
                print(f"{covariance_type:9s} K<={k} {label:4s} first call {cold:6.2f} s  "
                      f"median {statistics.median(times):6.2f} s  "
                      f"(runs {', '.join(f'{t:.2f}' for t in times)})  "
                      f"live components per pixel {counts[1:].tolist()}  "
                      f"mean log-lik {float(model.fit_log_likelihood_.mean()):.3f}")


if __name__ == "__main__":
    main()
