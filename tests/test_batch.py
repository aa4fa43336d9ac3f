"""`bgmix batch` and bgmix.batch: many videos, one folder each, resumable."""

from __future__ import annotations

import importlib.util
import json
import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

from bgmix.batch import DONE_RECORD, expand_inputs, read_done, run_batch
from bgmix.cli import main
from bgmix.outputs.tables import read_jsonl, read_mot
from bgmix.run import RunOptions, run_video
from tests.media import read_grey, write_video
from tests.mixtures import PLAIN

pytestmark = pytest.mark.slow  # batches run in spawned worker processes

W, H = 64, 48


def write_clip(path: Path, n_frames: int, seed: int) -> Path:
    rng = np.random.default_rng(seed)
    frames = []
    for i in range(n_frames):
        frame = np.clip(90 + 10 * seed + rng.normal(0, 2, (H, W, 3)), 0, 255).astype(np.uint8)
        if i >= 5:
            x = (5 * i) % (W - 10)
            frame[15:25, x:x + 10] = (30, 220, 250)
        frames.append(frame)
    return write_video(path, frames)


@pytest.fixture
def videos(tmp_path: Path) -> Path:
    """Three good clips (20, 25, 30 frames) and a corrupt one."""
    folder = tmp_path / "videos"
    folder.mkdir()
    for seed, n in enumerate((20, 25, 30)):
        write_clip(folder / f"clip{seed}.mkv", n, seed)
    good = (folder / "clip0.mkv").read_bytes()
    (folder / "corrupt.mp4").write_bytes(good[:40] + bytes(200) + b"garbage" * 50)
    return folder


def summary_of(out: Path) -> dict:
    return json.loads((out / "summary.json").read_text())


def test_batch_with_a_corrupt_file(videos: Path, tmp_path: Path, capsys):
    out = tmp_path / "results"
    assert main(["batch", str(videos), "--out", str(out), "--jobs", "2", "--mot", "--jsonl",
                 "--masks"]) == 1
    captured = capsys.readouterr()
    failures = [line for line in captured.err.splitlines() if line.startswith("bgmix: failed")]
    assert len(failures) == 1 and "corrupt" in failures[0] and "Traceback" not in captured.err
    summary = summary_of(out)
    assert summary["counts"] == {"done": 3, "failed": 1}
    assert summary["interrupted_by"] is None and summary["jobs"] == 2
    rows = {row["name"]: row for row in summary["videos"]}
    assert list(rows) == ["clip0", "clip1", "clip2", "corrupt"]
    assert rows["corrupt"]["status"] == "failed" and "corrupt.mp4" in rows["corrupt"]["error"]
    for name, n in (("clip0", 20), ("clip1", 25), ("clip2", 30)):
        row = rows[name]
        assert row["status"] == "done" and row["frames"] == n and row["fps"] > 0
        folder = out / name
        assert sorted(os.listdir(folder)) == ["blobs.jsonl", "det.txt", "done.json", "masks.mkv"]
        record = read_done(folder)
        assert record["frames"] == n and record["source"] == str((videos / f"{name}.mkv").resolve())
        assert record["outputs"] == {"masks": "masks.mkv", "mot": "det.txt",
                                     "jsonl": "blobs.jsonl"}
        assert len(read_grey(folder / "masks.mkv")) == n
        assert len(read_jsonl(folder / "blobs.jsonl")) == n
        read_mot(folder / "det.txt")
    # the table: one row per video, in order
    table = captured.out.splitlines()
    assert table[0].split() == ["video", "frames", "fps", "status"]
    assert [line.split()[0] for line in table[1:5]] == ["clip0", "clip1", "clip2", "corrupt"]
    assert table[1].split()[1] == "20" and table[1].split()[3] == "done"
    assert table[-1] == f"summary     {out / 'summary.json'}"


def test_rerun_skips_done_videos_and_force_redoes_them(videos: Path, tmp_path: Path, capsys):
    (videos / "corrupt.mp4").unlink()
    out = tmp_path / "results"
    assert main(["batch", str(videos), "--out", str(out), "-q"]) == 0
    records = {p.parent.name: p.read_text() for p in out.glob(f"*/{DONE_RECORD}")}
    assert set(records) == {"clip0", "clip1", "clip2"}
    mtimes = {name: (out / name / "masks.mkv").stat().st_mtime_ns for name in records}
    assert main(["batch", str(videos), "--out", str(out), "-q"]) == 0
    assert {row["status"] for row in summary_of(out)["videos"]} == {"skipped"}
    assert [row["frames"] for row in summary_of(out)["videos"]] == [20, 25, 30]
    for name in records:
        assert (out / name / DONE_RECORD).read_text() == records[name]
        assert (out / name / "masks.mkv").stat().st_mtime_ns == mtimes[name]
    # a video whose record is gone (an interrupted run) is done again, alone
    (out / "clip1" / DONE_RECORD).unlink()
    assert main(["batch", str(videos), "--out", str(out), "-q"]) == 0
    assert [row["status"] for row in summary_of(out)["videos"]] == ["skipped", "done", "skipped"]
    time.sleep(0.01)
    assert main(["batch", str(videos), "--out", str(out), "-q", "--force"]) == 0
    assert {row["status"] for row in summary_of(out)["videos"]} == {"done"}
    for name in records:
        assert (out / name / DONE_RECORD).read_text() != records[name]  # new finished_at
    capsys.readouterr()


def test_batch_masks_are_those_of_bgmix_run(videos: Path, tmp_path: Path):
    """Workers run the same per-video function as `bgmix run`."""
    clip = videos / "clip2.mkv"
    args = ["--history", "40", "--median", "3", "--format", "png"]
    assert main(["batch", str(clip), "--out", str(tmp_path / "b"), "-q", *args]) == 0
    assert main(["run", str(clip), "-o", str(tmp_path / "r"), "-q", *args]) == 0
    names = sorted(os.listdir(tmp_path / "r" / "masks"))
    assert len(names) == 30 and names == sorted(os.listdir(tmp_path / "b" / "clip2" / "masks"))
    for name in names:
        a = cv2.imread(str(tmp_path / "r" / "masks" / name), cv2.IMREAD_UNCHANGED)
        b = cv2.imread(str(tmp_path / "b" / "clip2" / "masks" / name), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(a, b, err_msg=name)


def test_expand_inputs(tmp_path: Path):
    for sub in ("a", "b"):
        (tmp_path / sub).mkdir()
        (tmp_path / sub / "cam.mp4").write_bytes(b"x")
    (tmp_path / "a" / "notes.txt").write_text("not a video")
    sequence = tmp_path / "highway" / "input"
    sequence.mkdir(parents=True)
    cv2.imwrite(str(sequence / "in000001.png"), np.zeros((4, 4), np.uint8))
    (tmp_path / "empty").mkdir()
    items = expand_inputs([str(tmp_path / "a"), str(tmp_path / "**" / "cam.mp4"), str(sequence),
                           str(tmp_path / "empty"), str(tmp_path / "nope.mp4"),
                           str(tmp_path / "*.none")])
    got = [(item.name, Path(item.source).relative_to(tmp_path).as_posix()
            if item.error is None else None, item.error is not None) for item in items]
    assert got == [
        ("cam", "a/cam.mp4", False),          # folder: its videos (by suffix)
        ("cam-2", "b/cam.mp4", False),        # the glob adds b/cam.mp4; a/cam.mp4 only once
        ("highway", "highway/input", False),  # an image folder is one sequence (CDnet name)
        ("empty", None, True),
        ("nope", None, True),
        ("video", None, True),                # a pattern's stem "*" is no name
    ]
    assert "no videos or images in folder" in items[3].error
    assert items[4].error == f"no such file or folder: {tmp_path / 'nope.mp4'}"
    assert "no files match the pattern" in items[5].error


def test_same_stems_get_separate_folders(tmp_path: Path, capsys):
    for sub, seed in (("day", 0), ("night", 1)):
        (tmp_path / sub).mkdir()
        write_clip(tmp_path / sub / "cam.mkv", 12, seed)
    out = tmp_path / "out"
    assert main(["batch", str(tmp_path / "day" / "cam.mkv"), str(tmp_path / "night" / "cam.mkv"),
                 "--out", str(out), "-q", "--jsonl"]) == 0
    assert sorted(p.name for p in out.iterdir()) == ["cam", "cam-2", "summary.json"]
    assert read_done(out / "cam-2")["source"].endswith(os.path.join("night", "cam.mkv"))
    capsys.readouterr()


def test_batch_usage_errors(videos: Path, tmp_path: Path, capsys):
    def error(*args: str) -> str:
        assert main(["batch", *args]) == 2
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return captured.err.strip().splitlines()[-1]

    assert "needs --out DIR" in error(str(videos))
    assert "no such file or folder" in error(str(tmp_path / "nothing"), "--out", str(tmp_path))
    assert "outputs are names inside each video's folder" in error(
        str(videos), "--out", str(tmp_path / "o"), "--mot", str(tmp_path / "abs.txt"))
    assert "history must be >= 1" in error(str(videos), "--out", str(tmp_path / "o"),
                                           "--history", "0")
    assert not (tmp_path / "o").exists()


def test_run_video_reports_without_raising(tmp_path: Path):
    report = run_video(str(tmp_path / "missing.mkv"), RunOptions(masks=str(tmp_path / "m.mkv")))
    assert report.status == "failed" and report.exit_code == 2
    assert report.error == f"no such file or folder: {tmp_path / 'missing.mkv'}"
    frames = np.zeros((6, 24, 32, 3), np.uint8)
    # The plain mixture: MOG2's first frame is all foreground (the robust default
    # takes a frame that turns foreground at once for a light change).
    report = run_video(frames, RunOptions(mot=str(tmp_path / "det.txt"), model_params=PLAIN))
    assert (report.status, report.frames, report.exit_code) == ("done", 6, 0)
    assert report.outputs == {"mot": str(tmp_path / "det.txt")}
    # the first frame is all foreground (as in OpenCV); nothing moves after it
    assert read_mot(tmp_path / "det.txt").tolist() == [[1, -1, 1, 1, 32, 24, 1, -1, -1, -1]]


def test_run_batch_api_rows(videos: Path, tmp_path: Path):
    (videos / "corrupt.mp4").unlink()
    rows, signum = run_batch(expand_inputs([str(videos / "clip0.mkv")]), tmp_path / "o",
                             RunOptions(masks="masks.mkv"))
    assert signum is None and [(r["name"], r["status"], r["frames"]) for r in rows] == [
        ("clip0", "done", 20)]
    with pytest.raises(ValueError, match="jobs must be an integer >= 1"):
        run_batch([], tmp_path / "o", RunOptions(), jobs=0)


@pytest.mark.skipif(importlib.util.find_spec("distributed") is None,
                    reason="dask.distributed is not installed")
def test_batch_on_a_dask_local_cluster(videos: Path, tmp_path: Path, capsys):
    (videos / "corrupt.mp4").unlink()
    out = tmp_path / "dask"
    assert main(["batch", str(videos), "--out", str(out), "--scheduler", "dask", "--jobs", "2",
                 "--jsonl", "-q"]) == 0
    summary = summary_of(out)
    assert summary["scheduler"] == "dask"
    assert [(r["name"], r["status"], r["frames"]) for r in summary["videos"]] == [
        ("clip0", "done", 20), ("clip1", "done", 25), ("clip2", "done", 30)]
    for name in ("clip0", "clip1", "clip2"):
        assert read_done(out / name) is not None
    capsys.readouterr()
