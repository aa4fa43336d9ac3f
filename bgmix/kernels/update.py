"""The update template: one compiled pass that classifies a frame and learns it.

Every covariance type runs the same per-pixel algorithm, Zivkovic's
adaptive mixture as OpenCV's ``MOG2Invoker`` computes it:

1. visit the components in weight order while they are live: each decays
   (``w <- (1 - a) w - a c_T``); the first whose distance is under
   ``var_threshold_gen`` gains ``a`` and learns the sample (mean and
   covariance, gain ``a / w``); the sample is background when a component
   among the heaviest that make up ``background_ratio`` lies within
   ``var_threshold``; a component the prior drives below zero is pruned
   (the loop then ends one component earlier, as OpenCV's);
2. the matched component rises past lighter ones (OpenCV's sort);
3. the weights are renormalised;
4. a sample no component explains starts a component (appended, or
   replacing the weakest), which rises to its place; with
   ``keep_background`` a full mixture's weakest component that is still
   background (the others weigh less than ``background_ratio``) is not
   replaced: it loses the sample's weight ``a`` instead;
5. the mask: 0 background, the shadow value where the sample is a darker
   copy of a background component (Prati et al. 2003), 255 foreground;
   the foreground probability and log-likelihood on request;
6. optionally, the neighbourhood step (:func:`neighbourhood_kernel`, run
   after the update): a pixel still foreground is tested against the
   background components of its neighbours.

What differs between covariance types is the distance, the covariance's
learning, a new component's covariance and the shadow metric: the hooks of
:mod:`bgmix.kernels._metric`, selected by the compile-time
:class:`UpdateSpec`. Runtime scalars travel as one :class:`UpdateParams`.

How it is computed, and why
---------------------------
The state is component-planar, every plane a row of one 2-D array
``planes[plane, y * W + x]``: the K weights, then the means (component k,
channel c at ``K + k C + c``), then the covariance planes (component j,
plane q at ``K (1 + C) + j P + q``; a tied covariance has one set). The
plane stride is padded (:func:`plane_stride`) so that planes do not start
a multiple of 4 KiB apart: at common frame sizes (320x240, 640x480,
1280x720, 1920x1080) ``H W`` floats are exactly that, and a pixel's
components then share one L1 cache set and alias in the store buffer (the
fix-ups below ran twice as slow). Each row is cut into chunks of ``CHUNK``
pixels. Within a chunk the algorithm runs component by component ("slot passes"):
pass ``k`` is one loop over the chunk's pixels that reads component ``k``
of every pixel, carries the per-pixel state of step 1 (matched yet?, total
weight, live count, background so far, ...) from pass to pass in a scratch
buffer, and writes component ``k`` back. Each pass is straight-line code
over 16 pixels at a time (AVX-512) with masks and selects in place of the
per-pixel branches of OpenCV's loop; a chunk stops at the first pass that
no pixel still visits, and a pass where every visited pixel has already
matched only decays weights. So the work follows the components the scene
needs: one or two passes on a static scene, four or five on a busy one,
and a pixel's dead components are never read. OpenCV's
pixel-interleaved loop instead branches on every component of every pixel
(busy real footage mispredicts many of those branches).

The "full" covariance's learning is dear, and a vectorised pass pays it
for every pixel of the chunk, kept by a select. Its correlation clamp
(four square roots, three divisions) binds on a few per cent of the
updates, so a fused pass learns without it, tests the bounds squared, and
clamps after the pass only the groups of 8 pixels where a bound may bind
(:func:`~bgmix.kernels._common.update_covariance3_unbound`: the same
values). Past the first component few pixels are still looking for a
match (those showing their second or third colour), so there, when at most
1/:data:`SPARSE_LEARN` of the chunk is, the pass only tests and notes each
learning pixel's gain, and :func:`learn_split` then updates those pixels'
means and covariances one by one (the same arithmetic, so the same state):
15-20% of the full preset's time on busy clips. A pass computes a match's
gain before it knows of the match (the division then overlaps the
distance's), and the kernel views its arrays without reference counting
(:func:`~bgmix.kernels._stack.unmanaged`): the per-pixel helpers' atomic
counts had cost a tenth of the full preset's time.

Steps 2 and 4 move components between slots; they concern a few per cent
of the pixels (1% rise, 1-5% create on real clips) and run as scalar
fix-ups on those pixels only. Step 3 is one pass per live slot. The shadow
test runs component by component too, only in chunks with a foreground
pixel. The scratch buffer lives in the row function's stack frame
(:mod:`bgmix.kernels._stack`), which is what lets LLVM vectorise loops that
read several state planes without runtime overlap checks.

The kernels are serial and release the GIL; they take ``(first_band,
band_step)`` and process every ``band_step``-th band of ``BAND_ROWS`` rows,
the bands spread over the frame (:func:`spread_row_stride`) so that a
thread does not get all the busy rows. :mod:`bgmix._bands` runs them on
several threads. (A ``parallel=True`` kernel optimises the row code again
inside its parallel wrapper: the first compile took 14-16 s instead of
8-10 s.) The row code is one function, the passes inlined into it, for
the same reason.

All float32 operations are OpenCV's (spherical) or the reference's, in the
same order: masks agree bit for bit.

The module is over 600 lines because the template is one factory: the passes
are closures over the compile-time spec, inlined into one row function (see
above for why), so they cannot live in other modules.
"""

from __future__ import annotations

import functools
from typing import NamedTuple

import numpy as np
from numba import carray, float32

from bgmix.kernels import _metric as metric_hooks
from bgmix.kernels._common import (
    FLT_EPSILON,
    foreground_probability,
    spread_row_stride,
)
from bgmix.kernels._config import closure_jit
from bgmix.kernels._stack import stack_pointer, unmanaged
from bgmix.kernels.covariance import METRIC_FULL, METRIC_SPHERICAL

CHUNK = 128
"""Pixels per chunk: a chunk's scratch (about 25 fields of CHUNK float32)
stays in the L1 cache, and a pass is long enough that its loop overhead is
small (64-256 measured within noise of each other on the road clip)."""

SPARSE_FOREGROUND = 4
"""A chunk with at most 1/4 of its pixels foreground runs the shadow test
pixel by pixel (only those pixels, stopping as OpenCV's loop does); a busier
chunk runs it as passes over every pixel, vectorised."""

SPARSE_LEARN = 3
"""A split pass (the "full" covariance, components after the first) where at
most 1/3 of the chunk's pixels may learn updates them pixel by pixel; with
more, as one vectorised pass over the chunk (2 and 6 measured within noise
of 3, 2026-12-07)."""

BAND_ROWS = 8
"""Rows per band dealt to a thread; rows of a band run in order, which keeps
the hardware prefetchers streaming each plane from one row into the next."""


class UpdateSpec(NamedTuple):
    """Compile-time choices of the update kernel: one compiled kernel per value.

    Only the specialisations a model uses are compiled (on first use, then
    cached on disk).
    """

    metric: int
    """``METRIC_SPHERICAL``, ``METRIC_DIAG`` or ``METRIC_FULL`` (:mod:`bgmix.kernels.covariance`)."""
    n_channels: int
    """1 or 3."""
    tied: bool
    """One covariance per pixel shared by its components (``cov`` is (1, P, H, W))."""
    detect_shadows: bool
    probability: bool
    """Write the foreground probability."""
    renormalize: bool
    """When a full mixture replaces its weakest component, renormalise the
    others so the weights sum to 1 (False: OpenCV's arithmetic)."""
    pixel_planes: bool
    """Read a per-pixel threshold and learning-rate factor (the parameter planes)."""
    distance: bool = False
    """Write, in place of the probability (``spec.probability`` must then be
    False), each pixel's smallest squared distance to a background component
    (``inf`` with none): what the pixel-level feedback averages
    (:mod:`bgmix.kernels.feedback`), without the probability's ``exp``."""


class UpdateParams(NamedTuple):
    """Runtime scalars of the update kernel, all float32."""

    alpha: np.float32
    """Learning rate ``a``."""
    prune: np.float32
    """``-a c_T`` (OpenCV's ``prune``), computed in float64 then rounded, as OpenCV."""
    var_threshold: np.float32
    """``T_b``: squared distance under which a background component explains the sample."""
    background_ratio: np.float32
    """``T_B = 1 - c_f``."""
    var_threshold_gen: np.float32
    """``T_g``: squared distance under which a component learns the sample."""
    var_init: np.float32
    var_min: np.float32
    var_max: np.float32
    shadow_threshold: np.float32
    """``tau``."""
    shadow_value: np.float32
    intensity_scale: np.float32
    max_correlation: np.float32
    neighbourhood_radius: np.float32
    keep_background: np.float32 = np.float32(0.0)
    """1: a sample no component explains does not replace a full mixture's
    weakest component while that component is background; it takes ``a``
    from its weight instead (0: OpenCV's replacement)."""


def plane_stride(n_pixels: int) -> int:
    """Floats from one state plane to the next: at least ``n_pixels``, and
    64 bytes past a multiple of 4 KiB, so that consecutive planes start in
    different L1 cache sets (see the module's docstring).

    Examples
    --------
    >>> plane_stride(320 * 240), plane_stride(1)
    (76816, 16)
    >>> all(plane_stride(n) * 4 % 4096 == 64 and plane_stride(n) >= n for n in (1, 999, 2**20))
    True
    """
    return max(0, -(-(n_pixels - 16) // 1024)) * 1024 + 16


def state_planes(n_components: int, n_channels: int, covariance_planes: int) -> int:
    """Planes of a state: weights, means and ``covariance_planes`` (all components' or the tied set).

    Examples
    --------
    >>> state_planes(5, 3, 5)  # spherical: one variance plane per component
    25
    """
    return n_components * (1 + n_channels) + covariance_planes


@functools.lru_cache(maxsize=None)
def _kernels(spec: UpdateSpec):
    return _build(spec)


def neighbourhood_kernel(spec: UpdateSpec):
    """The neighbourhood step of ``spec``: ``step(frame, planes, n_components,
    n_modes, mask, probability, threshold, params, first_band, band_step)``, run after the update
    kernel on the state it left (a separate kernel, compiled only for
    models that use it)."""
    return _kernels(spec)[1]


def update_kernel(spec: UpdateSpec):
    """The compiled update kernel of ``spec`` (built once per process, cached on disk).

    The kernel is ``update(frame, planes, n_components, n_modes, mask,
    probability, threshold, rate, params, first_band, band_step)``; it
    processes the bands ``first_band, first_band + band_step, ...`` (call it
    with ``0, 1`` for the whole frame, or through :func:`bgmix._bands.run_bands`):

    frame : (H, W, C) uint8, uint16 or float32, C-contiguous
        ``frame * params.intensity_scale`` is in model units.
    planes : (n_planes, S) float32, C-contiguous
        The state (see the module's docstring; :func:`state_planes`).
    n_components : int
        ``K``, the components per pixel.
    n_modes : (H, W) uint8
    mask : (H, W) uint8, written
    probability : (H, W) float32, written when ``spec.probability``
        (any 2-D float32 array otherwise)
    threshold, rate : (H, W) float32, read when ``spec.pixel_planes``
        Per-pixel ``T_b`` (replacing ``var_threshold``) and learning-rate
        factor (``a(x) = a * rate``, ``prune(x) = prune * rate``; 0 freezes the
        pixel, as a known-foreground pixel). A factor of exactly 1 computes
        what the scalar parameters compute.
    params : UpdateParams

    Examples
    --------
    >>> from bgmix.kernels.covariance import METRIC_SPHERICAL
    >>> spec = UpdateSpec(METRIC_SPHERICAL, 3, False, True, False, True, False)
    >>> update_kernel(spec) is update_kernel(spec)
    True
    """
    return _kernels(spec)[0]


def _build(spec: UpdateSpec):
    metric = spec.metric
    n_channels = spec.n_channels
    three = n_channels == 3
    tied = spec.tied
    shadows = spec.detect_shadows
    want_distance = spec.distance
    if want_distance and spec.probability:
        raise ValueError("an update writes the probability or the distance, not both")
    # The smallest distance is tracked for either output.
    want_probability = spec.probability or want_distance
    renormalize = spec.renormalize
    pixel_planes = spec.pixel_planes
    if metric == METRIC_FULL and not three:
        raise ValueError("the full metric needs 3 channels")
    planes = metric_hooks.n_planes(metric, n_channels)
    (distance, scaled_distance, learn_covariance, initial_covariance, learn_unbound,
     bound_covariance) = metric_hooks.hooks(metric)
    slot_planes = 0 if tied else planes
    tied_planes = planes if tied else 0
    has_1 = planes > 1
    has_3 = planes > 3
    ch = CHUNK
    band_rows = BAND_ROWS
    # Spherical's shadow passes cost little (no matrix): there the
    # pixel-by-pixel test measured 10% slower on real clips.
    sparse = SPARSE_FOREGROUND if metric != METRIC_SPHERICAL else 0
    # The full covariance's learning (four square roots, three divisions)
    # costs as much as its test; after the first component few pixels
    # still match, so passes 1.. learn apart from the test (learn_split).
    split = metric == METRIC_FULL and not tied
    sparse_learn = SPARSE_LEARN if split else 0
    # The split kernel calls the full hooks from two loops, and LLVM then
    # inlined them into neither (scalar passes, 2.5x slower): Numba inlines
    # them there. Elsewhere LLVM's choice stands, which compiles faster
    # (the default model's first apply: 8 s, 10 s with everything inlined).
    inline_metric = "always" if split else "never"
    # The full covariance's correlation clamp (four square roots, three
    # divisions) binds on a few per cent of the updates: a fused pass learns
    # without it, notes where a bound may bind, and clamps those pixels after
    # the pass (the same values: update_covariance3_unbound).
    deferred = metric == METRIC_FULL
    group = 8

    # Scratch fields, each CHUNK float32 wide.
    f_x = 0                          # the sample, C channels, in model units
    f_w = f_x + n_channels           # pass k's new weight
    f_m = f_w + 1                    # pass k's new mean, C channels
    f_s = f_m + n_channels           # pass k's new covariance (not tied)
    f_t = f_s + slot_planes          # the pixel's tied covariance
    f_nm = f_t + tied_planes         # live components, shortened by pruning
    f_fits = f_nm + 1                # 1 once a component has matched
    f_bg = f_fits + 1                # 1 once the sample is background
    f_total = f_bg + 1               # sum of the new weights so far
    f_match = f_total + 1            # k > 0 where component k matched and rises; -k or -1 else
    f_rise = f_match + 1             # the matched component's weight (after +a, before pruning)
    f_inv = f_rise + 1               # 1 / total weight
    f_flag = f_inv + 1               # fix-ups: 1 rise, 2 create; then the foreground value
    f_min = f_flag + 1               # smallest distance to a background component (probability)
    f_thr = f_min + 1                # T_b of the pixel
    f_rate = f_thr + 1               # a of the pixel
    f_prune = f_rate + 1             # prune of the pixel
    f_done = f_prune + 1             # shadow test finished
    f_tw = f_done + 1                # shadow test's cumulative weight
    f_shadow = f_tw + 1              # shadow found
    f_gain = f_shadow + 1            # a split pass's gain a / w where the pixel learns, else 0
    f_bound = f_gain + 1             # a fused pass's learning pixels whose bounds may bind
    n_fields = f_bound + 1
    scratch_size = n_fields * ch

    @closure_jit(signature="uint64(int64, int64)")
    def at(field, x):
        # Unsigned, so that Numba emits no wraparound for negative indices
        # (which would hide the unit stride from the vectoriser).
        return np.uint64(field * ch + x)

    @closure_jit(inline=inline_metric)
    def component_cov(s, planes, row, cov_base, k, xi, x):
        """Component ``k``'s covariance scalars (the pixel's when tied)."""
        zero = np.float32(0.0)
        c1 = zero
        c2 = zero
        c3 = zero
        c4 = zero
        c5 = zero
        if tied:
            c0 = s[at(f_t, x)]
            if has_1:
                c1 = s[at(f_t + 1, x)]
                c2 = s[at(f_t + 2, x)]
            if has_3:
                c3 = s[at(f_t + 3, x)]
                c4 = s[at(f_t + 4, x)]
                c5 = s[at(f_t + 5, x)]
        else:
            c0 = planes[cov_base + k * slot_planes + 0, row + xi]
            if has_1:
                c1 = planes[cov_base + k * slot_planes + 1, row + xi]
                c2 = planes[cov_base + k * slot_planes + 2, row + xi]
            if has_3:
                c3 = planes[cov_base + k * slot_planes + 3, row + xi]
                c4 = planes[cov_base + k * slot_planes + 4, row + xi]
                c5 = planes[cov_base + k * slot_planes + 5, row + xi]
        return c0, c1, c2, c3, c4, c5

    @closure_jit(inline="always")
    def test_pass(s, k, y, row, x0, n, planes, mean_base, cov_base, n_modes, a_, a1_,
                  p_, tb_, background_ratio, tg, var_min, var_max, max_corr, fused):
        """Pass ``k`` for pixels that may still match: decay, match, learn, prune.

        ``fused`` (a constant of the call site): the covariances learn in
        the pass, for every pixel, kept by a select. Otherwise (a split
        pass) only their gain is noted and :func:`learn_split` learns them
        after the pass: only the learning pixels when they are few.

        Returns (does any pixel visit component k + 1, may any of those
        still match).
        """
        zero = np.float32(0.0)
        one = np.float32(1.0)
        fk = np.float32(k)
        fk1 = np.float32(k + 1)
        more = False
        pending = False
        learned_any = False
        unbound_any = False
        for x in range(n):
            xi = np.uint64(x0 + x)
            # Everything is loaded first and stored last: a field read after
            # a store to it, or read only under a condition, can turn a
            # contiguous store into a scatter.
            nm_cur = s[at(f_nm, x)]
            fits = s[at(f_fits, x)] != zero
            total = s[at(f_total, x)]
            background = s[at(f_bg, x)] != zero
            prev = s[at(f_w, x)]  # the previous component's new weight
            rise_in = s[at(f_rise, x)]
            match_in = s[at(f_match, x)]
            min_in = s[at(f_min, x)] if want_probability else zero
            min_out = min_in
            if pixel_planes:
                a = s[at(f_rate, x)]
                p = s[at(f_prune, x)]
                a1 = one - a
                tb = s[at(f_thr, x)]
            else:
                a = a_
                a1 = a1_
                p = p_
                tb = tb_
            x_0 = s[at(f_x, x)]
            w = planes[k, row + xi]
            m0 = planes[mean_base + k * n_channels + 0, row + xi]
            d0 = m0 - x_0
            m1 = zero
            m2 = zero
            d1 = zero
            d2 = zero
            if three:
                m1 = planes[mean_base + k * n_channels + 1, row + xi]
                m2 = planes[mean_base + k * n_channels + 2, row + xi]
                d1 = m1 - s[at(f_x + 1, x)]
                d2 = m2 - s[at(f_x + 2, x)]
            c0, c1, c2, c3, c4, c5 = component_cov(s, planes, row, cov_base, k, xi, x)
            dist2, scale = distance(three, d0, d1, d2, c0, c1, c2, c3, c4, c5)

            visited = fk < nm_cur
            weight = a1 * w + p
            # A match's weight and gain, computed whether the pixel matches or
            # not: then the division does not wait for the distance's (a chain
            # of divisions itself), and the learning below overlaps it.
            weight_match = weight + a
            gain = a / weight_match
            tested = visited & (not fits)
            among_background = tested & (total < background_ratio)
            background = background | (among_background & (dist2 < tb * scale))
            match = tested & (dist2 < tg * scale)
            weight = weight_match if match else weight
            # No learning at rate 0 (the identity, and 0 / 0 on a component of
            # weight 0) nor where a subnormal rate rounded the weight to 0.
            learn = match & (weight > zero) & (a > zero)
            if fused:
                if deferred:
                    n0, n1, n2, n3, n4, n5, inside = learn_unbound(
                        three, d0, d1, d2, dist2, c0, c1, c2, c3, c4, c5, gain,
                        var_min, var_max, max_corr)
                    unbound = learn & (not inside)
                    unbound_any = unbound_any | unbound
                else:
                    n0, n1, n2, n3, n4, n5 = learn_covariance(
                        three, d0, d1, d2, dist2, c0, c1, c2, c3, c4, c5, gain,
                        var_min, var_max, max_corr)
            if want_probability:
                nearest = scaled_distance(dist2, scale)
                min_out = nearest if among_background & (nearest < min_in) else min_in
            rises = not (weight < prev)
            matched = (fk if rises else -fk) if match else match_in
            rise_w = weight if match else rise_in
            fits = fits | match
            pruned = visited & (weight < -p)
            weight = zero if pruned else weight
            nm_cur = nm_cur - one if pruned else nm_cur
            follows = fk1 < nm_cur
            more = more | follows
            pending = pending | (follows & (not fits))
            learned_any = learned_any | learn

            s[at(f_w, x)] = weight if visited else w
            if fused:
                s[at(f_m, x)] = m0 - gain * d0 if learn else m0
                if three:
                    s[at(f_m + 1, x)] = m1 - gain * d1 if learn else m1
                    s[at(f_m + 2, x)] = m2 - gain * d2 if learn else m2
            if fused:
                f_cov = f_t if tied else f_s
                s[at(f_cov, x)] = n0 if learn else c0
                if has_1:
                    s[at(f_cov + 1, x)] = n1 if learn else c1
                    s[at(f_cov + 2, x)] = n2 if learn else c2
                if has_3:
                    s[at(f_cov + 3, x)] = n3 if learn else c3
                    s[at(f_cov + 4, x)] = n4 if learn else c4
                    s[at(f_cov + 5, x)] = n5 if learn else c5
                if deferred:
                    s[at(f_bound, x)] = one if unbound else zero
            else:
                s[at(f_gain, x)] = gain if learn else zero
            s[at(f_rise, x)] = rise_w
            s[at(f_match, x)] = matched
            s[at(f_total, x)] = total + weight if visited else total
            s[at(f_nm, x)] = nm_cur
            s[at(f_fits, x)] = one if fits else zero
            s[at(f_bg, x)] = one if background else zero
            if want_probability:
                s[at(f_min, x)] = min_out
        # Write component k back, one plane per loop (no overlap checks); the
        # weight waits in the scratch for the renormalisation.
        for x in range(n):
            planes[k, row + np.uint64(x0 + x)] = s[at(f_w, x)]
        if fused and deferred and unbound_any:
            # The pixels near a correlation bound, by groups of GROUP pixels,
            # skipping groups with none. (LLVM vectorises the loop over a
            # group with masks: one vector of clamps per group that has one;
            # pixel by pixel on the state measured 2-5% slower on motorway.)
            f_cov = f_t if tied else f_s
            for g in range(0, n, group):
                m = min(group, n - g)
                hit = False
                for j in range(m):
                    hit = hit | (s[at(f_bound, g + j)] != zero)
                if not hit:
                    continue
                for j in range(m):
                    x = g + j
                    if s[at(f_bound, x)] == zero:
                        continue
                    n0, n1, n2, n3, n4, n5 = bound_covariance(
                        s[at(f_cov, x)], s[at(f_cov + 1, x)], s[at(f_cov + 2, x)],
                        s[at(f_cov + 3, x)], s[at(f_cov + 4, x)], s[at(f_cov + 5, x)],
                        var_min, var_max, max_corr)
                    s[at(f_cov, x)] = n0
                    s[at(f_cov + 1, x)] = n1
                    s[at(f_cov + 2, x)] = n2
                    s[at(f_cov + 3, x)] = n3
                    s[at(f_cov + 4, x)] = n4
                    s[at(f_cov + 5, x)] = n5
        if learned_any:
            if not fused:
                # (It learns the means too.)
                learn_split(s, k, row, x0, n, planes, mean_base, cov_base, var_min, var_max,
                            max_corr)
            if fused:
                for c in range(n_channels):
                    for x in range(n):
                        planes[mean_base + k * n_channels + c, row + np.uint64(x0 + x)] = s[at(f_m + c, x)]
            if fused and not tied:
                for q in range(slot_planes):
                    for x in range(n):
                        planes[cov_base + k * slot_planes + q, row + np.uint64(x0 + x)] = s[at(f_s + q, x)]
        return more, pending

    @closure_jit(inline="always")
    def learn_split(s, k, row, x0, n, planes, mean_base, cov_base, var_min, var_max, max_corr):
        """The learning of a split :func:`test_pass` (mean and covariance),
        pixel by pixel for the pixels that learn: the same arithmetic on the
        same values as a fused pass (the correlation clamp only where a bound
        may bind: :func:`~bgmix.kernels._common.update_covariance3_unbound`).
        The pass then stores neither means nor covariances."""
        zero = np.float32(0.0)
        first = cov_base + k * slot_planes
        for x in range(n):
            gain = s[at(f_gain, x)]
            if gain == zero:
                continue
            pixel = row + np.uint64(x0 + x)
            d0, d1, d2 = sample_offset(s, x, planes, mean_base + k * n_channels, pixel)
            c0, c1, c2, c3, c4, c5 = component_cov(s, planes, row, cov_base, k,
                                                   np.uint64(x0 + x), x)
            n0, n1, n2, n3, n4, n5, inside = learn_unbound(
                three, d0, d1, d2, zero, c0, c1, c2, c3, c4, c5, gain,
                var_min, var_max, max_corr)
            if not inside:
                n0, n1, n2, n3, n4, n5 = bound_covariance(n0, n1, n2, n3, n4, n5,
                                                          var_min, var_max, max_corr)
            planes[first, pixel] = n0
            planes[first + 1, pixel] = n1
            planes[first + 2, pixel] = n2
            planes[first + 3, pixel] = n3
            planes[first + 4, pixel] = n4
            planes[first + 5, pixel] = n5
            mean = mean_base + k * n_channels
            planes[mean, pixel] = planes[mean, pixel] - gain * d0
            planes[mean + 1, pixel] = planes[mean + 1, pixel] - gain * d1
            planes[mean + 2, pixel] = planes[mean + 2, pixel] - gain * d2

    @closure_jit(inline="always")
    def split_or_fused_pass(fused, s, k, y, row, x0, n, planes, mean_base, cov_base, n_modes,
                            a, a1, p, tb, background_ratio, tg, var_min, var_max, max_corr):
        if fused:
            return test_pass(s, k, y, row, x0, n, planes, mean_base, cov_base, n_modes, a, a1,
                             p, tb, background_ratio, tg, var_min, var_max, max_corr, True)
        return test_pass(s, k, y, row, x0, n, planes, mean_base, cov_base, n_modes, a, a1,
                         p, tb, background_ratio, tg, var_min, var_max, max_corr, False)

    @closure_jit(inline="always")
    def count_pending(s, k, n):
        """Pixels of the chunk that visit component ``k`` and have not matched."""
        fk = np.float32(k)
        count = 0
        for x in range(n):
            count += np.int64((fk < s[at(f_nm, x)]) & (s[at(f_fits, x)] == np.float32(0.0)))
        return count

    @closure_jit(inline="always")
    def sample_offset(s, x, planes, first, pixel):
        """``d = mu - x`` for the 3-channel mean at plane ``first``."""
        return (planes[first, pixel] - s[at(f_x, x)],
                planes[first + 1, pixel] - s[at(f_x + 1, x)],
                planes[first + 2, pixel] - s[at(f_x + 2, x)])

    @closure_jit(inline="always")
    def decay_pass(s, k, row, x0, n, planes, a1_, p_):
        """Pass ``k`` where every visited pixel has matched: decay and prune only."""
        zero = np.float32(0.0)
        one = np.float32(1.0)
        fk = np.float32(k)
        fk1 = np.float32(k + 1)
        more = False
        for x in range(n):
            xi = np.uint64(x0 + x)
            nm_cur = s[at(f_nm, x)]
            total = s[at(f_total, x)]
            if pixel_planes:
                p = s[at(f_prune, x)]
                a1 = one - s[at(f_rate, x)]
            else:
                p = p_
                a1 = a1_
            w = planes[k, row + xi]
            visited = fk < nm_cur
            weight = a1 * w + p
            pruned = visited & (weight < -p)
            weight = zero if pruned else weight
            nm_cur = nm_cur - one if pruned else nm_cur
            more = more | (fk1 < nm_cur)
            s[at(f_w, x)] = weight if visited else w
            s[at(f_total, x)] = total + weight if visited else total
            s[at(f_nm, x)] = nm_cur
        for x in range(n):
            planes[k, row + np.uint64(x0 + x)] = s[at(f_w, x)]
        return more

    @closure_jit()
    def swap_components(planes, mean_base, cov_base, i, j, pixel):
        """Exchange components ``i`` and ``j`` of the pixel at ``pixel``."""
        w = planes[i, pixel]
        planes[i, pixel] = planes[j, pixel]
        planes[j, pixel] = w
        for c in range(n_channels):
            m = planes[mean_base + i * n_channels + c, pixel]
            planes[mean_base + i * n_channels + c, pixel] = planes[mean_base + j * n_channels + c, pixel]
            planes[mean_base + j * n_channels + c, pixel] = m
        for q in range(slot_planes):
            v = planes[cov_base + i * slot_planes + q, pixel]
            planes[cov_base + i * slot_planes + q, pixel] = planes[cov_base + j * slot_planes + q, pixel]
            planes[cov_base + j * slot_planes + q, pixel] = v

    @closure_jit(inline="always")
    def rise_and_normalise(s, x, planes, mean_base, cov_base, pixel, max_modes):
        """OpenCV's sort of the matched component, then its pixel's renormalisation."""
        matched = np.int64(s[at(f_match, x)])
        weight = s[at(f_rise, x)]
        for i in range(matched, 0, -1):
            if weight < planes[i - 1, pixel]:
                break
            swap_components(planes, mean_base, cov_base, i, i - 1, pixel)
        inv_total = s[at(f_inv, x)]
        live = np.int64(s[at(f_nm, x)])
        # Over every slot, so that the loop's trip count is the same for every
        # pixel (predicted), not the pixel's live count (mispredicted).
        for i in range(max_modes):
            w = planes[i, pixel]
            planes[i, pixel] = w * inv_total if i < live else w

    @closure_jit(inline="always")
    def create(s, x, planes, mean_base, cov_base, pixel, max_modes, a, var_init,
               keep_background, background_ratio):
        """A new component for the sample: appended, or replacing the weakest
        (with ``keep_background``, not a weakest that is background: it loses
        ``a`` of its weight instead)."""
        zero = np.float32(0.0)
        one = np.float32(1.0)
        a1 = one - a
        nm = np.int64(s[at(f_nm, x)])
        replace = nm == max_modes
        if replace:
            new = max_modes - 1
        else:
            new = nm
            nm += 1
        # The weight left to the components that stay. (The loops run over
        # every slot but the last, with selects: a trip count that follows the
        # pixel's live count is mispredicted.)
        rest = zero
        for i in range(max_modes - 1):
            w = planes[i, pixel]
            rest += w if i < nm - 1 else zero
        if replace and keep_background and rest < background_ratio and rest > FLT_EPSILON:
            # The weakest is one of the background's modes (a sign's third
            # colour, water's glint): an object passing in front would evict
            # it, and the mode would come back as foreground that the
            # conservative update then holds. It wears down at the learning
            # rate instead, so a lasting change still takes the slot.
            planes[new, pixel] = max(planes[new, pixel] - a, zero)
            return
        # Renormalised, a replacement's weight leaves the mixture and the rest
        # still sum to 1 (OpenCV lets the sum fall short). With nothing left
        # (the first component, or every one pruned) the new one takes all the
        # weight, as OpenCV gives a sole component.
        has_rest = rest > FLT_EPSILON
        scale_rest = a1 / rest if replace and renormalize and has_rest else a1
        for i in range(max_modes - 1):
            w = planes[i, pixel]
            planes[i, pixel] = w * scale_rest if i < nm - 1 else w
        planes[new, pixel] = a if has_rest else one
        for c in range(n_channels):
            planes[mean_base + new * n_channels + c, pixel] = s[at(f_x + c, x)]
        if not tied:
            c0, c1, c2, c3, c4, c5 = initial_covariance(var_init)
            first = cov_base + new * slot_planes
            planes[first, pixel] = c0
            if has_1:
                planes[first + 1, pixel] = c1
                planes[first + 2, pixel] = c2
            if has_3:
                planes[first + 3, pixel] = c3
                planes[first + 4, pixel] = c4
                planes[first + 5, pixel] = c5
        for i in range(nm - 1, 0, -1):
            if a < planes[i - 1, pixel]:
                break
            swap_components(planes, mean_base, cov_base, i, i - 1, pixel)
        s[at(f_nm, x)] = np.float32(nm)

    @closure_jit(inline="always")
    def shadow_brightness(planes, first, pixel, x_0, x_1, x_2):
        """The shadow test's ``x . mu`` and ``|mu|^2`` for the mean at plane ``first``
        (and the mean itself): OpenCV's sums, in its order."""
        zero = np.float32(0.0)
        m0 = planes[first, pixel]
        numerator = x_0 * m0
        denominator = m0 * m0
        m1 = zero
        m2 = zero
        if three:
            m1 = planes[first + 1, pixel]
            m2 = planes[first + 2, pixel]
            numerator += x_1 * m1
            numerator += x_2 * m2
            denominator += m1 * m1
            denominator += m2 * m2
        return numerator, denominator, m0, m1, m2

    @closure_jit(inline="always")
    def shadow_passes(s, row, x0, n, planes, mean_base, cov_base, max_modes, tb_,
                      background_ratio, tau):
        """OpenCV's shadow test, component by component, for the chunk's foreground."""
        zero = np.float32(0.0)
        one = np.float32(1.0)
        for x in range(n):
            s[at(f_done, x)] = s[at(f_bg, x)]
            s[at(f_tw, x)] = zero
            s[at(f_shadow, x)] = zero
        k = 0
        active = True
        while k < max_modes and active:
            fk = np.float32(k)
            active = False
            for x in range(n):
                xi = np.uint64(x0 + x)
                done = s[at(f_done, x)] != zero
                total = s[at(f_tw, x)]
                shadow = s[at(f_shadow, x)] != zero
                tb = s[at(f_thr, x)] if pixel_planes else tb_
                live = (fk < s[at(f_nm, x)]) & (not done)
                x_0 = s[at(f_x, x)]
                x_1 = s[at(f_x + 1, x)] if three else zero
                x_2 = s[at(f_x + 2, x)] if three else zero
                numerator, denominator, m0, m1, m2 = shadow_brightness(
                    planes, mean_base + k * n_channels, row + xi, x_0, x_1, x_2)
                c0, c1, c2, c3, c4, c5 = component_cov(s, planes, row, cov_base, k, xi, x)
                no_mean = denominator == zero
                in_range = (numerator <= denominator) & (numerator >= tau * denominator)
                b = numerator / (one if no_mean else denominator)
                distortion, scale = distance(
                    three, b * m0 - x_0, b * m1 - x_1, b * m2 - x_2,
                    c0, c1, c2, c3, c4, c5)
                hit = live & (not no_mean) & in_range & (distortion < tb * scale * b * b)
                shadow = shadow | hit
                total = total + planes[k, row + xi] if live else total
                # OpenCV returns at a zero mean, at a hit, and once the
                # components seen make up background_ratio.
                done = done | (live & (no_mean | hit | (total > background_ratio)))
                active = active | (not done)
                s[at(f_done, x)] = one if done else zero
                s[at(f_tw, x)] = total
                s[at(f_shadow, x)] = one if shadow else zero
            k += 1

    @closure_jit(inline="always")
    def shadow_pixel(s, x, row, x0, planes, mean_base, cov_base, tb_, background_ratio, tau):
        """:func:`shadow_passes` for one pixel, stopping where OpenCV's loop returns.

        The same arithmetic in the same order, so the same answer; for a
        chunk with few foreground pixels (noise specks, one small object)
        this visits only them, where the passes run every pixel of the chunk
        through every component.
        """
        zero = np.float32(0.0)
        one = np.float32(1.0)
        xi = np.uint64(x0 + x)
        tb = s[at(f_thr, x)] if pixel_planes else tb_
        live = np.int64(s[at(f_nm, x)])
        x_0 = s[at(f_x, x)]
        x_1 = zero
        x_2 = zero
        if three:
            x_1 = s[at(f_x + 1, x)]
            x_2 = s[at(f_x + 2, x)]
        total = zero
        shadow = zero
        for k in range(live):
            numerator, denominator, m0, m1, m2 = shadow_brightness(
                planes, mean_base + k * n_channels, row + xi, x_0, x_1, x_2)
            if denominator == zero:
                break
            if (numerator <= denominator) & (numerator >= tau * denominator):
                b = numerator / denominator
                c0, c1, c2, c3, c4, c5 = component_cov(s, planes, row, cov_base, k, xi, x)
                distortion, scale = distance(
                    three, b * m0 - x_0, b * m1 - x_1, b * m2 - x_2,
                    c0, c1, c2, c3, c4, c5)
                if distortion < tb * scale * b * b:
                    shadow = one
                    break
            total = total + planes[k, row + xi]
            if total > background_ratio:
                break
        s[at(f_shadow, x)] = shadow

    @closure_jit()
    def update(frame, planes, max_modes, n_modes, mask, probability, threshold, rate, params,
               first_band, band_step):
        """Classify and learn the bands ``first_band, first_band + band_step, ...``."""
        s = carray(stack_pointer(scratch_size, float32), scratch_size)
        # The state without reference counting: the helpers called per pixel
        # (inlined or not) would otherwise count it atomically on every call.
        planes = unmanaged(planes)
        n_modes = unmanaged(n_modes)
        mask = unmanaged(mask)
        probability = unmanaged(probability)
        threshold = unmanaged(threshold)
        rate = unmanaged(rate)
        frame = unmanaged(frame)
        zero = np.float32(0.0)
        one = np.float32(1.0)
        a = params.alpha
        a1 = one - a
        p = params.prune
        tb = params.var_threshold
        background_ratio = params.background_ratio
        tg = params.var_threshold_gen
        var_min = params.var_min
        var_max = params.var_max
        max_corr = params.max_correlation
        keep_background = params.keep_background != zero
        scale = params.intensity_scale
        height = frame.shape[0]
        width = frame.shape[1]
        samples = frame.reshape((height, width * n_channels))
        mean_base = max_modes
        cov_base = max_modes * (1 + n_channels)
        n_bands = (height + band_rows - 1) // band_rows
        stride = spread_row_stride(n_bands)
        for step in range(first_band, n_bands, band_step):
            band = (step * stride) % n_bands
            for y in range(band * band_rows, min(height, (band + 1) * band_rows)):
                row = np.uint64(y * width)
                for x0 in range(0, width, ch):
                    n = min(ch, width - x0)
                    base = x0 * n_channels
                    for x in range(n):
                        xi = np.uint64(base + x * n_channels)
                        s[at(f_x, x)] = np.float32(samples[y, xi]) * scale
                        if three:
                            s[at(f_x + 1, x)] = np.float32(samples[y, xi + np.uint64(1)]) * scale
                            s[at(f_x + 2, x)] = np.float32(samples[y, xi + np.uint64(2)]) * scale
                    if pixel_planes:
                        for x in range(n):
                            xi = np.uint64(x0 + x)
                            factor = rate[y, xi]
                            s[at(f_rate, x)] = a * factor
                            s[at(f_prune, x)] = p * factor
                            s[at(f_thr, x)] = threshold[y, xi]
                    if tied:
                        for q in range(tied_planes):
                            for x in range(n):
                                s[at(f_t + q, x)] = planes[cov_base + q, row + np.uint64(x0 + x)]
                    # 1. Component passes, while some pixel still visits one.
                    for x in range(n):
                        s[at(f_nm, x)] = np.float32(n_modes[y, np.uint64(x0 + x)])
                        s[at(f_fits, x)] = zero
                        s[at(f_total, x)] = zero
                        s[at(f_bg, x)] = zero
                        s[at(f_w, x)] = np.float32(np.inf)
                        s[at(f_rise, x)] = zero
                        s[at(f_match, x)] = np.float32(-1.0)
                        if want_probability:
                            s[at(f_min, x)] = np.float32(np.inf)
                    more = True
                    pending = True
                    k = 0
                    while k < max_modes and more:
                        if not pending:
                            more = decay_pass(s, k, row, x0, n, planes, a1, p)
                        elif split:
                            # (A branch on the closure constant, which Numba
                            # prunes: other kernels compile one test pass.)
                            fused = k == 0 or sparse_learn * count_pending(s, k, n) > n
                            more, pending = split_or_fused_pass(
                                fused, s, k, y, row, x0, n, planes, mean_base, cov_base, n_modes,
                                a, a1, p, tb, background_ratio, tg, var_min, var_max, max_corr)
                        else:
                            more, pending = test_pass(s, k, y, row, x0, n, planes, mean_base,
                                                      cov_base, n_modes, a, a1, p, tb,
                                                      background_ratio, tg, var_min, var_max,
                                                      max_corr, True)
                        k += 1
                    n_passes = k
                    if tied:
                        for q in range(tied_planes):
                            for x in range(n):
                                planes[cov_base + q, row + np.uint64(x0 + x)] = s[at(f_t + q, x)]

                    # 2-4. Which pixels need a scalar fix-up: a matched component that
                    # rises (sorted, then renormalised, there), a new component.
                    n_fixes = 0
                    n_foreground = 0
                    for x in range(n):
                        total = s[at(f_total, x)]
                        inv_total = one / total if abs(total) > FLT_EPSILON else zero
                        s[at(f_inv, x)] = inv_total
                        rises = s[at(f_match, x)] > zero
                        learning = (s[at(f_rate, x)] if pixel_planes else a) > zero
                        creates = ((s[at(f_fits, x)] == zero) | (inv_total == zero)) & learning
                        s[at(f_flag, x)] = ((one if rises else zero)
                                            + (np.float32(2.0) if creates else zero))
                        n_fixes += np.int64(rises | creates)
                        n_foreground += np.int64(s[at(f_bg, x)] == zero)
                    # 3. Renormalise (a pixel whose matched component rises is
                    # renormalised after its sort, below).
                    for k in range(n_passes):
                        fk = np.float32(k)
                        for x in range(n):
                            xi = np.uint64(x0 + x)
                            w = planes[k, row + xi]
                            normalise = (fk < s[at(f_nm, x)]) & (s[at(f_match, x)] <= zero)
                            planes[k, row + xi] = w * s[at(f_inv, x)] if normalise else w
                    if n_fixes > 0:
                        for x in range(n):
                            if s[at(f_flag, x)] == zero:
                                continue
                            flag = np.int64(s[at(f_flag, x)])
                            pixel = row + np.uint64(x0 + x)
                            if flag & 1:
                                rise_and_normalise(s, x, planes, mean_base, cov_base, pixel, max_modes)
                            if flag & 2:
                                a_x = s[at(f_rate, x)] if pixel_planes else a
                                create(s, x, planes, mean_base, cov_base, pixel, max_modes, a_x,
                                       params.var_init, keep_background, background_ratio)

                    # 5. The mask.
                    if shadows and sparse > 0 and sparse * n_foreground <= n:
                        for x in range(n):
                            s[at(f_shadow, x)] = zero
                            if s[at(f_bg, x)] == zero:
                                shadow_pixel(s, x, row, x0, planes, mean_base, cov_base, tb,
                                             background_ratio, params.shadow_threshold)
                    elif shadows:
                        shadow_passes(s, row, x0, n, planes, mean_base, cov_base, max_modes, tb,
                                      background_ratio, params.shadow_threshold)
                    shadow_value = np.uint8(params.shadow_value)
                    for x in range(n):
                        xi = np.uint64(x0 + x)
                        n_modes[y, xi] = np.uint8(s[at(f_nm, x)])
                        foreground = np.uint8(255)
                        if shadows:
                            foreground = shadow_value if s[at(f_shadow, x)] != zero else foreground
                        mask[y, xi] = np.uint8(0) if s[at(f_bg, x)] != zero else foreground
                    if want_distance:
                        for x in range(n):
                            probability[y, x0 + x] = s[at(f_min, x)]
                    elif want_probability:
                        for x in range(n):
                            tb_x = s[at(f_thr, x)] if pixel_planes else tb
                            probability[y, x0 + x] = foreground_probability(
                                s[at(f_min, x)], tb_x, s[at(f_bg, x)] != zero)

    @closure_jit()
    def neighbourhood_row(y, frame, planes, max_modes, n_modes, mask, probability, threshold,
                          params):
        """Re-test row ``y``'s foreground against its neighbours' background components.

        A pixel marked 255 becomes background when its sample lies within
        its threshold of a background component (the heaviest, up to
        ``background_ratio``) of a pixel within ``params.neighbourhood_radius``
        (a square window): swaying leaves, ripples and small camera shake
        move a background colour by a pixel or two (Elgammal et al. 2000's
        displacement test). Reads the state after this frame's update.
        """
        height = n_modes.shape[0]
        width = n_modes.shape[1]
        mean_base = max_modes
        cov_base = max_modes * (1 + n_channels)
        radius = np.int64(params.neighbourhood_radius)
        background_ratio = params.background_ratio
        scale = params.intensity_scale
        zero = np.float32(0.0)
        for x in range(width):
            if mask[y, x] != 255:
                continue
            tb = threshold[y, x] if pixel_planes else params.var_threshold
            x_0 = np.float32(frame[y, x, 0]) * scale
            x_1 = zero
            x_2 = zero
            if three:
                x_1 = np.float32(frame[y, x, 1]) * scale
                x_2 = np.float32(frame[y, x, 2]) * scale
            nearest = np.float32(np.inf)
            found = False
            # With the distance output the pixel keeps its own distance, so the
            # search ends at the first match (it is the probability that needs
            # the nearest neighbour's).
            stop_at_match = want_distance
            for qy in range(max(0, y - radius), min(height, y + radius + 1)):
                if found and stop_at_match:
                    break
                for qx in range(max(0, x - radius), min(width, x + radius + 1)):
                    if qy == y and qx == x:
                        continue
                    if found and stop_at_match:
                        break
                    total = zero
                    # Unsigned indices: no negative-index wraparound to test.
                    q = np.uint64(qy * width + qx)
                    for k in range(n_modes[qy, qx]):
                        if not total < background_ratio or (found and stop_at_match):
                            break
                        j = 0 if tied else k
                        cov_row = np.uint64(cov_base + j * slot_planes)
                        mean_row = np.uint64(mean_base + k * n_channels)
                        c0 = planes[cov_row, q]
                        c1 = zero
                        c2 = zero
                        c3 = zero
                        c4 = zero
                        c5 = zero
                        if has_1:
                            c1 = planes[cov_row + np.uint64(1), q]
                            c2 = planes[cov_row + np.uint64(2), q]
                        if has_3:
                            c3 = planes[cov_row + np.uint64(3), q]
                            c4 = planes[cov_row + np.uint64(4), q]
                            c5 = planes[cov_row + np.uint64(5), q]
                        d0 = planes[mean_row, q] - x_0
                        d1 = zero
                        d2 = zero
                        if three:
                            d1 = planes[mean_row + np.uint64(1), q] - x_1
                            d2 = planes[mean_row + np.uint64(2), q] - x_2
                        dist2, s_k = distance(three, d0, d1, d2,
                                                           c0, c1, c2, c3, c4, c5)
                        if dist2 < tb * s_k:
                            found = True
                        nearest = min(nearest, scaled_distance(dist2, s_k))
                        total += planes[np.uint64(k), q]
            if found:
                mask[y, x] = 0
                if want_probability and not want_distance:
                    probability[y, x] = foreground_probability(nearest, tb, True)

    @closure_jit()
    def neighbourhood_step(frame, planes, n_components, n_modes, mask, probability, threshold,
                           params, first_band, band_step):
        height = frame.shape[0]
        n_bands = (height + band_rows - 1) // band_rows
        stride = spread_row_stride(n_bands)
        for step in range(first_band, n_bands, band_step):
            band = (step * stride) % n_bands
            for y in range(band * band_rows, min(height, (band + 1) * band_rows)):
                neighbourhood_row(y, frame, planes, n_components, n_modes, mask, probability,
                                  threshold, params)

    return update, neighbourhood_step

