"""The frame loop around the update kernel for the feedback mechanisms.

:class:`bgmix.BackgroundMixture` runs this when any of ``hold_frames``,
``feedback``, ``compensate_gain``, ``light_change``, ``median_size`` or
``fill_blob_holes`` is set (the ``"robust"`` preset); the ``"mog2"`` preset never
does, so it stays OpenCV's arithmetic. Per frame:

1. **Gain** (``compensate_gain``): the camera's exposure is estimated as the
   median ratio, over a sparse grid of pixels that were background, of the
   frame to the heaviest component's mean; the kernel divides the samples by
   it (a scalar in :class:`~bgmix.kernels.update.UpdateParams`, no extra
   pass). Auto-exposure and clouds then leave the model as it was.
2. The update kernel, with the per-pixel threshold and rate planes of
   :mod:`bgmix.kernels.feedback`, writing the smallest distance to a
   background component.
3. The neighbourhood step on a copy of the mask (``neighbourhood_radius``),
   the texture check of what it forgave (``texture_tolerance``,
   :mod:`bgmix.kernels.texture`: camouflage is not a displaced background),
   then the shadow check (``consistent_shadows``, :mod:`bgmix.kernels.shadows`):
   a shadow darker than that brightness ratio keeps its label only inside
   the band of attenuation that the scene's cast shadows share.
4. The clean-up: a ``median_size`` majority filter, then hole filling
   (:mod:`bgmix.kernels.cleanup`).
5. **Light change** (``light_change``): when more than that fraction of the
   visible background (the pixels not foreground the frame before) turned
   foreground at once, the turned pixels are cleared from the
   mask and re-learned at the next frame; the event lasts (hysteresis) while
   a quarter of that fraction keeps turning. The pixels hidden by objects when
   the light changed cannot be re-learned yet: their model is re-lit with the
   change measured around them (:meth:`FeedbackState.relight_hidden`), so the
   ground an object leaves later matches the new light instead of a ghost.
6. The feedback planes of the next frame (:func:`~bgmix.kernels.feedback.feedback_step`).
   With ``hold_frames`` (the conservative update), a held pixel is not
   learned. In the first ``history / WARMUP_SHARE`` frames only the settled
   pixels are held (``WARMUP_SETTLED``), and only in a quiet scene
   (``WARMUP_MAX_FLICKER``): the others learn everything.
7. **Ghosts** (with ``hold_frames``, from the first frame):
   held pixels that show the ground, where an object the model had learnt
   left, leave the mask and re-learn at once
   (:func:`~bgmix.kernels.ghosts.absorb_ghosts`), instead of being held.

The foreground probability, when asked for, is computed from the distance
and the final mask, so that ``p >= 0.5`` exactly where the mask is not 0.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from bgmix.kernels.feedback import exposure_median, finish_frame
from bgmix.kernels.ghosts import absorb_ghosts
from bgmix.kernels.shadows import SHADOW_BINS, consistent_shadows
from bgmix.kernels.texture import PATTERN, texture_check

GAIN_GRID = 16
GAIN_SAMPLES = 512
"""Gain samples lie on a lattice of about this many pixels (every 12th pixel
of a 320x240 frame, at most every 16th of a larger one): the median of a few
hundred ratios is steady to a fraction of a grey level and costs little."""
GAIN_MIN_SAMPLES = 0.2
"""Fraction of the lattice that must be usable for an estimate."""
GAIN_MIN_WEIGHT = 0.2
"""A sample is measured against its nearest component of at least this weight
(a settled background mode: the heaviest alone would call a two-mode pixel
showing its other mode, an escalator's steps, an exposure change)."""
GAIN_FOLLOW = 0.9
"""Share of the measured exposure change divided out. The ratio is measured
against the model, which learns the compensated frames: dividing all of it
out makes every gain a fixed point, and a small bias of the median (a crowd,
a camera's non-linear response) then compounds frame after frame (an
escalator CCTV clip ran to 0.48). Leaving a tenth makes 1 the one fixed
point: a sudden change is 90% compensated at once, and the model absorbs a
lasting one over time."""
GAIN_MIN_LEVEL = 8.0
"""Samples darker than this (model units, channels summed) give no reliable ratio."""
WARMUP_SHARE = 10
"""The conservative update starts for every pixel after ``history /
WARMUP_SHARE`` frames (50 by default, 2 s at 25 fps): until then a pixel
that has not settled learns everything, at the fast automatic rate of the
first frames, so that water and leaves learn their modes."""
WARMUP_SETTLED = 0.95
"""During the warm-up a pixel whose heaviest component already weighs this much
(one ground shown since the camera started) is held as after it: an object
arriving in the first two seconds stays foreground instead of being learnt
(it was half of what the synthetic baseline and shadow scenes missed:
0.9969 -> 0.9979 both). Pixels of water or leaves, whose weight spreads over
several modes, learn everything until the warm-up ends: 0.8 held water that
had not yet shown its glints (synthetic dynamic background 0.961 -> 0.951),
0.95 costs it 0.003, 0.98 nothing but gives back a third of the baseline's
gain. What stood at the start and leaves is a ghost, which the ghost test
(:mod:`bgmix.kernels.ghosts`) absorbs."""
WARMUP_MAX_FLICKER = 0.05
"""... unless more than 5% of the view flickers (pixels whose decision flipped
lately: ``blink`` above 0). A moving background that has not yet shown all its
modes (an escalator's steps, water) looks settled in places, and held there
it would never learn them (an escalator clip's foreground doubled, 0.034 ->
0.076 of the view); there the warm-up learns everything, and an object that
arrives in it is learnt and later leaves as a ghost. The synthetic baseline
flickers at 0.1-2% of the view, the escalator 34-39%, the dynamic
background's water 20-23%."""
WARMUP_MIN_FRAMES = 10
"""... from this many frames on (the first frames' automatic rate is 1/2, 1/4, ...)."""
SHADOW_DECAY = 0.98
"""Per-frame decay of the shadow-ratio histogram: it remembers the cast shadows
of about the last 50 frames (2 s at 25 fps), long enough to hold a peak
between two passing objects, short enough to follow the sun and the clouds."""
SHADOW_HALF_WIDTH = 2
"""The shadow band is the window of 5 bins (0.1 of brightness ratio) holding
the most of the histogram: wider than the spread that sensor noise and the
surface's own shading give one light's cast shadows (0.58-0.62 for a 0.6
shadow with noise sigma 3), narrower than a dark object's range of colours."""
SHADOW_MIN_MASS = 200.0
"""The band needs this many dark shadow samples in the (decaying) histogram;
with fewer, every dark shadow pixel is foreground (too little to tell a
cast shadow from a dark object)."""
SHADOW_MIN_SHARE = 0.6
"""The band exists when it holds 60% of the histogram: one light's shadows
concentrate there, while dark object parts spread over the whole range
(at most about 30% in any 0.1 band on CDnet's highway and pedestrians)."""
SHADOW_FAR = 25.0
"""A shadow fainter than ``consistent_shadows`` (ratio above it) whose squared
distance to the background exceeds 25 thresholds (5 times the match radius)
is foreground: too little darkening for a cast shadow, too much for noise. On
colour frames such pixels are rare (CDnet: F within 0.001); on one channel,
where the shadow test has no chroma term, they are objects slightly darker
than the background (the synthetic thermal scene: 0.898 -> 0.937; at
160x120 0.549 -> 0.748, seed 2 0.888 -> 0.906). 9 thresholds gave thermal
0.951 but cost pedestrians 0.007."""
_SHADOW_TUNING = (np.float32(SHADOW_FAR), np.float32(SHADOW_DECAY), SHADOW_HALF_WIDTH,
                  np.float32(SHADOW_MIN_MASS), np.float32(SHADOW_MIN_SHARE))
TEXTURE_MIN_WEIGHT = 0.8
"""The texture check skips a pixel whose 3x3 block holds a pixel with a
heaviest component under this weight: water and leaves that the mixture has
learnt change their pattern while every colour in it is background (the
synthetic dynamic background's water settles at 0.8-0.9 where its glints are
rare). CDnet highway's camouflaged car parts lie over lanes of 0.8 and above.
Measured with the displaced-share limit below: 0.8 gives highway 0.950 and
the dynamic background 0.957 (0.943 and 0.959 without the check); 0.6 gives
0.951 and 0.954, 0.97 gives 0.947 and 0.959."""
TEXTURE_RELATIVE = 0.3
"""A pattern bit is set where a pixel's grey level differs from the centre's
by more than 30% (LBSP's relative threshold, about SuBSENSE's 0.333)."""
TEXTURE_FLOOR = 8.0
"""... of at least this many input levels (times ``intensity_scale``): in the
dark, 30% of a few levels is sensor noise."""
DISPLACED_STEP = 0.01
"""Weight of the current frame in each pixel's displaced share (about 100 frames)."""
DISPLACED_MAX = 0.15
"""The texture check leaves a pixel displaced in 15% of the recent frames to the
neighbourhood test (about 16 frames in a row from nothing, 0.65 s at 25 fps):
a dynamic background the mixture has not learnt is displaced frame after frame
(ripples starting after the warm-up: 35% of the pixels white without the limit,
2.8% with, 1.4% without the check), a passing car for a few frames.
0.2 with a 50-frame average gave the same F on every sequence within 0.001."""
RELIGHT_MIN_CHANGE = 0.1
"""Hidden pixels whose measured change of light is under 10% are left as they are."""
GHOST_MIN_HOLD = 10.0
"""The ghost test (:mod:`bgmix.kernels.ghosts`) looks at pixels held for at
least 10 frames (0.4 s at 25 fps): a moving object's pixels are held for the
few frames it covers them, a ghost or a stopped object for as long as it
lasts. The test does not depend on time (a stopped object is not explained
by the ground around it however long it stays), so testing early costs
only the scans."""
GHOST_EVERY = 10
"""The ghost test runs every 10th frame (0.4 s at 25 fps): a static blob's
answer changes slowly, and the test costs about 50-70 ns per static pixel
(an escalator clip holds a tenth of its view: 0.09 ms of a 0.6 ms frame,
0.25 ms of a 1.6 ms one on a 352x288 clip). Measured against every frame:
synthetic illumination 0.979 -> 0.973, intermittent object 0.977 -> 0.975
(the ghost goes up to 9 frames later); every 2nd frame gave 0.977 and 0.978."""
GHOST_RATIO = 2.0
"""A direction explains a held pixel when the frame there is twice as close
to the nearest background's model in that direction as to its own model."""
GHOST_MIN_PAIRS = 8
"""Blobs with fewer border pairs are left to the hold."""
GHOST_FLOOR = 8.0
"""Held pixels within 8 input levels (times ``intensity_scale``; mean absolute
difference over the channels) of their model are not tested."""
ABSORB_RATE = 10.0
"""Learning-rate factor of a pixel held past ``hold_frames``: a parked object
joins the background within about ``history / 10`` frames after the hold."""


@dataclass
class FeedbackState:
    """The per-pixel feedback planes and the frame-level state of one model."""

    height: int
    width: int
    var_threshold: float
    distance: np.ndarray = field(init=False)
    blink: np.ndarray = field(init=False)
    hold: np.ndarray = field(init=False)
    displaced: np.ndarray = field(init=False)
    previous_raw: np.ndarray = field(init=False)
    shadow_ratios: np.ndarray = field(init=False)
    threshold: np.ndarray = field(init=False)
    rate: np.ndarray = field(init=False)
    gain: float = 1.0
    light_event: bool = False

    def __post_init__(self) -> None:
        shape = (self.height, self.width)
        # The state: averages and counts from 0, the planes of a first frame.
        for name in ("distance", "blink", "hold", "displaced"):
            setattr(self, name, np.zeros(shape, np.float32))
        self.previous_raw = np.zeros(shape, np.uint8)
        self.shadow_ratios = np.zeros(SHADOW_BINS, np.float32)
        self.threshold = np.full(shape, self.var_threshold, np.float32)
        self.rate = np.ones(shape, np.float32)
        self._scratch()

    def _scratch(self) -> None:
        shape = (self.height, self.width)
        # Per-frame buffers, rebuilt after unpickling: the masks of the steps and
        # the planes the feedback writes for the next frame.
        self.raw, self.neighbour = (np.empty(shape, np.uint8) for _ in range(2))
        self.min_distance, self.next_threshold, self.next_rate = (
            np.empty(shape, np.float32) for _ in range(3))
        self.dark_pixels = np.empty(self.height * self.width, np.int64)
        self.dark_ratios = np.empty(self.height * self.width, np.float32)
        self.column = np.empty(self.width, np.int32)
        self.stack = np.empty(1, np.int64)  # hole filling's and the ghost test's, on first use
        self.tested, self.member = (np.zeros(shape, np.uint8) for _ in range(2))
        # (the frame's channel count is known at the first frame; one plane per
        # channel, reallocated there when it is not 1)
        self.seen_planes, self.model_planes = (np.empty((1, *shape), np.float32) for _ in range(2))
        self.grid = int(max(1, min(GAIN_GRID, (self.height * self.width / GAIN_SAMPLES) ** 0.5)))
        self.ratios = np.empty(len(range(self.grid // 2, self.height, self.grid))
                               * len(range(self.grid // 2, self.width, self.grid)), np.float32)
        self.enough = max(1, int(GAIN_MIN_SAMPLES * len(self.ratios)))

    SAVED = ("distance", "blink", "hold", "previous_raw", "threshold", "rate", "shadow_ratios",
             "displaced")
    """The arrays a model file keeps (with ``gain`` and ``light_event``)."""
    ADDED_LATER = ("shadow_ratios", "displaced")
    """Saved arrays that older model files lack: such a file loads with them at their start."""

    def __getstate__(self) -> dict:
        return {name: getattr(self, name) for name in
                ("height", "width", "var_threshold", *self.SAVED, "gain", "light_event")}

    def __setstate__(self, state: dict) -> None:
        state.setdefault("shadow_ratios", np.zeros(SHADOW_BINS, np.float32))  # older pickles
        state.setdefault("displaced", np.zeros((state["height"], state["width"]), np.float32))
        self.__dict__.update(state)
        self._scratch()

    # ------------------------------------------------------------------ steps
    def estimate_gain(self, frame: np.ndarray, intensity_scale: float, planes: np.ndarray,
                      n_components: int, n_modes: np.ndarray) -> float:
        """Step 1: the exposure of ``frame`` relative to the model (1: unchanged)."""
        measured = exposure_median(frame, intensity_scale, planes, n_components, n_modes,
                                   self.previous_raw, self.grid, GAIN_MIN_WEIGHT, GAIN_MIN_LEVEL,
                                   self.enough, self.ratios)
        if measured >= 0:
            self.gain = 1.0 + GAIN_FOLLOW * (float(measured) - 1.0)
        return self.gain

    def check_shadows(self, frame: np.ndarray, sample_scale: float, planes: np.ndarray,
                      n_components: int, n_modes: np.ndarray, neighbour: np.ndarray,
                      threshold: np.ndarray, shadow_value: int, below: float) -> int:
        """Step 3's shadow check on ``self.raw`` and ``neighbour``: returns how many
        shadow pixels turned foreground."""
        _, turned = consistent_shadows(frame, np.float32(sample_scale), planes, n_components, n_modes,
                                       self.raw, neighbour, self.min_distance, threshold,
                                       shadow_value, np.float32(below), *_SHADOW_TUNING,
                                       self.shadow_ratios, self.dark_pixels,
                                       self.dark_ratios)
        return turned

    def check_texture(self, frame: np.ndarray, sample_scale: float, planes: np.ndarray,
                      n_components: int, n_modes: np.ndarray, neighbour: np.ndarray,
                      background_ratio: float, intensity_scale: float, tolerance: int) -> int:
        """Step 3's texture check on ``neighbour``: returns how many of the pixels
        the neighbourhood step had cleared turned foreground again."""
        _, turned = texture_check(frame, np.float32(sample_scale), planes, n_components, n_modes,
                                  self.raw, neighbour, self.displaced, PATTERN,
                                  np.float32(background_ratio),
                                  np.float32(TEXTURE_MIN_WEIGHT), np.float32(TEXTURE_RELATIVE),
                                  np.float32(TEXTURE_FLOOR * intensity_scale), int(tolerance),
                                  np.float32(DISPLACED_STEP), np.float32(DISPLACED_MAX))
        return turned

    def finish(self, out: np.ndarray, neighbour: np.ndarray, alpha: float, *,
               median_size: int, fill: bool,
               feedback: float, hold_frames: int, light_change: float,
               warming_up: bool = False) -> None:
        """Steps 4-6 on ``self.raw`` and ``neighbour`` (the mask after the neighbourhood
        step, ``self.raw`` itself without one): write the final mask into ``out``.

        While ``warming_up`` the conservative update is off (every pixel's
        rate stays 1); :meth:`hold_settled` then holds a quiet scene's
        settled pixels.
        """
        relearn = 1.0 / alpha if alpha > 0 else 0.0
        if fill and self.stack.size < out.size:
            self.stack = np.empty(out.size, np.int64)
        self.light_event = bool(finish_frame(
            self.raw, neighbour, out, self.min_distance, self.distance, self.blink,
            self.hold, self.previous_raw, self.next_threshold, self.next_rate, self.column,
            self.stack, median_size, fill, self.var_threshold, feedback, float(hold_frames),
            ABSORB_RATE if hold_frames else 1.0, relearn, light_change, self.light_event,
            hold_frames > 0 and not warming_up))

    def relight_hidden(self, frame: np.ndarray, sample_scale: float, planes: np.ndarray,
                       n_components: int, n_modes: np.ndarray) -> int:
        """At the first frame of a light change (after :meth:`finish`): multiply the
        means of every component of the hidden pixels (held: not learnt, so their
        model is the old light's) by the change of light around them, the median
        ratio of frame to model of the nearest visible pixel to the left, right,
        above and below. Returns how many pixels changed.

        The nearest visible pixels, not a block's: a hidden pixel takes the
        light of the side of a lamp's edge it lies on wherever the edge runs.
        Runs once per light change, so it is NumPy, not a compiled kernel (no
        compile stall in a live stream the first time a lamp switches on).
        """
        height, width = self.height, self.width
        frame = frame.reshape(height, width, -1)
        n_channels = frame.shape[2]
        hidden = (self.hold > 0) & (n_modes > 0)
        if not hidden.any():
            return 0
        level = planes[n_components:n_components + n_channels, :height * width].sum(axis=0)
        level = level.reshape(height, width)
        sample = frame.sum(axis=2, dtype=np.float32) * np.float32(sample_scale)
        visible = ~hidden & (n_modes > 0) & (level > GAIN_MIN_LEVEL)
        ratio = sample / np.maximum(level, np.float32(GAIN_MIN_LEVEL))
        around = np.stack([_nearest_along(ratio, visible, axis, reverse)
                           for axis in (0, 1) for reverse in (False, True)])
        known = ~np.isnan(around)
        enough = hidden & known.any(axis=0)
        # The lower median of what was found: with two sides of an edge in a tie,
        # one side's light, not a blend that fits neither.
        change = np.nanquantile(around[:, enough], 0.5, axis=0, method="lower")
        relit = np.zeros_like(hidden)
        relit[enough] = np.abs(change - 1) > RELIGHT_MIN_CHANGE
        index = np.flatnonzero(relit)
        factor = change[relit[enough]].astype(np.float32)
        for plane in range(n_components, n_components * (1 + n_channels)):
            planes[plane, index] *= factor
        return len(index)

    def hold_settled(self, planes: np.ndarray, min_weight: float, max_flicker: float) -> int:
        """During the warm-up (after :meth:`finish` without the conservative update):
        unless more than ``max_flicker`` of the view flickers (a blink count above 0),
        the held pixels whose heaviest component (weight plane 0 of ``planes``) weighs
        at least ``min_weight`` are not learned at the next frame. Returns how many."""
        if np.count_nonzero(self.blink) > max_flicker * self.blink.size or not self.hold.any():
            return 0
        heaviest_weight = planes[0, :self.height * self.width].reshape(self.height, self.width)
        settled = self.hold > 0
        settled &= heaviest_weight >= min_weight
        settled &= self.next_rate == 1
        self.next_rate[settled] = 0.0
        return int(np.count_nonzero(settled))

    def absorb_ghosts(self, frame: np.ndarray, sample_scale: float, planes: np.ndarray,
                      n_components: int, out: np.ndarray, alpha: float,
                      intensity_scale: float) -> int:
        """After :meth:`finish`: the static held pixels that the background around them
        explains are ghosts; they leave ``out`` and re-learn at the next frame.
        Returns how many pixels were absorbed."""
        relearn = 1.0 / alpha if alpha > 0 else 0.0
        if self.stack.size < out.size:
            self.stack = np.empty(out.size, np.int64)
        frame = frame.reshape(self.height, self.width, -1)
        if self.seen_planes.shape[0] != frame.shape[2]:
            shape = (frame.shape[2], self.height, self.width)
            self.seen_planes, self.model_planes = (np.empty(shape, np.float32) for _ in range(2))
        return absorb_ghosts(frame, np.float32(sample_scale),
                             planes, n_components, self.hold, out, self.next_rate,
                             self.seen_planes, self.model_planes, self.tested, self.member,
                             self.stack,
                             np.float32(GHOST_MIN_HOLD), np.float32(TEXTURE_MIN_WEIGHT),
                             np.float32(GHOST_RATIO), np.float32(GHOST_FLOOR * intensity_scale),
                             GHOST_MIN_PAIRS, np.float32(relearn))

    def advance(self) -> None:
        """Make the planes written by :meth:`finish` those of the next frame."""
        self.threshold, self.next_threshold = self.next_threshold, self.threshold
        self.rate, self.next_rate = self.next_rate, self.rate


def _nearest_along(values: np.ndarray, valid: np.ndarray, axis: int, reverse: bool) -> np.ndarray:
    """Each pixel's value of the nearest ``valid`` pixel before it along ``axis``
    (after it when ``reverse``), itself excluded; NaN where there is none.

    Examples
    --------
    >>> v = np.array([[1.0, 2.0, 3.0, 4.0]], np.float32)
    >>> ok = np.array([[True, False, False, True]])
    >>> _nearest_along(v, ok, 1, False).tolist(), _nearest_along(v, ok, 1, True).tolist()
    ([[nan, 1.0, 1.0, 1.0]], [[4.0, 4.0, 4.0, nan]])
    """
    if reverse:
        return np.flip(_nearest_along(np.flip(values, axis), np.flip(valid, axis), axis, False), axis)
    length = values.shape[axis]
    position = np.arange(length).reshape((-1, 1) if axis == 0 else (1, -1))
    last = np.maximum.accumulate(np.where(valid, position, -1), axis=axis)
    before = np.full(values.shape, -1)  # the last valid strictly before each pixel
    if axis == 0:
        before[1:] = last[:-1]
    else:
        before[:, 1:] = last[:, :-1]
    found = np.take_along_axis(values, np.maximum(before, 0), axis=axis)
    return np.where(before >= 0, found, np.nan).astype(np.float32)
