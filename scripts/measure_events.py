"""What the default event settings give on real and bundled outdoor clips.

    python scripts/measure_events.py [--data ../shared/data] [--markdown]

For every clip: the events of ``bgmix.events.find_events`` with the default
``BackgroundMixture()`` and the default ``EventParams``; where there is
ground truth (the bundled synthetic clips, CDnet), also the events of the
ground-truth masks (same measuring, same parameters, inside the temporal
region of interest) and how the two lists match: an event matches when it
overlaps a truth event; a detected event overlapping none is false, a truth
event overlapped by none is missed. The table in docs/events.md comes from
this script.
"""

from __future__ import annotations

import argparse
import glob
import sys
import time
from pathlib import Path

import cv2
import numpy as np

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO))

from bgmix.events import EventDetector, EventParams, find_events, measure  # noqa: E402


def _frames(path: Path):
    if path.is_dir():
        for name in sorted(glob.glob(str(path / "*.jpg"))):
            yield cv2.imread(name)
        return
    capture = cv2.VideoCapture(str(path))
    while True:
        ok, frame = capture.read()
        if not ok:
            break
        yield frame
    capture.release()


def _gt_masks(path: Path):
    if path.is_dir():
        for name in sorted(glob.glob(str(path / "gt*.png"))):
            yield cv2.imread(name, cv2.IMREAD_GRAYSCALE)
        return
    for frame in _frames(path):
        yield frame[:, :, 0]


def truth_events(gt: Path, fps: float, first: int, last: int, params: EventParams):
    """Events of the ground truth (255 = motion) over frames first..last (1-based)."""
    detector = EventDetector(params, fps=fps, warmup=0)
    for i, labels in enumerate(_gt_masks(gt)):
        if first <= i + 1 <= last:
            mask = np.where(labels == 255, 255, 0).astype(np.uint8)
            activity = measure(mask, opening=params.opening, min_blob_area=params.min_blob_area)
            detector.update(i, i / fps, activity.area, activity.blobs)
    detector.finish()
    return detector.events


def match(events, truth, first_s: float, last_s: float):
    inside = [e for e in events if e.end_s > first_s and e.start_s < last_s]
    overlaps = lambda a, b: a.start_s < b.end_s and b.start_s < a.end_s  # noqa: E731
    false = [e for e in inside if not any(overlaps(e, t) for t in truth)]
    missed = [t for t in truth if not any(overlaps(e, t) for e in inside)]
    starts, ends = [], []
    for t in truth:
        hits = [e for e in inside if overlaps(e, t)]
        if hits:  # detected events clipped to the evaluated span, as the truth is
            starts.append(abs(max(min(h.start_s for h in hits), first_s) - t.start_s))
            ends.append(abs(min(max(h.end_s for h in hits), last_s) - t.end_s))
    return inside, false, missed, starts, ends


def clips(data: Path) -> list[dict]:
    videos = data / "videos"
    cdnet = data / "cdnet2014" / "baseline"
    items = [
        {"name": "synthetic trees + 1 car (bgmix.synth, 320x240)", "synth": True},
        {"name": "videos/dynamic_background.avi (bundled)", "video": REPO / "videos" / "dynamic_background.avi",
         "gt": REPO / "videos" / "dynamic_background_groundtruth.mkv", "roi": (31, 140)},
        {"name": "road_640x360.avi", "video": videos / "road_640x360.avi"},
        {"name": "motorway_320x240.avi", "video": videos / "motorway_320x240.avi"},
        {"name": "CDnet highway", "video": cdnet / "highway" / "input",
         "gt": cdnet / "highway" / "groundtruth", "roi": (470, 1700), "fps": 25.0},
        {"name": "CDnet pedestrians", "video": cdnet / "pedestrians" / "input",
         "gt": cdnet / "pedestrians" / "groundtruth", "roi": (300, 1099), "fps": 25.0},
    ]
    return [c for c in items if c.get("synth") or Path(c["video"]).exists()]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=REPO.parent / "shared" / "data")
    parser.add_argument("--set", action="append", default=[], metavar="NAME=VALUE",
                        help="change a detection parameter, e.g. --set opening=0 (the truth "
                             "events keep the defaults)")
    args = parser.parse_args(argv)
    params = EventParams()
    changes = {}
    for item in args.set:
        name, _, value = item.partition("=")
        changes[name] = int(value) if value.isdigit() else float(value)
    print("| clip | frames | events | motion | truth events | matched | false | missed | "
          "start / end error (median) |")
    print("|---|---|---|---|---|---|---|---|---|")
    for clip in clips(args.data):
        started = time.perf_counter()
        truth = None
        if clip.get("synth"):
            from bgmix.synth import make_scene
            scene = make_scene("dynamic_background", height=240, width=320, n_frames=400, seed=1,
                               water=0.0, boat_interval=0, object_interval=1e6, warmup=100)
            fps = scene.fps
            recorder = find_events(scene.frames, fps=fps, **changes)
            n = scene.n_frames
            detector = EventDetector(params, fps=fps, warmup=0)
            for i, gt in enumerate(scene.ground_truth):
                a = measure(np.where(gt == 255, 255, 0).astype(np.uint8))
                detector.update(i, i / fps, a.area, a.blobs)
            detector.finish()
            truth = detector.events
            first_s, last_s = 0.0, n / fps
        else:
            source = clip["video"]
            fps = clip.get("fps")
            if fps is None:
                capture = cv2.VideoCapture(str(source))
                fps = capture.get(cv2.CAP_PROP_FPS) or 25.0
                capture.release()
            recorder = find_events(str(source), fps=fps, **changes)
            n = len(recorder.timeline["area"])
            if "gt" in clip:
                first, last = clip["roi"]
                truth = truth_events(clip["gt"], fps, first, last, params)
                first_s, last_s = (first - 1) / fps, last / fps
        events = recorder.events
        motion = sum(e.duration_s for e in events)
        duration = n / fps
        row = [clip["name"], f"{n} ({duration:.0f} s)", str(len(events)),
               f"{motion:.1f} s ({100 * motion / duration:.0f}%)"]
        if truth is not None:
            inside, false, missed, starts, ends = match(events, truth, first_s, last_s)
            err = (f"{np.median(starts):.2f} s / {np.median(ends):.2f} s" if starts else "")
            row += [str(len(truth)), str(len(truth) - len(missed)), str(len(false)),
                    str(len(missed)), err]
        else:
            row += ["", "", "", "", ""]
        print("| " + " | ".join(row) + " |", flush=True)
        print(f"    {clip['name']}: {time.perf_counter() - started:.1f} s; events "
              + ", ".join(f"{e.start_s:.1f}-{e.end_s:.1f}" for e in events[:12])
              + (" ..." if len(events) > 12 else ""), file=sys.stderr, flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
