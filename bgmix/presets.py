"""Named parameter sets for :class:`bgmix.BackgroundMixture`.

``"mog2"`` is OpenCV's ``createBackgroundSubtractorMOG2`` defaults and its
weight arithmetic (``renormalize=False``): with it bgmix reproduces OpenCV's
masks bit for bit. Other presets trade that identity for
quality or speed and say so:

``"full"``
    A full 3x3 colour covariance per component with ``var_threshold`` 48.
    A background sample's squared Mahalanobis distance averages the channel
    count (3) under a full covariance against 1 under MOG2's spherical
    variance, so 3 x 16 keeps MOG2's false-alarm rate; correlated colour
    noise (compression, sensors) is then modelled instead of flagged. On
    CDnet 2014 ``baseline/highway`` F rises from 0.708 (``"mog2"``) to 0.896
    (``scripts/mixture_types.py``, BENCHMARKS.md), at about 0.8x MOG2's speed.

``"robust"``
    MOG2's spherical mixture with the mechanisms that hard scenes need
    (:mod:`bgmix._feedback`), each a constructor parameter:

    - ``hold_frames=1500`` (about a minute at 25 fps), conservative update: a
      person who sits still or a car that stops stays foreground, then is
      absorbed (CDnet ``office``: F 0.36 with MOG2, 0.92 here); the ground
      that a learnt object leaves (a ghost) is re-learnt at once (synthetic
      intermittent object 0.904 -> 0.976);
    - ``compensate_gain=True``: auto-exposure and clouds (the camera's gain
      is estimated from background pixels and divided out) - without it a
      conservative model would keep the whole frame white after the camera
      re-exposes;
    - ``light_change=0.2``: a fifth of the visible background turning
      foreground at once is a lamp or a door, re-learnt at the next frame;
      what objects hid then is re-lit with the change beside it (synthetic
      illumination 0.758 -> 0.971);
    - ``feedback=1``: each pixel's threshold rises with how often its decision
      flips and how far it sits from its background (swaying leaves, flicker);
    - ``neighbourhood_radius=1``: a foreground sample that a neighbour's
      background explains is background (leaves, ripples, shake);
    - ``texture_tolerance=3``: what the neighbourhood test forgave keeps its
      pardon only where the frame's local pattern is one the background can
      show (a dark car beside a lane's shade does not: CDnet highway);
    - ``keep_background_modes=True``: an object passing in front of a
      flickering sign or water does not evict one of its modes (which would
      come back as foreground and be held);
    - ``median_size=5``: the clean-up inside ``apply``;
    - ``consistent_shadows=0.85``: a shadow darker than 0.85 of its background
      must share the attenuation of the scene's cast shadows (a learned band),
      else it is a dark object part (CDnet highway and pedestrians);
    - ``var_threshold=12``, ``var_min=6``: with the false alarms handled above,
      a lower threshold than MOG2's 16 finds camouflaged objects.

    Figures in BENCHMARKS.md ("Mask quality: the defaults").
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

MOG2: dict[str, Any] = {
    # Zivkovic (2004, 2006) and OpenCV's names: K, the most components per pixel
    "n_components": 5,
    # T, the history behind the learning rate alpha = 1 / min(2 n, T)
    "history": 500,
    # Tb: squared distance under which a background component explains a sample
    "var_threshold": 16.0,
    # Tg: squared distance under which a sample updates a component (else a new one)
    "var_threshold_gen": 9.0,
    # TB = 1 - cf: cumulative weight of the heaviest components that are background
    "background_ratio": 0.9,
    # sigma_0^2, and the bounds of every variance
    "var_init": 15.0,
    "var_min": 4.0,
    "var_max": 75.0,
    # c_T: the Dirichlet prior's constant in w <- (1 - alpha) w - alpha c_T
    "complexity_reduction": 0.05,
    "detect_shadows": True,
    "shadow_value": 127,
    # tau: the darkest brightness ratio still called a shadow (Prati et al. 2003)
    "shadow_threshold": 0.5,
    "covariance_type": "spherical",
    "renormalize": False,
    "keep_background_modes": False,
    "neighbourhood_radius": 0,
    "hold_frames": 0,
    "feedback": 0.0,
    "compensate_gain": False,
    "light_change": 0.0,
    "median_size": 0,
    "fill_blob_holes": False,
    "consistent_shadows": 0.0,
    "texture_tolerance": 16,
}

FULL: dict[str, Any] = {**MOG2, "covariance_type": "full", "var_threshold": 3 * MOG2["var_threshold"],
                        "renormalize": True}

ROBUST: dict[str, Any] = {
    **MOG2,
    # Three components, as Stauffer and Grimson's: with the feedback and the
    # neighbourhood test handling dynamic pixels, a fourth and fifth changed F
    # by less than 0.01 on every sequence measured and cost a quarter of the time.
    "n_components": 3,
    "renormalize": True,
    # An object passing a multimodal background (a sign, water) does not
    # evict one of its modes, which the conservative update would then hold
    # as foreground: synthetic baseline 0.9960 -> 0.9969, dynamic background
    # 0.957 -> 0.961.
    "keep_background_modes": True,
    # Lower than MOG2's 16: the mechanisms below remove the false alarms that
    # a lower threshold lets through, and camouflaged objects are found.
    "var_threshold": 12.0,
    "var_min": 6.0,
    "neighbourhood_radius": 1,
    "hold_frames": 1500,
    "feedback": 1.0,
    "compensate_gain": True,
    "light_change": 0.2,
    "median_size": 5,
    # Filling blobs' holes gains little F (0.006 on highway) for a third of the
    # frame time: left to the user.
    "fill_blob_holes": False,
    # Dark shadows must share the scene's cast-shadow attenuation (a dark object
    # part is not a shadow): CDnet highway 0.893 -> 0.94, pedestrians 0.891 -> 0.94.
    "consistent_shadows": 0.85,
    # What the neighbourhood test forgave must show the background's local
    # pattern (camouflage does not): CDnet highway 0.943 -> 0.950.
    "texture_tolerance": 3,
}

PRESETS: MappingProxyType[str, MappingProxyType[str, Any]] = MappingProxyType({
    "mog2": MappingProxyType(MOG2),
    "full": MappingProxyType(FULL),
    "robust": MappingProxyType(ROBUST),
})
"""Preset name -> constructor parameters (read-only).

``"robust"`` is also :class:`bgmix.BackgroundMixture`'s defaults: its
constructor reads them from :data:`DEFAULTS`, the one place they are written."""

DEFAULTS: MappingProxyType[str, Any] = PRESETS["robust"]
"""The constructor's defaults (the ``"robust"`` preset)."""


def preset_params(name: str) -> dict[str, Any]:
    """Return a copy of the parameters of preset ``name``.

    Examples
    --------
    >>> preset_params("mog2")["history"]
    500
    >>> preset_params("full")["covariance_type"], preset_params("full")["var_threshold"]
    ('full', 48.0)
    """
    try:
        return dict(PRESETS[name])
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; available: {', '.join(sorted(PRESETS))}") from None
