"""Masks and other grey images: a lossless FFV1 video, or a folder of CDnet-named PNGs.

:class:`MaskVideoWriter` (lossless FFV1 in Matroska) and
:class:`PngMaskWriter` (CDnet ``bin000001.png`` naming) never leave a
half-written file under a final name (:mod:`bgmix.outputs.atomic`): the
video is written to the partial file of its name and renamed by
:meth:`MaskVideoWriter.close`; every PNG is written to its partial file and
renamed as soon as it is complete. :func:`probability_image` and
:func:`outlier_image` turn the model's soft outputs into such grey images.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any, Literal

import cv2
import numpy as np

from bgmix.cdnet import mask_name
from bgmix.outputs.atomic import write_atomic
from bgmix.outputs.videos import VideoFile
from bgmix.sources.base import size_of

__all__ = ["DEFAULT_FPS", "MaskVideoWriter", "PngMaskWriter", "check_mask", "open_mask_sink",
           "outlier_image", "probability_image"]

DEFAULT_FPS = 25.0
"""Frame rate given to a mask video when the source's is unknown."""


def check_mask(mask: Any, size: tuple[int, int] | None, where: str) -> np.ndarray:
    """A mask as a contiguous uint8 (H, W) array (bool as 0/255), or a ValueError naming ``where``."""
    if not isinstance(mask, np.ndarray):
        raise ValueError(f"{where}: a mask must be a numpy array, got {type(mask).__name__}")
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[:, :, 0]
    if mask.ndim != 2:
        raise ValueError(f"{where}: a mask must have shape (H, W), got {tuple(mask.shape)}")
    if mask.dtype == np.bool_:
        mask = mask.view(np.uint8) * np.uint8(255)
    elif mask.dtype != np.uint8:
        raise ValueError(f"{where}: a mask must be uint8 or bool, got dtype {mask.dtype}")
    if size is not None and size_of(mask) != size:
        raise ValueError(f"{where}: mask is {mask.shape[1]}x{mask.shape[0]} but the sink was "
                         f"opened for {size[0]}x{size[1]} (width x height)")
    return np.ascontiguousarray(mask)


def probability_image(probability: np.ndarray) -> np.ndarray:
    """The foreground probability as a new uint8 image, ``round(255 p)``.

    Examples
    --------
    >>> probability_image(np.array([[0.0, 0.5, 1.0]], np.float32)).tolist()
    [[0, 128, 255]]
    """
    return np.rint(probability * np.float32(255)).astype(np.uint8)


def outlier_image(log_likelihood: np.ndarray, threshold: float) -> np.ndarray:
    """255 where the log-likelihood is below ``threshold`` (``-inf`` too), else 0; a new image.

    Examples
    --------
    >>> outlier_image(np.array([[-3.0, -40.0, -np.inf]], np.float32), -20.0).tolist()
    [[0, 255, 255]]
    """
    return (log_likelihood < np.float32(threshold)).view(np.uint8) * np.uint8(255)


class MaskVideoWriter(VideoFile):
    """Write grey masks to a lossless FFV1 video in a Matroska (``.mkv``) file.

    The video is written to the hidden partial file of ``path`` and
    renamed to ``path`` by :meth:`close`, so ``path`` is either absent or a
    complete video. Read back with ``cv2.VideoCapture``, every pixel comes
    back exactly (OpenCV returns it as 3 equal BGR channels unless
    ``CAP_PROP_CONVERT_RGB`` is turned off).

    Parameters
    ----------
    path : str or PathLike
        Final file name; its folder is created if needed. ``.mkv`` is
        recommended (FFV1 is not allowed in MP4).
    fps : float
        Frame rate written in the container.
    frame_size : (width, height) or None
        Size of the masks; None takes it from the first mask.

    Notes
    -----
    Leaving a ``with`` block normally calls :meth:`close`; leaving it with
    an exception calls :meth:`abort`, which removes the partial file. To
    keep what was written before an interruption, call :meth:`close` in the
    handler. If no mask was written, :meth:`close` creates no file.

    Examples
    --------
    >>> import os, tempfile, cv2, numpy as np
    >>> path = os.path.join(tempfile.mkdtemp(), "masks.mkv")
    >>> with MaskVideoWriter(path, fps=25, frame_size=(64, 48)) as sink:
    ...     sink.write(np.full((48, 64), 255, np.uint8))
    ...     os.path.exists(path)
    False
    >>> ok, frame = cv2.VideoCapture(path).read()
    >>> ok, frame.shape, int(frame.min())
    (True, (48, 64, 3), 255)
    """

    kind = "masks"
    example_name = "masks.mkv"
    is_color = False
    write_error = RuntimeError

    def __init__(self, path: str | os.PathLike[str], fps: float,
                 frame_size: tuple[int, int] | None = None) -> None:
        super().__init__(path, fps, frame_size)
        if self.frame_size is not None:
            self._open(self.frame_size)

    def _fourcc(self) -> str:
        return "FFV1"

    def _cannot_open(self) -> Exception:
        return RuntimeError(f"OpenCV cannot write an FFV1 video to {self.path} (is this "
                            "OpenCV built with FFmpeg? use a .mkv name)")

    def write(self, mask: np.ndarray) -> None:
        """Append one mask: uint8 (H, W) or (H, W, 1), or bool (written as 0/255)."""
        if self._closed:
            raise ValueError(f"{self.path}: write to a closed MaskVideoWriter")
        self._write_picture(check_mask(mask, self.frame_size, str(self.path)), "mask")


class PngMaskWriter:
    """Write masks as PNG files named the CDnet way: ``bin000001.png``, ...

    Each PNG is encoded in memory, written to its partial file and renamed
    (:func:`~bgmix.outputs.atomic.write_atomic`), so every file with a final
    name is a complete image.

    Parameters
    ----------
    folder : str or PathLike
        Created if needed; existing files of the same names are replaced.
    start_index : int, default=1
        Number of the first file (CDnet counts from 1).
    frame_size : (width, height), optional
        If given, every mask must have this size.

    Examples
    --------
    >>> import os, tempfile, cv2, numpy as np
    >>> folder = tempfile.mkdtemp()
    >>> with PngMaskWriter(folder) as sink:
    ...     sink.write(np.zeros((4, 6), np.uint8))
    ...     sink.write(np.full((4, 6), 255, np.uint8))
    >>> sorted(os.listdir(folder))
    ['bin000001.png', 'bin000002.png']
    >>> int(cv2.imread(os.path.join(folder, "bin000002.png"), cv2.IMREAD_UNCHANGED).min())
    255
    """

    def __init__(self, folder: str | os.PathLike[str], start_index: int = 1,
                 frame_size: tuple[int, int] | None = None) -> None:
        if isinstance(start_index, bool) or not isinstance(start_index, int) or start_index < 0:
            raise ValueError(f"start_index must be an integer >= 0, got {start_index!r}")
        self.folder = Path(folder)
        if self.folder.exists() and not self.folder.is_dir():
            raise ValueError(f"{self.folder} exists and is not a folder")
        self.folder.mkdir(parents=True, exist_ok=True)
        self.path = self.folder
        self.start_index = start_index
        self.frame_size = None if frame_size is None else (int(frame_size[0]), int(frame_size[1]))
        self.frames_written = 0
        self._closed = False

    @property
    def n_written(self) -> int:
        """Same as :attr:`frames_written`."""
        return self.frames_written

    def name_for(self, index: int) -> str:
        """File name of the mask numbered ``index`` (``bin000001.png`` for 1)."""
        return mask_name(index)

    def write(self, mask: np.ndarray) -> None:
        """Write the next mask: uint8 (H, W) or (H, W, 1), or bool (0/255)."""
        if self._closed:
            raise ValueError(f"{self.folder}: write to a closed PngMaskWriter")
        mask = check_mask(mask, self.frame_size, str(self.folder))
        ok, data = cv2.imencode(".png", mask)
        if not ok:  # pragma: no cover - imencode fails only on bad input
            raise RuntimeError(f"PNG encoding failed for mask {self.frames_written}")
        write_atomic(self.folder / self.name_for(self.start_index + self.frames_written),
                     data.tobytes())
        self.frames_written += 1

    def close(self) -> None:
        """Nothing to finish (every file is complete when written); idempotent."""
        self._closed = True

    def abort(self) -> None:
        """Stop writing; files already written are complete and kept."""
        self._closed = True

    def __enter__(self) -> PngMaskWriter:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def open_mask_sink(path_or_dir: str | os.PathLike[str], kind: Literal["mkv", "png"] = "mkv",
                   fps: float | None = None,
                   frame_size: tuple[int, int] | None = None) -> MaskVideoWriter | PngMaskWriter:
    """Open a mask sink: an FFV1 video file or a folder of CDnet-named PNGs.

    Parameters
    ----------
    path_or_dir : str or PathLike
        The video file (``kind="mkv"``) or the folder (``kind="png"``).
    kind : {"mkv", "png"}
    fps : float, optional
        Video frame rate; :data:`DEFAULT_FPS` when None. Ignored for PNGs.
    frame_size : (width, height), optional
        Expected mask size; None takes it from the first mask.

    Returns
    -------
    MaskVideoWriter or PngMaskWriter
        With ``write(mask)``, ``close()``, ``abort()``, ``path`` and
        ``frames_written``.

    Examples
    --------
    >>> import os, tempfile, numpy as np
    >>> out = tempfile.mkdtemp()
    >>> with open_mask_sink(os.path.join(out, "masks"), kind="png") as sink:
    ...     sink.write(np.zeros((4, 6), np.uint8))
    >>> os.listdir(os.path.join(out, "masks"))
    ['bin000001.png']
    """
    if kind == "mkv":
        return MaskVideoWriter(path_or_dir, DEFAULT_FPS if fps is None else fps, frame_size)
    if kind == "png":
        return PngMaskWriter(path_or_dir, frame_size=frame_size)
    raise ValueError(f"unknown mask sink kind {kind!r}; expected 'mkv' or 'png'")
