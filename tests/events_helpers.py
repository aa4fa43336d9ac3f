"""Shared by the event, clip and report tests: the generated clip with known
motion (scripts/make_events_clip.py), written as a real FFV1 video, and the
default model's masks of it decoded by OpenCV."""

from __future__ import annotations

import importlib.util
import shutil
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np
import pytest

REPO = Path(__file__).resolve().parents[1]


def load_generator() -> Any:
    name = "make_events_clip"
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, REPO / "scripts" / "make_events_clip.py")
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


@dataclass
class DecodedClip:
    path: Path
    fps: float
    intervals: list[tuple[float, float]]       # truth, seconds
    frame_intervals: list[tuple[int, int]]     # truth, 1-based inclusive frames
    frames: np.ndarray                          # decoded (N, H, W, 3)
    masks: np.ndarray                           # default model's (N, H, W)
    timestamps: np.ndarray                      # seconds, from CAP_PROP_POS_MSEC


def decode_and_run(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Decode ``path`` with OpenCV, run ``BackgroundMixture()`` over it; frames,
    masks and the decoder's timestamps (seconds)."""
    from bgmix import BackgroundMixture

    model = BackgroundMixture()
    capture = cv2.VideoCapture(str(path))
    assert capture.isOpened(), path
    frames, masks, stamps = [], [], []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        stamps.append(capture.get(cv2.CAP_PROP_POS_MSEC) / 1000.0)
        frames.append(frame)
        masks.append(model.apply(frame))
    capture.release()
    return np.stack(frames), np.stack(masks), np.array(stamps)


@pytest.fixture(scope="session")
def events_clip(tmp_path_factory: pytest.TempPathFactory) -> DecodedClip:
    """Two cars (3.0-6.0 s and 10.0-12.5 s) across a noisy textured scene with a
    swaying tree, 16 s at 25 fps, 320x240, as a lossless FFV1 file."""
    generator = load_generator()
    clip = generator.make_events_clip(intervals=[(3.0, 6.0), (10.0, 12.5)], seconds=16.0)
    path = tmp_path_factory.mktemp("events_clip") / "street.mkv"
    generator.write_clip(path, clip)
    frames, masks, stamps = decode_and_run(path)
    assert len(frames) == len(clip.frames)
    return DecodedClip(path, clip.fps, clip.intervals, clip.frame_intervals, frames, masks, stamps)


def chromium() -> str | None:
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        found = shutil.which(name)
        if found:
            return found
    return None
