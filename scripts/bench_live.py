"""Live-stream latency: bgmix.io.LiveSource (latest frame) vs reading in the loop.

A separate process serves videos/sample.mkv (looped, resized) as MJPEG over
HTTP on 127.0.0.1 at a fixed rate, as an IP camera would. The consumer runs
bgmix.process for a fixed time, either on a LiveSource (reader thread,
newest frame, drops counted) or on plain cv2.VideoCapture read in the loop
(every frame, in order: what a naive loop does). Age of a frame = time its
mask is ready - time the server started sending it (both time.monotonic on
this machine). Reported: medians and p95 over the run, after a warm-up.

Usage: python scripts/bench_live.py [--size 640x480] [--fps 30] [--seconds 10] [--extra-ms 0]
(--extra-ms adds a sleep per frame: a slower model or more outputs).
"""

from __future__ import annotations

import argparse
import multiprocessing as mp
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]


def stamp(frame: np.ndarray, number: int) -> None:
    """Frame number as 20 black/white 8x8 blocks in the top-left corner."""
    for bit in range(20):
        frame[0:8, bit * 8:(bit + 1) * 8] = 255 if (number >> bit) & 1 else 0


def read_stamp(frame: np.ndarray) -> int:
    return sum(1 << bit for bit in range(20) if frame[4, bit * 8 + 4].mean() > 127)


def read_resized(video, size: tuple[int, int]) -> list[np.ndarray]:
    """Every frame of ``video``, resized to ``size`` (width, height)."""
    capture = cv2.VideoCapture(str(video))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(cv2.resize(frame, size, interpolation=cv2.INTER_LINEAR))
    capture.release()
    return frames


def serve(port_queue, sent, size, fps, video):
    frames = read_resized(video, size)

    class Handler(BaseHTTPRequestHandler):
        def log_message(self, *args):
            pass

        def do_GET(self):
            self.send_response(200)
            self.send_header("Content-Type", "multipart/x-mixed-replace; boundary=f")
            self.end_headers()
            deadline = time.monotonic()
            number = 0
            try:
                while True:
                    frame = frames[number % len(frames)].copy()
                    stamp(frame, number)
                    jpeg = cv2.imencode(".jpg", frame, [cv2.IMWRITE_JPEG_QUALITY, 85])[1].tobytes()
                    sent[number % len(sent)] = time.monotonic()
                    self.wfile.write(b"--f\r\nContent-Type: image/jpeg\r\nContent-Length: %d\r\n\r\n"
                                     % len(jpeg) + jpeg + b"\r\n")
                    number += 1
                    deadline += 1.0 / fps
                    time.sleep(max(0.0, deadline - time.monotonic()))
            except (BrokenPipeError, ConnectionResetError):
                pass

    httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    port_queue.put(httpd.server_address[1])
    httpd.serve_forever()


def run(kind: str, url: str, sent, seconds: float, extra_s: float, warmup_s: float = 2.0):
    import bgmix
    from bgmix.io import IterableSource, LiveSource

    if kind == "live":
        source = LiveSource(url, read_timeout=5.0)
    else:
        capture = cv2.VideoCapture(url, cv2.CAP_FFMPEG)

        def frames():
            while True:
                ok, frame = capture.read()
                if not ok:
                    return
                yield frame

        source = IterableSource(frames(), name=url)
    model = bgmix.BackgroundMixture()
    ages, start = [], time.monotonic()
    with bgmix.process(source, model, blobs=True) as results:
        for result in results:
            now = time.monotonic()
            if extra_s:
                time.sleep(extra_s)
            if now - start > warmup_s:
                ages.append(now - sent[read_stamp(result.frame) % len(sent)])
            if now - start > warmup_s + seconds:
                break
        stats = results.stats
    ages = np.array(ages)
    return {
        "kind": kind, "frames": len(ages), "fps": len(ages) / seconds,
        "median_age_ms": 1000 * float(np.median(ages)), "p95_age_ms": 1000 * float(np.percentile(ages, 95)),
        "last_age_ms": 1000 * float(ages[-1]),
        "dropped": stats.frames_dropped, "pipeline_p95_ms": 1000 * stats.p95_latency_s,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--size", default="640x480")
    parser.add_argument("--fps", type=float, default=30.0)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--extra-ms", type=float, default=0.0)
    args = parser.parse_args()
    size = tuple(int(v) for v in args.size.split("x"))
    sent = mp.Array("d", 1 << 16, lock=False)
    ports = mp.Queue()
    server = mp.Process(target=serve, args=(ports, sent, size, args.fps, str(REPO / "videos" / "sample.mkv")),
                        daemon=True)
    server.start()
    url = f"http://127.0.0.1:{ports.get(timeout=30)}/stream.mjpg"
    try:
        for kind in ("live", "in-loop"):
            row = run(kind, url, sent, args.seconds, args.extra_ms / 1000)
            print(f"{args.size} @ {args.fps:g} fps, +{args.extra_ms:g} ms/frame, {kind:8s}: "
                  f"{row['fps']:.1f} fps processed, frame age at mask median {row['median_age_ms']:.0f} ms, "
                  f"p95 {row['p95_age_ms']:.0f} ms, last {row['last_age_ms']:.0f} ms, dropped {row['dropped']}, "
                  f"pipeline p95 latency {row['pipeline_p95_ms']:.0f} ms")
    finally:
        server.terminate()


if __name__ == "__main__":
    main()
