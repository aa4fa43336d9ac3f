"""Slow, plain-NumPy EM for one pixel: the reference of ``bgmix.kernels.em``.

The same algorithm as the kernel, written the obvious way on (N, C)
float64 samples with full C x C matrices: one M step from hard labels, then
E and M steps (scikit-learn's definitions of the four covariance types, a
component whose responsibilities sum to less than 1e-6 removed) until the
mean log-likelihood changes by less than ``tol`` or ``max_iter`` M steps, and
a final E step. Labels for the luminance-quantile start are computed here
too. No projection onto the model's bounds (the kernel's ``constrain``).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

EPS10 = 10 * np.finfo(np.float64).eps


@dataclass
class Mixture:
    """Live components, heaviest first: weights (K,), means (K, C), covariances (K, C, C)."""

    weights: np.ndarray
    means: np.ndarray
    covariances: np.ndarray
    log_likelihood: float


def quantile_labels(samples: np.ndarray, n_components: int) -> np.ndarray:
    """Samples sorted by the sum of their channels (stable) split into equal groups."""
    order = np.argsort(samples.sum(axis=1), kind="stable")
    labels = np.empty(len(samples), np.int64)
    labels[order] = (np.arange(len(samples)) * n_components) // len(samples)
    return labels


def log_likelihoods(samples, weights, means, covariances):
    """Per-sample log of the mixture density and the (N, K) log responsibilities."""
    n_channels = samples.shape[1]
    terms = np.empty((len(samples), len(weights)))
    for k, (w, mu, cov) in enumerate(zip(weights, means, covariances)):
        diff = samples - mu
        solved = np.linalg.solve(cov, diff.T).T
        distance2 = np.einsum("nc,nc->n", diff, solved)
        _, log_det = np.linalg.slogdet(cov)
        terms[:, k] = np.log(w) - 0.5 * (distance2 + log_det + n_channels * np.log(2 * np.pi))
    peak = terms.max(axis=1, keepdims=True)
    log_sum = peak[:, 0] + np.log(np.exp(terms - peak).sum(axis=1))
    return log_sum, terms - log_sum[:, None]


def m_step(samples, resp, covariance_type, reg_covar):
    """Weights, means, covariances from responsibilities; drops empty components."""
    n_samples, n_channels = samples.shape
    keep = resp.sum(axis=0) >= 1e-6
    resp = resp[:, keep]
    nk = resp.sum(axis=0) + EPS10
    weights = nk / nk.sum()
    means = resp.T @ samples / nk[:, None]
    covariances = np.empty((len(nk), n_channels, n_channels))
    for k in range(len(nk)):
        diff = samples - means[k]
        covariances[k] = (resp[:, k, None] * diff).T @ diff / nk[k]
    if covariance_type == "tied":
        pooled = np.einsum("k,kij->ij", nk, covariances) / nk.sum()
        covariances[:] = pooled
    eye = np.eye(n_channels)
    if covariance_type == "spherical":
        variances = np.einsum("kii->k", covariances) / n_channels + reg_covar
        covariances = variances[:, None, None] * eye
    elif covariance_type == "diag":
        covariances = (np.einsum("kii->ki", covariances) + reg_covar)[:, :, None] * eye
    else:
        covariances = covariances + reg_covar * eye
    return weights, means, covariances


def fit_pixel(samples: np.ndarray, labels: np.ndarray, n_components: int, covariance_type: str,
              *, max_iter: int = 100, tol: float = 1e-3, reg_covar: float = 1e-6) -> Mixture:
    """EM on one pixel's (N, C) samples from hard ``labels`` in [0, n_components)."""
    samples = np.asarray(samples, np.float64)
    resp = np.eye(n_components)[labels]
    weights, means, covariances = m_step(samples, resp, covariance_type, reg_covar)
    previous = -np.inf
    for _ in range(max_iter):
        log_sum, log_resp = log_likelihoods(samples, weights, means, covariances)
        current = log_sum.mean()
        weights, means, covariances = m_step(samples, np.exp(log_resp), covariance_type,
                                             reg_covar)
        if abs(current - previous) < tol:
            break
        previous = current
    log_sum, _ = log_likelihoods(samples, weights, means, covariances)
    order = np.argsort(-weights, kind="stable")
    return Mixture(weights[order], means[order], covariances[order], float(log_sum.mean()))
