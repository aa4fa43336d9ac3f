"""Numba kernels: plain functions over arrays and scalars.

Nothing in this package imports OpenCV or does I/O; ``bgmix.model`` prepares
the arrays and scalars and calls these functions once per frame. One kernel
per covariance type: ``update_spherical`` (one variance per component, as
OpenCV MOG2), ``update_diag`` (one per channel), ``update_full`` (a 3x3
covariance per component) and ``update_tied`` (one 3x3 covariance per pixel).
``background_image_spherical`` serves every type (it reads weights and means);
``score_frame`` is the read-only log-likelihood pass and ``fit_em`` the batch
EM bootstrap.
"""

from bgmix.kernels._common import MAX_CORRELATION, score_frame
from bgmix.kernels.diagonal import update_diag
from bgmix.kernels.em import fit_em
from bgmix.kernels.full import update_full
from bgmix.kernels.spherical import background_image_spherical, update_spherical
from bgmix.kernels.tied import update_tied

__all__ = [
    "MAX_CORRELATION",
    "background_image_spherical",
    "fit_em",
    "score_frame",
    "update_diag",
    "update_full",
    "update_spherical",
    "update_tied",
]
