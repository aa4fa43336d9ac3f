"""One covariance per pixel, shared by all of its components ("tied").

State: ``weights[k, y, x]`` and ``means[k, c, y, x]`` per component as in
the other kernels, and one covariance per pixel, ``cov[p, y, x]``: the six
planes xx, xy, xz, yy, yz, zz of a symmetric 3x3 matrix for 3-channel frames,
or one variance plane for 1-channel frames.

Every component measures the squared Mahalanobis distance in the pixel's
covariance; the classification, weights, pruning, sorting, shadow test and
probability are those of the "full" model. The covariance is updated by the
matched component only, with that component's ``k = alpha / weight`` and its
pre-update difference ``d``: ``S <- S + k (d d^T - S)``, then projected onto
the allowed covariances (variances in ``[var_min, var_max]``, correlations
within ``max_corr``: see :data:`bgmix.kernels._common.MAX_CORRELATION`). A new
component leaves it alone; the caller initialises it to ``var_init * I``
when the state is created (first frame, or re-initialisation).

The computation is that of the full model (3 channels) or the diag model
(1 channel, a 1x1 covariance) with every component reading the same
covariance: the row is theirs (:func:`~bgmix.kernels._common.update_planar_row`);
the first sweep is literally theirs (a pixel settled there matches component
0 and updates the covariance it reads, the pixel's), and the general
per-pixel update runs with ``tied=True``.
"""

from __future__ import annotations

from numba import njit, prange

from bgmix.kernels._common import update_planar_row
from bgmix.kernels._config import JIT_OPTIONS


@njit(parallel=True, **JIT_OPTIONS)
def update_tied(frame, scale, weights, cov, means, n_modes, mask,
                probability, known_foreground, alpha, prune, var_threshold,
                background_ratio, var_threshold_gen, var_init, var_min,
                var_max, tau, detect_shadows, shadow_value,
                use_known_foreground, want_probability, max_corr, log_likelihood,
                want_log_likelihood):
    """Classify one frame and update the "tied" mixture in place, in one pass.

    Arguments as :func:`bgmix.kernels.spherical.update_spherical`, except
    ``cov``: (6, H, W) float32 for 3-channel frames (xx, xy, xz, yy, yz, zz),
    (1, H, W) for 1-channel frames, C-contiguous; and ``max_corr`` (float32
    in (0, 1)), the bound on correlations.
    """
    # One "component" plane that every component reads (cov_step = 0).
    shared = cov.reshape((1, cov.shape[0], cov.shape[1], cov.shape[2]))
    for y in prange(frame.shape[0]):
        update_planar_row(
            y, frame, scale, weights, shared, means, n_modes, mask, probability,
            known_foreground, alpha, prune, var_threshold, background_ratio,
            var_threshold_gen, var_init, var_min, var_max, tau, detect_shadows, shadow_value,
            use_known_foreground, want_probability, max_corr, log_likelihood,
            want_log_likelihood, True, True)
