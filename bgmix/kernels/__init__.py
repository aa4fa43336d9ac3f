"""Numba kernels: plain functions over arrays and scalars.

Nothing in this package imports OpenCV or does I/O; ``bgmix.model`` prepares
the arrays and scalars and calls these functions once per frame.

- :mod:`~bgmix.kernels.covariance`: the covariance types, each declared once
  (state layout, planar view, distance, EM code, BIC parameters).
- :mod:`~bgmix.kernels.update`: the update template, one compiled pass that
  classifies and learns a frame for every covariance type
  (:func:`update_kernel` of an :class:`UpdateSpec`), with the per-type
  hooks of :mod:`~bgmix.kernels._metric`, the per-pixel parameter planes
  and the neighbourhood step.
- :mod:`~bgmix.kernels.feedback`, :mod:`~bgmix.kernels.shadows`,
  :mod:`~bgmix.kernels.texture`, :mod:`~bgmix.kernels.cleanup`: the
  ``"robust"`` preset's steps after the update (feedback planes and light
  changes, the cast-shadow band, the texture check of what the
  neighbourhood step forgave, the majority filter and hole filling).
- :mod:`~bgmix.kernels.background`: the background image.
- :mod:`~bgmix.kernels.em`: the batch EM bootstrap.
- :mod:`~bgmix.kernels._common`: covariance algebra, the log-likelihood
  (:func:`score_frame`), row dealing.
- :mod:`~bgmix.kernels._config`: the one place that sets Numba's flags.
"""

from bgmix.kernels._common import MAX_CORRELATION, score_frame
from bgmix.kernels.background import background_image
from bgmix.kernels.em import fit_em
from bgmix.kernels.update import UpdateParams, UpdateSpec, update_kernel

__all__ = [
    "MAX_CORRELATION",
    "UpdateParams",
    "UpdateSpec",
    "background_image",
    "fit_em",
    "score_frame",
    "update_kernel",
]
