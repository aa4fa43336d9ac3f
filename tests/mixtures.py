"""Models with the mixture alone, as the tests of its arithmetic need them.

``BackgroundMixture()``'s defaults are the ``"robust"`` preset (feedback,
conservative update, clean-up inside ``apply``). The tests of the mixture's
arithmetic (against ``tests/reference.py``, OpenCV, the covariance types, the
EM bootstrap, state and I/O invariants) mean the plain online mixture: MOG2's
parameters with renormalised weights, which were the defaults before the
robust preset. :func:`plain_mixture` builds that, with overrides.
"""

from __future__ import annotations

from typing import Any

from bgmix import BackgroundMixture
from bgmix.presets import preset_params

PLAIN: dict[str, Any] = {**preset_params("mog2"), "renormalize": True}
"""MOG2's parameters, every robust mechanism off, weights renormalised."""


def plain_mixture(**overrides: Any) -> BackgroundMixture:
    """``BackgroundMixture`` with :data:`PLAIN` and ``overrides``."""
    return BackgroundMixture(**{**PLAIN, **overrides})
