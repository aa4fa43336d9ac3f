"""Fixtures of the command-line tests: the moving-square clip, a long clip, a tiny file system."""

from __future__ import annotations

import os
import shutil
import subprocess
from pathlib import Path

import numpy as np
import pytest

from tests.cli.clips import H, N, W, square_at
from tests.media import write_video


@pytest.fixture(scope="module")
def clip(tmp_path_factory) -> Path:
    """64x48, 30 frames, FFV1: flat grey with noise, a bright square moving right
    (wrapping round), from frame 10 on."""
    rng = np.random.default_rng(0)
    frames = []
    for i in range(N):
        frame = np.clip(100 + rng.normal(0, 2, (H, W, 3)), 0, 255).astype(np.uint8)
        where = square_at(i)
        if where is not None:
            frame[where] = (40, 200, 240)
        frames.append(frame)
    return write_video(tmp_path_factory.mktemp("clip") / "square.mkv", frames, fps=30)


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
    rng = np.random.default_rng(3)
    frames = []
    for i in range(400):
        frame = np.clip(100 + rng.normal(0, 2, (H, W, 3)), 0, 255).astype(np.uint8)
        x = (3 * i) % (W - 10)
        frame[18:28, x:x + 10] = (40, 200, 240)
        frames.append(frame)
    return write_video(tmp_path_factory.mktemp("long") / "long.avi", frames, fourcc="MJPG")
