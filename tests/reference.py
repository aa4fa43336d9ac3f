"""Slow, plain-Python reference implementations of bgmix's kernels.

Written for obviousness, not speed: one pixel at a time, components held in
Python lists, every quantity a NumPy float32 scalar so the arithmetic is
float32 exactly as in the compiled kernels (and in OpenCV's MOG2, which this
transcribes). The compiled kernels must agree with it exactly.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from bgmix.presets import MOG2 as _MOG2

f32 = np.float32
FLT_EPSILON = f32(1.1920929e-07)


@dataclass
class Component:
    weight: np.float32
    variance: np.float32
    mean: list  # one float32 per channel


@dataclass
class Params:
    """The plain mixture's parameters; defaults from the one named set, ``bgmix.presets.MOG2``
    (Zivkovic's K, T, Tb, Tg, TB = 1 - cf, sigma_0^2, c_T, tau), with renormalised weights."""

    n_components: int = _MOG2["n_components"]
    history: int = _MOG2["history"]
    var_threshold: float = _MOG2["var_threshold"]
    var_threshold_gen: float = _MOG2["var_threshold_gen"]
    background_ratio: float = _MOG2["background_ratio"]
    var_init: float = _MOG2["var_init"]
    var_min: float = _MOG2["var_min"]
    var_max: float = _MOG2["var_max"]
    complexity_reduction: float = _MOG2["complexity_reduction"]
    detect_shadows: bool = _MOG2["detect_shadows"]
    shadow_value: int = _MOG2["shadow_value"]
    shadow_threshold: float = _MOG2["shadow_threshold"]
    intensity_scale: float = 1.0
    renormalize: bool = True
    keep_background_modes: bool = False
    neighbourhood_radius: int = _MOG2["neighbourhood_radius"]


def foreground_probability(min_distance2: float, var_threshold: np.float32, background: bool) -> np.float32:
    """Posterior of foreground: sigmoid((D2 - T_b) / 2), tie-broken by the hard decision."""
    if min_distance2 == math.inf:
        p = f32(1.0)
    else:
        log_odds = 0.5 * (float(min_distance2) - float(var_threshold))
        p = f32(1.0 / (1.0 + math.exp(-log_odds)))
    if background and p >= f32(0.5):
        p = f32(0.49999997)
    if not background and p < f32(0.5):
        p = f32(0.5)
    return p


def is_shadow(x: list, comps: list[Component], tb: np.float32, big_tb: np.float32, tau: np.float32) -> bool:
    """OpenCV's detectShadowGMM on the pixel's live components."""
    total = f32(0.0)
    for g in comps:
        numerator = f32(0.0)
        denominator = f32(0.0)
        for xc, mc in zip(x, g.mean):
            numerator += xc * mc
            denominator += mc * mc
        if denominator == 0:
            return False
        if numerator <= denominator and numerator >= tau * denominator:
            a = numerator / denominator
            dist2a = f32(0.0)
            for xc, mc in zip(x, g.mean):
                d = a * mc - xc
                dist2a += d * d
            if dist2a < tb * g.variance * a * a:
                return True
        total += g.weight
        if total > big_tb:
            return False
    return False


def renormalise_and_add(comps: list, nmodes: int, total, fits: bool, x: list, alpha,
                        n_components: int, init_new, renormalize: bool = True,
                        keep_background: bool = False, background_ratio=None) -> int:
    """The end of OpenCV's per-pixel update, shared by every covariance type.

    Renormalise the live weights by their sum ``total``; then, when no
    component explained the sample, or every component was pruned (the
    matched one too: ``total`` is 0), and ``alpha > 0``, give the sample a new
    component (mean ``x``, covariance set by ``init_new(component)``):
    appended, or replacing the weakest when all ``n_components`` are live (the
    others renormalised to sum to 1 with ``renormalize``; else only scaled by
    ``1 - alpha``, OpenCV's arithmetic), then bubbled up past lighter ones. Its
    weight is ``alpha``, or 1 when the components that stay have no weight
    left. With ``keep_background`` a weakest that is background (the others
    sum to less than ``background_ratio``) is not replaced but loses
    ``alpha`` of its weight (not below 0). Returns the live count. ``comps``
    is changed in place.
    """
    alpha1 = f32(1.0) - alpha
    inv = f32(1.0) / total if abs(total) > FLT_EPSILON else f32(0.0)
    for m in range(nmodes):
        comps[m].weight = comps[m].weight * inv
    if (fits and inv != 0) or not alpha > 0:
        return nmodes
    replace = nmodes == n_components
    if replace and keep_background:
        others = f32(0.0)
        for i in range(n_components - 1):
            others += comps[i].weight
        if FLT_EPSILON < others < f32(background_ratio):
            weakest = comps[n_components - 1]
            weakest.weight = max(weakest.weight - alpha, f32(0.0))
            return nmodes
    if replace:
        new = n_components - 1  # the weakest is replaced
    else:
        new = nmodes
        nmodes += 1
    rest = f32(0.0)
    for i in range(nmodes - 1):
        rest += comps[i].weight
    if rest > FLT_EPSILON:
        # the others keep 1 - alpha between them
        scale_rest = alpha1 / rest if replace and renormalize else alpha1
        comps[new].weight = alpha
    else:
        # nothing left to the others (none, or all pruned): a sole component
        scale_rest = alpha1
        comps[new].weight = f32(1.0)
    for i in range(nmodes - 1):
        comps[i].weight = comps[i].weight * scale_rest
    comps[new].mean = list(x)
    init_new(comps[new])
    for i in range(nmodes - 1, 0, -1):
        if alpha < comps[i - 1].weight:
            break
        comps[i], comps[i - 1] = comps[i - 1], comps[i]
    return nmodes


def update_pixel(x: list, comps: list[Component], n_live: int, p: Params,
                 alpha: np.float32, prune: np.float32,
                 tb: np.float32) -> tuple[list[Component], int, int, np.float32]:
    """One pixel of OpenCV's MOG2Invoker, with the pixel's threshold ``tb``.

    ``comps`` holds all ``n_components`` slots (live ones first); returns the
    new slots, the new live count, the mask value and the probability.
    """
    comps = [Component(c.weight, c.variance, list(c.mean)) for c in comps]
    tg = f32(p.var_threshold_gen)
    big_tb = f32(p.background_ratio)
    var_min = f32(min(p.var_min, p.var_max))
    var_max = f32(max(p.var_min, p.var_max))
    alpha1 = f32(1.0) - alpha
    background = False
    fits = False
    total = f32(0.0)
    min_d2 = math.inf

    mode = 0
    nmodes = n_live
    while mode < nmodes:
        weight = alpha1 * comps[mode].weight + prune
        swap_count = 0
        if not fits:
            var = comps[mode].variance
            diff = [m - xc for m, xc in zip(comps[mode].mean, x)]
            dist2 = f32(0.0)
            for d in diff:
                dist2 += d * d
            if total < big_tb and dist2 < tb * var:
                background = True
            if total < big_tb:
                min_d2 = min(min_d2, float(dist2 / var))
            if dist2 < tg * var:
                fits = True
                weight += alpha
                if alpha > 0 and weight > 0:  # a subnormal alpha can leave weight 0
                    k = alpha / weight
                    comps[mode].mean = [m - k * d for m, d in zip(comps[mode].mean, diff)]
                    varnew = var + k * (dist2 - var)
                    varnew = max(varnew, var_min)
                    varnew = min(varnew, var_max)
                    comps[mode].variance = f32(varnew)
                for i in range(mode, 0, -1):
                    if weight < comps[i - 1].weight:
                        break
                    swap_count += 1
                    comps[i], comps[i - 1] = comps[i - 1], comps[i]
        if weight < -prune:
            weight = f32(0.0)
            nmodes -= 1
        comps[mode - swap_count].weight = f32(weight)
        total += weight
        mode += 1

    nmodes = renormalise_and_add(comps, nmodes, total, fits, x, alpha, p.n_components,
                                 lambda new: setattr(new, "variance", f32(p.var_init)),
                                 p.renormalize, p.keep_background_modes, big_tb)

    if background:
        mask = 0
    elif p.detect_shadows and is_shadow(x, comps[:nmodes], tb, big_tb, f32(p.shadow_threshold)):
        mask = p.shadow_value
    else:
        mask = 255
    return comps, nmodes, mask, foreground_probability(min_d2, tb, background)


class ReferenceDriver:
    """What the frame-level drivers share, as OpenCV MOG2: the learning-rate
    schedule, (re)initialisation of the state and the background image.
    Subclasses define ``_init_state(h, w, c)``, which sets ``self.state``
    to (weights, covariance, means, n_modes) in the model's layout."""

    def __init__(self, params: Params) -> None:
        self.p = params
        self.state = None
        self.n_frames = 0

    def _frame_rate(self, shape, learning_rate) -> float:
        """The learning rate of the next frame; (re)initialises the state."""
        if self.state is None or (learning_rate is not None and learning_rate >= 1):
            self._init_state(*shape)
            self.n_frames = 0
        self.n_frames += 1
        if learning_rate is not None and learning_rate >= 0 and self.n_frames > 1:
            return float(learning_rate)
        return 1.0 / min(2 * self.n_frames, self.p.history)

    def _pixel_rates(self, rate: float, frozen: bool, factor=None):
        """(alpha, prune) of one pixel: zero where it is known foreground;
        times the pixel's rate factor (float32) where a rate map is given."""
        if frozen:
            return f32(0.0), f32(0.0)
        alpha = f32(rate)
        prune = f32(-rate * float(f32(self.p.complexity_reduction)))
        if factor is None:
            return alpha, prune
        return alpha * f32(factor), prune * f32(factor)

    def _pixel_threshold(self, threshold_map, yy, xx):
        if threshold_map is None:
            return f32(self.p.var_threshold)
        return f32(threshold_map[yy, xx])

    def _neighbourhood(self, frame, mask, prob, threshold_map, distance):
        """The neighbourhood step: a 255 pixel within its threshold of a
        background component of a neighbour (square window of the radius, the
        pixel itself excluded; each neighbour's components in weight order
        while their weights before them add up to less than background_ratio)
        becomes 0, its probability that of the nearest such component.
        ``distance(x, m, yy, xx)`` gives (D, s, D for the probability) of
        sample ``x`` to component ``m`` of pixel (yy, xx)."""
        radius = self.p.neighbourhood_radius
        if radius <= 0:
            return
        weights, _, _, n_modes = self.state
        h, w = mask.shape
        scale = f32(self.p.intensity_scale)
        big_tb = f32(self.p.background_ratio)
        for yy in range(h):
            for xx in range(w):
                if mask[yy, xx] != 255:
                    continue
                x = [f32(frame[yy, xx, ch]) * scale for ch in range(frame.shape[2])]
                tb = self._pixel_threshold(threshold_map, yy, xx)
                found = False
                nearest = math.inf
                for qy in range(max(0, yy - radius), min(h, yy + radius + 1)):
                    for qx in range(max(0, xx - radius), min(w, xx + radius + 1)):
                        if (qy, qx) == (yy, xx):
                            continue
                        total = f32(0.0)
                        for m in range(n_modes[qy, qx]):
                            if not total < big_tb:
                                break
                            dist2, s, scaled = distance(x, m, qy, qx)
                            if dist2 < tb * s:
                                found = True
                            nearest = min(nearest, float(scaled))
                            total += weights[m, qy, qx]
                if found:
                    mask[yy, xx] = 0
                    prob[yy, xx] = foreground_probability(nearest, tb, True)

    def background_image(self) -> np.ndarray:
        """Weighted mean of background components, before OpenCV's saturate_cast."""
        weights, _, means, n_modes = self.state
        k, c, h, w = means.shape
        out = np.zeros((h, w, c), f32)
        for yy in range(h):
            for xx in range(w):
                acc = [f32(0.0)] * c
                total = f32(0.0)
                for m in range(n_modes[yy, xx]):
                    acc = [a + weights[m, yy, xx] * means[m, ch, yy, xx] for ch, a in enumerate(acc)]
                    total += weights[m, yy, xx]
                    if total > f32(self.p.background_ratio):
                        break
                inv = f32(1.0) / total if abs(total) > FLT_EPSILON else f32(0.0)
                out[yy, xx] = [a * inv for a in acc]
        return out


class ReferenceMixture(ReferenceDriver):
    """Frame-level driver: learning-rate schedule and state, as OpenCV MOG2.

    State is kept in the model's layout (weights (K, H, W), variances
    (K, H, W), means (K, C, H, W), n_modes (H, W)) so it can be compared
    with ``BackgroundMixture``'s attributes directly.
    """

    def _init_state(self, h, w, c):
        k = self.p.n_components
        self.state = (np.zeros((k, h, w), f32), np.zeros((k, h, w), f32),
                      np.zeros((k, c, h, w), f32), np.zeros((h, w), np.uint8))

    def apply(self, frame: np.ndarray, learning_rate=None, known_foreground=None,
              threshold_map=None, rate_map=None):
        frame = frame.reshape(frame.shape[0], frame.shape[1], -1)
        scale = self.p.intensity_scale
        h, w, c = frame.shape
        k = self.p.n_components
        rate = self._frame_rate((h, w, c), learning_rate)
        weights, variances, means, n_modes = self.state
        mask = np.zeros((h, w), np.uint8)
        prob = np.zeros((h, w), f32)
        for yy in range(h):
            for xx in range(w):
                x = [f32(frame[yy, xx, ch]) * f32(scale) for ch in range(c)]
                comps = [Component(weights[m, yy, xx], variances[m, yy, xx],
                                   [means[m, ch, yy, xx] for ch in range(c)]) for m in range(k)]
                frozen = known_foreground is not None and bool(known_foreground[yy, xx])
                factor = None if rate_map is None else rate_map[yy, xx]
                alpha, prune = self._pixel_rates(rate, frozen, factor)
                comps, nm, mask[yy, xx], prob[yy, xx] = update_pixel(
                    x, comps, int(n_modes[yy, xx]), self.p, alpha, prune,
                    self._pixel_threshold(threshold_map, yy, xx))
                n_modes[yy, xx] = nm
                for m in range(k):
                    weights[m, yy, xx] = comps[m].weight
                    variances[m, yy, xx] = comps[m].variance
                    for ch in range(c):
                        means[m, ch, yy, xx] = comps[m].mean[ch]

        def distance(x, m, qy, qx):
            dist2 = f32(0.0)
            for ch in range(c):
                d = means[m, ch, qy, qx] - x[ch]
                dist2 += d * d
            var = variances[m, qy, qx]
            return dist2, var, dist2 / var

        self._neighbourhood(frame, mask, prob, threshold_map, distance)
        return mask, prob



# ---------------------------------------------------------------------------
# "diag", "full" and "tied" covariances
# ---------------------------------------------------------------------------
# The same mixture as above with the distance d^2 / var replaced by a squared
# Mahalanobis distance. A component's covariance is a list of float32:
#   diag: one variance per channel;
#   full: six values (xx, xy, xz, yy, yz, zz) of a symmetric 3x3 matrix on
#         3-channel frames, one variance on 1-channel frames;
#   tied: None; every component uses the pixel's covariance (as full).
# The operations are those of bgmix.kernels in the same order.

MAX_CORRELATION = f32(0.95)
COVARIANCE_TYPES = ("diag", "full", "tied")


@dataclass
class CovComponent:
    weight: np.float32
    mean: list
    cov: list | None


def clamp_var(v, var_min, var_max):
    return min(max(v, var_min), var_max)


def mahalanobis3(d, s):
    """d^T S^-1 d through S = L D L^T: sum of z_i^2 / D_i with L z = d."""
    d0, d1, d2 = d
    sxx, sxy, sxz, syy, syz, szz = s
    r0 = f32(1.0) / sxx
    l10 = sxy * r0
    l20 = sxz * r0
    p11 = syy - l10 * sxy
    p12 = syz - l20 * sxy
    p22 = szz - l20 * sxz
    r1 = f32(1.0) / p11
    l21 = p12 * r1
    q22 = p22 - l21 * p12
    z1 = d1 - l10 * d0
    z2 = d2 - l20 * d0 - l21 * z1
    return d0 * d0 * r0 + z1 * z1 * r1 + z2 * z2 / q22


def clamp_cov3(s, var_min, var_max, rho=MAX_CORRELATION):
    """Variances into [var_min, var_max]; |rho_xy|, |rho_xz|, the partial
    correlation of y, z given x, and |rho_yz| each at most ``rho``."""
    sxx, sxy, sxz, syy, syz, szz = s
    sxx = clamp_var(sxx, var_min, var_max)
    syy = clamp_var(syy, var_min, var_max)
    szz = clamp_var(szz, var_min, var_max)
    limit = rho * np.sqrt(sxx * syy)
    sxy = min(max(sxy, -limit), limit)
    limit = rho * np.sqrt(sxx * szz)
    sxz = min(max(sxz, -limit), limit)
    centre = sxy * sxz / sxx
    half = rho * np.sqrt((syy - sxy * sxy / sxx) * (szz - sxz * sxz / sxx))
    syz = min(max(syz, centre - half), centre + half)
    limit = rho * np.sqrt(syy * szz)
    syz = min(max(syz, -limit), limit)
    return [sxx, sxy, sxz, syy, syz, szz]


def cov_distance(d, cov):
    if len(cov) == 6:
        return mahalanobis3(d, cov)
    dist2 = f32(0.0)
    for dc, vc in zip(d, cov):
        dist2 += dc * dc / vc
    return dist2


def cov_update(cov, d, k, var_min, var_max):
    """S + k (d d^T - S) (elementwise for per-channel variances), then the bounds."""
    if len(cov) == 6:
        d0, d1, d2 = d
        outer = [d0 * d0, d0 * d1, d0 * d2, d1 * d1, d1 * d2, d2 * d2]
        return clamp_cov3([s + k * (o - s) for s, o in zip(cov, outer)], var_min, var_max)
    return [clamp_var(v + k * (dc * dc - v), var_min, var_max) for v, dc in zip(cov, d)]


def new_cov(n_planes, var_init):
    v = f32(var_init)
    if n_planes == 6:
        return [v, f32(0.0), f32(0.0), v, f32(0.0), v]
    return [v] * n_planes


def is_shadow_cov(x, comps, covs, tb, big_tb, tau):
    """detectShadowGMM with the colour distortion b mu - x in the component's metric."""
    total = f32(0.0)
    for g, cov in zip(comps, covs):
        numerator = f32(0.0)
        denominator = f32(0.0)
        for xc, mc in zip(x, g.mean):
            numerator += xc * mc
            denominator += mc * mc
        if denominator == 0:
            return False
        if numerator <= denominator and numerator >= tau * denominator:
            b = numerator / denominator
            e = [b * mc - xc for xc, mc in zip(x, g.mean)]
            if cov_distance(e, cov) < tb * b * b:
                return True
        total += g.weight
        if total > big_tb:
            return False
    return False


def update_pixel_cov(x: list, comps: list[CovComponent], n_live: int, p: Params, alpha, prune,
                     tied_cov: list | None, tb: np.float32):
    """One pixel of the diag / full / tied update (``tied_cov`` not None: tied).

    Returns the new slots, the live count, the mask value, the probability
    and the (new) tied covariance.
    """
    comps = [CovComponent(c.weight, list(c.mean), None if c.cov is None else list(c.cov))
             for c in comps]
    tied = tied_cov is not None
    tied_cov = list(tied_cov) if tied else None
    tg = f32(p.var_threshold_gen)
    big_tb = f32(p.background_ratio)
    var_min = f32(min(p.var_min, p.var_max))
    var_max = f32(max(p.var_min, p.var_max))
    alpha1 = f32(1.0) - alpha
    background = False
    fits = False
    total = f32(0.0)
    min_d2 = math.inf

    mode = 0
    nmodes = n_live
    while mode < nmodes:
        weight = alpha1 * comps[mode].weight + prune
        swap_count = 0
        if not fits:
            cov = tied_cov if tied else comps[mode].cov
            diff = [m - xc for m, xc in zip(comps[mode].mean, x)]
            dist2 = cov_distance(diff, cov)
            if total < big_tb:
                if dist2 < tb:
                    background = True
                min_d2 = min(min_d2, float(dist2))
            if dist2 < tg:
                fits = True
                weight += alpha
                if alpha > 0 and weight > 0:  # a subnormal alpha can leave weight 0
                    k = alpha / weight
                    comps[mode].mean = [m - k * d for m, d in zip(comps[mode].mean, diff)]
                    updated = cov_update(cov, diff, k, var_min, var_max)
                    if tied:
                        tied_cov = updated
                    else:
                        comps[mode].cov = updated
                for i in range(mode, 0, -1):
                    if weight < comps[i - 1].weight:
                        break
                    swap_count += 1
                    comps[i], comps[i - 1] = comps[i - 1], comps[i]
        if weight < -prune:
            weight = f32(0.0)
            nmodes -= 1
        comps[mode - swap_count].weight = f32(weight)
        total += weight
        mode += 1

    def init_cov(new):
        if not tied:  # a tied covariance is not reset by a new component
            new.cov = new_cov(len(new.cov), p.var_init)

    nmodes = renormalise_and_add(comps, nmodes, total, fits, x, alpha, p.n_components, init_cov,
                                 p.renormalize, p.keep_background_modes, f32(p.background_ratio))

    if background:
        mask = 0
    else:
        live = comps[:nmodes]
        covs = [tied_cov if tied else g.cov for g in live]
        if p.detect_shadows and is_shadow_cov(x, live, covs, tb, big_tb, f32(p.shadow_threshold)):
            mask = p.shadow_value
        else:
            mask = 255
    return comps, nmodes, mask, foreground_probability(min_d2, tb, background), tied_cov


class ReferenceCovMixture(ReferenceDriver):
    """Frame-level driver of the diag / full / tied references.

    State in the model's layout: ``weights`` (K, H, W), ``means`` (K, C, H, W),
    ``n_modes`` (H, W) and ``cov``: diag (K, C, H, W); full (K, P, H, W);
    tied (P, H, W), with P = 6 for 3 channels and 1 for one channel. The
    tied covariance starts at var_init * I.
    """

    def __init__(self, params: Params, covariance_type: str) -> None:
        if covariance_type not in COVARIANCE_TYPES:
            raise ValueError(covariance_type)
        super().__init__(params)
        self.covariance_type = covariance_type

    def _init_state(self, h, w, c):
        k = self.p.n_components
        planes = 6 if c == 3 else 1
        if self.covariance_type == "diag":
            cov = np.zeros((k, c, h, w), f32)
        elif self.covariance_type == "full":
            cov = np.zeros((k, planes, h, w), f32)
        else:
            cov = np.zeros((planes, h, w), f32)
            for plane in ((0, 3, 5) if planes == 6 else (0,)):
                cov[plane] = f32(self.p.var_init)
        self.state = (np.zeros((k, h, w), f32), cov, np.zeros((k, c, h, w), f32),
                      np.zeros((h, w), np.uint8))

    def apply(self, frame: np.ndarray, learning_rate=None, known_foreground=None,
              threshold_map=None, rate_map=None):
        frame = frame.reshape(frame.shape[0], frame.shape[1], -1)
        scale = self.p.intensity_scale
        h, w, c = frame.shape
        k = self.p.n_components
        rate = self._frame_rate((h, w, c), learning_rate)
        weights, cov, means, n_modes = self.state
        tied = self.covariance_type == "tied"
        mask = np.zeros((h, w), np.uint8)
        prob = np.zeros((h, w), f32)
        for yy in range(h):
            for xx in range(w):
                x = [f32(frame[yy, xx, ch]) * f32(scale) for ch in range(c)]
                comps = [CovComponent(weights[m, yy, xx], [means[m, ch, yy, xx] for ch in range(c)],
                                      None if tied else list(cov[m, :, yy, xx]))
                         for m in range(k)]
                tied_cov = list(cov[:, yy, xx]) if tied else None
                frozen = known_foreground is not None and bool(known_foreground[yy, xx])
                factor = None if rate_map is None else rate_map[yy, xx]
                alpha, prune = self._pixel_rates(rate, frozen, factor)
                comps, nm, mask[yy, xx], prob[yy, xx], tied_cov = update_pixel_cov(
                    x, comps, int(n_modes[yy, xx]), self.p, alpha, prune, tied_cov,
                    self._pixel_threshold(threshold_map, yy, xx))
                n_modes[yy, xx] = nm
                for m in range(k):
                    weights[m, yy, xx] = comps[m].weight
                    for ch in range(c):
                        means[m, ch, yy, xx] = comps[m].mean[ch]
                    if not tied:
                        cov[m, :, yy, xx] = comps[m].cov
                if tied:
                    cov[:, yy, xx] = tied_cov

        def distance(x, m, qy, qx):
            pixel_cov = list(cov[:, qy, qx]) if tied else list(cov[m, :, qy, qx])
            diff = [means[m, ch, qy, qx] - x[ch] for ch in range(c)]
            dist2 = cov_distance(diff, pixel_cov)
            return dist2, f32(1.0), dist2

        self._neighbourhood(frame, mask, prob, threshold_map, distance)
        return mask, prob



# ---------------------------------------------------------------------------
# Log-likelihood under the background components (every covariance type)
# ---------------------------------------------------------------------------
# Plain float64 NumPy: each component's covariance as a C x C matrix, its
# density through np.linalg, the mixture through np.logaddexp. Independent of
# the kernels' LDL^T and one-pass log-sum-exp.

def covariance_matrix(cov_planes, covariance_type: str, n_channels: int) -> np.ndarray:
    """A component's C x C covariance from its planes in the model's layout.

    spherical: one value, the total variance over channels (as OpenCV), so
    the per-channel variance is that over C; diag: C variances; full and
    tied: six planes (xx, xy, xz, yy, yz, zz), or one on 1-channel frames.
    """
    planes = np.atleast_1d(np.asarray(cov_planes, np.float64))
    if covariance_type == "spherical":
        return np.eye(n_channels) * planes[0] / n_channels
    if covariance_type == "diag" or len(planes) == 1:
        return np.diag(planes)
    xx, xy, xz, yy, yz, zz = planes
    return np.array([[xx, xy, xz], [xy, yy, yz], [xz, yz, zz]])


def gaussian_log_density(x: np.ndarray, mean: np.ndarray, cov: np.ndarray) -> float:
    """log N(x; mean, cov) = -(d^T cov^-1 d + log det(2 pi cov)) / 2."""
    d = np.asarray(x, np.float64) - np.asarray(mean, np.float64)
    sign, log_det = np.linalg.slogdet(2 * np.pi * cov)
    assert sign > 0, "covariance is not positive definite"
    return float(-0.5 * (d @ np.linalg.solve(cov, d) + log_det))


def background_log_likelihood(x, weights, means, covs, n_live: int, background_ratio) -> float:
    """log sum_k (w_k / W) N(x; mu_k, Sigma_k) over the background components.

    The background components are the first (heaviest) ones, taken while
    the float32 sum of the weights before them is below ``background_ratio``
    (the classification's test); ``W`` is their total weight. -inf with no
    component (or no weight).
    """
    total = f32(0.0)
    chosen = []
    for k in range(n_live):
        if not total < f32(background_ratio):
            break
        chosen.append(k)
        total += f32(weights[k])
    w = np.array([float(weights[k]) for k in chosen])
    if len(chosen) == 0 or w.sum() <= 0:
        return -math.inf
    terms = [math.log(w[i]) + gaussian_log_density(x, means[k], covs[k])
             for i, k in enumerate(chosen) if w[i] > 0]
    return float(np.logaddexp.reduce(terms) - math.log(w.sum()))


def score_samples(frame: np.ndarray, state: dict, covariance_type: str, background_ratio,
                  intensity_scale=1.0) -> np.ndarray:
    """Per-pixel background log-likelihood of ``frame`` (H, W[, C]) under a
    model state in the model's layout: ``weights`` (K, H, W), ``means``
    (K, C, H, W), ``n_modes`` (H, W) and ``cov`` (spherical (K, H, W), diag
    (K, C, H, W), full (K, P, H, W), tied (P, H, W))."""
    frame = frame.reshape(frame.shape[0], frame.shape[1], -1)
    h, w, c = frame.shape
    weights, means, n_modes, cov = state["weights"], state["means"], state["n_modes"], state["cov"]
    out = np.empty((h, w))
    for yy in range(h):
        for xx in range(w):
            x = [float(f32(frame[yy, xx, ch]) * f32(intensity_scale)) for ch in range(c)]
            k_all = range(weights.shape[0])
            if covariance_type == "spherical":
                covs = [covariance_matrix(cov[k, yy, xx], "spherical", c) for k in k_all]
            elif covariance_type == "tied":
                covs = [covariance_matrix(cov[:, yy, xx], "tied", c)] * len(k_all)
            else:
                covs = [covariance_matrix(cov[k, :, yy, xx], covariance_type, c) for k in k_all]
            out[yy, xx] = background_log_likelihood(
                x, weights[:, yy, xx], means[:, :, yy, xx], covs, int(n_modes[yy, xx]),
                background_ratio)
    return out
