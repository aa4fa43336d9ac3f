"""Motion events: the moments of a video in which something moves.

Per frame, the foreground mask is reduced to a few numbers (:func:`measure`):
the **area** (the fraction of the watched pixels covered by moving objects),
the number of objects (blobs), their union box and the zones they touch. An
:class:`EventDetector` turns that stream into **events**: a frame is
*active* when its area reaches ``min_area``; runs of active frames separated
by at most ``merge_gap`` seconds are one event; an event shorter than
``min_duration`` is dropped; ``pre_padding`` / ``post_padding`` seconds
around it make its clip. Frames before ``warmup`` are never active (the
model is still learning the scene).

Times come from the video's timestamps when the caller has them
(``timestamp`` per frame), else from ``index / fps``. Frame numbers in an
:class:`Event` count from 1, as in MOT files; ``start_s`` is the timestamp of
the first active frame and ``end_s`` the end of the last one (the next
frame's timestamp), so ``duration_s = end_s - start_s`` and a single frame at
25 fps lasts 0.04 s.

Three levels:

* :class:`EventDetector` - streaming, fed one frame's numbers at a time;
  yields each event once it can no longer grow and its post padding has
  passed.
* :class:`EventRecorder` - fed one mask at a time: measures it (ROI, zones,
  speck removal), feeds a detector for the whole view and one per zone, and
  keeps the activity timeline for :mod:`bgmix.report`.
* :func:`detect_events` over a whole sequence of areas, and
  :func:`find_events`, which runs the model over a source.

:func:`write_events_csv` writes events atomically; :func:`read_events_csv`
reads them back.

Defaults
--------
Measured on an outdoor scene with swaying trees and one passing car
(``bgmix.synth`` ``dynamic_background``, 320x240, default
``BackgroundMixture()``), on the bundled ``videos/dynamic_background.avi`` and
on the real outdoor clips of ``../shared/data`` (table in ``docs/events.md``):

``opening = 3``, ``min_blob_area = 0.0005``
    Swaying leaves and sensor noise make the raw mask flicker over up to
    2.6% of the frame, but in specks: after a 3x3 opening no blob of the
    trees reaches 0.05% of the frame (38 pixels at 320x240) while a car is
    hundreds to thousands of pixels. Only blobs of at least
    ``min_blob_area`` of the watched area count.
``min_area = 0.002``
    0.2% of the watched pixels (154 pixels at 320x240, 461 at 640x360,
    4147 at 1920x1080: a person at 30-50 m on a typical wide-angle camera).
    Four times the largest tree blob; reached within 2-4 frames of a car
    entering the picture.
``min_duration = 0.5`` s
    Real objects take seconds to cross a view; a bird, a leaf blowing past
    or a compression burst lasts a few frames.
``merge_gap = 2.0`` s
    An object that stops, is hidden behind a post or splits for a moment
    stays one event, and two cars a second apart are one moment to look at.
``pre_padding = 1.5`` s, ``post_padding = 2.0`` s
    Clips show the scene just before and after (DVR-Scan's defaults).
``warmup = 30`` frames
    The first frames of a fresh model are its learning phase (it starts from
    the first frame as the background); with a bootstrap (``--bootstrap N``)
    use ``warmup=0``.

Examples
--------
>>> fps = 10.0
>>> areas = [0.0] * 40 + [0.01] * 20 + [0.0] * 40      # motion from frame 41 to 60
>>> [event] = detect_events(areas, fps=fps, warmup=0)
>>> event.start_frame, event.end_frame, event.start_s, event.end_s, event.duration_s
(41, 60, 4.0, 6.0, 2.0)
>>> event.clip_start_frame, event.clip_end_frame    # 1.5 s before, 2 s after
(26, 80)

One module over 600 lines: the per-frame measure, the streaming detector,
the recorder that drives both for the whole view and each zone, and the CSV
format are one contract (what an event is), and most of the length is their
documentation and the reasons for the defaults.
"""

from __future__ import annotations

import array
import contextlib
import csv
import io
import math
import os
import secrets
from collections import deque
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field, fields, replace
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bgmix.zones import ZoneSet, apply_roi

__all__ = ["DEFAULT_PARAMS", "Activity", "Event", "EventDetector", "EventParams",
           "EventRecorder", "atomic_write", "detect_events", "find_events", "measure", "read_events_csv",
           "write_events_csv", "zone_csv_path"]

_EPS = 1e-9


# --------------------------------------------------------------------------- parameters


def _number(name: str, value: Any, low: float, high: float = math.inf, *,
            integer: bool = False) -> Any:
    if isinstance(value, bool) or not isinstance(value, (int, float, np.integer, np.floating)):
        raise ValueError(f"{name} must be a number, got {value!r}")
    if integer and float(value) != int(value):
        raise ValueError(f"{name} must be a whole number, got {value!r}")
    value = int(value) if integer else float(value)
    if not (math.isfinite(value) and low <= value <= high):
        bounds = f">= {low:g}" if high == math.inf else f"in [{low:g}, {high:g}]"
        raise ValueError(f"{name} must be {bounds}, got {value!r}")
    return value


@dataclass(frozen=True)
class EventParams:
    """How per-frame foreground becomes events; see the module docstring for
    why these defaults.

    Parameters
    ----------
    min_area : float, default 0.002
        A frame is active when moving objects cover at least this fraction
        of the watched pixels (the ROI, or the frame). For zone events too:
        the area of objects inside the zone, still as a fraction of the
        watched pixels, so the same object size triggers everywhere.
    min_blob_area : float, default 0.0005
        Blobs smaller than this fraction of the watched pixels are specks
        (leaves, noise) and do not count.
    opening : int, default 3
        Size of the square morphological opening applied to the foreground
        before blobs are found (0 or 1: none).
    min_duration : float, default 0.5
        Seconds; shorter events (after merging) are dropped.
    merge_gap : float, default 2.0
        Seconds; events whose motion is at most this far apart are one.
    pre_padding, post_padding : float, default 1.5, 2.0
        Seconds of video kept before and after an event's motion in its clip.
    warmup : int, default 30
        Frames (0-based indices below this) that are never active.
    """

    min_area: float = 0.002
    min_blob_area: float = 0.0005
    opening: int = 3
    min_duration: float = 0.5
    merge_gap: float = 2.0
    pre_padding: float = 1.5
    post_padding: float = 2.0
    warmup: int = 30

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "min_area", _number("min_area", self.min_area, 0.0, 1.0))
        set_(self, "min_blob_area", _number("min_blob_area", self.min_blob_area, 0.0, 1.0))
        set_(self, "opening", _number("opening", self.opening, 0, 31, integer=True))
        for name in ("min_duration", "merge_gap", "pre_padding", "post_padding"):
            set_(self, name, _number(name, getattr(self, name), 0.0))
        set_(self, "warmup", _number("warmup", self.warmup, 0, integer=True))
        if self.min_area == 0.0:
            raise ValueError("min_area must be > 0 (a fraction of the watched pixels, e.g. 0.002)")

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


DEFAULT_PARAMS = EventParams()


def _params(params: EventParams | Mapping[str, Any] | None, overrides: Mapping[str, Any]) -> EventParams:
    if params is None:
        params = EventParams()
    elif isinstance(params, Mapping):
        params = EventParams(**params)
    elif not isinstance(params, EventParams):
        raise ValueError(f"params must be an EventParams or a dict, got {type(params).__name__}")
    if overrides:
        unknown = sorted(set(overrides) - {f.name for f in fields(EventParams)})
        if unknown:
            raise TypeError(f"unknown event parameter(s) {unknown}; known: "
                            f"{[f.name for f in fields(EventParams)]}")
        params = replace(params, **overrides)
    return params


# --------------------------------------------------------------------------- events


@dataclass(frozen=True)
class Event:
    """One motion event.

    Attributes
    ----------
    number : int
        1, 2, ... in order of start, per list (whole view, or one zone).
    start_frame, end_frame : int
        First and last active frame, 1-based, inclusive (MOT numbering).
    start_s, end_s : float
        Timestamp of the first active frame; end of the last one (the next
        frame's timestamp). ``duration_s = end_s - start_s``.
    peak_area : float
        Largest fraction of the watched pixels covered by objects.
    peak_frame : int
        1-based frame of ``peak_area``.
    peak_blobs : int
        Largest number of objects (blobs) in one frame of the event.
    peak_box : tuple or None
        ``(x1, y1, x2, y2)`` (exclusive) around the objects of the peak frame.
    zones : tuple of str
        Zones touched by an object during the event.
    zone : str or None
        None for an event of the whole view; the zone's name for an event of
        a zone-only list.
    clip_start_frame, clip_end_frame, clip_start_s, clip_end_s
        The padded span (1-based inclusive frames; ``clip_end_s`` exclusive),
        clamped to the video.
    """

    number: int
    start_frame: int
    end_frame: int
    start_s: float
    end_s: float
    peak_area: float
    peak_frame: int
    peak_blobs: int
    clip_start_frame: int
    clip_end_frame: int
    clip_start_s: float
    clip_end_s: float
    zones: tuple[str, ...] = ()
    zone: str | None = None
    peak_box: tuple[int, int, int, int] | None = None

    @property
    def duration_s(self) -> float:
        return self.end_s - self.start_s

    @property
    def frames(self) -> int:
        """Frames from the first to the last active one."""
        return self.end_frame - self.start_frame + 1

    def to_row(self) -> dict[str, Any]:
        """The CSV row: numbers rounded (seconds to the millisecond)."""
        box = "" if self.peak_box is None else " ".join(str(v) for v in self.peak_box)
        return {"event": self.number, "zone": self.zone or "",
                "start_frame": self.start_frame, "end_frame": self.end_frame,
                "start_s": f"{self.start_s:.3f}", "end_s": f"{self.end_s:.3f}",
                "duration_s": f"{self.duration_s:.3f}", "peak_area": f"{self.peak_area:.6f}",
                "peak_blobs": self.peak_blobs, "peak_frame": self.peak_frame,
                "peak_box": box, "zones": ";".join(self.zones),
                "clip_start_frame": self.clip_start_frame, "clip_end_frame": self.clip_end_frame,
                "clip_start_s": f"{self.clip_start_s:.3f}", "clip_end_s": f"{self.clip_end_s:.3f}"}


CSV_COLUMNS = ("event", "zone", "start_frame", "end_frame", "start_s", "end_s", "duration_s",
               "peak_area", "peak_blobs", "peak_frame", "peak_box", "zones",
               "clip_start_frame", "clip_end_frame", "clip_start_s", "clip_end_s")
"""Columns of the events CSV, in order."""


@dataclass
class _Open:
    start_index: int
    start_ts: float
    clip_start_index: int
    clip_start_ts: float
    last_index: int
    end_ts: float | None = None        # None until the frame after the last active one arrives
    peak_area: float = 0.0
    peak_index: int = 0
    peak_blobs: int = 0
    peak_box: tuple[int, int, int, int] | None = None
    zones: set[str] = field(default_factory=set)
    clip_end_index: int = 0
    clip_end_ts: float = 0.0
    clip_done: bool = False            # the first frame past the post padding was seen

    def take(self, index: int, area: float, blobs: int, zones: Iterable[str],
             box: tuple[int, int, int, int] | None) -> None:
        self.last_index = index
        self.end_ts = None
        self.clip_end_index = index
        self.clip_done = False
        if area > self.peak_area:
            self.peak_area, self.peak_index, self.peak_box = area, index, box
        self.peak_blobs = max(self.peak_blobs, int(blobs))
        self.zones.update(zones)


class EventDetector:
    """Streaming event detection over per-frame numbers.

    Feed every frame in order with :meth:`update`; it returns the events that
    closed at that frame (an event closes once no later motion can merge
    into it and its post padding has passed). :meth:`finish` closes the rest
    at the end of the stream. ``events`` holds every event so far.

    Parameters
    ----------
    params : EventParams or dict, optional
    zone : str, optional
        Recorded in each event's ``zone`` (for zone-only lists).
    fps : float, optional
        Used for the last frame's length when the stream holds one frame.
    **overrides
        EventParams fields, e.g. ``min_area=0.01``.

    Examples
    --------
    >>> detector = EventDetector(warmup=0, min_duration=0.0, merge_gap=0.0,
    ...                          pre_padding=0.0, post_padding=0.0)
    >>> closed = []
    >>> for i, area in enumerate([0, 0.5, 0.5, 0, 0, 0.5, 0]):
    ...     closed += detector.update(i, i * 1.0, area)
    >>> closed += detector.finish()
    >>> [(e.start_frame, e.end_frame, e.duration_s) for e in closed]
    [(2, 3, 2.0), (6, 6, 1.0)]
    """

    def __init__(self, params: EventParams | Mapping[str, Any] | None = None, *,
                 zone: str | None = None, fps: float | None = None, **overrides: Any) -> None:
        self.params = _params(params, overrides)
        self.zone = zone
        self.fps = None if fps is None else _number("fps", fps, 0.0)
        self.events: list[Event] = []
        self._open: _Open | None = None          # may still grow
        self._closing: list[_Open] = []          # cannot grow; waiting for their post padding
        self._history: deque[tuple[int, float]] = deque()
        self._last: tuple[int, float] | None = None
        self._period = 0.0
        self._finished = False

    @property
    def in_progress(self) -> dict[str, Any] | None:
        """The event growing now (not yet closed, maybe still too short), or None:
        ``{"start_frame", "peak_frame", "peak_area"}`` (1-based frames). A live
        loop keeps a thumbnail of the frame whose number is ``peak_frame``.

        Examples
        --------
        >>> detector = EventDetector(warmup=0)
        >>> _ = detector.update(0, 0.0, 0.0), detector.update(1, 0.04, 0.01)
        >>> detector.in_progress
        {'start_frame': 2, 'peak_frame': 2, 'peak_area': 0.01}
        """
        item = self._open
        if item is None:
            return None
        return {"start_frame": item.start_index + 1, "peak_frame": item.peak_index + 1,
                "peak_area": item.peak_area}

    def _period_s(self) -> float:
        if self._period > 0:
            return self._period
        return 1.0 / self.fps if self.fps else 0.0

    def _emit(self, item: _Open) -> Event | None:
        assert item.end_ts is not None
        if item.end_ts - item.start_ts < self.params.min_duration - _EPS:
            return None
        event = Event(number=len(self.events) + 1,
                      start_frame=item.start_index + 1, end_frame=item.last_index + 1,
                      start_s=item.start_ts, end_s=item.end_ts, peak_area=item.peak_area,
                      peak_frame=item.peak_index + 1, peak_blobs=item.peak_blobs,
                      clip_start_frame=item.clip_start_index + 1,
                      clip_end_frame=item.clip_end_index + 1,
                      clip_start_s=item.clip_start_ts, clip_end_s=item.clip_end_ts,
                      zones=tuple(sorted(item.zones)), zone=self.zone, peak_box=item.peak_box)
        self.events.append(event)
        return event

    def update(self, index: int, timestamp: float, area: float, blobs: int = 0,
               zones: Iterable[str] = (), box: tuple[int, int, int, int] | None = None) -> list[Event]:
        """Take one frame; return the events that closed.

        Parameters
        ----------
        index : int
            0-based frame index (increasing; gaps allowed, e.g. dropped frames).
        timestamp : float
            Seconds (increasing), from the video's timestamps or ``index / fps``.
        area : float
            Fraction of the watched pixels covered by objects.
        blobs : int
            Objects in the frame.
        zones : iterable of str
            Zones an object touches in this frame.
        box : (x1, y1, x2, y2), optional
            Around this frame's objects (kept for the peak frame).
        """
        if self._finished:
            raise ValueError("update() after finish(): use a new EventDetector")
        index, timestamp = int(index), float(timestamp)
        if not math.isfinite(timestamp):
            raise ValueError(f"frame {index}: timestamp must be finite, got {timestamp!r}")
        if self._last is not None:
            last_index, last_ts = self._last
            if index <= last_index:
                raise ValueError(f"frame indices must increase: {index} after {last_index}")
            if timestamp < last_ts:
                raise ValueError(f"frame {index}: timestamp {timestamp} is before the previous "
                                 f"frame's {last_ts}")
            if timestamp > last_ts:
                self._period = timestamp - last_ts
        p = self.params
        closed: list[Event] = []
        # The previous frame was the last active one so far: this one ends it.
        if self._open is not None and self._open.end_ts is None:
            self._open.end_ts = timestamp
        waiting = self._closing + ([self._open] if self._open is not None else [])
        # This frame inside an event's post padding extends its clip; the first
        # frame past it is where the clip ends.
        for item in waiting:
            if item.end_ts is not None and not item.clip_done:
                if timestamp < item.end_ts + p.post_padding - _EPS:
                    item.clip_end_index = index
                else:
                    item.clip_done, item.clip_end_ts = True, timestamp
        # An event that can no longer merge stops growing ...
        if self._open is not None and self._open.end_ts is not None \
                and timestamp - self._open.end_ts > p.merge_gap + _EPS:
            self._closing.append(self._open)
            self._open = None
        # ... and closes once its clip is complete.
        still = []
        for item in self._closing:
            if item.clip_done:
                event = self._emit(item)
                if event is not None:
                    closed.append(event)
            else:
                still.append(item)
        self._closing = still
        # Pre-padding history: the frames a clip starting now may open with.
        while self._history and self._history[0][1] < timestamp - p.pre_padding - _EPS:
            self._history.popleft()
        self._history.append((index, timestamp))
        if index >= p.warmup and float(area) >= p.min_area:
            if self._open is None:
                clip_index, clip_ts = self._history[0]
                self._open = _Open(start_index=index, start_ts=timestamp,
                                   clip_start_index=clip_index, clip_start_ts=clip_ts,
                                   last_index=index)
            self._open.take(index, float(area), int(blobs), zones, box)
        self._last = (index, timestamp)
        return closed

    def finish(self) -> list[Event]:
        """End of the stream: close every event still open; return them."""
        if self._finished:
            return []
        self._finished = True
        closed: list[Event] = []
        if self._last is None:
            return closed
        last_index, last_ts = self._last
        end_of_video = last_ts + self._period_s()
        items = self._closing + ([self._open] if self._open is not None else [])
        self._closing, self._open = [], None
        for item in items:
            if item.end_ts is None:           # active up to the last frame
                item.end_ts = end_of_video
            if not item.clip_done:            # the video ends inside the post padding
                item.clip_end_ts = end_of_video
            event = self._emit(item)
            if event is not None:
                closed.append(event)
        return closed


# --------------------------------------------------------------------------- measuring masks


@dataclass(frozen=True)
class Activity:
    """What :func:`measure` finds in one mask.

    Attributes
    ----------
    area : float
        Fraction of the watched pixels covered by counted blobs.
    boxes : numpy.ndarray
        (N, 4) int32 ``x1, y1, x2, y2`` (exclusive) of the counted blobs.
    areas : numpy.ndarray
        (N,) int64 pixel counts of the counted blobs.
    blob_zones : list of tuple of str
        For each counted blob, the zones it touches.
    zone_areas : dict of str to float
        Per zone: counted-blob pixels inside the zone / watched pixels.
    zone_blobs : dict of str to int
        Per zone: counted blobs touching it.
    """

    area: float
    boxes: np.ndarray
    areas: np.ndarray
    blob_zones: list[tuple[str, ...]]
    zone_areas: dict[str, float]
    zone_blobs: dict[str, int]

    @property
    def blobs(self) -> int:
        return len(self.boxes)

    @property
    def zones(self) -> tuple[str, ...]:
        """Zones touched by a counted blob."""
        return tuple(name for name, n in self.zone_blobs.items() if n)

    @property
    def box(self) -> tuple[int, int, int, int] | None:
        """The union of the counted blobs' boxes (None without blobs)."""
        if not len(self.boxes):
            return None
        return (int(self.boxes[:, 0].min()), int(self.boxes[:, 1].min()),
                int(self.boxes[:, 2].max()), int(self.boxes[:, 3].max()))


def measure(mask: np.ndarray, *, roi: np.ndarray | None = None, zones: ZoneSet | None = None,
            opening: int = DEFAULT_PARAMS.opening,
            min_blob_area: float = DEFAULT_PARAMS.min_blob_area) -> Activity:
    """Reduce one mask to the numbers events are made of.

    The foreground is ``mask >= 128`` (255; shadows, 127, are not), inside
    ``roi`` when given; it is opened with a ``opening`` x ``opening`` square,
    split into 8-connected blobs, and blobs of fewer than ``min_blob_area``
    times the watched pixels are dropped as specks.

    Examples
    --------
    >>> mask = np.zeros((100, 100), np.uint8)
    >>> mask[10:30, 10:40] = 255                 # an object: 600 px
    >>> mask[80, 80] = mask[60, 5] = 255         # specks
    >>> activity = measure(mask)
    >>> activity.area, activity.blobs, activity.box
    (0.06, 1, (10, 10, 40, 30))
    """
    if not isinstance(mask, np.ndarray) or mask.ndim != 2:
        raise ValueError(f"a mask must be an (H, W) array, got {getattr(mask, 'shape', None)}")
    fg = (mask >= 128).astype(np.uint8)
    if roi is not None:
        fg = apply_roi(fg, roi)
        watched = int(np.count_nonzero(roi))
    else:
        watched = fg.size
    if opening > 1:
        fg = cv2.morphologyEx(fg, cv2.MORPH_OPEN, np.ones((opening, opening), np.uint8))
    n, labels, stats, _ = cv2.connectedComponentsWithStats(fg, connectivity=8)
    areas = stats[1:, cv2.CC_STAT_AREA].astype(np.int64)
    keep = areas >= max(1, math.ceil(min_blob_area * watched - _EPS))
    kept_ids = np.flatnonzero(keep) + 1
    x, y = stats[kept_ids, cv2.CC_STAT_LEFT], stats[kept_ids, cv2.CC_STAT_TOP]
    boxes = np.stack([x, y, x + stats[kept_ids, cv2.CC_STAT_WIDTH],
                      y + stats[kept_ids, cv2.CC_STAT_HEIGHT]], axis=1).astype(np.int32)
    kept_areas = areas[keep]
    area = float(kept_areas.sum()) / watched if watched else 0.0
    blob_zones: list[tuple[str, ...]] = [() for _ in kept_ids]
    zone_areas: dict[str, float] = {}
    zone_blobs: dict[str, int] = {}
    if zones is not None and len(zones):
        # pixels of each OpenCV label inside each zone; only the counted blobs matter
        touched: list[list[str]] = [[] for _ in kept_ids]
        for name, counts in zones.label_counts(labels, n).items():
            inside = counts[kept_ids]
            zone_areas[name] = float(inside.sum()) / watched if watched else 0.0
            hits = np.flatnonzero(inside)
            zone_blobs[name] = len(hits)
            for i in hits.tolist():
                touched[i].append(name)
        blob_zones = [tuple(t) for t in touched]
    return Activity(area=area, boxes=boxes, areas=kept_areas, blob_zones=blob_zones,
                    zone_areas=zone_areas, zone_blobs=zone_blobs)


# --------------------------------------------------------------------------- recorder


class EventRecorder:
    """Masks in, events out: measure each mask, detect events for the whole
    view and for each zone, keep the activity timeline.

    Parameters
    ----------
    params : EventParams or dict, optional
    roi : bool (H, W) array, optional
        From :func:`bgmix.zones.load_roi`.
    zones : sequence of Zone or ``name=...`` strings, or a ZoneSet, optional
        Rasterised at the first mask (its size is the frame size).
    fps : float, optional
        For ``update`` calls without a timestamp (``timestamp = index / fps``)
        and the last frame's length.
    **overrides
        EventParams fields.

    Attributes
    ----------
    events : list of Event
        Whole-view events closed so far (all of them after :meth:`finish`).
    zone_events : dict of str to list of Event
        Zone-only event lists.
    timeline : dict of numpy arrays
        ``index`` (0-based), ``timestamp`` (s), ``area``, ``blobs``, one entry
        per frame given (:meth:`timeline_arrays`).

    Examples
    --------
    >>> recorder = EventRecorder(fps=10, warmup=0, zones=["left=0,0,9,0,9,19,0,19"])
    >>> for i in range(60):
    ...     mask = np.zeros((20, 40), np.uint8)
    ...     if 10 <= i < 30:
    ...         mask[5:15, 2:12] = 255            # in the left zone
    ...     _ = recorder.update(i, mask)
    >>> events = recorder.finish()
    >>> [(e.start_frame, e.end_frame, e.zones) for e in recorder.events]
    [(11, 30, ('left',))]
    >>> [(e.zone, e.start_frame) for e in recorder.zone_events["left"]]
    [('left', 11)]
    """

    def __init__(self, params: EventParams | Mapping[str, Any] | None = None, *,
                 roi: np.ndarray | None = None, zones: Any = None, fps: float | None = None,
                 **overrides: Any) -> None:
        self.params = _params(params, overrides)
        self.roi = None if roi is None else np.asarray(roi, bool)
        self._zone_spec = zones
        self.zones: ZoneSet | None = zones if isinstance(zones, ZoneSet) else None
        self.fps = None if fps is None else _number("fps", fps, 0.0)
        if self.fps == 0.0:
            raise ValueError("fps must be > 0")
        self.detector = EventDetector(self.params, fps=self.fps)
        self.zone_detectors: dict[str, EventDetector] = {}
        if self.zones is not None:
            self._make_zone_detectors()
        self._index = array.array("q")
        self._ts = array.array("d")
        self._area = array.array("f")
        self._blobs = array.array("i")
        self.frame_size: tuple[int, int] | None = None

    def _make_zone_detectors(self) -> None:
        assert self.zones is not None
        self.zone_detectors = {name: EventDetector(self.params, zone=name, fps=self.fps)
                               for name in self.zones.names}

    @property
    def events(self) -> list[Event]:
        return self.detector.events

    @property
    def zone_events(self) -> dict[str, list[Event]]:
        return {name: d.events for name, d in self.zone_detectors.items()}

    def update(self, index: int, mask: np.ndarray, timestamp: float | None = None) -> Activity:
        """Measure frame ``index``'s mask and feed the detectors; returns its
        :class:`Activity` (for blob zones in JSON lines, say). Closed events
        appear in ``events`` / ``zone_events``."""
        if timestamp is None:
            if self.fps is None:
                raise ValueError("EventRecorder.update needs a timestamp, or fps= when created")
            timestamp = index / self.fps
        if self.frame_size is None:
            self.frame_size = (int(mask.shape[1]), int(mask.shape[0]))
            if self.roi is not None and self.roi.shape != mask.shape:
                raise ValueError(f"the ROI is {self.roi.shape[1]}x{self.roi.shape[0]} but the "
                                 f"frames are {mask.shape[1]}x{mask.shape[0]}")
            if self.zones is None and self._zone_spec:
                self.zones = ZoneSet(self._zone_spec, self.frame_size, roi=self.roi)
                self._make_zone_detectors()
        activity = measure(mask, roi=self.roi, zones=self.zones, opening=self.params.opening,
                           min_blob_area=self.params.min_blob_area)
        self.detector.update(index, timestamp, activity.area, activity.blobs, activity.zones,
                             activity.box)
        for name, detector in self.zone_detectors.items():
            detector.update(index, timestamp, activity.zone_areas[name],
                            activity.zone_blobs[name], (name,) if activity.zone_blobs[name] else (),
                            _zone_box(activity, name))
        self._index.append(int(index))
        self._ts.append(float(timestamp))
        self._area.append(activity.area)
        self._blobs.append(activity.blobs)
        return activity

    def finish(self) -> list[Event]:
        """Close everything; returns the whole-view events (all of them)."""
        self.detector.finish()
        for detector in self.zone_detectors.values():
            detector.finish()
        return self.events

    def timeline_arrays(self) -> dict[str, np.ndarray]:
        """The per-frame activity so far as NumPy arrays (copies)."""
        return {"index": np.frombuffer(self._index, np.int64).copy(),
                "timestamp": np.frombuffer(self._ts, np.float64).copy(),
                "area": np.frombuffer(self._area, np.float32).copy(),
                "blobs": np.frombuffer(self._blobs, np.int32).copy()}

    timeline = property(timeline_arrays)


def _zone_box(activity: Activity, name: str) -> tuple[int, int, int, int] | None:
    chosen = [i for i, touched in enumerate(activity.blob_zones) if name in touched]
    if not chosen:
        return None
    boxes = activity.boxes[chosen]
    return (int(boxes[:, 0].min()), int(boxes[:, 1].min()), int(boxes[:, 2].max()),
            int(boxes[:, 3].max()))


# --------------------------------------------------------------------------- whole sequences


def detect_events(areas: Sequence[float] | np.ndarray, *, timestamps: Sequence[float] | None = None,
                  fps: float | None = None, blobs: Sequence[int] | None = None,
                  zones: Sequence[Iterable[str]] | None = None,
                  indices: Sequence[int] | None = None,
                  params: EventParams | Mapping[str, Any] | None = None,
                  zone: str | None = None, **overrides: Any) -> list[Event]:
    """Events of a whole sequence of per-frame areas (fractions of the watched pixels).

    ``timestamps`` (seconds per frame) or ``fps`` gives the times; ``blobs``
    and ``zones`` the per-frame object counts and touched zones; ``indices``
    the 0-based frame indices (default 0, 1, 2, ...).

    Examples
    --------
    >>> areas = [0.0] * 10 + [0.01] * 30 + [0.0] * 10 + [0.01] * 30 + [0.0] * 100
    >>> [(e.start_frame, e.end_frame) for e in detect_events(areas, fps=25, warmup=0)]
    [(11, 80)]
    >>> [(e.start_frame, e.end_frame) for e in detect_events(areas, fps=25, warmup=0, merge_gap=0.2)]
    [(11, 40), (51, 80)]
    """
    areas = np.asarray(areas, np.float64).ravel()
    n = len(areas)
    if timestamps is None:
        if fps is None:
            raise ValueError("detect_events needs timestamps= or fps=")
        fps = _number("fps", fps, 0.0)
        if fps == 0:
            raise ValueError("fps must be > 0")
    for name, values in (("timestamps", timestamps), ("blobs", blobs), ("zones", zones),
                         ("indices", indices)):
        if values is not None and len(values) != n:
            raise ValueError(f"{name} has {len(values)} entries for {n} areas")
    detector = EventDetector(params, zone=zone, fps=fps, **overrides)
    for i in range(n):
        index = i if indices is None else int(indices[i])
        ts = index / fps if timestamps is None else float(timestamps[i])
        detector.update(index, ts, float(areas[i]), 0 if blobs is None else int(blobs[i]),
                        () if zones is None else zones[i])
    detector.finish()
    return detector.events


def find_events(source: Any, *, model: Any = None, roi: np.ndarray | str | os.PathLike[str] | None = None,
                zones: Any = None, params: EventParams | Mapping[str, Any] | None = None,
                fps: float | None = None, max_frames: int | None = None,
                bootstrap: int | None = None, on_frame: Any = None,
                **overrides: Any) -> EventRecorder:
    """Run background subtraction over ``source`` and detect its events.

    Parameters
    ----------
    source
        Anything :func:`bgmix.process` takes (a video file, an image folder,
        an array of frames...).
    model : BackgroundMixture, optional
        Default ``BackgroundMixture()``.
    roi : bool array or path to a mask image, optional
    zones : Zones (``name=...`` strings, Zone objects), optional
    params, **overrides
        EventParams. With ``bootstrap`` the default ``warmup`` is 0.
    fps : float, optional
        Frame rate for timestamps (``index / fps``); default the source's,
        else 25.
    on_frame : callable, optional
        ``on_frame(result, activity)`` for every frame (results of
        :func:`bgmix.process`).

    Returns
    -------
    EventRecorder
        Finished: ``events``, ``zone_events``, ``timeline``, ``fps`` set.
    """
    from bgmix import process
    from bgmix.zones import load_roi

    if bootstrap is not None and "warmup" not in overrides and not (
            isinstance(params, Mapping) and "warmup" in params):
        overrides = {**overrides, "warmup": 0}
    if roi is not None and not isinstance(roi, np.ndarray):
        roi = load_roi(roi)
    kwargs: dict[str, Any] = {"blobs": False, "max_frames": max_frames}
    if bootstrap is not None:
        kwargs["bootstrap"] = bootstrap
    with process(source, model, **kwargs) as results:
        source_fps = getattr(results.source, "fps", None)
        rate = fps or source_fps or 25.0
        recorder = EventRecorder(params, roi=roi, zones=zones, fps=rate, **overrides)
        for result in results:
            activity = recorder.update(result.index, result.mask)
            if on_frame is not None:
                on_frame(result, activity)
    recorder.finish()
    return recorder


# --------------------------------------------------------------------------- CSV


def _create_temp(final: Path, suffix: str = ".part") -> tuple[int, Path]:
    """Create a hidden, unique file next to ``final``, opened for writing, with
    the permissions an ordinary new file gets (0666 less the umask; unlike
    ``tempfile.mkstemp``'s 0600), which it keeps when renamed to ``final``."""
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_BINARY", 0)
    for _ in range(100):
        tmp = final.with_name(f".{final.name}.{secrets.token_hex(4)}{suffix}")
        try:
            return os.open(tmp, flags, 0o666), tmp
        except FileExistsError:
            continue
    raise FileExistsError(f"cannot create a temporary file next to {final}")  # pragma: no cover


def atomic_write(path: str | os.PathLike[str], data: str | bytes) -> Path:
    """Write ``data`` to a temporary file in ``path``'s folder, then rename it
    to ``path`` (``os.replace``): readers see the old file or the new one,
    never a part. On failure the temporary file is removed."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    payload = data.encode("utf-8") if isinstance(data, str) else data
    fd, tmp = _create_temp(path)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(payload)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(OSError):
            os.unlink(tmp)
        raise
    return path


def write_events_csv(path: str | os.PathLike[str], events: Iterable[Event]) -> Path:
    """Write events as CSV (:data:`CSV_COLUMNS`, one row per event, a header).

    Written to a temporary name in the same folder, then renamed: the file
    is never seen half written.

    Examples
    --------
    >>> import tempfile
    >>> events = detect_events([0.0] * 5 + [0.01] * 25 + [0.0] * 5, fps=25, warmup=0)
    >>> path = write_events_csv(Path(tempfile.mkdtemp()) / "events.csv", events)
    >>> path.read_text().splitlines()[1]
    '1,,6,30,0.200,1.200,1.000,0.010000,0,6,,,1,35,0.000,1.400'
    >>> [e.to_row() for e in read_events_csv(path)] == [e.to_row() for e in events]
    True
    """
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=CSV_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for event in events:
        writer.writerow(event.to_row())
    return atomic_write(path, buffer.getvalue())


def read_events_csv(path: str | os.PathLike[str]) -> list[Event]:
    """Read a file :func:`write_events_csv` wrote (times to the millisecond)."""
    path = Path(path)
    events = []
    with path.open(encoding="utf-8", newline="") as handle:
        reader = csv.DictReader(handle)
        if reader.fieldnames is None or tuple(reader.fieldnames) != CSV_COLUMNS:
            raise ValueError(f"{path}: not an events CSV (expected the columns {','.join(CSV_COLUMNS)})")
        for line, row in enumerate(reader, start=2):
            try:
                box = tuple(int(v) for v in row["peak_box"].split()) if row["peak_box"] else None
                events.append(Event(
                    number=int(row["event"]), zone=row["zone"] or None,
                    start_frame=int(row["start_frame"]), end_frame=int(row["end_frame"]),
                    start_s=float(row["start_s"]), end_s=float(row["end_s"]),
                    peak_area=float(row["peak_area"]), peak_blobs=int(row["peak_blobs"]),
                    peak_frame=int(row["peak_frame"]), peak_box=box,  # type: ignore[arg-type]
                    zones=tuple(z for z in row["zones"].split(";") if z),
                    clip_start_frame=int(row["clip_start_frame"]),
                    clip_end_frame=int(row["clip_end_frame"]),
                    clip_start_s=float(row["clip_start_s"]), clip_end_s=float(row["clip_end_s"])))
            except (TypeError, ValueError) as exc:
                raise ValueError(f"{path}, line {line}: {exc}") from None
    return events


def zone_csv_path(path: str | os.PathLike[str], zone: str) -> Path:
    """Where a zone's event list goes next to the whole-view list:
    ``events.csv`` -> ``events-door.csv``.

    Examples
    --------
    >>> zone_csv_path("out/events.csv", "door").as_posix()
    'out/events-door.csv'
    """
    from bgmix.outputs.tables import zone_path

    path = Path(path)
    return zone_path(path if path.suffix else path.with_suffix(".csv"), zone)
