#!/usr/bin/env python
"""Multi-object tracking on bgmix's blobs: ByteTrack ids, MOT tracks and an overlay video.

bgmix finds the moving blobs of every frame (mask clean-up suited to tracking:
shadows folded into the background, median filter, opening, closing and a
minimum area); each blob's confidence is its mean foreground probability. The
blobs go, as ``supervision.Detections``, to ByteTrack (``trackers.ByteTrackTracker``,
the tracker that supervision's own documentation points to since
``supervision.ByteTrack`` was removed), which gives each object an id that
lasts as long as the object is seen.

Outputs, in ``--out DIR``:

``tracks.txt``
    MOT Challenge tracks, one line per tracked box:
    ``frame,id,left,top,width,height,conf,-1,-1,-1`` with 1-based frames,
    ids from 1, and 1-based pixel coordinates as :mod:`bgmix.export` writes
    them (``left = x1 + 1`` for the 0-based box ``x1, y1, x2, y2``;
    ``width = x2 - x1``). ``conf`` is the blob's mean foreground probability.
    Boxes the tracker has not confirmed yet (``tracker_id`` -1) are left out.
``tracks_overlay.mkv``
    Motion JPEG: each frame with its cleaned mask tinted (foreground red) and
    every tracked box drawn in its id's colour, labelled with the id.

Both are written under temporary names (the hidden ``.tracks.txt.part.txt``
and ``.tracks_overlay.mkv.*.part.mkv``) and renamed when the run ends; the tracks
are written one whole frame at a time and flushed, so a run that is killed
keeps every frame written so far in the temporary files, and Ctrl-C finishes
both files with the frames done so far (exit status 130).

Needs the ``track`` extra: ``pip install -e ".[track]"`` (supervision and trackers).

Usage::

    python scripts/track_demo.py                          # videos/sample.mkv -> track-out/
    python scripts/track_demo.py traffic.mp4 --out out/ --min-area 200
    python scripts/track_demo.py clip.mkv --out out/ --max-frames 100 --lost-frames 10

Prints a summary: frames, detections (blobs), tracked boxes, tracks (distinct
ids, and those that lasted at least ``--long-track`` frames) and frames per
second of the whole loop (decode, model, clean-up, blobs, tracker, outputs).
Exit status: 0 done, 1 an output could not be written, 2 bad input or
arguments (one line on stderr), 130 interrupted.
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from collections import Counter
from collections.abc import Sequence
from pathlib import Path
from typing import Any, Callable

import cv2
import numpy as np

from bgmix import BackgroundMixture, process
from bgmix.export import MOT_ORIGIN, partial_path
from bgmix.io import DEFAULT_FPS, open_source
from bgmix.postprocess import Postprocess
from bgmix.sinks import render_overlay

TRACKS_NAME = "tracks.txt"
OVERLAY_NAME = "tracks_overlay.mkv"
EXIT_OK, EXIT_FAILURE, EXIT_USAGE, EXIT_INTERRUPTED = 0, 1, 2, 130

# ByteTrack's lost_track_buffer counts frames of a 30 fps video; it scales it by frame_rate / 30.
_BYTETRACK_REFERENCE_FPS = 30.0


def default_source() -> Path:
    """The bundled clip with several moving objects, ``videos/sample.mkv``.

    Examples
    --------
    >>> default_source().name
    'sample.mkv'
    """
    return Path(__file__).resolve().parents[1] / "videos" / "sample.mkv"


def make_tracker(fps: float, *, activation_threshold: float = 0.8,
                 high_threshold: float = 0.7, lost_frames: int | None = None,
                 min_frames: int = 3, min_iou: float = 0.1) -> Callable[[Any], Any]:
    """A ByteTrack tracker's update function: ``sv.Detections -> sv.Detections`` with ids.

    Blob confidences are mean foreground probabilities, ``1 / (1 + exp(-(D² -
    T) / 2))`` averaged over the blob: a blob of real motion scores 0.85-1.0,
    while pixels that only the clean-up added (median, closing) score below
    0.5, so a blob made mostly of them scores low. Hence the thresholds are
    higher than ByteTrack's defaults for a neural detector.

    Parameters
    ----------
    fps : float
        Frame rate of the source.
    activation_threshold : float, default 0.8
        Smallest confidence of a blob that may start a new track.
    high_threshold : float, default 0.7
        Blobs at or above it are matched first; those below only extend tracks
        left unmatched (ByteTrack's second stage).
    lost_frames : int, optional
        Frames of the source a lost track is kept for re-association (default:
        one second).
    min_frames : int, default 3
        Consecutive matched frames before a track gets an id.
    min_iou : float, default 0.1
        Smallest IoU between a track's predicted box and a blob to match them.

    Returns
    -------
    callable
        ``update(detections) -> detections`` with ``tracker_id`` set: 0, 1, ...
        for confirmed tracks, -1 for boxes not yet in a confirmed track.

    Raises
    ------
    ImportError
        Without the ``trackers`` package (the ``track`` extra).

    Examples
    --------
    >>> import numpy as np, supervision as sv
    >>> update = make_tracker(25.0, min_frames=1)
    >>> box = np.array([[10, 10, 30, 20]], np.float32)
    >>> for step in range(3):
    ...     tracked = update(sv.Detections(xyxy=box + 2 * step, confidence=np.array([0.95])))
    >>> tracked.tracker_id.tolist()   # ByteTrack's ids count from 0 (the demo writes id + 1)
    [0]
    """
    try:
        from trackers import ByteTrackTracker
    except ImportError as error:
        raise ImportError("the tracker needs the 'trackers' package (ByteTrack; supervision "
                          ">= 0.27 no longer ships it): pip install -e \".[track]\" or "
                          "pip install trackers") from error
    if lost_frames is None:
        lost_frames = max(1, round(fps))
    tracker = ByteTrackTracker(
        lost_track_buffer=max(1, round(lost_frames * _BYTETRACK_REFERENCE_FPS / fps)),
        frame_rate=float(fps), track_activation_threshold=float(activation_threshold),
        minimum_consecutive_frames=int(min_frames), minimum_iou_threshold=float(min_iou),
        high_conf_det_threshold=float(high_threshold))
    return tracker.update


def _id_colour(track_id: int) -> tuple[int, int, int]:
    """A bright BGR colour per id; consecutive ids get far-apart hues (golden angle)."""
    hue = int((track_id * 137.508) % 180)
    hsv = np.array([[[hue, 220, 255]]], np.uint8)
    b, g, r = cv2.cvtColor(hsv, cv2.COLOR_HSV2BGR)[0, 0].tolist()
    return int(b), int(g), int(r)


def draw_tracks(frame: np.ndarray, mask: np.ndarray, boxes: np.ndarray,
                track_ids: np.ndarray) -> np.ndarray:
    """The frame with its mask tinted and each tracked box drawn with its id.

    Parameters
    ----------
    frame : numpy.ndarray
        The frame as the source gave it.
    mask : numpy.ndarray
        uint8 (H, W) mask (255 foreground is tinted red).
    boxes : numpy.ndarray
        (N, 4) ``x1, y1, x2, y2``, ``x2``/``y2`` exclusive.
    track_ids : numpy.ndarray
        (N,) ids.

    Returns
    -------
    numpy.ndarray
        uint8 (H, W, 3) BGR.

    Examples
    --------
    >>> frame = np.zeros((40, 60, 3), np.uint8)
    >>> mask = np.zeros((40, 60), np.uint8); mask[10:20, 10:30] = 255
    >>> picture = draw_tracks(frame, mask, np.array([[10, 10, 30, 20]]), np.array([7]))
    >>> picture.shape, picture[15, 10].tolist() == list(_id_colour(7))   # the box's left edge
    ((40, 60, 3), True)
    """
    picture = render_overlay(frame, mask)
    height = picture.shape[0]
    # Label size follows the frame, so ids stay readable on 160x120 and on 1080p.
    scale = max(0.3, height / 480.0)
    thickness = max(1, round(height / 360.0))
    for (x1, y1, x2, y2), track_id in zip(np.asarray(boxes).reshape(-1, 4).astype(int).tolist(),
                                          np.asarray(track_ids).tolist()):
        colour = _id_colour(int(track_id))
        cv2.rectangle(picture, (x1, y1), (x2 - 1, y2 - 1), colour, thickness)
        label = str(int(track_id))
        (w, h), base = cv2.getTextSize(label, cv2.FONT_HERSHEY_SIMPLEX, scale, thickness)
        top = y1 - h - base - 1 if y1 - h - base - 1 >= 0 else y2  # above the box, else below
        cv2.rectangle(picture, (x1, top), (x1 + w + 1, top + h + base + 1), colour, cv2.FILLED)
        cv2.putText(picture, label, (x1 + 1, top + h), cv2.FONT_HERSHEY_SIMPLEX, scale,
                    (0, 0, 0), thickness, cv2.LINE_AA)
    return picture


class TrackWriter:
    """MOT tracks ``frame,id,left,top,width,height,conf,-1,-1,-1``, written atomically.

    Lines go to ``partial_path(NAME)`` one whole frame per ``write`` call, flushed;
    :meth:`close` renames it to ``NAME``. Coordinates are 1-based as in
    :class:`bgmix.export.MotWriter`.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "tracks.txt"
    >>> writer = TrackWriter(path)
    >>> writer.write(1, np.array([[2, 1, 5, 3]]), np.array([4]), np.array([0.9], np.float32))
    >>> path.exists()
    False
    >>> writer.close()
    >>> print(path.read_text(), end="")
    1,4,3,2,3,2,0.9,-1,-1,-1
    """

    def __init__(self, path: str | os.PathLike[str]) -> None:
        self.path = Path(path)
        self.partial = partial_path(self.path)
        self.lines_written = 0
        self._file: Any = open(self.partial, "w", encoding="utf-8", newline="")

    def write(self, frame: int, boxes: np.ndarray, track_ids: np.ndarray,
              confidences: np.ndarray) -> None:
        """Append the tracked boxes of frame ``frame`` (1-based) and flush."""
        lines = []
        for (x1, y1, x2, y2), track_id, conf in zip(
                np.asarray(boxes).reshape(-1, 4).astype(int).tolist(),
                np.asarray(track_ids).tolist(), np.asarray(confidences).tolist()):
            # float32 confidences printed as the shortest text that reads back to them
            lines.append(f"{frame},{int(track_id)},{x1 + MOT_ORIGIN},{y1 + MOT_ORIGIN},"
                         f"{x2 - x1},{y2 - y1},{float(str(np.float32(conf)))!r},-1,-1,-1\n")
        if lines:
            self._file.write("".join(lines))
            self._file.flush()
            self.lines_written += len(lines)

    def close(self) -> None:
        """Finish: rename the partial file to ``NAME`` (idempotent)."""
        if self._file is not None:
            self._file.close()
            self._file = None
            os.replace(self.partial, self.path)


class OverlayWriter:
    """Motion JPEG video under a hidden temporary name, renamed by :meth:`close`.

    Examples
    --------
    >>> import tempfile
    >>> path = Path(tempfile.mkdtemp()) / "overlay.mkv"
    >>> writer = OverlayWriter(path, fps=25)
    >>> writer.write(np.zeros((48, 64, 3), np.uint8))
    >>> writer.close()
    >>> int(cv2.VideoCapture(str(path)).get(cv2.CAP_PROP_FRAME_COUNT))
    1
    """

    def __init__(self, path: str | os.PathLike[str], fps: float) -> None:
        self.path = Path(path)
        self.fps = float(fps)
        self.tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.part{self.path.suffix}")
        self.n_written = 0
        self._writer: cv2.VideoWriter | None = None

    def write(self, picture: np.ndarray) -> None:
        """Append one BGR uint8 picture (the first one fixes the size)."""
        if self._writer is None:
            size = (picture.shape[1], picture.shape[0])
            self._writer = cv2.VideoWriter(str(self.tmp), cv2.CAP_FFMPEG,
                                           cv2.VideoWriter_fourcc(*"MJPG"), self.fps, size, True)
            if not self._writer.isOpened():
                self._writer = None
                raise OSError(f"OpenCV cannot write a Motion JPEG video to {self.tmp}")
        if self._writer.write(picture) is False:  # OpenCV 5 reports failures; 4.x returns None
            raise OSError(f"{self.path}: OpenCV failed to write frame {self.n_written}")
        self.n_written += 1

    def close(self) -> None:
        """Finish the video and rename it (no file when nothing was written)."""
        if self._writer is not None:
            self._writer.release()
            self._writer = None
            os.replace(self.tmp, self.path)


def build_parser() -> argparse.ArgumentParser:
    """The command-line options.

    Examples
    --------
    >>> build_parser().parse_args(["clip.mkv", "--out", "o", "--min-area", "50"]).min_area
    50
    """
    parser = argparse.ArgumentParser(
        prog="track_demo.py", formatter_class=argparse.RawDescriptionHelpFormatter,
        description="Track bgmix's blobs with ByteTrack: DIR/tracks.txt (MOT) and "
                    "DIR/tracks_overlay.mkv.",
        epilog="Example: python scripts/track_demo.py videos/sample.mkv --out track-out/")
    parser.add_argument("source", nargs="?", default=None, metavar="SOURCE",
                        help="video file, image folder or glob (default: videos/sample.mkv)")
    parser.add_argument("--out", type=Path, default=Path("track-out"), metavar="DIR",
                        help="output folder (default: track-out/)")
    parser.add_argument("--min-area", type=int, default=30, metavar="N",
                        help="smallest blob, in pixels (default: 30)")
    parser.add_argument("--max-frames", type=int, default=None, metavar="N",
                        help="stop after N frames")
    parser.add_argument("--median", type=int, default=5, metavar="K",
                        help="median filter size, odd; 0 off (default: 5)")
    parser.add_argument("--opening", type=int, default=3, metavar="K",
                        help="opening element size; 0 off (default: 3)")
    parser.add_argument("--closing", type=int, default=5, metavar="K",
                        help="closing element size; 0 off (default: 5)")
    parser.add_argument("--activation", type=float, default=0.8, metavar="P",
                        help="smallest blob confidence that starts a track (default: 0.8)")
    parser.add_argument("--high", type=float, default=0.7, metavar="P",
                        help="ByteTrack's first-stage confidence (default: 0.7)")
    parser.add_argument("--lost-frames", type=int, default=None, metavar="N",
                        help="frames a lost track is kept (default: one second)")
    parser.add_argument("--min-frames", type=int, default=3, metavar="N",
                        help="matched frames before a track gets an id (default: 3)")
    parser.add_argument("--long-track", type=int, default=10, metavar="N",
                        help="tracks of at least N frames count as long in the summary "
                             "(default: 10)")
    parser.add_argument("--history", type=int, default=None, metavar="N",
                        help="bgmix history (default: the model's)")
    parser.add_argument("-q", "--quiet", action="store_true", help="no summary")
    return parser


def _check_arguments(args: argparse.Namespace) -> None:
    for name, low in (("min_area", 0), ("max_frames", 1), ("lost_frames", 1),
                      ("min_frames", 1), ("long_track", 1), ("history", 1)):
        value = getattr(args, name)
        if value is not None and value < low:
            raise ValueError(f"--{name.replace('_', '-')} must be >= {low}, got {value}")
    for name in ("activation", "high"):
        value = getattr(args, name)
        if not 0.0 <= value <= 1.0:
            raise ValueError(f"--{name} must be in [0, 1] (a blob confidence), got {value}")
    if args.out.exists() and not args.out.is_dir():
        raise ValueError(f"--out {args.out} exists and is not a folder")


def run(args: argparse.Namespace) -> dict[str, Any]:
    """Track the blobs of ``args.source`` into ``args.out``; return the summary counts.

    The outputs are closed (renamed) also when the run is interrupted or fails
    part-way, keeping the frames done; the exception is then re-raised.
    """
    _check_arguments(args)
    postprocess = Postprocess(median=args.median, opening=args.opening, closing=args.closing,
                              min_area=args.min_area, shadows="background")
    model = BackgroundMixture(**({} if args.history is None else {"history": args.history}))
    source = open_source(args.source if args.source is not None else default_source())
    fps = source.fps or DEFAULT_FPS
    update = make_tracker(fps, activation_threshold=args.activation,
                          high_threshold=args.high, lost_frames=args.lost_frames,
                          min_frames=args.min_frames)
    args.out.mkdir(parents=True, exist_ok=True)
    tracks = TrackWriter(args.out / TRACKS_NAME)
    overlay = OverlayWriter(args.out / OVERLAY_NAME, fps)
    frames = detections = tracked = 0
    track_lengths: Counter[int] = Counter()
    start = time.perf_counter()
    try:
        with process(source, model, postprocess=postprocess, probability=True,
                     min_area=args.min_area, max_frames=args.max_frames) as results:
            for result in results:
                found = update(result.blobs.to_supervision())
                confirmed = found.tracker_id >= 0
                boxes = found.xyxy[confirmed]
                ids = found.tracker_id[confirmed] + 1  # ByteTrack counts from 0, MOT from 1
                tracks.write(result.index + 1, boxes, ids, found.confidence[confirmed])
                overlay.write(draw_tracks(result.frame, result.mask, boxes, ids))
                frames += 1
                detections += len(result.blobs)
                tracked += len(ids)
                track_lengths.update(ids.tolist())
    finally:
        elapsed = time.perf_counter() - start
        tracks.close()
        overlay.close()
    long_tracks = sum(n >= args.long_track for n in track_lengths.values())
    return {"frames": frames, "detections": detections, "tracked_boxes": tracked,
            "tracks": len(track_lengths), "long_tracks": long_tracks,
            "fps": frames / elapsed if elapsed > 0 else 0.0,
            "tracks_path": str(tracks.path), "overlay_path": str(overlay.path)}


def main(argv: Sequence[str] | None = None) -> int:
    """Run the demo; return the exit status (0, 1, 2 or 130).

    Examples
    --------
    >>> main(["no/such/clip.mkv", "--out", "unused", "-q"])  # one line on stderr
    2
    """
    parser = build_parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as exc:
        return exc.code if isinstance(exc.code, int) else EXIT_USAGE
    os.environ.setdefault("OPENCV_FFMPEG_LOGLEVEL", "-8")  # our errors say it in one line
    try:
        summary = run(args)
    except KeyboardInterrupt:
        print("track_demo: interrupted; outputs keep the frames done", file=sys.stderr)
        return EXIT_INTERRUPTED
    except ImportError as exc:
        print(f"track_demo: error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except (ValueError, FileNotFoundError, ConnectionError) as exc:
        print(f"track_demo: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_USAGE
    except OSError as exc:
        print(f"track_demo: error: {' '.join(str(exc).split())}", file=sys.stderr)
        return EXIT_FAILURE
    if not args.quiet:
        print(f"frames      {summary['frames']}")
        print(f"detections  {summary['detections']} blobs, {summary['tracked_boxes']} in "
              "confirmed tracks")
        print(f"tracks      {summary['tracks']} ids, {summary['long_tracks']} lasting >= "
              f"{args.long_track} frames")
        print(f"fps         {summary['fps']:.1f} (decode, model, clean-up, blobs, tracker, "
              "outputs)")
        print(f"tracks      {summary['tracks_path']}")
        print(f"overlay     {summary['overlay_path']}")
    return EXIT_OK


if __name__ == "__main__":
    sys.exit(main())
