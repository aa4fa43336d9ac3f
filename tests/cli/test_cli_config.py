"""``--config FILE.toml`` and ``--preset`` (bgmix.cli.config, bgmix.cli.settings)."""

from __future__ import annotations

from pathlib import Path

import cv2
import numpy as np

import bgmix
from bgmix import BackgroundMixture
from bgmix.cli import main
from bgmix.outputs.tables import read_mot
from tests.media import read_grey


def test_run_config_file_and_precedence(clip: Path, tmp_path: Path, capsys):
    config = tmp_path / "settings.toml"
    config.write_text('history = 40\nvar_threshold = 30.0\ndetect_shadows = false\n'
                      'mot = true\nmax_frames = 12\npreset = "mog2"\n')
    out = tmp_path / "out"
    # the flag wins over the file; the file wins over the preset and the defaults
    assert main(["run", str(clip), "-o", str(out), "-q", "--config", str(config),
                 "--var-threshold", "20", "--masks"]) == 0
    masks = read_grey(out / "masks.mkv")
    assert len(masks) == 12
    assert len(read_mot(out / "det.txt")) > 0
    model = BackgroundMixture.from_preset("mog2", history=40, var_threshold=20,
                                          detect_shadows=False)
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
    assert len(read_grey(tmp_path / "masks.mkv")) == 5

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
