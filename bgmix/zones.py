"""Where to look: a region-of-interest mask and named polygon zones.

A **region of interest** (ROI) is an image the size of the frame: non-zero
pixels are watched, zero pixels are ignored (:func:`load_roi`). It is applied
to a mask before anything counts it (:func:`apply_roi`), so a busy road or a
tree outside the ROI never starts an event nor makes a blob.

A **zone** is a named polygon in pixel coordinates, written
``name=x1,y1,x2,y2,x3,y3,...`` on the command line (:func:`parse_zone`) or
given in a TOML config (:func:`zones_from_config`). A :class:`ZoneSet`
rasterises zones for one frame size and says which zones a blob touches (a
blob touches a zone when at least one of its pixels, or of its box, lies in
the zone's polygon), and how much foreground lies in each zone.

Coordinates are pixels: ``x`` from the left edge, ``y`` from the top, of the
frame as it is decoded (0-based, the same as the boxes of
:mod:`bgmix.blobs`). A zone's vertices must lie inside the frame.

Examples
--------
>>> zone = parse_zone("door=2,1,6,1,6,4,2,4")
>>> zone.name, zone.points
('door', ((2, 1), (6, 1), (6, 4), (2, 4)))
>>> zones = ZoneSet([zone], frame_size=(8, 6))
>>> int(zones.masks["door"].sum())
20
>>> zones.touched_by_boxes(np.array([[0, 0, 3, 3], [7, 5, 8, 6]]))
[('door',), ()]
"""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import cv2
import numpy as np

__all__ = ["Zone", "ZoneSet", "apply_roi", "load_roi", "parse_zone", "parse_zones",
           "zones_from_config"]

ZONE_NAME = re.compile(r"^[A-Za-z0-9_][A-Za-z0-9_.-]{0,63}$")
"""Zone names: letters, digits, ``_``, ``.``, ``-`` (they name files such as
``events-door.csv``), at most 64 characters, not starting with ``.`` or ``-``."""


# --------------------------------------------------------------------------- ROI


def load_roi(path: str | os.PathLike[str],
             frame_size: tuple[int, int] | None = None) -> np.ndarray:
    """Read a region-of-interest image: non-zero pixels are watched.

    Parameters
    ----------
    path : str or PathLike
        Any image OpenCV reads (PNG, BMP such as CDnet's ``ROI.bmp``, ...),
        grey or colour; a colour pixel is watched when any channel is non-zero.
    frame_size : (width, height), optional
        The video's frame size; the image must have exactly this size.

    Returns
    -------
    numpy.ndarray
        bool (H, W), True where watched.

    Raises
    ------
    FileNotFoundError
        No such file (the message names it).
    ValueError
        The file is not an image OpenCV can read, its size differs from the
        frame's, or it watches no pixel at all (each message names the file).

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "roi.png"
    >>> image = np.zeros((4, 6), np.uint8); image[1:3, 2:5] = 255
    >>> _ = cv2.imwrite(str(path), image)
    >>> load_roi(path, (6, 4)).sum()
    np.int64(6)
    >>> load_roi(path, (8, 4))
    Traceback (most recent call last):
    ...
    ValueError: ROI .../roi.png is 6x4 but the frames are 8x4; draw the mask on a frame of the video
    """
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"ROI {path}: no such file")
    if path.is_dir():
        raise ValueError(f"ROI {path} is a folder, not an image")
    image = cv2.imread(str(path), cv2.IMREAD_UNCHANGED)
    if image is None:
        raise ValueError(f"ROI {path}: not an image OpenCV can read (use a PNG: non-zero = watched)")
    watched = image != 0 if image.ndim == 2 else np.any(image != 0, axis=2)
    height, width = watched.shape
    if frame_size is not None:
        fw, fh = int(frame_size[0]), int(frame_size[1])
        if (width, height) != (fw, fh):
            raise ValueError(f"ROI {path} is {width}x{height} but the frames are {fw}x{fh}; "
                             "draw the mask on a frame of the video")
    if not watched.any():
        raise ValueError(f"ROI {path} watches no pixel (every pixel is 0; non-zero = watched)")
    return watched


def _check_mask_shape(mask: Any, shape: tuple[int, int], what: str) -> np.ndarray:
    if not isinstance(mask, np.ndarray) or mask.ndim != 2:
        raise ValueError(f"{what} must be an (H, W) array, got {getattr(mask, 'shape', type(mask).__name__)}")
    if mask.shape != shape:
        raise ValueError(f"{what} is {mask.shape[1]}x{mask.shape[0]} but the ROI is "
                         f"{shape[1]}x{shape[0]}")
    return mask


def apply_roi(mask: np.ndarray, roi: np.ndarray | None, out: np.ndarray | None = None) -> np.ndarray:
    """The mask with every pixel outside the ROI set to 0 (background).

    ``roi`` None returns ``mask`` itself (or copies it into ``out``).

    Examples
    --------
    >>> mask = np.full((2, 3), 255, np.uint8)
    >>> roi = np.array([[True, False, True], [False, False, True]])
    >>> apply_roi(mask, roi).tolist()
    [[255, 0, 255], [0, 0, 255]]
    """
    if roi is None:
        if out is None:
            return mask
        np.copyto(out, mask)
        return out
    roi = np.asarray(roi)
    _check_mask_shape(mask, roi.shape, "the mask")
    if out is None:
        out = np.empty_like(mask)
    np.multiply(mask, roi.astype(bool, copy=False), out=out, casting="unsafe")
    return out


# --------------------------------------------------------------------------- zones


@dataclass(frozen=True)
class Zone:
    """A named polygon: ``points`` are ``(x, y)`` pixel vertices, at least 3.

    Examples
    --------
    >>> Zone("lane", ((0, 0), (4, 0), (0, 4))).to_text()
    'lane=0,0,4,0,0,4'
    """

    name: str
    points: tuple[tuple[int, int], ...]

    def __post_init__(self) -> None:
        if not isinstance(self.name, str) or not ZONE_NAME.match(self.name):
            raise ValueError(f"zone name {self.name!r}: use letters, digits, '_', '.', '-' "
                             "(at most 64, not starting with '.' or '-')")
        points = tuple((int(x), int(y)) for x, y in self.points)
        if len(points) < 3:
            raise ValueError(f"zone {self.name}: a polygon needs at least 3 points "
                             f"(x1,y1,x2,y2,x3,y3), got {len(points)}")
        if any(x < 0 or y < 0 for x, y in points):
            raise ValueError(f"zone {self.name}: coordinates are pixels from the top-left "
                             f"corner and cannot be negative, got {points}")
        object.__setattr__(self, "points", points)

    def to_text(self) -> str:
        """The ``name=x1,y1,...`` form :func:`parse_zone` reads."""
        return f"{self.name}=" + ",".join(f"{x},{y}" for x, y in self.points)

    def mask(self, frame_size: tuple[int, int]) -> np.ndarray:
        """bool (H, W): the polygon's pixels (filled, edges included).

        Raises ValueError when a vertex is outside the frame or the polygon
        covers no pixel.
        """
        width, height = int(frame_size[0]), int(frame_size[1])
        outside = [(x, y) for x, y in self.points if x >= width or y >= height]
        if outside:
            raise ValueError(f"zone {self.name}: point {outside[0]} is outside the "
                             f"{width}x{height} frame (x < {width}, y < {height})")
        image = np.zeros((height, width), np.uint8)
        cv2.fillPoly(image, [np.array(self.points, np.int32).reshape(-1, 1, 2)], 1)
        if not image.any():  # pragma: no cover - fillPoly draws at least the vertices
            raise ValueError(f"zone {self.name}: the polygon covers no pixel")
        return image.astype(bool)


def _numbers(name: str, items: Sequence[Any], where: str) -> list[int]:
    values = []
    for item in items:
        if isinstance(item, bool):
            raise ValueError(f"{where}: zone {name}: coordinates must be whole pixel numbers, "
                             f"got {item!r}")
        if isinstance(item, str):
            text = item.strip()
            if not re.fullmatch(r"[+-]?\d+", text):
                raise ValueError(f"{where}: zone {name}: coordinates must be whole pixel "
                                 f"numbers, got {item!r}")
            values.append(int(text))
        elif isinstance(item, (int, np.integer)):
            values.append(int(item))
        elif isinstance(item, float) and math.isfinite(item) and item == int(item):
            values.append(int(item))
        else:
            raise ValueError(f"{where}: zone {name}: coordinates must be whole pixel numbers, "
                             f"got {item!r}")
    if len(values) % 2:
        raise ValueError(f"{where}: zone {name}: {len(values)} numbers; coordinates come in "
                         "x,y pairs")
    return values


def _zone(name: Any, numbers: Sequence[Any], where: str) -> Zone:
    if not isinstance(name, str) or not ZONE_NAME.match(name):
        raise ValueError(f"{where}: zone name {name!r}: use letters, digits, '_', '.', '-' "
                         "(at most 64, not starting with '.' or '-')")
    values = _numbers(name, numbers, where)
    try:
        return Zone(name, tuple(zip(values[0::2], values[1::2])))
    except ValueError as exc:
        raise ValueError(f"{where}: {exc}") from None


def parse_zone(text: str) -> Zone:
    """Parse ``name=x1,y1,x2,y2,x3,y3[,...]`` (pixels, at least 3 points).

    Raises
    ------
    ValueError
        A message that quotes the text and says what is wrong.

    Examples
    --------
    >>> parse_zone("gate=0,0,10,0,10,5").points
    ((0, 0), (10, 0), (10, 5))
    >>> parse_zone("gate=0,0,10")
    Traceback (most recent call last):
    ...
    ValueError: --zone 'gate=0,0,10': zone gate: 3 numbers; coordinates come in x,y pairs
    >>> parse_zone("0,0,10,0,10,5")
    Traceback (most recent call last):
    ...
    ValueError: --zone '0,0,10,0,10,5': expected NAME=x1,y1,x2,y2,x3,y3,...
    """
    where = f"--zone {text!r}"
    if not isinstance(text, str) or "=" not in text:
        raise ValueError(f"{where}: expected NAME=x1,y1,x2,y2,x3,y3,...")
    name, _, coords = text.partition("=")
    name = name.strip()
    parts = [part for part in coords.split(",")]
    if not coords.strip() or any(not part.strip() for part in parts):
        raise ValueError(f"{where}: expected NAME=x1,y1,x2,y2,x3,y3,... (an empty coordinate)")
    return _zone(name, parts, where)


def _unique(zones: list[Zone], where: str) -> list[Zone]:
    seen: set[str] = set()
    for zone in zones:
        if zone.name in seen:
            raise ValueError(f"{where}: zone {zone.name} is defined twice")
        seen.add(zone.name)
    return zones


def parse_zones(texts: Iterable[str]) -> list[Zone]:
    """:func:`parse_zone` for each of several ``--zone`` values; names must be unique.

    Examples
    --------
    >>> [z.name for z in parse_zones(["a=0,0,1,0,1,1", "b=0,0,2,0,2,2"])]
    ['a', 'b']
    """
    return _unique([parse_zone(text) for text in texts], "--zone")


def zones_from_config(value: Any, *, where: str = "config") -> list[Zone]:
    """Zones from a TOML config's ``zones`` value.

    Accepted forms (``where`` names the file in error messages)::

        zones = ["door=10,20,60,20,60,90,10,90", "lane=0,200,320,200,320,240,0,240"]

        [zones]
        door = [10, 20, 60, 20, 60, 90, 10, 90]        # flat x, y list
        lane = [[0, 200], [320, 200], [320, 240], [0, 240]]   # or pairs

    Examples
    --------
    >>> import tomllib
    >>> config = tomllib.loads("[zones]\\ndoor = [[1, 1], [5, 1], [5, 4]]\\n")
    >>> zones_from_config(config["zones"], where="cam.toml")[0].points
    ((1, 1), (5, 1), (5, 4))
    >>> zones_from_config({"door": [1, 1, 5]}, where="cam.toml")
    Traceback (most recent call last):
    ...
    ValueError: cam.toml: zones.door: zone door: 3 numbers; coordinates come in x,y pairs
    """
    if isinstance(value, str):
        value = [value]
    if isinstance(value, Mapping):
        zones = []
        for name, coords in value.items():
            key = f"{where}: zones.{name}"
            if not isinstance(coords, (list, tuple)):
                raise ValueError(f"{key}: expected a list of x, y numbers or of [x, y] pairs, "
                                 f"got {type(coords).__name__}")
            flat: list[Any] = []
            for item in coords:
                if isinstance(item, (list, tuple)):
                    if len(item) != 2:
                        raise ValueError(f"{key}: a point is [x, y], got {list(item)!r}")
                    flat.extend(item)
                else:
                    flat.append(item)
            zones.append(_zone(name, flat, key))
        return _unique(zones, where)
    if isinstance(value, (list, tuple)):
        zones = []
        for item in value:
            if not isinstance(item, str):
                raise ValueError(f"{where}: zones: expected strings NAME=x1,y1,..., got {item!r}")
            try:
                zones.append(parse_zone(item))
            except ValueError as exc:
                raise ValueError(f"{where}: zones: {str(exc).split(': ', 1)[1]} ({item!r})") from None
        return _unique(zones, where)
    raise ValueError(f"{where}: zones must be a table of name = [x, y, ...] or a list of "
                     f"'NAME=x1,y1,...' strings, got {type(value).__name__}")


class ZoneSet:
    """Zones rasterised for one frame size (and clipped to the ROI, when given).

    Parameters
    ----------
    zones : iterable of Zone (or ``name=...`` strings)
    frame_size : (width, height)
    roi : bool (H, W) array, optional
        A zone's pixels outside the ROI are not part of it (nothing there is
        ever foreground); a zone entirely outside the ROI is an error.

    Attributes
    ----------
    names : tuple of str
        In the order given.
    masks : dict of str to bool (H, W) arrays
    boxes : dict of str to (x1, y1, x2, y2)
        Each zone's bounding box (exclusive ``x2``, ``y2``), for speed.
    """

    def __init__(self, zones: Iterable[Zone | str], frame_size: tuple[int, int],
                 roi: np.ndarray | None = None) -> None:
        items = [parse_zone(z) if isinstance(z, str) else z for z in zones]
        for zone in items:
            if not isinstance(zone, Zone):
                raise ValueError(f"zones must be Zone objects or 'NAME=x1,y1,...' strings, got "
                                 f"{type(zone).__name__}")
        _unique(items, "zones")
        self.frame_size = (int(frame_size[0]), int(frame_size[1]))
        self.zones = tuple(items)
        self.names = tuple(z.name for z in items)
        self.masks: dict[str, np.ndarray] = {}
        self.boxes: dict[str, tuple[int, int, int, int]] = {}
        for zone in items:
            mask = zone.mask(self.frame_size)
            if roi is not None:
                roi = np.asarray(roi, bool)
                if roi.shape != mask.shape:
                    raise ValueError(f"the ROI is {roi.shape[1]}x{roi.shape[0]} but the frames are "
                                     f"{self.frame_size[0]}x{self.frame_size[1]}")
                mask = mask & roi
                if not mask.any():
                    raise ValueError(f"zone {zone.name} lies entirely outside the ROI")
            ys, xs = np.nonzero(mask)
            self.masks[zone.name] = mask
            self.boxes[zone.name] = (int(xs.min()), int(ys.min()), int(xs.max()) + 1,
                                     int(ys.max()) + 1)

    def __len__(self) -> int:
        return len(self.names)

    def __repr__(self) -> str:
        return f"ZoneSet({list(self.names)}, frame_size={self.frame_size})"

    def _crop(self, name: str) -> tuple[slice, slice, np.ndarray]:
        x1, y1, x2, y2 = self.boxes[name]
        rows, cols = slice(y1, y2), slice(x1, x2)
        return rows, cols, self.masks[name][rows, cols]

    def touched_by_boxes(self, boxes: np.ndarray) -> list[tuple[str, ...]]:
        """For each box ``x1, y1, x2, y2`` (exclusive), the zones it overlaps.

        A box touches a zone when a pixel of the box is a pixel of the zone.
        """
        boxes = np.asarray(boxes).reshape(-1, 4)
        result = []
        for x1, y1, x2, y2 in boxes.tolist():
            touched = []
            for name in self.names:
                zx1, zy1, zx2, zy2 = self.boxes[name]
                ax1, ay1, ax2, ay2 = max(x1, zx1), max(y1, zy1), min(x2, zx2), min(y2, zy2)
                if ax1 < ax2 and ay1 < ay2 and self.masks[name][ay1:ay2, ax1:ax2].any():
                    touched.append(name)
            result.append(tuple(touched))
        return result

    def touched_by_labels(self, labels: np.ndarray, n_blobs: int) -> list[tuple[str, ...]]:
        """For a label image (0 off blobs, ``i + 1`` on blob ``i``, as
        :func:`bgmix.blobs.find_blobs` with ``labels`` or OpenCV's
        ``connectedComponents``), the zones each of the ``n_blobs`` blobs touches
        (shares at least one pixel with)."""
        touched: list[list[str]] = [[] for _ in range(n_blobs)]
        for name in self.names:
            rows, cols, inside = self._crop(name)
            ids = np.unique(labels[rows, cols][inside])
            for i in ids.tolist():
                if 0 < i <= n_blobs:
                    touched[i - 1].append(name)
        return [tuple(t) for t in touched]

    def label_counts(self, labels: np.ndarray, n_labels: int) -> dict[str, np.ndarray]:
        """Per zone, how many pixels of each label (0 .. ``n_labels - 1``) of an
        integer label image lie in the zone: ``{name: (n_labels,) int64}``."""
        counts = {}
        for name in self.names:
            rows, cols, inside = self._crop(name)
            counts[name] = np.bincount(labels[rows, cols][inside].ravel(),
                                       minlength=n_labels)[:n_labels]
        return counts

    def touched_by_mask(self, blob: np.ndarray) -> tuple[str, ...]:
        """The zones a single blob's bool (H, W) pixel mask touches."""
        return tuple(name for name in self.names
                     if np.any(blob[self._crop(name)[:2]] & self._crop(name)[2]))

    def pixel_counts(self, foreground: np.ndarray) -> dict[str, int]:
        """Foreground pixels (bool or non-zero (H, W)) inside each zone."""
        counts = {}
        for name in self.names:
            rows, cols, inside = self._crop(name)
            counts[name] = int(np.count_nonzero(foreground[rows, cols][inside]))
        return counts
