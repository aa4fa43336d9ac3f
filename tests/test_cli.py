"""The ``bgmix`` command (bgmix.cli), in process and as ``python -m bgmix``."""

from __future__ import annotations

import os
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
