"""bgmix run --serve: the live view of a real run, changed from outside while it goes on."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bgmix.cli import main
from tests.media import write_video
from tests.serve_helpers import get_json, http, wait_for


@pytest.fixture(scope="module")
def long_clip(tmp_path_factory) -> Path:
    """96x72, 1500 frames (a minute at 25 fps): a square moving over noise."""
    rng = np.random.default_rng(0)
    frames = np.clip(100 + rng.normal(0, 2, (1500, 72, 96, 3)), 0, 255).astype(np.uint8)
    for i, frame in enumerate(frames):
        x = (i * 2) % 80
        frame[30:42, x:x + 12] = (40, 200, 240)
    return write_video(tmp_path_factory.mktemp("serve") / "long.mkv", frames)


def test_run_serves_and_takes_a_parameter_change_while_running(long_clip: Path, tmp_path: Path):
    process = subprocess.Popen([sys.executable, "-m", "bgmix", "run", str(long_clip), "-o",
                                str(tmp_path / "out"), "-q", "--serve", "127.0.0.1:0"],
                               stderr=subprocess.PIPE, text=True)
    try:
        line = process.stderr.readline()
        while "live view at" not in line:
            assert line, "the run ended before serving"
            line = process.stderr.readline()
        url = re.search(r"live view at (\S+)", line).group(1).rstrip("/")
        wait_for(lambda: get_json(url + "/api/stats").get("frames_processed", 0) > 0, 60, "frames")
        assert get_json(url + "/api/params")["var_threshold"] == 12.0
        status, body = http("POST", url + "/api/params", {"var_threshold": 30})[:2]
        assert status == 200
        wait_for(lambda: get_json(url + "/api/params")["var_threshold"] == 30, 10, "the change")
        status = http("POST", url + "/api/params", {"var_threshold": -1})[0]
        assert status == 400
    finally:
        process.wait(timeout=300)
    assert process.returncode == 0
    assert (tmp_path / "out" / "masks.mkv").is_file()


def test_serve_flags_are_checked(long_clip: Path, tmp_path: Path, capsys):
    assert main(["run", str(long_clip), "-o", str(tmp_path / "o"), "--serve-token", "x"]) == 2
    assert "--serve-token needs --serve" in capsys.readouterr().err
    assert main(["run", str(long_clip), "-o", str(tmp_path / "o"), "--serve", "nope"]) == 2
    assert not (tmp_path / "o").exists()


def test_serving_on_every_interface_warns(long_clip: Path, tmp_path: Path, capsys):
    assert main(["run", str(long_clip), "-o", str(tmp_path / "o"), "-q", "--max-frames", "5",
                 "--serve", "0.0.0.0:0"]) == 0
    err = capsys.readouterr().err
    assert "is reachable from other machines" in err and "--serve-token" in err
    assert "live view at" in err
