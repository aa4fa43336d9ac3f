"""The CDnet 2014 folder layout, read and written in one place.

A CDnet sequence folder (``cdnet2014/baseline/highway``, or one written by
:func:`write_cdnet`) holds::

    input/in000001.jpg ...        the frames (any image format; bgmix writes PNG)
    groundtruth/gt000001.png ...  the labels of each frame (see below)
    ROI.bmp                       255 inside the region of interest, 0 outside
    temporalROI.txt               "first last": the frames scored, 1-based, inclusive

and masks saved for scoring are ``bin000001.png ...`` (:func:`mask_name`).
Frame numbers are 1-based, as in the file names.

Labels: 0 static, 50 hard shadow, 85 outside the region of interest, 170
unknown motion, 255 motion (:data:`LABELS`).
"""

from __future__ import annotations

import numbers
import os
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from bgmix._validation import check_int
from bgmix.outputs.atomic import write_atomic
from bgmix.sources.paths import IMAGE_EXTENSIONS

if TYPE_CHECKING:
    from bgmix.synth import Scene, SceneStream

__all__ = [
    "CDNET_LABELS",
    "GROUND_TRUTH_FOLDER",
    "HARD_SHADOW",
    "INPUT_FOLDER",
    "MOTION",
    "OUTSIDE_ROI",
    "ROI_NAME",
    "STATIC",
    "TEMPORAL_ROI_NAME",
    "UNKNOWN_MOTION",
    "CDnetSequence",
    "check_labels",
    "check_temporal_roi",
    "find_input_frames",
    "ground_truth_name",
    "input_name",
    "is_mask_folder",
    "is_sequence_folder",
    "load_cdnet_sequence",
    "mask_name",
    "read_mask",
    "read_temporal_roi",
    "roi_image",
    "sequence_name",
    "write_cdnet",
]

STATIC = 0
HARD_SHADOW = 50
OUTSIDE_ROI = 85
UNKNOWN_MOTION = 170
MOTION = 255
CDNET_LABELS: tuple[int, ...] = (STATIC, HARD_SHADOW, OUTSIDE_ROI, UNKNOWN_MOTION, MOTION)
"""The ground-truth labels, in increasing order."""

INPUT_FOLDER = "input"
GROUND_TRUTH_FOLDER = "groundtruth"
ROI_NAME = "ROI.bmp"
TEMPORAL_ROI_NAME = "temporalROI.txt"

_LABEL_OK = np.zeros(256, dtype=bool)
_LABEL_OK[list(CDNET_LABELS)] = True
_INPUT_NAME = re.compile(r"in(\d+)(\.[A-Za-z0-9]+)")
_GT_NAME = re.compile(r"gt(\d{6,})\.png")
_MASK_NAME = re.compile(r"bin\d{6,}\.png")

PathLike = str | os.PathLike[str]


def input_name(frame: int, suffix: str = ".png") -> str:
    """``in000001.png``: the input file of a 1-based frame number."""
    return f"in{frame:06d}{suffix}"


def ground_truth_name(frame: int) -> str:
    """``gt000001.png``: the ground-truth file of a 1-based frame number."""
    return f"gt{frame:06d}.png"


def mask_name(frame: int) -> str:
    """``bin000001.png``: the saved mask of a 1-based frame number.

    Examples
    --------
    >>> mask_name(1), ground_truth_name(470), input_name(12, ".jpg")
    ('bin000001.png', 'gt000470.png', 'in000012.jpg')
    """
    return f"bin{frame:06d}.png"


def sequence_name(folder: str | os.PathLike[str]) -> str:
    """The name of a sequence: its folder's, or its parent's for a CDnet ``input/`` folder.

    Examples
    --------
    >>> sequence_name("cdnet2014/baseline/highway/input"), sequence_name("frames")
    ('highway', 'frames')
    """
    folder = Path(folder).resolve()
    # CDnet layout: <category>/<video>/input/in000001.jpg -> name the video.
    if folder.name.lower() == INPUT_FOLDER and folder.parent.name:
        return folder.parent.name
    return folder.name


def check_labels(gt: np.ndarray, where: str) -> None:
    """ValueError naming ``where`` when ``gt`` holds a value that is not in :data:`CDNET_LABELS`."""
    import cv2

    rows = np.ascontiguousarray(gt).reshape(-1, gt.shape[-1])  # cv2 wants 2-D images
    counts = cv2.calcHist([rows], [0], None, [256], [0, 256]).ravel()  # 10x np.bincount
    bad = np.flatnonzero((counts > 0) & ~_LABEL_OK)
    if bad.size:
        raise ValueError(
            f"{where} holds values {bad[:8].tolist()} that are not CDnet labels {CDNET_LABELS}"
        )


def roi_image(roi: object, shape: tuple[int, int]) -> np.ndarray:
    """A bool or uint8 ROI of ``shape`` as the uint8 image ``ROI.bmp`` holds (255 inside, 0 out)."""
    if not isinstance(roi, np.ndarray) or roi.shape != tuple(shape) or roi.dtype not in (np.uint8, np.bool_):
        raise ValueError(f"roi must be a bool or uint8 array of shape {tuple(shape)}")
    return np.where(roi.astype(bool), 255, 0).astype(np.uint8)


# --------------------------------------------------------------------------- reading


def read_mask(path: PathLike) -> np.ndarray:
    """Read a mask, ground truth or ROI image as a 2-D array (channel 0 if it has more).

    Parameters
    ----------
    path : str or path-like
        A PNG, BMP or any image OpenCV decodes.

    Returns
    -------
    numpy.ndarray
        (H, W), the file's dtype (uint8 for CDnet files).

    Raises
    ------
    FileNotFoundError
        If the file does not exist.
    ValueError
        If it cannot be decoded.

    Examples
    --------
    >>> import cv2, numpy as np, tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "bin000001.png"
    >>> _ = cv2.imwrite(str(path), np.full((2, 3, 3), 255, np.uint8))
    >>> read_mask(path).shape
    (2, 3)
    """
    import cv2

    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such file: {path}")
    image = cv2.imdecode(np.fromfile(path, dtype=np.uint8), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"cannot decode image {path}")
    return image[:, :, 0] if image.ndim == 3 else image


def check_temporal_roi(value: Any, where: str = "temporal_roi") -> tuple[int, int]:
    """A ``(first, last)`` temporal ROI as two ints, 1-based, inclusive; ValueError otherwise."""
    try:
        first, last = value
    except (TypeError, ValueError):
        raise ValueError(f"{where} must be a pair (first, last), got {value!r}") from None
    for v in (first, last):
        if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
            raise ValueError(f"{where} must hold two integers, got {value!r}")
    first, last = int(first), int(last)
    if not 1 <= first <= last:
        raise ValueError(f"{where} must satisfy 1 <= first <= last (1-based, inclusive), "
                         f"got ({first}, {last})")
    return first, last


def read_temporal_roi(path: PathLike) -> tuple[int, int]:
    """Read a CDnet ``temporalROI.txt``: ``"first last"``, 1-based, inclusive.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> path = pathlib.Path(tempfile.mkdtemp()) / "temporalROI.txt"
    >>> _ = path.write_text("470 1700\\n")
    >>> read_temporal_roi(path)
    (470, 1700)
    """
    path = Path(path)
    text = path.read_text()
    fields = text.split()
    if len(fields) != 2 or not all(re.fullmatch(r"\d+", f) for f in fields):
        raise ValueError(f"{path} must hold two integers 'first last', got {text.strip()!r}")
    return check_temporal_roi((int(fields[0]), int(fields[1])), str(path))


@dataclass(frozen=True)
class CDnetSequence:
    """A CDnet-layout folder: ROI and temporal ROI in memory, ground truth read on demand.

    Made by :func:`load_cdnet_sequence`.

    Attributes
    ----------
    folder : pathlib.Path
        The sequence folder (holding ``groundtruth/``).
    n_frames : int
        The highest frame number of ``groundtruth/gt%06d.png``.
    roi : numpy.ndarray or None
        ``ROI.bmp`` as (H, W) uint8 (channel 0), or None when absent.
    temporal_roi : (int, int) or None
        ``temporalROI.txt`` (1-based, inclusive), or None when absent.
    """

    folder: Path
    n_frames: int
    roi: np.ndarray | None = field(default=None, repr=False)
    temporal_roi: tuple[int, int] | None = None

    def ground_truth_path(self, frame: int) -> Path:
        """``groundtruth/gt%06d.png`` of a 1-based frame number."""
        return self.folder / GROUND_TRUTH_FOLDER / ground_truth_name(frame)

    def ground_truth(self, frame: int) -> np.ndarray:
        """Read the (H, W) ground truth of a 1-based frame number.

        Raises ``FileNotFoundError`` naming the file when it is missing.
        """
        path = self.ground_truth_path(frame)
        if not path.is_file():
            raise FileNotFoundError(f"frame {frame}: ground truth {path} is missing")
        return read_mask(path)

    def frames(self) -> range:
        """Frame numbers to score: the temporal ROI, or 1..n_frames without one."""
        first, last = self.temporal_roi or (1, self.n_frames)
        return range(first, last + 1)

    def iter_ground_truth(self, first: int | None = None,
                          last: int | None = None) -> Iterator[tuple[int, np.ndarray]]:
        """Yield ``(frame, gt)`` for frames ``first..last`` (default :meth:`frames`)."""
        default = self.frames()
        start = default.start if first is None else first
        stop = default.stop - 1 if last is None else last
        for n in range(start, stop + 1):
            yield n, self.ground_truth(n)


def load_cdnet_sequence(folder: PathLike) -> CDnetSequence:
    """Open a CDnet-layout sequence folder.

    Reads ``ROI.bmp`` (channel 0 of a 3-channel bmp; 0 = ignored) and
    ``temporalROI.txt`` if they exist and lists ``groundtruth/gt%06d.png``;
    the ground-truth frames themselves are read one at a time on demand.

    Parameters
    ----------
    folder : str or path-like
        Folder holding ``groundtruth/`` and optionally ``ROI.bmp`` and
        ``temporalROI.txt`` (e.g. ``cdnet2014/baseline/highway``).

    Returns
    -------
    CDnetSequence

    Raises
    ------
    FileNotFoundError
        If ``folder/groundtruth`` is not a folder or holds no ``gt%06d.png``.

    Examples
    --------
    >>> import tempfile
    >>> from bgmix.synth import make_scene, write_cdnet
    >>> folder = write_cdnet(make_scene(n_frames=40, height=32, width=48), tempfile.mkdtemp())
    >>> seq = load_cdnet_sequence(folder)
    >>> seq.n_frames, seq.temporal_roi, seq.roi.shape, seq.ground_truth(31).shape
    (40, (31, 40), (32, 48), (32, 48))
    """
    folder = Path(folder)
    gt_dir = folder / GROUND_TRUTH_FOLDER
    if not gt_dir.is_dir():
        raise FileNotFoundError(f"{folder} is not a CDnet sequence folder: "
                                f"{gt_dir} does not exist")
    numbers_found = [int(m.group(1)) for m in map(_GT_NAME.fullmatch, os.listdir(gt_dir)) if m]
    if not numbers_found:
        raise FileNotFoundError(f"{gt_dir} holds no gt%06d.png files")
    roi_path = folder / ROI_NAME
    roi = None
    if roi_path.is_file():
        roi = read_mask(roi_path)
    temporal_path = folder / TEMPORAL_ROI_NAME
    temporal = read_temporal_roi(temporal_path) if temporal_path.is_file() else None
    return CDnetSequence(folder, max(numbers_found), roi, temporal)


def is_sequence_folder(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` has the CDnet layout: ``input/`` and ``groundtruth/`` folders."""
    folder = Path(folder)
    return (folder / INPUT_FOLDER).is_dir() and (folder / GROUND_TRUTH_FOLDER).is_dir()


def find_input_frames(folder: str | os.PathLike[str]) -> list[Path]:
    """The input frames of a CDnet folder, ``input/in000001.jpg ...``, in frame order.

    Frames are numbered from 1 without gaps; any image extension OpenCV reads
    is accepted (CDnet uses ``.jpg``, :func:`bgmix.synth.write_cdnet` ``.png``).

    Raises
    ------
    FileNotFoundError
        No ``input/`` folder, or no ``in<number>.<image>`` file in it.
    ValueError
        Numbers that do not run 1, 2, ... N, or one number given twice.
    """
    inputs = Path(folder) / INPUT_FOLDER
    if not inputs.is_dir():
        raise FileNotFoundError(f"{folder} is not a CDnet sequence folder: {inputs} does not exist")
    found: dict[int, Path] = {}
    for entry in os.scandir(inputs):
        match = _INPUT_NAME.fullmatch(entry.name)
        if match is None or match.group(2).lower() not in IMAGE_EXTENSIONS or not entry.is_file():
            continue
        number = int(match.group(1))
        if number in found:
            raise ValueError(f"frame {number} appears twice in {inputs}: "
                             f"{found[number].name} and {entry.name}")
        found[number] = Path(entry.path)
    if not found:
        raise FileNotFoundError(f"{inputs} holds no input frames (in000001.jpg or .png ...)")
    numbers = sorted(found)
    if numbers[0] != 1 or numbers[-1] != len(numbers):
        expected = next(n for n in range(1, numbers[-1] + 1) if n not in found)
        raise ValueError(f"the input frames in {inputs} are not numbered 1 to {numbers[-1]} "
                         f"without gaps: frame {expected} is missing")
    return [found[n] for n in numbers]


def is_mask_folder(folder: str | os.PathLike[str]) -> bool:
    """Whether ``folder`` holds saved masks named the CDnet way (``bin000001.png`` ...)."""
    try:
        return any(_MASK_NAME.fullmatch(e.name) and e.is_file() for e in os.scandir(folder))
    except OSError:
        return False


# --------------------------------------------------------------------------- writing


def _encode(ext: str, image: np.ndarray, params: list[int]) -> bytes:
    import cv2

    ok, buf = cv2.imencode(ext, image, params)
    if not ok:
        raise ValueError(f"OpenCV could not encode a {image.shape} {image.dtype} image as {ext}")
    return buf.tobytes()


def write_cdnet(scene: Scene | SceneStream | Iterable[tuple[np.ndarray, np.ndarray]],
                folder: str | os.PathLike[str], *, warmup: int | None = None,
                roi: np.ndarray | None = None, png_compression: int = 3) -> Path:
    """Write a scene in the CDnet 2014 folder layout, losslessly.

    Creates ``folder/input/in000001.png ...`` (frames, 8- or 16-bit PNG),
    ``folder/groundtruth/gt000001.png ...`` (labels), ``folder/ROI.bmp`` (255
    inside the region of interest, 0 outside; all 255 when the scene has none)
    and ``folder/temporalROI.txt`` (``"first last"``, 1-based, inclusive: the
    frames after the warm-up). Every file is written under a temporary name and
    renamed into place; ``temporalROI.txt`` is written last, so its presence
    means the sequence is complete. Numbered frames left over from a longer
    sequence previously written to the same folder are removed.

    Parameters
    ----------
    scene : Scene, SceneStream or iterable of (frame, gt)
        What to write. A plain iterable carries no metadata: pass ``warmup``
        and ``roi`` as needed.
    folder : str or path-like
        Destination, created if missing.
    warmup : int, optional
        Overrides the scene's warm-up (0 for a plain iterable).
    roi : numpy.ndarray, optional
        (H, W) bool or uint8 mask overriding the scene's region of interest.
    png_compression : int
        zlib level 0-9 for the PNGs (lossless at every level).

    Returns
    -------
    pathlib.Path
        The folder.

    Examples
    --------
    >>> import cv2, tempfile
    >>> from bgmix.synth import make_scene, write_cdnet
    >>> scene = make_scene(n_frames=40, height=32, width=48)
    >>> folder = write_cdnet(scene, tempfile.mkdtemp())
    >>> (folder / "temporalROI.txt").read_text().split()
    ['31', '40']
    >>> frame = cv2.imread(str(folder / "input" / "in000001.png"), cv2.IMREAD_UNCHANGED)
    >>> bool((frame == scene.frames[0]).all())
    True
    """
    import cv2

    folder = Path(folder)
    level = check_int("png_compression", png_compression, 0, 9)
    png = [cv2.IMWRITE_PNG_COMPRESSION, level]
    if warmup is None:
        warmup = getattr(scene, "warmup", 0)
    warmup = check_int("warmup", warmup, 0)
    if roi is None:
        roi = getattr(scene, "roi", None)
    inputs, truths = folder / INPUT_FOLDER, folder / GROUND_TRUTH_FOLDER
    inputs.mkdir(parents=True, exist_ok=True)
    truths.mkdir(parents=True, exist_ok=True)

    n = 0
    size: tuple[int, int] | None = None
    for n, (frame, gt) in enumerate(scene, start=1):
        frame, gt = np.asarray(frame), np.asarray(gt)
        if frame.dtype not in (np.uint8, np.uint16) or frame.ndim not in (2, 3) or (
                frame.ndim == 3 and frame.shape[2] not in (1, 3)):
            raise ValueError(f"frame {n}: expected uint8/uint16 (H, W[, 1|3]), got "
                             f"shape {frame.shape}, dtype {frame.dtype}")
        if size is None:
            size = frame.shape[:2]
        if frame.shape[:2] != size or gt.shape != size or gt.dtype != np.uint8:
            raise ValueError(f"frame {n}: frame {frame.shape} {frame.dtype} and ground truth "
                             f"{gt.shape} {gt.dtype} must be (H, W) = {size} (uint8 labels)")
        check_labels(gt, f"ground truth of frame {n}")
        write_atomic(inputs / input_name(n), _encode(".png", frame, png))
        write_atomic(truths / ground_truth_name(n), _encode(".png", gt, png))
    if size is None:
        raise ValueError("the scene has no frames")
    if warmup >= n:
        raise ValueError(f"warmup ({warmup}) must be < the number of frames ({n})")

    for sub, prefix in ((inputs, "in"), (truths, "gt")):
        pattern = re.compile(rf"{prefix}(\d{{6,}})\.png")
        for path in sub.iterdir():
            match = pattern.fullmatch(path.name)
            if match and int(match.group(1)) > n:
                path.unlink()

    region = np.full(size, 255, np.uint8) if roi is None else roi_image(roi, size)
    write_atomic(folder / ROI_NAME, _encode(".bmp", region, []))
    write_atomic(folder / TEMPORAL_ROI_NAME, f"{warmup + 1} {n}\n".encode())
    return folder
