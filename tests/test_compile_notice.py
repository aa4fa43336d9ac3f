"""The CLI says when the first run compiles the kernels, and only then."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from bgmix._compile_notice import COMPILING_MESSAGE
from tests.media import write_video



@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    rng = np.random.default_rng(1)
    return write_video(tmp_path_factory.mktemp("clip") / "noise.mkv",
                       rng.integers(90, 110, (5, 24, 32, 3), dtype=np.uint8))


def run_cold_then_warm(clip: Path, tmp_path: Path) -> tuple[str, str]:
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    errors = []
    for name in ("cold", "warm"):
        result = subprocess.run([sys.executable, "-m", "bgmix", "run", str(clip), "-o",
                                 str(tmp_path / name)], capture_output=True, text=True,
                                env=env, timeout=600)
        assert result.returncode == 0, result.stderr
        errors.append(result.stderr)
    return errors[0], errors[1]


def test_first_run_says_it_compiles_and_a_cached_run_does_not(clip: Path, tmp_path: Path):
    cold, warm = run_cold_then_warm(clip, tmp_path)
    assert cold == f"bgmix: {COMPILING_MESSAGE}...\n"
    assert warm == ""


def test_quiet_says_nothing(clip: Path, tmp_path: Path):
    env = {**os.environ, "NUMBA_CACHE_DIR": str(tmp_path / "numba-cache")}
    result = subprocess.run([sys.executable, "-m", "bgmix", "run", str(clip), "-q", "-o",
                             str(tmp_path / "out")], capture_output=True, text=True, env=env,
                            timeout=600)
    assert result.returncode == 0, result.stderr
    assert result.stderr == ""
