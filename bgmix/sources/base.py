"""The source protocol: :class:`FrameSource`, an iterator of frames with what is known of them.

Sizes follow OpenCV: ``frame_size`` is ``(width, height)``.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

__all__ = ["FrameSource", "size_of"]


class FrameSource(Iterator[np.ndarray]):
    """An iterator of frames with what is known about the stream.

    Attributes
    ----------
    name : str
        Short human-readable name (a file stem, a folder name, ``"<array>"``).
    fps : float or None
        Frames per second, None if unknown.
    n_frames : int or None
        Number of frames, None if unknown (a generator, a stream). For video
        files this is the container's count, which FFmpeg may only estimate.
    frame_size : tuple of int or None
        ``(width, height)`` as OpenCV writes it; None when it cannot be known
        without reading a frame.
    capture_time : float or None
        ``time.monotonic()`` when the frame last returned was grabbed, for
        live sources (None for the others, whose frames wait for the reader).
    frames_dropped : int
        Frames skipped because the consumer was slower than the source
        (always 0 except for live sources).
    reconnects : int
        Times a lost stream was re-opened (always 0 except for live sources).

    Notes
    -----
    Sources are context managers; :meth:`close` releases files and stops a
    decoding thread, and it is safe to call more than once.
    """

    name: str = "<source>"
    fps: float | None = None
    n_frames: int | None = None
    _size: tuple[int, int] | None = None  # what frame_size says, unless a subclass computes it

    def __init__(self) -> None:
        self._closed = False

    @property
    def frame_size(self) -> tuple[int, int] | None:
        return self._size

    @property
    def capture_time(self) -> float | None:
        return None

    @property
    def frames_dropped(self) -> int:
        return 0

    @property
    def reconnects(self) -> int:
        return 0

    def __iter__(self) -> FrameSource:
        return self

    def __next__(self) -> np.ndarray:  # pragma: no cover - abstract
        raise NotImplementedError

    def close(self) -> None:
        """Release the source; further iteration stops."""
        self._closed = True

    @property
    def closed(self) -> bool:
        return self._closed

    def __enter__(self) -> FrameSource:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return (f"{type(self).__name__}(name={self.name!r}, fps={self.fps!r}, "
                f"n_frames={self.n_frames!r}, frame_size={self.frame_size!r})")


def size_of(frame: np.ndarray) -> tuple[int, int]:
    """``(width, height)`` of a frame or mask, as OpenCV gives sizes."""
    return (int(frame.shape[1]), int(frame.shape[0]))
