#!/usr/bin/env python
"""Kernel speed on real footage: bgmix's presets against OpenCV MOG2, side by side.

Inputs, each decoded into memory before any timing:

* every clip in ``../shared/data/videos`` and every CDnet input folder
  (``../shared/data/cdnet2014/*/*/input``), when ``../shared`` is present;
* the ``"baseline"`` synthetic scene of :mod:`bgmix.synth` (``--synthetic``).

For every input, preset and thread count, each *pass* starts two fresh
subtractors, ``bgmix.BackgroundMixture.from_preset(preset, n_threads=N)`` and
``cv2.createBackgroundSubtractorMOG2()`` under ``cv2.setNumThreads(N)``, feeds
them the first ``--warmup`` frames untimed, then times every ``apply`` of the
rest with ``time.perf_counter``, interleaved frame by frame, the order
alternating (OpenCV first on even frames, bgmix first on odd ones) so that the
machine's drift cancels. A pass gives the ratio of the two medians,
``MOG2 ms / bgmix ms`` (> 1: bgmix is faster); the table reports the median
over passes and their range, and for each preset and thread count the
geometric mean of the ratios over the real inputs and the smallest. The
``"mog2"`` preset's masks are compared with OpenCV's on every frame (they
must agree on every pixel).

The machine's noise is large (shared cores): quote ratios and medians, never
one absolute time.

It also measures the first ``apply`` of the default model,
``BackgroundMixture()``, in a fresh interpreter with an empty Numba cache
(the compilation a user waits for once; three times, median) and with the
cache filled (every later process), each in a subprocess.

Usage::

    python scripts/bench.py                          # every input, presets mog2 and full, 1 and 2 threads
    python scripts/bench.py --quick                  # a smoke run, seconds
    python scripts/bench.py --presets mog2 --threads 1 --inputs road,highway --passes 5
    python scripts/bench.py --markdown bench.md      # also write the tables as Markdown
"""

from __future__ import annotations

import argparse
import gc
import math
import os
import platform
import statistics
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numba
import numpy as np

REPO = Path(__file__).resolve().parent.parent
SHARED = REPO.parent / "shared" / "data"
VIDEO_SUFFIXES = {".avi", ".mp4", ".mkv", ".mov", ".webm"}


@dataclass
class Input:
    name: str
    frames: list[np.ndarray]
    real: bool

    @property
    def size(self) -> str:
        height, width = self.frames[0].shape[:2]
        return f"{width}x{height}"


@dataclass
class Row:
    input: Input
    preset: str
    threads: int
    ratios: list[float] = field(default_factory=list)
    ours_ms: list[float] = field(default_factory=list)
    theirs_ms: list[float] = field(default_factory=list)
    agreement: float | None = None

    @property
    def ratio(self) -> float:
        return statistics.median(self.ratios)


def decode_video(path: Path, max_frames: int) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while len(frames) < max_frames:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(np.ascontiguousarray(frame))
    capture.release()
    return frames


def decode_folder(folder: Path, max_frames: int) -> list[np.ndarray]:
    paths = sorted(p for p in folder.iterdir() if p.suffix.lower() in (".jpg", ".png"))
    return [cv2.imread(str(p)) for p in paths[:max_frames]]


def real_inputs(max_frames: int, wanted: list[str] | None) -> list[Input]:
    """Every shared clip and CDnet input folder (none when ../shared is absent)."""
    found: list[tuple[str, Path]] = []
    videos = SHARED / "videos"
    if videos.is_dir():
        found += [(p.stem, p) for p in sorted(videos.iterdir()) if p.suffix.lower() in VIDEO_SUFFIXES]
    cdnet = SHARED / "cdnet2014"
    if cdnet.is_dir():
        found += [(f"cdnet {p.parent.name}", p) for p in sorted(cdnet.glob("*/*/input"))]
    if not found:
        print(f"note: no real footage under {SHARED}; only the synthetic scene is measured",
              file=sys.stderr)
    inputs = []
    for name, path in found:
        if wanted and not any(w in name for w in wanted):
            continue
        frames = decode_folder(path, max_frames) if path.is_dir() else decode_video(path, max_frames)
        if len(frames) < 30:
            print(f"note: {path} gave {len(frames)} frames; skipped", file=sys.stderr)
            continue
        inputs.append(Input(name, frames, True))
    return inputs


def synthetic_input(size: str, n_frames: int) -> Input:
    from bgmix.synth import make_scene

    width, height = (int(v) for v in size.lower().split("x"))
    scene = make_scene("baseline", height=height, width=width, n_frames=n_frames, seed=0)
    return Input(f"synthetic {size}", [np.ascontiguousarray(f) for f in scene.frames], False)


def one_pass(frames: list[np.ndarray], preset: str, n_threads: int, warmup: int,
             flip: bool, compare: bool):
    """Per-frame seconds of (bgmix, MOG2) over the timed frames, and the mask agreement."""
    from bgmix import BackgroundMixture

    cv2.setNumThreads(n_threads)
    ours = BackgroundMixture.from_preset(preset, n_threads=n_threads)
    theirs = cv2.createBackgroundSubtractorMOG2()
    same = total = 0
    for frame in frames[:warmup]:
        a = ours.apply(frame)
        b = theirs.apply(frame)
        if compare:
            same += int(np.count_nonzero(a == b))
            total += a.size
    t_ours, t_theirs = [], []
    clock = time.perf_counter
    gc.disable()
    try:
        for i, frame in enumerate(frames[warmup:]):
            if (i % 2 == 0) != flip:
                start = clock()
                b = theirs.apply(frame)
                middle = clock()
                a = ours.apply(frame)
                end = clock()
                t_theirs.append(middle - start)
                t_ours.append(end - middle)
            else:
                start = clock()
                a = ours.apply(frame)
                middle = clock()
                b = theirs.apply(frame)
                end = clock()
                t_ours.append(middle - start)
                t_theirs.append(end - middle)
            if compare:
                same += int(np.count_nonzero(a == b))
                total += a.size
    finally:
        gc.enable()
    return t_ours, t_theirs, (same / total if compare and total else None)


def first_apply_seconds(cache_dir: str) -> float:
    """Seconds from a fresh interpreter's start to the end of the default
    model's first apply (import included), with Numba's cache in ``cache_dir``."""
    code = (
        "import time\n"
        "start = time.perf_counter()\n"
        "import numpy as np\n"
        "from bgmix import BackgroundMixture\n"
        "BackgroundMixture().apply(np.zeros((48, 64, 3), np.uint8))\n"
        "print(time.perf_counter() - start)\n"
    )
    env = {**os.environ, "NUMBA_CACHE_DIR": cache_dir}
    result = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                            text=True, check=True, cwd=REPO)
    return float(result.stdout.strip().splitlines()[-1])


def geomean(values: list[float]) -> float:
    return math.exp(sum(math.log(v) for v in values) / len(values)) if values else float("nan")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--presets", default="mog2,full", help="comma-separated presets")
    parser.add_argument("--threads", default="1,2", help="comma-separated thread counts")
    parser.add_argument("--inputs", default="", help="comma-separated name filters (default: all)")
    parser.add_argument("--frames", type=int, default=300, help="frames per input (default 300)")
    parser.add_argument("--warmup", type=int, default=30)
    parser.add_argument("--passes", type=int, default=3)
    parser.add_argument("--synthetic", default="640x480",
                        help="size of the synthetic scene, or 'none'")
    parser.add_argument("--no-cold", action="store_true", help="skip the first-apply measurement")
    parser.add_argument("--quick", action="store_true", help="80 frames, 1 pass, 1 thread")
    parser.add_argument("--markdown", type=Path, help="also write the tables here")
    args = parser.parse_args(argv)
    if args.quick:
        args.frames, args.passes, args.threads, args.warmup = 80, 1, "1", 20
    presets = [p for p in args.presets.split(",") if p]
    threads = [int(t) for t in args.threads.split(",") if t]
    if max(threads) > numba.config.NUMBA_NUM_THREADS:
        parser.error(f"at most {numba.config.NUMBA_NUM_THREADS} threads on this machine")
    wanted = [w for w in args.inputs.split(",") if w] or None

    inputs = real_inputs(args.frames, wanted)
    if args.synthetic != "none":
        inputs.append(synthetic_input(args.synthetic, args.frames))
    if not inputs:
        print("error: nothing to measure", file=sys.stderr)
        return 2

    import bgmix

    lines = [
        f"bgmix {bgmix.__version__}, OpenCV {cv2.__version__}, numba {numba.__version__}, "
        f"numpy {np.__version__}, Python {platform.python_version()}, "
        f"{os.cpu_count()} CPUs ({platform.machine()}); bgmix's update kernels run on its own "
        f"threads (bgmix._bands)",
        f"command: python scripts/bench.py {' '.join(argv if argv is not None else sys.argv[1:])}",
        "",
        "| input | size | preset | threads | bgmix ms | MOG2 ms | MOG2/bgmix | pass range | masks = OpenCV |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    print("\n".join(lines), flush=True)
    rows: list[Row] = []
    for item in inputs:
        for preset in presets:
            for n_threads in threads:
                row = Row(item, preset, n_threads)
                agreements = []
                for p in range(args.passes):
                    t_ours, t_theirs, agreement = one_pass(
                        item.frames, preset, n_threads, args.warmup, p % 2 == 1,
                        compare=preset == "mog2")
                    row.ours_ms.append(1e3 * statistics.median(t_ours))
                    row.theirs_ms.append(1e3 * statistics.median(t_theirs))
                    row.ratios.append(row.theirs_ms[-1] / row.ours_ms[-1])
                    if agreement is not None:
                        agreements.append(agreement)
                row.agreement = min(agreements) if agreements else None
                rows.append(row)
                agree = "" if row.agreement is None else f"{100 * row.agreement:.4f}%"
                line = (f"| {item.name} | {item.size} | {preset} | {n_threads} "
                        f"| {statistics.median(row.ours_ms):.3f} "
                        f"| {statistics.median(row.theirs_ms):.3f} | {row.ratio:.2f}x "
                        f"| {min(row.ratios):.2f}-{max(row.ratios):.2f} | {agree} |")
                print(line, flush=True)
                lines.append(line)
    cv2.setNumThreads(-1)

    summary = ["", "| preset | threads | real inputs | geometric mean MOG2/bgmix | slowest input |",
               "|---|---|---|---|---|"]
    for preset in presets:
        for n_threads in threads:
            real = [r for r in rows if r.preset == preset and r.threads == n_threads and r.input.real]
            if not real:
                continue
            slowest = min(real, key=lambda r: r.ratio)
            summary.append(f"| {preset} | {n_threads} | {len(real)} | "
                           f"{geomean([r.ratio for r in real]):.2f}x | "
                           f"{slowest.ratio:.2f}x ({slowest.input.name}) |")
    print("\n".join(summary), flush=True)
    lines += summary

    if not args.no_cold:
        colds = []
        for _ in range(3):
            with tempfile.TemporaryDirectory(prefix="bgmix-numba-cache-") as cache:
                colds.append(first_apply_seconds(cache))
                warm = first_apply_seconds(cache)
        cold_lines = ["", "| first apply of `BackgroundMixture()` in a new process, import included "
                      "| seconds (median of 3, range) |", "|---|---|",
                      f"| empty Numba cache (compiles) | {statistics.median(colds):.1f} "
                      f"({min(colds):.1f}-{max(colds):.1f}) |",
                      f"| cache filled (loads) | {warm:.2f} |"]
        print("\n".join(cold_lines), flush=True)
        lines += cold_lines

    failed = [r for r in rows if r.agreement is not None and r.agreement < 1.0]
    if args.markdown:
        args.markdown.write_text("\n".join(lines) + "\n")
    if failed:
        names = ", ".join(f"{r.input.name} ({100 * r.agreement:.4f}%)" for r in failed)
        print(f"error: the mog2 preset's masks differ from OpenCV's on {names}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
