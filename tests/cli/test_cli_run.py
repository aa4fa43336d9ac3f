"""``bgmix run`` (bgmix.cli.run): outputs, clean-up, bootstrap, interruptions, errors, full disks."""

from __future__ import annotations

import os
import time
from pathlib import Path

import cv2
import numpy as np
import pytest

import bgmix
from bgmix import BackgroundMixture
from bgmix.blobs import find_blobs
from bgmix.cli import main
from bgmix.outputs.tables import mot_boxes, read_csv, read_jsonl, read_mot
from bgmix.postprocess import Postprocess, clean_mask
from tests.cli.clips import EMPTY, H, N, W, check_square_is_foreground, square_at
from tests.media import read_grey, read_video


def test_run_writes_mask_video(clip: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(clip), "-o", str(out)]) == 0
    masks = read_grey(out / "masks.mkv")
    assert len(masks) == N
    assert set(np.unique(np.stack(masks))) <= {0, 127, 255}
    assert (masks[EMPTY - 1] == 0).all()  # nothing moves before the square enters
    for i in (EMPTY + 5, N - 1):
        check_square_is_foreground(masks[i], i)
    assert sorted(os.listdir(out)) == ["masks.mkv"]  # no temporary file left
    stdout = capsys.readouterr().out
    assert f"frames      {N}" in stdout
    assert "fps" in stdout
    assert str(out / "masks.mkv") in stdout
    fraction = float(stdout.split("foreground")[1].split()[0])
    expected = np.mean([(m == 255).mean() for m in masks])
    assert fraction == pytest.approx(expected, abs=1e-4)


def test_run_masks_match_the_model(clip: Path, tmp_path: Path):
    assert main(["run", str(clip), "-o", str(tmp_path), "--quiet", "--history", "50",
                 "--var-threshold", "25", "--no-detect-shadows"]) == 0
    model = BackgroundMixture(history=50, var_threshold=25, detect_shadows=False)
    capture = cv2.VideoCapture(str(clip))
    for i, mask in enumerate(read_grey(tmp_path / "masks.mkv")):
        ok, frame = capture.read()
        assert ok
        np.testing.assert_array_equal(mask, model.apply(frame), err_msg=f"frame {i}")
    assert not capture.read()[0]


def test_run_png_format_and_max_frames(clip: Path, tmp_path: Path, capsys):
    assert main(["run", str(clip), "-o", str(tmp_path), "--format", "png",
                 "--max-frames", "20"]) == 0
    names = sorted(os.listdir(tmp_path / "masks"))
    assert names == [f"bin{i:06d}.png" for i in range(1, 21)]
    last = cv2.imread(str(tmp_path / "masks" / names[-1]), cv2.IMREAD_UNCHANGED)
    assert last.shape == (H, W) and last.dtype == np.uint8
    check_square_is_foreground(last, 19)
    assert "frames      20" in capsys.readouterr().out


def test_run_default_output_folder_is_named_after_the_source(clip: Path, tmp_path: Path,
                                                             monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert main(["run", str(clip), "--quiet", "--max-frames", "3"]) == 0
    assert len(read_grey(tmp_path / "bgmix-out" / "square" / "masks.mkv")) == 3


def test_run_default_source_is_the_sample_clip(clip: Path, tmp_path: Path, monkeypatch, capsys):
    # bgmix.__file__ is <repo>/bgmix/__init__.py; point it at a fake repository.
    repo = tmp_path / "repo"
    monkeypatch.setattr(bgmix, "__file__", str(repo / "bgmix" / "__init__.py"))
    monkeypatch.chdir(tmp_path)
    assert main(["run", "--quiet"]) == 2
    err = capsys.readouterr().err
    assert "sample.mkv" in err and "scripts/make_videos.py" in err
    (repo / "videos").mkdir(parents=True)
    (repo / "videos" / "sample.mkv").write_bytes(clip.read_bytes())
    assert main(["run", "--quiet", "--max-frames", "2"]) == 0
    assert (tmp_path / "bgmix-out" / "sample" / "masks.mkv").is_file()


def test_ctrl_c_keeps_the_masks_written_so_far(clip: Path, tmp_path: Path, monkeypatch, capsys):
    apply = BackgroundMixture.apply
    calls = []

    def interrupted_apply(self, frame, *args, **kwargs):
        calls.append(1)
        if len(calls) == 8:
            raise KeyboardInterrupt
        return apply(self, frame, *args, **kwargs)

    monkeypatch.setattr(BackgroundMixture, "apply", interrupted_apply)
    assert main(["run", str(clip), "-o", str(tmp_path)]) == 130
    assert len(read_grey(tmp_path / "masks.mkv")) == 7
    assert sorted(os.listdir(tmp_path)) == ["masks.mkv"]
    captured = capsys.readouterr()
    assert "interrupted" in captured.err
    assert "frames      7" in captured.out


def test_error_mid_run_keeps_the_frames_before_it(clip: Path, tmp_path: Path, monkeypatch,
                                                  capsys):
    apply = BackgroundMixture.apply
    calls = []

    def failing_apply(self, frame, *args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise ValueError("frame went wrong")
        return apply(self, frame, *args, **kwargs)

    monkeypatch.setattr(BackgroundMixture, "apply", failing_apply)
    assert main(["run", str(clip), "-o", str(tmp_path / "o")]) == 2
    err = capsys.readouterr().err
    assert err == "bgmix: error: square: frame 4: frame went wrong (outputs keep the first 4 frames)\n"
    assert sorted(os.listdir(tmp_path / "o")) == ["masks.mkv"]  # no temporary file left
    assert len(read_grey(tmp_path / "o" / "masks.mkv")) == 4


def test_run_every_output(clip: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(clip), "-o", str(out), "--masks", "--overlay", "--background",
                 "--mot", "--jsonl", "--csv"]) == 0
    assert sorted(os.listdir(out)) == ["background.mkv", "blobs.csv", "blobs.jsonl", "det.txt",
                                       "masks.mkv", "overlay.mkv"]
    masks = read_grey(out / "masks.mkv")
    assert len(masks) == N
    for name in ("overlay.mkv", "background.mkv"):
        frames = read_video(out / name)
        assert len(frames) == N and frames[0].shape == (H, W, 3), name
    records = read_jsonl(out / "blobs.jsonl")  # the strict schema check
    assert [r["frame"] for r in records] == list(range(1, N + 1))
    mot = read_mot(out / "det.txt")
    csv_rows = read_csv(out / "blobs.csv")
    assert len(mot) == len(csv_rows) == sum(len(r["boxes"]) for r in records)
    # the three exports say the same thing; MOT is 1-based
    jsonl_boxes = [(r["frame"], *box) for r in records for box in r["boxes"]]
    mot_rows = [(int(f), *map(int, box)) for f, box in zip(mot[:, 0], mot_boxes(mot))]
    assert mot_rows == jsonl_boxes
    assert [tuple(map(int, row[[0, 2, 3, 4, 5]])) for row in csv_rows] == jsonl_boxes
    # the boxes are the blobs of the masks written; they cover the square where it is
    for record, mask in zip(records, masks):
        assert record["boxes"] == find_blobs(mask).boxes.tolist()
        where = square_at(record["frame"] - 1)
        if where is None:
            assert record["boxes"] == []
            continue
        rows, cols = where
        covered = np.zeros((H, W), bool)
        for x1, y1, x2, y2 in record["boxes"]:
            covered[y1:y2, x1:x2] = True
        assert covered[rows, cols].mean() > 0.7  # a square re-entering its old place splits
        assert all(0.5 <= c <= 1 for c in record["confidences"])
    stdout = capsys.readouterr().out
    for name in ("overlay", "background", "mot", "jsonl", "csv"):
        assert f"{name:<11} {out}" in stdout


def test_run_output_paths_and_clean_up_flags(clip: Path, tmp_path: Path):
    masks_dir = tmp_path / "pngs"
    jsonl = tmp_path / "a" / "b" / "boxes.jsonl"
    assert main(["run", str(clip), "--quiet", "--masks", str(masks_dir), "--jsonl", str(jsonl),
                 "--median", "3", "--close", "5", "--min-area", "20", "--shadows", "fold",
                 "--history", "50"]) == 0
    settings = Postprocess(median=3, closing=5, min_area=20, shadows="background")
    model = BackgroundMixture(history=50)
    capture = cv2.VideoCapture(str(clip))
    records = read_jsonl(jsonl)
    for i in range(N):
        ok, frame = capture.read()
        expected = clean_mask(model.apply(frame), settings)
        saved = cv2.imread(str(masks_dir / f"bin{i + 1:06d}.png"), cv2.IMREAD_UNCHANGED)
        np.testing.assert_array_equal(saved, expected, err_msg=f"frame {i}")
        assert all(area >= 20 for area in records[i]["areas"])


def test_preview_without_a_display_says_so_once(clip: Path, tmp_path: Path, monkeypatch,
                                                capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["run", str(clip), "-o", str(tmp_path), "-q", "--preview"]) == 0
    err = capsys.readouterr().err
    assert err.count("--preview ignored") == 1 and "no display" in err
    assert len(read_grey(tmp_path / "masks.mkv")) == N


def test_bootstrap_flag_fits_the_first_frames(clip: Path, tmp_path: Path):
    assert main(["run", str(clip), "-o", str(tmp_path / "a"), "-q", "--bootstrap", "10"]) == 0
    assert main(["run", str(clip), "-o", str(tmp_path / "b"), "-q"]) == 0
    warm, cold = read_grey(tmp_path / "a" / "masks.mkv"), read_grey(tmp_path / "b" / "masks.mkv")
    assert len(warm) == len(cold) == N
    # A cold model calls the whole first frame shadow (it has nothing to compare
    # with); the fitted one already has the background.
    assert (cold[0] == 127).all()
    assert (warm[0] == 0).mean() > 0.9


def test_bootstrap_components_bic_chooses_per_pixel(clip: Path, tmp_path: Path, monkeypatch):
    fitted = []
    fit = BackgroundMixture.fit

    def recording_fit(self, frames, **kwargs):
        fitted.append(kwargs)
        return fit(self, frames, **kwargs)

    monkeypatch.setattr(BackgroundMixture, "fit", recording_fit)
    assert main(["run", str(clip), "-o", str(tmp_path), "-q", "--bootstrap", "8",
                 "--bootstrap-components", "BIC", "--n-components", "3"]) == 0
    assert fitted == [{"n_components": "bic"}]
    assert len(read_grey(tmp_path / "masks.mkv")) == N


def test_bootstrap_from_a_separate_clip(clip: Path, tmp_path: Path):
    assert main(["run", str(clip), "-o", str(tmp_path), "-q", "--bootstrap", "12",
                 "--bootstrap-from", str(clip)]) == 0
    masks = read_grey(tmp_path / "masks.mkv")
    assert len(masks) == N and (masks[0] == 0).mean() > 0.9


@pytest.mark.parametrize(("flags", "message"), [
    (["--bootstrap", "1"], "--bootstrap must be >= 2"),
    (["--bootstrap-from", "x.mkv"], "--bootstrap-from needs --bootstrap N"),
    (["--bootstrap-components", "bic"], "--bootstrap-components needs --bootstrap N"),
    (["--bootstrap", "5", "--bootstrap-components", "9"], "n_components"),
    (["--bootstrap", "5", "--bootstrap-from", "missing.mkv"], "missing.mkv"),
])
def test_bootstrap_bad_flags(clip: Path, tmp_path: Path, capsys, flags, message):
    assert main(["run", str(clip), "-o", str(tmp_path), "-q", *flags]) == 2
    err = capsys.readouterr().err
    assert message in err and err.count("\n") == 1


def test_image_folder_source_with_exports(tmp_path: Path, capsys):
    folder = tmp_path / "seq" / "input"
    folder.mkdir(parents=True)
    for i in range(15):
        frame = np.full((H, W, 3), 90, np.uint8)
        if i >= 8:
            frame[10:20, 8 * (i - 8):8 * (i - 7)] = 250  # never where it was
        cv2.imwrite(str(folder / f"in{i + 1:06d}.png"), frame)
    out = tmp_path / "o"
    assert main(["run", str(folder), "-o", str(out), "--jsonl", "--masks", "-q"]) == 0
    records = read_jsonl(out / "blobs.jsonl")
    assert len(records) == 15 and len(read_grey(out / "masks.mkv")) == 15
    assert all(r["boxes"] == [] for r in records[:8])
    for i in range(8, 15):
        assert records[i]["boxes"] == [[8 * (i - 8), 10, 8 * (i - 7), 20]]


def test_full_disk_on_an_export(long_clip: Path, tmp_path: Path, tiny_fs: Path, capsys):
    (tiny_fs / "filler").write_bytes(b"\0" * (12 * 1024))  # 4 KiB left
    out = tmp_path / "out"
    target = tiny_fs / "blobs.jsonl"
    assert main(["run", str(long_clip), "-o", str(out), "--masks", "--mot", "--jsonl",
                 str(target), "-q"]) == 1
    captured = capsys.readouterr()
    lines = captured.err.strip().splitlines()
    assert lines == [f"bgmix: error: cannot write the jsonl output {target}: No space left on "
                     "device (the other outputs were closed with the frames written so far)"]
    assert sorted(os.listdir(tiny_fs)) == ["filler"]  # the failed output is removed
    masks = read_grey(out / "masks.mkv")
    assert 10 < len(masks) < 400  # earlier frames intact and readable
    mot = read_mot(out / "det.txt")
    assert mot[:, 0].max() <= len(masks)
    assert sorted(os.listdir(out)) == ["det.txt", "masks.mkv"]


def test_full_disk_on_a_video_is_not_silent(long_clip: Path, tmp_path: Path, tiny_fs: Path,
                                            capsys):
    # FFmpeg does not tell OpenCV's writer that the disk is full: the run reads the video back
    out = tmp_path / "out"
    target = tiny_fs / "overlay.mkv"
    assert main(["run", str(long_clip), "-o", str(out), "--jsonl", "--overlay", str(target),
                 "-q"]) == 1
    err = capsys.readouterr().err
    assert err.startswith(f"bgmix: error: cannot write the overlay output {target}")
    assert "disk full?" in err or "No space left" in err
    assert len(read_jsonl(out / "blobs.jsonl")) == 400  # the other output is complete


def test_progress_shows_eta_for_files_and_live_stats_for_streams(clip: Path, capsys):
    from bgmix import process
    from bgmix.cli.run import _Progress

    def last_line(err: str) -> str:
        return err.replace("\r", "\n").strip().splitlines()[-1]

    progress = _Progress(True, max_frames=None)
    with process(str(clip), blobs=False) as results:
        progress.start(results)
        for result in results:
            progress.frame(result, results)
        progress.bar.refresh()
        line = last_line(capsys.readouterr().err)
    progress.close()
    assert f"{N}/{N}" in line and "frame/s" in line and "<00:00" in line  # count, rate, ETA
    frames = (np.full((H, W, 3), i % 7, np.uint8) for i in range(40))  # no length: a stream
    progress = _Progress(True, max_frames=None)
    with process(frames, blobs=False) as results:
        progress.start(results)
        for result in results:
            progress.frame(result, results)
            time.sleep(0.02)
        progress.bar.refresh()
        line = last_line(capsys.readouterr().err)
    progress.close()
    assert "40frame" in line.replace(" ", "") and "fps, dropped 0, latency" in line


# ------------------------------------------------------------------ soft outputs
def test_probability_and_outlier_outputs_match_the_model(clip: Path, tmp_path: Path):
    assert main(["run", str(clip), "-o", str(tmp_path), "-q", "--masks", "--probability",
                 "--outliers", "--outlier-threshold", "-20", "--no-detect-shadows"]) == 0
    masks = read_grey(tmp_path / "masks.mkv")
    probabilities = read_grey(tmp_path / "probability.mkv")
    outliers = read_grey(tmp_path / "outliers.mkv")
    assert len(masks) == len(probabilities) == len(outliers) == N
    model = BackgroundMixture(detect_shadows=False)
    p = np.empty(masks[0].shape, np.float32)
    log_likelihood = np.empty_like(p)
    capture = cv2.VideoCapture(str(clip))
    for index in range(N):
        ok, frame = capture.read()
        assert ok
        mask = model.apply(frame, probability=p, log_likelihood=log_likelihood)
        np.testing.assert_array_equal(masks[index], mask)
        np.testing.assert_array_equal(probabilities[index], np.rint(p * 255).astype(np.uint8))
        np.testing.assert_array_equal(outliers[index], np.where(log_likelihood < -20, 255, 0))
    capture.release()
    # Shadows off: p >= 0.5 exactly where the mask is foreground.
    assert all(np.array_equal(pr >= 128, m == 255) for pr, m in zip(probabilities[1:], masks[1:]))


@pytest.mark.parametrize(("flags", "message"), [
    (["--outliers"], "--outliers and --outlier-threshold LL go together"),
    (["--outlier-threshold", "-20"], "--outliers and --outlier-threshold LL go together"),
    (["--probability", "p.mp4"], "--probability p.mp4: a grey video must be .mkv"),
    (["--outliers", "--outlier-threshold", "nan"], "expected a finite number"),
])
def test_soft_output_bad_flags(clip: Path, tmp_path: Path, capsys, flags, message):
    assert main(["run", str(clip), "-o", str(tmp_path), "-q", *flags]) == 2
    assert message in capsys.readouterr().err
