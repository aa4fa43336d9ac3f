"""The ``bgmix`` command as a whole (bgmix.cli): parser, help, info, exit status, ``python -m bgmix``."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import cv2
import numba
import pytest

import bgmix
from bgmix import BackgroundMixture
from bgmix.cli import build_parser, main, model_options
from tests.cli.clips import N, check_square_is_foreground
from tests.media import read_grey


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
    masks = read_grey(tmp_path / "out" / "masks.mkv")
    assert len(masks) == N
    check_square_is_foreground(masks[-1], N - 1)
    assert "frames      30" in result.stdout
    assert result.stderr == ""  # not a TTY: no progress bar


def test_python_m_bgmix_missing_source(tmp_path: Path):
    result = run_module("run", "nope.mkv", cwd=tmp_path)
    assert result.returncode == 2
    assert result.stderr == "bgmix: error: no such file or folder: nope.mkv\n"
    assert "Traceback" not in result.stderr


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
