"""A page to look at: ``report.html`` per video, ``index.html`` per batch.

:func:`write_report` writes one self-contained HTML file (no script, no
style sheet, font or image fetched from anywhere: it opens from a USB stick
or an e-mail attachment) with

* an **activity timeline**: an inline SVG of the foreground area over time
  (the fraction of the watched pixels covered by moving objects, the same
  number events are detected on), the ``min_area`` threshold as a dashed
  line, each event as a numbered orange band, and one row of marks per zone
  for the zone-only events;
* a **thumbnail** per event: the frame of its peak, its objects boxed
  (JPEG, base64 in the page), from :func:`event_thumbnails`;
* a **table** of the events: start, end, duration, peak area, peak object
  count, zones, and a link to the event's clip when there is one.

The events are also embedded as JSON (``<script type="application/json"
id="bgmix-events">``) for programs. :func:`write_index` writes a batch's
``index.html``: one row per video with a small timeline, its event count and
motion time, and a link to its report.

Colours, for people and for tests that look at a screenshot:
:data:`AREA_COLOUR` (the area curve's fill), :data:`EVENT_COLOUR` (event
bands, drawn at :data:`EVENT_OPACITY` over the plot) and :data:`PLOT_BACKGROUND`.
"""

from __future__ import annotations

import base64
import html
import json
import math
import os
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import cv2
import numpy as np

from bgmix.events import Event, EventParams, atomic_write

__all__ = ["AREA_COLOUR", "EVENT_COLOUR", "EVENT_OPACITY", "PLOT_BACKGROUND", "IndexEntry",
           "event_thumbnails", "format_time", "render_index", "render_report",
           "thumbnail_jpeg", "timeline_svg", "write_index", "write_report"]

AREA_COLOUR = "#1565c0"
"""Fill of the foreground-area curve (blue)."""
EVENT_COLOUR = "#ff9800"
"""Fill of the event bands (orange), drawn with :data:`EVENT_OPACITY`."""
EVENT_OPACITY = 0.35
PLOT_BACKGROUND = "#eef3fa"
"""Background of the plotting area."""
THRESHOLD_COLOUR = "#c62828"
ZONE_COLOURS = ("#2e7d32", "#6a1b9a", "#00838f", "#ad1457", "#4e342e", "#f9a825")

_PLOT_W, _PLOT_H = 1000.0, 180.0      # SVG user units of the plotting area
_LEFT, _TOP, _BOTTOM = 56.0, 22.0, 26.0
_ZONE_ROW = 14.0


def format_time(seconds: float) -> str:
    """``H:MM:SS.mmm`` (hours only when needed).

    Examples
    --------
    >>> format_time(3.04), format_time(3725.5)
    ('0:03.040', '1:02:05.500')
    """
    millis = int(round(max(0.0, seconds) * 1000))
    hours, rest = divmod(millis, 3_600_000)
    minutes, rest = divmod(rest, 60_000)
    if hours:
        return f"{hours}:{minutes:02d}:{rest // 1000:02d}.{rest % 1000:03d}"
    return f"{minutes}:{rest // 1000:02d}.{rest % 1000:03d}"


def _tick_step(span: float) -> float:
    raw = span / 8.0
    for step in (0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30, 60, 120, 300, 600, 900, 1800, 3600,
                 7200, 10800, 21600):
        if step >= raw:
            return float(step)
    return 43200.0


def _tick_label(t: float, step: float) -> str:
    whole = int(round(t))
    if step < 1:
        return f"{t:.1f}s"
    hours, rest = divmod(whole, 3600)
    minutes, secs = divmod(rest, 60)
    if hours:
        return f"{hours}:{minutes:02d}:{secs:02d}"
    return f"{minutes}:{secs:02d}"


def _downsample(t: np.ndarray, area: np.ndarray, bins: int) -> tuple[np.ndarray, np.ndarray]:
    """Per bin of time, the largest area (so a short event never disappears)."""
    if len(t) <= bins:
        return t, area
    edges = np.linspace(0, len(t), bins + 1).astype(np.int64)
    peaks = np.maximum.reduceat(area, edges[:-1])
    centres = t[np.minimum(edges[:-1] + (edges[1:] - edges[:-1]) // 2, len(t) - 1)]
    return centres, peaks


def _band(attributes: str, x1: float, x2: float, y: float, height: float, fill: str,
          inner: str = "") -> str:
    """An SVG rectangle from ``x1`` to ``x2`` (at least a pixel wide): an event on the timeline."""
    return (f'<rect {attributes} x="{x1:.2f}" y="{y:.1f}" width="{max(x2 - x1, 1.0):.2f}" '
            f'height="{height:.1f}" {fill}>{inner}</rect>')


def timeline_svg(timestamps: Sequence[float] | np.ndarray, area: Sequence[float] | np.ndarray,
                 events: Sequence[Event] = (), *, min_area: float | None = None,
                 zone_events: Mapping[str, Sequence[Event]] | None = None,
                 end_s: float | None = None, compact: bool = False) -> str:
    """The activity timeline as an inline ``<svg>`` element.

    ``compact`` draws a small version without axes or labels (batch index).
    The SVG scales to the width of its container (``width="100%"``).
    """
    t = np.asarray(timestamps, np.float64).ravel()
    a = np.asarray(area, np.float64).ravel()
    if len(t) != len(a):
        raise ValueError(f"timestamps has {len(t)} entries and area {len(a)}")
    zone_events = dict(zone_events or {})
    if len(t):
        t0 = float(t[0])
        t1 = float(end_s) if end_s is not None else float(t[-1]) + (
            float(t[-1] - t[-2]) if len(t) > 1 else 1.0)
    else:
        t0, t1 = 0.0, float(end_s or 1.0)
    span = max(t1 - t0, 1e-6)
    peak = float(a.max()) if len(a) else 0.0
    top_value = max(peak, 2.0 * (min_area or 0.0), 1e-4) * 1.1
    left, top, bottom = (0.0, 2.0, 2.0) if compact else (_LEFT, _TOP, _BOTTOM)
    plot_w, plot_h = (_PLOT_W, 40.0) if compact else (_PLOT_W, _PLOT_H)
    rows = 0 if compact else len(zone_events)
    width = left + plot_w + (0.0 if compact else 12.0)
    height = top + plot_h + rows * _ZONE_ROW + bottom

    def x(v: float) -> float:
        return left + (v - t0) / span * plot_w

    def y(v: float) -> float:
        return top + plot_h - min(v, top_value) / top_value * plot_h

    parts = [f'<svg class="timeline" width="100%" viewBox="0 0 {width:.0f} {height:.0f}" '
             f'role="img" aria-label="activity timeline">']
    parts.append(f'<rect class="plot" x="{left:.1f}" y="{top:.1f}" width="{plot_w:.1f}" '
                 f'height="{plot_h:.1f}" fill="{PLOT_BACKGROUND}"/>')
    for event in events:
        x1, x2 = x(event.start_s), x(event.end_s)
        parts.append(_band(f'class="event" data-event="{event.number}"', x1, x2, top, plot_h,
                           f'fill="{EVENT_COLOUR}" fill-opacity="{EVENT_OPACITY}"',
                           f'<title>event {event.number}: {format_time(event.start_s)} - '
                           f'{format_time(event.end_s)}</title>'))
        if not compact:
            parts.append(f'<text x="{(x1 + x2) / 2:.1f}" y="{top - 6:.1f}" font-size="11" '
                         f'text-anchor="middle" fill="#e65100">{event.number}</text>')
    if len(t):
        ct, ca = _downsample(t, a, int(plot_w))
        points = [f"{x(ct[0]):.2f},{y(0):.2f}"]
        points += [f"{x(u):.2f},{y(v):.2f}" for u, v in zip(ct.tolist(), ca.tolist())]
        points.append(f"{x(ct[-1]):.2f},{y(0):.2f}")
        parts.append(f'<polygon class="area" points="{" ".join(points)}" fill="{AREA_COLOUR}" '
                     f'stroke="{AREA_COLOUR}" stroke-width="1"/>')
    if min_area is not None and not compact:
        parts.append(f'<line class="threshold" x1="{left:.1f}" x2="{left + plot_w:.1f}" '
                     f'y1="{y(min_area):.2f}" y2="{y(min_area):.2f}" stroke="{THRESHOLD_COLOUR}" '
                     f'stroke-width="1" stroke-dasharray="5,4"/>')
    if not compact:
        # axes: area (percent of the watched pixels) and time
        for frac in (0.0, 0.5, 1.0):
            value = top_value / 1.1 * frac
            parts.append(f'<text x="{left - 6:.1f}" y="{y(value) + 4:.1f}" font-size="11" '
                         f'text-anchor="end" fill="#444">{100 * value:.2g}%</text>')
        step = _tick_step(span)
        tick = math.ceil(t0 / step) * step
        base = top + plot_h + rows * _ZONE_ROW
        while tick <= t1 + 1e-9:
            parts.append(f'<line x1="{x(tick):.1f}" x2="{x(tick):.1f}" y1="{base:.1f}" '
                         f'y2="{base + 4:.1f}" stroke="#444"/>'
                         f'<text x="{x(tick):.1f}" y="{base + 16:.1f}" font-size="11" '
                         f'text-anchor="middle" fill="#444">{_tick_label(tick, step)}</text>')
            tick += step
        for row, (name, items) in enumerate(zone_events.items()):
            colour = ZONE_COLOURS[row % len(ZONE_COLOURS)]
            ry = top + plot_h + row * _ZONE_ROW + 3
            parts.append(f'<text x="{left - 6:.1f}" y="{ry + 9:.1f}" font-size="10" '
                         f'text-anchor="end" fill="{colour}">{html.escape(name)}</text>')
            for event in items:
                parts.append(_band(f'class="zone-event" data-zone="{html.escape(name)}"',
                                   x(event.start_s), x(event.end_s), ry, _ZONE_ROW - 5,
                                   f'fill="{colour}"'))
    parts.append("</svg>")
    return "".join(parts)


# --------------------------------------------------------------------------- thumbnails


def thumbnail_jpeg(frame: np.ndarray, box: Sequence[int] | None = None, *, width: int = 320,
                   quality: int = 85) -> bytes:
    """A JPEG of ``frame`` scaled to ``width`` pixels, with ``box`` drawn
    (``x1, y1, x2, y2``, exclusive, in the frame's pixels).

    Examples
    --------
    >>> data = thumbnail_jpeg(np.zeros((120, 160, 3), np.uint8), (10, 10, 50, 40), width=80)
    >>> data[:2] == b"\\xff\\xd8", cv2.imdecode(np.frombuffer(data, np.uint8), 1).shape
    (True, (60, 80, 3))
    """
    if frame.ndim == 2:
        frame = cv2.cvtColor(frame, cv2.COLOR_GRAY2BGR)
    if frame.dtype != np.uint8:
        low, high = float(frame.min()), float(frame.max())
        frame = np.rint((frame.astype(np.float32) - low) * (255.0 / max(high - low, 1e-6))
                        ).astype(np.uint8)
    scale = width / frame.shape[1]
    height = max(1, int(round(frame.shape[0] * scale)))
    picture = cv2.resize(frame, (width, height), interpolation=cv2.INTER_AREA)
    if box is not None:
        x1, y1, x2, y2 = (float(v) for v in box)
        thickness = max(1, int(round(width / 200)))
        cv2.rectangle(picture, (int(x1 * scale), int(y1 * scale)),
                      (int(math.ceil(x2 * scale)) - 1, int(math.ceil(y2 * scale)) - 1),
                      (0, 255, 0), thickness)
    ok, data = cv2.imencode(".jpg", picture, [cv2.IMWRITE_JPEG_QUALITY, int(quality)])
    if not ok:  # pragma: no cover
        raise RuntimeError("OpenCV could not encode a JPEG thumbnail")
    return data.tobytes()


def event_thumbnails(video: str | os.PathLike[str], events: Iterable[Event], *,
                     width: int = 320) -> dict[int, bytes]:
    """JPEG thumbnails of each event's peak frame, read from ``video`` in one
    pass; keyed by event number. Events whose frame the video does not reach
    get none."""
    wanted: dict[int, list[Event]] = {}
    for event in events:
        wanted.setdefault(event.peak_frame, []).append(event)
    if not wanted:
        return {}
    capture = cv2.VideoCapture(str(video))
    if not capture.isOpened():
        raise ValueError(f"{video}: OpenCV cannot open it as a video")
    thumbnails: dict[int, bytes] = {}
    try:
        from bgmix.clips import decode_frames

        for number, frame in decode_frames(capture, max(wanted), wanted.__contains__):
            for event in wanted[number]:
                thumbnails[event.number] = thumbnail_jpeg(frame, event.peak_box, width=width)
    finally:
        capture.release()
    return thumbnails


# --------------------------------------------------------------------------- pages


_STYLE = """
body{font-family:system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:16px 24px;color:#222;background:#fff}
h1{font-size:20px;margin:0 0 4px} h2{font-size:16px;margin:22px 0 8px}
.summary{color:#555;margin:0 0 10px;font-size:14px}
.timeline{display:block;width:100%;height:auto}
table{border-collapse:collapse;font-size:13px} th,td{padding:4px 10px;border-bottom:1px solid #ddd;text-align:right}
th{background:#f5f5f5} td.l,th.l{text-align:left}
.thumbs{display:flex;flex-wrap:wrap;gap:12px}
figure{margin:0;font-size:12px;color:#444} figure img{display:block;border:1px solid #ccc}
.none{color:#777;font-style:italic}
"""


def _table(events: Sequence[Event], clips: Mapping[int, str] | None, *, zones: bool = True,
           ids: str = "event") -> str:
    if not events:
        return '<p class="none">No events.</p>'
    head = ("<tr><th>#</th><th>start</th><th>end</th><th>duration</th><th>peak area</th>"
            "<th>peak objects</th><th>frames</th>" + ('<th class="l">zones</th>' if zones else "")
            + ('<th class="l">clip</th>' if clips else "") + "</tr>")
    rows = []
    for e in events:
        clip = ""
        if clips:
            href = clips.get(e.number)
            clip = (f'<td class="l"><a href="{html.escape(href)}">{html.escape(Path(href).name)}'
                    f'</a></td>' if href else '<td class="l"></td>')
        rows.append(f'<tr id="{ids}-{e.number}"><td>{e.number}</td><td>{format_time(e.start_s)}</td>'
                    f"<td>{format_time(e.end_s)}</td><td>{e.duration_s:.1f} s</td>"
                    f"<td>{100 * e.peak_area:.2f}%</td><td>{e.peak_blobs}</td>"
                    f"<td>{e.start_frame}-{e.end_frame}</td>"
                    + (f'<td class="l">{html.escape(", ".join(e.zones))}</td>' if zones else "")
                    + clip + "</tr>")
    return f"<table>{head}{''.join(rows)}</table>"


def _json_events(events: Sequence[Event], zone_events: Mapping[str, Sequence[Event]]) -> str:
    document = {"events": [e.to_row() for e in events],
                "zone_events": {name: [e.to_row() for e in items]
                                for name, items in zone_events.items()}}
    # "</" cannot end the script element early
    return json.dumps(document).replace("</", "<\\/")


def render_report(*, title: str, timestamps: Sequence[float] | np.ndarray,
                  area: Sequence[float] | np.ndarray, events: Sequence[Event],
                  zone_events: Mapping[str, Sequence[Event]] | None = None,
                  thumbnails: Mapping[int, bytes] | None = None,
                  clips: Mapping[int, str] | None = None,
                  params: EventParams | None = None, end_s: float | None = None,
                  info: Mapping[str, Any] | None = None) -> str:
    """The HTML text of a video's report; see :func:`write_report`."""
    zone_events = dict(zone_events or {})
    thumbnails = thumbnails or {}
    params = params or EventParams()
    t = np.asarray(timestamps, np.float64)
    if len(t):
        if end_s is None:
            end_s = float(t[-1]) + (float(t[-1] - t[-2]) if len(t) > 1 else 0.0)
        duration = float(end_s) - float(t[0])
    else:
        duration = 0.0
    motion = sum(e.duration_s for e in events)
    summary = (f"{len(t)} frames, {format_time(duration)}; {len(events)} event"
               f"{'' if len(events) == 1 else 's'}, {format_time(motion)} of motion"
               f" ({100 * motion / duration:.1f}% of the time)" if duration > 0 else "")
    details = ", ".join(f"{k} {v}" for k, v in params.to_dict().items())
    extra = "".join(f"<br>{html.escape(str(k))}: {html.escape(str(v))}" for k, v in (info or {}).items())
    figures = []
    for e in events:
        data = thumbnails.get(e.number)
        if data is None:
            continue
        uri = "data:image/jpeg;base64," + base64.b64encode(data).decode("ascii")
        figures.append(f'<figure><a href="#event-{e.number}"><img alt="event {e.number}" '
                       f'src="{uri}"></a><figcaption>{e.number}: {format_time(e.start_s)} '
                       f'({e.duration_s:.1f} s)</figcaption></figure>')
    zone_html = "".join(f"<h2>Zone {html.escape(name)}</h2>"
                        + _table(items, None, zones=False, ids=f"zone-{html.escape(name)}-event")
                        for name, items in zone_events.items())
    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        f"<title>{html.escape(title)}</title>"
        "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">"
        f"<style>{_STYLE}</style></head><body>"
        f"<h1>{html.escape(title)}</h1><p class=\"summary\">{html.escape(summary)}</p>"
        + timeline_svg(t, area, events, min_area=params.min_area, zone_events=zone_events,
                       end_s=end_s)
        + "<h2>Events</h2>"
        + (f'<div class="thumbs">{"".join(figures)}</div>' if figures else "")
        + "<h2>Table</h2>" + _table(events, clips)
        + zone_html
        + f'<p class="summary">Foreground area: the fraction of the watched pixels covered by '
          f"moving objects. Settings: {html.escape(details)}.{extra}</p>"
        + f'<script type="application/json" id="bgmix-events">{_json_events(events, zone_events)}</script>'
        + "</body></html>\n")


def write_report(path: str | os.PathLike[str], *, title: str,
                 timestamps: Sequence[float] | np.ndarray, area: Sequence[float] | np.ndarray,
                 events: Sequence[Event],
                 zone_events: Mapping[str, Sequence[Event]] | None = None,
                 thumbnails: Mapping[int, bytes] | None = None,
                 clips: Mapping[int, str | os.PathLike[str]] | None = None,
                 params: EventParams | None = None, end_s: float | None = None,
                 info: Mapping[str, Any] | None = None) -> Path:
    """Write a video's self-contained ``report.html`` (atomically).

    Parameters
    ----------
    path : path
        The HTML file.
    title : str
        Usually the video's name.
    timestamps, area : arrays
        Per frame: seconds and foreground area (``EventRecorder.timeline``).
    events : sequence of Event
    zone_events : dict of zone name to events, optional
    thumbnails : dict of event number to JPEG bytes, optional
        From :func:`event_thumbnails`.
    clips : dict of event number to clip path, optional
        Linked from the table, relative to the report's folder.
    params : EventParams, optional
        Shown, and ``min_area`` drawn.
    end_s : float, optional
        When the video ends, in the timestamps' seconds (default: the last
        timestamp plus one frame).
    info : dict, optional
        More lines for the footer (source, model, ...).
    """
    path = Path(path)
    links = None
    if clips:
        links = {}
        for number, clip in clips.items():
            clip = Path(clip)
            try:
                links[number] = os.path.relpath(clip, path.parent).replace(os.sep, "/")
            except ValueError:  # pragma: no cover - another drive on Windows
                links[number] = clip.as_posix()
    text = render_report(title=title, timestamps=timestamps, area=area, events=events,
                         zone_events=zone_events, thumbnails=thumbnails, clips=links,
                         params=params, end_s=end_s, info=info)
    return atomic_write(path, text)


@dataclass
class IndexEntry:
    """One video of a batch index."""

    name: str
    report: str | os.PathLike[str] | None
    """Its report.html (linked relative to the index), or None (failed video)."""
    events: Sequence[Event] = ()
    duration_s: float = 0.0
    frames: int = 0
    status: str = "done"
    timestamps: Sequence[float] | np.ndarray | None = None
    area: Sequence[float] | np.ndarray | None = None
    extra: dict[str, Any] = field(default_factory=dict)


def render_index(entries: Sequence[IndexEntry], *, title: str = "bgmix batch",
                 base: str | os.PathLike[str] = ".") -> str:
    """The HTML text of a batch index; links are relative to ``base``."""
    rows = []
    total_events = 0
    for entry in entries:
        total_events += len(entry.events)
        motion = sum(e.duration_s for e in entry.events)
        if entry.report is not None:
            href = os.path.relpath(Path(entry.report), Path(base)).replace(os.sep, "/")
            name = f'<a href="{html.escape(href)}">{html.escape(entry.name)}</a>'
        else:
            name = html.escape(entry.name)
        spark = ""
        if entry.timestamps is not None and entry.area is not None and len(entry.timestamps):
            spark = timeline_svg(entry.timestamps, entry.area, entry.events, compact=True,
                                 end_s=None)
        share = f"{100 * motion / entry.duration_s:.1f}%" if entry.duration_s > 0 else ""
        rows.append(f'<tr><td class="l">{name}</td><td class="l">{html.escape(entry.status)}</td>'
                    f"<td>{entry.frames}</td><td>{format_time(entry.duration_s)}</td>"
                    f"<td>{len(entry.events)}</td><td>{format_time(motion)}</td><td>{share}</td>"
                    f'<td class="spark" style="width:40%">{spark}</td></tr>')
    head = ('<tr><th class="l">video</th><th class="l">status</th><th>frames</th>'
            "<th>duration</th><th>events</th><th>motion</th><th>share</th>"
            '<th class="l">activity</th></tr>')
    return ("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
            f"<title>{html.escape(title)}</title><style>{_STYLE}"
            ".spark svg{display:block;min-height:24px;height:28px}</style></head><body>"
            f"<h1>{html.escape(title)}</h1><p class=\"summary\">{len(entries)} videos, "
            f"{total_events} events</p><table>{head}{''.join(rows)}</table></body></html>\n")


def write_index(path: str | os.PathLike[str], entries: Sequence[IndexEntry], *,
                title: str = "bgmix batch") -> Path:
    """Write a batch's ``index.html`` (atomically), linking each video's report."""
    path = Path(path)
    return atomic_write(path, render_index(entries, title=title, base=path.parent))
