"""Named parameter sets for :class:`bgmix.BackgroundMixture`.

``"mog2"`` is OpenCV's ``createBackgroundSubtractorMOG2`` defaults: with it
bgmix reproduces OpenCV's masks. Other presets trade that identity for
quality or speed and say so.
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
}

PRESETS: MappingProxyType[str, MappingProxyType[str, Any]] = MappingProxyType({
    "mog2": MappingProxyType(MOG2),
})
"""Preset name -> constructor parameters (read-only)."""


def preset_params(name: str) -> dict[str, Any]:
    """Return a copy of the parameters of preset ``name``.

    Examples
    --------
    >>> preset_params("mog2")["history"]
    500
    """
    try:
        return dict(PRESETS[name])
    except KeyError:
        raise ValueError(f"unknown preset {name!r}; available: {', '.join(sorted(PRESETS))}") from None
