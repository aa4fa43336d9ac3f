"""One variance per channel per component ("diag").

State is component-planar as in :mod:`bgmix.kernels.spherical`, with one
variance plane per channel: component ``k`` of pixel ``(y, x)`` has weight
``weights[k, y, x]``, mean ``means[k, c, y, x]`` and variances
``variances[k, c, y, x]``.

The model is the spherical kernel's (Zivkovic's adaptive mixture, OpenCV
MOG2's operations: learning rate, Dirichlet pruning, renormalisation, sorting,
shadow test) with the distance replaced by the squared Mahalanobis distance
``D2 = sum_c d_c^2 / var_c`` (``d = mu - x``): a sample is background when
``D2 < var_threshold`` for a component among the heaviest that make up
``background_ratio``, and updates the first component with
``D2 < var_threshold_gen``, whose variances follow
``var_c <- var_c + k (d_c^2 - var_c)`` clamped to ``[var_min, var_max]``
(``k = alpha / weight``, ``d`` taken before the mean moves). A new component
has ``var_c = var_init``.

Note the scale of the thresholds: the spherical kernel (as OpenCV) divides the
*summed* squared distance by one variance that estimates that sum, so on
3-channel frames its ``D2`` averages about 1 for background samples, while
this ``D2`` (a chi-square with 3 degrees of freedom for Gaussian noise)
averages about 3. The same ``var_threshold`` is therefore stricter here.
On 1-channel frames both kernels compute the same model (``d^2 / var``); they
may differ only where a distance sits exactly on a threshold, because the
spherical kernel compares ``d^2 < T var`` and this one ``d^2 / var < T``.

As in the spherical kernel each row is processed in two steps: a branch-free
sweep that the compiler vectorises settles the common pixels
(:func:`~bgmix.kernels._common.build_settle`), and the general per-pixel update
(:func:`~bgmix.kernels._common.build_general_update`) runs for the rest. Both
compute the same float32 operations in the same order. The row is
:func:`~bgmix.kernels._common.update_planar_row`, shared with the full and
tied kernels (which run this metric on 1-channel frames).
"""

from __future__ import annotations

import numpy as np
from numba import njit, prange

from bgmix.kernels._common import update_planar_row
from bgmix.kernels._config import JIT_OPTIONS


@njit(parallel=True, **JIT_OPTIONS)
def update_diag(frame, scale, weights, variances, means, n_modes, mask,
                probability, known_foreground, alpha, prune, var_threshold,
                background_ratio, var_threshold_gen, var_init, var_min,
                var_max, tau, detect_shadows, shadow_value,
                use_known_foreground, want_probability, log_likelihood,
                want_log_likelihood):
    """Classify one frame and update the "diag" mixture in place, in one pass.

    Arguments as :func:`bgmix.kernels.spherical.update_spherical`, except
    ``variances``: (K, C, H, W) float32, one variance per channel.
    """
    no_correlation_bound = np.float32(1.0)  # one variance per channel has none
    for y in prange(frame.shape[0]):
        update_planar_row(
            y, frame, scale, weights, variances, means, n_modes, mask, probability,
            known_foreground, alpha, prune, var_threshold, background_ratio,
            var_threshold_gen, var_init, var_min, var_max, tau, detect_shadows, shadow_value,
            use_known_foreground, want_probability, no_correlation_bound, log_likelihood,
            want_log_likelihood, False, False)
