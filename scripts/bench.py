#!/usr/bin/env python
"""Side-by-side speed benchmark: bgmix against OpenCV MOG2, in one process.

Both subtractors see the same in-memory frames in the same order:

* OpenCV: ``cv2.createBackgroundSubtractorMOG2`` with bgmix's default
  parameters (which are OpenCV's), threads set with ``cv2.setNumThreads``;
* bgmix: ``bgmix.BackgroundMixture(n_threads=N)`` with its defaults.

Inputs are the ``"baseline"`` synthetic scene of :mod:`bgmix.synth` at several
sizes (rendered into memory before any timing) and, when present, the shared
real clip ``../shared/data/videos/road_640x360.avi`` (decoded into memory
first; skipped with a note when absent).

For every input and thread count, each *pass* starts two fresh models, feeds
the first ``--warmup`` frames to both untimed (the background is learned), then
times every ``apply`` of the remaining frames with ``time.perf_counter``. The
two methods are interleaved frame by frame and the order alternates (OpenCV
then bgmix on one frame, bgmix then OpenCV on the next) so that drift of the
machine cancels. The masks of the two are compared on every frame, warm-up
included. bgmix performs MOG2's float32 operations, so they agree except at
pixels whose mixture is full when a new component replaces the weakest (bgmix
renormalises the other weights there); the pixel agreement is reported and
the script fails below the parity contract of 99.5%.

The table reports median milliseconds per frame over all timed frames of all
passes, the throughput those medians give (Mpix/s), the speed-up
``OpenCV median / bgmix median`` (> 1: bgmix is faster), the spread of the
per-pass speed-ups, and the share of mask pixels on which the two agree.

It also reports the bytes of model state per pixel and the cost of the first
call in a fresh interpreter, with a cold Numba cache (compilation) and a warm
one (loaded from the cache), each measured in a subprocess.

Usage::

    python scripts/bench.py                       # default run, a few minutes
    python scripts/bench.py --markdown BENCHMARKS.table.md
    python scripts/bench.py --quick               # smoke test, seconds
    python scripts/bench.py --sizes 640x480 --threads 1 --frames 200 --passes 5
"""

from __future__ import annotations

import argparse
import gc
import json
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

import bgmix
from bgmix import BackgroundMixture
from bgmix.synth import iter_scene

REPO = Path(__file__).resolve().parent.parent
DEFAULT_CLIP = REPO.parent / "shared" / "data" / "videos" / "road_640x360.avi"
OPENCV_BYTES_PER_PIXEL = 5 * (2 + 3) * 4 + 1
"""OpenCV MOG2, K=5, C=3: K x {weight, variance, C means} float32 + a uint8 mode count."""


# --------------------------------------------------------------------------- inputs
def parse_sizes(text: str) -> list[tuple[int, int]]:
    """``"640x480,1280x720"`` -> ``[(480, 640), (720, 1280)]`` as (height, width)."""
    sizes = []
    for item in text.split(","):
        item = item.strip().lower()
        if not item:
            continue
        try:
            width, height = (int(v) for v in item.split("x"))
        except ValueError:
            raise argparse.ArgumentTypeError(f"bad size {item!r}; expected WIDTHxHEIGHT") from None
        if width < 16 or height < 16:
            raise argparse.ArgumentTypeError(f"size {item!r} is too small (16x16 at least)")
        sizes.append((height, width))
    return sizes


def parse_threads(text: str) -> list[int]:
    try:
        threads = [int(v) for v in text.split(",") if v.strip()]
    except ValueError:
        raise argparse.ArgumentTypeError(f"bad thread list {text!r}; expected e.g. 1,2") from None
    if not threads or min(threads) < 1:
        raise argparse.ArgumentTypeError(f"thread counts must be >= 1, got {text!r}")
    return threads


def render_scene(height: int, width: int, n_frames: int) -> np.ndarray:
    """The baseline scene's frames, (N, H, W, 3) uint8, rendered into memory."""
    frames = np.empty((n_frames, height, width, 3), np.uint8)
    stream = iter_scene("baseline", height=height, width=width, n_frames=n_frames, seed=0)
    for i, (frame, _gt) in enumerate(stream):
        frames[i] = frame
    return frames


def decode_clip(path: Path, max_frames: int | None) -> np.ndarray | None:
    """Every frame of a video (up to ``max_frames``), (N, H, W, 3) uint8, or None."""
    capture = cv2.VideoCapture(str(path))
    if not capture.isOpened():
        return None
    frames = []
    try:
        while max_frames is None or len(frames) < max_frames:
            ok, frame = capture.read()
            if not ok:
                break
            frames.append(frame)
    finally:
        capture.release()
    return np.stack(frames) if frames else None


# --------------------------------------------------------------------------- timing
def make_opencv(params: dict) -> cv2.BackgroundSubtractorMOG2:
    """OpenCV MOG2 with exactly bgmix's parameters."""
    mog = cv2.createBackgroundSubtractorMOG2(
        history=int(params["history"]), varThreshold=float(params["var_threshold"]),
        detectShadows=bool(params["detect_shadows"]))
    mog.setNMixtures(int(params["n_components"]))
    mog.setVarThresholdGen(float(params["var_threshold_gen"]))
    mog.setBackgroundRatio(float(params["background_ratio"]))
    mog.setVarInit(float(params["var_init"]))
    mog.setVarMin(float(params["var_min"]))
    mog.setVarMax(float(params["var_max"]))
    mog.setComplexityReductionThreshold(float(params["complexity_reduction"]))
    mog.setShadowValue(int(params["shadow_value"]))
    mog.setShadowThreshold(float(params["shadow_threshold"]))
    return mog


@dataclass
class Row:
    name: str
    height: int
    width: int
    threads: int
    n_frames: int
    warmup: int
    passes: int
    t_cv: list[float] = field(default_factory=list)     # seconds, timed frames, all passes
    t_bg: list[float] = field(default_factory=list)
    pass_ratios: list[float] = field(default_factory=list)
    identical: int = 0
    compared: int = 0
    mismatches: list[str] = field(default_factory=list)
    diff_pixels: int = 0                                # differing mask pixels, all frames
    worst: tuple[int, int, int] = (0, -1, -1)           # (pixels, pass, frame)
    state_bytes_per_pixel: float = float("nan")
    a_cv: list[float] = field(default_factory=list)     # seconds, each method alone
    a_bg: list[float] = field(default_factory=list)
    other_load: float = float("nan")                    # cores busy outside this process

    @property
    def mpix(self) -> float:
        return self.height * self.width / 1e6

    @property
    def ms_cv(self) -> float:
        return 1e3 * statistics.median(self.t_cv)

    @property
    def ms_bg(self) -> float:
        return 1e3 * statistics.median(self.t_bg)

    @property
    def ratio(self) -> float:
        return self.ms_cv / self.ms_bg

    @property
    def alone_ms_cv(self) -> float:
        return 1e3 * statistics.median(self.a_cv)

    @property
    def alone_ms_bg(self) -> float:
        return 1e3 * statistics.median(self.a_bg)


class CpuMeter:
    """Average number of cores kept busy by other processes (and the hypervisor).

    Busy time of the whole machine from ``/proc/stat`` (steal included) minus
    this process's CPU time, divided by the wall time. NaN where unavailable.
    """

    def __init__(self) -> None:
        self.start = self._sample()

    @staticmethod
    def _sample() -> tuple[float, float, float] | None:
        try:
            fields = Path("/proc/stat").read_text().splitlines()[0].split()[1:]
            ticks = [int(v) for v in fields]
        except (OSError, ValueError, IndexError):
            return None
        idle = ticks[3] + (ticks[4] if len(ticks) > 4 else 0)
        busy = sum(ticks[:8]) - idle          # user..steal; guest is counted in user
        own = os.times()
        return busy / os.sysconf("SC_CLK_TCK"), own.user + own.system, time.perf_counter()

    def other_cores(self) -> float:
        end = self._sample()
        if self.start is None or end is None or end[2] <= self.start[2]:
            return float("nan")
        busy, own, wall = (e - s for e, s in zip(end, self.start))
        return max(0.0, (busy - own) / wall)


def wait_quiet(max_wait: float, threshold: float = 0.25, sample: float = 1.0) -> float:
    """Wait (up to ``max_wait`` s) for a second in which other processes keep fewer
    than ``threshold`` cores busy; return the load of the last sample."""
    deadline = time.perf_counter() + max_wait
    while True:
        meter = CpuMeter()
        time.sleep(sample)
        load = meter.other_cores()
        if not load >= threshold or time.perf_counter() >= deadline:
            return load


def time_alone(model: object, frames: np.ndarray, warmup: int) -> list[float]:
    """Seconds per ``apply`` of one model fed every frame on its own (no interleaving)."""
    times = []
    gc.collect()
    gc.disable()
    try:
        for t in range(len(frames)):
            s0 = time.perf_counter()
            model.apply(frames[t])
            s1 = time.perf_counter()
            if t >= warmup:
                times.append(s1 - s0)
    finally:
        gc.enable()
    return times


def bench(name: str, frames: np.ndarray, threads: int, warmup: int, passes: int) -> Row:
    """Time both subtractors on ``frames`` with ``threads`` threads.

    Every pass runs the interleaved measurement (the main result, with the mask
    comparison), then each method alone over all frames with fresh models, in
    an order that alternates from pass to pass. The alone timings show what the
    interleaving costs: with several threads, one library's idle workers still
    spin for a while after its call and take cores from the other's call.
    """
    n_frames, height, width = frames.shape[:3]
    row = Row(name, height, width, threads, n_frames, warmup, passes)
    cv2.setNumThreads(threads)
    meter = CpuMeter()
    for p in range(passes):
        bg = BackgroundMixture(n_threads=threads)
        cv = make_opencv(bg.get_params())
        t_cv: list[float] = []
        t_bg: list[float] = []
        gc.collect()
        gc.disable()
        try:
            for t in range(n_frames):
                frame = frames[t]
                # Alternate which method runs first; shift the pattern every pass.
                if (t + p) % 2 == 0:
                    s0 = time.perf_counter()
                    m_cv = cv.apply(frame)
                    s1 = time.perf_counter()
                    m_bg = bg.apply(frame)
                    s2 = time.perf_counter()
                    d_cv, d_bg = s1 - s0, s2 - s1
                else:
                    s0 = time.perf_counter()
                    m_bg = bg.apply(frame)
                    s1 = time.perf_counter()
                    m_cv = cv.apply(frame)
                    s2 = time.perf_counter()
                    d_bg, d_cv = s1 - s0, s2 - s1
                if t >= warmup:
                    t_cv.append(d_cv)
                    t_bg.append(d_bg)
                row.compared += 1
                if np.array_equal(m_cv, m_bg):
                    row.identical += 1
                    continue
                diff = m_cv != m_bg
                n_diff = int(diff.sum())
                row.diff_pixels += n_diff
                row.worst = max(row.worst, (n_diff, p, t))
                if len(row.mismatches) < 10:
                    ys, xs = np.nonzero(diff)
                    row.mismatches.append(
                        f"{name} {width}x{height} threads={threads} pass={p} frame={t} "
                        f"(0-based): {n_diff} pixels differ, first at (y={ys[0]}, "
                        f"x={xs[0]}): opencv={int(m_cv[ys[0], xs[0]])} "
                        f"bgmix={int(m_bg[ys[0], xs[0]])}")
        finally:
            gc.enable()
        row.t_cv += t_cv
        row.t_bg += t_bg
        row.pass_ratios.append(statistics.median(t_cv) / statistics.median(t_bg))
        if p == 0:
            state = sum(getattr(bg, a).nbytes
                        for a in ("weights_", "variances_", "means_", "n_components_"))
            row.state_bytes_per_pixel = state / (height * width)
        del bg, cv
        alone = [("cv", lambda: make_opencv(BackgroundMixture().get_params())),
                 ("bg", lambda: BackgroundMixture(n_threads=threads))]
        for which, factory in (alone if p % 2 == 0 else alone[::-1]):
            times = time_alone(factory(), frames, warmup)
            (row.a_cv if which == "cv" else row.a_bg).extend(times)
    row.other_load = meter.other_cores()
    return row


# --------------------------------------------------------------------------- first call
_FIRST_CALL = r"""
import json, time
t0 = time.perf_counter()
import bgmix
t1 = time.perf_counter()
import numpy as np
frame = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
model = bgmix.BackgroundMixture()
t2 = time.perf_counter()
model.apply(frame)
t3 = time.perf_counter()
model.apply(frame)
t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_apply_s": t3 - t2, "second_apply_s": t4 - t3}))
"""

_FIRST_CALL_CV = r"""
import json, time
t0 = time.perf_counter()
import cv2
t1 = time.perf_counter()
import numpy as np
frame = np.random.default_rng(0).integers(0, 256, (240, 320, 3), dtype=np.uint8)
mog = cv2.createBackgroundSubtractorMOG2()
t2 = time.perf_counter()
mog.apply(frame)
t3 = time.perf_counter()
mog.apply(frame)
t4 = time.perf_counter()
print(json.dumps({"import_s": t1 - t0, "first_apply_s": t3 - t2, "second_apply_s": t4 - t3}))
"""


def run_child(code: str, cache_dir: str | None) -> dict:
    env = dict(os.environ)
    env.pop("NUMBA_DISABLE_JIT", None)
    if cache_dir is not None:
        env["NUMBA_CACHE_DIR"] = cache_dir
    done = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True,
                          text=True, check=False, cwd=tempfile.gettempdir())
    if done.returncode != 0:
        raise RuntimeError(f"first-call subprocess failed ({done.returncode}):\n{done.stderr}")
    return json.loads(done.stdout.strip().splitlines()[-1])


def first_call(n_warm: int) -> dict:
    """Cold (fresh NUMBA_CACHE_DIR) and warm (same dir again) first calls, in subprocesses."""
    with tempfile.TemporaryDirectory(prefix="bgmix-bench-numba-") as cache:
        cold = run_child(_FIRST_CALL, cache)
        warm_runs = [run_child(_FIRST_CALL, cache) for _ in range(n_warm)]
    warm = {k: statistics.median(r[k] for r in warm_runs) for k in warm_runs[0]}
    opencv_runs = [run_child(_FIRST_CALL_CV, None) for _ in range(n_warm)]
    opencv = {k: statistics.median(r[k] for r in opencv_runs) for k in opencv_runs[0]}
    return {"cold": cold, "warm": warm, "opencv": opencv, "n_warm": n_warm}


# --------------------------------------------------------------------------- report
def cpu_model() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def opencv_parallel_framework() -> str:
    for line in cv2.getBuildInformation().splitlines():
        if "Parallel framework" in line:
            return line.split(":", 1)[1].strip()
    return "unknown"


def git_revision() -> str:
    try:
        rev = subprocess.run(["git", "rev-parse", "--short", "HEAD"], cwd=REPO,
                             capture_output=True, text=True, check=True).stdout.strip()
        dirty = subprocess.run(["git", "status", "--porcelain", "--untracked-files=no"],
                               cwd=REPO, capture_output=True, text=True,
                               check=True).stdout.rstrip()
        paths = [line[3:] for line in dirty.splitlines()]
        if not paths:
            return rev
        more = f" and {len(paths) - 5} more" if len(paths) > 5 else ""
        return f"{rev} + uncommitted changes to {', '.join(paths[:5])}{more}"
    except (OSError, subprocess.CalledProcessError):
        return "unknown"


def machine_info() -> str:
    try:
        affinity = len(os.sched_getaffinity(0))
    except AttributeError:
        affinity = os.cpu_count()
    try:
        layer = numba.threading_layer()
    except ValueError:
        layer = "not yet chosen"
    return (f"{cpu_model()}, {os.cpu_count()} logical CPUs ({affinity} usable); "
            f"Python {platform.python_version()}, numpy {np.__version__}, "
            f"numba {numba.__version__} (threading layer {layer}, "
            f"NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}), "
            f"OpenCV {cv2.__version__} (parallel framework {opencv_parallel_framework()}); "
            f"bgmix {bgmix.__version__} at {git_revision()}")


PARITY_CONTRACT = 0.995
"""Least share of mask pixels on which bgmix and OpenCV must agree."""


def agreement(row: Row) -> float:
    """Share of mask pixels, over all compared frames, where bgmix equals OpenCV."""
    return 1.0 - row.diff_pixels / (row.compared * row.width * row.height)


def speed_table(rows: list[Row]) -> str:
    lines = [
        "| input | resolution | threads | OpenCV ms/frame | bgmix ms/frame | OpenCV Mpix/s "
        "| bgmix Mpix/s | speed-up (OpenCV / bgmix) | per-pass speed-up | mask pixels agreeing "
        "| other CPU load |",
        "|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        spread = (f"{min(r.pass_ratios):.2f}-{max(r.pass_ratios):.2f}"
                  if len(r.pass_ratios) > 1 else f"{r.pass_ratios[0]:.2f}")
        lines.append(
            f"| {r.name} | {r.width}x{r.height} | {r.threads} | {r.ms_cv:.2f} | {r.ms_bg:.2f} "
            f"| {r.mpix / r.ms_cv * 1e3:.0f} | {r.mpix / r.ms_bg * 1e3:.0f} | {r.ratio:.2f}x "
            f"| {spread} | {agreement(r):.4%} "
            f"| {r.other_load:.2f} |")
    return "\n".join(lines)


def alone_table(rows: list[Row]) -> str:
    lines = [
        "| input | resolution | threads | OpenCV ms/frame | bgmix ms/frame | OpenCV Mpix/s "
        "| bgmix Mpix/s | speed-up (OpenCV / bgmix) |",
        "|---|---|---:|---:|---:|---:|---:|---:|",
    ]
    for r in rows:
        cv_ms, bg_ms = r.alone_ms_cv, r.alone_ms_bg
        lines.append(
            f"| {r.name} | {r.width}x{r.height} | {r.threads} | {cv_ms:.2f} | {bg_ms:.2f} "
            f"| {r.mpix / cv_ms * 1e3:.0f} | {r.mpix / bg_ms * 1e3:.0f} | {cv_ms / bg_ms:.2f}x |")
    return "\n".join(lines)


def state_table(rows: list[Row]) -> str:
    seen = {}
    for r in rows:
        seen.setdefault((r.width, r.height), r.state_bytes_per_pixel)
    lines = ["| resolution | bgmix bytes/pixel | OpenCV bytes/pixel (K=5, C=3) | bgmix state | OpenCV state |",
             "|---|---:|---:|---:|---:|"]
    for (w, h), bpp in seen.items():
        lines.append(f"| {w}x{h} | {bpp:.1f} | {OPENCV_BYTES_PER_PIXEL} "
                     f"| {bpp * w * h / 1e6:.0f} MB | {OPENCV_BYTES_PER_PIXEL * w * h / 1e6:.0f} MB |")
    return "\n".join(lines)


def first_call_table(fc: dict) -> str:
    def ms(v: float) -> str:
        return f"{1e3 * v:,.0f}" if v >= 0.01 else f"{1e3 * v:.2f}"
    lines = [
        "| fresh interpreter, one 320x240 frame | import (ms) | first apply (ms) | second apply (ms) |",
        "|---|---:|---:|---:|",
    ]
    for key, label in (("cold", "bgmix, cold Numba cache (compiles)"),
                       ("warm", f"bgmix, warm Numba cache (median of {fc['n_warm']})"),
                       ("opencv", f"OpenCV MOG2, for reference (median of {fc['n_warm']})")):
        r = fc[key]
        lines.append(f"| {label} | {ms(r['import_s'])} | {ms(r['first_apply_s'])} "
                     f"| {ms(r['second_apply_s'])} |")
    return "\n".join(lines)


def report(args: argparse.Namespace, argv: list[str], machine: str, rows: list[Row],
           fc: dict | None, notes: list[str], elapsed: float) -> str:
    measured = args.frames - args.warmup
    clip_rows = [r for r in rows if r.name.startswith("real clip")]
    clip_desc = (f"its first {clip_rows[0].n_frames} frames decoded into memory" if clip_rows
                 else "not measured")
    parts = [
        f"Machine: {machine}",
        "",
        f"Command: `{' '.join(['python', 'scripts/bench.py', *argv])}`; "
        f"synthetic scenes: `bgmix.synth` \"baseline\", seed 0, {args.frames} frames, "
        f"the first {args.warmup} untimed (warm-up), {args.passes} pass(es) with fresh models; "
        f"the real clip: {clip_desc}, same warm-up and passes. Median over the timed frames "
        f"of every pass ({measured} x {args.passes} per synthetic row). "
        f"Total run time {elapsed:.0f} s.",
        "",
        "### Speed (per `apply` call, both methods on the same frames, interleaved)",
        "",
        speed_table(rows),
        "",
        "*other CPU load*: average number of cores busy outside this process (other "
        "processes, hypervisor steal) while the row ran, from `/proc/stat`.",
        "",
        "### Speed, each method alone (same frames, fresh models, no interleaving)",
        "",
        alone_table(rows),
        "",
        "### Model state",
        "",
        state_table(rows),
    ]
    if fc is not None:
        parts += ["", "### First call", "", first_call_table(fc)]
    if notes:
        parts += ["", "### Notes", ""] + [f"- {n}" for n in notes]
    return "\n".join(parts) + "\n"


# --------------------------------------------------------------------------- main
def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--frames", type=int, default=None,
                        help="frames per synthetic scene, warm-up included (default 100)")
    parser.add_argument("--warmup", type=int, default=None,
                        help="untimed frames at the start of every pass (default 25)")
    parser.add_argument("--passes", type=int, default=None,
                        help="passes with fresh models per row (default 3)")
    parser.add_argument("--sizes", type=parse_sizes, default=None,
                        help="synthetic sizes WxH, comma-separated (default 640x480,1280x720,1920x1080)")
    parser.add_argument("--threads", type=parse_threads, default=None,
                        help="thread counts, comma-separated (default 1,2)")
    parser.add_argument("--clip", type=Path, default=DEFAULT_CLIP,
                        help=f"real clip to include (default {DEFAULT_CLIP}); skipped if absent")
    parser.add_argument("--clip-frames", type=int, default=None,
                        help="frames of the real clip to use (default: all)")
    parser.add_argument("--no-clip", action="store_true", help="skip the real clip")
    parser.add_argument("--no-first-call", action="store_true",
                        help="skip the cold/warm first-call subprocesses")
    parser.add_argument("--wait-quiet", type=float, default=None, metavar="S",
                        help="before each row, wait up to S seconds for the other processes "
                             "to leave the CPUs idle (default 15; 0 disables)")
    parser.add_argument("--quick", action="store_true",
                        help="small run for smoke tests (320x240, 40 frames, 1 pass, 1 thread)")
    parser.add_argument("--markdown", type=Path, default=None,
                        help="also write the Markdown report to this file")
    argv = sys.argv[1:] if argv is None else list(argv)
    args = parser.parse_args(argv)

    quick = {"frames": 40, "warmup": 20, "passes": 1, "sizes": [(240, 320)], "threads": [1],
             "clip_frames": 60, "wait_quiet": 0.0}
    full = {"frames": 100, "warmup": 25, "passes": 3,
            "sizes": [(480, 640), (720, 1280), (1080, 1920)], "threads": [1, 2],
            "clip_frames": None, "wait_quiet": 15.0}
    for key, value in (quick if args.quick else full).items():
        if getattr(args, key) is None:
            setattr(args, key, value)
    if args.warmup < 0 or args.frames <= args.warmup:
        parser.error(f"--frames ({args.frames}) must exceed --warmup ({args.warmup})")
    if args.passes < 1:
        parser.error("--passes must be >= 1")

    start = time.perf_counter()
    notes: list[str] = []
    max_threads = numba.config.NUMBA_NUM_THREADS
    threads = [n for n in args.threads if n <= max_threads]
    for n in args.threads:
        if n > max_threads:
            notes.append(f"{n} threads skipped: numba.config.NUMBA_NUM_THREADS is {max_threads} "
                         "(numba.set_num_threads cannot exceed it).")
    if not threads:
        parser.error(f"no thread count <= NUMBA_NUM_THREADS ({max_threads})")
    cv_threads_before = cv2.getNumThreads()

    # Compile (or load from the cache) before anything is timed.
    BackgroundMixture(n_threads=1).apply(np.zeros((16, 16, 3), np.uint8))
    machine = machine_info()
    print(f"Machine: {machine}", file=sys.stderr, flush=True)

    inputs: list[tuple[str, object]] = [
        ("synthetic baseline", (h, w)) for h, w in args.sizes]
    if not args.no_clip:
        if args.clip.is_file():
            inputs.append((f"real clip {args.clip.name}", args.clip))
        else:
            notes.append(f"real clip not found at {args.clip}: skipped.")
            print(f"note: {notes[-1]}", file=sys.stderr)

    rows: list[Row] = []
    for name, source in inputs:
        t0 = time.perf_counter()
        if isinstance(source, Path):
            frames = decode_clip(source, args.clip_frames)
            if frames is None or len(frames) <= args.warmup:
                notes.append(f"{source} could not be decoded (or has <= {args.warmup} frames): skipped.")
                print(f"note: {notes[-1]}", file=sys.stderr)
                continue
            what = "decoded"
        else:
            frames = render_scene(*source, args.frames)
            what = "rendered"
        print(f"{name} {frames.shape[2]}x{frames.shape[1]}: {len(frames)} frames {what} in "
              f"{time.perf_counter() - t0:.1f} s", file=sys.stderr, flush=True)
        for n in threads:
            if args.wait_quiet > 0:
                load = wait_quiet(args.wait_quiet)
                if load >= 0.25:
                    print(f"  other processes keep {load:.2f} cores busy; measuring anyway",
                          file=sys.stderr, flush=True)
            row = bench(name, frames, n, args.warmup, args.passes)
            rows.append(row)
            print(f"  threads={n}: OpenCV {row.ms_cv:.2f} ms, bgmix {row.ms_bg:.2f} ms, "
                  f"speed-up {row.ratio:.2f}x, identical masks {row.identical}/{row.compared}",
                  file=sys.stderr, flush=True)
            for m in row.mismatches[:3]:
                print(f"  MASK MISMATCH: {m}", file=sys.stderr, flush=True)
        del frames
        gc.collect()
    cv2.setNumThreads(cv_threads_before)

    busy = [r for r in rows if r.other_load >= 0.25]
    if busy:
        notes.append("other processes were busy during " + ", ".join(
            f"{r.name} {r.width}x{r.height} {r.threads} thread(s) ({r.other_load:.2f} cores)"
            for r in busy) + ": those rows are less reliable, above all with 2 threads.")
    for r in rows:
        if agreement(r) < PARITY_CONTRACT:
            pixels = r.compared * r.width * r.height
            notes.append(
                f"BELOW THE PARITY CONTRACT: MASKS DIFFER ({r.name}, {r.width}x{r.height}, {r.threads} thread(s)) on "
                f"{r.compared - r.identical} of {r.compared} frames; {r.diff_pixels} of "
                f"{pixels} mask pixels differ ({1e6 * r.diff_pixels / pixels:.1f} per million); worst: "
                f"pass {r.worst[1]} frame {r.worst[2]} (0-based) with {r.worst[0]} pixels; "
                f"first: {r.mismatches[0]}.")

    fc = None
    if not args.no_first_call:
        print("first call: cold and warm Numba cache ...", file=sys.stderr, flush=True)
        fc = first_call(n_warm=1 if args.quick else 3)

    text = report(args, argv, machine, rows, fc, notes, time.perf_counter() - start)
    print()
    print(text, end="")
    if args.markdown is not None:
        args.markdown.write_text(text)
    return 0 if all(agreement(r) >= PARITY_CONTRACT for r in rows) else 1


if __name__ == "__main__":
    sys.exit(main())
