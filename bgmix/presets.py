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
"""

from __future__ import annotations

from types import MappingProxyType
from typing import Any

MOG2: dict[str, Any] = {
    "n_components": 5,
    "history": 500,
    "var_threshold": 16.0,
    "var_threshold_gen": 9.0,
    "background_ratio": 0.9,
    "var_init": 15.0,
    "var_min": 4.0,
    "var_max": 75.0,
    "complexity_reduction": 0.05,
    "detect_shadows": True,
    "shadow_value": 127,
    "shadow_threshold": 0.5,
    "covariance_type": "spherical",
    "renormalize": False,
    "neighbourhood_radius": 0,
}

FULL: dict[str, Any] = {**MOG2, "covariance_type": "full", "var_threshold": 3 * MOG2["var_threshold"],
                        "renormalize": True}

PRESETS: MappingProxyType[str, MappingProxyType[str, Any]] = MappingProxyType({
    "mog2": MappingProxyType(MOG2),
    "full": MappingProxyType(FULL),
})
"""Preset name -> constructor parameters (read-only)."""


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
