"""EM bootstrap of a :class:`~bgmix.BackgroundMixture` from a batch of frames.

:meth:`BackgroundMixture.fit <bgmix.BackgroundMixture.fit>` calls
:func:`fit_mixture`, a pure function that returns the state: it checks and stacks the frames (in their own dtype, no
float64 copy of the stack), runs the per-pixel EM kernel
(:func:`bgmix.kernels.em.fit_em`) and installs the result as the model's
state, so that ``apply`` continues online from it as if the model had seen
those ``N`` frames.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from bgmix import _validation as check
from bgmix.kernels.covariance import COVARIANCE_TYPES
from bgmix.kernels.em import fit_em


COVARIANCE_CODES = {name: entry.em_code for name, entry in COVARIANCE_TYPES.items()}
"""Integer code of each covariance type in :func:`bgmix.kernels.em.fit_em` (from the registry)."""

INIT_CODES = {"k-means++": 0, "quantile": 1}
"""Integer code of each initialisation in :func:`bgmix.kernels.em.fit_em`."""

REG_COVAR = 1e-6
"""Added to the diagonal of every covariance in the M step (scikit-learn's
default ``reg_covar``); the model's ``var_min`` is the effective floor."""


def stack_frames(frames: object, scale: float = 1.0) -> np.ndarray:
    """Check frames and return them as one C-contiguous (N, H, W, C) array.

    Parameters
    ----------
    frames : ndarray or iterable of ndarray
        An (N, H, W, C) array with C in {1, 3}, an (N, H, W) array of grey
        frames, or an iterable of (H, W) or (H, W, C) frames. uint8, uint16
        or float32, every frame of the same shape and dtype, N >= 2.
    scale : float, default=1
        The model's ``intensity_scale`` (float frames times it must be finite
        in float32).

    Returns
    -------
    ndarray of shape (N, H, W, C)
        In the frames' own dtype; a view of an array argument when it is
        already C-contiguous.

    Raises
    ------
    ValueError
        Naming the frame index and the problem: fewer than 2 frames, a frame
        of another shape or dtype than frame 0, an unsupported dtype or
        channel count, non-finite values, an ambiguous 3-D array.

    Examples
    --------
    >>> import numpy as np
    >>> stack_frames(np.zeros((4, 6, 8), np.uint8)).shape
    (4, 6, 8, 1)
    >>> stack_frames([np.zeros((6, 8, 3), np.uint16)] * 2).shape
    (2, 6, 8, 3)
    >>> stack_frames([np.zeros((6, 8), np.uint8), np.zeros((6, 9), np.uint8)])
    Traceback (most recent call last):
    ...
    ValueError: frame 1 has shape (6, 9, 1), dtype uint8, but frame 0 has shape (6, 8, 1), dtype uint8; every frame given to fit must have the same shape and dtype
    """
    if isinstance(frames, np.ndarray):
        if frames.ndim == 3:
            if frames.shape[-1] in (1, 3):
                raise ValueError(
                    f"frames is a 3-D array of shape {frames.shape}: read as N={frames.shape[0]} "
                    f"grey frames of width {frames.shape[-1]}, which is probably one "
                    "(H, W, C) frame; pass an (N, H, W, C) array or a list of frames")
            frames = frames[..., np.newaxis]
        if frames.ndim != 4:
            raise ValueError(
                f"frames must be an (N, H, W) or (N, H, W, C) array or an iterable of frames, "
                f"got {check.describe(frames)}")
        if frames.shape[0] < 2:
            raise ValueError(f"fit needs at least 2 frames, got {frames.shape[0]}")
        first = check.as_frame(frames[0], "frame 0", scale)
        for index in range(1, frames.shape[0]):
            check.as_frame(frames[index], f"frame {index}", scale)
        return np.ascontiguousarray(frames).reshape((frames.shape[0], *first.shape))
    if isinstance(frames, (str, bytes)) or not isinstance(frames, Iterable):
        raise ValueError(
            f"frames must be an (N, H, W[, C]) array or an iterable of frames, "
            f"got {type(frames).__name__}")
    checked: list[np.ndarray] = []
    for index, frame in enumerate(frames):
        frame = check.as_frame(frame, f"frame {index}", scale)
        if checked and (frame.shape != checked[0].shape or frame.dtype != checked[0].dtype):
            raise ValueError(
                f"frame {index} has shape {frame.shape}, dtype {frame.dtype}, but frame 0 has "
                f"shape {checked[0].shape}, dtype {checked[0].dtype}; every frame given to fit "
                "must have the same shape and dtype")
        checked.append(frame)
    if len(checked) < 2:
        raise ValueError(f"fit needs at least 2 frames, got {len(checked)}")
    return np.stack(checked)


def _seed(random_state: object) -> np.uint64:
    if random_state is None:
        return np.uint64(np.random.SeedSequence().entropy % (1 << 64))
    return np.uint64(check.check_int("random_state", random_state, 0, (1 << 64) - 1))


@dataclass(frozen=True)
class FittedMixture:
    """What :func:`fit_mixture` returns: a state for :class:`~bgmix.BackgroundMixture`."""

    covariance_type: str
    weights: np.ndarray
    """(K, H, W) float32."""
    covariances: np.ndarray
    """The covariance type's state array (:mod:`bgmix.kernels.covariance`)."""
    means: np.ndarray
    """(K, C, H, W) float32."""
    n_modes: np.ndarray
    """(H, W) uint8, live components per pixel."""
    n_frames: int
    frame_shape: tuple[int, int, int]
    frame_dtype: str
    log_likelihood: np.ndarray
    """(H, W) float32, the fit's mean log-likelihood per pixel."""


def fit_mixture(
    frames: object,
    params: Any,
    n_slots: int,
    *,
    n_components: int | Literal["bic"] | None = None,
    n_init: int = 1,
    max_iter: int = 100,
    tol: float = 1e-3,
    init: Literal["k-means++", "quantile"] = "k-means++",
    random_state: int | None = None,
    weight_prior: float | None = None,
) -> FittedMixture:
    """Fit per-pixel mixtures to ``frames`` by EM and return the state; a pure function.

    The work of :meth:`BackgroundMixture.fit <bgmix.BackgroundMixture.fit>`
    (see there for the parameters), which installs the result. ``params``
    are the model's validated parameters (``model._validated()``) and
    ``n_slots`` its ``n_components``. Components lighter than
    ``max(1 / N, complexity_reduction)`` after EM are dropped: the online
    model would prune them (a component keeps a weight of about its share
    of the samples minus ``complexity_reduction``).

    Examples
    --------
    >>> import numpy as np
    >>> from bgmix import BackgroundMixture
    >>> model = BackgroundMixture(n_components=2)
    >>> state = fit_mixture(np.full((5, 2, 4), 50, np.uint8), model._validated(), 2,
    ...                     random_state=0)
    >>> state.n_frames, state.n_modes.tolist()
    (5, [[1, 1, 1, 1], [1, 1, 1, 1]])
    >>> model.is_initialized   # untouched: BackgroundMixture.fit installs a state
    False
    """
    from bgmix._bands import numba_threads
    from bgmix.kernels import MAX_CORRELATION

    k_slots = int(n_slots)
    if n_components is None:
        k_min = k_max = k_slots
    elif isinstance(n_components, str):
        if n_components != "bic":
            raise ValueError(
                f"n_components must be None, an integer in [1, {k_slots}] or 'bic', "
                f"got {n_components!r}")
        k_min, k_max = 1, k_slots
    else:
        k_min = k_max = check.check_int("n_components", n_components, 1, k_slots)
    n_init = check.check_int("n_init", n_init, 1)
    max_iter = check.check_int("max_iter", max_iter, 1)
    tol = check.check_float("tol", tol, 0.0)
    if not isinstance(init, str) or init not in INIT_CODES:
        allowed = ", ".join(repr(name) for name in INIT_CODES)
        raise ValueError(f"init must be one of {allowed}, got {init!r}")
    if weight_prior is None:
        weight_prior = 1.0 - float(params.background_ratio)
    weight_prior = check.check_float("weight_prior", weight_prior, 0.0, 0.5)
    seed = _seed(random_state)

    stack = stack_frames(frames, float(params.intensity_scale))
    n_frames, height, width, n_channels = stack.shape
    entry = COVARIANCE_TYPES[params.covariance_type]
    weights = np.zeros((k_slots, height, width), np.float32)
    covariances = np.zeros(entry.state_shape(k_slots, n_channels, height, width), np.float32)
    means = np.zeros((k_slots, n_channels, height, width), np.float32)
    n_modes = np.zeros((height, width), np.uint8)
    log_likelihood = np.empty((height, width), np.float32)
    # The kernel sees every covariance layout as (slots, planes, H, W).
    planar = entry.planar(covariances)
    min_weight = max(1.0 / n_frames, float(params.complexity_reduction))
    with numba_threads(params.n_threads):
        fit_em(stack, params.intensity_scale, entry.em_code,
               k_min, k_max, n_init, max_iter, tol, INIT_CODES[init],
               np.zeros((1, 1, 1), np.int32), seed, REG_COVAR, True, params.var_min,
               params.var_max, MAX_CORRELATION, min_weight, weights, planar, means, n_modes,
               log_likelihood)

    apply_weight_prior(weights, n_modes, weight_prior)
    # Slots the prior emptied hold no component: clear them as EM leaves unused slots.
    dead = np.arange(k_slots)[:, None, None] >= n_modes
    means[np.broadcast_to(dead[:, None], means.shape)] = 0
    if entry.per_component:
        covariances[np.broadcast_to(dead[:, None] if covariances.ndim == 4 else dead,
                                    covariances.shape)] = 0

    return FittedMixture(params.covariance_type, weights, covariances, means, n_modes,
                         int(n_frames), (height, width, n_channels), stack.dtype.name,
                         log_likelihood)


def apply_weight_prior(weights: np.ndarray, n_modes: np.ndarray, share: float) -> None:
    """Dirichlet-prior (MAP) weights from EM's, in place: ``w_k <- max(0, w_k - share)``, renormalised.

    Zivkovic's negative Dirichlet prior takes the same count from every
    component's support, so a component seen in fewer than ``share`` of
    the frames is dropped and the others lose that much. The bootstrap uses
    ``share = 1 - background_ratio``: a colour that covered a pixel in a few
    of the N frames (an object passing) would otherwise keep a weight that
    ``background_ratio`` counts as background. Components stay in order of
    weight; the heaviest always survives. ``n_modes`` is updated.

    Examples
    --------
    >>> w = np.array([[[0.7]], [[0.22]], [[0.08]]], np.float32)
    >>> n = np.array([[3]], np.uint8)
    >>> apply_weight_prior(w, n, 0.1)
    >>> [round(float(v), 3) for v in w[:, 0, 0]], int(n[0, 0])
    ([0.833, 0.167, 0.0], 2)
    """
    if share <= 0:
        return
    reduced = np.maximum(weights - np.float32(share), np.float32(0))
    # The heaviest keeps a positive weight even when the prior would take it all.
    reduced[0] = np.where(n_modes > 0, np.maximum(reduced[0], np.float32(1e-3)), 0)
    total = reduced.sum(axis=0)
    np.divide(reduced, total, out=reduced, where=total > 0)
    weights[...] = reduced
    n_modes[...] = np.count_nonzero(reduced > 0, axis=0)


def bic_free_parameters(covariance_type: str, n_components: int, n_channels: int) -> int:
    """Free parameters ``p`` of a mixture, as counted in ``BIC = -2 log L + p log N``.

    ``n_components - 1`` weights, ``n_components * n_channels`` means, and
    the covariances: "spherical" one variance per component, "diag" one per
    channel, "full" a symmetric matrix per component, "tied" one per pixel.

    Examples
    --------
    >>> bic_free_parameters("full", 2, 3), bic_free_parameters("tied", 2, 3)
    (19, 13)
    """
    return COVARIANCE_TYPES[covariance_type].free_parameters(n_components, n_channels)


__all__ = ["COVARIANCE_CODES", "INIT_CODES", "REG_COVAR", "bic_free_parameters",
           "apply_weight_prior",
           "FittedMixture", "fit_mixture", "stack_frames"]

