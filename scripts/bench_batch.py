"""Throughput of ``bgmix batch`` on a folder of clips: local worker processes
(``--jobs 2``) against a real 2-worker Dask cluster on this machine
(``dask scheduler`` + two ``dask worker --nthreads 1`` processes on 127.0.0.1).

    python scripts/bench_batch.py [--videos 8] [--seconds 6] [--size 320x240] [--repeats 3]

The clips come from scripts/make_events_clip.py (FFV1, two passing cars
each). Every configuration runs once untimed (worker processes start and load
the compiled kernels), then ``--repeats`` times, interleaved, each with
``--force`` into its own folder; the table gives the median wall time of the
whole command, videos/s and frames/s. The default outputs (masks.mkv) are
written. Run it on an otherwise idle machine: the figures are wall times.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import signal
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


def _start_cluster(root: Path, workers: int) -> tuple[str, list[subprocess.Popen]]:
    processes = []

    def spawn(name: str, args: list[str]) -> None:
        with open(root / f"{name}.log", "wb") as log:
            processes.append(subprocess.Popen([sys.executable, "-m", "dask", *args], stdout=log,
                                              stderr=subprocess.STDOUT, env=_env(),
                                              start_new_session=True))

    scheduler_file = root / "scheduler.json"
    spawn("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0", "--scheduler-file",
                        str(scheduler_file), "--no-dashboard", "--dashboard-address", "127.0.0.1:0"])
    deadline = time.monotonic() + 60
    address = ""
    while not address:
        if time.monotonic() > deadline:
            raise RuntimeError("the scheduler did not start")
        try:
            address = json.loads(scheduler_file.read_text())["address"]
        except (OSError, ValueError, KeyError):
            time.sleep(0.2)
    for i in range(workers):
        spawn(f"worker{i + 1}", ["worker", address, "--host", "127.0.0.1", "--nthreads", "1",
                                 "--nworkers", "1", "--name", f"w{i + 1}", "--no-dashboard",
                                 "--dashboard-address", "127.0.0.1:0",
                                 "--local-directory", str(root / f"w{i + 1}")])
    from distributed import Client

    with Client(address, timeout=30) as client:
        client.wait_for_workers(workers, timeout=90)
    return address, processes


def _stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        if process.poll() is None:
            os.killpg(process.pid, signal.SIGTERM)
    for process in processes:
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)


def _run(clips: list[Path], out: Path, extra: list[str]) -> float:
    command = [sys.executable, "-m", "bgmix", "batch", *map(str, clips), "--out", str(out),
               "--force", "-q", *extra]
    started = time.perf_counter()
    result = subprocess.run(command, env=_env(), capture_output=True, text=True)
    elapsed = time.perf_counter() - started
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(command)} failed:\n{result.stdout}{result.stderr}")
    counts = json.loads((out / "summary.json").read_text())["counts"]
    if counts != {"done": len(clips)}:
        raise RuntimeError(f"{out}: {counts}")
    return elapsed


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--videos", type=int, default=8)
    parser.add_argument("--seconds", type=float, default=6.0)
    parser.add_argument("--size", default="320x240")
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    sys.path.insert(0, str(REPO / "scripts"))
    from make_events_clip import make_events_clip, write_clip

    width, height = (int(v) for v in args.size.split("x"))
    with tempfile.TemporaryDirectory(prefix="bench_batch_") as tmp:
        root = Path(tmp)
        clips = []
        for i in range(args.videos):
            clip = make_events_clip(width=width, height=height, seconds=args.seconds, seed=i,
                                    intervals=[(0.2 * args.seconds, 0.45 * args.seconds),
                                               (0.6 * args.seconds, 0.85 * args.seconds)])
            clips.append(write_clip(root / "clips" / f"cam{i + 1:02d}.mkv", clip))
        frames = args.videos * round(args.seconds * 25)
        (root / "cluster").mkdir()
        address, processes = _start_cluster(root / "cluster", workers=2)
        try:
            configs = {
                "local processes, --jobs 2": ["--jobs", "2"],
                "Dask, 2 workers (--dask-address)": ["--scheduler", "dask", "--dask-address",
                                                     address],
                "Dask, 2 workers, --n-threads 1": ["--scheduler", "dask", "--dask-address",
                                                   address, "--n-threads", "1"],
            }
            times: dict[str, list[float]] = {name: [] for name in configs}
            for name, extra in configs.items():          # untimed: start-up, kernel loading
                _run(clips, root / "warm", extra)
            for repeat in range(args.repeats):
                for k, (name, extra) in enumerate(configs.items()):
                    times[name].append(_run(clips, root / f"out{k}", extra))
        finally:
            _stop(processes)
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    print(f"{args.videos} clips of {args.seconds:g} s, {width}x{height}, 25 fps ({frames} frames); "
          f"{os.cpu_count()} CPUs, {platform.python_version()}, load average {load:.1f} at the end; "
          f"median of {args.repeats}")
    print()
    print("| scheduler | wall time | videos/s | frames/s |")
    print("|---|---|---|---|")
    for name, values in times.items():
        median = statistics.median(values)
        print(f"| {name} | {median:.1f} s | {args.videos / median:.2f} | {frames / median:.0f} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
