"""The ``bgmix`` command (bgmix.cli), in process and as ``python -m bgmix``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import cv2
import numba
import numpy as np
import pytest

import bgmix
from bgmix import BackgroundMixture
from bgmix.blobs import find_blobs
from bgmix.cli import build_parser, main, model_options
from bgmix.outputs.tables import mot_boxes, read_csv, read_jsonl, read_mot
from bgmix.postprocess import Postprocess, clean_mask

W, H, N = 64, 48, 30
EMPTY = 10  # frames of background before the square enters
SIDE = 10
STEP = 6  # fast enough that no pixel stays under the square long enough to be learned


def square_at(i: int) -> tuple[slice, slice] | None:
    """Rows and columns of the square in frame i (None before it enters)."""
    if i < EMPTY:
        return None
    x = 2 + (STEP * (i - EMPTY)) % (W - SIDE - 4)
    return slice(18, 18 + SIDE), slice(x, x + SIDE)


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """64x48, 30 frames, FFV1: flat grey with noise, a bright square moving right
    (wrapping round), from frame 10 on."""
    path = tmp_path_factory.mktemp("clip") / "square.mkv"
    rng = np.random.default_rng(0)
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"FFV1"), 30,
                             (W, H), True)
    assert writer.isOpened()
    for i in range(N):
        frame = np.clip(100 + rng.normal(0, 2, (H, W, 3)), 0, 255).astype(np.uint8)
        where = square_at(i)
        if where is not None:
            frame[where] = (40, 200, 240)
        writer.write(frame)
    writer.release()
    return path


def read_masks(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    masks = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        masks.append(frame[:, :, 0] if frame.ndim == 3 else frame)
    capture.release()
    return masks


def check_square_is_foreground(mask: np.ndarray, i: int) -> None:
    rows, cols = square_at(i)
    inside = mask[rows, cols]
    outside = mask.copy()
    outside[rows, cols] = 0
    assert (inside == 255).mean() > 0.9, f"frame {i}: square not foreground"
    assert (outside == 255).mean() < 0.02, f"frame {i}: background marked foreground"


def test_run_writes_mask_video(clip: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(clip), "-o", str(out)]) == 0
    masks = read_masks(out / "masks.mkv")
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
    for i, mask in enumerate(read_masks(tmp_path / "masks.mkv")):
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
    assert len(read_masks(tmp_path / "bgmix-out" / "square" / "masks.mkv")) == 3


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
    assert len(read_masks(tmp_path / "masks.mkv")) == 7
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
    assert len(read_masks(tmp_path / "o" / "masks.mkv")) == 4


def test_missing_source_exit_2_one_line(tmp_path: Path, capsys):
    missing = tmp_path / "nope.mkv"
    assert main(["run", str(missing)]) == 2
    captured = capsys.readouterr()
    assert captured.err.strip() == f"bgmix: error: no such file or folder: {missing}"
    assert captured.out == ""


def test_bad_inputs_exit_2(tmp_path: Path, capsys):
    bogus = tmp_path / "bogus.mkv"
    bogus.write_text("not a video")
    assert main(["run", str(bogus)]) == 2
    assert "as a video" in capsys.readouterr().err
    assert main(["run", str(tmp_path)]) == 2  # a folder with no images
    assert "no images" in capsys.readouterr().err
    assert main(["run", str(bogus), "--history", "0"]) == 2  # model parameters fail first
    assert "history must be >= 1, got 0" in capsys.readouterr().err
    assert main(["run", "--max-frames", "0"]) == 2  # argparse usage error
    assert "--max-frames" in capsys.readouterr().err
    assert main([]) == 2


def test_every_model_parameter_has_an_option():
    params = BackgroundMixture().get_params()
    options = dict(model_options())
    assert set(options) == set(params)
    run_help = build_parser()._subparsers._group_actions[0].choices["run"].format_help()
    for name in params:
        assert options[name] in run_help, name
    assert "--no-detect-shadows" in run_help
    args = build_parser().parse_args(["run", "--n-components", "3", "--no-detect-shadows",
                                      "--n-threads", "auto", "--background-ratio", "0.8"])
    assert vars(args)["param:n_components"] == 3
    assert vars(args)["param:detect_shadows"] is False
    assert vars(args)["param:n_threads"] is None
    assert vars(args)["param:background_ratio"] == 0.8
    assert vars(args)["param:history"] is None  # unset: the model's default applies


def test_help_shows_examples(capsys):
    assert main(["--help"]) == 0
    assert "Examples" in capsys.readouterr().out
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    assert "Examples" in out and "--var-threshold" in out


def test_info(capsys):
    assert main(["info"]) == 0
    out = capsys.readouterr().out
    assert numba.__version__ in out
    assert cv2.__version__ in out
    assert bgmix.__version__ in out
    assert "threading layer" in out and "numba cache" in out and "cpu count" in out
    layer = next(line for line in out.splitlines() if line.startswith("threading layer"))
    assert layer.split()[-1] in {"omp", "tbb", "workqueue"}


def run_module(*args: str, cwd: Path) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "bgmix", *args], cwd=cwd, capture_output=True,
                          text=True, timeout=120)


def test_python_m_bgmix_run(clip: Path, tmp_path: Path):
    result = run_module("run", str(clip), "-o", "out", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    masks = read_masks(tmp_path / "out" / "masks.mkv")
    assert len(masks) == N
    check_square_is_foreground(masks[-1], N - 1)
    assert "frames      30" in result.stdout
    assert result.stderr == ""  # not a TTY: no progress bar


def test_python_m_bgmix_missing_source(tmp_path: Path):
    result = run_module("run", "nope.mkv", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "bgmix: error: no such file or folder: nope.mkv\n"
    assert "Traceback" not in result.stderr


# ---------------------------------------------------------------------------
# bgmix eval
# ---------------------------------------------------------------------------
SEQ_FRAMES = 60


@pytest.fixture(scope="module")
def cdnet_sequence(tmp_path_factory) -> Path:
    """A synthetic CDnet folder: 64x48, 60 frames, temporal ROI 31-60."""
    from bgmix.synth import make_scene, write_cdnet

    scene = make_scene("baseline", height=48, width=64, n_frames=SEQ_FRAMES, seed=0)
    return write_cdnet(scene, tmp_path_factory.mktemp("eval") / "synthetic")


def eval_json(capsys, *args: str) -> dict:
    assert main(["eval", *args, "--json"]) == 0
    captured = capsys.readouterr()
    return json.loads(captured.out)


def table_rows(out: str) -> dict[str, list[str]]:
    lines = out.splitlines()
    start = next(i for i, line in enumerate(lines) if line.startswith("method"))
    assert lines[start].split() == ["method", "F", "precision", "recall", "PWC", "ms/frame"]
    rows = {}
    for line in lines[start + 1:]:
        if line.startswith("ms/frame:") or line.startswith("json"):
            break
        cells = line.split()
        rows[cells[0]] = cells[1:]
    return rows


def test_eval_sequence_table(cdnet_sequence: Path, capsys):
    assert main(["eval", str(cdnet_sequence), "--quiet"]) == 0
    out = capsys.readouterr().out
    assert out.splitlines()[0].startswith("synthetic: 60 frames run, frames 31-60 scored")
    rows = table_rows(out)
    assert list(rows) == ["bgmix"]
    f, precision, recall, pwc, ms = rows["bgmix"]
    assert float(f) > 0.85 and float(precision) > 0.9 and float(recall) > 0.8
    assert float(ms) > 0
    # columns line up: every row as wide as the header
    lines = out.splitlines()
    header = next(i for i, line in enumerate(lines) if line.startswith("method"))
    assert len(lines[header]) == len(lines[header + 1])


def test_eval_compare_runs_every_method_in_one_pass(cdnet_sequence: Path, capsys, monkeypatch):
    import bgmix.sources.files

    reads = []
    read_image = bgmix.sources.files.read_image
    monkeypatch.setattr(bgmix.sources.files, "read_image",
                        lambda path: reads.append(path) or read_image(path))
    doc = eval_json(capsys, str(cdnet_sequence), "--compare", "mog2,knn,mog2+median")
    assert len(reads) == SEQ_FRAMES
    assert [r["method"] for r in doc["results"]] == ["bgmix", "mog2", "knn", "mog2+median"]
    for r in doc["results"]:
        assert r["n_frames"] == SEQ_FRAMES and r["n_scored_frames"] == 30
        assert r["temporal_roi"] == [31, 60]
        for key in ("f_measure", "precision", "recall", "pwc", "specificity", "fpr", "fnr",
                    "ms_per_frame_median", "ms_per_frame_mean"):
            assert isinstance(r[key], float), key
        assert set(r["counts"]) == {"tp", "fp", "fn", "tn"}
        assert r["sequence"] == "synthetic"
    bgmix_result, mog2 = doc["results"][:2]
    assert bgmix_result["f_measure"] == pytest.approx(mog2["f_measure"], abs=0.01)
    assert bgmix_result["params"]["history"] == 500 and mog2["params"] is None
    assert doc["sequence"] == "synthetic" and doc["skipped"] == []
    assert doc["bgmix_version"] == bgmix.__version__


def test_eval_model_options_preset_and_threads(cdnet_sequence: Path, capsys):
    doc = eval_json(capsys, str(cdnet_sequence), "--preset", "mog2", "--history", "20",
                    "--no-detect-shadows", "--threads", "1", "--compare", "bgmix")
    tuned, plain = doc["results"]
    assert tuned["method"] == "bgmix:mog2" and plain["method"] == "bgmix"
    assert tuned["params"]["history"] == 20 and tuned["params"]["detect_shadows"] is False
    assert tuned["params"]["n_threads"] == 1 and plain["params"]["n_threads"] == 1
    assert doc["n_threads"] == 1
    assert tuned["f_measure"] != plain["f_measure"]
    assert main(["eval", str(cdnet_sequence), "-q", "--history", "20"]) == 0
    assert "bgmix parameters: history=20" in capsys.readouterr().out


def test_eval_json_file_and_table(cdnet_sequence: Path, tmp_path: Path, capsys):
    target = tmp_path / "results.json"
    assert main(["eval", str(cdnet_sequence), "-q", "--compare", "knn+median",
                 f"--json={target}"]) == 0
    out = capsys.readouterr().out
    assert set(table_rows(out)) == {"bgmix", "knn+median"}
    doc = json.loads(target.read_text())
    rows = table_rows(out)
    for r in doc["results"]:
        assert rows[r["method"]][0] == f"{r['f_measure']:.4f}"


def test_eval_saved_masks(cdnet_sequence: Path, tmp_path: Path, capsys):
    # the ground truth itself as predictions: perfect
    gt_as_pred = tmp_path / "gt_as_pred"
    gt_as_pred.mkdir()
    for gt in sorted((cdnet_sequence / "groundtruth").iterdir()):
        (gt_as_pred / gt.name.replace("gt", "bin")).write_bytes(gt.read_bytes())
    doc = eval_json(capsys, str(gt_as_pred), str(cdnet_sequence))
    (r,) = doc["results"]
    assert (r["f_measure"], r["precision"], r["recall"], r["pwc"]) == (1.0, 1.0, 1.0, 0.0)
    assert r["method"] == "gt_as_pred" and r["ms_per_frame_median"] is None
    assert r["n_scored_frames"] == 30
    # masks saved by `bgmix run` score what `bgmix eval SEQUENCE_DIR` scores
    assert main(["run", str(cdnet_sequence / "input"), "-o", str(tmp_path / "out"),
                 "--format", "png", "--quiet"]) == 0
    saved = eval_json(capsys, str(tmp_path / "out" / "masks"), str(cdnet_sequence))
    live = eval_json(capsys, str(cdnet_sequence))
    assert saved["results"][0]["counts"] == live["results"][0]["counts"]
    assert main(["eval", str(tmp_path / "out" / "masks"), str(cdnet_sequence)]) == 0
    out = capsys.readouterr().out
    assert table_rows(out)["masks"][-1] == "-"  # no timing for saved masks


def test_eval_errors_exit_2_one_line(cdnet_sequence: Path, tmp_path: Path, capsys):
    def error(*args: str) -> str:
        assert main(["eval", *args]) == 2
        captured = capsys.readouterr()
        assert captured.out == ""
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in captured.err
        return lines[0]

    seq = str(cdnet_sequence)
    missing = tmp_path / "nope"
    assert error(str(missing)) == f"bgmix: error: no such folder: {missing}"
    assert "neither a CDnet sequence folder" in error(str(tmp_path))
    (tmp_path / "clip.txt").write_text("x")
    assert "is not a folder" in error(str(tmp_path / "clip.txt"))
    assert "takes no second folder" in error(seq, seq)
    masks = tmp_path / "masks"
    masks.mkdir()
    (masks / "bin000001.png").write_bytes((cdnet_sequence / "groundtruth" /
                                           "gt000001.png").read_bytes())
    assert "bgmix eval PRED_DIR GT_DIR" in error(str(masks))
    assert "need a sequence folder" in error(str(masks), seq, "--compare", "mog2")
    assert "prediction file(s) missing" in error(str(masks), seq)
    assert f"no such folder: {missing}" in error(str(masks), str(missing))
    assert "unknown method 'vibe'" in error(seq, "--compare", "mog2,vibe")
    assert "--compare needs method names" in error(seq, "--compare", ",")
    assert "unknown preset 'nope'" in error(seq, "--preset", "nope")
    assert "history must be >= 1, got 0" in error(seq, "--history", "0")
    assert main(["eval", seq, "--threads", "0"]) == 2  # argparse: usage, then the error
    assert capsys.readouterr().err.splitlines()[-1].endswith(
        "argument --threads: expected a positive integer, got 0")
    only_input = tmp_path / "only_input"
    shutil.copytree(cdnet_sequence / "input", only_input / "input")
    assert "no groundtruth/ folder" in error(str(only_input))
    broken = tmp_path / "broken"
    shutil.copytree(cdnet_sequence, broken)
    (broken / "input" / "in000060.png").unlink()
    assert "holds 59 frames but frames 31 to 60 are to be scored" in error(str(broken))
    for p in (broken / "input").iterdir():
        p.unlink()
    assert "holds no input frames" in error(str(broken))


def test_eval_skips_methods_this_opencv_lacks(cdnet_sequence: Path, capsys, monkeypatch):
    monkeypatch.delattr(cv2, "bgsegm", raising=False)
    assert main(["eval", str(cdnet_sequence), "--compare", "gsoc,mog2", "--json"]) == 0
    captured = capsys.readouterr()
    assert "bgmix: skipping gsoc:" in captured.err and "opencv-contrib-python" in captured.err
    doc = json.loads(captured.out)
    assert [r["method"] for r in doc["results"]] == ["bgmix", "mog2"]
    assert doc["skipped"][0]["method"] == "gsoc"
    # "all" is every OpenCV method this installation has
    doc = eval_json(capsys, str(cdnet_sequence), "--compare", "all")
    assert [r["method"] for r in doc["results"]] == [
        "bgmix", "mog2", "mog2+median", "knn", "knn+median"]


def test_eval_help(capsys):
    assert main(["eval", "--help"]) == 0
    out = capsys.readouterr().out
    assert "bgmix eval PRED_DIR GT_DIR" in out and "Examples" in out
    assert "--compare" in out and "--json" in out and "--var-threshold" in out
    assert main(["--help"]) == 0
    assert "bgmix eval" in capsys.readouterr().out


def test_eval_highway_bgmix_matches_opencv_mog2(highway_dir: Path, tmp_path: Path, capsys):
    """Acceptance: bgmix's defaults give OpenCV MOG2's F-measure (0.708) on CDnet highway."""
    target = tmp_path / "highway.json"
    assert main(["eval", str(highway_dir), "--compare", "mog2", "--quiet",
                 f"--json={target}"]) == 0
    out = capsys.readouterr().out
    assert set(table_rows(out)) == {"bgmix", "mog2"}
    doc = json.loads(target.read_text())
    bgmix_result, mog2 = doc["results"]
    assert bgmix_result["n_frames"] == mog2["n_frames"] == 1700
    assert bgmix_result["temporal_roi"] == [470, 1700]
    assert bgmix_result["f_measure"] == pytest.approx(0.708, abs=0.005)
    assert mog2["f_measure"] == pytest.approx(0.708, abs=0.005)
    assert bgmix_result["f_measure"] == pytest.approx(mog2["f_measure"], abs=0.002)


# ---------------------------------------------------------------------------
# bgmix run: outputs, clean-up, config, preview, write errors
# ---------------------------------------------------------------------------


def read_video(path: Path) -> list[np.ndarray]:
    capture = cv2.VideoCapture(str(path))
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def test_run_every_output(clip: Path, tmp_path: Path, capsys):
    out = tmp_path / "out"
    assert main(["run", str(clip), "-o", str(out), "--masks", "--overlay", "--background",
                 "--mot", "--jsonl", "--csv"]) == 0
    assert sorted(os.listdir(out)) == ["background.mkv", "blobs.csv", "blobs.jsonl", "det.txt",
                                       "masks.mkv", "overlay.mkv"]
    masks = read_masks(out / "masks.mkv")
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


def test_run_config_file_and_precedence(clip: Path, tmp_path: Path, capsys):
    config = tmp_path / "settings.toml"
    config.write_text('history = 40\nvar_threshold = 30.0\ndetect_shadows = false\n'
                      'mot = true\nmax_frames = 12\npreset = "mog2"\n')
    out = tmp_path / "out"
    # the flag wins over the file; the file wins over the preset and the defaults
    assert main(["run", str(clip), "-o", str(out), "-q", "--config", str(config),
                 "--var-threshold", "20", "--masks"]) == 0
    masks = read_masks(out / "masks.mkv")
    assert len(masks) == 12
    assert len(read_mot(out / "det.txt")) > 0
    model = BackgroundMixture(history=40, var_threshold=20, detect_shadows=False)
    capture = cv2.VideoCapture(str(clip))
    for i, mask in enumerate(masks):
        np.testing.assert_array_equal(mask, model.apply(capture.read()[1]), err_msg=f"frame {i}")
    capsys.readouterr()

    def error(text: str) -> str:
        config.write_text(text)
        assert main(["run", str(clip), "-o", str(out), "-q", "--config", str(config)]) == 2
        captured = capsys.readouterr()
        lines = captured.err.strip().splitlines()
        assert len(lines) == 1 and "Traceback" not in captured.err
        return lines[0]

    line = error("histroy = 40\n")
    assert str(config) in line and "unknown key 'histroy'" in line and "var_threshold" in line
    assert "history must be >= 1, got 0" in error("history = 0\n")
    assert "detect_shadows must be true or false, got 'no'" in error('detect_shadows = "no"\n')
    assert "not valid TOML" in error("history = \n")
    assert "shadows must be one of keep, fold" in error('shadows = "drop"\n')
    assert "unknown preset 'nope'" in error('preset = "nope"\n')
    assert main(["run", str(clip), "--config", str(tmp_path / "missing.toml")]) == 2
    assert "config file not found" in capsys.readouterr().err


def test_run_preset_and_bad_flags(clip: Path, tmp_path: Path, capsys):
    assert main(["run", str(clip), "-o", str(tmp_path), "-q", "--preset", "mog2",
                 "--history", "30", "--max-frames", "5"]) == 0
    assert len(read_masks(tmp_path / "masks.mkv")) == 5

    def error(*args: str) -> str:
        assert main(["run", str(clip), "-o", str(tmp_path / "x"), "-q", *args]) == 2
        captured = capsys.readouterr()
        assert "Traceback" not in captured.err
        return captured.err.strip().splitlines()[-1]

    assert "unknown preset 'nope'" in error("--preset", "nope")
    assert "--mot out.csv: the name must end in .txt" in error("--mot", "out.csv")
    assert "a mask video must be .mkv" in error("--masks", "m.mp4")
    assert "must end in .mp4 or .avi or .mkv" in error("--overlay", "o.gif")
    assert "median must be odd" in error("--median", "4")
    assert "is the source itself" in error("--overlay", str(clip.with_suffix(".mkv")))
    assert "--format chooses the default masks" in error("--format", "png", "--mot")
    assert "expected an integer >= 0" in error("--min-area", "-3")
    assert not (tmp_path / "x").exists()  # nothing was created for a refused run


def test_preview_without_a_display_says_so_once(clip: Path, tmp_path: Path, monkeypatch,
                                                capsys):
    monkeypatch.delenv("DISPLAY", raising=False)
    monkeypatch.delenv("WAYLAND_DISPLAY", raising=False)
    assert main(["run", str(clip), "-o", str(tmp_path), "-q", "--preview"]) == 0
    err = capsys.readouterr().err
    assert err.count("--preview ignored") == 1 and "no display" in err
    assert len(read_masks(tmp_path / "masks.mkv")) == N


def test_bootstrap_flag_fits_the_first_frames(clip: Path, tmp_path: Path):
    assert main(["run", str(clip), "-o", str(tmp_path / "a"), "-q", "--bootstrap", "10"]) == 0
    assert main(["run", str(clip), "-o", str(tmp_path / "b"), "-q"]) == 0
    warm, cold = read_masks(tmp_path / "a" / "masks.mkv"), read_masks(tmp_path / "b" / "masks.mkv")
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
    assert len(read_masks(tmp_path / "masks.mkv")) == N


def test_bootstrap_from_a_separate_clip(clip: Path, tmp_path: Path):
    assert main(["run", str(clip), "-o", str(tmp_path), "-q", "--bootstrap", "12",
                 "--bootstrap-from", str(clip)]) == 0
    masks = read_masks(tmp_path / "masks.mkv")
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
    assert len(records) == 15 and len(read_masks(out / "masks.mkv")) == 15
    assert all(r["boxes"] == [] for r in records[:8])
    for i in range(8, 15):
        assert records[i]["boxes"] == [[8 * (i - 8), 10, 8 * (i - 7), 20]]


def test_unexpected_error_is_one_line_unless_debug(clip: Path, tmp_path: Path, monkeypatch,
                                                   capsys):
    import bgmix.run

    def broken(*args, **kwargs):
        raise ZeroDivisionError("a bug")

    monkeypatch.setattr(bgmix.run, "open_outputs", broken)
    assert main(["run", str(clip), "-o", str(tmp_path), "-q"]) == 1
    err = capsys.readouterr().err
    assert err.strip().splitlines() == [
        "bgmix: error: unexpected ZeroDivisionError: a bug (run with --debug for the traceback)"]
    with pytest.raises(ZeroDivisionError):
        main(["run", str(clip), "-o", str(tmp_path), "-q", "--debug"])


def test_every_command_help_has_examples(capsys):
    for command in ("run", "batch", "eval", "info"):
        assert main([command, "--help"]) == 0
        out = capsys.readouterr().out
        assert "Examples:" in out and f"bgmix {command}" in out, command
    assert main(["run", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--config" in out and "--overlay" in out and "Exit status" in out


# -- a full disk: a real tiny filesystem ------------------------------------------------------
@pytest.fixture
def tiny_fs(tmp_path: Path):
    """A 16 KiB tmpfs (needs root and mount(2); skipped elsewhere)."""
    mount_point = tmp_path / "tiny"
    mount_point.mkdir()
    if os.geteuid() != 0 or shutil.which("mount") is None:
        pytest.skip("mounting a tiny tmpfs needs root")
    done = subprocess.run(["mount", "-t", "tmpfs", "-o", "size=16k", "tmpfs", str(mount_point)],
                          capture_output=True, text=True)
    if done.returncode != 0:
        pytest.skip(f"cannot mount a tmpfs here: {done.stderr.strip()}")
    try:
        yield mount_point
    finally:
        subprocess.run(["umount", str(mount_point)], capture_output=True)


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    """64x48, 400 frames, MJPG: a square crossing a noisy background again and again."""
    path = tmp_path_factory.mktemp("long") / "long.avi"
    rng = np.random.default_rng(3)
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*"MJPG"), 25,
                             (W, H), True)
    for i in range(400):
        frame = np.clip(100 + rng.normal(0, 2, (H, W, 3)), 0, 255).astype(np.uint8)
        x = (3 * i) % (W - 10)
        frame[18:28, x:x + 10] = (40, 200, 240)
        writer.write(frame)
    writer.release()
    return path


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
    masks = read_masks(out / "masks.mkv")
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
    from bgmix.cli import _Progress

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
    masks = read_masks(tmp_path / "masks.mkv")
    probabilities = read_masks(tmp_path / "probability.mkv")
    outliers = read_masks(tmp_path / "outliers.mkv")
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
