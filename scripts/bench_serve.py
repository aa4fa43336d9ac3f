"""Does --serve slow the run? fps of the same run without and with the live view.

The source is a file (videos/sample.mkv resized and looped into a temporary
FFV1 clip), so each run goes as fast as the machine allows and the fps
measure what the live view costs. Every run writes masks.mkv, as
``bgmix run`` does by default, through bgmix.batch.run_video:

* ``plain``   - run_video, no server;
* ``served``  - serve_run (the same run_video with a LiveServer), nobody watching;
* ``watched`` - serve_run with what the page opens: four streams (overlay,
  mask, background, probability) read as fast as they come and
  /api/stats polled every 0.5 s, from threads of this process.

Runs are interleaved (the order rotates every round) and the median over the
rounds is reported; fps is the steady rate, after the first frame (which
loads the compiled kernels). Usage:

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
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def make_clip(path: Path, size: tuple[int, int], n_frames: int) -> None:
    capture = cv2.VideoCapture(str(REPO / "videos" / "sample.mkv"))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR))
    capture.release()
    writer = cv2.VideoWriter(str(path), cv2.VideoWriter_fourcc(*"FFV1"), 25.0, size)
    for i in range(n_frames):
        writer.write(frames[i % len(frames)])
    writer.release()


class Watchers:
    """What the page does: four MJPEG streams and the stats, read in threads."""

    def __init__(self) -> None:
        self.stop = threading.Event()
        self.parts = 0
        self.threads: list[threading.Thread] = []

    def start(self, url: str) -> None:
        for view in ("overlay", "mask", "background", "probability"):
            self.threads.append(threading.Thread(target=self._stream, args=(url, view),
                                                 daemon=True))
        self.threads.append(threading.Thread(target=self._stats, args=(url,), daemon=True))
        for thread in self.threads:
            thread.start()

    def _stream(self, url: str, view: str) -> None:
        try:
            with urllib.request.urlopen(f"{url}stream.mjpg?view={view}", timeout=30) as reply:
                while not self.stop.is_set():
                    if not reply.read(16384):
                        break
                    self.parts += 1
        except OSError:
            pass

    def _stats(self, url: str) -> None:
        while not self.stop.wait(0.5):
            try:
                urllib.request.urlopen(url + "api/stats", timeout=5).read()
            except OSError:
                pass

    def close(self) -> None:
        self.stop.set()
        for thread in self.threads:
            thread.join(5)


def steady_fps(report: Any) -> float:
    if report.frames > 1 and report.elapsed_s > report.first_frame_s:
        return (report.frames - 1) / (report.elapsed_s - report.first_frame_s)
    return report.fps


def run_once(mode: str, clip: Path, out: Path) -> float:
    from bgmix.batch import RunOptions, run_video
    from bgmix.serve import serve_run

    options = RunOptions(masks=str(out / f"masks-{mode}.mkv"))
    if mode == "plain":
        report = run_video(str(clip), options)
    else:
        watchers = Watchers()
        ready = (lambda server: watchers.start(server.url)) if mode == "watched" else None
        try:
            report = serve_run(str(clip), options, port=0, on_ready=ready)
        finally:
            watchers.close()
    assert report.status == "done", report.error
    if mode == "watched":
        assert watchers.parts > 0, "the watchers got nothing"
    return steady_fps(report)


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
        results: dict[str, list[float]] = {mode: [] for mode in modes}
        for round_ in range(args.rounds):
            order = modes[round_ % len(modes):] + modes[:round_ % len(modes)]
            for mode in order:
                results[mode].append(run_once(mode, clip, folder))
            print(f"round {round_ + 1}: " + ", ".join(f"{m} {results[m][-1]:.1f}" for m in modes),
                  flush=True)
    medians = {mode: statistics.median(values) for mode, values in results.items()}
    print(f"\n{width}x{height}, {args.frames} frames, median of {args.rounds} interleaved rounds "
          "(steady fps, after the first frame):")
    for mode in modes:
        ratio = medians[mode] / medians["plain"]
        print(f"  {mode:<8} {medians[mode]:7.1f} fps  {100 * ratio:5.1f} % of plain   "
              f"(runs: {', '.join(f'{v:.1f}' for v in results[mode])})")
    if args.json:
        import os

        args.json.write_text(json.dumps({"size": [width, height], "frames": args.frames,
                                         "rounds": args.rounds, "fps": results,
                                         "median": medians, "cpus": os.cpu_count()}, indent=2))


if __name__ == "__main__":
    main()
