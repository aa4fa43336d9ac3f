"""``bgmix batch --scheduler dask --dask-address`` against a real cluster: a
``dask scheduler`` and two ``dask worker`` processes on 127.0.0.1, started
here (not an in-process LocalCluster), the batch itself run as the ``bgmix``
command in a process of its own, results written to one shared folder.

A worker killed outright (SIGKILL of its nanny and worker process, as when a
machine dies) in the middle of the batch must lose nothing: its video runs
again on the other worker, and every folder ends complete and marked done.
"""

from __future__ import annotations

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import cv2
import pytest

from tests.events_helpers import REPO, load_generator

distributed = pytest.importorskip("distributed")

N_VIDEOS = 4
OUTPUT_FLAGS = ["--mot", "--jsonl", "--masks"]


def _env() -> dict[str, str]:
    env = dict(os.environ)
    # the processes must import this checkout's bgmix, whatever is installed
    env["PYTHONPATH"] = os.pathsep.join([str(REPO)] + [p for p in [env.get("PYTHONPATH")] if p])
    return env


class Cluster:
    """A scheduler and named workers, each in a process group of its own."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.scheduler_file = root / "scheduler.json"
        self.processes: dict[str, subprocess.Popen] = {}
        self.address = ""

    def _spawn(self, name: str, args: list[str]) -> None:
        log = open(self.root / f"{name}.log", "wb")
        self.processes[name] = subprocess.Popen(
            [sys.executable, "-m", "dask", *args], stdout=log, stderr=subprocess.STDOUT,
            env=_env(), cwd=self.root, start_new_session=True)
        log.close()

    def start(self, workers: int = 2) -> None:
        self._spawn("scheduler", ["scheduler", "--host", "127.0.0.1", "--port", "0",
                                  "--scheduler-file", str(self.scheduler_file), "--no-dashboard",
                                  "--dashboard-address", "127.0.0.1:0"])
        deadline = time.monotonic() + 60
        while not self.address:
            if self.processes["scheduler"].poll() is not None or time.monotonic() > deadline:
                raise RuntimeError("the dask scheduler did not start:\n" + self.log("scheduler"))
            try:
                self.address = json.loads(self.scheduler_file.read_text())["address"]
            except (OSError, ValueError, KeyError):
                time.sleep(0.2)
        for i in range(1, workers + 1):
            self._spawn(f"w{i}", ["worker", self.address, "--host", "127.0.0.1", "--name", f"w{i}",
                                  "--nthreads", "1", "--nworkers", "1", "--no-dashboard",
                                  "--dashboard-address", "127.0.0.1:0", "--death-timeout", "60",
                                  "--local-directory", str(self.root / f"w{i}-space")])
        with distributed.Client(self.address, timeout=30) as client:
            client.wait_for_workers(workers, timeout=90)

    def log(self, name: str) -> str:
        return (self.root / f"{name}.log").read_text(errors="replace")[-3000:]

    def workers(self) -> dict[str, str]:
        """Worker name -> address, as the scheduler knows them."""
        with distributed.Client(self.address, timeout=30) as client:
            return {w["name"]: address for address, w in client.scheduler_info()["workers"].items()}

    def kill(self, name: str) -> None:
        """SIGKILL the worker's nanny and worker process at once (a machine lost)."""
        process = self.processes[name]
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=30)

    def close(self) -> None:
        for process in self.processes.values():
            if process.poll() is None:
                os.killpg(process.pid, signal.SIGTERM)
        for process in self.processes.values():
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout=10)


@pytest.fixture
def cluster(tmp_path: Path):
    root = tmp_path / "cluster"
    root.mkdir()
    running = Cluster(root)
    try:
        running.start(workers=2)
        yield running
    finally:
        running.close()


@pytest.fixture(scope="module")
def clips(tmp_path_factory: pytest.TempPathFactory) -> list[Path]:
    """Four 6 s clips, 320x240 at 25 fps, each with two passing cars."""
    generator = load_generator()
    folder = tmp_path_factory.mktemp("dask_clips")
    paths = []
    for i in range(N_VIDEOS):
        clip = generator.make_events_clip(seconds=6.0, seed=10 + i,
                                          intervals=[(1.0, 2.5), (3.5, 5.0)])
        paths.append(generator.write_clip(folder / f"cam{i + 1}.mkv", clip))
    return paths


def _batch(clips: list[Path], out: Path, *extra: str, wait: bool = True) -> subprocess.Popen:
    command = [sys.executable, "-m", "bgmix", "batch", *map(str, clips), "--out", str(out), "-q",
               *OUTPUT_FLAGS, *extra]
    process = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                               env=_env(), text=True)
    if wait:
        process.wait(timeout=600)
    return process


def _decoded_digest(path: Path) -> str:
    capture = cv2.VideoCapture(str(path))
    digest = hashlib.sha256()
    frames = 0
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        digest.update(frame.tobytes())
        frames += 1
    capture.release()
    return f"{frames}:{digest.hexdigest()}"


def _outputs(out: Path) -> dict[str, dict[str, object]]:
    """Per video folder: each output's content (decoded frames for videos),
    and the done record without its timings."""
    result: dict[str, dict[str, object]] = {}
    for folder in sorted(p for p in out.iterdir() if p.is_dir()):
        entry: dict[str, object] = {}
        for path in sorted(folder.iterdir()):
            if path.name == "done.json":
                done = json.loads(path.read_text())
                entry["done"] = {k: done[k] for k in ("status", "name", "frames", "outputs",
                                                      "foreground")}
            elif path.suffix == ".mkv" and not path.name.startswith("."):
                entry[path.name] = _decoded_digest(path)
            elif not path.name.startswith("."):
                entry[path.name] = hashlib.sha256(path.read_bytes()).hexdigest()
        result[folder.name] = entry
    return result


def _hidden(out: Path) -> list[str]:
    return sorted(str(p.relative_to(out)) for p in out.rglob(".*") if p.is_file())


@pytest.fixture(scope="module")
def reference(clips: list[Path], tmp_path_factory: pytest.TempPathFactory) -> dict:
    """The same batch with local processes, --jobs 2."""
    out = tmp_path_factory.mktemp("jobs2")
    process = _batch(clips, out, "--jobs", "2")
    assert process.returncode == 0, process.stdout.read()
    outputs = _outputs(out)
    assert len(outputs) == N_VIDEOS and all(o["done"]["status"] == "done" for o in outputs.values())
    return outputs


def _summary(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def test_dask_cluster_gives_the_outputs_of_jobs_2(cluster: Cluster, clips, reference, tmp_path) -> None:
    out = tmp_path / "shared"                    # one folder every worker writes into
    process = _batch(clips, out, "--scheduler", "dask", "--dask-address", cluster.address)
    log = process.stdout.read()
    assert process.returncode == 0, log
    summary = _summary(out)
    assert summary["scheduler"] == "dask" and summary["counts"] == {"done": N_VIDEOS}
    assert _outputs(out) == reference
    assert _hidden(out) == []                    # no temporary file left behind
    # both workers ran videos (the command's client has left; the workers stay)
    with distributed.Client(cluster.address, timeout=30) as client:
        executed = client.run(lambda dask_worker: dask_worker.state.executed_count)
    assert len(executed) == 2 and all(n >= 1 for n in executed.values()), executed
    assert sum(executed.values()) == N_VIDEOS
    # a second run skips everything (done.json) and writes nothing new
    again = _batch(clips, out, "--scheduler", "dask", "--dask-address", cluster.address)
    assert again.returncode == 0 and _summary(out)["counts"] == {"skipped": N_VIDEOS}


def _kill_mid_batch(cluster: Cluster, clips, tmp_path):
    """Start the batch, wait until both workers are inside a video (their
    outputs are being written), SIGKILL w1; return what the folder held then."""
    out = tmp_path / "shared"
    addresses = cluster.workers()
    process = _batch(clips, out, "--scheduler", "dask", "--dask-address", cluster.address,
                     wait=False)
    deadline = time.monotonic() + 300
    with distributed.Client(cluster.address, timeout=30) as client:
        while True:
            busy = {name for name, address in addresses.items()
                    if client.processing().get(address)}
            writing = {p.parent.name for p in out.rglob(".*.part*")} if out.exists() else set()
            if busy == {"w1", "w2"} and len(writing) >= 2:
                break
            if process.poll() is not None or time.monotonic() > deadline:
                raise AssertionError("the batch ended before both workers were busy:\n"
                                     + process.stdout.read())
            time.sleep(0.05)
    cluster.kill("w1")
    at_kill = {folder.name: {p.name for p in folder.iterdir()}
               for folder in out.iterdir() if folder.is_dir()}
    process.wait(timeout=600)
    return out, process, at_kill


def test_killed_worker_loses_nothing(cluster: Cluster, clips, reference, tmp_path) -> None:
    out, process, at_kill = _kill_mid_batch(cluster, clips, tmp_path)
    log = process.stdout.read()
    # when w1 died, no folder being written was marked done
    for name, files in at_kill.items():
        if any(f.startswith(".") for f in files):
            assert "done.json" not in files, (name, files)
    assert process.returncode == 0, log + cluster.log("scheduler")
    summary = _summary(out)
    assert summary["counts"] == {"done": N_VIDEOS}, summary
    assert [v["frames"] for v in summary["videos"]] == [150] * N_VIDEOS
    # the video w1 was working on ran again on w2: every output complete and
    # the same as with local processes
    assert _outputs(out) == reference
    assert set(cluster.workers()) == {"w2"}


def test_killed_worker_leaves_no_partial_files(cluster: Cluster, clips, tmp_path) -> None:
    out, process, _ = _kill_mid_batch(cluster, clips, tmp_path)
    assert process.returncode == 0
    assert _hidden(out) == []
