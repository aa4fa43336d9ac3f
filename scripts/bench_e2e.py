#!/usr/bin/env python
"""End-to-end speed: ``bgmix run`` against the OpenCV loop a user writes today.

Both methods turn a video file into a mask video, in one process, on the same
file, from the same starting state:

(a) **OpenCV loop**: ``cv2.VideoCapture(path).read()`` ->
    ``cv2.createBackgroundSubtractorMOG2().apply(frame)`` ->
    ``cv2.VideoWriter(out.mkv, FFV1, grey).write(mask)``, one thread of
    Python doing each step in turn (the loop of every tutorial);
(b) **bgmix run**: ``bgmix.cli.main(["run", path, "-o", DIR, "-q"])``, the
    command's own code path (decoding on a reader thread, the model, the
    masks written as FFV1 grey in Matroska, renamed on close, last frame read
    back to check the file).

Both masks are written the same way (FFV1, grey, ``.mkv``, through OpenCV's
FFmpeg backend), so the writes cost the same; both read through OpenCV's
FFmpeg backend with its default decoder threads. The model parameters are
OpenCV's defaults in both (bgmix's defaults are OpenCV MOG2's).

Clips:

* ``road``: the shared real clip ``../shared/data/videos/road_640x360.avi``
  (640x360, 374 frames, MS-MPEG4 v2); skipped with a note when absent;
* ``hd``: a generated 1920x1080 clip, ``bgmix.synth`` "baseline" scene (seed
  0, 150 frames, moving objects and sensor noise) encoded as Motion JPEG
  (quality 90) in AVI (a codec that decodes fast, as camera recordings
  often are), made once into ``--cache-dir``.

For every clip and thread count, one untimed warm-up run of each method (the
compiled kernel is loaded, files are in the page cache), then ``--runs``
timed runs of each, alternating (OpenCV, bgmix, OpenCV, bgmix, ...) so that
machine drift falls on both. Each run is timed whole with
``time.perf_counter``: opening the file to the renamed output. Reported: the
median frames/s of each, and ``bgmix / OpenCV`` as the ratio of the medians
(> 1: bgmix is faster) with the range of the per-pair ratios.

Threads: ``all`` is the default of both (OpenCV's ``parallel_for_`` on every
core; bgmix's kernel on every core Numba sees, decoding on its own thread);
``1`` is ``cv2.setNumThreads(1)`` for OpenCV and ``--n-threads 1`` for
bgmix's kernel (bgmix's reader thread still decodes beside it: that is how
``bgmix run`` works).

``--profile`` adds, per clip, what each stage costs alone (median ms per
frame: decoding, MOG2 ``apply``, bgmix ``apply``, the FFV1 mask write,
``bgmix.process`` with no output), and where one ``bgmix run`` spends its
main thread (waiting for decoded frames, ``model.apply``, handing the mask
to the writer thread, finishing the writes and reading the last mask back on
close, the rest), and the encoder's time on the writer thread beside it.

Numba's ``omp`` threading layer (GNU OpenMP, used where TBB is not installed)
keeps idle workers spinning after each parallel call, which takes a core from
the decoding thread and the encoder. ``--omp-passive`` sets
``OMP_WAIT_POLICY=PASSIVE`` before bgmix's first parallel call to measure
bgmix with sleeping workers (OpenCV's pthreads pool is not affected). The
machine line of the report names the layer and the policy.

Usage::

    python scripts/bench_e2e.py                          # both clips, all/1 threads, 3 runs each
    python scripts/bench_e2e.py --clips hd --runs 5 --threads all
    python scripts/bench_e2e.py --markdown e2e-table.md --profile
    python scripts/bench_e2e.py --clips road --runs 7 --wait-quiet 10 --omp-passive
    python scripts/bench_e2e.py --clips clip.mp4 --threads 1     # any other video
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import platform
import shutil
import statistics
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import cv2
import numba
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench import CpuMeter, git_revision, opencv_parallel_framework, wait_quiet  # noqa: E402  (scripts/bench.py)
ROAD_CLIP = REPO.parent / "shared" / "data" / "videos" / "road_640x360.avi"
HD_SIZE = (1920, 1080)
HD_FRAMES = 150
HD_QUALITY = 90


@dataclass
class Row:
    clip: str
    size: str
    frames: int
    threads: str
    opencv_s: list[float] = field(default_factory=list)
    bgmix_s: list[float] = field(default_factory=list)
    other_load: list[float] = field(default_factory=list)

    def fps(self, times: list[float]) -> float:
        return self.frames / statistics.median(times)

    @property
    def ratio(self) -> float:
        return self.fps(self.bgmix_s) / self.fps(self.opencv_s)

    @property
    def pair_ratios(self) -> list[float]:
        return [o / b for o, b in zip(self.opencv_s, self.bgmix_s)]


# ---------------------------------------------------------------------------
# clips
# ---------------------------------------------------------------------------
def make_hd_clip(cache_dir: Path, n_frames: int = HD_FRAMES) -> Path:
    """The generated 1920x1080 Motion JPEG clip, made once (temporary name, then renamed)."""
    from bgmix.synth import iter_scene

    path = cache_dir / f"baseline_{HD_SIZE[0]}x{HD_SIZE[1]}_{n_frames}_mjpg.avi"
    if path.is_file():
        capture = cv2.VideoCapture(str(path))
        count = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
        capture.release()
        if count == n_frames:
            return path
    cache_dir.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.part.avi")
    print(f"making {path} ({n_frames} frames, once) ...", file=sys.stderr)
    writer = cv2.VideoWriter(str(tmp), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"MJPG"), 25.0,
                             HD_SIZE, True)
    writer.set(cv2.VIDEOWRITER_PROP_QUALITY, HD_QUALITY)
    for frame, _ in iter_scene("baseline", height=HD_SIZE[1], width=HD_SIZE[0],
                               n_frames=n_frames, seed=0):
        writer.write(frame)
    writer.release()
    os.replace(tmp, path)
    return path


def clip_info(path: Path) -> tuple[int, str]:
    """Frames (counted by decoding) and WxH of a video."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    n = 0
    size = ""
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        size = f"{frame.shape[1]}x{frame.shape[0]}"
        n += 1
    capture.release()
    return n, size


# ---------------------------------------------------------------------------
# the two methods
# ---------------------------------------------------------------------------
def opencv_loop(source: Path, out_path: Path, threads: int | None) -> int:
    """The loop a user writes today; returns the frames written."""
    cv2.setNumThreads(-1 if threads is None else threads)  # -1: OpenCV's default, every core
    capture = cv2.VideoCapture(str(source))
    fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
    subtractor = cv2.createBackgroundSubtractorMOG2()
    writer = None
    n = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        mask = subtractor.apply(frame)
        if writer is None:
            writer = cv2.VideoWriter(str(out_path), cv2.CAP_FFMPEG,
                                     cv2.VideoWriter_fourcc(*"FFV1"), fps,
                                     (frame.shape[1], frame.shape[0]), False)
        writer.write(mask)
        n += 1
    capture.release()
    if writer is not None:
        writer.release()
    return n


def bgmix_run(source: Path, out_dir: Path, threads: int | None) -> int:
    """``bgmix run SOURCE -o OUT_DIR -q`` in this process; returns the frames written."""
    from bgmix.cli import main

    cv2.setNumThreads(-1 if threads is None else threads)
    argv = ["run", str(source), "-o", str(out_dir), "-q"]
    if threads is not None:
        argv += ["--n-threads", str(threads)]
    status = main(argv)
    if status != 0:
        raise RuntimeError(f"bgmix run exited with {status}")
    capture = cv2.VideoCapture(str(out_dir / "masks.mkv"))
    n = int(capture.get(cv2.CAP_PROP_FRAME_COUNT))
    capture.release()
    return n


def _timed(function, *args) -> tuple[float, int, float]:
    meter = CpuMeter()
    start = time.perf_counter()
    n = function(*args)
    return time.perf_counter() - start, n, meter.other_cores()


def bench_clip(name: str, path: Path, threads: list[str], runs: int, scratch: Path,
               quiet_wait: float = 0.0) -> list[Row]:
    frames, size = clip_info(path)
    rows = []
    for thread_name in threads:
        n_threads = None if thread_name == "all" else int(thread_name)
        row = Row(clip=name, size=size, frames=frames, threads=thread_name)
        cv_out = scratch / "opencv_masks.mkv"
        bg_out = scratch / "bgmix"
        for i in range(runs + 1):  # run 0 is the untimed warm-up of both
            if i and quiet_wait > 0:
                wait_quiet(quiet_wait)  # let other processes' bursts pass before each pair
            for method in ("opencv", "bgmix"):
                if method == "opencv":
                    seconds, n, load = _timed(opencv_loop, path, cv_out, n_threads)
                else:
                    seconds, n, load = _timed(bgmix_run, path, bg_out, n_threads)
                if n != frames:
                    raise RuntimeError(f"{method} wrote {n} masks of the {frames} frames of {path}")
                if i:
                    (row.opencv_s if method == "opencv" else row.bgmix_s).append(seconds)
                    row.other_load.append(load)
            if i:
                print(f"  {name} threads={thread_name} run {i}: OpenCV {frames / row.opencv_s[-1]:.1f}"
                      f" fps, bgmix {frames / row.bgmix_s[-1]:.1f} fps", file=sys.stderr)
        rows.append(row)
    cv2.setNumThreads(-1)
    return rows


# ---------------------------------------------------------------------------
# where the time goes
# ---------------------------------------------------------------------------
def profile_clip(name: str, path: Path, scratch: Path, threads: int | None) -> dict[str, float]:
    """Median ms per frame of each stage alone (frames decoded into memory first for the
    model and writer stages)."""
    from bgmix import BackgroundMixture, process

    cv2.setNumThreads(-1 if threads is None else threads)
    out: dict[str, float] = {}

    capture = cv2.VideoCapture(str(path))
    decode, frames = [], []
    while True:
        t0 = time.perf_counter()
        ok, frame = capture.read()
        t1 = time.perf_counter()
        if not ok:
            break
        decode.append(t1 - t0)
        frames.append(frame)
    capture.release()
    out["decode (cv2.VideoCapture.read)"] = statistics.median(decode) * 1e3

    subtractor = cv2.createBackgroundSubtractorMOG2()
    masks, times = [], []
    for frame in frames:
        t0 = time.perf_counter()
        masks.append(subtractor.apply(frame))
        times.append(time.perf_counter() - t0)
    out["OpenCV MOG2 apply"] = statistics.median(times) * 1e3

    model = BackgroundMixture(n_threads=threads)
    model.apply(frames[0])  # load the compiled kernel
    model = BackgroundMixture(n_threads=threads)
    times = []
    for frame in frames:
        t0 = time.perf_counter()
        model.apply(frame)
        times.append(time.perf_counter() - t0)
    out["bgmix apply"] = statistics.median(times) * 1e3

    writer = cv2.VideoWriter(str(scratch / "profile_masks.mkv"), cv2.CAP_FFMPEG,
                             cv2.VideoWriter_fourcc(*"FFV1"), 25.0,
                             (masks[0].shape[1], masks[0].shape[0]), False)
    times = []
    for mask in masks:
        t0 = time.perf_counter()
        writer.write(mask)
        times.append(time.perf_counter() - t0)
    writer.release()
    out["FFV1 mask write (cv2.VideoWriter.write)"] = statistics.median(times) * 1e3

    del frames, masks
    # bgmix.process from the file, no output: decode thread + model + Python per frame
    times = []
    last = time.perf_counter()
    with process(str(path), BackgroundMixture(n_threads=threads), blobs=False) as results:
        for _ in results:
            now = time.perf_counter()
            times.append(now - last)
            last = now
    out["bgmix.process(file, blobs=False), per result"] = statistics.median(times[1:]) * 1e3
    cv2.setNumThreads(-1)
    return out


@contextlib.contextmanager
def _stopwatch(owner: object, name: str, totals: dict[str, float], label: str):
    """Add the time spent in ``owner.name`` (a function attribute) to ``totals[label]``."""
    original = getattr(owner, name)

    def timed(*args, **kwargs):
        start = time.perf_counter()
        try:
            return original(*args, **kwargs)
        finally:
            totals[label] += time.perf_counter() - start

    setattr(owner, name, timed)
    try:
        yield
    finally:
        setattr(owner, name, original)


def inside_bgmix_run(path: Path, scratch: Path, threads: int | None) -> dict[str, float]:
    """One ``bgmix run`` with its steps timed on the main thread, in ms per frame.

    "waiting for a decoded frame" is the time the loop blocks on the reader
    thread's queue (decoding itself runs beside the loop); "other" is the rest
    of the loop: Python per frame, the foreground fraction, the result objects.
    """
    import bgmix.outputs.videos
    from bgmix.io import MaskVideoWriter, VideoFileSource
    from bgmix.model import BackgroundMixture

    totals = {"waiting for a decoded frame": 0.0, "model.apply": 0.0,
              "handing the mask to the writer (waits while its queue is full)": 0.0,
              "closing: finish the queued writes, close the video": 0.0,
              "closing: read the last mask back": 0.0}
    beside = {"FFV1 encode, on the writer thread": 0.0}
    timers = [(VideoFileSource, "__next__", totals, "waiting for a decoded frame"),
              (BackgroundMixture, "apply", totals, "model.apply"),
              (MaskVideoWriter, "write", beside, "FFV1 encode, on the writer thread"),
              (bgmix.outputs.videos, "verify_video", totals, "closing: read the last mask back")]
    with contextlib.suppress(ImportError):  # an older bgmix has no writer thread
        from bgmix.sinks import ThreadedWriter

        timers += [(ThreadedWriter, "write", totals,
                    "handing the mask to the writer (waits while its queue is full)"),
                   (ThreadedWriter, "close", totals,
                    "closing: finish the queued writes, close the video")]
    with contextlib.ExitStack() as stack:
        for owner, name, where, label in timers:
            stack.enter_context(_stopwatch(owner, name, where, label))
        seconds, n, _ = _timed(bgmix_run, path, scratch / "inside", threads)
    out = {label: total * 1e3 / n for label, total in totals.items()}
    out["other (Python per frame, opening, closing)"] = (
        seconds * 1e3 / n - sum(out.values()))
    out["whole run"] = seconds * 1e3 / n
    # Beside the main thread, so not part of the sum above.
    out.update({label: total * 1e3 / n for label, total in beside.items()})
    return out


# ---------------------------------------------------------------------------
# report
# ---------------------------------------------------------------------------
def machine() -> str:
    try:
        usable = len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        usable = os.cpu_count()
    cpu = platform.processor() or platform.machine()
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    import bgmix

    try:  # known once a parallel kernel has run, as it has by the time this is called
        layer = numba.threading_layer()
    except ValueError:
        layer = "not started"
    policy = os.environ.get("OMP_WAIT_POLICY", "unset")
    return (f"{cpu}, {os.cpu_count()} logical CPUs ({usable} usable); Python "
            f"{platform.python_version()}, numpy {np.__version__}, numba {numba.__version__} "
            f"(threading layer {layer}, OMP_WAIT_POLICY {policy}, "
            f"NUMBA_NUM_THREADS={numba.config.NUMBA_NUM_THREADS}), OpenCV {cv2.__version__} "
            f"(parallel framework {opencv_parallel_framework()}); "
            f"bgmix {bgmix.__version__} at {git_revision()}")


def table(rows: list[Row]) -> str:
    lines = ["| clip | size | frames | threads | OpenCV loop fps | bgmix run fps | "
             "bgmix / OpenCV | per-pair ratios | other CPU load |",
             "|---|---|---:|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        pairs = r.pair_ratios
        lines.append(f"| {r.clip} | {r.size} | {r.frames} | {r.threads} | "
                     f"{r.fps(r.opencv_s):.1f} | {r.fps(r.bgmix_s):.1f} | {r.ratio:.2f}x | "
                     f"{min(pairs):.2f}-{max(pairs):.2f} | "
                     f"{statistics.median(r.other_load):.2f} |")
    return "\n".join(lines)


def profile_table(profiles: dict[str, dict[str, float]], statistic: str = "median") -> str:
    stages = list(next(iter(profiles.values())))
    lines = [f"| stage (ms/frame, {statistic}) | " + " | ".join(profiles) + " |",
             "|---|" + "---:|" * len(profiles)]
    for stage in stages:
        lines.append(f"| {stage} | " + " | ".join(f"{p[stage]:.2f}" for p in profiles.values())
                     + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0],
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clips", default="road,hd",
                        help="comma-separated: road (shared clip), hd (generated 1920x1080), "
                             "or paths of other videos (default: road,hd)")
    parser.add_argument("--runs", type=int, default=3, help="timed runs of each method (>= 1)")
    parser.add_argument("--threads", default="all,1",
                        help="comma-separated thread settings: all and/or numbers (default: all,1)")
    parser.add_argument("--hd-frames", type=int, default=HD_FRAMES,
                        help=f"frames of the generated clip (default: {HD_FRAMES})")
    parser.add_argument("--cache-dir", type=Path,
                        default=Path(tempfile.gettempdir()) / "bgmix-bench-e2e",
                        help="where the generated clip is kept between runs")
    parser.add_argument("--profile", action="store_true",
                        help="also time each stage alone (decode, models, writer, process)")
    parser.add_argument("--wait-quiet", type=float, default=0.0, metavar="S",
                        help="before each pair of timed runs, wait up to S seconds for a second "
                             "in which other processes keep fewer than 0.25 cores busy")
    parser.add_argument("--omp-passive", action="store_true",
                        help="set OMP_WAIT_POLICY=PASSIVE before bgmix's first parallel call: "
                             "idle OpenMP workers of Numba's omp layer sleep instead of spinning "
                             "(OpenCV's own thread pool is not affected)")
    parser.add_argument("--markdown", type=Path, metavar="FILE",
                        help="also write the tables as Markdown to FILE")
    args = parser.parse_args(argv)
    if args.omp_passive:
        # libgomp reads it when Numba first loads its OpenMP pool (the first parallel call)
        os.environ["OMP_WAIT_POLICY"] = "PASSIVE"
    if args.runs < 1:
        parser.error(f"--runs must be >= 1, got {args.runs}")
    threads = [t.strip() for t in args.threads.split(",") if t.strip()]
    for t in threads:
        if t != "all" and not (t.isdigit() and int(t) >= 1):
            parser.error(f"--threads takes 'all' or positive integers, got {t!r}")

    clips: list[tuple[str, Path]] = []
    for name in (c.strip() for c in args.clips.split(",") if c.strip()):
        if name == "road":
            if not ROAD_CLIP.is_file():
                print(f"note: {ROAD_CLIP} is absent; the road clip is skipped", file=sys.stderr)
                continue
            clips.append(("road (shared, MS-MPEG4)", ROAD_CLIP))
        elif name == "hd":
            clips.append(("generated (synth baseline, MJPEG)", make_hd_clip(args.cache_dir,
                                                                           args.hd_frames)))
        else:
            path = Path(name)
            if not path.is_file():
                parser.error(f"no such video: {path}")
            clips.append((path.name, path))
    if not clips:
        parser.error("no clip to run")

    started = time.perf_counter()
    rows: list[Row] = []
    profiles: dict[str, dict[str, float]] = {}
    inside: dict[str, dict[str, float]] = {}
    scratch = Path(tempfile.mkdtemp(prefix="bench_e2e_"))
    try:
        for name, path in clips:
            rows += bench_clip(name, path, threads, args.runs, scratch, args.wait_quiet)
            if args.profile:
                profiles[name] = profile_clip(name, path, scratch, None)
                inside[name] = inside_bgmix_run(path, scratch, None)
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    total = time.perf_counter() - started

    text = io.StringIO()
    command = "python scripts/bench_e2e.py " + " ".join(argv if argv is not None else sys.argv[1:])
    print(f"Command: `{command.strip()}`; {args.runs} timed runs of each method per row, "
          f"alternating, after one untimed warm-up run of each; fps = frames / median wall "
          f"time of a run (open to renamed output); other CPU load: cores kept busy by other "
          f"processes during the runs (median, from /proc/stat). Total {total:.0f} s.\n", file=text)
    print(f"Machine: {machine()}\n", file=text)
    print(table(rows), file=text)
    if profiles:
        print("\nEach stage alone (threads: all):\n", file=text)
        print(profile_table(profiles), file=text)
        print("\nInside one `bgmix run` (threads: all; time on the main thread, ms per frame, "
              "mean over the run):\n", file=text)
        print(profile_table(inside, "mean"), file=text)
    print(text.getvalue())
    if args.markdown is not None:
        args.markdown.write_text(text.getvalue())
    return 0


if __name__ == "__main__":
    sys.exit(main())
