"""What a run says about when something happened: events, clips and the report.

:func:`bgmix.run.run_video` feeds every final mask to an :class:`Activity`
when the run asks for ``events``, ``report`` or ``clips``
(:class:`~bgmix.run.RunOptions`); when the loop ends (done or interrupted)
:meth:`Activity.write` writes the events CSV (and one per zone), each event's
clip (file sources only: the frames are read again from the file) and the
self-contained ``report.html``, each under a temporary name renamed when
complete (:mod:`bgmix.events`, :mod:`bgmix.clips`, :mod:`bgmix.report`).

Frame times come from the source's frame rate (``index / fps``), so an
event's seconds are the video's own, as a player shows them.
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["Activity"]


class Activity:
    """Events of one run, from its masks.

    Parameters
    ----------
    source : str or path-like or None
        The video file (for clips and thumbnails); None for live sources
        and arrays (then no clip and no thumbnail is made).
    fps : float
        Frames per second of the source.
    events, report, clips : str or None
        Where to write the events CSV, the report and the clips' folder.
    clips_overlay : bool
        Clips show the mask over the frames, read back from ``masks``.
    masks : str or None
        The run's mask video (closed before :meth:`write`), for ``clips_overlay``.
    roi : str or None
        A mask image: non-zero pixels are watched (:func:`bgmix.zones.load_roi`).
    zones : sequence of str
        ``name=x1,y1,x2,y2,...`` polygons (:func:`bgmix.zones.parse_zones`).
    event_params : mapping
        :class:`bgmix.events.EventParams` fields.
    """

    def __init__(self, source: Any, fps: float, *,
                 events: str | None = None, report: str | None = None,
                 clips: str | None = None, clips_overlay: bool = False,
                 masks: str | None = None, roi: np.ndarray | None = None, zones: Sequence[str] = (),
                 event_params: Mapping[str, Any] | None = None, name: str = "") -> None:
        from bgmix.events import EventParams, EventRecorder

        self.source = source
        self.fps = fps
        self.paths = {"events": events, "report": report, "clips": clips}
        self.clips_overlay = clips_overlay
        self.masks = masks
        self.name = name
        self.params = EventParams(**dict(event_params or {}))
        self.recorder = EventRecorder(self.params, roi=roi, zones=list(zones) or None, fps=fps)

    def update(self, index: int, mask: np.ndarray) -> None:
        """One frame's final mask (``index`` 0-based)."""
        self.recorder.update(index, mask, timestamp=index / self.fps)

    def write(self) -> dict[str, str]:
        """Close the events and write what was asked for; output name -> path."""
        from bgmix.events import write_events_csv, zone_csv_path

        recorder = self.recorder
        recorder.finish()
        written: dict[str, str] = {}
        events_path = self.paths["events"]
        if events_path is not None:
            write_events_csv(events_path, recorder.events)
            written["events"] = str(events_path)
            for zone, zone_events in recorder.zone_events.items():
                write_events_csv(zone_csv_path(events_path, zone), zone_events)
        file_source = (isinstance(self.source, (str, os.PathLike))
                       and Path(self.source).is_file())
        clip_paths: dict[int, str] = {}
        if self.paths["clips"] is not None and file_source and recorder.events:
            from bgmix.clips import write_clips

            clips = write_clips(self.source, recorder.events, self.paths["clips"],
                                overlay=self.clips_overlay, masks=self.masks, fps=self.fps)
            clip_paths = {clip.event.number: str(clip.path) for clip in clips}
            written["clips"] = str(self.paths["clips"])
        report_path = self.paths["report"]
        if report_path is not None:
            from bgmix.report import event_thumbnails, write_report

            thumbnails = (event_thumbnails(self.source, recorder.events)
                          if file_source and recorder.events else None)
            timeline = recorder.timeline
            clips_rel = {n: os.path.relpath(p, Path(report_path).parent)
                         for n, p in clip_paths.items()}
            write_report(report_path, title=self.name or "bgmix", timestamps=timeline["timestamp"],
                         area=timeline["area"], events=recorder.events,
                         zone_events=recorder.zone_events or None, thumbnails=thumbnails,
                         clips=clips_rel or None, params=self.params)
            written["report"] = str(report_path)
        return written

    @property
    def n_events(self) -> int:
        return len(self.recorder.events)


def write_batch_index(out: str | os.PathLike[str], rows: Sequence[Mapping[str, Any]]) -> Path:
    """``out/index.html``: every video of a batch, linking the reports its folders hold.

    A video's events are read back from its events CSV when the batch wrote
    one (``done.json`` names the outputs of each done folder).
    """
    import json

    from bgmix.events import read_events_csv
    from bgmix.report import IndexEntry, write_index

    out = Path(out)
    entries = []
    for row in rows:
        folder = Path(row["folder"])
        outputs: dict[str, str] = {}
        record = folder / "done.json"
        if row["status"] in ("done", "skipped") and record.is_file():
            outputs = json.loads(record.read_text(encoding="utf-8")).get("outputs", {})
        report = folder / outputs["report"] if "report" in outputs else None
        events = read_events_csv(folder / outputs["events"]) if "events" in outputs else []
        entries.append(IndexEntry(name=row["name"], report=report, events=events,
                                  frames=int(row.get("frames") or 0),
                                  status=str(row["status"])))
    return write_index(out / "index.html", entries)
