"""The ``bgmix`` command (bgmix.cli), in process and as ``python -m bgmix``."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import cv2
import numba
import numpy as np
import pytest

import bgmix
from bgmix import BackgroundMixture
from bgmix.cli import build_parser, main, model_options

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


def test_error_mid_run_leaves_no_output(clip: Path, tmp_path: Path, monkeypatch, capsys):
    apply = BackgroundMixture.apply
    calls = []

    def failing_apply(self, frame, *args, **kwargs):
        calls.append(1)
        if len(calls) == 5:
            raise ValueError("frame went wrong")
        return apply(self, frame, *args, **kwargs)

    monkeypatch.setattr(BackgroundMixture, "apply", failing_apply)
    assert main(["run", str(clip), "-o", str(tmp_path / "o")]) == 2
    assert "bgmix: error: frame went wrong" in capsys.readouterr().err
    assert list((tmp_path / "o").iterdir()) == []


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
    import bgmix.io

    reads = []
    read_image = bgmix.io._read_image
    monkeypatch.setattr(bgmix.io, "_read_image",
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
