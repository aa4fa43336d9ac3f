"""Mask clean-up: median filter, morphology, hole filling and a minimum blob area.

Masks follow the package convention: uint8, 0 background, 127 shadow, 255
foreground. The clean-up works on the foreground only (pixels ``>= 128``) and
runs its steps in a fixed order:

1. shadows: with ``shadows="background"`` every shadow pixel (1..127) becomes 0
   first; with ``shadows="keep"`` they are set aside and put back at the end;
2. median filter (``median``, odd size, :func:`cv2.medianBlur`);
3. morphological opening (``opening``, elliptical structuring element);
4. morphological closing (``closing``, elliptical structuring element);
5. hole filling (``fill_holes``): background regions of the foreground that do
   not touch the image border become foreground;
6. minimum area (``min_area``): connected foreground components smaller than
   ``min_area`` pixels are removed.

With ``shadows="keep"`` the output is 255 where the cleaned foreground is set,
otherwise 127 where the input was a shadow, otherwise 0. So a step can turn a
shadow pixel into foreground (closing, hole filling) but never the other way:
foreground pixels removed by a step become 0, not 127. Shadows are left as they
were except by the minimum-area step, which also removes connected regions of
the remaining shadow pixels smaller than ``min_area``.
"""

from __future__ import annotations

import numbers
from dataclasses import dataclass
from typing import Any

import cv2
import numpy as np

__all__ = ["Postprocess", "clean_mask"]

_SHADOW_MODES = ("keep", "background")


def _check_size(name: str, value: object, *, odd: bool = False) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if value < 0:
        raise ValueError(f"{name} must be >= 0 (0 turns the step off), got {value}")
    if odd and value > 1 and value % 2 == 0:
        raise ValueError(f"{name} must be odd (or 0 to turn the step off), got {value}")
    return value


@dataclass(frozen=True)
class Postprocess:
    """Settings of :func:`clean_mask`, checked once when created.

    Parameters
    ----------
    median : int, default 0
        Median filter size, odd (3, 5, 7, ...); 0 or 1 turns it off.
    opening : int, default 0
        Size of the elliptical structuring element of the morphological
        opening (removes specks and thin lines); 0 or 1 turns it off.
    closing : int, default 0
        Size of the elliptical structuring element of the morphological
        closing (bridges small gaps); 0 or 1 turns it off.
    fill_holes : bool, default False
        Fill background regions enclosed by foreground (not connected to the
        image border, 4-connected).
    min_area : int, default 0
        Remove connected foreground components (and, with ``shadows="keep"``,
        shadow regions) of fewer than ``min_area`` pixels; 0 turns it off.
    shadows : {"keep", "background"}, default "keep"
        Keep shadow pixels as 127 or fold them into background (0).
    connectivity : {8, 4}, default 8
        Pixel connectivity of the components of the ``min_area`` step.

    Raises
    ------
    ValueError
        Naming the parameter that is out of range.

    Examples
    --------
    >>> Postprocess(median=5, min_area=20)
    Postprocess(median=5, opening=0, closing=0, fill_holes=False, min_area=20, shadows='keep', connectivity=8)
    >>> Postprocess(median=4)
    Traceback (most recent call last):
    ...
    ValueError: median must be odd (or 0 to turn the step off), got 4
    """

    median: int = 0
    opening: int = 0
    closing: int = 0
    fill_holes: bool = False
    min_area: int = 0
    shadows: str = "keep"
    connectivity: int = 8

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "median", _check_size("median", self.median, odd=True))
        set_(self, "opening", _check_size("opening", self.opening))
        set_(self, "closing", _check_size("closing", self.closing))
        if not isinstance(self.fill_holes, (bool, np.bool_)):
            raise ValueError(f"fill_holes must be True or False, got {self.fill_holes!r}")
        set_(self, "fill_holes", bool(self.fill_holes))
        set_(self, "min_area", _check_size("min_area", self.min_area))
        if self.shadows not in _SHADOW_MODES:
            raise ValueError(f"shadows must be 'keep' or 'background', got {self.shadows!r}")
        if isinstance(self.connectivity, bool) or self.connectivity not in (4, 8):
            raise ValueError(f"connectivity must be 4 or 8, got {self.connectivity!r}")
        set_(self, "connectivity", int(self.connectivity))

    @property
    def is_identity(self) -> bool:
        """True when no step changes a mask (all steps off, shadows kept).

        Examples
        --------
        >>> Postprocess().is_identity, Postprocess(shadows="background").is_identity
        (True, False)
        """
        return (self.median <= 1 and self.opening <= 1 and self.closing <= 1
                and not self.fill_holes and self.min_area <= 1 and self.shadows == "keep")

    def __call__(self, mask: np.ndarray, out: np.ndarray | None = None) -> np.ndarray:
        """Clean ``mask`` with these settings; see :func:`clean_mask`.

        Examples
        --------
        >>> mask = np.zeros((5, 5), np.uint8); mask[2, 2] = 255
        >>> int(Postprocess(min_area=2)(mask).max())
        0
        """
        return clean_mask(mask, self, out=out)


def _ellipse(size: int) -> np.ndarray:
    return cv2.getStructuringElement(cv2.MORPH_ELLIPSE, (size, size))


def _fill_holes(fg: np.ndarray) -> np.ndarray:
    """Foreground 0/255 with enclosed background set to 255."""
    h, w = fg.shape
    padded = np.zeros((h + 2, w + 2), np.uint8)
    padded[1:-1, 1:-1] = fg
    flood_mask = np.zeros((h + 4, w + 4), np.uint8)
    # Flood the outside background from the padding corner (4-connected).
    cv2.floodFill(padded, flood_mask, (0, 0), 255, flags=4)
    holes = padded[1:-1, 1:-1] == 0
    result = fg.copy()
    result[holes] = 255
    return result


def _remove_small(binary: np.ndarray, min_area: int, connectivity: int) -> np.ndarray:
    """``binary`` (0/255) without the components smaller than ``min_area``."""
    n, labels, stats, _ = cv2.connectedComponentsWithStats(binary, connectivity=connectivity)
    keep = stats[:, cv2.CC_STAT_AREA] >= min_area
    keep[0] = False
    lut = np.where(keep, 255, 0).astype(np.uint8)
    return lut[labels]


def _as_mask(mask: object) -> np.ndarray:
    if not isinstance(mask, np.ndarray):
        raise ValueError(f"mask must be a numpy array, got {type(mask).__name__}")
    if mask.dtype != np.uint8:
        raise ValueError(f"mask must have dtype uint8, got {mask.dtype}")
    if mask.ndim == 3 and mask.shape[2] == 1:
        mask = mask[:, :, 0]
    if mask.ndim != 2 or mask.shape[0] == 0 or mask.shape[1] == 0:
        raise ValueError(f"mask must be a non-empty (H, W) array, got shape {tuple(mask.shape)}")
    return mask


def clean_mask(mask: np.ndarray, settings: Postprocess | None = None, *,
               out: np.ndarray | None = None, **params: Any) -> np.ndarray:
    """Clean a 0/127/255 mask: median, opening, closing, fill holes, minimum area.

    The steps and how shadows are treated are described in the module
    docstring of :mod:`bgmix.postprocess`. The input is never modified unless
    it is also passed as ``out``.

    Parameters
    ----------
    mask : numpy.ndarray
        uint8 mask of shape (H, W) (or (H, W, 1)): ``>= 128`` foreground,
        1..127 shadow, 0 background.
    settings : Postprocess, optional
        The clean-up settings. Alternatively give the fields of
        :class:`Postprocess` as keyword arguments (not both).
    out : numpy.ndarray, optional
        uint8 array of the mask's shape to write the result into; may be
        ``mask`` itself for an in-place clean-up.
    **params
        Fields of :class:`Postprocess` when ``settings`` is not given.

    Returns
    -------
    numpy.ndarray
        uint8 mask (H, W) of 0, 127 and 255 (``out`` when given).

    Raises
    ------
    ValueError
        For a mask that is not a 2-D uint8 array, a wrong ``out``, or a
        parameter out of range (the message names it).

    Examples
    --------
    >>> mask = np.zeros((7, 7), np.uint8)
    >>> mask[1:6, 1:6] = 255
    >>> mask[3, 3] = 0            # a hole
    >>> mask[0, 0] = 127          # a shadow pixel
    >>> cleaned = clean_mask(mask, fill_holes=True)
    >>> int(cleaned[3, 3]), int(cleaned[0, 0])
    (255, 127)
    >>> int(clean_mask(mask, shadows="background")[0, 0])
    0
    >>> int(mask[3, 3])           # the input is untouched
    0
    """
    if settings is None:
        settings = Postprocess(**params)
    elif params:
        raise ValueError("give either settings or keyword parameters, not both: "
                         f"got settings and {sorted(params)}")
    elif not isinstance(settings, Postprocess):
        raise ValueError(f"settings must be a Postprocess, got {type(settings).__name__}")
    mask = _as_mask(mask)
    if out is not None:
        if not isinstance(out, np.ndarray) or out.dtype != np.uint8 or out.shape[:2] != mask.shape \
                or out.size != mask.size:
            got = (f"shape {tuple(out.shape)}, dtype {out.dtype}" if isinstance(out, np.ndarray)
                   else type(out).__name__)
            raise ValueError(f"out must be a uint8 array of shape {mask.shape}, got {got}")

    s = settings
    fg = np.where(mask >= 128, np.uint8(255), np.uint8(0))
    if s.median > 1:
        fg = cv2.medianBlur(fg, s.median)
    if s.opening > 1:
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, _ellipse(s.opening))
    if s.closing > 1:
        fg = cv2.morphologyEx(fg, cv2.MORPH_CLOSE, _ellipse(s.closing))
    if s.fill_holes:
        fg = _fill_holes(fg)
    if s.min_area > 1:
        fg = _remove_small(fg, s.min_area, s.connectivity)

    result = fg
    if s.shadows == "keep":
        shadow = (mask > 0) & (mask < 128) & (fg == 0)
        if shadow.any():
            if s.min_area > 1:
                shadow = _remove_small(shadow.view(np.uint8) * np.uint8(255), s.min_area,
                                       s.connectivity) > 0
            result[shadow] = 127  # fg is a fresh array, never the input
    if out is not None:
        out.reshape(mask.shape)[...] = result
        return out
    return result
