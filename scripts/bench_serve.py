"""Does --serve slow the run? fps of the same run without and with the live view.

The source is a file (videos/sample.mkv resized and looped into a temporary
FFV1 clip), so each run goes as fast as the machine allows and the fps
measure what the live view costs. Every run writes masks.mkv, as
``bgmix run`` does by default, through bgmix.batch.run_video:

* ``plain``   - run_video, no server;
* ``served``  - serve_run (the same run_video with a LiveServer), nobody watching;
* ``watched`` - serve_run with what the page opens: the overlay at the
  server's rate, the mask, background and probability at 5 pictures a
  second, /api/stats every 0.5 s, read by another process (as a browser
  would be).

Runs are interleaved (the order rotates every round) and the median over the
rounds is reported, with the median of each round's ratio to its own plain
run; fps is the steady rate, after the first frame (which loads the compiled
kernels). On a loaded machine these wall-clock figures move by +-10 % from
run to run, so the script also measures what the server costs directly:
the per-frame work of LiveServer.on_frame with nobody watching (microseconds,
timed over frames of the clip), and, for the watched runs, the CPU seconds of
the encoder and stream threads per second of run (as a share of the
machine's cores). Usage:

    python scripts/bench_serve.py [--size 640x480] [--frames 600] [--rounds 5] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

import cv2
from bench_live import read_resized  # scripts/ is on the path when a script runs

REPO = Path(__file__).resolve().parents[1]


def make_clip(path: Path, size: tuple[int, int], n_frames: int) -> None:
    frames = read_resized(REPO / "videos" / "sample.mkv", size)
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 25.0, size)
    for i in range(n_frames):
        writer.write(frames[i % len(frames)])
    writer.release()


def _watch(url: str, stop: Any, parts: Any) -> None:
    """What the page does, in a process of its own until ``stop`` is set."""
    threads = []

    def stream(view: str, fps: float | None) -> None:
        query = f"view={view}" + (f"&fps={fps}" if fps else "")
        try:
            with urllib.request.urlopen(f"{url}stream.mjpg?{query}", timeout=30) as reply:
                while not stop.is_set():
                    if not reply.read(16384):
                        break
                    with parts.get_lock():
                        parts.value += 1
        except OSError:
            pass

    def stats() -> None:
        while not stop.wait(0.5):
            try:
                urllib.request.urlopen(url + "api/stats", timeout=5).read()
            except OSError:
                pass

    for view, fps in (("overlay", None), ("mask", 5), ("background", 5), ("probability", 5)):
        threads.append(threading.Thread(target=stream, args=(view, fps), daemon=True))
    threads.append(threading.Thread(target=stats, daemon=True))
    for thread in threads:
        thread.start()
    stop.wait()


class Watchers:
    def __init__(self) -> None:
        import multiprocessing as mp

        self.context = mp.get_context("spawn")
        self.stop = self.context.Event()
        self.parts = self.context.Value("q", 0)
        self.process: Any = None

    def start(self, url: str) -> None:
        self.process = self.context.Process(target=_watch, args=(url, self.stop, self.parts),
                                            daemon=True)
        self.process.start()

    def close(self) -> None:
        self.stop.set()
        if self.process is not None:
            self.process.join(10)


def steady_fps(report: Any) -> float:
    if report.frames > 1 and report.elapsed_s > report.first_frame_s:
        return (report.frames - 1) / (report.elapsed_s - report.first_frame_s)
    return report.fps


def run_once(mode: str, clip: Path, out: Path) -> tuple[float, float | None]:
    """Steady fps, and for a watched run the server threads' CPU share of the machine."""
    import os

    from bgmix.batch import RunOptions, run_video
    from bgmix.serve import serve_run

    options = RunOptions(masks=str(out / f"masks-{mode}.mkv"))
    if mode == "plain":
        report = run_video(str(clip), options)
        share = None
    else:
        watchers = Watchers()
        servers = []

        def ready(server: Any) -> None:
            servers.append(server)
            if mode == "watched":
                watchers.start(server.url)
                time.sleep(1.0)  # the watcher process is up and connected before the run
        try:
            report = serve_run(str(clip), options, port=0, on_ready=ready)
        finally:
            watchers.close()
        time.sleep(0.2)  # the stream threads have ended and counted their CPU time
        stats = servers[0].stats()
        cpu = stats["encoder_cpu_s"] + stats["stream_cpu_s"]
        share = cpu / report.elapsed_s / (os.cpu_count() or 1) if report.elapsed_s else None
        if mode == "watched":
            assert watchers.parts.value > 0 and stats["encoded"]["overlay"] > 0, "nobody watched"
    assert report.status == "done", report.error
    return steady_fps(report), share


def on_frame_cost(clip: Path, n_frames: int = 300) -> float:
    """Median microseconds of LiveServer.on_frame per frame, nobody watching."""
    from bgmix.pipeline import process
    from bgmix.serve import LiveServer

    times = []
    with LiveServer(port=0) as server, process(str(clip), max_frames=n_frames) as run:
        for result in run:
            t0 = time.perf_counter()
            server.on_frame(result, run)
            times.append(time.perf_counter() - t0)
    return statistics.median(times[10:]) * 1e6


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--frames", type=int, default=600)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    width, height = (int(v) for v in args.size.lower().split("x"))
    modes = ["plain", "served", "watched"]
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        clip = folder / "clip.mkv"
        make_clip(clip, (width, height), args.frames)
        run_once("plain", clip, folder)  # warm-up: kernels loaded, caches filled
        cost_us = on_frame_cost(clip)
        results: dict[str, list[float]] = {mode: [] for mode in modes}
        shares: list[float] = []
        for round_ in range(args.rounds):
            order = modes[round_ % len(modes):] + modes[:round_ % len(modes)]
            for mode in order:
                fps, share = run_once(mode, clip, folder)
                results[mode].append(fps)
                if mode == "watched" and share is not None:
                    shares.append(share)
            print(f"round {round_ + 1}: " + ", ".join(f"{m} {results[m][-1]:.1f}" for m in modes),
                  flush=True)
    medians = {mode: statistics.median(values) for mode, values in results.items()}
    print(f"\n{width}x{height}, {args.frames} frames, median of {args.rounds} interleaved rounds "
          "(steady fps, after the first frame):")
    # the same round's plain run is the closest reference (the machine's load drifts)
    paired = {mode: statistics.median(v / p for v, p in zip(results[mode], results["plain"]))
              for mode in modes}
    for mode in modes:
        ratio = medians[mode] / medians["plain"]
        print(f"  {mode:<8} {medians[mode]:7.1f} fps  {100 * ratio:5.1f} % of plain; "
              f"median of the rounds' ratios {100 * paired[mode]:5.1f} %   "
              f"(runs: {', '.join(f'{v:.1f}' for v in results[mode])})")
    share = statistics.median(shares) if shares else float("nan")
    plain_ms = 1000.0 / medians["plain"]
    print(f"  LiveServer.on_frame, nobody watching: {cost_us:.1f} us a frame "
          f"({100 * cost_us / 1000 / plain_ms:.2f} % of a plain frame's {plain_ms:.1f} ms)")
    print(f"  watched: encoder + stream threads use {100 * share:.1f} % of the machine's CPU "
          f"(median over the watched runs)")
    import os

    print(f"  machine: {os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.2f} at the end")
    if args.json:
        args.json.write_text(json.dumps({"size": [width, height], "frames": args.frames,
                                         "rounds": args.rounds, "fps": results,
                                         "median": medians, "paired_ratio": paired,
                                         "on_frame_us": cost_us, "watched_cpu_share": shares,
                                         "cpus": os.cpu_count()}, indent=2))


if __name__ == "__main__":
    main()
