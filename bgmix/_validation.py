"""Checks of parameters and frames, each raising one clear ``ValueError``."""

from __future__ import annotations

import math
import numbers

import numpy as np

SUPPORTED_DTYPES = (np.uint8, np.uint16, np.float32)


def check_int(name: str, value: object, low: int, high: int | None = None) -> int:
    """Return ``value`` as an int after checking ``low <= value <= high``."""
    if isinstance(value, bool) or not isinstance(value, numbers.Integral):
        raise ValueError(f"{name} must be an integer, got {value!r} ({type(value).__name__})")
    value = int(value)
    if value < low or (high is not None and value > high):
        allowed = f">= {low}" if high is None else f"in [{low}, {high}]"
        raise ValueError(f"{name} must be {allowed}, got {value}")
    return value


def check_float(name: str, value: object, low: float, high: float | None = None,
                low_open: bool = False, high_open: bool = False) -> float:
    """Return ``value`` as a float after checking it lies in the given interval."""
    if isinstance(value, bool) or not isinstance(value, numbers.Real):
        raise ValueError(f"{name} must be a number, got {value!r} ({type(value).__name__})")
    value = float(value)
    below = value <= low if low_open else value < low
    above = high is not None and (value >= high if high_open else value > high)
    if not math.isfinite(value) or below or above:
        left = "(" if low_open else "["
        right = ")" if high_open else "]"
        upper = "inf" if high is None else f"{high:g}"
        if high is None:
            right = ")"
        raise ValueError(f"{name} must be in {left}{low:g}, {upper}{right}, got {value!r}")
    return value


def check_bool(name: str, value: object) -> bool:
    if not isinstance(value, (bool, np.bool_)):
        raise ValueError(f"{name} must be True or False, got {value!r}")
    return bool(value)


def describe(array: np.ndarray) -> str:
    """``shape (480, 640, 3), dtype uint8`` for error messages."""
    return f"shape {tuple(array.shape)}, dtype {array.dtype}"


def as_frame(frame: object, where: str = "frame") -> np.ndarray:
    """Check a frame and return it as a C-contiguous (H, W, C) array.

    Accepts uint8, uint16 or float32 arrays of shape (H, W) or (H, W, 1|3).
    Float frames must be finite. The result is a view when no copy is needed.
    """
    if not isinstance(frame, np.ndarray):
        raise ValueError(f"{where} must be a numpy array, got {type(frame).__name__}")
    if frame.dtype not in SUPPORTED_DTYPES:
        raise ValueError(
            f"{where} has unsupported dtype {frame.dtype} ({describe(frame)}); "
            "expected uint8, uint16 or float32"
        )
    if frame.ndim == 2:
        frame = frame[:, :, np.newaxis]
    elif frame.ndim != 3:
        raise ValueError(f"{where} must have 2 or 3 dimensions (H, W[, C]), got {describe(frame)}")
    if frame.shape[2] not in (1, 3):
        raise ValueError(f"{where} must have 1 or 3 channels, got {frame.shape[2]} ({describe(frame)})")
    if frame.shape[0] < 1 or frame.shape[1] < 1:
        raise ValueError(f"{where} is empty: {describe(frame)}")
    if frame.dtype == np.float32 and not np.isfinite(frame).all():
        bad = np.argwhere(~np.isfinite(frame))[0]
        raise ValueError(
            f"{where} contains NaN or inf (first at row {bad[0]}, column {bad[1]}); "
            "float frames must be finite"
        )
    return np.ascontiguousarray(frame)


def as_pixel_mask(mask: object, shape: tuple[int, int], name: str) -> np.ndarray:
    """Check a bool/uint8 (H, W) mask and return it as C-contiguous uint8."""
    if not isinstance(mask, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(mask).__name__}")
    if mask.dtype not in (np.bool_, np.uint8):
        raise ValueError(f"{name} must be bool or uint8, got dtype {mask.dtype}")
    if mask.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (the frame's height and width), got {mask.shape}")
    mask = np.ascontiguousarray(mask)
    return mask.view(np.uint8) if mask.dtype == np.bool_ else mask


def as_output(array: object, shape: tuple[int, int], dtype: type, name: str) -> np.ndarray:
    """Check a caller-provided output buffer: exact shape, dtype, C-contiguous, writeable."""
    if not isinstance(array, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(array).__name__}")
    if array.shape != shape or array.dtype != dtype:
        raise ValueError(
            f"{name} must have shape {shape} and dtype {np.dtype(dtype)}, got {describe(array)}"
        )
    if not array.flags.c_contiguous or not array.flags.writeable:
        raise ValueError(f"{name} must be C-contiguous and writeable")
    return array
