"""Synthetic static-camera scenes with exact per-pixel ground truth.

Every scene is generated deterministically from an integer seed
(:func:`numpy.random.default_rng` streams derived from
:class:`numpy.random.SeedSequence`) and labelled with the CDnet 2014 ground-truth
values: 0 static, 50 hard shadow, 85 outside the region of interest, 170 unknown
motion and 255 motion.

Two ways to get a scene:

* :func:`make_scene` renders everything into memory and returns a frozen
  :class:`Scene` (``frames`` of shape (N, H, W, 3), ``ground_truth`` of shape (N, H, W)).
* :func:`iter_scene` returns a :class:`SceneStream`: an iterable of ``(frame, gt)``
  pairs rendered on demand, for long or large scenes (1920x1080 benchmarks) that
  should not be held in memory. It renders exactly the frames :func:`make_scene`
  would.

:func:`write_cdnet` writes either one, or any iterable of ``(frame, gt)`` pairs, in
the CDnet folder layout.

Scene kinds
-----------
Scene kinds live in a registry (:func:`scene_kinds`), one for each hard case CDnet
2014 names a category for. Every kind takes ``height``, ``width``, ``n_frames``
(default in brackets after the name), ``seed`` and ``name``, plus ``fps``,
``warmup`` (frames before the first object enters, all labelled 0 and outside the
temporal region of interest; must be < ``n_frames``), ``noise_sigma`` (white
Gaussian noise, grey levels per channel) and ``object_interval`` (mean frames
between arrivals of objects through the frame's edges, labelled 255). For the
same seed and size, most kinds draw the baseline's background picture and, with
the same ``object_interval``, the same objects: such a kind is the baseline scene
plus one difficulty.

``"baseline"`` [300]
    ``fps`` 25, ``warmup`` 30, ``noise_sigma`` 2.5, ``object_interval`` 40;
    ``multimodal`` (True): a flickering sign whose cells cycle among 2-3 colours,
    labelled 0 (``regions["multimodal"]``).
``"dynamic_background"`` [300]
    CDnet *dynamicBackground*. ``object_interval`` 50; ``water`` (0.3: height of a
    rippling water band at the bottom, as a fraction of the frame; 0 for none),
    ``foliage`` (3 swaying tree crowns), ``sway`` (3.0 px: the crowns' sway
    amplitude), ``boat_interval`` (100: frames between objects crossing the water
    band sideways, the first 2 frames after the warm-up; 0 for none). Water and
    leaves take one of 3 colours per pixel and frame (deep/mid/glint, dark
    leaf/lit leaf/sky), in spatially correlated patterns; they are labelled 0.
    ``regions``: ``"water"``, ``"foliage"``, ``"dynamic"`` (both); ``info["boats"]``.
``"camera_jitter"`` [300]
    CDnet *cameraJitter*. ``jitter`` (1.5 px): frame ``t`` shows the world shifted
    by ``info["shifts"][t] = (dx, dy)``, ``frame(y, x) = world(y + dy, x + dx)``,
    bilinearly resampled from a larger canvas; each axis is ``jitter * (0.6 sin +
    0.4 uniform(-1, 1))``, so ``|dx|, |dy| <= jitter`` and consecutive frames differ
    by at most ``0.8 jitter + 0.6 jitter * 2 pi / jitter_period`` per axis;
    ``jitter_period`` (20 frames, 27.4 along y). The camera shakes from frame 0.
    Ground truth: the objects' footprint resampled with the frame, 255 where it
    covers at least half a pixel.
``"shadow"`` [300]
    CDnet *shadow*. ``shadow_factor`` (0.6): every object casts a hard shadow, the
    background under it multiplied by this factor in all three channels (same
    chroma); ``shadow_length`` (0.6): the shadow is the object's silhouette moved
    by this many object heights, in a direction fixed per scene
    (``info["shadow_offsets"]``, (dy, dx) per object). Shadow pixels an object
    does not cover are labelled 50.
``"illumination"`` [300]
    CDnet's *lightSwitch* / *illuminationChanges* cases, labelled 0 (background
    change). The whole scene (objects too) is multiplied by a gain ramping
    linearly from 1 at ``ramp_start`` (default: ``warmup``) to ``ramp_gain``
    (0.6) over ``ramp_frames`` (240) frames (``info["gain"]``); from
    ``switch_frame`` (default ``warmup + 120``) on, a light switch multiplies
    ``regions["switch"]`` by ``switch_gain`` (1.6) more; ``switch_region``
    (``"box"``: a rectangle covering roughly a quarter to 40% of the frame;
    ``"frame"``: everything). The background is kept in [30, 170] so that the
    brightening saturates little.
``"intermittent_object"`` [400]
    CDnet *intermittentObjectMotion*. A car enters from the side at
    ``enter_frame`` (default ``warmup + 10``), parks, stands still for (at least)
    ``stop_frames`` (180) frames and drives on: labelled 255 all the time it is in
    view, stopped or not. Its stationary span is ``info["stopped"]`` (first, last
    frame, 0-based, inclusive; may reach past the clip) and its parked box
    ``info["stopped_box"]`` (y0, y1, x0, x1). ``removed_object`` (True): an object
    standing in the scene from frame 0 (labelled 0) is taken away from
    ``remove_frame`` (default ``warmup + 60``) on: 255 while it moves, the
    uncovered ground 0 (``info["removed"]``, ``info["removed_box"]``).
    ``traffic`` (True): objects also pass by (``object_interval`` 70).
``"thermal"`` [300]
    CDnet *thermal*. Frames are (H, W) uint16, one count about 0.01 K: a smooth
    background spanning about 1600 counts around ``level`` (29000) with a static
    column pattern of ``fixed_pattern`` (5) counts, objects ``contrast`` (400)
    counts warmer than the background's mean (times 0.6-1.4, with some inner
    structure), ``noise_sigma`` 8 counts.
``"low_framerate"`` [120]
    CDnet *lowFramerate*. ``fps`` 2, ``warmup`` 20, ``object_interval`` 5;
    objects move ``min_speed`` (20) to ``max_speed`` (60) pixels per frame, at
    every frame size.
``"heavy_noise"`` [300]
    Heavy sensor noise (as in CDnet's *badWeather* / *nightVideos* clips):
    ``noise_sigma`` 10 per channel, a fraction ``noise_correlation`` (0.6) of its
    variance shared by the three channels, the rest independent per channel. The
    background is kept in [45, 210] so that little noise is clipped.

``scene.info`` (and ``stream.info``) holds what the generator knows beyond the
labels: ``info["objects"]`` lists the scheduled objects (``t0``, ``t1``, ``x0``,
``y0``, ``vx``, ``vy``, ``height``, ``width``: the box's corner at frame ``t`` is
``floor(x0 + vx (t - t0)), floor(y0 + vy (t - t0))``), plus the per-kind entries
above.

A new kind is a function decorated with ``@_register_kind("name", n_frames=...)``
that takes ``(height, width, n_frames, seed, **params)``, checks the parameters and
returns ``(model, params)``: a :class:`_SceneModel`, whose ``render(t, frame, gt)``
fills frame ``t`` (0-based) in place, and the effective parameters (defaults
included). The building blocks (:func:`_make_background`, :class:`_Sprite`,
:func:`_schedule_objects`, :class:`_StreetModel`, :class:`_Sign`,
:func:`_add_noise`) are meant to be reused.

Reproducibility
---------------
Frame ``t`` depends only on the seed, the frame size, ``t`` and the kind's
parameters: the noise of every frame comes from its own seed sequence, and
objects and the sign's state are scheduled in time order. So a scene of 100
frames is exactly the first 100 frames of the same scene with 300 frames, and
``SceneStream[t]`` renders any single frame. Transcendental functions are
evaluated once, in float64, when the scene is built; per-frame arithmetic is
IEEE addition, multiplication and clipping only, so frames are bit-identical
across CPUs (NumPy does not promise that :class:`numpy.random.Generator`
streams never change between NumPy releases).

Modules
-------
:mod:`.scene` (:class:`Scene`, :class:`SceneStream`, the registry),
:mod:`.textures` (backgrounds, noise, water, foliage), :mod:`.objects`
(sprites, paths, the sign), :mod:`.street` (the baseline kind and
:class:`~bgmix.synth.street._StreetModel`), :mod:`.kinds` (the other kinds).
The CDnet layout (labels, :func:`write_cdnet`) is :mod:`bgmix.cdnet`'s.
"""

from bgmix.cdnet import (
    CDNET_LABELS,
    HARD_SHADOW,
    MOTION,
    OUTSIDE_ROI,
    STATIC,
    UNKNOWN_MOTION,
    write_cdnet,
)
from bgmix.synth import kinds as _kinds  # noqa: F401  (registers the kinds)
from bgmix.synth import street as _street  # noqa: F401  (registers the baseline)
from bgmix.synth.scene import Scene, SceneStream, iter_scene, make_scene, scene_kinds

__all__ = [
    "CDNET_LABELS",
    "HARD_SHADOW",
    "MOTION",
    "OUTSIDE_ROI",
    "STATIC",
    "UNKNOWN_MOTION",
    "Scene",
    "SceneStream",
    "iter_scene",
    "make_scene",
    "scene_kinds",
    "write_cdnet",
]
