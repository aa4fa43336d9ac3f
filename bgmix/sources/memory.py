"""Frames already in memory: an array of frames, or any iterable of frames."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import numpy as np

from bgmix.sources.base import FrameSource, size_of

__all__ = ["ArraySource", "IterableSource"]


class ArraySource(FrameSource):
    """Frames from an array of shape (N, H, W) or (N, H, W, C).

    Frames are views into the array, in its dtype.

    Examples
    --------
    >>> import numpy as np
    >>> source = ArraySource(np.zeros((3, 48, 64, 3), np.uint8))
    >>> source.n_frames, source.frame_size
    (3, (64, 48))
    >>> [frame.shape for frame in source]
    [(48, 64, 3), (48, 64, 3), (48, 64, 3)]
    """

    def __init__(self, frames: np.ndarray, *, fps: float | None = None, name: str = "<array>") -> None:
        super().__init__()
        if frames.ndim not in (3, 4):
            raise ValueError(
                f"an array source must have shape (N, H, W) or (N, H, W, C), got shape "
                f"{tuple(frames.shape)}; wrap a single frame in a list")
        self._frames = frames
        self._index = 0
        self.name = name
        self.fps = fps
        self.n_frames = int(frames.shape[0])

    @property
    def frame_size(self) -> tuple[int, int]:
        return (int(self._frames.shape[2]), int(self._frames.shape[1]))

    def __next__(self) -> np.ndarray:
        if self._closed or self._index >= self.n_frames:
            raise StopIteration
        frame = self._frames[self._index]
        self._index += 1
        return frame


class IterableSource(FrameSource):
    """Frames from any iterable of arrays (a list, a generator, ...).

    ``n_frames`` is ``len(iterable)`` when it has one. ``frame_size`` reads
    (and keeps) the first frame when it is asked for before iteration.

    Examples
    --------
    >>> import numpy as np
    >>> source = IterableSource(np.zeros((48, 64), np.uint8) for _ in range(2))
    >>> source.n_frames is None, source.frame_size
    (True, (64, 48))
    >>> len(list(source))
    2
    """

    def __init__(self, frames: Iterable[Any], *, fps: float | None = None, name: str = "<iterable>") -> None:
        super().__init__()
        try:
            self.n_frames = len(frames)  # type: ignore[arg-type]
        except TypeError:
            self.n_frames = None
        self._iterator = iter(frames)
        self._index = 0
        self._peeked: np.ndarray | None = None
        self._size: tuple[int, int] | None = None
        self.name = name
        self.fps = fps

    def _pull(self) -> np.ndarray:
        frame = next(self._iterator)
        if not isinstance(frame, np.ndarray):
            raise ValueError(f"{self.name}: frame {self._index} is a {type(frame).__name__}, "
                             "not a numpy array")
        if frame.ndim < 2:
            raise ValueError(f"{self.name}: frame {self._index} has shape {tuple(frame.shape)}, "
                             "expected (H, W) or (H, W, C)")
        if self._size is None:
            self._size = size_of(frame)
        return frame

    @property
    def frame_size(self) -> tuple[int, int] | None:
        if self._size is None and not self._closed:
            try:
                self._peeked = self._pull()
            except StopIteration:
                return None
        return self._size

    def __next__(self) -> np.ndarray:
        if self._closed:
            raise StopIteration
        if self._peeked is not None:
            frame, self._peeked = self._peeked, None
        else:
            frame = self._pull()
        self._index += 1
        return frame

    def close(self) -> None:
        if not self._closed:
            close = getattr(self._iterator, "close", None)
            if close is not None:
                close()
            self._peeked = None
        super().close()
