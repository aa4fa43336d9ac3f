"""Media helpers shared by the tests: write and read back videos and images, count the
threads bgmix starts, wait for a condition.

Every video here goes through OpenCV's FFmpeg backend, the same decoder as a user's.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterable
from pathlib import Path

import cv2
import numpy as np


def random_frames(n: int, height: int, width: int, channels: int = 3,
                  seed: int = 0) -> np.ndarray:
    """(n, H, W, C) uint8 uniform noise ((n, H, W) for one channel)."""
    rng = np.random.default_rng(seed)
    shape = (n, height, width, channels) if channels > 1 else (n, height, width)
    return rng.integers(0, 256, shape, dtype=np.uint8)


def write_video(path: Path, frames: Iterable[np.ndarray] | np.ndarray, *, fourcc: str = "FFV1",
                fps: float = 25.0) -> Path:
    """Write frames (colour (H, W, 3) or grey (H, W), all one size) with ``fourcc``."""
    frames = [np.ascontiguousarray(frame) for frame in frames]
    height, width = frames[0].shape[:2]
    writer = cv2.VideoWriter(str(path), cv2.CAP_FFMPEG, cv2.VideoWriter_fourcc(*fourcc), fps,
                             (width, height), frames[0].ndim == 3)
    assert writer.isOpened(), f"OpenCV cannot write {fourcc} to {path}"
    for frame in frames:
        writer.write(frame)
    writer.release()
    return path


def read_video(path: Path) -> list[np.ndarray]:
    """Every frame OpenCV decodes from ``path``, as it decodes them (BGR)."""
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    frames = []
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        frames.append(frame)
    capture.release()
    return frames


def read_grey(path: Path) -> list[np.ndarray]:
    """The frames of a grey video (masks): channel 0 of what OpenCV decodes."""
    return [frame[:, :, 0] if frame.ndim == 3 else frame for frame in read_video(path)]


def count_frames(path: Path) -> int:
    """How many frames of ``path`` decode."""
    return len(read_video(path))


def read_image(path: Path, flags: int = cv2.IMREAD_UNCHANGED) -> np.ndarray:
    """An image file as OpenCV reads it (unchanged depth and channels by default)."""
    image = cv2.imread(str(path), flags)
    assert image is not None, path
    return image


def write_pngs(folder: Path, frames: Iterable[np.ndarray], names: Iterable[str]) -> None:
    """Write each frame as the PNG of the same position in ``names``."""
    folder.mkdir(parents=True, exist_ok=True)
    for frame, name in zip(frames, names):
        assert cv2.imwrite(str(folder / name), frame)


def bgmix_threads(*prefixes: str) -> list[threading.Thread]:
    """The live threads whose names start with one of ``prefixes`` (``"bgmix-reader"`` ...)."""
    return [t for t in threading.enumerate() if t.name.startswith(prefixes)]


def wait_for(condition: Callable[[], bool], timeout: float = 2.0) -> bool:
    """Poll ``condition`` until it holds or ``timeout`` seconds pass; its last value."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.01)
    return condition()
