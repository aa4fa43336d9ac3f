"""Frame sources: every kind of input, opened by :func:`open_source`.

:func:`open_source` turns a video file (or anything FFmpeg reads through
``cv2.VideoCapture``), an image folder (a CDnet ``input/`` folder, say), a
glob pattern, a NumPy array of frames or any iterable of frames into a
:class:`~bgmix.sources.base.FrameSource`: an iterator of frames as OpenCV
reads them (BGR, uint8 for video, (H, W) uint16 for 16-bit grey video) with
``name``, ``fps``, ``n_frames`` and ``frame_size``; a camera index or a
stream URL into a :class:`~bgmix.sources.live.LiveSource` (newest frame
first, reconnects).

=====================  ====================================================
module                 holds
=====================  ====================================================
:mod:`.base`           :class:`FrameSource`, the protocol every source follows
:mod:`.memory`         :class:`ArraySource`, :class:`IterableSource`
:mod:`.files`          :class:`ImageSequenceSource`, :class:`VideoFileSource`
                       (decoded on a reader thread), :func:`read_image`
:mod:`.live`           :class:`LiveSource`: cameras and streams
:mod:`.paths`          image and video suffixes, glob patterns, natural order
=====================  ====================================================

OpenCV is imported only by :mod:`.files` and :mod:`.live`, when a file,
camera or stream is opened: frames from memory need no OpenCV. The names
of those modules are available here too (``bgmix.sources.VideoFileSource``).

Sizes follow OpenCV: ``frame_size`` is ``(width, height)``.
"""

from __future__ import annotations

import glob as _glob
import importlib
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from bgmix.sources.base import FrameSource
from bgmix.sources.memory import ArraySource, IterableSource
from bgmix.sources.paths import IMAGE_EXTENSIONS, LIVE_URL_SCHEMES, images_in, is_glob, \
    is_live_url, natural_key

__all__ = [
    "IMAGE_EXTENSIONS",
    "LIVE_URL_SCHEMES",
    "ArraySource",
    "FrameSource",
    "ImageSequenceSource",
    "IterableSource",
    "LiveSource",
    "VideoFileSource",
    "open_source",
]

# Names of the modules that import OpenCV, loaded on first use.
_LAZY = {"ImageSequenceSource": "bgmix.sources.files", "VideoFileSource": "bgmix.sources.files",
         "read_image": "bgmix.sources.files", "LiveSource": "bgmix.sources.live"}


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _camera_index(source: Any) -> int | None:
    """The camera index ``source`` names, if any: an int, or digits that are not a path."""
    if isinstance(source, (bool, np.bool_)):
        return None
    if isinstance(source, (int, np.integer)):
        return int(source)
    if isinstance(source, str) and source.isdigit() and source.isascii() \
            and not os.path.exists(source):
        return int(source)
    return None


def open_source(source: Any, *, fps: float | None = None, live: bool | None = None,
                **live_options: Any) -> FrameSource:
    """Open frames from a camera, stream, file, folder, glob pattern, array or iterable.

    Parameters
    ----------
    source : int, str, PathLike, ndarray, FrameSource or iterable of ndarray
        - a camera index (``0``, or a string of digits that is not an
          existing path, as a command line gives it): a :class:`~bgmix.sources.live.LiveSource`;
        - a URL with a scheme of :data:`LIVE_URL_SCHEMES` (``rtsp://``,
          ``http(s)://``, ...): a :class:`~bgmix.sources.live.LiveSource` (newest frame first,
          reconnects), unless ``live=False``;
        - a video file path (or a URL with ``live=False``): decoded by
          ``cv2.VideoCapture`` (FFmpeg) on a background thread, every frame
          in order, BGR uint8 frames ((H, W) uint16 for 16-bit grey video);
        - an image file: a one-frame sequence;
        - a folder: its images (png, jpg, bmp, tif, ...) in natural order
          (``in2.png`` before ``in10.png``), e.g. a CDnet ``input/`` folder;
        - a glob pattern (``"frames/*.png"``): the matching files, natural order;
        - an ndarray of shape (N, H, W) or (N, H, W, C): its N frames;
        - any other iterable of ndarrays; a FrameSource is returned as is.
    fps : float, optional
        Frame rate to report for sources that do not know theirs (arrays,
        iterables, images); a video's own rate is kept.
    live : bool, optional
        None (default) decides as above. False reads a URL as a file (every
        frame, in order: a video served over HTTP, say); True opens any
        string (a GStreamer pipeline, ``/dev/video0``) as a :class:`~bgmix.sources.live.LiveSource`.
    **live_options
        Keywords for :class:`~bgmix.sources.live.LiveSource` (``reconnect_delay``,
        ``reconnect_max_delay``, ``reconnect_attempts``, ``open_timeout``,
        ``read_timeout``); refused for other sources.

    Returns
    -------
    FrameSource
        An iterator of frames; close it (or use ``with``) when done.

    Raises
    ------
    FileNotFoundError
        The path does not exist, or a glob pattern matches nothing.
    ValueError
        A folder without images, an empty file, a file that cannot be opened
        as a video, a camera that cannot be opened, or (while iterating) an
        image that cannot be read.
    ConnectionError
        A stream URL that cannot be opened; while iterating, a
        :class:`StreamLostError` when a lost stream cannot be re-opened.

    Examples
    --------
    >>> import numpy as np
    >>> with open_source(np.zeros((2, 48, 64), np.uint8), fps=30) as frames:
    ...     print(frames.fps, frames.n_frames, frames.frame_size)
    ...     print(sum(1 for _ in frames))
    30 2 (64, 48)
    2
    >>> open_source("no/such/clip.mkv")
    Traceback (most recent call last):
    ...
    FileNotFoundError: no such file or folder: no/such/clip.mkv

    Cameras and streams (not run here): the first camera, giving up after
    about 3 s without frames; an MJPEG stream over HTTP; an HTTP video file
    read frame by frame:

    >>> camera = open_source(0, reconnect_attempts=3)  # doctest: +SKIP
    >>> stream = open_source("http://127.0.0.1:8080/stream.mjpg")  # doctest: +SKIP
    >>> clip = open_source("https://example.org/clip.mp4", live=False)  # doctest: +SKIP
    """
    if live is not None and not isinstance(live, bool):
        raise ValueError(f"live must be True, False or None, got {live!r}")
    camera = _camera_index(source)
    if isinstance(source, (str, os.PathLike)) and live is not False and (
            live or camera is not None or is_live_url(os.fspath(source))):
        from bgmix.sources.live import LiveSource

        return LiveSource(camera if camera is not None else os.fspath(source), **live_options)
    if camera is not None and not isinstance(source, str):
        if live is False:
            raise ValueError(f"camera {camera} is a live source; live=False is for URLs")
        from bgmix.sources.live import LiveSource

        return LiveSource(camera, **live_options)
    if live_options:
        raise TypeError(f"{', '.join(sorted(live_options))}: options of live sources (a camera "
                        f"or a stream URL), not of {type(source).__name__} sources")
    if live:
        raise ValueError(f"live=True needs a camera index or a URL, got a {type(source).__name__}")
    if isinstance(source, FrameSource):
        return source
    if isinstance(source, np.ndarray):
        return ArraySource(source, fps=fps)
    if isinstance(source, (str, os.PathLike)):
        return _open_path(os.fspath(source), fps)
    if isinstance(source, (bytes, bytearray)):
        raise TypeError("pass a path as str or os.PathLike, not bytes")
    if isinstance(source, Iterable):
        return IterableSource(source, fps=fps)
    raise TypeError(f"cannot read frames from a {type(source).__name__}; expected a camera "
                    "index, a URL, a path, a folder, a glob pattern, an ndarray or an iterable "
                    "of frames")


def _open_path(text: str, fps: float | None) -> FrameSource:
    """A video file or URL, an image file, an image folder or a glob pattern of images."""
    from bgmix.cdnet import sequence_name
    from bgmix.sources.files import ImageSequenceSource, VideoFileSource

    if "://" in text:
        return VideoFileSource(text)
    path = Path(text)
    if path.is_dir():
        images = images_in(path)
        if not images:
            raise ValueError(f"no images ({', '.join(sorted(IMAGE_EXTENSIONS))}) in folder {text}")
        return ImageSequenceSource(images, fps=fps, name=sequence_name(path) or "<images>")
    if path.is_file():
        if path.suffix.lower() in IMAGE_EXTENSIONS:
            return ImageSequenceSource([text], fps=fps, name=path.stem)
        return VideoFileSource(text)
    if is_glob(text):
        matches = sorted((p for p in _glob.glob(text) if os.path.isfile(p)), key=natural_key)
        if not matches:
            raise FileNotFoundError(f"no files match the pattern {text}")
        return ImageSequenceSource(matches, fps=fps, name=Path(matches[0]).parent.name or "<images>")
    raise FileNotFoundError(f"no such file or folder: {text}")
