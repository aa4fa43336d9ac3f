"""Checks of parameters and frames, each raising one clear ``ValueError``."""

from __future__ import annotations

import math
import numbers

import numpy as np

SUPPORTED_DTYPES = (np.uint8, np.uint16, np.float32)

_FLOAT32_MAX = float(np.finfo(np.float32).max)
_INTEGER_MAX = {np.dtype(np.uint8): 255.0, np.dtype(np.uint16): 65535.0}
# Looked up once: np.iinfo/np.finfo cost microseconds on every frame.


def frame_may_overflow(dtype: np.dtype, scale: float) -> bool:
    """Whether a frame of ``dtype`` times ``scale`` can overflow float32 (then
    :func:`as_frame` scans its values); False for the common cases."""
    scale = float(np.float32(scale))
    if dtype == np.float32:
        return scale > 1.0
    return _INTEGER_MAX[np.dtype(dtype)] * scale > _FLOAT32_MAX


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


def as_frame(frame: object, where: str = "frame", scale: float = 1.0) -> np.ndarray:
    """Check a frame and return it as a C-contiguous (H, W, C) array.

    Accepts uint8, uint16 or float32 arrays of shape (H, W) or (H, W, 1|3).
    Float frames must be finite, and so must every value times ``scale``
    (the model's ``intensity_scale``) in float32. The result is a view when
    no copy is needed.

    Examples
    --------
    >>> as_frame(np.zeros((2, 3), np.uint8)).shape
    (2, 3, 1)
    >>> frame = np.zeros((2, 3, 3), np.float32)
    >>> frame[1, 2, 0] = np.inf
    >>> as_frame(frame)
    Traceback (most recent call last):
    ...
    ValueError: frame contains NaN or inf: 1 value, the first (inf) at row 1, column 2, channel 0; float frames must be finite
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
    if frame.dtype == np.float32:
        finite = np.isfinite(frame)
        if not finite.all():
            count = frame.size - int(np.count_nonzero(finite))
            y, x, c = np.argwhere(~finite)[0]
            raise ValueError(
                f"{where} contains NaN or inf: {count} value{'s' if count > 1 else ''}, the first "
                f"({frame[y, x, c]}) at row {y}, column {x}, channel {c}; float frames must be finite"
            )
    # Only a scale above 1 on float frames, or a huge one on integer frames,
    # can overflow; the common cases skip the extra pass over the frame.
    if frame_may_overflow(frame.dtype, scale):
        scale = float(np.float32(scale))
        float32_max = _FLOAT32_MAX
        if frame.dtype == np.float32:
            largest = max(abs(float(frame.min())), abs(float(frame.max())))
        else:
            largest = float(frame.max())
        if largest * scale > float32_max:
            raise ValueError(
                f"{where} values times intensity_scale={scale:g} overflow float32 (largest "
                f"magnitude {largest:g}); lower intensity_scale or rescale the frames"
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


def as_plane(plane: object, shape: tuple[int, int], name: str, low: float,
             high: float = math.inf, low_open: bool = False) -> np.ndarray:
    """Check a per-pixel parameter plane: (H, W) real numbers in range, as C-contiguous float32.

    Examples
    --------
    >>> as_plane(np.full((2, 3), 16.0), (2, 3), "threshold_map", 0.0, low_open=True).dtype
    dtype('float32')
    >>> as_plane(np.zeros((2, 3)), (2, 3), "threshold_map", 0.0, low_open=True)
    Traceback (most recent call last):
    ...
    ValueError: threshold_map must lie in (0, inf): 6 values do not, the first (0.0) at row 0, column 0
    """
    if not isinstance(plane, np.ndarray):
        raise ValueError(f"{name} must be a numpy array, got {type(plane).__name__}")
    if plane.shape != shape:
        raise ValueError(f"{name} must have shape {shape} (the frame's height and width), "
                         f"got {plane.shape}")
    if plane.dtype.kind not in "fiu":
        raise ValueError(f"{name} must hold real numbers, got dtype {plane.dtype}")
    plane = np.ascontiguousarray(plane, dtype=np.float32)
    below = plane <= low if low_open else plane < low
    bad = below | ~(plane <= high) | ~np.isfinite(plane)
    if bad.any():
        y, x = np.argwhere(bad)[0]
        left = "(" if low_open else "["
        right = ")" if high == math.inf else "]"
        raise ValueError(f"{name} must lie in {left}{low:g}, {high:g}{right}: {int(bad.sum())} "
                         f"values do not, the first ({float(plane[y, x])!r}) at row {y}, column {x}")
    return plane


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


def state_invariant_violations(model: object, *, atol: float = 1e-4) -> list[str]:
    """List the ways a fitted model's state breaks the mixture's invariants.

    The invariants every ``apply`` must keep, whatever the frames and
    parameters: no NaN or inf in any state array; weights non-negative;
    the live weights of a pixel (its first ``n_components_`` slots) sum to 1
    within ``atol`` wherever it has a live component; no pixel has more live
    components than ``n_components``; variances (and, for "full" and
    "tied", the diagonal of every covariance) within ``[var_min, var_max]``;
    every 3x3 covariance positive definite. Only live components are
    checked, except for "tied", whose one covariance per pixel always is.
    Plain NumPy, meant for tests and long-run checks (it is slow at HD).

    Parameters
    ----------
    model : BackgroundMixture
        A model that has seen at least one frame.
    atol : float, default=1e-4
        Tolerance of the weight sums.

    Returns
    -------
    list of str
        One line per broken invariant, naming it and a first offending
        pixel; empty when the state is sound.

    Examples
    --------
    >>> import numpy as np
    >>> from bgmix import BackgroundMixture
    >>> model = BackgroundMixture()
    >>> _ = model.apply(np.zeros((4, 5, 3), np.uint8))
    >>> state_invariant_violations(model)
    []
    >>> model.weights_[0, 1, 2] = np.nan
    >>> state_invariant_violations(model)[0]
    'weights_ holds NaN or inf (first at component 0, row 1, column 2)'
    """
    problems: list[str] = []

    def first(where: np.ndarray, axes: str) -> str:
        index = np.argwhere(where)[0]
        return ", ".join(f"{name} {int(i)}" for name, i in zip(axes.split(","), index))

    from bgmix.kernels.covariance import COVARIANCE_TYPES

    entry = COVARIANCE_TYPES[model.covariance_type]
    cov_name = entry.state_name
    weights = model.weights_
    cov = getattr(model, cov_name)
    means = model.means_
    live_count = model.n_components_.astype(np.int64)
    k = weights.shape[0]
    for name, array in (("weights_", weights), (cov_name, cov), ("means_", means)):
        bad = ~np.isfinite(array)
        if bad.any():
            axes = {3: "component,row,column", 4: "component,plane,row,column"}[array.ndim]
            if model.covariance_type == "tied" and name == cov_name:
                axes = "plane,row,column"
            problems.append(f"{name} holds NaN or inf (first at {first(bad, axes)})")
    if (live_count > k).any():
        problems.append(f"n_components_ exceeds n_components={k} "
                        f"(first at {first(live_count > k, 'row,column')})")
    live = np.arange(k)[:, None, None] < live_count[None]
    negative = (weights < 0) & live
    if negative.any():
        problems.append(f"negative weight (first at {first(negative, 'component,row,column')})")
    sums = np.where(live, weights, 0).sum(axis=0, dtype=np.float64)
    if getattr(model, "renormalize", True):
        off = (live_count > 0) & ~(np.abs(sums - 1.0) <= atol)
        expected = "1"
    else:
        # OpenCV's arithmetic: after a replacement the sum falls short of 1
        # until the next frame renormalises it; it never exceeds 1.
        off = (live_count > 0) & ~((sums > 0) & (sums <= 1.0 + atol))
        expected = "in (0, 1]"
    if off.any():
        y, x = np.argwhere(off)[0]
        problems.append(f"live weights sum to {sums[y, x]:.6g}, not {expected} (first at row {y}, "
                        f"column {x}; {int(off.sum())} pixels)")
    var_min, var_max = np.float32(model.var_min), np.float32(model.var_max)
    planar = entry.planar(cov)
    variances = planar[:, list(entry.variance_planes(means.shape[1]))]
    if entry.per_component:
        live_var = np.broadcast_to(live[:, None], variances.shape)
    else:
        live_var = np.ones(variances.shape, bool)
    outside = live_var & ~((variances >= var_min) & (variances <= var_max))
    if outside.any():
        index = tuple(np.argwhere(outside)[0])
        problems.append(f"variance {variances[index]!r} outside [var_min, var_max] = "
                        f"[{var_min:g}, {var_max:g}] (first at index {tuple(map(int, index))} "
                        f"of {cov_name})")
    if entry.matrix and planar.shape[1] == 6:
        planes = planar
        xx, xy, xz, yy, yz, zz = (planes[:, p].astype(np.float64) for p in range(6))
        matrices = np.stack([np.stack([xx, xy, xz], -1), np.stack([xy, yy, yz], -1),
                             np.stack([xz, yz, zz], -1)], -1)
        smallest = np.full(xx.shape, np.inf)
        finite = np.isfinite(matrices).all(axis=(-1, -2))
        smallest[finite] = np.linalg.eigvalsh(matrices[finite])[:, 0]
        live_cov = live if entry.per_component else np.ones(xx.shape, bool)
        not_pd = live_cov & finite & ~(smallest > 0)
        if not_pd.any():
            index = tuple(int(i) for i in np.argwhere(not_pd)[0])
            problems.append(f"covariance not positive definite (smallest eigenvalue "
                            f"{smallest[index]:.3g} at {index} of {cov_name})")
    return problems
