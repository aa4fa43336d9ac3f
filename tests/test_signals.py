"""SIGINT and SIGTERM during `bgmix run` and `bgmix batch`, sent to real subprocesses."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

from bgmix.outputs.tables import partial_path, read_jsonl, read_mot
from tests.media import count_frames, write_video

pytestmark = pytest.mark.slow  # each test runs bgmix in a subprocess over a long clip

W, H = 96, 72
TIMEOUT = 120


def write_clip(path: Path, n_frames: int, seed: int = 0) -> Path:
    """A noisy grey scene with a square crossing it, Motion JPEG."""
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_frames):
        frame = np.clip(100 + rng.normal(0, 2, (H, W, 3)), 0, 255).astype(np.uint8)
        x = (4 * i) % (W - 12)
        frame[30:42, x:x + 12] = (40, 200, 240)
        frames.append(frame)
    return write_video(path, frames, fourcc="MJPG")


def line_count(path: Path) -> int:
    try:
        with open(path, "rb") as file:
            return file.read().count(b"\n")
    except FileNotFoundError:
        return 0


def wait_for(predicate, process: subprocess.Popen, what: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if process.poll() is not None:
            out, err = process.communicate()
            pytest.fail(f"the process ended (status {process.returncode}) before {what}: {err}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"timed out waiting for {what}")
        time.sleep(0.01)


def bgmix(*args: str, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "bgmix", *args], cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    return write_clip(tmp_path_factory.mktemp("clips") / "long.avi", 3000)


@pytest.mark.parametrize("signum, code", [(signal.SIGINT, 130), (signal.SIGTERM, 143)])
def test_signal_during_run_finalises_every_output(long_clip: Path, tmp_path: Path, signum: int,
                                                  code: int):
    out = tmp_path / "out"
    jsonl = out / "blobs.jsonl"
    process = bgmix("run", str(long_clip), "-o", "out", "--masks", "--mot", "--jsonl", "--csv",
                    "--overlay", cwd=tmp_path)
    # JSON lines are flushed frame by frame: once a few are there, the loop is running
    wait_for(lambda: line_count(partial_path(jsonl)) >= 30, process, "the first frames")
    process.send_signal(signum)
    out_text, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == code, err
    name = signal.Signals(signum).name
    assert err.strip().splitlines()[-1].startswith(f"bgmix: interrupted by {name}; outputs closed")
    assert "Traceback" not in err
    # final names, no temporary or .partial file left
    assert sorted(os.listdir(out)) == ["blobs.csv", "blobs.jsonl", "det.txt", "masks.mkv",
                                       "overlay.mkv"]
    records = read_jsonl(jsonl)
    n = len(records)
    assert 30 <= n < 3000
    assert [r["frame"] for r in records] == list(range(1, n + 1))
    assert count_frames(out / "masks.mkv") == n  # every output holds the same frames
    assert count_frames(out / "overlay.mkv") == n
    mot = read_mot(out / "det.txt")
    assert len(mot) == sum(len(r["boxes"]) for r in records) > 0 and mot[:, 0].max() <= n
    assert f"frames      {n}" in out_text


def test_second_signal_while_closing_does_not_break_outputs(long_clip: Path, tmp_path: Path):
    out = tmp_path / "out"
    process = bgmix("run", str(long_clip), "-o", "out", "--jsonl", "--masks", cwd=tmp_path)
    wait_for(lambda: line_count(partial_path(out / "blobs.jsonl")) >= 5, process, "frames")
    for _ in range(5):  # an impatient user
        process.send_signal(signal.SIGINT)
        time.sleep(0.002)
    _, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 130, err
    n = len(read_jsonl(out / "blobs.jsonl"))
    assert count_frames(out / "masks.mkv") == n >= 5


def test_sigterm_during_batch_then_resume(tmp_path: Path):
    videos = tmp_path / "videos"
    videos.mkdir()
    write_clip(videos / "a_short.avi", 40, seed=1)
    write_clip(videos / "b_long.avi", 3000, seed=2)
    write_clip(videos / "c_long.avi", 3000, seed=3)
    results = tmp_path / "results"
    process = bgmix("batch", str(videos), "--out", str(results), "--jobs", "1", "--jsonl",
                    "--masks", cwd=tmp_path)
    # the first video is done, the second is running
    wait_for(lambda: (results / "a_short" / "done.json").exists()
             and line_count(partial_path(results / "b_long" / "blobs.jsonl")) >= 5,
             process, "the first video to finish and the second to start")
    process.send_signal(signal.SIGTERM)
    out, err = process.communicate(timeout=TIMEOUT)
    assert process.returncode == 143, err
    assert "batch interrupted by SIGTERM; 1 of 3 videos done" in err
    summary = json.loads((results / "summary.json").read_text())
    assert summary["interrupted_by"] == "SIGTERM"
    statuses = {v["name"]: v["status"] for v in summary["videos"]}
    assert statuses == {"a_short": "done", "b_long": "interrupted", "c_long": "cancelled"}
    # the interrupted video's outputs were closed (readable) but it is not marked done
    assert not (results / "b_long" / "done.json").exists()
    partial = read_jsonl(results / "b_long" / "blobs.jsonl")
    assert 5 <= len(partial) < 3000
    assert count_frames(results / "b_long" / "masks.mkv") == len(partial)
    assert not (results / "c_long").exists()
    first_record = (results / "a_short" / "done.json").read_text()

    # started again: only the rest
    done = subprocess.run([sys.executable, "-m", "bgmix", "batch", str(videos), "--out",
                           str(results), "--jobs", "2", "--jsonl", "--masks"], cwd=tmp_path,
                          capture_output=True, text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    summary = json.loads((results / "summary.json").read_text())
    assert {v["name"]: v["status"] for v in summary["videos"]} == {
        "a_short": "skipped", "b_long": "done", "c_long": "done"}
    assert (results / "a_short" / "done.json").read_text() == first_record  # untouched
    for name in ("b_long", "c_long"):
        assert len(read_jsonl(results / name / "blobs.jsonl")) == 3000
        assert json.loads((results / name / "done.json").read_text())["frames"] == 3000
