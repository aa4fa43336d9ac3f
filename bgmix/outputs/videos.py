"""Videos for people to look at: the overlay and the background; the life of every video file.

:class:`VideoFile` is what every video bgmix writes has in common (the mask
videos of :mod:`bgmix.outputs.masks` too): a ``cv2.VideoWriter`` opened on
the partial file of its final name (:mod:`bgmix.outputs.atomic`) when the
first frame comes, renamed by ``close()``, removed by ``abort()``; a writer
left in a ``with`` block by an exception, or abandoned, leaves no partial
file behind. A run that is killed outright leaves only the hidden
``.NAME.part.SUFFIX`` file, which holds the frames written so far.
:func:`verify_video` reads a closed video's last frame back, because FFmpeg
does not report a full disk to OpenCV's writer.

:class:`OverlayVideoWriter` writes each frame with its mask tinted on it
(foreground red, shadow blue) and the blobs' boxes drawn;
:class:`BackgroundVideoWriter` writes the model's background image
(:meth:`~bgmix.BackgroundMixture.background_image`) every frame or every
``every`` frames. :func:`render_overlay` is the drawing on its own (used by
``bgmix run --preview``).

Codecs follow the suffix: ``.mp4`` MPEG-4 Part 2 (``mp4v``, the one MP4
encoder opencv-python wheels carry), ``.avi`` and ``.mkv`` Motion JPEG
(every frame a JPEG: cheap to encode, seekable, plays everywhere). Frames
are made 8-bit BGR for display: grey frames are repeated on three channels,
16-bit frames are stretched from their own minimum to maximum (per frame for
the overlay, per image for the background), float frames are clipped to
0..255.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bgmix.outputs import Sink
from bgmix.outputs.atomic import PartialFile

__all__ = ["BOX_COLOUR", "FOREGROUND_TINT", "OVERLAY_SUFFIXES", "SHADOW_TINT",
           "BackgroundVideoWriter", "OverlayVideoWriter", "VideoFile", "render_overlay",
           "to_display", "verify_video"]

OVERLAY_SUFFIXES = {".mp4": "mp4v", ".avi": "MJPG", ".mkv": "MJPG"}
"""Accepted suffixes of overlay and background videos and the codec (fourcc) of each."""

FOREGROUND_TINT = (0, 0, 255)
"""BGR colour blended over foreground pixels (red)."""
SHADOW_TINT = (255, 128, 0)
"""BGR colour blended over shadow pixels (blue)."""
BOX_COLOUR = (0, 255, 0)
"""BGR colour of the blob boxes (green)."""


def to_display(image: np.ndarray) -> np.ndarray:
    """An 8-bit BGR (H, W, 3) copy of a frame or background image, for viewing.

    uint8 is kept; uint16 is stretched from its minimum to its maximum;
    float is clipped to [0, 255]; grey becomes three equal channels.

    Examples
    --------
    >>> to_display(np.array([[0, 1000], [2000, 4000]], np.uint16))[:, :, 0].tolist()
    [[0, 64], [128, 255]]
    """
    if not isinstance(image, np.ndarray) or image.ndim not in (2, 3):
        shape = getattr(image, "shape", None)
        raise ValueError(f"a frame must be an (H, W) or (H, W, C) array, got shape {shape}")
    if image.dtype == np.uint16:
        low, high = int(image.min()), int(image.max())
        scale = 255.0 / (high - low) if high > low else 0.0
        image = np.rint((image.astype(np.float32) - low) * scale).astype(np.uint8)
    elif image.dtype.kind == "f":
        image = np.clip(np.rint(image), 0, 255).astype(np.uint8)
    elif image.dtype != np.uint8:
        raise ValueError(f"a frame must be uint8, uint16 or float, got dtype {image.dtype}")
    if image.ndim == 2:
        return cv2.cvtColor(image, cv2.COLOR_GRAY2BGR)
    channels = image.shape[2]
    if channels == 1:
        return cv2.cvtColor(image[:, :, 0], cv2.COLOR_GRAY2BGR)
    if channels == 4:
        return np.ascontiguousarray(image[:, :, :3])
    if channels != 3:
        raise ValueError(f"a frame must have 1, 3 or 4 channels, got {channels}")
    return np.array(image, copy=True, order="C")


def render_overlay(frame: np.ndarray, mask: np.ndarray, blobs: Any = None, *,
                   alpha: float = 0.5) -> np.ndarray:
    """The frame with its mask tinted on it and the blobs' boxes drawn.

    Parameters
    ----------
    frame : numpy.ndarray
        The frame, as the source gave it (see :func:`to_display`).
    mask : numpy.ndarray
        uint8 (H, W): 255 foreground (tinted red), 1..254 shadow (tinted
        blue), 0 background (left as it is).
    blobs : Blobs, optional
        Anything with ``boxes`` (N, 4) ``x1, y1, x2, y2`` (exclusive); each
        is drawn as a 1-pixel green rectangle around the blob's pixels.
    alpha : float, default 0.5
        Weight of the tint.

    Returns
    -------
    numpy.ndarray
        uint8 (H, W, 3) BGR.

    Examples
    --------
    >>> from bgmix.blobs import find_blobs
    >>> frame = np.zeros((6, 8, 3), np.uint8)
    >>> mask = np.zeros((6, 8), np.uint8); mask[2:4, 3:5] = 255
    >>> picture = render_overlay(frame, mask, find_blobs(mask))
    >>> picture[2, 3].tolist(), picture[0, 0].tolist()   # a box pixel, an untouched one
    ([0, 255, 0], [0, 0, 0])
    >>> render_overlay(frame, mask)[2, 3].tolist()       # tinted red
    [0, 0, 128]
    """
    picture = to_display(frame)
    if not isinstance(mask, np.ndarray) or mask.shape[:2] != picture.shape[:2] or mask.ndim != 2:
        raise ValueError(f"the mask must be (H, W) = {picture.shape[:2]} like the frame, got "
                         f"{getattr(mask, 'shape', None)}")
    if not 0.0 <= alpha <= 1.0:
        raise ValueError(f"alpha must be in [0, 1], got {alpha}")
    for selected, tint in ((mask == 255, FOREGROUND_TINT), ((mask > 0) & (mask < 255), SHADOW_TINT)):
        if selected.any():
            blended = picture[selected] * (1.0 - alpha) + np.asarray(tint, np.float64) * alpha
            picture[selected] = np.rint(blended).astype(np.uint8)
    if blobs is not None:
        for x1, y1, x2, y2 in np.asarray(blobs.boxes).reshape(-1, 4).tolist():
            # boxes are exclusive; cv2.rectangle's second corner is inclusive
            cv2.rectangle(picture, (int(x1), int(y1)), (int(x2) - 1, int(y2) - 1), BOX_COLOUR, 1)
    return picture


class VideoFile(Sink):
    """A video written through the partial file of its final name and renamed when complete.

    Subclasses say what they write (``fourcc``, ``is_color``, ``kind``, the
    messages of a failure) and pass each finished picture to
    :meth:`_write_picture`; :meth:`close` renames (no file when nothing was
    written), :meth:`abort` discards.

    Parameters
    ----------
    path : str or PathLike
        Final file name; its folder is created if needed.
    fps : float
        Frame rate written in the container.
    frame_size : (width, height) or None
        Size of the pictures; None takes it from the first one.

    Attributes
    ----------
    frames_written : int
        Pictures written so far (``n_written`` is the same number).
    """

    kind = "video"
    """What the video shows, for messages (``"overlay"``, ``"masks"`` ...)."""
    example_name: str | None = None
    """A file name to suggest for a path that is a folder; default: kind and suffix."""
    is_color = True
    write_error: type[Exception] = OSError
    """What a failed frame write raises (mask videos raise RuntimeError, as they always did)."""

    def __init__(self, path: str | os.PathLike[str], fps: float,
                 frame_size: tuple[int, int] | None = None) -> None:
        self.path = Path(path)
        fps = float(fps)
        if not np.isfinite(fps) or fps <= 0:
            raise ValueError(f"fps must be a positive number, got {fps!r}")
        if frame_size is not None:
            frame_size = (int(frame_size[0]), int(frame_size[1]))
            if frame_size[0] < 1 or frame_size[1] < 1:
                raise ValueError(f"frame_size must be (width, height) > 0, got {frame_size}")
        if self.path.is_dir():
            example = self.example_name or f"{self.kind}{self.path.suffix.lower()}"
            raise ValueError(f"{self.path} is a folder; give a file name such as {example}")
        self.fps = fps
        self.frame_size = frame_size
        self.frames_written = 0
        self._writer: cv2.VideoWriter | None = None
        self._partial: PartialFile | None = None
        self._closed = False
        self.path.parent.mkdir(parents=True, exist_ok=True)

    @property
    def n_written(self) -> int:
        """Same as :attr:`frames_written`."""
        return self.frames_written

    def _fourcc(self) -> str:  # pragma: no cover - abstract
        raise NotImplementedError

    def _cannot_open(self) -> Exception:
        return RuntimeError(f"OpenCV cannot write a {self._fourcc()} video to {self.path}")

    def _open(self, frame_size: tuple[int, int]) -> None:
        # The container is chosen by the suffix, so the partial file keeps it.
        partial = PartialFile(self.path, parents=False, suffix=self.path.suffix or ".mkv")
        os.close(partial.create())  # fails here, with the reason, where the folder is not writable
        writer = cv2.VideoWriter(str(partial.path), cv2.CAP_FFMPEG,
                                 cv2.VideoWriter_fourcc(*self._fourcc()), self.fps, frame_size,
                                 self.is_color)
        if not writer.isOpened():
            writer.release()
            partial.discard()
            raise self._cannot_open()
        self._writer = writer
        self._partial = partial
        self.frame_size = frame_size

    def _write_picture(self, picture: np.ndarray, what: str = "frame") -> None:
        if self._writer is None:
            self._open((int(picture.shape[1]), int(picture.shape[0])))
        assert self._writer is not None
        if self._writer.write(picture) is False:  # OpenCV 5 reports failures; 4.x returns None
            raise self.write_error(f"{self.path}: OpenCV failed to write {what} "
                                   f"{self.frames_written}")
        self.frames_written += 1

    def _release(self) -> PartialFile | None:
        self._closed = True
        if self._writer is not None:
            self._writer.release()
            self._writer = None
        partial, self._partial = self._partial, None
        return partial

    def close(self) -> None:
        """Finish the video and rename it to its final name (idempotent).

        No file is created when nothing was written.
        """
        if self._closed:
            return
        partial = self._release()
        if partial is not None:
            if self.frames_written:
                partial.commit()
            else:
                partial.discard()

    def abort(self) -> None:
        """Discard the video: release the writer and remove the partial file."""
        if self._closed:
            return
        partial = self._release()
        if partial is not None:
            partial.discard()


def verify_video(path: str | os.PathLike[str], frames_written: int) -> None:
    """Read the last frame of a closed video back; OSError if it cannot be read.

    FFmpeg does not report a full disk to OpenCV's writer, so a truncated
    video would otherwise pass for complete.
    """
    capture = cv2.VideoCapture(str(path), cv2.CAP_FFMPEG)
    try:
        ok = capture.isOpened() and capture.set(cv2.CAP_PROP_POS_FRAMES, frames_written - 1) \
            and capture.read()[0]
        if not ok:
            readable = max(0, int(capture.get(cv2.CAP_PROP_POS_FRAMES))) if capture.isOpened() else 0
            raise OSError(f"only {readable} of the {frames_written} frames written can be read "
                          "back (disk full?)")
    finally:
        capture.release()


class _ColourVideo(VideoFile):
    """A colour video whose codec follows its suffix (:data:`OVERLAY_SUFFIXES`)."""

    def __init__(self, path: str | os.PathLike[str], fps: float,
                 frame_size: tuple[int, int] | None = None) -> None:
        suffix = Path(path).suffix.lower()
        if suffix not in OVERLAY_SUFFIXES:
            raise ValueError(f"{self.kind} video {Path(path)}: the name must end in "
                             f"{', '.join(OVERLAY_SUFFIXES)}, got {suffix or 'no suffix'!r}")
        self.fourcc = OVERLAY_SUFFIXES[suffix]
        super().__init__(path, fps, frame_size)

    def _fourcc(self) -> str:
        return self.fourcc

    def _write_picture(self, picture: np.ndarray, what: str = "frame") -> None:
        if self._closed:
            raise ValueError(f"{self.path}: write to a closed {type(self).__name__}")
        size = (int(picture.shape[1]), int(picture.shape[0]))
        if self.frame_size is not None and size != self.frame_size:
            raise ValueError(f"{self.path}: frame {self.frames_written} is {size[0]}x{size[1]} "
                             f"but the video was opened for "
                             f"{self.frame_size[0]}x{self.frame_size[1]}")
        super()._write_picture(picture, what)


class OverlayVideoWriter(_ColourVideo):
    """Write frames with their masks tinted and blob boxes drawn (:func:`render_overlay`).

    Parameters
    ----------
    path : str or PathLike
        Final name, ending in ``.mp4``, ``.avi`` or ``.mkv``; its folder is
        created if needed.
    fps : float
        Frame rate written in the container.
    frame_size : (width, height), optional
        Size of the frames; None takes it from the first frame.
    alpha : float, default 0.5
        Weight of the tint.

    Examples
    --------
    >>> import os, tempfile
    >>> path = os.path.join(tempfile.mkdtemp(), "overlay.mp4")
    >>> mask = np.zeros((48, 64), np.uint8); mask[10:20, 10:30] = 255
    >>> with OverlayVideoWriter(path, fps=25) as sink:
    ...     sink.write(np.full((48, 64, 3), 90, np.uint8), mask)
    ...     os.path.exists(path)
    False
    >>> capture = cv2.VideoCapture(path)
    >>> int(capture.get(cv2.CAP_PROP_FRAME_COUNT)), capture.read()[1].shape
    (1, (48, 64, 3))
    """

    kind = "overlay"

    def __init__(self, path: str | os.PathLike[str], fps: float,
                 frame_size: tuple[int, int] | None = None, *, alpha: float = 0.5) -> None:
        if not 0.0 <= float(alpha) <= 1.0:
            raise ValueError(f"alpha must be in [0, 1], got {alpha}")
        self.alpha = float(alpha)
        super().__init__(path, fps, frame_size)

    def write(self, frame: np.ndarray, mask: np.ndarray, blobs: Any = None) -> None:
        """Append one frame drawn with its mask and, if given, its blobs' boxes."""
        self._write_picture(render_overlay(frame, mask, blobs, alpha=self.alpha))


class BackgroundVideoWriter(_ColourVideo):
    """Write the model's background image every ``every`` frames.

    Call :meth:`write` once per processed frame with the model; the
    background image is computed (one pass over the state) only on the
    calls numbered 1, 1 + every, 1 + 2 every, ...

    Parameters
    ----------
    path : str or PathLike
        Final name, ending in ``.mp4``, ``.avi`` or ``.mkv``.
    fps : float
        Frame rate of the *source*; the video gets ``fps / every`` so that it
        lasts as long as the source.
    frame_size : (width, height), optional
        None takes it from the first image.
    every : int, default 1
        Write one background image per this many frames.

    Examples
    --------
    >>> import os, tempfile
    >>> from bgmix import BackgroundMixture
    >>> model = BackgroundMixture()
    >>> path = os.path.join(tempfile.mkdtemp(), "background.avi")
    >>> with BackgroundVideoWriter(path, fps=25, every=2) as sink:
    ...     for i in range(5):
    ...         _ = model.apply(np.full((48, 64, 3), 80, np.uint8))
    ...         sink.write(model)
    ...     sink.n_written
    3
    >>> int(cv2.VideoCapture(path).get(cv2.CAP_PROP_FRAME_COUNT))
    3
    """

    kind = "background"

    def __init__(self, path: str | os.PathLike[str], fps: float,
                 frame_size: tuple[int, int] | None = None, *, every: int = 1) -> None:
        if isinstance(every, bool) or not isinstance(every, (int, np.integer)) or every < 1:
            raise ValueError(f"every must be an integer >= 1, got {every!r}")
        self.every = int(every)
        self.n_calls = 0
        super().__init__(path, float(fps) / self.every, frame_size)

    def write(self, model_or_image: Any) -> None:
        """Count one frame; on every ``every``-th (from the first) write the background.

        Parameters
        ----------
        model_or_image : BackgroundMixture or numpy.ndarray
            A model (its ``background_image()`` is taken only when needed)
            or a ready background image.
        """
        due = self.n_calls % self.every == 0
        self.n_calls += 1
        if not due:
            return
        if isinstance(model_or_image, np.ndarray):
            image = model_or_image
        else:
            image = model_or_image.background_image()
        self._write_picture(to_display(image))
