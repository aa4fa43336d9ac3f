"""A full covariance per component ("full").

State is component-planar: component ``k`` of pixel ``(y, x)`` has weight
``weights[k, y, x]``, mean ``means[k, c, y, x]`` and, for 3-channel frames,
the upper triangle of its symmetric 3x3 covariance in six planes
``cov[k, 0:6, y, x] = (xx, xy, xz, yy, yz, zz)``.

The model is the spherical kernel's (learning rate, Dirichlet pruning,
renormalisation, sorting, shadow test, probability) with the squared
Mahalanobis distance ``D2 = d^T S^-1 d`` (``d = mu - x``, computed through an
LDL^T factorisation, :func:`~bgmix.kernels._common.mahalanobis3`). The matched
component's covariance follows ``S <- S + k (d d^T - S)`` with the difference
``d`` taken before the mean moves (as the spherical variance update), and is
then projected back onto the allowed covariances
(:func:`~bgmix.kernels._common.clamp_covariance3`): variances into
``[var_min, var_max]``, correlations (and the partial correlation of y and z
given x) into ``[-max_corr, max_corr]``, which keeps every covariance
positive definite. A new component has ``S = var_init * I``.

On 1-channel frames a 3x3 covariance reduces to one variance: ``cov`` is then
(K, 1, H, W) and the model is exactly the "diag" model, computed by
:mod:`bgmix.kernels.diagonal`.

Each row is processed in two steps, as in the spherical kernel: a
branch-free sweep that the compiler vectorises settles the pixels whose
sample matches their heaviest component
(:func:`~bgmix.kernels._common.build_settle`), and the general per-pixel update
(:func:`~bgmix.kernels._common.build_general_update`) runs for the rest, with
the same float32 operations in the same order. The row is
:func:`~bgmix.kernels._common.update_planar_row`, shared with the diag and
tied kernels; the tied kernel runs this metric with ``cov`` viewed as
(1, 6, H, W), every component reading plane 0.
"""

from __future__ import annotations

from numba import njit, prange

from bgmix.kernels._common import update_planar_row
from bgmix.kernels._config import JIT_OPTIONS


@njit(parallel=True, **JIT_OPTIONS)
def update_full(frame, scale, weights, cov, means, n_modes, mask,
                probability, known_foreground, alpha, prune, var_threshold,
                background_ratio, var_threshold_gen, var_init, var_min,
                var_max, tau, detect_shadows, shadow_value,
                use_known_foreground, want_probability, max_corr, log_likelihood,
                want_log_likelihood):
    """Classify one frame and update the "full" mixture in place, in one pass.

    Arguments as :func:`bgmix.kernels.spherical.update_spherical`, except
    ``cov``: (K, 6, H, W) float32 for 3-channel frames (xx, xy, xz, yy, yz,
    zz), (K, 1, H, W) for 1-channel frames; and ``max_corr`` (float32 in
    (0, 1)), the bound on correlations (see
    :data:`bgmix.kernels._common.MAX_CORRELATION`).
    """
    for y in prange(frame.shape[0]):
        update_planar_row(
            y, frame, scale, weights, cov, means, n_modes, mask, probability,
            known_foreground, alpha, prune, var_threshold, background_ratio,
            var_threshold_gen, var_init, var_min, var_max, tau, detect_shadows, shadow_value,
            use_known_foreground, want_probability, max_corr, log_likelihood,
            want_log_likelihood, True, False)
