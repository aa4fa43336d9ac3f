"""The covariance types, each declared once.

A :class:`CovarianceType` says everything the rest of the package needs to
know about one covariance structure: the name and shape of its state array,
how the kernels view that array (component-planar, ``(J, P, H, W)``), which
distance the update template uses (:data:`METRIC_SPHERICAL`,
:data:`METRIC_DIAG`, :data:`METRIC_FULL`), the code of the EM kernel, the
free-parameter count of BIC, the planes that hold variances (the
invariants), and how a new state is initialised. ``bgmix.model``,
``bgmix.fitting``, ``bgmix._validation``, the EM kernel and the tests read
:data:`COVARIANCE_TYPES`; adding a type means adding one entry here, its
distance, learning and shadow hooks in :mod:`bgmix.kernels._metric`, and its
M step in :mod:`bgmix.kernels.em`.

Plain Python: nothing here is compiled.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

METRIC_SPHERICAL = 0
"""``|x - mu|^2`` against ``T * var``: one (total) variance per component, OpenCV MOG2's test."""
METRIC_DIAG = 1
"""``sum_c (x_c - mu_c)^2 / var_c`` against ``T``: one variance per channel."""
METRIC_FULL = 2
"""``d^T S^-1 d`` against ``T`` for a 3x3 covariance in six planes (xx, xy, xz, yy, yz, zz)."""

FULL_PLANES = 6
"""Planes of a symmetric 3x3 covariance: the upper triangle xx, xy, xz, yy, yz, zz."""
FULL_DIAGONAL = (0, 3, 5)
"""Which of the six planes are variances (xx, yy, zz)."""


@dataclass(frozen=True)
class CovarianceType:
    """One covariance structure of the mixture.

    Parameters
    ----------
    name : str
        The ``covariance_type`` value.
    state_name : str
        Attribute of :class:`bgmix.BackgroundMixture` holding the (co)variances.
    per_component : bool
        False when one covariance is shared by a pixel's components ("tied").
    matrix : bool
        True for a full 3x3 matrix on 3-channel frames (six planes), False for
        one variance per channel (or one in all: ``spherical``).
    spherical : bool
        One variance per component, the total over channels (OpenCV's).
    em_code : int
        The type's code in :func:`bgmix.kernels.em.fit_em`.
    summary : str
        One line for documentation and ``--help``.
    """

    name: str
    state_name: str
    per_component: bool
    matrix: bool
    spherical: bool
    em_code: int
    summary: str

    def planes(self, n_channels: int) -> int:
        """Covariance planes per component (or per pixel when tied)."""
        if self.spherical:
            return 1
        if self.matrix:
            return FULL_PLANES if n_channels == 3 else 1
        return n_channels

    def metric(self, n_channels: int) -> int:
        """The update template's distance for frames of ``n_channels``.

        On 1-channel frames a matrix is 1x1: the diag distance. Spherical
        keeps its own arithmetic (``d^2 < T var``) on every channel count,
        so that it computes OpenCV's float32 operations.
        """
        if self.spherical:
            return METRIC_SPHERICAL
        if self.matrix and n_channels == 3:
            return METRIC_FULL
        return METRIC_DIAG

    def state_shape(self, n_components: int, n_channels: int, height: int,
                    width: int) -> tuple[int, ...]:
        """Shape of the state array ``state_name``."""
        planes = self.planes(n_channels)
        if not self.per_component:
            return (planes, height, width)
        if self.spherical:
            return (n_components, height, width)
        return (n_components, planes, height, width)

    def planar(self, covariance: np.ndarray) -> np.ndarray:
        """The state array viewed as the kernels read it: ``(J, P, H, W)``.

        ``J`` is the number of components, or 1 for a tied covariance (every
        component reads plane 0).
        """
        if not self.per_component:
            return covariance.reshape((1, *covariance.shape))
        if covariance.ndim == 3:
            return covariance.reshape((covariance.shape[0], 1, *covariance.shape[1:]))
        return covariance

    def variance_planes(self, n_channels: int) -> tuple[int, ...]:
        """Indices of the planes that hold variances (bounded by var_min/var_max)."""
        if self.matrix and n_channels == 3:
            return FULL_DIAGONAL
        return tuple(range(self.planes(n_channels)))

    def new_state(self, n_components: int, n_channels: int, height: int, width: int,
                  var_init: float) -> np.ndarray:
        """The (co)variance array of a model that has seen nothing.

        Components are created with ``var_init * I`` by the kernels; a tied
        covariance is not reset by a new component, so it starts there.
        """
        covariance = np.zeros(self.state_shape(n_components, n_channels, height, width),
                              np.float32)
        if not self.per_component:
            for plane in self.variance_planes(n_channels):
                covariance[plane] = var_init
        return covariance

    def free_parameters(self, n_components: int, n_channels: int) -> int:
        """Free parameters ``p`` of a pixel's mixture, as counted by BIC.

        ``n_components - 1`` weights, ``n_components * n_channels`` means and
        the covariances.

        Examples
        --------
        >>> COVARIANCE_TYPES["full"].free_parameters(2, 3), COVARIANCE_TYPES["tied"].free_parameters(2, 3)
        (19, 13)
        """
        triangle = n_channels * (n_channels + 1) // 2
        if self.spherical:
            covariance = n_components
        elif not self.per_component:
            covariance = triangle
        elif self.matrix:
            covariance = n_components * triangle
        else:
            covariance = n_components * n_channels
        return n_components - 1 + n_components * n_channels + covariance


COVARIANCE_TYPES: dict[str, CovarianceType] = {
    t.name: t for t in (
        CovarianceType("spherical", "variances_", True, False, True, 0,
                       "one variance per component (OpenCV MOG2's model)"),
        CovarianceType("diag", "variances_", True, False, False, 1,
                       "one variance per channel per component"),
        CovarianceType("full", "covariances_", True, True, False, 2,
                       "a 3x3 colour covariance per component"),
        CovarianceType("tied", "covariances_", False, True, False, 3,
                       "one 3x3 covariance per pixel, shared by its components"),
    )
}
"""Every covariance type, by name."""


def covariance_type(name: object) -> CovarianceType:
    """The registry entry of ``name``, or a ValueError listing the types.

    Examples
    --------
    >>> covariance_type("diag").state_name
    'variances_'
    >>> covariance_type("round")
    Traceback (most recent call last):
    ...
    ValueError: covariance_type must be one of 'spherical', 'diag', 'full', 'tied', got 'round'
    """
    if isinstance(name, str) and name in COVARIANCE_TYPES:
        return COVARIANCE_TYPES[name]
    allowed = ", ".join(repr(t) for t in COVARIANCE_TYPES)
    raise ValueError(f"covariance_type must be one of {allowed}, got {name!r}")
