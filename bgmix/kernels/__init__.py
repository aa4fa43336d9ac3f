"""Numba kernels: plain functions over arrays and scalars.

Nothing in this package imports OpenCV or does I/O; ``bgmix.model`` prepares
the arrays and scalars and calls these functions once per frame.
"""

from bgmix.kernels.spherical import background_image_spherical, update_spherical

__all__ = ["background_image_spherical", "update_spherical"]
