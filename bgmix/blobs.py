"""Connected foreground components of a mask, as NumPy arrays.

:func:`find_blobs` runs :func:`cv2.connectedComponentsWithStats` on the
foreground (``mask >= 128``; shadows, 127, are not foreground) and returns a
:class:`Blobs` of parallel arrays, one row per blob, in OpenCV's label order
(top-to-bottom scan order of each blob's first pixel).

Boxes are ``x1, y1, x2, y2`` in pixel coordinates with **exclusive** ``x2`` and
``y2``: the blob's pixels lie in ``x1 <= x < x2`` and ``y1 <= y < y2``, so
``width = x2 - x1`` and ``height = y2 - y1`` (the MOT Challenge ``left, top,
width, height`` is ``x1, y1, x2 - x1, y2 - y1``).

Conversions to tracker libraries import them only when called:
:meth:`Blobs.to_supervision` and :meth:`Blobs.to_norfair`.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any, Iterator, NamedTuple

import cv2
import numpy as np

__all__ = ["Blob", "Blobs", "find_blobs"]


class Blob(NamedTuple):
    """One blob, as yielded by iterating over :class:`Blobs`."""

    box: tuple[int, int, int, int]
    """``(x1, y1, x2, y2)``, ``x2`` and ``y2`` exclusive."""
    area: int
    centroid: tuple[float, float]
    """``(x, y)``"""
    confidence: float
    zones: tuple[str, ...] = ()
    """The zones the blob touches (empty when no zones were given)."""


@dataclass(frozen=True, eq=False)
class Blobs:
    """Blobs of one frame as parallel arrays (N rows).

    Attributes
    ----------
    boxes : numpy.ndarray
        (N, 4) int32 ``x1, y1, x2, y2``; ``x2``, ``y2`` exclusive.
    areas : numpy.ndarray
        (N,) int64 pixel counts.
    centroids : numpy.ndarray
        (N, 2) float64 ``x, y``.
    confidences : numpy.ndarray
        (N,) float32: mean foreground probability inside each blob when a
        probability map was given, else 1.0.
    labels : numpy.ndarray or None
        (H, W) int32 label image when asked for: 0 off blobs, ``i + 1`` on the
        pixels of blob ``i``.
    zones : tuple of tuple of str, or None
        When zones were given (:func:`find_blobs` with ``zones``): for each
        blob, the names of the zones it touches (shares a pixel with), in the
        zones' order; None otherwise.

    Examples
    --------
    >>> mask = np.zeros((4, 6), np.uint8)
    >>> mask[1:3, 2:5] = 255
    >>> blobs = find_blobs(mask)
    >>> len(blobs), blobs.boxes.tolist(), blobs.areas.tolist()
    (1, [[2, 1, 5, 3]], [6])
    >>> [b.centroid for b in blobs]
    [(3.0, 1.5)]
    """

    boxes: np.ndarray
    areas: np.ndarray
    centroids: np.ndarray
    confidences: np.ndarray
    labels: np.ndarray | None = None
    zones: tuple[tuple[str, ...], ...] | None = None

    def __post_init__(self) -> None:
        n = len(self.boxes)
        shapes = {"boxes": (n, 4), "areas": (n,), "centroids": (n, 2), "confidences": (n,)}
        for name, shape in shapes.items():
            value = getattr(self, name)
            if not isinstance(value, np.ndarray) or value.shape != shape:
                got = value.shape if isinstance(value, np.ndarray) else type(value).__name__
                raise ValueError(f"{name} must be an array of shape {shape}, got {got}")
        if self.zones is not None:
            zones = tuple(tuple(names) for names in self.zones)
            if len(zones) != n or not all(isinstance(z, str) for names in zones for z in names):
                raise ValueError(f"zones must hold one tuple of zone names per blob ({n}), "
                                 f"got {self.zones!r}")
            object.__setattr__(self, "zones", zones)

    @classmethod
    def empty(cls) -> "Blobs":
        """No blobs.

        Examples
        --------
        >>> len(Blobs.empty())
        0
        """
        return cls(np.zeros((0, 4), np.int32), np.zeros(0, np.int64),
                   np.zeros((0, 2), np.float64), np.zeros(0, np.float32))

    def __len__(self) -> int:
        return len(self.boxes)

    def __iter__(self) -> Iterator[Blob]:
        zones = self.zones if self.zones is not None else ((),) * len(self)
        for box, area, centroid, confidence, names in zip(
                self.boxes.tolist(), self.areas.tolist(), self.centroids.tolist(),
                self.confidences.tolist(), zones):
            yield Blob(tuple(box), area, tuple(centroid), confidence, names)

    def in_zone(self, zone: str) -> "Blobs":
        """The blobs that touch ``zone`` (needs blobs found with zones).

        Examples
        --------
        >>> from bgmix.zones import ZoneSet
        >>> mask = np.zeros((6, 8), np.uint8); mask[0:2, 0:2] = 255; mask[4:6, 5:8] = 255
        >>> blobs = find_blobs(mask, zones=ZoneSet(["right=4,0,7,0,7,5,4,5"], (8, 6)))
        >>> blobs.zones, blobs.in_zone("right").boxes.tolist()
        (((), ('right',)), [[5, 4, 8, 6]])
        """
        if self.zones is None:
            raise ValueError("these blobs were found without zones (find_blobs(..., zones=...))")
        keep = np.array([zone in names for names in self.zones], bool).reshape(-1)
        return Blobs(self.boxes[keep], self.areas[keep], self.centroids[keep],
                     self.confidences[keep], None,
                     tuple(names for names, k in zip(self.zones, keep) if k))

    def __repr__(self) -> str:
        return f"Blobs(n={len(self)})"

    @property
    def xywh(self) -> np.ndarray:
        """(N, 4) int32 ``left, top, width, height`` (the MOT Challenge box).

        Examples
        --------
        >>> mask = np.zeros((4, 6), np.uint8); mask[1:3, 2:5] = 255
        >>> find_blobs(mask).xywh.tolist()
        [[2, 1, 3, 2]]
        """
        xywh = self.boxes.copy()
        xywh[:, 2:] -= self.boxes[:, :2]
        return xywh

    def to_supervision(self) -> Any:
        """The blobs as ``supervision.Detections``.

        Boxes become float32 ``xyxy`` (``x2``, ``y2`` exclusive, as here),
        ``confidence`` the blob confidences and ``class_id`` zeros. Needs the
        optional ``supervision`` package, imported only here.

        Returns
        -------
        supervision.Detections

        Examples
        --------
        >>> mask = np.zeros((4, 6), np.uint8); mask[1:3, 2:5] = 255
        >>> detections = find_blobs(mask).to_supervision()  # doctest: +SKIP
        >>> detections.xyxy.tolist()  # doctest: +SKIP
        [[2.0, 1.0, 5.0, 3.0]]
        """
        try:
            import supervision as sv
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("Blobs.to_supervision needs the optional package "
                              "'supervision' (pip install supervision)") from error
        return sv.Detections(xyxy=self.boxes.astype(np.float32),
                             confidence=self.confidences.astype(np.float32),
                             class_id=np.zeros(len(self), dtype=int))

    def to_norfair(self, points: str = "corners") -> list[Any]:
        """The blobs as a list of ``norfair.Detection``.

        Parameters
        ----------
        points : {"corners", "centroid"}
            ``"corners"``: two points per detection, ``(x1, y1)`` and
            ``(x2, y2)`` (the box form norfair's IoU distances expect);
            ``"centroid"``: one point, the blob centroid. Each point's score
            is the blob confidence.

        Returns
        -------
        list of norfair.Detection
            Needs the optional ``norfair`` package, imported only here.

        Examples
        --------
        >>> mask = np.zeros((4, 6), np.uint8); mask[1:3, 2:5] = 255
        >>> find_blobs(mask).to_norfair()[0].points.tolist()  # doctest: +SKIP
        [[2.0, 1.0], [5.0, 3.0]]
        """
        if points not in ("corners", "centroid"):
            raise ValueError(f"points must be 'corners' or 'centroid', got {points!r}")
        try:
            from norfair import Detection
        except ImportError as error:  # pragma: no cover - depends on the environment
            raise ImportError("Blobs.to_norfair needs the optional package "
                              "'norfair' (pip install norfair)") from error
        detections = []
        for i in range(len(self)):
            score = float(self.confidences[i])
            if points == "corners":
                pts = self.boxes[i].astype(np.float64).reshape(2, 2)
                scores = np.array([score, score])
            else:
                pts = self.centroids[i].reshape(1, 2).astype(np.float64)
                scores = np.array([score])
            detections.append(Detection(points=pts, scores=scores))
        return detections


def find_blobs(mask: np.ndarray, probability: np.ndarray | None = None, min_area: int = 0,
               connectivity: int = 8, *, labels: bool = False, zones: Any = None) -> Blobs:
    """Connected foreground components (``mask >= 128``) of a mask.

    Parameters
    ----------
    mask : numpy.ndarray
        uint8 (H, W) mask (0 / 127 / 255); shadows (127) are not foreground.
    probability : numpy.ndarray, optional
        float (H, W) foreground probability in [0, 1]; each blob's confidence
        is its mean over the blob's pixels. Without it confidences are 1.0.
    min_area : int, default 0
        Leave out blobs of fewer pixels.
    connectivity : {8, 4}, default 8
        Pixel connectivity.
    labels : bool, default False
        Also return the label image (``Blobs.labels``), renumbered so that
        blob ``i`` has label ``i + 1`` after ``min_area`` filtering.
    zones : bgmix.zones.ZoneSet, optional
        Zones rasterised for the mask's size; ``Blobs.zones`` then says which
        zones each blob touches (shares at least one pixel with).

    Returns
    -------
    Blobs

    Raises
    ------
    ValueError
        For a mask that is not a 2-D uint8 array, a probability map of another
        shape, or a parameter out of range.

    Examples
    --------
    >>> mask = np.zeros((6, 8), np.uint8)
    >>> mask[0:2, 0:2] = 255                  # 4 pixels
    >>> mask[3:6, 4:8] = 255                  # 12 pixels
    >>> probability = np.where(mask > 0, 0.5, 0.0).astype(np.float32)
    >>> blobs = find_blobs(mask, probability, min_area=5)
    >>> blobs.boxes.tolist(), blobs.areas.tolist(), blobs.confidences.tolist()
    ([[4, 3, 8, 6]], [12], [0.5])
    """
    if not isinstance(mask, np.ndarray) or mask.dtype != np.uint8:
        got = f"dtype {mask.dtype}" if isinstance(mask, np.ndarray) else type(mask).__name__
        raise ValueError(f"mask must be a uint8 numpy array, got {got}")
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[:, :, 0]
    if mask.ndim != 2:
        raise ValueError(f"mask must have shape (H, W), got {tuple(mask.shape)}")
    if isinstance(min_area, bool) or not isinstance(min_area, numbers.Integral) or min_area < 0:
        raise ValueError(f"min_area must be an integer >= 0, got {min_area!r}")
    if isinstance(connectivity, bool) or connectivity not in (4, 8):
        raise ValueError(f"connectivity must be 4 or 8, got {connectivity!r}")
    if probability is not None:
        if not isinstance(probability, np.ndarray) or probability.dtype.kind != "f":
            raise ValueError("probability must be a float numpy array")
        if probability.ndim == 3 and probability.shape[2] == 1:
            probability = probability[:, :, 0]
        if probability.shape != mask.shape:
            raise ValueError(f"probability must have the mask's shape {mask.shape}, "
                             f"got {tuple(probability.shape)}")

    foreground = (mask >= 128).view(np.uint8)
    n, label_image, stats, centroids = cv2.connectedComponentsWithStats(
        foreground, connectivity=int(connectivity), ltype=cv2.CV_32S)
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.int64)
    keep = areas >= min_area
    index = np.flatnonzero(keep) + 1          # labels of the kept blobs

    x1 = stats[index, cv2.CC_STAT_LEFT]
    y1 = stats[index, cv2.CC_STAT_TOP]
    boxes = np.stack([x1, y1, x1 + stats[index, cv2.CC_STAT_WIDTH],
                      y1 + stats[index, cv2.CC_STAT_HEIGHT]], axis=1).astype(np.int32)
    boxes = boxes.reshape(-1, 4)
    if probability is not None and len(index):
        sums = np.bincount(label_image.ravel(), weights=probability.ravel().astype(np.float64),
                           minlength=n)
        confidences = (sums[index] / areas[keep]).astype(np.float32)
    else:
        confidences = np.ones(len(index), np.float32)
    label_out = None
    if labels:
        if keep.all():
            label_out = label_image
        else:
            lut = np.zeros(n, np.int32)
            lut[index] = np.arange(1, len(index) + 1, dtype=np.int32)
            label_out = lut[label_image]
    touched = None
    if zones is not None:
        if tuple(zones.frame_size) != (mask.shape[1], mask.shape[0]):
            raise ValueError(f"the zones were drawn for {zones.frame_size[0]}x"
                             f"{zones.frame_size[1]} frames but the mask is "
                             f"{mask.shape[1]}x{mask.shape[0]}")
        every = zones.touched_by_labels(label_image, n - 1)
        touched = tuple(every[i - 1] for i in index.tolist())
    return Blobs(boxes=boxes, areas=areas[keep],
                 centroids=np.ascontiguousarray(centroids[index], dtype=np.float64).reshape(-1, 2),
                 confidences=confidences, labels=label_out, zones=touched)
