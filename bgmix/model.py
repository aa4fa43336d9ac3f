"""``BackgroundMixture``: the per-pixel online Gaussian mixture estimator.

One class, and so one module over 600 lines: its parameters (each documented
where users read them, the class docstring), their validation in kernel form,
the state and its planar views, ``apply``, ``fit``, the scores and the file
format belong to the estimator's contract. What is not the contract lives
elsewhere: the checks in :mod:`bgmix._validation`, the fit in
:mod:`bgmix.fitting`, the robust frame loop in :mod:`bgmix._feedback`, the
kernels in :mod:`bgmix.kernels`.
"""

from __future__ import annotations

import inspect
import json
import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, NamedTuple

import numba
import numpy as np

from bgmix import _validation as check
from bgmix._bands import numba_threads as _threads
from bgmix._bands import resolve_threads, run_bands
from bgmix._feedback import (GHOST_EVERY, WARMUP_MAX_FLICKER, WARMUP_MIN_FRAMES,
                             WARMUP_SETTLED, WARMUP_SHARE, FeedbackState)
from bgmix.kernels.texture import TEXTURE_BITS
from bgmix.presets import DEFAULTS
from bgmix.fitting import fit_mixture
from bgmix.kernels import MAX_CORRELATION, background_image, score_frame
from bgmix.kernels.covariance import COVARIANCE_TYPES as _REGISTRY
from bgmix.kernels.covariance import covariance_type as _covariance_entry
from bgmix.kernels.feedback import probability_from_distance
from bgmix.kernels.update import (
    UpdateParams,
    UpdateSpec,
    neighbourhood_kernel,
    plane_stride,
    state_planes,
    update_kernel,
)

_D = DEFAULTS  # the defaults are written once, in bgmix.presets ("robust")

FORMAT_VERSION = 2
"""Version of the ``.npz`` layout written by :meth:`BackgroundMixture.save`.

2: ``covariance_type`` among the parameters, and ``covariances_`` for "full"
and "tied" models. Version 1 files (spherical models) are still read."""

_STATE_ARRAYS = ("weights_", "variances_", "means_", "n_components_")
"""State arrays of a spherical or diag model; full and tied models hold
``covariances_`` instead of ``variances_`` (see :func:`_covariance_layout`)."""


class _StateView:
    """A state attribute (``weights_``, ``means_``, ``variances_``, ``covariances_``).

    The model keeps its weights, means and (co)variances as the planes of
    one padded array (the update kernel's layout, see
    :mod:`bgmix.kernels.update`); these attributes are views of it in the
    documented shapes. Assigning to one copies the values in (same shape);
    without a state, reading one raises AttributeError (``hasattr`` works).
    """

    def __init__(self, part: str) -> None:
        self.part = part

    def __set_name__(self, owner: type, name: str) -> None:
        self.name = name

    def __get__(self, model: Any, owner: type | None = None) -> Any:
        if model is None:
            return self
        views = model.__dict__.get("_views")
        if views is None or self.part not in views:
            raise AttributeError(
                f"{type(model).__name__} has no {self.name}: no state yet (apply a frame or "
                "call fit), or the covariance type keeps its covariances in "
                f"{'covariances_' if self.name == 'variances_' else 'variances_'}")
        return views[self.part]

    def __set__(self, model: Any, value: Any) -> None:
        view = self.__get__(model)
        value = np.asarray(value)
        if value.shape != view.shape:
            raise ValueError(f"{self.name} must have shape {view.shape}, got {value.shape}")
        view[...] = value

COVARIANCE_TYPES = tuple(_REGISTRY)
"""The covariance types, as declared in :mod:`bgmix.kernels.covariance`."""


def _covariance_layout(covariance_type: str, k: int, n_channels: int, height: int,
                       width: int) -> tuple[str, tuple[int, ...]]:
    """Name and shape of the state array holding a model's (co)variances."""
    entry = _REGISTRY[covariance_type]
    return entry.state_name, entry.state_shape(k, n_channels, height, width)


@dataclass(frozen=True)
class _KernelParams:
    """Parameters converted once to the exact scalar types the kernel takes."""

    var_threshold: np.float32
    background_ratio: np.float32
    var_threshold_gen: np.float32
    var_init: np.float32
    var_min: np.float32
    var_max: np.float32
    complexity_reduction: np.float32
    tau: np.float32
    detect_shadows: bool
    shadow_value: np.uint8
    n_threads: int | None
    intensity_scale: np.float32
    covariance_type: str
    history: int
    renormalize: bool
    keep_background_modes: bool
    neighbourhood_radius: int
    hold_frames: int
    feedback: float
    compensate_gain: bool
    light_change: float
    median_size: int
    fill_blob_holes: bool
    consistent_shadows: float
    texture_tolerance: int

    @property
    def uses_feedback(self) -> bool:
        """Whether apply runs the frame loop of :mod:`bgmix._feedback`."""
        return bool(self.hold_frames or self.feedback or self.compensate_gain
                    or self.light_change or self.median_size or self.fill_blob_holes
                    or self.checks_shadows or self.checks_texture)

    @property
    def checks_texture(self) -> bool:
        """Whether the texture check of :mod:`bgmix.kernels.texture` runs."""
        return bool(self.neighbourhood_radius and self.texture_tolerance < TEXTURE_BITS)

    @property
    def checks_shadows(self) -> bool:
        """Whether the shadow check of :mod:`bgmix.kernels.shadows` runs."""
        return bool(self.consistent_shadows and self.detect_shadows
                    and self.shadow_value not in (0, 255))


class BackgroundMixture:
    """Per-pixel adaptive Gaussian mixture background model.

    Every pixel holds up to ``n_components`` weighted Gaussian components
    (mean, variance, weight), sorted by weight. Each frame is classified and
    learned in one compiled pass: a pixel is background when it lies within
    ``var_threshold`` squared standard deviations of one of the heaviest
    components whose weights add up to ``background_ratio``; the matched
    component is pulled towards the sample, a new component is created when
    none matches, and a Dirichlet prior (``complexity_reduction``) drives
    unsupported components to zero weight and removes them, so each pixel
    keeps as many components as its history needs (Zivkovic, 2004/2006).
    The defaults are the ``"robust"`` preset (:mod:`bgmix.presets`): that
    mixture with a conservative update (a still person stays foreground),
    the camera's gain divided out, light changes re-learnt, a per-pixel
    threshold that rises where the decision flickers, the neighbourhood
    test and a 5x5 majority filter. ``BackgroundMixture.from_preset("mog2")``
    computes OpenCV's ``createBackgroundSubtractorMOG2`` on 8-bit frames bit
    for bit, with the same float32 operations.

    Parameters
    ----------
    n_components : int, default=3
        Most components per pixel, in [1, 255] (OpenCV's MOG2: 5).
    covariance_type : {"spherical", "diag", "full", "tied"}, default="spherical"
        Shape of each component's covariance. "spherical": one variance per
        component (OpenCV MOG2's model). "diag": one variance per channel.
        "full": a 3x3 covariance per component, which models noise that is
        correlated across channels (e.g. brightness flicker) and so detects
        colour changes across it. "tied": one 3x3 covariance per pixel shared
        by its components. The distance is the squared Mahalanobis distance in
        that covariance (for "diag", "full" and "tied" it is about 3 on average
        for background on 3-channel frames, against about 1 for "spherical",
        so the same ``var_threshold`` is stricter). On 1-channel frames every
        type holds one variance ("diag" and "full" are the spherical model,
        "tied" shares one variance per pixel).
    history : int, default=500
        Frames over which the automatic learning rate settles:
        ``1 / min(2 n, history)`` at the ``n``-th frame.
    var_threshold : float, default=12
        Squared Mahalanobis distance under which a pixel is explained by a
        background component (16 = 4 standard deviations, OpenCV's MOG2; the
        default is lower because the feedback, the neighbourhood test and
        the majority filter remove the false alarms that lets through).
    var_threshold_gen : float, default=9
        Squared distance under which a sample updates a component instead of
        creating a new one.
    background_ratio : float, default=0.9
        Cumulative weight of the heaviest components that form the background.
    var_init : float, default=15
        Variance of a new component.
    var_min, var_max : float, default=6, 75
        Bounds of every variance (regularisation); ``var_min <= var_init <= var_max``.
    complexity_reduction : float, default=0.05
        Dirichlet-prior constant ``c_T`` in ``w <- (1 - a) w - a c_T``, in [0, 1):
        the share of samples a component needs to survive. 0 disables pruning.
    detect_shadows : bool, default=True
        Mark shadows (darker, same-chroma versions of the background) with
        ``shadow_value`` instead of 255. On single-channel frames there is no
        chroma to test, so any darker sample is a shadow: turn it off for
        thermal cameras.
    shadow_value : int, default=127
        Mask value of shadow pixels, in [0, 255].
    shadow_threshold : float, default=0.5
        Darkest brightness ratio still called a shadow, in (0, 1].
    consistent_shadows : float, default=0.85
        Cast shadows of one light attenuate a scene by about one factor;
        dark parts of objects (a grey car, a dark coat) do not. A shadow
        darker than this brightness ratio keeps its label only when its
        ratio lies in the narrow band (0.1 wide) where most of the scene's
        recent dark shadows lie (a decaying histogram); with no such band
        it is foreground. Shadows between this and 1 (noise, soft shade)
        are kept unless they lie 25 thresholds from the background (a
        slightly darker object). In [0, 1]; 0 turns the check off
        (OpenCV's shadows).
    intensity_scale : float, default=1.0
        Factor applied to frame values before the model sees them; every
        mean, variance and threshold is in these scaled units. 1 takes values
        as they are, as OpenCV does (right for 8-bit frames, and for 16-bit
        thermal cameras whose useful range is a few hundred counts). For
        full-range 16-bit frames use ``255 / 65535`` (12-bit data:
        ``255 / 4095``) so the 8-bit defaults apply.
    renormalize : bool, default=True
        When a full mixture replaces its weakest component with a new one,
        rescale the other weights so that the live weights still sum to 1.
        False computes OpenCV's arithmetic, which lets the sum fall short
        until the next frame (``bgmix.compat`` and the ``"mog2"`` preset use
        it, to reproduce OpenCV's masks bit for bit).
    keep_background_modes : bool, default=True
        A sample that no component explains starts a new component; when
        all ``n_components`` are live, OpenCV's rule replaces the weakest.
        With this set it does not replace a weakest that is still background
        (the heavier ones weigh less than ``background_ratio``): that one
        loses the sample's weight instead, so a lasting change still takes
        its place after about ``weight / alpha`` frames. An object passing
        in front of a sign's third colour or water's glint then leaves the
        mode in the model; otherwise the mode, evicted, comes back as
        foreground, which the conservative update holds (a car passing the
        synthetic baseline's flickering sign left a ghost of its cell).
        False: OpenCV's replacement.
    neighbourhood_radius : int, default=1
        The neighbourhood step: a pixel still foreground after its own
        mixture is background when its sample lies within ``var_threshold``
        of a background component of a pixel at most this many rows and
        columns away (Elgammal et al. 2000's displacement test: swaying
        leaves, ripples, small camera shake). 0 turns it off (OpenCV).
        The state is not affected, only the mask and probability.
    texture_tolerance : int, default=3
        The texture check on what the neighbourhood step forgave: a
        neighbour's background colour explains leaves and ripples, and also
        an object that happens to share it (a dark car beside a lane's
        shade). The 16-bit local pattern of the frame around such a pixel
        (LBSP, as SuBSENSE's: which of 16 pixels in its 5x5 block differ by
        more than 30% from its grey level) is compared with the patterns
        its background allows; with more than this many bits that the
        background cannot show, the pixel is foreground. Left to the
        neighbourhood test: unsettled blocks (a pixel whose heaviest
        component is under 0.8 of its weight: water and leaves change their
        pattern while every colour is background), and pixels displaced in
        15% of the recent frames (a dynamic background the mixture has not
        learnt; a passing object displaces a pixel for a few frames). In
        [0, 16]; 16 turns it off. Acts only with ``neighbourhood_radius``.
    hold_frames : int, default=1500
        Conservative update: a foreground pixel is not learned, so a person
        or car that stops stays foreground, for up to this many frames; then
        it is absorbed into the background at ten times the learning rate
        (a parked car). A pixel that the neighbourhood step called background
        is held too (its sample is a neighbour's background, not its own).
        In the first ``history / 10`` frames only pixels that have settled
        (their heaviest component at 0.95 of the weight) are held, and only
        while at most 5% of the view flickers, so that an object arriving
        then in a quiet scene is not learnt while water, leaves and moving
        steps learn their modes. Ghosts are not held: held pixels that show the ground
        where an object the model had learnt has left (a car parked when the
        camera started drives away) re-learn at once, when both the
        contrast along their blob's border is the model's and not the
        frame's, and the background around them explains them
        (:mod:`bgmix.kernels.ghosts`). 0: every pixel learns (MOG2's update).
    feedback : float, default=1
        Pixel-level feedback: each pixel's threshold becomes
        ``var_threshold (1 + feedback (blink + distance))``, where ``blink``
        (0-1) counts recent flips of the pixel's decision and ``distance``
        (0-1) averages its distance to the background over ``4 var_threshold``
        (SuBSENSE's ``v(x)`` and ``D_min(x)``): swaying leaves and flicker
        raise their own threshold, static pixels keep ``var_threshold``. In
        [0, 10]; 0 turns it off.
    compensate_gain : bool, default=True
        Estimate the camera's exposure each frame (the median ratio of frame
        to background over a sparse grid of background pixels, each against
        its nearest background component) and divide the samples by 90% of
        the change (the rest is learned, so that the estimate cannot drift):
        auto-exposure and clouds no longer turn the frame white.
    light_change : float, default=0.2
        A frame in which more than this fraction of the visible background
        (the pixels not foreground in the frame before) turns foreground at
        once is a light change (a lamp, a door): those pixels
        are cleared from the mask and re-learned from the next frame, and the
        model of the pixels that objects hid then is re-lit by the change
        measured beside them (the ground comes back in the new light, not as
        a ghost). In [0, 1]; 0 turns it off.
    median_size : int, default=5
        The clean-up inside ``apply``: a ``median_size`` x ``median_size``
        majority filter of the foreground (0 off, or odd in [3, 15]).
    fill_blob_holes : bool, default=False
        After the median, fill the holes of foreground blobs (background
        pixels not connected to the frame's border).
    n_threads : int or None, default=None
        Threads of the compiled kernels, the calling thread included. None:
        ``numba.get_num_threads()`` at each call, so ``numba.set_num_threads``
        (or ``NUMBA_NUM_THREADS``) decides, as for any Numba code. The
        per-frame update runs on bgmix's own threads (GIL released), so a
        model may be used from any thread.

    Attributes
    ----------
    weights_ : ndarray of shape (n_components, H, W), float32
        Component weights, descending per pixel; live ones sum to 1.
    variances_ : ndarray of shape (n_components, H, W), float32
        ("spherical"), or (n_components, C, H, W) ("diag"): variances, in
        [var_min, var_max].
    covariances_ : ndarray of shape (n_components, P, H, W) ("full") or (P, H, W) ("tied"), float32
        Covariances; for 3-channel frames ``P = 6`` planes hold the upper
        triangle xx, xy, xz, yy, yz, zz of each symmetric 3x3 matrix, for
        1-channel frames ``P = 1``. Variances lie in [var_min, var_max] and
        every correlation within ``bgmix.kernels.MAX_CORRELATION`` (0.95), so
        each matrix is positive definite.
    means_ : ndarray of shape (n_components, C, H, W), float32
        Component means, one plane per component and channel, in frame
        units times ``intensity_scale``.
    n_components_ : ndarray of shape (H, W), uint8
        Live components per pixel.
    n_frames_seen_ : int
        Frames learned since the state was (re-)initialised.

    Notes
    -----
    Frames may be uint8 or uint16 with 1 or 3 channels, or float32 (on the
    0-255 scale for the defaults to fit). Values are multiplied by
    ``intensity_scale`` (default 1) before anything else.

    Examples
    --------
    >>> import numpy as np
    >>> from bgmix import BackgroundMixture
    >>> model = BackgroundMixture(history=100)
    >>> frames = np.full((20, 48, 64, 3), 90, dtype=np.uint8)
    >>> for frame in frames:
    ...     mask = model.apply(frame)
    >>> frame = frames[0].copy()
    >>> frame[10:20, 10:20] = 250
    >>> mask = model.apply(frame)
    >>> int(mask[15, 15]), int(mask[0, 0])
    (255, 0)
    """

    def __init__(
        self,
        *,
        n_components: int = _D["n_components"],
        covariance_type: Literal["spherical", "diag", "full", "tied"] = _D["covariance_type"],
        history: int = _D["history"],
        var_threshold: float = _D["var_threshold"],
        var_threshold_gen: float = _D["var_threshold_gen"],
        background_ratio: float = _D["background_ratio"],
        var_init: float = _D["var_init"],
        var_min: float = _D["var_min"],
        var_max: float = _D["var_max"],
        complexity_reduction: float = _D["complexity_reduction"],
        detect_shadows: bool = _D["detect_shadows"],
        shadow_value: int = _D["shadow_value"],
        shadow_threshold: float = _D["shadow_threshold"],
        intensity_scale: float = 1.0,
        renormalize: bool = _D["renormalize"],
        keep_background_modes: bool = _D["keep_background_modes"],
        neighbourhood_radius: int = _D["neighbourhood_radius"],
        hold_frames: int = _D["hold_frames"],
        feedback: float = _D["feedback"],
        compensate_gain: bool = _D["compensate_gain"],
        light_change: float = _D["light_change"],
        median_size: int = _D["median_size"],
        fill_blob_holes: bool = _D["fill_blob_holes"],
        consistent_shadows: float = _D["consistent_shadows"],
        texture_tolerance: int = _D["texture_tolerance"],
        n_threads: int | None = None,
    ) -> None:
        self.n_components = n_components
        self.covariance_type = covariance_type
        self.history = history
        self.var_threshold = var_threshold
        self.var_threshold_gen = var_threshold_gen
        self.background_ratio = background_ratio
        self.var_init = var_init
        self.var_min = var_min
        self.var_max = var_max
        self.complexity_reduction = complexity_reduction
        self.detect_shadows = detect_shadows
        self.shadow_value = shadow_value
        self.shadow_threshold = shadow_threshold
        self.intensity_scale = intensity_scale
        self.renormalize = renormalize
        self.keep_background_modes = keep_background_modes
        self.neighbourhood_radius = neighbourhood_radius
        self.hold_frames = hold_frames
        self.feedback = feedback
        self.compensate_gain = compensate_gain
        self.light_change = light_change
        self.median_size = median_size
        self.fill_blob_holes = fill_blob_holes
        self.consistent_shadows = consistent_shadows
        self.texture_tolerance = texture_tolerance
        self.n_threads = n_threads

    weights_ = _StateView("weights")
    means_ = _StateView("means")
    variances_ = _StateView("variances")
    covariances_ = _StateView("covariances")

    def __setattr__(self, name: str, value: Any) -> None:
        # Parameters are validated once and cached in their kernel form; an
        # assignment to any of them (``model.var_threshold = 30``) drops the
        # cache, so the next apply validates and uses the new value.
        object.__setattr__(self, name, value)
        if not name.endswith("_") and not name.startswith("_"):
            self.__dict__["_kernel_params"] = None

    # ------------------------------------------------------------------ params
    @classmethod
    def from_preset(cls, name: str, **overrides: Any) -> BackgroundMixture:
        """Build a model from a named preset (see :mod:`bgmix.presets`), with overrides.

        Examples
        --------
        >>> BackgroundMixture.from_preset("mog2", history=200).history
        200
        """
        from bgmix.presets import preset_params

        return cls(**{**preset_params(name), **overrides})

    @classmethod
    def _param_names(cls) -> list[str]:
        signature = inspect.signature(cls.__init__)
        return [p.name for p in signature.parameters.values() if p.kind == p.KEYWORD_ONLY]

    def get_params(self, deep: bool = True) -> dict[str, Any]:
        """Return the constructor parameters as a dict.

        Examples
        --------
        >>> BackgroundMixture(history=200).get_params()["history"]
        200
        """
        return {name: getattr(self, name) for name in self._param_names()}

    def set_params(self, **params: Any) -> BackgroundMixture:
        """Set parameters; they are validated at the next :meth:`apply`.

        Changing ``n_components`` or ``covariance_type`` discards the learned
        state (its shape depends on them); other parameters take effect from
        the next frame on.

        Examples
        --------
        >>> model = BackgroundMixture().set_params(var_threshold=25)
        >>> model.var_threshold
        25
        """
        names = set(self._param_names())
        for name, value in params.items():
            if name not in names:
                raise ValueError(f"unknown parameter {name!r}; valid parameters: {sorted(names)}")
            if name in ("n_components", "covariance_type") and value != getattr(self, name):
                self.reset()
            setattr(self, name, value)
        return self

    def __repr__(self) -> str:
        args = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({args})"

    def _validated(self) -> _KernelParams:
        """Validate the parameters once and cache their kernel form."""
        cached = self.__dict__.get("_kernel_params")
        if cached is not None:
            return cached
        check.check_int("n_components", self.n_components, 1, 255)
        _covariance_entry(self.covariance_type)
        history = check.check_int("history", self.history, 1)
        var_threshold = check.check_float("var_threshold", self.var_threshold, 0, low_open=True)
        var_threshold_gen = check.check_float("var_threshold_gen", self.var_threshold_gen, 0, low_open=True)
        background_ratio = check.check_float("background_ratio", self.background_ratio, 0, 1, low_open=True)
        var_min = check.check_float("var_min", self.var_min, 0, low_open=True)
        var_max = check.check_float("var_max", self.var_max, var_min)
        var_init = check.check_float("var_init", self.var_init, var_min, var_max)
        complexity_reduction = check.check_float(
            "complexity_reduction", self.complexity_reduction, 0, 1, high_open=True)
        detect_shadows = check.check_bool("detect_shadows", self.detect_shadows)
        shadow_value = check.check_int("shadow_value", self.shadow_value, 0, 255)
        tau = check.check_float("shadow_threshold", self.shadow_threshold, 0, 1, low_open=True)
        renormalize = check.check_bool("renormalize", self.renormalize)
        keep_modes = check.check_bool("keep_background_modes", self.keep_background_modes)
        radius = check.check_int("neighbourhood_radius", self.neighbourhood_radius, 0, 16)
        hold_frames = check.check_int("hold_frames", self.hold_frames, 0)
        feedback = check.check_float("feedback", self.feedback, 0, 10)
        compensate_gain = check.check_bool("compensate_gain", self.compensate_gain)
        light_change = check.check_float("light_change", self.light_change, 0, 1)
        median_size = check.check_int("median_size", self.median_size, 0, 15)
        if median_size and (median_size < 3 or median_size % 2 == 0):
            raise ValueError(f"median_size must be 0 (off) or odd in [3, 15], got {median_size}")
        fill = check.check_bool("fill_blob_holes", self.fill_blob_holes)
        consistent_shadows = check.check_float("consistent_shadows", self.consistent_shadows, 0, 1)
        texture_tolerance = check.check_int("texture_tolerance", self.texture_tolerance, 0,
                                            TEXTURE_BITS)
        if self.n_threads is None:
            n_threads = None
        else:
            n_threads = check.check_int("n_threads", self.n_threads, 1,
                                        numba.config.NUMBA_NUM_THREADS)
        f32 = np.float32
        params = _KernelParams(
            var_threshold=f32(var_threshold), background_ratio=f32(background_ratio),
            var_threshold_gen=f32(var_threshold_gen), var_init=f32(var_init),
            var_min=f32(var_min), var_max=f32(var_max),
            complexity_reduction=f32(complexity_reduction), tau=f32(tau),
            detect_shadows=detect_shadows, shadow_value=np.uint8(shadow_value),
            n_threads=n_threads, covariance_type=self.covariance_type,
            intensity_scale=np.float32(check.check_float(
                "intensity_scale", self.intensity_scale, 0, low_open=True)),
            history=history, renormalize=renormalize, keep_background_modes=keep_modes,
            neighbourhood_radius=radius,
            hold_frames=hold_frames, feedback=feedback, compensate_gain=compensate_gain,
            light_change=light_change, median_size=median_size, fill_blob_holes=fill,
            consistent_shadows=consistent_shadows, texture_tolerance=texture_tolerance,
        )
        self.__dict__["_kernel_params"] = params
        return params

    # ------------------------------------------------------------------- state
    @property
    def is_initialized(self) -> bool:
        """True once a frame has been seen (the state arrays exist)."""
        return hasattr(self, "weights_")

    def reset(self) -> BackgroundMixture:
        """Forget the learned state; the next frame starts a new model.

        Examples
        --------
        >>> model = BackgroundMixture()
        >>> _ = model.apply(np.zeros((4, 4), np.uint8))
        >>> model.reset().is_initialized
        False
        """
        for name in ("_planes", "_views", "_layout", "_feedback", "_steady", "n_components_",
                     "n_frames_seen_", "frame_shape_", "frame_dtype_"):
            self.__dict__.pop(name, None)
        return self

    def _allocate_state(self, covariance_type: str, n_components: int, n_channels: int,
                        height: int, width: int) -> None:
        """Allocate the state planes (zeros) and the views of them."""
        entry = _REGISTRY[covariance_type]
        cov_shape = entry.state_shape(n_components, n_channels, height, width)
        n_cov = int(np.prod(cov_shape[:-2]))
        n_pixels = height * width
        planes = np.zeros((state_planes(n_components, n_channels, n_cov),
                           plane_stride(n_pixels)), np.float32)
        used = planes[:, :n_pixels]
        k, c = n_components, n_channels
        views = {
            "weights": used[:k].reshape((k, height, width)),
            "means": used[k:k * (1 + c)].reshape((k, c, height, width)),
            entry.state_name[:-1]: used[k * (1 + c):].reshape(cov_shape),
        }
        self.__dict__["_planes"] = planes
        self.__dict__["_views"] = views
        self.__dict__["_layout"] = (covariance_type, n_components, n_channels, height, width)

    def _set_state(self, covariance_type: str, weights: np.ndarray, covariance: np.ndarray,
                   means: np.ndarray, n_modes: np.ndarray) -> None:
        """Install state arrays (copied into the planes); shapes as the attributes'."""
        k, height, width = weights.shape
        self._allocate_state(covariance_type, k, means.shape[1], height, width)
        views = self.__dict__["_views"]
        views["weights"][...] = weights
        views["means"][...] = means
        views[_REGISTRY[covariance_type].state_name[:-1]][...] = covariance
        self.n_components_ = np.ascontiguousarray(n_modes, dtype=np.uint8)

    def _state_arrays(self) -> tuple[str, ...]:
        return ("weights_", _REGISTRY[self.covariance_type].state_name, "means_", "n_components_")

    def _initialize(self, frame: np.ndarray, params: _KernelParams) -> None:
        height, width, n_channels = frame.shape
        k = int(self.n_components)
        self.reset()
        entry = _REGISTRY[params.covariance_type]
        self._allocate_state(params.covariance_type, k, n_channels, height, width)
        covariance = getattr(self, entry.state_name)
        covariance[...] = entry.new_state(k, n_channels, height, width, params.var_init)
        self.n_components_ = np.zeros((height, width), np.uint8)
        self.n_frames_seen_ = 0
        self.frame_shape_ = (height, width, n_channels)
        self.frame_dtype_ = frame.dtype.name

    # ------------------------------------------------------------------- apply
    def apply(
        self,
        frame: np.ndarray,
        learning_rate: float | None = None,
        known_foreground: np.ndarray | None = None,
        *,
        probability: np.ndarray | None = None,
        log_likelihood: np.ndarray | None = None,
        out: np.ndarray | None = None,
        threshold_map: np.ndarray | None = None,
        rate_map: np.ndarray | None = None,
    ) -> np.ndarray:
        """Classify a frame and learn it, in one pass over the pixels.

        Parameters
        ----------
        frame : ndarray, (H, W) or (H, W, C)
            uint8 or uint16 with C in {1, 3}, or float32 on the 0-255 scale.
        learning_rate : float or None
            None or negative: automatic, ``1 / min(2 n, history)``; 0: frozen
            (classify only); in (0, 1): this rate; 1: re-initialise the model
            from this frame (also the way to change the frame size).
        known_foreground : ndarray of bool or uint8, (H, W), optional
            Pixels known to be foreground (from a tracker, say): classified
            but not learned this frame.
        probability : ndarray of float32, (H, W), optional
            Filled, in the same pass, with each pixel's foreground
            probability ``p = 1 / (1 + exp(-(D2 - var_threshold) / 2))``,
            ``D2`` being the smallest squared Mahalanobis distance to a
            background component (``p = 1`` with none). ``p = 0.5`` on the
            decision boundary; ``p >= 0.5`` exactly where the mask is not 0.
        log_likelihood : ndarray of float32, (H, W), optional
            Filled, in the same pass, with each pixel's log-likelihood under
            its background components, from the model as it was before this
            frame: what :meth:`score_samples` would have returned (see there).
            The background components are chosen by the stored weights; the
            classification sees them decayed by the learning rate, so the two
            sets can differ where a cumulative weight lies within about
            ``alpha`` of ``background_ratio``. It costs about what
            :meth:`score_samples` costs; nothing when not given.
        out : ndarray of uint8, (H, W), optional
            Buffer for the mask.
        threshold_map : ndarray of float32, (H, W), optional
            A per-pixel ``var_threshold`` used instead of the scalar one (in
            the decision, the shadow test, the neighbourhood step and the
            probability): positive and finite.
        rate_map : ndarray of float32, (H, W), optional
            A per-pixel factor of the learning rate (and of the prior's
            pruning), in [0, 1e3]: 0 freezes a pixel this frame (as
            ``known_foreground``, which multiplies it by 0), 1 is the
            scalar rate exactly. These two planes are the kernel's
            extension point for per-pixel feedback.

        Returns
        -------
        mask : ndarray of uint8, (H, W)
            0 background, ``shadow_value`` shadow, 255 foreground.

        Examples
        --------
        >>> model = BackgroundMixture()
        >>> frame = np.zeros((3, 4, 3), np.uint8)
        >>> p = np.empty((3, 4), np.float32)
        >>> model.apply(frame).shape
        (3, 4)
        >>> mask = model.apply(frame, probability=p)
        >>> bool((p < 0.5).all()), int(mask.max())
        (True, 0)
        >>> log_lik = np.empty((3, 4), np.float32)
        >>> mask = model.apply(frame, log_likelihood=log_lik)
        >>> bool(np.isfinite(log_lik).all())
        True
        """
        steady = self.__dict__.get("_steady")
        if (steady is not None and known_foreground is None and probability is None
                and log_likelihood is None and out is None and threshold_map is None
                and rate_map is None and type(frame) is np.ndarray
                and frame.shape == steady.shape and frame.dtype == steady.dtype
                and frame.flags.c_contiguous
                and self.__dict__.get("_kernel_params") is steady.params
                and self.__dict__.get("_planes") is steady.planes):
            rate = self._check_learning_rate(learning_rate)
            if rate is None or rate < 1.0:
                return self._apply_steady(frame, rate, steady)
        params = self._validated()
        raw_shape = frame.shape if isinstance(frame, np.ndarray) else None
        frame = check.as_frame(frame, scale=params.intensity_scale)
        height, width, n_channels = frame.shape
        rate = self._check_learning_rate(learning_rate)
        reinitialize = rate is not None and rate >= 1.0
        if not self.is_initialized or reinitialize:
            self._initialize(frame, params)
        elif (frame.shape != self.frame_shape_
              or _DTYPE_NAMES[frame.dtype] != self.frame_dtype_):
            raise ValueError(
                f"frame has shape {frame.shape[:2]} with {frame.shape[2]} channel(s), dtype "
                f"{frame.dtype}, but the model was initialised with shape {self.frame_shape_[:2]} "
                f"with {self.frame_shape_[2]} channel(s), dtype {self.frame_dtype_}; pass "
                "learning_rate=1 to re-initialise the model from this frame"
            )
        elif self.__dict__["_layout"] != (params.covariance_type, int(self.n_components),
                                          n_channels, height, width):
            raise ValueError(
                f"the learned state does not fit covariance_type={params.covariance_type!r}, "
                f"n_components={self.n_components!r}; change them with set_params() (which "
                "resets the state) or call reset()")
        shape = (height, width)
        user_planes = (threshold_map is not None or rate_map is not None
                       or known_foreground is not None)
        feedback = None
        if params.uses_feedback:
            feedback = self.__dict__.get("_feedback")
            if feedback is None:
                feedback = FeedbackState(height, width, float(params.var_threshold))
                self.__dict__["_feedback"] = feedback
            feedback.var_threshold = float(params.var_threshold)
            threshold_plane, rate_plane = feedback.threshold, feedback.rate
            if user_planes:
                user_threshold, user_rate = self._pixel_planes(
                    shape, params, threshold_map, rate_map, known_foreground)
                if threshold_map is not None:
                    threshold_plane = user_threshold
                if rate_map is not None or known_foreground is not None:
                    rate_plane = rate_plane * user_rate
            pixel_planes = True
        elif user_planes:
            threshold_plane, rate_plane = self._pixel_planes(
                shape, params, threshold_map, rate_map, known_foreground)
            pixel_planes = True
        else:
            threshold_plane = rate_plane = _EMPTY_F32
            pixel_planes = False
        if probability is not None:
            probability = check.as_output(probability, shape, np.float32, "probability")
        if log_likelihood is not None:
            log_likelihood = check.as_output(log_likelihood, shape, np.float32, "log_likelihood")
            if probability is not None and np.shares_memory(probability, log_likelihood):
                raise ValueError("probability and log_likelihood must be different arrays")
        if out is None:
            out = np.empty(shape, np.uint8)
        else:
            out = check.as_output(out, shape, np.uint8, "out")

        self.n_frames_seen_ += 1
        alpha, prune = self._rates(rate, params)
        entry = _REGISTRY[params.covariance_type]
        spec = UpdateSpec(entry.metric(n_channels), n_channels, not entry.per_component,
                          params.detect_shadows, probability is not None and feedback is None,
                          params.renormalize, pixel_planes, feedback is not None)
        planes = self.__dict__["_planes"]
        k = int(self.n_components)
        scale = params.intensity_scale
        if feedback is not None and params.compensate_gain and self.n_frames_seen_ > 1:
            scale = np.float32(scale / feedback.estimate_gain(
                frame, params.intensity_scale, planes, k, self.n_components_))
        scalars = _update_params(params, alpha, prune, scale)
        probability_out = probability if probability is not None else _EMPTY_F32
        if log_likelihood is not None:
            # From the state before this frame: scored first.
            views = self.__dict__["_views"]
            with _threads(params.n_threads):
                score_frame(frame, params.intensity_scale, views["weights"],
                            entry.planar(views[entry.state_name[:-1]]), views["means"],
                            self.n_components_, 1 if entry.per_component else 0,
                            entry.spherical, params.background_ratio, log_likelihood)
        n_threads = resolve_threads(params.n_threads)
        if feedback is not None:
            self._apply_feedback(feedback, spec, frame, planes, k, threshold_plane, rate_plane,
                                 scalars, n_threads, out, probability, params, alpha)
            return out
        arguments = (frame, planes, k, self.n_components_, out, probability_out,
                     threshold_plane, rate_plane, scalars)
        kernel = update_kernel(spec)
        neighbours = neighbourhood_kernel(spec) if params.neighbourhood_radius > 0 else None
        run_bands(kernel, arguments, n_threads)
        if neighbours is not None:
            run_bands(neighbours, arguments[:7] + (scalars,), n_threads)
        if (not user_planes and probability is None and log_likelihood is None
                and raw_shape is not None and frame.dtype != np.float32
                and not check.frame_may_overflow(frame.dtype, params.intensity_scale)):
            # What this call checked holds for every later frame of this shape
            # and dtype while the parameters and the state stay: the next
            # such calls skip straight to the kernel (_apply_steady).
            self.__dict__["_steady"] = _Steady(params, planes, raw_shape, frame.dtype, k,
                                               kernel, neighbours)
        return out

    def _apply_steady(self, frame: np.ndarray, rate: float | None, steady: _Steady) -> np.ndarray:
        """:meth:`apply` of an integer frame of the model's shape and dtype,
        with no optional outputs: what the full path computes, without its
        checks (each passed for this shape, dtype and parameters). On small
        frames the checks cost a fifth of the kernel's time."""
        params = steady.params
        if frame.ndim == 2:
            frame = frame[:, :, np.newaxis]
        self.n_frames_seen_ += 1
        alpha, prune = self._rates(rate, params)
        scalars = steady.scalars
        if scalars is None or scalars.alpha != np.float32(alpha) or scalars.prune != np.float32(prune):
            # Constant once the automatic rate reaches 1 / history.
            scalars = _update_params(params, alpha, prune, params.intensity_scale)
            self.__dict__["_steady"] = steady._replace(scalars=scalars)
        height, width = frame.shape[:2]
        out = np.empty((height, width), np.uint8)
        arguments = (frame, steady.planes, steady.n_components, self.n_components_, out,
                     _EMPTY_F32, _EMPTY_F32, _EMPTY_F32, scalars)
        n_threads = resolve_threads(params.n_threads)
        run_bands(steady.kernel, arguments, n_threads)
        if steady.neighbours is not None:
            run_bands(steady.neighbours, arguments[:7] + (scalars,), n_threads)
        return out

    def _rates(self, rate: float | None, params: _KernelParams) -> tuple[float, float]:
        """This frame's learning rate ``alpha`` and OpenCV's ``prune``."""
        n = self.n_frames_seen_
        # As OpenCV: the first frame after (re)initialisation always uses the
        # automatic rate, so the model is never born frozen.
        if rate is not None and rate >= 0 and n > 1:
            alpha = rate
        else:
            alpha = 1.0 / min(2 * n, params.history)
        # OpenCV computes -learningRate * fCT in double, then rounds to float.
        return alpha, -alpha * float(params.complexity_reduction)

    def _apply_feedback(self, feedback: FeedbackState, spec: UpdateSpec, frame: np.ndarray,
                        planes: np.ndarray, k: int, threshold_plane: np.ndarray,
                        rate_plane: np.ndarray, scalars: UpdateParams, n_threads: int,
                        out: np.ndarray, probability: np.ndarray | None,
                        params: _KernelParams, alpha: float) -> None:
        """The update with the feedback loop of :mod:`bgmix._feedback` (steps 2-6 there)."""
        run_bands(update_kernel(spec), (frame, planes, k, self.n_components_, feedback.raw,
                                        feedback.min_distance, threshold_plane, rate_plane,
                                        scalars), n_threads)
        neighbour = feedback.raw  # the neighbourhood step works on a copy, when it runs
        if params.neighbourhood_radius > 0:
            neighbour = feedback.neighbour
            np.copyto(neighbour, feedback.raw)
            run_bands(neighbourhood_kernel(spec), (frame, planes, k, self.n_components_,
                                                   neighbour, feedback.min_distance,
                                                   threshold_plane, scalars), n_threads)
        if params.checks_texture:
            feedback.check_texture(frame, scalars.intensity_scale, planes, k, self.n_components_,
                                   neighbour, params.background_ratio, params.intensity_scale,
                                   params.texture_tolerance)
        if params.checks_shadows:
            feedback.check_shadows(frame, scalars.intensity_scale, planes, k, self.n_components_,
                                   neighbour, threshold_plane, int(params.shadow_value),
                                   params.consistent_shadows)
        light_before = feedback.light_event
        warming_up = self.n_frames_seen_ <= params.history // WARMUP_SHARE
        feedback.finish(out, neighbour, alpha, median_size=params.median_size, fill=params.fill_blob_holes,
                        feedback=params.feedback, hold_frames=params.hold_frames,
                        light_change=params.light_change, warming_up=warming_up)
        if params.hold_frames:
            if warming_up and self.n_frames_seen_ >= WARMUP_MIN_FRAMES:
                feedback.hold_settled(planes, WARMUP_SETTLED, WARMUP_MAX_FLICKER)
            # Also at the first frame, where nothing is held yet: the kernel
            # compiles with the others then, not as a stall in a live stream.
            if self.n_frames_seen_ % GHOST_EVERY == 0 or self.n_frames_seen_ == 1:
                feedback.absorb_ghosts(frame, scalars.intensity_scale, planes, k, out, alpha,
                                       params.intensity_scale)
        if feedback.light_event and not light_before:
            feedback.relight_hidden(frame, scalars.intensity_scale, planes, k, self.n_components_)
        if probability is not None:
            probability_from_distance(feedback.min_distance, threshold_plane, out, probability)
        feedback.advance()

    @staticmethod
    def _pixel_planes(shape, params, threshold_map, rate_map, known_foreground):
        """The kernel's per-pixel threshold and rate planes (float32, C-contiguous)."""
        if threshold_map is None:
            threshold_plane = np.full(shape, params.var_threshold, np.float32)
        else:
            threshold_plane = check.as_plane(threshold_map, shape, "threshold_map",
                                             low=0.0, low_open=True)
        if rate_map is None:
            rate_plane = np.ones(shape, np.float32)
        else:
            rate_plane = check.as_plane(rate_map, shape, "rate_map", low=0.0, high=1e3)
        if known_foreground is not None:
            known = check.as_pixel_mask(known_foreground, shape, "known_foreground")
            rate_plane = np.where(known != 0, np.float32(0.0), rate_plane)
        return threshold_plane, rate_plane

    # --------------------------------------------------------------------- fit
    def fit(
        self,
        frames: Any,
        *,
        n_components: int | Literal["bic"] | None = None,
        n_init: int = 1,
        max_iter: int = 100,
        tol: float = 1e-3,
        init: Literal["k-means++", "quantile"] = "k-means++",
        random_state: int | None = None,
        weight_prior: float | None = None,
    ) -> BackgroundMixture:
        """Bootstrap the state from a batch of frames by EM, then ``apply`` continues.

        Every pixel's mixture is fitted to its ``N`` samples by expectation
        maximisation (maximum likelihood, as scikit-learn's
        ``GaussianMixture`` of the model's ``covariance_type``), in one
        compiled pass over the pixels. Variances are kept in
        ``[var_min, var_max]`` (and "full"/"tied" correlations within
        ``bgmix.kernels.MAX_CORRELATION``) during the iterations, components
        lighter than ``max(1 / N, complexity_reduction)`` are dropped, and
        the result replaces any learned state, as if the model had seen the
        ``N`` frames (``n_frames_seen_ = N``): the next :meth:`apply`
        classifies against it and keeps learning online.

        Parameters
        ----------
        frames : ndarray or iterable of ndarray
            An (N, H, W, C) array (C in {1, 3}), an (N, H, W) array of grey
            frames, or an iterable of (H, W[, C]) frames; uint8, uint16 or
            float32, all of one shape and dtype, N >= 2. A 3-D array whose
            last axis is 1 or 3 is refused as ambiguous.
        n_components : int, "bic" or None, default=None
            Components fitted per pixel: None, the model's ``n_components``;
            an int in [1, n_components]; "bic", for each pixel the count in
            1..n_components of lowest ``BIC = -2 N L + p log N`` (``L`` the
            mean log-likelihood per sample, ``p`` the free parameters of the
            covariance type).
        n_init : int, default=1
            k-means++ restarts per pixel (and per count); the fit of highest
            likelihood is kept. >= 1; "quantile" runs once.
        max_iter : int, default=100
            Most EM iterations per run, >= 1.
        tol : float, default=1e-3
            Stop when the mean log-likelihood per sample changes by less, >= 0.
        init : {"k-means++", "quantile"}, default="k-means++"
            Start of EM: k-means++ seeding and Lloyd iterations (seeded per
            pixel from ``random_state``, so results do not depend on the
            threads), or the samples sorted by luminance split into equal
            groups (deterministic).
        random_state : int or None, default=None
            Seed in [0, 2**64 - 1]; None draws one.
        weight_prior : float or None, default=None
            Strength of the Dirichlet prior on the weights, as a share of the
            N frames, in [0, 0.5]: the MAP weights
            ``w_k ∝ max(0, w_k - weight_prior)`` replace EM's (a component
            seen in fewer than that share of the frames is dropped; the
            heaviest always stays). None: ``1 - background_ratio``, so a
            colour that crossed a pixel in a few of the N frames (an object
            passing) is not counted as background, as the online model would
            not count it. 0: EM's maximum-likelihood weights, as
            scikit-learn's.

        Returns
        -------
        self : BackgroundMixture
            With the state set, ``n_frames_seen_ = N``, and
            ``fit_log_likelihood_``: (H, W) float32, each pixel's mean
            log-likelihood per sample under its fitted mixture (all its
            components, EM's weights; in model units: frame values times
            ``intensity_scale``). The count chosen per pixel is
            ``n_components_``.

        Examples
        --------
        >>> rng = np.random.default_rng(0)
        >>> frames = rng.normal(100, 2, (40, 24, 32, 3)).astype(np.float32)
        >>> frames[::2, :, :16] += 60  # the left half flickers between two colours
        >>> model = BackgroundMixture.from_preset("mog2", n_components=3).fit(
        ...     frames, n_components="bic", random_state=0)
        >>> int(model.n_components_[0, 0]), int(model.n_components_[0, 31])
        (2, 1)
        >>> model.n_frames_seen_, model.fit_log_likelihood_.shape
        (40, (24, 32))
        >>> int(model.apply(frames[1])[0, 0]), int(model.apply(frames[1] + 80)[0, 31])
        (0, 255)
        """
        state = fit_mixture(frames, self._validated(), int(self.n_components),
                            n_components=n_components, n_init=n_init, max_iter=max_iter,
                            tol=tol, init=init, random_state=random_state,
                            weight_prior=weight_prior)
        self.reset()
        self._set_state(state.covariance_type, state.weights, state.covariances, state.means,
                        state.n_modes)
        self.n_frames_seen_ = state.n_frames
        self.frame_shape_ = state.frame_shape
        self.frame_dtype_ = state.frame_dtype
        self.fit_log_likelihood_ = state.log_likelihood
        return self

    # ---------------------------------------------------------------- scoring
    def score_samples(self, frame: np.ndarray, *, out: np.ndarray | None = None) -> np.ndarray:
        """Per-pixel log-likelihood of a frame under the background, without learning.

        For each pixel, ``log sum_k (w_k / W) N(x; mu_k, Sigma_k)`` over its
        background components: the heaviest, in weight order, taken while
        the weights before them add up to less than ``background_ratio``
        (the components the classification compares the pixel with), ``W``
        being their total weight. ``x`` is the pixel in model units (frame
        values times ``intensity_scale``), so the density is per unit of
        those. ``N`` is the Gaussian of the component's covariance with its
        normalisation (``-log det(2 pi Sigma) / 2``): "diag", one variance
        per channel; "full" and "tied", the 3x3 covariance. A "spherical"
        component's ``variances_`` entry is, as OpenCV MOG2's, the *total*
        variance over the ``C`` channels (it tracks ``|x - mu|^2``), so its
        density is the isotropic Gaussian with per-channel variance
        ``variances_[k] / C``. A pixel with no component scores ``-inf``.

        The model is only read (``apply`` with ``learning_rate=0`` still
        renormalises weights, and counts the frame).

        Parameters
        ----------
        frame : ndarray, (H, W) or (H, W, C)
            A frame of the shape and dtype the model was initialised with.
        out : ndarray of float32, (H, W), optional
            Buffer for the result.

        Returns
        -------
        log_likelihood : ndarray of float32, (H, W)

        See Also
        --------
        apply : ``log_likelihood=`` gives the same values in the learning pass.
        score : their mean. outliers : pixels scoring below a threshold.

        Examples
        --------
        >>> import math
        >>> model = BackgroundMixture.from_preset("mog2", var_init=4.0)
        >>> frame = np.full((2, 3), 100, np.uint8)
        >>> _ = model.apply(frame)
        >>> log_lik = model.score_samples(frame)  # one component, variance 4
        >>> round(float(log_lik[0, 0]), 4), round(-0.5 * math.log(2 * math.pi * 4), 4)
        (-1.6121, -1.6121)
        >>> float(model.score_samples(frame + 4)[0, 0]) < float(log_lik[0, 0])
        True
        """
        params = self._validated()
        frame = self._frame_for_state(frame)
        height, width, n_channels = frame.shape
        if out is None:
            out = np.empty((height, width), np.float32)
        else:
            out = check.as_output(out, (height, width), np.float32, "out")
        entry = _REGISTRY[params.covariance_type]
        cov = entry.planar(getattr(self, entry.state_name))
        with _threads(params.n_threads):
            score_frame(frame, params.intensity_scale, self.weights_, cov, self.means_,
                        self.n_components_, 1 if entry.per_component else 0,
                        entry.spherical, params.background_ratio, out)
        return out

    def score(self, frame: np.ndarray) -> float:
        """Mean per-pixel log-likelihood of a frame under the background.

        The mean of :meth:`score_samples` (scikit-learn's naming); ``-inf``
        when a pixel has no component. The model is not changed.

        Examples
        --------
        >>> model = BackgroundMixture()
        >>> frame = np.full((4, 4, 3), 100, np.uint8)
        >>> _ = model.apply(frame)
        >>> model.score(frame) > model.score(frame + 10)
        True
        """
        return float(np.mean(self.score_samples(frame), dtype=np.float64))

    def outliers(self, frame: np.ndarray, threshold: float) -> np.ndarray:
        """Pixels whose background log-likelihood is below ``threshold``.

        ``score_samples(frame) < threshold``, without learning. Unlike the
        mask of :meth:`apply`, which compares the distance to the nearest
        background component with ``var_threshold``, this tests the
        pixel's density under the whole background mixture, normalisation
        included: a pixel whose background is noisy (large variances) needs
        a larger deviation to score low. To get it while learning, pass
        ``log_likelihood=`` to :meth:`apply` and compare the buffer.

        Parameters
        ----------
        frame : ndarray, (H, W) or (H, W, C)
            A frame of the shape and dtype the model was initialised with.
        threshold : float
            Log-likelihood (natural log, per model unit of every channel)
            under which a pixel is an outlier.

        Returns
        -------
        outliers : ndarray of bool, (H, W)

        Examples
        --------
        >>> model = BackgroundMixture()
        >>> frame = np.full((3, 4, 3), 100, np.uint8)
        >>> _ = model.apply(frame)
        >>> probe = frame.copy()
        >>> probe[1, 2] = 200
        >>> outliers = model.outliers(probe, threshold=-30.0)
        >>> int(outliers.sum()), bool(outliers[1, 2])
        (1, True)
        """
        threshold = check.check_float("threshold", threshold, -math.inf)
        return self.score_samples(frame) < np.float32(threshold)

    def _frame_for_state(self, frame: np.ndarray) -> np.ndarray:
        """A checked (H, W, C) frame that fits the learned state, for scoring."""
        if not self.is_initialized:
            raise RuntimeError("the model has seen no frame yet: call apply() first")
        frame = check.as_frame(frame, scale=self._validated().intensity_scale)
        if frame.shape != self.frame_shape_ or frame.dtype.name != self.frame_dtype_:
            raise ValueError(
                f"frame has shape {frame.shape[:2]} with {frame.shape[2]} channel(s), dtype "
                f"{frame.dtype}, but the model was initialised with shape {self.frame_shape_[:2]} "
                f"with {self.frame_shape_[2]} channel(s), dtype {self.frame_dtype_}")
        self._check_state("the model")
        return frame

    @staticmethod
    def _check_learning_rate(learning_rate: float | None) -> float | None:
        if learning_rate is None:
            return None
        if isinstance(learning_rate, bool) or not isinstance(learning_rate, (int, float, np.floating, np.integer)):
            raise ValueError(f"learning_rate must be a number or None, got {learning_rate!r}")
        rate = float(learning_rate)
        if not np.isfinite(rate) or rate > 1.0:
            raise ValueError(
                f"learning_rate must be None, negative (automatic) or in [0, 1], got {learning_rate!r}")
        return None if rate < 0 else rate

    # --------------------------------------------------------------- outputs
    def background_image(self) -> np.ndarray:
        """The background as an image: each pixel's weighted mean of its
        background components, in the frames' dtype and shape.

        Examples
        --------
        >>> model = BackgroundMixture()
        >>> _ = model.apply(np.full((2, 3, 3), 77, np.uint8))
        >>> model.background_image()[0, 0].tolist()
        [77, 77, 77]
        """
        if not self.is_initialized:
            raise RuntimeError("the model has seen no frame yet: call apply() first")
        params = self._validated()
        height, width, n_channels = self.frame_shape_
        image = np.empty((height, width, n_channels), np.float32)
        with _threads(params.n_threads):
            background_image(self.weights_, self.means_, self.n_components_,
                                       params.background_ratio, image)
        image /= params.intensity_scale
        dtype = np.dtype(self.frame_dtype_)
        if dtype != np.float32:
            info = np.iinfo(dtype)
            # OpenCV's saturate_cast: round half to even, then clip.
            image = np.clip(np.rint(image), info.min, info.max).astype(dtype)
        return image[:, :, 0] if n_channels == 1 else image

    # ------------------------------------------------------------ persistence
    def save(self, path: str | os.PathLike[str]) -> None:
        """Write parameters and learned state to a ``.npz`` file.

        The file is written under a temporary name and renamed when complete,
        so an interrupted save never leaves a half-written model.

        Examples
        --------
        >>> import tempfile, os
        >>> model = BackgroundMixture()
        >>> _ = model.apply(np.zeros((4, 4), np.uint8))
        >>> path = os.path.join(tempfile.mkdtemp(), "model.npz")
        >>> model.save(path)
        >>> BackgroundMixture.load(path).n_frames_seen_
        1
        """
        params = self.get_params()
        for name, value in params.items():
            if isinstance(value, np.generic):  # np.int64(5) from a grid or an RNG
                params[name] = value.item()
            elif value is not None and not isinstance(value, (bool, int, float, str)):
                raise ValueError(f"parameter {name}={value!r} ({type(value).__name__}) cannot "
                                 "be saved; model files hold numbers, strings and booleans")
        arrays: dict[str, np.ndarray] = {
            "format_version": np.array(FORMAT_VERSION, np.int64),
            "params": np.array(json.dumps(params)),
            "initialized": np.array(self.is_initialized),
        }
        if self.is_initialized:
            for name in self._state_arrays():
                arrays[name] = getattr(self, name)
            arrays["n_frames_seen_"] = np.array(self.n_frames_seen_, np.int64)
            arrays["frame_shape_"] = np.array(self.frame_shape_, np.int64)
            arrays["frame_dtype_"] = np.array(self.frame_dtype_)
            feedback = self.__dict__.get("_feedback")
            if feedback is not None:
                for name in FeedbackState.SAVED:
                    arrays[f"feedback_{name}"] = getattr(feedback, name)
                arrays["feedback_gain"] = np.array(feedback.gain, np.float64)
                arrays["feedback_light_event"] = np.array(feedback.light_event)
        from bgmix.outputs.atomic import atomic_open

        with atomic_open(path, parents=False) as fh:
            np.savez(fh, **arrays)

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> BackgroundMixture:
        """Read a model written by :meth:`save`.

        Nothing is unpickled (``np.load(..., allow_pickle=False)``): a file
        holding Python objects is refused, as is anything else that is not a
        complete model file of this or an older format.

        Raises
        ------
        FileNotFoundError
            No file at ``path``.
        ValueError
            One line naming the file and the problem: not an ``.npz`` archive
            (a ``.npy`` array, text, another zip, a pickle), truncated, written
            by a newer bgmix, bad parameters, or state arrays that are missing,
            of the wrong shape or dtype, or hold NaN or inf.

        Examples
        --------
        See :meth:`save`.
        """
        path = Path(path)
        if not path.exists():
            raise FileNotFoundError(f"model file not found: {path}")
        if path.is_dir():
            raise ValueError(f"{path} is a folder, not a bgmix model file")
        not_model = f"{path} is not a bgmix model file"
        try:
            data = np.load(path, allow_pickle=False)
            if not isinstance(data, np.lib.npyio.NpzFile):
                raise ValueError(f"{not_model}: it holds a single array (.npy), not an .npz archive")
            with data:
                contents = {name: data[name] for name in data.files}
        except (zipfile.BadZipFile, ValueError, OSError, EOFError, KeyError) as exc:
            if str(exc).startswith(not_model):
                raise
            raise ValueError(f"{not_model} (or it is truncated): {exc}") from None
        if "format_version" not in contents or "params" not in contents:
            raise ValueError(f"{not_model} (no format_version/params)")
        version = cls._file_scalar(contents, "format_version", "integer", path)
        if version > FORMAT_VERSION:
            raise ValueError(
                f"{path} was written in model format {version}, newer than this bgmix "
                f"reads ({FORMAT_VERSION}); upgrade bgmix"
            )
        if version < 1:
            raise ValueError(f"{path}: format_version must be >= 1, got {version}")
        try:
            params = json.loads(cls._file_scalar(contents, "params", "string", path))
        except json.JSONDecodeError as exc:
            raise ValueError(f"{path}: params is not valid JSON ({exc})") from None
        if not isinstance(params, dict):
            raise ValueError(f"{path}: params must be a JSON object, got {type(params).__name__}")
        # Files written before the texture check: it did not run.
        params.setdefault("texture_tolerance", TEXTURE_BITS)
        # ... and before the background's modes were kept: replaced, as OpenCV.
        params.setdefault("keep_background_modes", False)
        unknown = sorted(set(params) - set(cls._param_names()))
        if unknown:
            raise ValueError(f"{path}: unknown parameter(s) {unknown} (written by another "
                             "version of bgmix?)")
        model = cls(**params)
        try:
            # n_threads is checked at the first apply(): a model saved on a
            # bigger machine must still load (and take set_params(n_threads=...)).
            cls(**{**params, "n_threads": None})._validated()
        except ValueError as exc:
            raise ValueError(f"{path}: {exc}") from None
        initialized = contents.get("initialized", np.array(False))
        if initialized.shape != () or initialized.dtype != np.bool_:
            raise ValueError(f"{path}: initialized must be a single boolean, got "
                             f"{check.describe(initialized)}")
        if bool(initialized):
            for name in (*model._state_arrays(), "n_frames_seen_", "frame_shape_", "frame_dtype_"):
                if name not in contents:
                    raise ValueError(f"{path}: state array {name} is missing")
            arrays = {name: contents[name] for name in model._state_arrays()}
            model.n_frames_seen_ = cls._file_scalar(contents, "n_frames_seen_", "integer", path)
            if model.n_frames_seen_ < 0:
                raise ValueError(f"{path}: n_frames_seen_ must be >= 0, got {model.n_frames_seen_}")
            frame_shape = contents["frame_shape_"]
            if (frame_shape.shape != (3,) or frame_shape.dtype.kind not in "iu"
                    or min(frame_shape[:2], default=0) < 1 or frame_shape[2] not in (1, 3)):
                raise ValueError(f"{path}: frame_shape_ must be (height >= 1, width >= 1, "
                                 f"channels 1 or 3), got {frame_shape.tolist()!r}")
            model.frame_shape_ = tuple(int(v) for v in frame_shape)
            model.frame_dtype_ = cls._file_scalar(contents, "frame_dtype_", "string", path)
            if model.frame_dtype_ not in ("uint8", "uint16", "float32"):
                raise ValueError(f"{path}: frame_dtype_ must be 'uint8', 'uint16' or 'float32', "
                                 f"got {model.frame_dtype_!r}")
            model._check_state(path, arrays)
            for name in model._state_arrays()[:3]:
                bad = int(np.count_nonzero(~np.isfinite(arrays[name])))
                if bad:
                    raise ValueError(f"{path}: state array {name} holds {bad} NaN or inf values")
            state_name = _REGISTRY[model.covariance_type].state_name
            model._set_state(model.covariance_type, arrays["weights_"], arrays[state_name],
                             arrays["means_"], arrays["n_components_"])
            if "feedback_gain" in contents:
                model.__dict__["_feedback"] = cls._load_feedback(contents, model, path)
        return model

    @staticmethod
    def _load_feedback(contents: dict[str, np.ndarray], model: BackgroundMixture,
                       path: Path) -> FeedbackState:
        """The feedback planes of a model file, checked (see :mod:`bgmix._feedback`)."""
        height, width = model.frame_shape_[:2]
        state = FeedbackState(height, width, float(model._validated().var_threshold))
        for name in FeedbackState.SAVED:
            key = f"feedback_{name}"
            expected = getattr(state, name)
            array = contents.get(key)
            if array is None and name in FeedbackState.ADDED_LATER:
                continue
            if array is None:
                raise ValueError(f"{path}: state array {key} is missing")
            if array.shape != expected.shape or array.dtype != expected.dtype:
                raise ValueError(f"{path}: state array {key} has {check.describe(array)}, "
                                 f"expected shape {expected.shape}, dtype {expected.dtype}")
            if array.dtype.kind == "f" and not np.isfinite(array).all():
                raise ValueError(f"{path}: state array {key} holds NaN or inf values")
            expected[...] = array
        gain, light = contents["feedback_gain"], contents.get("feedback_light_event")
        if gain.shape != () or not np.isfinite(gain) or not gain > 0:
            raise ValueError(f"{path}: feedback_gain must be a positive number, got "
                             f"{check.describe(gain)}")
        if light is None or light.shape != () or light.dtype != np.bool_:
            raise ValueError(f"{path}: feedback_light_event must be a single boolean")
        state.gain = float(gain)
        state.light_event = bool(light)
        return state

    @staticmethod
    def _file_scalar(contents: dict[str, np.ndarray], name: str, kind: str, path: Path) -> Any:
        """A model file's 0-d integer or string entry as a Python value, or a clear error."""
        value = contents[name]
        if value.shape != () or value.dtype.kind not in ("iu" if kind == "integer" else "U"):
            raise ValueError(f"{path}: {name} must be a single {kind}, got {check.describe(value)}")
        return int(value) if kind == "integer" else str(value)

    def _check_state(self, source: object, arrays: dict[str, np.ndarray] | None = None) -> None:
        """Check state arrays (the model's own by default) against the parameters (cheap)."""
        if arrays is None:
            arrays = {"weights_": self.weights_, "means_": self.means_,
                      "n_components_": self.n_components_}
            name = _REGISTRY[self.covariance_type].state_name
            arrays[name] = getattr(self, name, np.zeros(0, np.float32))
        k = int(self.n_components)
        height, width, n_channels = self.frame_shape_
        name, shape = _covariance_layout(self.covariance_type, k, n_channels, height, width)
        expected = {
            "weights_": ((k, height, width), np.float32),
            name: (shape, np.float32),
            "means_": ((k, n_channels, height, width), np.float32),
            "n_components_": ((height, width), np.uint8),
        }
        for name, (shape, dtype) in expected.items():
            array = arrays[name]
            if array.shape != shape or array.dtype != dtype:
                raise ValueError(f"{source}: state array {name} has {check.describe(array)}, "
                                 f"expected shape {shape}, dtype {np.dtype(dtype)}")
        if int(arrays["n_components_"].max(initial=0)) > k:
            raise ValueError(f"{source}: n_components_ exceeds n_components={k}")

    def __getstate__(self) -> dict[str, Any]:
        state = self.__dict__.copy()
        state["_kernel_params"] = None
        state.pop("_steady", None)  # compiled kernels; chosen again by the next apply
        state.pop("_views", None)  # views of _planes; rebuilt on unpickling
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        layout = state.get("_layout")
        if layout is not None:
            planes = state["_planes"]
            self._allocate_state(*layout)
            self.__dict__["_planes"][...] = planes
        self.__dict__["_kernel_params"] = None


_EMPTY_F32 = np.zeros((1, 1), np.float32)
_DTYPE_NAMES = {np.dtype(t): np.dtype(t).name for t in check.SUPPORTED_DTYPES}
"""``dtype.name`` of the frame dtypes (the property builds the string on every call)."""


class _Steady(NamedTuple):
    """What :meth:`BackgroundMixture.apply` checked and chose for a plain call,
    reused while the parameters (``params``) and the state (``planes``) are the
    same objects and frames keep ``shape`` and ``dtype``."""

    params: Any
    planes: np.ndarray
    shape: tuple[int, ...]
    dtype: np.dtype
    n_components: int
    kernel: Any
    neighbours: Any
    scalars: UpdateParams | None = None


def _update_params(params: Any, alpha: float, prune: float, scale: float) -> UpdateParams:
    f32 = np.float32
    return UpdateParams(
        f32(alpha), f32(prune), params.var_threshold, params.background_ratio,
        params.var_threshold_gen, params.var_init, params.var_min, params.var_max,
        params.tau, f32(params.shadow_value), f32(scale), MAX_CORRELATION,
        f32(params.neighbourhood_radius), f32(params.keep_background_modes))
